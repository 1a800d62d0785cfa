# Differential test: core/schema.py with the generated tables against jsonschema with the
# real OCA schemas (Draft 6, as the files declare), on payloads generated from the schemas
# and then mutated. Also: the committed tables equal the generator's output.
#
# Checked for every generated table:
#   ours is None  <=>  jsonschema finds no error, and when both reject,
#   our error code is the highest-ranked code among jsonschema's errors (mapped below) and
#   our path is the path of one of those errors.
#
# DELIBERATE DIFFERENCES from plain `jsonschema.Draft6Validator(schema).is_valid(x)`:
DIFFERENCES = (
    # 1. "format": "date-time" is asserted (RFC 3339 §5.6: Z or ±hh:mm offset, optional
    #    fraction, 'T'/'Z' in either case, second 60 allowed). jsonschema only annotates
    #    formats unless given a checker (and its own needs rfc3339-validator), so the oracle
    #    below runs jsonschema with an independent RFC 3339 checker (_rfc3339).
    "date-time format asserted",
    # 2. A payload that is not a JSON object is FormatViolation (Part 4: "syntactically
    #    incorrect"), where jsonschema reports a root "type" error.
    "root non-object -> FormatViolation",
    # 3. On MicroPython builds without unicode strings maxLength counts UTF-8 bytes
    #    (stricter); not observable under CPython.
    "maxLength in bytes on non-unicode MicroPython builds",
    # 4. OCA string enums carry "additionalProperties": false, so jsonschema reports an object
    #    given for an enum both as "type" and "additionalProperties"; we report the type error
    #    (TypeConstraintViolation) only. Valid/invalid is the same.
    "additionalProperties on non-object schemas ignored",
)
import copy
import importlib.util
import json
import os
import re
import calendar

import pytest
import jsonschema
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from flexcharge.core import schema
from flexcharge.core.v201.actions import CSMS_TO_CS, CS_TO_CSMS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "firmware", "flexcharge", "core", "v201")


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_schemas", os.path.join(ROOT, "tools", "gen_schemas.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


GEN = _load_generator()
SRC = GEN.schema_dir("v201")
MESSAGES = sorted([a + "Request" for a in CSMS_TO_CS] + [a + "Response" for a in CS_TO_CSMS])


def _table(name):
    ns = {}
    with open(os.path.join(OUT, "schemas", name + ".py")) as f:
        exec(f.read(), ns)
    return ns["S"]


def _json_schema(name):
    with open(os.path.join(SRC, name + ".json")) as f:
        return json.load(f)


# --- the oracle ------------------------------------------------------------------

_DT = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|([+-])(\d\d):(\d\d))", re.ASCII)


def _rfc3339(s):
    m = _DT.fullmatch(s)
    if not m:
        return False
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    if not (1 <= mo <= 12 and 0 <= h <= 23 and 0 <= mi <= 59 and 0 <= sec <= 60):
        return False
    if not 1 <= d <= calendar.mdays[mo] + (1 if mo == 2 and calendar.isleap(y) else 0):
        return False
    if m.group(9):
        return int(m.group(10)) <= 23 and int(m.group(11)) <= 59
    return True


def _accepted(s):
    """Our documented policy (core/timefmt.py): RFC 3339, plus a space for "T" and a missing
    offset (read as UTC), which real CSMS send."""
    if _rfc3339(s):
        return True
    if len(s) > 10 and s[10] == " ":
        s = s[:10] + "T" + s[11:]
    if _rfc3339(s):
        return True
    return _rfc3339(s + "Z")  # no offset: read as UTC


_FC = jsonschema.FormatChecker(formats=())
_FC.checks("date-time")(lambda s: not isinstance(s, str) or _accepted(s))

_RANK = {
    "additionalProperties": 0,
    "required": 1,
    "minItems": 1,
    "maxItems": 1,
    "type": 2,
    "enum": 3,
    "maxLength": 3,
    "minimum": 3,
    "maximum": 3,
    "format": 3,
}
_CODES = ("FormatViolation", "OccurrenceConstraintViolation", "TypeConstraintViolation", "PropertyConstraintViolation")
_VALIDATORS = {}


def _validator(name):
    v = _VALIDATORS.get(name)
    if v is None:
        s = _json_schema(name)
        assert s["$schema"] == "http://json-schema.org/draft-06/schema#"
        cls = jsonschema.validators.validator_for(s)
        cls.check_schema(s)
        v = _VALIDATORS[name] = cls(s, format_checker=_FC)
    return v


def _path(parts):
    out = ""
    for p in parts:
        out += "[%d]" % p if isinstance(p, int) else ("." + p if out else p)
    return out


def _join(base, key):
    return base + "." + key if base else key


def _expected(name, payload):
    """-> None or (rank, set of acceptable paths) from jsonschema's errors."""
    by_rank = {}
    for e in _validator(name).iter_errors(payload):
        if e.validator == "additionalProperties" and e.schema.get("type") != "object":
            continue  # difference 4: the "type" error is always there too
        base = _path(e.absolute_path)
        rank = _RANK[e.validator]
        if e.validator == "type" and not e.absolute_path and e.schema is _validator(name).schema:
            rank, paths = 0, {"payload"}  # difference 2
        elif e.validator == "required":
            paths = {_join(base, n) for n in e.validator_value if n not in e.instance}
        elif e.validator == "additionalProperties":
            extra = sorted(k for k in e.instance if k not in e.schema.get("properties", {}))
            paths = {_join(base, extra[0][:40] or '""')}  # ours names the smallest
        else:
            paths = {base or "payload"}
        by_rank.setdefault(rank, set()).update(paths)
    if not by_rank:
        return None
    r = min(by_rank)
    return r, by_rank[r]


def _assert_same(name, payload, table=None):
    ours = schema.validate(table if table is not None else _table(name), payload)
    exp = _expected(name, payload)
    if exp is None:
        assert ours is None, (name, payload, ours)
        return
    assert ours is not None, (name, payload, exp)
    assert ours[0] == _CODES[exp[0]], (name, payload, ours, exp)
    path = ours[1].rpartition(": ")[0]
    assert path in exp[1], (name, payload, ours, exp)


# --- payload strategies from the real schemas ------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=4),
    lambda c: st.lists(c, max_size=2) | st.dictionaries(st.text(max_size=4), c, max_size=2),
    max_leaves=4,
)

_OFFSET = st.sampled_from(["Z", "z", "+00:00", "-05:30", "+23:59", "+14:00"])


@st.composite
def _datetimes(draw):
    y = draw(st.integers(0, 9999))
    mo = draw(st.integers(1, 12))
    d = draw(st.integers(1, calendar.mdays[mo] + (1 if mo == 2 and calendar.isleap(y) else 0)))
    frac = draw(st.sampled_from(["", ".0", ".123", ".123456789"]))
    t = draw(st.sampled_from("Tt"))
    return "%04d-%02d-%02d%s%02d:%02d:%02d%s%s" % (
        y, mo, d, t, draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 60)), frac, draw(_OFFSET))


def _from_schema(node, defs):
    if "$ref" in node:
        return _from_schema(defs[node["$ref"].split("/")[-1]], defs)
    t = node.get("type")
    if t is None:
        return _JSON
    if t == "object":
        props = node.get("properties", {})
        req = node.get("required", [])
        optional = {k: _from_schema(v, defs) for k, v in props.items() if k not in req}
        if node.get("additionalProperties", True) is not False:
            optional["vendorExtension"] = _JSON  # customData: vendor fields allowed
        return st.fixed_dictionaries({k: _from_schema(props[k], defs) for k in req}, optional=optional)
    if t == "array":
        lo = node.get("minItems", 0)
        hi = max(lo, min(node.get("maxItems", 2), 2))
        return st.lists(_from_schema(node["items"], defs), min_size=lo, max_size=hi)
    if t == "string":
        if "enum" in node:
            return st.sampled_from(node["enum"])
        if node.get("format") == "date-time":
            return _datetimes()
        ml = node.get("maxLength")
        if ml is None:
            return st.text(max_size=8)
        return st.text(max_size=min(ml, 8)) | st.just("\u00e9" * ml)
    if t in ("integer", "number"):
        lo, hi = node.get("minimum"), node.get("maximum")
        lo = None if lo is None else int(lo)
        hi = None if hi is None else int(hi)
        ints = st.integers(lo if lo is not None else -(2**40), hi if hi is not None else 2**40)
        if t == "integer":
            return ints | ints.map(float)
        return ints | st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if t == "boolean":
        return st.booleans()
    raise AssertionError("unexpected schema node %r" % (node,))


_STRATS = {}


def _payloads(name):
    s = _STRATS.get(name)
    if s is None:
        doc = _json_schema(name)
        s = _STRATS[name] = _from_schema(doc, doc.get("definitions", {}))
    return s


_NASTY = st.one_of(
    _JSON,
    st.just("NotAnEnumValue"),
    st.just("x" * 2501),
    st.sampled_from([-1, 0, 101, 1.5, 3.0, True, "2024-01-01T00:00:00", "2024-02-30T00:00:00Z", {}, []]),
)


def _slots(x, out, parent=None, key=None):
    # Every (container, key) in the instance, root included as (None, None).
    out.append((parent, key, x))
    if isinstance(x, dict):
        for k in sorted(x):
            _slots(x[k], out, x, k)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            _slots(v, out, x, i)
    return out


def _mutate(draw, root):
    slots = _slots(root, [])
    parent, key, val = slots[draw(st.integers(0, len(slots) - 1))]
    kind = draw(st.sampled_from(["replace", "delete", "add", "grow", "bump", "corrupt", "clear"]))
    # deepcopy: sampled_from/just hand out the same {} and [] objects every time, and
    # later mutations must not change them (hypothesis needs repeatable draws).
    if kind == "replace":
        new = copy.deepcopy(draw(_NASTY))
    elif kind == "delete" and parent is not None:
        del parent[key]
        return root
    elif kind == "add" and isinstance(val, dict):
        val[draw(st.sampled_from(["zz", "bogus", "customData", "vendorId", "id"]))] = copy.deepcopy(draw(_NASTY))
        return root
    elif kind == "grow" and isinstance(val, str):
        new = val + "a"
    elif kind == "grow" and isinstance(val, list):
        new = val + val[:1] * draw(st.sampled_from([1, 2, 3, 1023]))
    elif kind == "bump" and isinstance(val, (int, float)) and not isinstance(val, bool):
        new = val + draw(st.sampled_from([-1, 1, 0.5]))
    elif kind == "corrupt" and isinstance(val, str) and val:
        i = draw(st.integers(0, len(val) - 1))
        new = val[:i] + draw(st.sampled_from(["", "x", "9", ":", " ", "\u0663"])) + val[i + 1:]
    elif kind == "clear" and isinstance(val, (list, dict)):
        new = type(val)()
    else:
        return root
    if parent is None:
        return new
    parent[key] = new
    return root


# --- the tests --------------------------------------------------------------------

# No shrinking: a failure prints the payload in its assertion message, and shrinking 65
# failing cases would take minutes of CI time.
_NO_SHRINK = (Phase.explicit, Phase.generate)
# derandomize: the same examples on every run, so CI is repeatable (a rare discrepancy seen once
# in a full run could not be reproduced in 4000 further examples: run with derandomize=False and
# more examples to explore).
_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    derandomize=True,
    phases=_NO_SHRINK,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize("name", MESSAGES)
@_SETTINGS
@given(data=st.data())
def test_agrees_with_jsonschema(name, data):
    table = _table(name)
    payload = data.draw(_payloads(name), label="valid")
    _assert_same(name, payload, table)
    assert schema.validate(table, payload) is None  # generated from the schema: must be valid
    mutated = copy.deepcopy(payload)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        mutated = _mutate(data.draw, mutated)
    _assert_same(name, mutated, table)


@st.composite
def _loose_datetimes(draw):
    # Right shape, fields anywhere in 0..99 (years near century rules), so range and
    # calendar checks are hit often.
    y = draw(st.sampled_from([1900, 2000, 2100, 2023, 2024, 0, 9999]) | st.integers(0, 9999))
    f = [draw(st.integers(0, 99) | st.sampled_from([0, 23, 24, 59, 60, 61])) for _ in range(5)]
    if draw(st.booleans()):
        f[0] = draw(st.sampled_from([0, 1, 2, 2, 4, 12, 13]))
        f[1] = draw(st.sampled_from([0, 1, 28, 29, 29, 30, 31, 32]))
    off = draw(_OFFSET | st.builds("{}{:02d}:{:02d}".format, st.sampled_from("+-"), st.integers(0, 99), st.integers(0, 99)))
    return "%04d-%02d-%02dT%02d:%02d:%02d%s" % (y, f[0], f[1], f[2], f[3], f[4], off)


@settings(max_examples=1500, deadline=None, database=None, phases=_NO_SHRINK, derandomize=True)
@given(s=st.one_of(_datetimes(), _loose_datetimes(), _datetimes().flatmap(
    lambda d: st.tuples(st.integers(0, len(d)), st.sampled_from(["", "x", "0", "9", "-", ":", ".", "Z", "+", " ", "\u0663"]))
    .map(lambda p: d[: p[0]] + p[1] + d[p[0] + 1:])), st.text(max_size=30)))
def test_datetime_agrees_with_rfc3339_oracle(s):
    assert schema.is_datetime(s) == _accepted(s), s


# Hand-picked edges, checked against jsonschema the same way.
def _profile(n_schedules, price_level):
    tariff = {"id": 1, "salesTariffEntry": [{"relativeTimeInterval": {"start": 0}, "ePriceLevel": price_level}]}
    sched = {"id": 1, "chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1.5}],
             "salesTariff": tariff}
    return {"id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
            "chargingSchedule": [sched] * n_schedules}


_EDGES = [
    ("SetChargingProfileRequest", {"evseId": 0, "chargingProfile": _profile(3, 0)}),
    ("SetChargingProfileRequest", {"evseId": 0, "chargingProfile": _profile(4, 0)}),
    ("SetChargingProfileRequest", {"evseId": 0, "chargingProfile": _profile(1, -1)}),
    ("RequestStartTransactionRequest", {"idToken": {"idToken": "a", "type": "Central"}, "remoteStartId": 1,
                                        "chargingProfile": _profile(2, -1)}),
    ("GetReportRequest", {"requestId": 1, "componentCriteria": ["Active", "Available", "Enabled", "Problem"]}),
    ("GetReportRequest", {"requestId": 1, "componentCriteria": ["Active"] * 5}),
    ("GetReportRequest", {"requestId": 1, "componentCriteria": []}),
    ("GetMonitoringReportRequest", {"requestId": 1, "monitoringCriteria": ["DeltaMonitoring"] * 4}),
    ("HeartbeatResponse", {"currentTime": "1900-02-29T00:00:00Z"}),
    ("HeartbeatResponse", {"currentTime": "2000-02-29T00:00:00Z"}),
    ("HeartbeatResponse", {"currentTime": "2024-01-01T00:00:00+01:00", "zz": 1}),
    ("HeartbeatResponse", {}),
    ("ResetRequest", {"type": "Immediate", "evseId": 1.0}),
    ("ResetRequest", {"type": "Immediate", "evseId": 1e300}),
    ("ResetRequest", {"type": "Immediate", "evseId": False}),
    ("DataTransferRequest", {"vendorId": "v" * 255, "data": {"x": [1, None]}}),
    ("DataTransferRequest", {"vendorId": "v" * 256}),
    ("ResetRequest", {"type": "Immediate", "customData": {"vendorId": "x", "a": 1}}),
    ("ResetRequest", {"type": "Immediate", "customData": {"a": 1}}),
]


@pytest.mark.parametrize("name,payload", _EDGES)
def test_agrees_on_edges(name, payload):
    _assert_same(name, payload)


def test_documented_differences():
    assert len(DIFFERENCES) == 4
    # 1: plain jsonschema (no format checker) accepts a garbage date-time; we do not.
    s = _json_schema("HeartbeatResponse")
    assert jsonschema.Draft6Validator(s).is_valid({"currentTime": "garbage"})
    assert schema.validate(_table("HeartbeatResponse"), {"currentTime": "garbage"})[0] == "PropertyConstraintViolation"
    # 2: root not an object.
    e = list(jsonschema.Draft6Validator(s).iter_errors([]))
    assert [x.validator for x in e] == ["type"]
    assert schema.validate(_table("HeartbeatResponse"), [])[0] == "FormatViolation"
    # 4: an object where a string enum belongs.
    s = _json_schema("BootNotificationResponse")
    p = {"currentTime": "2024-01-01T00:00:00Z", "interval": 1, "status": {"a": 1}}
    e = sorted(x.validator for x in jsonschema.Draft6Validator(s).iter_errors(p))
    assert e == ["additionalProperties", "enum", "type"]
    assert schema.validate(_table("BootNotificationResponse"), p) == ("TypeConstraintViolation", "status: not a string")


def test_every_received_message_has_a_table_and_nothing_else():
    got = sorted(f[:-3] for f in os.listdir(os.path.join(OUT, "schemas")) if f.endswith(".py") and f != "__init__.py")
    assert got == MESSAGES
    assert len(MESSAGES) == 65


def test_directions():
    cs = set(CS_TO_CSMS)
    assert cs == set(GEN.CS_INITIATED["v201"])
    # "everything else is CSMS-initiated", and DataTransfer goes both ways
    every = {f[:-12] for f in os.listdir(SRC) if f.endswith("Request.json")}
    assert set(CSMS_TO_CS) == (every - cs) | {"DataTransfer"}


def test_generated_files_are_up_to_date():
    files = GEN.generate("v201")
    for rel, text in sorted(files.items()):
        with open(os.path.join(OUT, rel), encoding="utf-8") as f:
            assert f.read() == text, "%s is stale: run python tools/gen_schemas.py v201" % rel
    assert GEN.generate("v201") == files  # deterministic
    on_disk = {"schemas/" + f for f in os.listdir(os.path.join(OUT, "schemas")) if f.endswith(".py")}
    assert on_disk == {r for r in files if r.startswith("schemas/")}


def test_generator_handles_v21_without_changes(tmp_path):
    files = GEN.write("v21", str(tmp_path))
    assert "schemas/SetChargingProfileRequest.py" in files
    assert "schemas/BootNotificationResponse.py" in files
    assert "schemas/BootNotificationRequest.py" not in files
    ns = {}
    exec(files["schemas/SetDERControlRequest.py"], ns)
    assert ns["S"][0] == "o"


def test_generator_rejects_unsupported_keywords():
    with pytest.raises(GEN.SchemaError):
        GEN.convert({"type": "string", "pattern": "^a$"}, {}, "x")
    with pytest.raises(GEN.SchemaError):
        GEN.convert({"type": "string", "format": "uri"}, {}, "x")
    with pytest.raises(GEN.SchemaError):
        GEN.convert({"$ref": "#/definitions/A"}, {"A": {"$ref": "#/definitions/A"}}, "x")
    # A CustomDataType that differs from OCA's is inlined, not shortened to "c".
    odd = {"type": "object", "properties": {"vendorId": {"type": "string", "maxLength": 10}}, "required": ["vendorId"]}
    assert GEN.convert({"$ref": "#/definitions/CustomDataType"}, {"CustomDataType": odd}, "x") == (
        "o", ("vendorId",), (("vendorId", ("s", 10)),), True)
