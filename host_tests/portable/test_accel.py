# flexcharge.accel with whichever implementation this interpreter has (the C user module on
# the frozen builds, the Python fallback elsewhere), on fixed vectors; and, when the C module
# is there, C against the Python fallback on the same inputs (the full hypothesis
# differential runs under CPython: host_tests/unit/test_cmod_differential.py).
from flexcharge import accel
from support import raises

A = accel


def _impls():
    out = [("py", A.py_mask, A.py_mask_into, A.py_encode, A.py_parse_header, A.py_utf8_valid, A.py_json_check,
            A.py_time_scan, A.py_energy_step, A.py_crc16)]
    if A.IMPL == "c":
        out.append(("active", A.mask, A.mask_into, A.encode, A.parse_header, A.utf8_valid, A.json_check,
                    A.time_scan, A.energy_step, A.crc16))
    return out


def test_impl_named():
    assert A.IMPL in ("c", "python")


def test_mask_vectors():
    for name, mask, mask_into, *_ in _impls():
        assert mask(b"hello world!", b"abcd") == b"\t\x07\x0f\x08\x0eB\x14\x0b\x13\x0e\x07E", name
        assert mask(b"", b"abcd") == b""
        big = bytes(range(256)) * 9  # > 1 KiB: the sliced path
        m = mask(big, b"\x01\x02\x03\x04")
        assert len(m) == len(big) and mask(m, b"\x01\x02\x03\x04") == big
        for i in (0, 1, 1023, 1024, 1025, 2303):
            assert m[i] == big[i] ^ (i % 4 + 1), (name, i)
        b = bytearray(big)
        mask_into(b, b"\x01\x02\x03\x04")
        assert bytes(b) == m
        b = bytearray(b"\x00\x00\x00\x00\x00")
        mask_into(b, b"\x01\x02\x03\x04", 2)
        assert bytes(b) == b"\x03\x04\x01\x02\x03"
        buf = bytearray(b"..abcdef..")
        mask_into(memoryview(buf)[2:8], b"\x20\x20\x20\x20")
        assert bytes(buf) == b"..ABCDEF.."
        with raises(ValueError):
            mask(b"abc", b"abc")
        with raises(ValueError):
            mask_into(bytearray(3), b"abcde")


def test_encode_parse_roundtrip():
    for name, _m, _mi, encode, parse_header, *_ in _impls():
        for n in (0, 1, 125, 126, 65535, 65536):
            try:
                p = b"x" * n
                encode(1, p, b"abcd")
            except MemoryError:
                continue  # an MCU-sized heap: the 16/64-bit length boundaries are for bigger ones
            f = encode(1, p, b"abcd")
            h = parse_header(f)
            assert h == (True, 1, True, n, b"abcd", len(f) - n), (name, n)
            f = encode(2, p, None, False)
            assert parse_header(f) == (False, 2, False, n, None, len(f) - n)
            assert parse_header(b"zz" + f, 2) == parse_header(f)
        assert encode(9, b"hi") == b"\x89\x02hi"
        for op, p, fin in ((3, b"", True), (0xB, b"", True), (9, b"x" * 126, True), (8, b"", False)):
            with raises(ValueError):
                encode(op, p, None, fin)
        assert parse_header(b"\x81") is None
        assert parse_header(b"\x81\x7e\x01") is None
        assert parse_header(b"\x81\xfe\x01\x00ab") is None


def test_parse_header_errors():
    cases = (
        (b"\xc1\x00", "reserved bits set"),
        (b"\x83\x00", "reserved opcode 3"),
        (b"\x8c\x00", "reserved opcode 12"),
        (b"\x89\x7e\x00\x80", "control frame longer than 125 bytes"),
        (b"\x09\x00", "fragmented control frame"),
        (b"\x81\x7e\x00\x10", "length not minimally encoded"),
        (b"\x81\x7f\x00\x00\x00\x00\x00\x00\x00\x10", "length not minimally encoded"),
        (b"\x81\x7f\x80\x00\x00\x00\x00\x00\x00\x00", "64-bit length with the most significant bit set"),
    )
    for name, _m, _mi, _e, parse_header, *_ in _impls():
        for buf, why in cases:
            with raises(A.ProtocolError) as r:
                parse_header(buf)
            assert r.value.args[0] == why, (name, buf, r.value.args)
            assert isinstance(r.value, ValueError)


def test_utf8_vectors():
    good = (b"", b"abc", "héllo €𝄞".encode(), b"\xed\x9f\xbf", b"\xee\x80\x80", b"\xf4\x8f\xbf\xbf", b"\xf0\x90\x80\x80")
    bad = (b"\xc0\x80", b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf0\x8f\xbf\xbf",
           b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\x80", b"\xe2\x82", b"a\xe2\x82", b"\xe2\x28\xa1", b"\xff")
    for name, *f in _impls():
        utf8_valid = f[4]
        for b in good:
            assert utf8_valid(b), (name, b)
            assert utf8_valid(bytearray(b))
        for b in bad:
            assert not utf8_valid(b), (name, b)


def test_json_vectors():
    OK, BAD, DEEP = A.JSON_OK, A.JSON_BAD, A.JSON_DEEP
    frame = b'[2,"19223201","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"X","vendorName":"V"}}]'
    cases = (
        (frame, (OK, -1, (3, 13), (1, 2))),
        (b' [3 , "a\\"b" , {} ] ', (OK, -1, (6, 12), (2, 3))),
        (b'[2,"x",01]', (BAD, -1, (3, 6), (1, 2))),
        (b'[2,"x",]', (BAD, -1, (3, 6), (1, 2))),
        (b'{"a" 1}', (BAD, -1, None, None)),
        (b'["\\x41"]', (BAD, -1, None, None)),
        (b'["a\x01"]', (BAD, -1, None, None)),
        (b'["\\u00e9\\uD834"]', (OK, -1, None, None)),
        (b'["\\u\x10\x11\x12\x13"]', (BAD, -1, None, None)),
        (b"-0.5e+10", (OK, -1, None, None)),
        (b"1.", (BAD, -1, None, None)),
        (b"tru", (BAD, -1, None, None)),
        (b"", (BAD, -1, None, None)),
        (b"[[]] x", (BAD, -1, None, None)),
        (b'[2,"id","A",' + b"[" * 40 + b"]" * 40 + b"]", (DEEP, 3, (3, 7), (1, 2))),
        (b'{"a":' * 40, (DEEP, -1, None, None)),
    )
    for name, *f in _impls():
        json_check = f[5]
        for b, want in cases:
            assert json_check(b) == want, (name, b, json_check(b))
            assert json_check(bytearray(b)) == want
        assert json_check(frame + b"garbage", len(frame)) == (OK, -1, (3, 13), (1, 2))
        assert json_check(b"[[[]]]", -1, 2) == (DEEP, 0, None, None)
        assert json_check(b"[[[]]]", -1, 3)[0] == OK


def test_time_vectors():
    cases = (
        ("2024-02-29T12:00:00.5+01:00", (1709204400, 500, 0)),
        ("1970-01-01T00:00:00Z", (0, 0, 0)),
        ("1969-12-31t23:59:59.9999z", (-1, 999, 0)),
        ("2026-08-21 10:00:00.123456", (1787306400, 123, 3)),
        ("2016-12-31T23:59:60Z", (1483228799, 0, 0)),
        ("9999-12-31T23:59:59Z", (253402300799, 0, 0)),
        ("0000-03-01T00:00:00Z", (-62162035200, 0, 0)),
        ("2023-02-29T00:00:00Z", None),
        ("2024-01-01T24:00:00Z", None),
        ("2024-01-01T00:00:00.Z", None),
        ("2024-01-01T00:00:00+0100", None),
        ("2024-01-01T00:00:00Zé", None),
        ("2024-01-01é00:00:00Z", None),
        ("20240101T000000Z", None),
        (b"2024-01-01T00:00:00Z", None),
        (None, None),
    )
    for name, *f in _impls():
        time_scan = f[6]
        for s, want in cases:
            assert time_scan(s) == want, (name, s, time_scan(s))


def test_energy_and_crc():
    for name, *f in _impls():
        energy_step, crc16 = f[7], f[8]
        # 7.4 kW for one hour in 1 ms .. 1 s steps: exactly 7400 Wh, nothing lost
        reg = rem = 0
        for dt in (1, 7, 999, 1000, 3597993):
            q, rem = energy_step(rem, 7400000, dt)
            reg += q
        assert (reg, rem) == (7400000, 0), (name, reg, rem)
        assert energy_step(3599999, 1, 1) == (1, 0)
        assert energy_step(0, 0, 5000) == (0, 0)
        assert energy_step(0, 0x7FFFFFFF, 0x7FFFFFFF) == divmod(0x7FFFFFFF * 0x7FFFFFFF, 3600000)
        for bad in ((-1, 0, 0), (3600000, 0, 0), (0, -1, 0), (0, 0, -1), (0, 0x80000000, 0)):
            with raises(ValueError):
                energy_step(*bad)
        assert crc16(b"\x01\x03\x00\x00\x00\x01") == 0x0A84
        assert crc16(b"") == 0xFFFF
        assert crc16(bytearray(b"123456789")) == 0x4B37


def test_c_matches_python_on_samples():
    if A.IMPL != "c":
        return
    import random

    rnd = random.Random(9) if hasattr(random, "Random") else None
    if rnd is None:
        random.seed(9)
        rnd = random
    alphabet = b'[]{},:"\\ 0123456789-.eEtrufalsnx\x01\x80\xc3\xa9'
    for k in range(300):
        n = rnd.getrandbits(5)
        b = bytes(alphabet[rnd.getrandbits(5) % len(alphabet)] for _ in range(n))
        assert A.json_check(b) == A.py_json_check(b), b
        assert A.utf8_valid(b) == A.py_utf8_valid(b), b
        assert A.crc16(b) == A.py_crc16(b)
        key = bytes(rnd.getrandbits(8) for _ in range(4))
        assert A.mask(b, key) == A.py_mask(b, key)
        for op in (0, 1, 2, 8, 9, 10):
            f = A.py_encode(op, b, key)
            assert A.encode(op, b, key) == f
            assert A.parse_header(f) == A.py_parse_header(f)
            assert A.parse_header(b) == A.py_parse_header(b) if _ok_header(b) else True
        s = "2024-%02d-%02dT%02d:00:00%s" % (rnd.getrandbits(4), rnd.getrandbits(5), rnd.getrandbits(5),
                                             ("Z", "", ".5+01:00", "x")[rnd.getrandbits(2)])
        assert A.time_scan(s) == A.py_time_scan(s), s


def _ok_header(b):
    try:
        A.py_parse_header(b)
        return True
    except ValueError:
        return False


def _table(name):
    # the table module, dropped again at once: the profile keeps none loaded (test_schema)
    import sys

    full = "flexcharge.core.v201.schemas." + name
    t = __import__(full, None, None, ("S",), 0).S
    del sys.modules[full]
    pkg = sys.modules.get("flexcharge.core.v201.schemas")
    if pkg is not None and hasattr(pkg, name):
        delattr(pkg, name)
    return t


def test_schema_ok_fast_path():
    try:
        g = _table("GetVariablesRequest")
        c = _table("CostUpdatedRequest")
    except ImportError:
        return  # an image with accel alone (make test-cmod-qemu: no time module for the core)

    p = {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}
    fns = [A.py_schema_ok] + ([A.schema_ok] if A.schema_ok is not None else [])
    assert (A.schema_ok is None) == (A.IMPL == "python")
    for ok in fns:
        assert ok(g, p)
        assert not ok(g, {"getVariableData": []})
        assert not ok(g, dict(p, zz=1))
        assert not ok(g, [p])
        assert ok(c, {"totalCost": 1.5, "transactionId": "t"})
        assert not ok(c, {"totalCost": True, "transactionId": "t"})
        assert not ok(c, {"totalCost": 1, "transactionId": "x" * 37})
        assert not ok(c, {"totalCost": 1, "transactionId": "t", "customData": {"vendorId": "v"}})  # Python decides
