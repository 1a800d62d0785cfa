# Runs inside a MicroPython build with the flexcharge_c user module (host_tests/cmod/
# test_mp_differential.py starts it): reads one JSON request per line, applies the C
# function and its pure-Python twin from flexcharge.accel to the same input, prints both
# results as one JSON line. Bytes travel as {"__b": hex} in requests, {"b": hex} in answers;
# exceptions as ["exc", kind, message].
import sys
import json
import binascii

import flexcharge_c as C
from flexcharge import accel as A


def dec(x):
    if isinstance(x, dict):
        # {"__b": hex} is bytes; any other dict is a payload, passed as it is
        return binascii.unhexlify(x["__b"]) if len(x) == 1 and "__b" in x else x
    if isinstance(x, list):
        return [dec(v) for v in x]
    return x


def enc(x):
    if isinstance(x, (bytes, bytearray)):
        return {"b": binascii.hexlify(x).decode()}
    if isinstance(x, (tuple, list)):
        return [enc(v) for v in x]
    return x


def mask_into(f):
    def g(data, key, phase=0):
        b = bytearray(data)
        f(b, key, phase)
        return bytes(b)

    return g


def mask_into_mv(f):
    def g(data, key, phase=0):
        b = bytearray(b"--" + data + b"--")
        f(memoryview(b)[2 : 2 + len(data)], key, phase)
        return bytes(b)

    return g


def ba(f):
    # the same function on a bytearray first argument
    def g(x, *a):
        return f(bytearray(x), *a)

    return g


def _table(name):
    return __import__("flexcharge.core.v201.schemas." + name, None, None, ("S",), 0).S


def _untouched_valid(name, payload):
    # schema.validate on a copy: valid, nothing noted, nothing changed
    from flexcharge.core import schema

    p = _copy(payload)  # not through json: MicroPython's float repr is not round-trip exact
    notes = []
    return schema.validate(_table(name), p, notes) is None and not notes and _same(p, payload)


def _copy(x):
    if isinstance(x, dict):
        return {k: _copy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_copy(v) for v in x]
    return x


def _same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(k in b and _same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(a[i], b[i]) for i in range(len(a)))
    return a == b


FUNCS = {
    "schema_ok": (lambda name, p: C.schema_ok(_table(name), p), lambda name, p: A.py_schema_ok(_table(name), p)),
    "untouched_valid": (_untouched_valid, _untouched_valid),
    "mask": (C.mask, A.py_mask),
    "mask_into": (mask_into(C.mask_into), mask_into(A.py_mask_into)),
    "mask_into_mv": (mask_into_mv(C.mask_into), mask_into_mv(A.py_mask_into)),
    "encode": (C.encode, A.py_encode),
    "parse_header": (C.parse_header, A.py_parse_header),
    "parse_header_ba": (ba(C.parse_header), ba(A.py_parse_header)),
    "utf8_valid": (C.utf8_valid, A.py_utf8_valid),
    "json_check": (C.json_check, A.py_json_check),
    "json_check_ba": (ba(C.json_check), ba(A.py_json_check)),
    "time_scan": (C.time_scan, A.py_time_scan),
    "energy_step": (C.energy_step, A.py_energy_step),
    "crc16": (C.crc16, A.py_crc16),
}


def call(f, args):
    try:
        return f(*args)
    except ValueError as e:
        kind = "protocol" if isinstance(e, A.ProtocolError) else "value"
        return ["exc", kind, e.args[0] if e.args else ""]


def main():
    print(json.dumps({"ready": A.IMPL, "version": sys.version}))
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        req = json.loads(line)
        fc, fp = FUNCS[req[0]]
        args = dec(req[1])
        print(json.dumps([enc(call(fc, args)), enc(call(fp, args))]))


main()
