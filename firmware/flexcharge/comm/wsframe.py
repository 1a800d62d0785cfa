# RFC 6455 frame codec, pure Python. Byte-oriented and stateless so that a C user
# module can replace it one for one: encode(), mask(), parse_header(), close_payload(),
# parse_close(), utf8_valid(), utf8_repair() and ProtocolError.

OP_CONT = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

# Close status codes (RFC 6455 §7.4.1) that we send.
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_NO_STATUS = 1005  # never on the wire: "close frame had no code"
CLOSE_ABNORMAL = 1006  # never on the wire: "connection dropped without close frame"
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009

# Masking in slices keeps the temporary big integers (three copies of the slice) small
# on an MCU heap; 1 KiB loses little speed against one-shot (see tools/bench/bench_ws.py).
_MASK_SLICE = 1024


class ProtocolError(ValueError):
    """The bytes break RFC 6455. args[0] is a human-readable reason."""


# MicroPython note: a function whose frame (arguments + locals + value stack) exceeds
# about 11 slots gets its frame allocated on the heap and freed again on every call, and
# the allocation after such a free rescans the heap: on the unix port (2 MB heap) that
# cost ~25 us per call of the old one-function encode()/mask(), ~2 us at a 64 KB heap.
# So the per-frame hot paths below stay small and push the rare cases into helpers.


def mask(data, key):
    """XOR data with the repeating 4-byte key (RFC 6455 §5.3); returns bytes.

    The same call unmasks. Big-integer XOR: one C-level operation per slice instead of
    a Python loop per byte.
    """
    n = len(data)
    if n > _MASK_SLICE or n == 0 or len(key) != 4:
        return _mask_other(data, key)
    return (int.from_bytes(data, "big") ^ int.from_bytes((key * ((n + 3) >> 2))[:n], "big")).to_bytes(n, "big")


def _mask_other(data, key):
    if len(key) != 4:
        raise ValueError("mask key must be 4 bytes")
    n = len(data)
    if n == 0:
        return b""
    kk = int.from_bytes(key * (_MASK_SLICE >> 2), "big")
    mv = memoryview(data)
    out = bytearray(n)
    i = 0
    while i < n:
        j = i + _MASK_SLICE
        if j > n:
            # The tail starts at a multiple of 4, so the key phase is unchanged.
            out[i:] = mask(bytes(mv[i:]), key)
            break
        out[i:j] = (int.from_bytes(mv[i:j], "big") ^ kk).to_bytes(_MASK_SLICE, "big")
        i = j
    return bytes(out)


def _check(opcode, n, fin):
    if opcode & 0x8:
        if opcode not in (OP_CLOSE, OP_PING, OP_PONG):
            raise ValueError("bad opcode %d" % opcode)
        # RFC 6455 §5.5: control frames <= 125 bytes, never fragmented.
        if n > 125:
            raise ValueError("control frame payload > 125 bytes")
        if not fin:
            raise ValueError("control frames cannot be fragmented")
    elif opcode not in (OP_CONT, OP_TEXT, OP_BINARY):
        raise ValueError("bad opcode %d" % opcode)


def _head(b0, n, masked):
    m = 0x80 if masked else 0
    if n < 126:
        return bytes((b0, m | n))
    if n < 65536:
        return bytes((b0, m | 126, n >> 8, n & 0xFF))
    return bytes((b0, m | 127)) + n.to_bytes(8, "big")


def encode(opcode, payload, mask_key=None, fin=True):
    """One complete frame: header, then payload (masked with mask_key if given)."""
    _check(opcode, len(payload), fin)
    head = _head((0x80 if fin else 0) | opcode, len(payload), mask_key is not None)
    if mask_key is None:
        return head + bytes(payload)
    return head + bytes(mask_key) + mask(payload, mask_key)


def parse_header(buf, offset=0):
    """Decode the frame header at buf[offset:].

    Returns None if more bytes are needed, else
    (fin, opcode, masked, length, mask_key_or_None, header_length).
    Raises ProtocolError for a header no conforming peer sends.
    """
    avail = len(buf) - offset
    if avail < 2:
        return None
    b0 = buf[offset]
    b1 = buf[offset + 1]
    if b0 & 0x70:
        # §5.2: RSV1-3 must be 0 unless an extension was negotiated (we offer none).
        raise ProtocolError("reserved bits set")
    fin = b0 & 0x80 != 0
    op = b0 & 0x0F
    masked = b1 & 0x80 != 0
    n = b1 & 0x7F
    if op & 0x8:
        if op > OP_PONG:
            raise ProtocolError("reserved opcode %d" % op)
        if n > 125:
            raise ProtocolError("control frame longer than 125 bytes")
        if not fin:
            raise ProtocolError("fragmented control frame")
    elif op > OP_BINARY:
        raise ProtocolError("reserved opcode %d" % op)
    hl = 2
    if n == 126:
        hl = 4
        if avail < hl:
            return None
        n = (buf[offset + 2] << 8) | buf[offset + 3]
        if n < 126:
            raise ProtocolError("length not minimally encoded")
    elif n == 127:
        hl = 10
        if avail < hl:
            return None
        if buf[offset + 2] & 0x80:
            raise ProtocolError("64-bit length with the most significant bit set")
        n = int.from_bytes(bytes(buf[offset + 2 : offset + 10]), "big")
        if n < 65536:
            raise ProtocolError("length not minimally encoded")
    key = None
    if masked:
        if avail < hl + 4:
            return None
        key = bytes(buf[offset + hl : offset + hl + 4])
        hl += 4
    return (fin, op, masked, n, key, hl)


def close_payload(code=None, reason=""):
    """Payload of a close frame: 2-byte code and UTF-8 reason (<= 123 bytes)."""
    if code is None:
        return b""
    r = reason.encode() if isinstance(reason, str) else bytes(reason)
    if len(r) > 123:
        r = r[:123]
        while r and not utf8_valid(r):
            r = r[:-1]  # never cut a character in half
    return bytes((code >> 8, code & 0xFF)) + r


def _close_code_ok(code):
    # §7.4: 1004-1006 and 1015 must not be sent; 1012-1014 are IANA-registered since.
    if 1000 <= code <= 1014:
        return code not in (1004, 1005, 1006)
    return 3000 <= code <= 4999


def parse_close(payload):
    """(code, reason) of a received close frame; code None when the frame had none."""
    n = len(payload)
    if n == 0:
        return (None, "")
    if n == 1:
        raise ProtocolError("close frame with a 1-byte payload")
    code = (payload[0] << 8) | payload[1]
    if not _close_code_ok(code):
        raise ProtocolError("invalid close code %d" % code)
    r = bytes(payload[2:])
    if not utf8_valid(r):
        raise ProtocolError("close reason is not UTF-8")
    return (code, r.decode())


def utf8_valid(data, n=-1):
    """Strict UTF-8 check of data[:n] (no overlongs, surrogates or code points > U+10FFFF).

    MicroPython's decode() lets those through, so we check ourselves, without a copy: the
    usual all-ASCII OCPP message costs one C-level max(); only a message with non-ASCII
    bytes is walked byte by byte.
    """
    if n < 0:
        n = len(data)
    if n == 0 or max(memoryview(data)[:n]) < 0x80:
        return True  # pure ASCII
    return _utf8_walk(data, n) < 0


def _utf8_walk(data, n, i=0):
    # Index of the first byte of the first invalid sequence in data[i:n], or -1.
    while i < n:
        c = data[i]
        if c < 0x80:
            i += 1
            continue
        if 0xC2 <= c <= 0xDF:
            k = 1
            lo, hi = 0x80, 0xBF
        elif 0xE0 <= c <= 0xEF:
            k = 2
            lo, hi = 0x80, 0xBF
            if c == 0xE0:
                lo = 0xA0  # overlong
            elif c == 0xED:
                hi = 0x9F  # surrogates
        elif 0xF0 <= c <= 0xF4:
            k = 3
            lo, hi = 0x80, 0xBF
            if c == 0xF0:
                lo = 0x90  # overlong
            elif c == 0xF4:
                hi = 0x8F  # > U+10FFFF
        else:
            return i
        if i + k >= n:
            return i  # truncated sequence
        b = data[i + 1]
        if b < lo or b > hi:
            return i
        j = i + 2
        while j <= i + k:
            if data[j] & 0xC0 != 0x80:
                return i
            j += 1
        i += k + 1
    return -1


def _cont(b):
    return b & 0xC0 == 0x80


def utf8_repair(data):
    """data (bytes) made valid UTF-8 (RFC 6455 §5.6: a text frame is UTF-8). MicroPython keeps
    a JSON escape such as "\\ud83d\\ude00" as two 3-byte surrogate sequences: such a pair
    becomes its 4-byte character; any other invalid sequence (a lone surrogate, an overlong...)
    one U+FFFD."""
    n = len(data)
    out = bytearray()
    i = 0
    while True:
        j = _utf8_walk(data, n, i)
        if j < 0:
            out += data[i:]
            return bytes(out)
        out += data[i:j]
        if (j + 5 < n and data[j] == 0xED and 0xA0 <= data[j + 1] <= 0xAF and _cont(data[j + 2])
                and data[j + 3] == 0xED and 0xB0 <= data[j + 4] <= 0xBF and _cont(data[j + 5])):
            hi = ((data[j + 1] & 0x0F) << 6) | (data[j + 2] & 0x3F)
            lo = ((data[j + 4] & 0x0F) << 6) | (data[j + 5] & 0x3F)
            u = 0x10000 + (hi << 10) + lo
            out += bytes((0xF0 | (u >> 18), 0x80 | ((u >> 12) & 0x3F), 0x80 | ((u >> 6) & 0x3F), 0x80 | (u & 0x3F)))
            i = j + 6
            continue
        out += b"\xef\xbf\xbd"
        i = j + 1
        while i < n and i < j + 4 and _cont(data[i]):
            i += 1
