# Differential test: the portable C core of the user module (firmware/cmodules/flexcharge_c,
# built here as a host shared library, wrapped by host_tests/cmod/fc_ctypes.py into the
# binding's API) against the pure-Python fallbacks of flexcharge.accel, and those against the
# firmware modules they stand in for (comm/wsframe, comm/jsoncheck, core/timefmt,
# hal/drivers/modbus_rtu) and against CPython's own decoders as oracles.
#
# KNOWN DIFFERENCE from comm/jsoncheck.check (a bug there, reported): its _hex4 ORs 0x20
# into every byte, so control bytes 0x10..0x19 pass as hex digits in "\uXXXX" (CPython's
# json rejects them, RFC 8259 §7 too). accel and the C core reject them; inputs with such
# an escape are left out of the comparison with jsoncheck only (_hex4_bug).
import json
import os
import shutil
import sys

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cmod"))

from flexcharge import accel  # noqa: E402
from flexcharge.comm import jsoncheck, wsframe  # noqa: E402
from flexcharge.core import timefmt  # noqa: E402
from flexcharge.hal.drivers import modbus_rtu  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build the C core")

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def fc():
    import fc_ctypes

    return fc_ctypes.FC()


_FC = [None]


def C():
    if _FC[0] is None:
        import fc_ctypes

        _FC[0] = fc_ctypes.FC()
    return _FC[0]


def outcome(f, *a):
    """Result, or (exception kind, message) -- ProtocolError and ValueError told apart."""
    try:
        return ("ok", f(*a))
    except ValueError as e:
        kind = "protocol" if type(e).__name__ == "ProtocolError" or type(e).__name__ == "PyProtocolError" else "value"
        return (kind, e.args[0] if e.args else "")


# ---------------------------------------------------------------- masking

keys = st.binary(min_size=4, max_size=4)


@SETTINGS
@given(st.binary(max_size=3000), keys, st.integers(0, 7))
@example(b"x" * 1024, b"abcd", 0)
@example(b"x" * 1025, b"abcd", 1)
@example(b"", b"abcd", 3)
def test_mask(data, key, phase):
    c = C()
    want = wsframe.mask(data, key)
    assert c.mask(data, key) == want
    assert accel.py_mask(data, key) == want
    a = bytearray(data)
    b = bytearray(data)
    c.mask_into(a, key, phase)
    accel.py_mask_into(b, key, phase)
    assert a == b
    # phase p = masking as if p bytes of the key had been used already
    p = phase & 3
    assert bytes(a) == wsframe.mask(b"\0" * p + data, key)[p:]
    # a memoryview slice: the rest of the buffer stays untouched
    buf = bytearray(b"--" + data + b"--")
    accel.py_mask_into(memoryview(buf)[2 : 2 + len(data)], key)
    assert buf == b"--" + want + b"--"


@given(st.binary(max_size=40), st.binary(max_size=8).filter(lambda k: len(k) != 4))
def test_mask_bad_key(data, key):
    c = C()
    assert outcome(c.mask, data, key) == outcome(accel.py_mask, data, key) == outcome(wsframe.mask, data, key)
    assert outcome(c.mask_into, bytearray(data), key) == outcome(accel.py_mask_into, bytearray(data), key)


# ---------------------------------------------------------------- frame header / encode

@SETTINGS
@given(st.integers(0, 15), st.one_of(st.binary(max_size=300), st.sampled_from([b"y" * 65535, b"z" * 65536])),
       st.one_of(st.none(), keys), st.booleans())
def test_encode(op, payload, key, fin):
    c = C()
    want = outcome(wsframe.encode, op, payload, key, fin)
    assert outcome(c.encode, op, payload, key, fin) == want
    assert outcome(accel.py_encode, op, payload, key, fin) == want
    if want[0] == "ok":
        # what we encode, we parse back
        h = c.parse_header(want[1])
        assert h == (fin, op, key is not None, len(payload), key, len(want[1]) - len(payload))


header_bytes = st.one_of(
    st.binary(max_size=16),
    st.tuples(st.integers(0, 255), st.sampled_from([126, 127, 254, 255]), st.binary(max_size=12)).map(
        lambda t: bytes(t[:2]) + t[2]),
)


@SETTINGS
@given(header_bytes, st.integers(0, 3))
@example(b"\x81\x7e\x00\x7d", 0)  # not minimal (16-bit)
@example(b"\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff", 0)  # not minimal (64-bit)
@example(b"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 0)  # MSB
@example(b"\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x00", 0)  # 4 GiB
@example(b"\x09\x00", 0)  # fragmented ping
@example(b"\x8b\x00", 0)  # reserved control opcode
def test_parse_header(buf, offset):
    c = C()
    want = outcome(wsframe.parse_header, buf, offset)
    got = outcome(c.parse_header, buf, offset)
    assert got == want
    assert outcome(accel.py_parse_header, buf, offset) == want
    assert outcome(accel.py_parse_header, bytearray(buf), offset) == want


def test_protocol_error_is_a_value_error():
    assert issubclass(accel.ProtocolError, ValueError)
    with pytest.raises(accel.ProtocolError):
        accel.py_parse_header(b"\xf1\x00")


# ---------------------------------------------------------------- UTF-8

def _mutate(data, edits):
    b = bytearray(data)
    for pos, val, kind in edits:
        if not b and kind != 0:
            continue
        p = pos % (len(b) + 1)
        if kind == 0:
            b[p:p] = bytes((val,))
        elif kind == 1 and p < len(b):
            b[p] = val
        elif p < len(b):
            del b[p]
    return bytes(b)


edits = st.lists(st.tuples(st.integers(0, 10000), st.integers(0, 255), st.integers(0, 2)), max_size=4)
utf8ish = st.one_of(
    st.binary(max_size=40),
    st.tuples(st.text(max_size=20), edits).map(lambda t: _mutate(t[0].encode(), t[1])),
    st.lists(st.sampled_from([b"\xed\xa0\x80", b"\xc0\x80", b"\xe0\x80\x80", b"\xf4\x90\x80\x80", b"\xf0\x8f\xbf\xbf",
                              b"\xf4\x8f\xbf\xbf", b"\xef\xbf\xbf", b"\xc2", b"a", b"\xe2\x82", b"\xe2\x82\xac"]),
             max_size=5).map(b"".join),
    # sequences at the edges of each RFC 3629 range: lead bytes x continuation bytes
    st.lists(st.tuples(st.sampled_from([0x7F, 0x80, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1,
                                        0xF3, 0xF4, 0xF5, 0xFF]),
                       st.lists(st.sampled_from([0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0]), max_size=3)),
             max_size=3).map(lambda seqs: b"".join(bytes([a] + c) for a, c in seqs)),
)


@SETTINGS
@given(utf8ish)
def test_utf8(data):
    try:
        data.decode("utf-8")
        oracle = True
    except UnicodeDecodeError:
        oracle = False
    assert C().utf8_valid(data) == oracle
    assert accel.py_utf8_valid(data) == oracle
    assert wsframe.utf8_valid(data) == oracle


def _oracle_utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def test_utf8_exhaustive_edges():
    # every 1- and 2-byte string, and every lead byte with continuation bytes at the range
    # edges (3 and 4 bytes): each RFC 3629 boundary is crossed on both sides
    c = C()
    edge = (0x00, 0x41, 0x7F, 0x80, 0x81, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF)
    cases = [bytes((a,)) for a in range(256)] + [bytes((a, b)) for a in range(256) for b in range(256)]
    cases += [bytes((a, b, d)) for a in range(0xC0, 0x100) for b in edge for d in edge]
    cases += [bytes((a, b, d, e)) for a in range(0xE0, 0xF8) for b in edge for d in (0x80, 0xBF, 0x7F)
              for e in (0x80, 0xBF, 0xC0)]
    for b in cases:
        want = _oracle_utf8(b)
        assert c.utf8_valid(b) == want, b
        assert c.utf8_valid(b"abc" + b) == want, b
        assert accel.py_utf8_valid(b"x" + b) == want, b


# ---------------------------------------------------------------- strict JSON

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=5), kids, max_size=4),
    max_leaves=20,
)
ocpp_frames = st.tuples(st.sampled_from([2, 3, 4]), st.text(max_size=6), st.text(max_size=8), json_values).map(
    lambda t: list(t))
json_alphabet = st.lists(st.sampled_from(list(b'[]{},:"\\ 0123456789-+.eEtrufalsn\tx\x01\x10u')), max_size=40).map(bytes)


def _dumps(v, sep):
    return json.dumps(v, separators=sep, ensure_ascii=False).encode()


json_inputs = st.one_of(
    st.tuples(st.one_of(json_values, ocpp_frames), st.sampled_from([(",", ":"), (", ", ": ")]), edits).map(
        lambda t: _mutate(_dumps(t[0], t[1]), t[2])),
    json_alphabet,
    st.integers(0, 40).map(lambda k: b"[" * k + b"]" * k),
    st.integers(0, 40).map(lambda k: b'[2,"id",' + b'{"a":' * k + b"1" + b"}" * k + b"]"),
)


def _hex4_bug(b):
    i = b.find(b"\\u")
    while i >= 0:
        if any(0x10 <= x <= 0x19 for x in b[i + 2 : i + 6]):
            return True
        i = b.find(b"\\u", i + 1)
    return False


def _depth(v):
    if isinstance(v, list):
        return 1 + max([_depth(x) for x in v] or [0])
    if isinstance(v, dict):
        return 1 + max([_depth(x) for x in v.values()] or [0])
    return 0


@SETTINGS
@given(json_inputs, st.integers(-1, 60), st.sampled_from([32, 0, 1, 3, 100]))
@example(b'[2,"\\u\x10\x11\x12\x13","A",{}]', -1, 32)
@example(b'[2,"x","A",{}]', 5, 32)
@example(b"[" * 200 + b"]" * 200, -1, 100)
def test_json_check(b, n, max_depth):
    want = accel.py_json_check(b, n, max_depth)
    assert C().json_check(b, n, max_depth) == want
    assert accel.py_json_check(bytearray(b), n, max_depth) == want
    m = len(b) if n < 0 or n > len(b) else n
    if not _hex4_bug(b[:m]):
        assert jsoncheck.check(b, m, max_depth) == want
    # oracle: CPython's json on the same bytes (it also takes NaN/Infinity, we do not)
    try:
        v = json.loads(b[:m].decode("latin-1"))  # UTF-8 is checked elsewhere (utf8_valid)
        ok = b"NaN" not in b[:m] and b"Infinity" not in b[:m]
    except (ValueError, RecursionError):
        v, ok = None, False
    if want[0] == accel.JSON_OK:
        assert ok and _depth(v) <= max_depth
    elif ok:
        assert want[0] == accel.JSON_DEEP and _depth(v) > max_depth


# ---------------------------------------------------------------- RFC 3339

def _dt(parts):
    y, mo, d, sep, h, mi, s, frac, off = parts
    return "%04d-%02d-%02d%s%02d:%02d:%02d%s%s" % (y, mo, d, sep, h, mi, s, frac, off)


dates = st.one_of(
    st.tuples(st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.sampled_from("Tt x"),
              st.integers(0, 25), st.integers(0, 61), st.integers(0, 61),
              st.sampled_from(["", ".", ".5", ".123", ".123456789", ".1x"]),
              st.sampled_from(["", "Z", "z", "+01:00", "-23:59", "+24:00", "+0100", "+01", "Zx", "-00:60", "é"])).map(_dt),
    st.tuples(st.text(max_size=30), edits).map(lambda t: t[0]),
    st.tuples(st.sampled_from(["2024-02-29T23:59:60.999Z", "1970-01-01T00:00:00Z", "2026-08-21 10:00:00.123456"]),
              edits).map(lambda t: _mutate(t[0].encode(), t[1]).decode("latin-1")),
    st.integers(),
    st.binary(max_size=25),
)


@SETTINGS
@given(dates)
@example("0000-01-01T00:00:00Z")
@example("9999-12-31T23:59:59-23:59")
@example("2000-02-29T00:00:00Z")
@example("1900-02-29T00:00:00Z")
def test_time_scan(s):
    want = timefmt.scan(s)
    assert C().time_scan(s) == want
    assert accel.py_time_scan(s) == want


# ---------------------------------------------------------------- metering, Modbus

@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 0x7FFFFFFF), st.integers(0, 0x7FFFFFFF)), max_size=30))
def test_energy_steps_exact(steps):
    c = C()
    reg_c = reg_p = rem_c = rem_p = 0
    total = 0
    for p, dt in steps:
        q, rem_c = c.energy_step(rem_c, p, dt)
        reg_c += q
        q, rem_p = accel.py_energy_step(rem_p, p, dt)
        reg_p += q
        total += p * dt
    # integers only: no energy is ever lost or invented, whatever the step sizes
    assert (reg_c, rem_c) == (reg_p, rem_p) == divmod(total, accel.UJ_PER_MWH)


@given(st.integers(-5, 3700000), st.integers(-5, 2**31 + 5), st.integers(-5, 2**31 + 5))
def test_energy_step_domain(rem, p, dt):
    assert outcome(C().energy_step, rem, p, dt) == outcome(accel.py_energy_step, rem, p, dt)


@SETTINGS
@given(st.binary(max_size=300))
@example(b"\x01\x03\x00\x00\x00\x01")
def test_crc16(data):
    want = modbus_rtu.crc16(data)
    assert C().crc16(data) == want
    assert accel.py_crc16(data) == want


# ---------------------------------------------------------------- schema fast path

def _untouched_valid(table, payload):
    """schema.validate says valid, notes nothing and changes nothing."""
    from flexcharge.core import schema

    import copy

    p = copy.deepcopy(payload)
    notes = []
    return schema.validate(table, p, notes) is None and not notes and json.dumps(p, sort_keys=True) == json.dumps(
        payload, sort_keys=True) and _same_types(p, payload)


def _same_types(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return all(_same_types(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return all(_same_types(x, y) for x, y in zip(a, b))
    return True


def _schema_cases():
    import test_schema_differential as S

    return S


@pytest.mark.parametrize("name", _schema_cases().MESSAGES)
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_schema_ok_fast_path(name, data):
    # the Python twin of the C schema_ok (the C one runs in test_mp_differential): True only
    # where schema.validate accepts without side effects; and it does take the plain case
    import copy

    S = _schema_cases()
    table = S._table(name)
    payload = data.draw(S._payloads(name), label="valid")
    for p in (payload, S._mutate(data.draw, copy.deepcopy(payload))):
        if accel.py_schema_ok(table, p):
            assert _untouched_valid(table, p), p


def test_schema_ok_takes_plain_messages():
    from flexcharge.core.v201.schemas import GetVariablesRequest, SetVariablesRequest

    p = {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}
    assert accel.py_schema_ok(GetVariablesRequest.S, p)
    p = {"setVariableData": [{"attributeValue": "30", "component": {"name": "OCPPCommCtrlr", "instance": "x"},
                              "variable": {"name": "HeartbeatInterval"}}]}
    assert accel.py_schema_ok(SetVariablesRequest.S, p)
    assert not accel.py_schema_ok(SetVariablesRequest.S, dict(p, bogus=1))
    assert not accel.py_schema_ok(GetVariablesRequest.S, {"getVariableData": []})  # minItems 1
    assert not accel.py_schema_ok(GetVariablesRequest.S, [])
