# Strict JSON check (firmware/flexcharge/comm/jsoncheck.py): RFC 8259 exactly, where MicroPython's
# json.loads is lenient; nesting bounded without recursion.
import json

from flexcharge.comm.jsoncheck import check, OK, BAD, DEEP, MAX_DEPTH

VALID = [
    '[2, "m1", "Heartbeat", {}]',
    '[3,"x",{"a":[1,-2,3.5,1e5,1E+00,-0.0e-3,0,true,false,null,"",[],{}]}]',
    ' \t\r\n[2 , "m" , "A" , { "k" : "v" } ] \n',
    '"just a string"',
    "12",
    "[]",
    "{}",
    '["\\"quoted\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9\\uD83D\\ude00 \\ud800"]',
    '["caf\xc3\xa9 \xe2\x82\xac"]',  # UTF-8 bytes inside strings (the WebSocket layer checked them)
    '[{"a":{"b":{"c":[[[]]]}}}]',
]

INVALID = [
    "",
    "   ",
    "[010]",
    "[-01]",
    "[1,]",
    '{"a":1,}',
    "[1 2]",
    '{"a" 1}',
    '{"a":1 "b":2}',
    '["\\x41"]',
    '["\\u12G4"]',
    '["\\u12"]',
    '["a\x01b"]',
    '["tab\there"]',
    '["new\nline"]',
    '["unterminated]',
    "[1.]",
    "[.5]",
    "[1e]",
    "[+1]",
    "[01.5]",
    "[NaN]",
    "[Infinity]",
    "[tru]",
    "[nul]",
    "[True]",
    "{'a': 1}",
    '{1: 2}',
    "[1]]",
    "[1] [2]",
    "[[1]",
    "[,1]",
    "[1,,2]",
    '{"a":}',
    '{:1}',
    "[-]",
    '["a"',
    '["\\',
]


def _b(s):
    return s.encode("latin-1") if any(ord(c) > 127 for c in s) else s.encode()


def test_valid_accepted():
    for s in VALID:
        r = check(_b(s))
        assert r[0] == OK, (s, r)


def test_invalid_rejected():
    for s in INVALID:
        r = check(_b(s))
        assert r[0] == BAD, (s, r)


def test_prefix_length_and_bytearray():
    b = bytearray(b'[2, "m1", "Heartbeat", {}]garbage')
    assert check(b, 26)[0] == OK
    assert check(b)[0] == BAD


def test_message_id_and_type_spans():
    b = b'[2, "abc-1", "X", {"a": 010}]'
    st, _, ids, tys = check(b)
    assert st == BAD
    assert b[ids[0]:ids[1]] == b'"abc-1"'
    assert b[tys[0]:tys[1]] == b"2"
    # an id not read whole before the problem is not reported
    st, _, ids, tys = check(b'[2, "ab\x01c", "X", {}]')
    assert st == BAD and ids is None
    st, _, ids, tys = check(b'{"x": "not an array"')
    assert ids is None and tys is None
    st, _, ids, tys = check(b'[[2], "nested", 1,]')
    assert st == BAD and tys is None and ids is not None


def test_depth_bounded_without_recursion():
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert check(ok.encode())[0] == OK
    deep = '[2, "d1", "GetVariables", {"customData": ' + '{"a": ' * 3000 + "1" + "}" * 3001 + "]"
    st, where, ids, tys = check(deep.encode())
    assert st == DEEP and where == 3, (st, where)
    b = deep.encode()
    assert b[ids[0]:ids[1]] == b'"d1"'
    st, where, _, _ = check(("[" * 100000).encode())  # would overflow any recursive parser
    assert st == DEEP and where == 0
    st, where, _, _ = check(("{" + '"a":{' * 40).encode())
    assert st == DEEP and where == -1
    assert check(b"[[[1]]]", -1, 2)[0] == DEEP


def test_agrees_with_cpython_json():
    # CPython's json module is strict except for NaN/Infinity, which check() refuses too.
    samples = VALID + INVALID + ['[1e400]', '[-0]', '[0e0]', '["\\u0000"]', '[1E-7]', '[{"": ""}]']
    for s in samples:
        try:
            json.loads(s)
            want = OK
        except ValueError:
            want = BAD
        if "NaN" in s or "Infinity" in s:
            want = BAD
        if s in INVALID:
            want = BAD  # MicroPython's json.loads takes some of these: the point of check()
        assert check(_b(s))[0] == want, (s, want)


def test_large_input_is_linear():
    # A 64 KB message of one long string and one of spaces: the hot paths (find, whitespace).
    big = b'[2, "m", "DataTransfer", {"vendorId": "v", "data": "' + b"x" * 65000 + b'"}]'
    assert check(big)[0] == OK
    spaces = b"[2, " + b" " * 65000 + b'"m", "Heartbeat", {}]'
    assert check(spaces)[0] == OK


def test_schema_depth_fits():
    # MAX_DEPTH must hold every schema-valid OCPP message (CPython only: needs the `ocpp` package).
    try:
        import os
        import ocpp
    except ImportError:
        return
    def depth(node, defs, seen):
        # container levels a value of this schema node can add
        if not isinstance(node, dict):
            return 0
        if "$ref" in node:
            name = node["$ref"].split("/")[-1]
            if name in seen:
                return 0
            return depth(defs[name], defs, seen | {name})
        t = node.get("type")
        if t == "object":
            return 1 + max([depth(v, defs, seen) for v in node.get("properties", {}).values()] or [0])
        if t == "array":
            return 1 + depth(node.get("items", {}), defs, seen)
        return 0
    deepest = 0
    for ver in ("v201", "v21"):
        d = os.path.join(os.path.dirname(ocpp.__file__), ver, "schemas")
        if not os.path.isdir(d):
            continue
        for f in os.listdir(d):
            with open(os.path.join(d, f)) as fh:
                s = json.load(fh)
            defs = s.get("definitions", s.get("$defs", {}))
            deepest = max(deepest, 1 + depth(s, defs, frozenset()))  # 1: the OCPP-J wrapper array
    assert 0 < deepest <= MAX_DEPTH // 2, deepest
