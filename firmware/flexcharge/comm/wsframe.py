# RFC 6455 frame codec, pure Python. Byte-oriented and stateless so that a C user
# module can replace it one for one: encode(), mask(), parse_header(), close_payload(),
# parse_close(), utf8_valid(), utf8_repair() and ProtocolError.
from flexcharge import accel


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

# The per-frame hot paths -- masking (RFC 6455 §5.3), frame encoding, header parsing -- have one
# implementation, in flexcharge.accel: C where the build has the flexcharge_c module, else its
# Python twin (differential-tested and fuzzed against each other). Contracts in accel's header.
ProtocolError = accel.ProtocolError  # the bytes break RFC 6455; args[0] is the reason
mask = accel.mask
mask_into = accel.mask_into
encode = accel.encode
parse_header = accel.parse_header


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
    return accel.utf8_walk(data, n) < 0


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
        j = accel.utf8_walk(data, n, i)
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
