# Hot paths with a C implementation (firmware/cmodules/flexcharge_c, built into the frozen
# unix and qemu images) and a pure-Python fallback with identical behaviour, chosen once at
# import: the C module when the build has it, else Python (.mpy bundles, stock ports,
# CPython). Setting FLEXCHARGE_ACCEL=python in the environment (where the port has one)
# forces the fallback, for benchmarks and differential tests.
#
# The py_* functions are the fallbacks, always present so tests can compare both in one
# process; the unprefixed names are what the firmware calls. IMPL says which one won.
# This module imports nothing of ours: every layer (comm, core, hal drivers) may use it.
#
# Contracts (each C function is differential-tested and fuzzed against its twin):
#   mask(data, key) -> bytes              data XOR repeating 4-byte key (RFC 6455 §5.3)
#   mask_into(buf, key, phase=0) -> None  the same in place into a writable buffer
#                                         (bytearray, memoryview), key byte `phase` first
#   encode(opcode, payload, mask_key=None, fin=True) -> bytes   one frame (wsframe.encode);
#                                         ValueError for a frame no peer may receive
#   parse_header(buf, offset=0)           None if more bytes are needed, else (fin, opcode,
#                                         masked, length, key|None, header_length);
#                                         ProtocolError (a ValueError) for a bad header
#   utf8_valid(data) -> bool              RFC 3629 strict: no overlongs, surrogates, > U+10FFFF
#   utf8_walk(data, n, i=0) -> int        (Python only) index of the first invalid sequence in
#                                         data[i:n], or -1: what utf8_valid and wsframe.utf8_repair use
#   json_check(b, n=-1, max_depth=32)     RFC 8259 strict syntax of b[:n], one pass, no
#                                         recursion -> (status, index, id_span, type_span),
#                                         the contract of comm/jsoncheck.check (OK/BAD/DEEP)
#   time_scan(s)                          core/timefmt.scan: (unix_seconds, ms, loose_flags)
#                                         or None
#   energy_step(rem, power_mw, dt_ms)     integer energy register step: rem + power_mw *
#                                         dt_ms is energy in µJ (mW x ms); returns
#                                         (whole_mwh, new_rem) with 0 <= new_rem < 3600000.
#                                         The caller adds whole_mwh to its mWh register (a
#                                         Python int: no float, no accumulated error).
#                                         ValueError unless 0 <= rem < 3600000 and
#                                         0 <= power_mw, dt_ms <= 2**31 - 1 (ints).
#   crc16(data) -> int                    Modbus RTU CRC16 (poly 0xA001 reflected, init 0xFFFF)
#   schema_ok(spec, payload) -> bool      fast path of core/schema.validate on its compact
#                                         tables: True only when validate() would return None
#                                         without touching anything (no integral float to make
#                                         an int, no loose date-time to note, no customData);
#                                         False = "not sure", run the Python validator. So the
#                                         verdict never changes, only its cost. schema_ok is
#                                         None without the C module (py_schema_ok, its twin,
#                                         would cost more than it saves).


try:
    import os

    _off = getattr(os, "getenv", None) and os.getenv("FLEXCHARGE_ACCEL") == "python"
except ImportError:
    _off = False

try:
    import micropython
except ImportError:  # CPython: the code-emitter decorator is a no-op

    class micropython:
        @staticmethod
        def native(f):
            return f


_c = None
if not _off:
    try:
        import flexcharge_c as _c
    except ImportError:
        _c = None

IMPL = "c" if _c is not None else "python"


# ---------------------------------------------------------------- WebSocket (RFC 6455)

_MASK_SLICE = 1024  # big-int XOR per slice keeps the temporaries small on an MCU heap


class PyProtocolError(ValueError):
    """The bytes break RFC 6455. args[0] is a human-readable reason."""


ProtocolError = _c.ProtocolError if _c is not None else PyProtocolError


def py_mask(data, key):
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
    out = bytearray(data)
    py_mask_into(out, key)
    return bytes(out)


def py_mask_into(buf, key, phase=0):
    if len(key) != 4:
        raise ValueError("mask key must be 4 bytes")
    n = len(buf)
    if n == 0:
        return
    key = bytes(key)
    p = phase & 3
    if p:
        key = key[p:] + key[:p]
    mv = memoryview(buf)
    kk = None
    i = 0
    while i < n:
        j = i + _MASK_SLICE
        if j > n:
            j = n
        m = j - i
        if m == _MASK_SLICE:
            if kk is None:
                kk = int.from_bytes(key * (_MASK_SLICE >> 2), "big")
            k = kk
        else:
            k = int.from_bytes((key * ((m + 3) >> 2))[:m], "big")
        # slices start at multiples of 4: the key phase is the same for every slice
        mv[i:j] = (int.from_bytes(mv[i:j], "big") ^ k).to_bytes(m, "big")
        i = j


def _enc_check(opcode, n, fin):
    if opcode & 0x8:
        if opcode not in (0x8, 0x9, 0xA):
            raise ValueError("bad opcode %d" % opcode)
        if n > 125:  # RFC 6455 §5.5
            raise ValueError("control frame payload > 125 bytes")
        if not fin:
            raise ValueError("control frames cannot be fragmented")
    elif opcode not in (0, 1, 2):
        raise ValueError("bad opcode %d" % opcode)


def _enc_head(b0, n, masked):
    m = 0x80 if masked else 0
    if n < 126:
        return bytes((b0, m | n))
    if n < 65536:
        return bytes((b0, m | 126, n >> 8, n & 0xFF))
    return bytes((b0, m | 127)) + n.to_bytes(8, "big")


def py_encode(opcode, payload, mask_key=None, fin=True):
    _enc_check(opcode, len(payload), fin)
    head = _enc_head((0x80 if fin else 0) | opcode, len(payload), mask_key is not None)
    if mask_key is None:
        return head + bytes(payload)
    return head + bytes(mask_key) + py_mask(payload, mask_key)


def py_parse_header(buf, offset=0):
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
        if op > 0xA:
            raise ProtocolError("reserved opcode %d" % op)
        if n > 125:
            raise ProtocolError("control frame longer than 125 bytes")
        if not fin:
            raise ProtocolError("fragmented control frame")
    elif op > 0x2:
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


def py_utf8_valid(data):
    # MicroPython's decode() lets overlongs and surrogates through, so check by hand, but
    # only from the first non-ASCII byte: an all-ASCII OCPP message costs one C-level max().
    n = len(data)
    if n == 0 or max(data) < 0x80:
        return True  # pure ASCII
    return utf8_walk(data, n) < 0


def utf8_walk(data, n, i=0):
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



# ---------------------------------------------------------------- strict JSON (RFC 8259)

JSON_OK = 0
JSON_BAD = 1  # not valid JSON
JSON_DEEP = 2  # valid so far, but nested deeper than max_depth
JSON_MAX_DEPTH = 32

_ARR = 1
_OBJ = 2


def _ws(b, i, n):
    while i < n:
        c = b[i]
        if c != 0x20 and c != 0x0A and c != 0x0D and c != 0x09:
            return i
        i += 1
    return i


def _hex4(b, i, n):
    if i + 4 > n:
        return False
    for k in range(i, i + 4):
        c = b[k]
        if not (0x30 <= c <= 0x39 or 0x61 <= (c | 0x20) <= 0x66):
            return False
    return True


def _string(b, i, n):
    """i: just after the opening quote. Index just after the closing quote, or -1."""
    mv = None
    while True:
        q = b.find(b'"', i, n)
        if q < 0:
            return -1
        e = b.find(b"\\", i, q)
        s = q if e < 0 else e
        if s > i:
            if mv is None:
                mv = memoryview(b)
            if min(mv[i:s]) < 0x20:
                return -1  # raw control character (RFC 8259 §7)
        if e < 0:
            return q + 1
        c = b[e + 1]
        if c == 0x75:  # \uXXXX
            if not _hex4(b, e + 2, n):
                return -1
            i = e + 6
        elif c in b'"\\/bfnrt':
            i = e + 2
        else:
            return -1


def _digits(b, i, n):
    while i < n and 0x30 <= b[i] <= 0x39:
        i += 1
    return i


def _number(b, i, n):
    """Index after the number starting at i, or -1 (RFC 8259 §6: no leading zeros, no '+')."""
    if b[i] == 0x2D:  # -
        i += 1
        if i >= n:
            return -1
    c = b[i]
    if c == 0x30:
        i += 1
    elif 0x31 <= c <= 0x39:
        i = _digits(b, i + 1, n)
    else:
        return -1
    if i < n and b[i] == 0x2E:  # .
        j = _digits(b, i + 1, n)
        if j == i + 1:
            return -1
        i = j
    if i < n and b[i] | 0x20 == 0x65:  # e E
        i += 1
        if i < n and (b[i] == 0x2B or b[i] == 0x2D):
            i += 1
        j = _digits(b, i, n)
        if j == i:
            return -1
        i = j
    if i < n and 0x30 <= b[i] <= 0x39:
        return -1  # 01
    return i


def _literal(b, i, n):
    c = b[i]
    w = b"true" if c == 0x74 else b"false" if c == 0x66 else b"null" if c == 0x6E else None
    if w is None or i + len(w) > n or b[i : i + len(w)] != w:
        return -1
    return i + len(w)


def py_json_check(b, n=-1, max_depth=JSON_MAX_DEPTH):
    """Check b[:n] (bytes or bytearray; n < 0 or n > len(b): all of it). Returns
    (status, index, id_span, type_span): status JSON_OK, JSON_BAD or JSON_DEEP; index: for
    DEEP inside a top-level array, the element number, else -1; id_span: (i0, i1) of the
    JSON string token (quotes included) that is element 1 of a top-level array -- the
    OCPP-J messageId -- when it was read whole before the problem, else None; type_span the
    same for element 0 when it is a number (the MessageTypeId)."""
    if n < 0 or n > len(b):
        n = len(b)
    if max_depth < 0:
        raise ValueError("negative max_depth")
    stack = bytearray(max_depth + 1)
    d = 0
    top = 0  # element number in the top-level array
    ids = None
    tys = None
    i = _ws(b, 0, n)
    want_key = False  # next token is an object key (or '}' right after '{')
    after = False  # a value just ended: ',' or a closer comes next
    opened = False  # a container just opened: its closer may come at once
    while True:
        if i >= n:
            return (JSON_BAD, -1, ids, tys)
        c = b[i]
        if after:
            if c == 0x2C:  # ,
                if stack[d] == _OBJ:
                    want_key = True
                elif d == 1:
                    top += 1
                after = False
                opened = False
                i = _ws(b, i + 1, n)
                continue
            if (c == 0x5D and stack[d] == _ARR) or (c == 0x7D and stack[d] == _OBJ):
                d -= 1
                i = _ws(b, i + 1, n)
                if d == 0:
                    return (JSON_OK if i == n else JSON_BAD, -1, ids, tys)
                continue
            return (JSON_BAD, -1, ids, tys)
        if want_key:
            if c == 0x7D and opened:  # {}
                want_key = False
                after = True
                continue
            if c != 0x22:
                return (JSON_BAD, -1, ids, tys)
            j = _string(b, i + 1, n)
            if j < 0:
                return (JSON_BAD, -1, ids, tys)
            j = _ws(b, j, n)
            if j >= n or b[j] != 0x3A:  # :
                return (JSON_BAD, -1, ids, tys)
            i = _ws(b, j + 1, n)
            want_key = False
            opened = False
            continue
        # a value
        if c == 0x22:
            j = _string(b, i + 1, n)
            if j < 0:
                return (JSON_BAD, -1, ids, tys)
            if d == 1 and top == 1 and stack[1] == _ARR:
                ids = (i, j)
        elif c == 0x5B or c == 0x7B:  # [ {
            if d >= max_depth:
                return (JSON_DEEP, top if d >= 1 and stack[1] == _ARR else -1, ids, tys)
            d += 1
            stack[d] = _ARR if c == 0x5B else _OBJ
            opened = True
            want_key = c == 0x7B
            i = _ws(b, i + 1, n)
            continue
        elif c == 0x5D and opened:  # []
            after = True
            continue
        elif c == 0x2D or 0x30 <= c <= 0x39:
            j = _number(b, i, n)
            if j < 0:
                return (JSON_BAD, -1, ids, tys)
            if d == 1 and top == 0 and stack[1] == _ARR:
                tys = (i, j)
        else:
            j = _literal(b, i, n)
            if j < 0:
                return (JSON_BAD, -1, ids, tys)
        opened = False
        i = _ws(b, j, n)
        if d == 0:
            return (JSON_OK if i == n else JSON_BAD, -1, ids, tys)
        after = True


# ---------------------------------------------------------------- RFC 3339 (core/timefmt)

TIME_LOOSE_NO_OFFSET = 1
TIME_LOOSE_SPACE = 2

_MDAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _tdigits(s, i, n):
    x = 0
    for j in range(i, i + n):
        c = ord(s[j])
        if c < 48 or c > 57:
            return -1
        x = x * 10 + c - 48
    return x


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (any year 1..9999), in integers."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def py_time_scan(s):
    if not isinstance(s, str):
        return None
    n = len(s)
    if n < 19 or s[4] != "-" or s[7] != "-" or s[13] != ":" or s[16] != ":":
        return None
    flags = 0
    c = s[10]
    if c == " ":
        flags |= TIME_LOOSE_SPACE
    elif c != "T" and c != "t":
        return None
    y = _tdigits(s, 0, 4)
    mo = _tdigits(s, 5, 2)
    d = _tdigits(s, 8, 2)
    h = _tdigits(s, 11, 2)
    mi = _tdigits(s, 14, 2)
    sec = _tdigits(s, 17, 2)
    if y < 0 or mo < 1 or mo > 12 or d < 1 or h < 0 or h > 23 or mi < 0 or mi > 59 or sec < 0 or sec > 60:
        return None
    md = _MDAYS[mo - 1]
    if mo == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0):
        md = 29
    if d > md:
        return None
    i = 19
    ms = 0
    if i < n and s[i] == ".":
        i += 1
        j = i
        while i < n and 48 <= ord(s[i]) <= 57:
            if i - j < 3:
                ms = ms * 10 + ord(s[i]) - 48
            i += 1
        if i == j:
            return None
        k = i - j
        while k < 3:
            ms *= 10
            k += 1
    off = 0
    if i == n:
        flags |= TIME_LOOSE_NO_OFFSET
    else:
        c = s[i]
        if c == "Z" or c == "z":
            if i + 1 != n:
                return None
        elif (c == "+" or c == "-") and i + 6 == n and s[i + 3] == ":":
            oh = _tdigits(s, i + 1, 2)
            om = _tdigits(s, i + 4, 2)
            if oh < 0 or oh > 23 or om < 0 or om > 59:
                return None
            off = oh * 3600 + om * 60
            if c == "-":
                off = -off
        else:
            return None
    if sec == 60:
        sec = 59  # a leap second is read as the second before it
    return (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off, ms, flags)


# ---------------------------------------------------------------- metering, Modbus

UJ_PER_MWH = 3600000  # µJ in one mWh: mW x ms = µJ


def py_energy_step(rem, power_mw, dt_ms):
    if not (0 <= rem < 3600000 and 0 <= power_mw <= 0x7FFFFFFF and 0 <= dt_ms <= 0x7FFFFFFF):
        raise ValueError("energy_step argument out of range")
    e = rem + power_mw * dt_ms
    return (e // 3600000, e % 3600000)


# The fallback on MCU .mpy bundles: native code where the port has the emitter.
@micropython.native
def py_crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ 0xA001
            else:
                crc >>= 1
    return crc


def py_schema_ok(spec, v, depth=0):
    if depth == 0 and not isinstance(v, dict):
        return False
    if depth > 32 or not isinstance(spec, tuple) or not spec or not isinstance(spec[0], str):
        return False
    k = spec[0]
    if k == "o":
        if len(spec) != 4 or not isinstance(v, dict):
            return False
        for name in spec[1]:
            if name not in v:
                return False
        found = 0
        for p in spec[2]:
            if p[0] in v:
                found += 1
                if not py_schema_ok(p[1], v[p[0]], depth + 1):
                    return False
        return spec[3] is not False or found == len(v)
    if k == "a":
        if len(spec) != 4 or not isinstance(v, list):
            return False
        if spec[2] is not None and len(v) < spec[2]:
            return False
        if spec[3] is not None and len(v) > spec[3]:
            return False
        for x in v:
            if not py_schema_ok(spec[1], x, depth + 1):
                return False
        return True
    if k == "s":
        return isinstance(v, str) and (len(spec) < 2 or len(v) <= spec[1])
    if k == "e":
        return isinstance(v, str) and len(spec) == 2 and v in spec[1]
    if k == "d":
        if not isinstance(v, str):
            return False
        r = py_time_scan(v)
        return r is not None and r[2] == 0
    if k == "i" or k == "n":
        if isinstance(v, bool) or not (isinstance(v, int) or (k == "n" and isinstance(v, float))):
            return False
        if len(spec) > 1 and spec[1] is not None and v < spec[1]:
            return False
        if len(spec) > 2 and spec[2] is not None and v > spec[2]:
            return False
        return True
    if k == "b":
        return isinstance(v, bool)
    return k == "*"


if _c is not None:
    schema_ok = _c.schema_ok
    mask = _c.mask
    mask_into = _c.mask_into
    encode = _c.encode
    parse_header = _c.parse_header
    utf8_valid = _c.utf8_valid
    json_check = _c.json_check
    time_scan = _c.time_scan
    energy_step = _c.energy_step
    crc16 = _c.crc16
else:
    mask = py_mask
    mask_into = py_mask_into
    encode = py_encode
    parse_header = py_parse_header
    utf8_valid = py_utf8_valid
    json_check = py_json_check
    time_scan = py_time_scan
    energy_step = py_energy_step
    crc16 = py_crc16
    schema_ok = None


