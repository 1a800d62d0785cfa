# Strict JSON check (RFC 8259) before json.loads, which is lenient on MicroPython: it takes
# leading zeros (010), trailing commas, missing commas or colons, invalid escapes (\x41) and
# raw control characters in strings. Part 4 §4.1.2: the whole message MUST be valid JSON.
#
# One pass, no recursion: containers are counted on a small stack, so the check also bounds
# the nesting depth before anything recursive (json.loads on CPython, json.dumps, schema
# validation) sees the message. Strings are searched with bytes.find (C) rather than byte by
# byte. Functions over bytes/bytearray only, so that a C user module can replace check().

OK = 0
BAD = 1  # not valid JSON
DEEP = 2  # valid so far, but nested deeper than max_depth

# Deep enough for every OCPP 2.0.1/2.1 message (the deepest schema nests 14 levels, wrapper
# included; host_tests/portable/test_jsoncheck.py measures it), shallow enough that no
# recursive consumer can exhaust an MCU's C stack.
MAX_DEPTH = 32

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
        c = b[k] | 0x20  # lower case letters; digits unchanged
        if not (0x30 <= c <= 0x39 or 0x61 <= c <= 0x66):
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
        if e + 1 >= n:
            return -1
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
    j = i
    while j < n and 0x30 <= b[j] <= 0x39:
        j += 1
    return j


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
    if w is None or b[i : i + len(w)] != w:
        return -1
    return i + len(w)


def check(b, n=-1, max_depth=MAX_DEPTH):
    """Check b[:n] (bytes or bytearray). Returns (status, index, id_span, type_span):

    status OK, BAD or DEEP; index: where the problem is (top-level array element number when
    status is DEEP and the problem lies inside a top-level array, else -1); id_span: (i0, i1),
    the JSON string token (quotes included) that is element 1 of a top-level array -- the
    OCPP-J messageId -- when it was read whole before the problem, else None; type_span the
    same for element 0 when it is a number (the MessageTypeId).
    """
    if n < 0:
        n = len(b)
    if n == 0:
        return (BAD, -1, None, None)
    # Most messages hold no backslash and no control character at all: then a string is just
    # "up to the next quote", one C-level find (the per-string checks run only otherwise).
    plain = b.find(b"\\", 0, n) < 0 and min(memoryview(b)[:n]) >= 0x20
    stack = bytearray(max_depth + 1)
    d = 0
    top = 0  # element number in the top-level array
    ids = None
    tys = None
    i = 0
    want_key = False  # next token is an object key (or '}' right after '{')
    after = False  # a value just ended: ',' or a closer comes next
    opened = False  # a container just opened: its closer may come at once
    while i < n:
        c = b[i]
        if c == 0x20 or c == 0x0A or c == 0x0D or c == 0x09:
            i += 1
            continue
        if after:
            if c == 0x2C:  # ,
                if stack[d] == _OBJ:
                    want_key = True
                elif d == 1:
                    top += 1
                after = False
                opened = False
                i += 1
                continue
            if (c == 0x5D and stack[d] == _ARR) or (c == 0x7D and stack[d] == _OBJ):
                d -= 1
                i += 1
                if d == 0:
                    return (OK if _ws(b, i, n) == n else BAD, -1, ids, tys)
                continue
            return (BAD, -1, ids, tys)
        if want_key:
            if c == 0x7D and opened:  # {}
                want_key = False
                after = True
                continue
            if c != 0x22:
                return (BAD, -1, ids, tys)
            j = b.find(b'"', i + 1, n) + 1 if plain else _string(b, i + 1, n)
            if j <= 0:
                return (BAD, -1, ids, tys)
            if j < n and b[j] == 0x3A:  # "key":
                j += 1
            else:
                j = _ws(b, j, n)
                if j >= n or b[j] != 0x3A:
                    return (BAD, -1, ids, tys)
                j += 1
            i = j
            want_key = False
            opened = False
            continue
        # a value
        if c == 0x22:
            j = b.find(b'"', i + 1, n) + 1 if plain else _string(b, i + 1, n)
            if j <= 0:
                return (BAD, -1, ids, tys)
            if d == 1 and top == 1 and stack[1] == _ARR:
                ids = (i, j)
        elif c == 0x5B or c == 0x7B:  # [ {
            if d >= max_depth:
                return (DEEP, top if d >= 1 and stack[1] == _ARR else -1, ids, tys)
            d += 1
            stack[d] = _ARR if c == 0x5B else _OBJ
            opened = True
            want_key = c == 0x7B
            i += 1
            continue
        elif c == 0x5D and opened:  # []
            after = True
            continue
        elif c == 0x2D or 0x30 <= c <= 0x39:
            j = _number(b, i, n)
            if j < 0:
                return (BAD, -1, ids, tys)
            if d == 1 and top == 0 and stack[1] == _ARR:
                tys = (i, j)
        else:
            j = _literal(b, i, n)
            if j < 0:
                return (BAD, -1, ids, tys)
        opened = False
        i = j
        if d == 0:
            return (OK if _ws(b, i, n) == n else BAD, -1, ids, tys)
        after = True
    return (BAD, -1, ids, tys)
