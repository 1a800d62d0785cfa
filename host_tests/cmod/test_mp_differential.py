# Differential test ON A MICROPYTHON BUILD with the flexcharge_c user module compiled in
# (the frozen unix image of `make firmware BOARD=unix`, or FLEXCHARGE_CMOD_MICROPYTHON):
# hypothesis (CPython) generates the inputs; host_tests/cmod/mp_server.py runs the C binding
# and accel's pure-Python twin on each one inside that MicroPython and sends both results
# back; they must be equal -- and equal to the host build of the same C core (fc_ctypes),
# which test_cmod_differential.py holds against CPython's oracles. This covers the binding
# (object conversion, argument checks, exceptions) that the ctypes tests cannot see.
import json
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "host_tests", "unit"))

import test_cmod_differential as D  # noqa: E402  (its strategies)


def _binary():
    exe = os.environ.get("FLEXCHARGE_CMOD_MICROPYTHON") or os.path.join(ROOT, "build", "firmware", "unix", "micropython")
    return exe if os.path.isfile(exe) else None


EXE = _binary()
pytestmark = pytest.mark.skipif(EXE is None, reason="no MicroPython build with flexcharge_c (make firmware BOARD=unix)")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class MP:
    def __init__(self):
        env = dict(os.environ)
        # frozen firmware first; the sources behind it (a build without it frozen still runs)
        env["MICROPYPATH"] = ".frozen:" + os.path.join(ROOT, "firmware")
        env.pop("FLEXCHARGE_ACCEL", None)
        self.p = subprocess.Popen([EXE, "-X", "heapsize=4M", os.path.join(HERE, "mp_server.py")], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        hello = json.loads(self.p.stdout.readline())
        assert hello["ready"] == "c", hello

    def __call__(self, fn, *args):
        self.p.stdin.write(json.dumps([fn, _enc(list(args))]) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        assert line, "MicroPython died on %s%r" % (fn, args)
        c, py = json.loads(line)
        assert c == py, (fn, args, c, py)
        return c


def _enc(x, key="__b"):
    if isinstance(x, (bytes, bytearray)):
        return {key: bytes(x).hex()}
    if isinstance(x, (list, tuple)):
        return [_enc(v, key) for v in x]
    return x


def _host(f, *args):
    """The host C core's answer in mp_server's JSON form."""
    try:
        r = f(*args)
    except ValueError as e:
        kind = "protocol" if type(e).__name__ == "ProtocolError" else "value"
        return ["exc", kind, e.args[0] if e.args else ""]
    return json.loads(json.dumps(_enc(r, "b")))


_MP = [None]


def mp():
    if _MP[0] is None:
        _MP[0] = MP()
    return _MP[0]


@SETTINGS
@given(st.binary(max_size=3000), D.keys, st.integers(0, 7))
def test_mask(data, key, phase):
    want = _host(D.C().mask, data, key)
    assert mp()("mask", data, key) == want
    a = mp()("mask_into", data, key, phase)
    assert mp()("mask_into_mv", data, key, phase) == {"b": "2d2d" + a["b"] + "2d2d"}


@given(st.binary(max_size=20), st.binary(max_size=8))
def test_mask_keys(data, key):
    assert mp()("mask", data, key) == _host(D.C().mask, data, key)


@SETTINGS
@given(st.integers(0, 15), st.one_of(st.binary(max_size=300), st.sampled_from([b"y" * 65535, b"z" * 65536])),
       st.one_of(st.none(), D.keys), st.booleans())
def test_encode(op, payload, key, fin):
    assert mp()("encode", op, payload, key, fin) == _host(D.C().encode, op, payload, key, fin)


@SETTINGS
@given(D.header_bytes, st.integers(0, 3))
def test_parse_header(buf, offset):
    want = _host(D.C().parse_header, buf, offset)
    assert mp()("parse_header", buf, offset) == want
    assert mp()("parse_header_ba", buf, offset) == want


@SETTINGS
@given(D.utf8ish)
def test_utf8(data):
    assert mp()("utf8_valid", data) == _host(D.C().utf8_valid, data)


@SETTINGS
@given(D.json_inputs, st.integers(-1, 60), st.sampled_from([32, 0, 1, 3, 100]))
def test_json_check(b, n, max_depth):
    want = _host(D.C().json_check, b, n, max_depth)
    assert mp()("json_check", b, n, max_depth) == want
    assert mp()("json_check_ba", b, n, max_depth) == want


@SETTINGS
@given(D.dates.filter(lambda s: isinstance(s, (str, int))))
def test_time_scan(s):
    if isinstance(s, str):
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            return  # a lone surrogate cannot reach MicroPython as a str
    assert mp()("time_scan", s) == _host(D.C().time_scan, s)


@SETTINGS
@given(st.integers(-5, 3700000), st.integers(-5, 2**31 + 5), st.integers(-5, 2**31 + 5))
def test_energy_step(rem, p, dt):
    got = mp()("energy_step", rem, p, dt)
    assert got == _host(D.C().energy_step, rem, p, dt)


@SETTINGS
@given(st.binary(max_size=300))
def test_crc16(data):
    assert mp()("crc16", data) == _host(D.C().crc16, data)


@pytest.mark.parametrize("name", D._schema_cases().MESSAGES)
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_schema_ok(name, data):
    # C fast path == its Python twin, and True only where schema.validate (on MicroPython)
    # accepts without noting or changing anything
    import copy

    S = D._schema_cases()
    payload = data.draw(S._payloads(name), label="valid")
    for p in (payload, S._mutate(data.draw, copy.deepcopy(payload))):
        try:
            json.dumps(p, allow_nan=False)
        except ValueError:
            continue
        if mp()("schema_ok", name, p):
            assert mp()("untouched_valid", name, p), p


def test_schema_ok_plain():
    p = {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}
    assert mp()("schema_ok", "GetVariablesRequest", p) is True
    assert mp()("schema_ok", "GetVariablesRequest", {"getVariableData": []}) is False
