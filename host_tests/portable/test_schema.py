# core/schema.py (the light validator) and core/v201 (the 2.0.1 profile), on both
# interpreters. The differential test against jsonschema is host_tests/unit/test_schema_differential.py.
import sys

from flexcharge.core import schema, v201
from flexcharge.compat import mem_alloc

FMT = "FormatViolation"
OCC = "OccurrenceConstraintViolation"
TYP = "TypeConstraintViolation"
PROP = "PropertyConstraintViolation"


def check(name, payload):
    return v201.validate(name, payload)


def svr(*items):
    return {"setVariableData": list(items)}


def svd(value="1", component=None, variable=None, **extra):
    d = {
        "attributeValue": value,
        "component": component if component is not None else {"name": "OCPPCommCtrlr"},
        "variable": variable if variable is not None else {"name": "HeartbeatInterval"},
    }
    d.update(extra)
    return d


# --- valid payloads -------------------------------------------------------------


def test_valid_payloads_pass():
    assert check("SetVariablesRequest", svr(svd(), svd(component={"name": "EVSE", "evse": {"id": 1, "connectorId": 2}}))) is None
    assert check("ResetRequest", {"type": "Immediate"}) is None
    assert check("ResetRequest", {"type": "OnIdle", "evseId": 1}) is None
    assert check("BootNotificationResponse", {"currentTime": "2024-01-01T00:00:00Z", "interval": 300, "status": "Accepted"}) is None
    assert check("HeartbeatResponse", {"currentTime": "2024-02-29T23:59:59.123+05:30"}) is None
    assert check("ClearCacheRequest", {}) is None


def test_custom_data_vendor_extensions_allowed_only_where_the_schema_allows():
    cd = {"vendorId": "com.flexcharge", "anything": [1, {"x": None}], "more": 2.5}
    assert check("ResetRequest", {"type": "Immediate", "customData": cd}) is None
    assert check("SetVariablesRequest", svr(svd(customData=cd, component={"name": "X", "customData": cd}))) is None
    # customData itself has a required vendorId
    r = check("ResetRequest", {"type": "Immediate", "customData": {"x": 1}})
    assert r == (OCC, "customData.vendorId: required property missing"), r
    # ... and is an object
    assert check("ResetRequest", {"type": "Immediate", "customData": "vendor"})[0] == TYP
    # Vendor fields outside customData are unknown properties.
    r = check("ResetRequest", {"type": "Immediate", "vendorField": 1})
    assert r == (FMT, "vendorField: unknown property"), r


def test_data_transfer_data_is_any_json():
    for data in (None, 1, "x", [1, "a"], {"k": {"v": [True]}}, 2.5, False):
        assert check("DataTransferRequest", {"vendorId": "v", "data": data}) is None
    assert check("DataTransferResponse", {"status": "Accepted", "data": [1]}) is None


# --- each error code ------------------------------------------------------------


def test_format_violation_payload_not_object():
    for p in ([], "x", 1, None, [{"type": "Immediate"}]):
        r = check("ResetRequest", p)
        assert r is not None and r[0] == FMT, r
    assert schema.validate(("o", (), (), True), []) == (FMT, "payload: not a JSON object")


def test_format_violation_unknown_property_nested():
    r = check("SetVariablesRequest", svr(svd(), svd(component={"name": "X", "evse": {"id": 1, "bogus": 2}})))
    assert r == (FMT, "setVariableData[1].component.evse.bogus: unknown property"), r


def test_type_constraint_violation():
    r = check("ResetRequest", {"type": "Immediate", "evseId": "1"})
    assert r == (TYP, "evseId: not an integer"), r
    r = check("SetVariablesRequest", svr(svd(value=12)))  # "somestring": 12
    assert r == (TYP, "setVariableData[0].attributeValue: not a string"), r
    r = check("SetVariablesRequest", {"setVariableData": {"a": 1}})
    assert r == (TYP, "setVariableData: not an array"), r
    r = check("SetVariablesRequest", svr(svd(), "x"))
    assert r == (TYP, "setVariableData[1]: not an object"), r
    r = check("ResetRequest", {"type": 3})
    assert r == (TYP, "type: not a string"), r


def test_integer_and_number_types():
    assert check("ResetRequest", {"type": "Immediate", "evseId": 3.0}) is None  # Draft 6 integer
    assert check("ResetRequest", {"type": "Immediate", "evseId": 3.5})[0] == TYP
    assert check("ResetRequest", {"type": "Immediate", "evseId": True})[0] == TYP
    assert check("ResetRequest", {"type": "Immediate", "evseId": float("inf")})[0] == TYP
    n = ("o", (), (("x", ("n",)), ("b", ("b",))), False)
    assert schema.validate(n, {"x": 1}) is None
    assert schema.validate(n, {"x": -1.5}) is None
    assert schema.validate(n, {"x": False}) == (TYP, "x: not a number")
    assert schema.validate(n, {"x": "1"}) == (TYP, "x: not a number")
    assert schema.validate(n, {"b": 0}) == (TYP, "b: not a boolean")
    assert schema.validate(n, {"b": True}) is None


def test_occurrence_constraint_violation():
    r = check("ResetRequest", {"evseId": 1})
    assert r == (OCC, "type: required property missing"), r
    r = check("SetVariablesRequest", svr(svd(), {"attributeValue": "1", "component": {"name": "X"}}))
    assert r == (OCC, "setVariableData[1].variable: required property missing"), r
    r = check("SetVariablesRequest", svr())
    assert r == (OCC, "setVariableData: fewer than 1 items"), r
    # maxItems
    a = ("o", (), (("l", ("a", ("i",), None, 2)),), False)
    assert schema.validate(a, {"l": [1, 2]}) is None
    assert schema.validate(a, {"l": [1, 2, 3]}) == (OCC, "l: more than 2 items")


def test_property_constraint_violation():
    r = check("ResetRequest", {"type": "Sometime"})
    assert r == (PROP, "type: not in enum"), r
    r = check("SetVariablesRequest", svr(svd(variable={"name": "v" * 51})))
    assert r == (PROP, "setVariableData[0].variable.name: longer than 50"), r
    assert check("SetVariablesRequest", svr(svd(variable={"name": "v" * 50}))) is None
    r = check("BootNotificationResponse", {"currentTime": "yesterday", "interval": 1, "status": "Accepted"})
    assert r == (PROP, "currentTime: not an RFC 3339 date-time"), r
    # minimum / maximum (SetMonitoringLevel severity is 0..9 in the OCA schema, not bounded;
    # GetLog/SetDisplayMessage are not either, so use a hand table)
    m = ("o", (), (("p", ("i", 0, 100)), ("q", ("n", 0, None))), False)
    assert schema.validate(m, {"p": 0, "q": 0}) is None
    assert schema.validate(m, {"p": 100}) is None
    assert schema.validate(m, {"p": 101}) == (PROP, "p: above maximum 100")
    assert schema.validate(m, {"p": -1}) == (PROP, "p: below minimum 0")
    assert schema.validate(m, {"q": -0.5}) == (PROP, "q: below minimum 0")


def test_minimum_in_real_table():
    # The one bound on a 2.0.1 message we receive: SalesTariffEntry.ePriceLevel >= 0.
    tariff = {"id": 1, "salesTariffEntry": [{"relativeTimeInterval": {"start": 0}, "ePriceLevel": -1}]}
    sched = {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}], "salesTariff": tariff}
    p = {
        "evseId": 1,
        "chargingProfile": {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [sched],
        },
    }
    r = check("SetChargingProfileRequest", p)
    assert r == (PROP, "chargingProfile.chargingSchedule[0].salesTariff.salesTariffEntry[0].ePriceLevel: below minimum 0"), r
    tariff["salesTariffEntry"][0]["ePriceLevel"] = 0
    assert check("SetChargingProfileRequest", p) is None


# --- precedence -----------------------------------------------------------------


def test_precedence_format_over_everything():
    # Missing required (Occurrence) at the root, wrong type in an earlier item, unknown
    # property in a later item: the Format violation wins.
    p = svr(svd(value=1), svd(component={"name": "X", "zz": 1}))
    r = check("SetVariablesRequest", p)
    assert r == (FMT, "setVariableData[1].component.zz: unknown property"), r


def test_precedence_occurrence_then_type_then_property():
    p = svr(svd(variable={"name": "v" * 99}), svd(value=5), {"attributeValue": "x", "component": {"name": "c"}})
    r = check("SetVariablesRequest", p)
    assert r == (OCC, "setVariableData[2].variable: required property missing"), r
    p["setVariableData"].pop()
    r = check("SetVariablesRequest", p)
    assert r == (TYP, "setVariableData[1].attributeValue: not a string"), r
    p["setVariableData"].pop()
    assert check("SetVariablesRequest", p)[0] == PROP


def test_precedence_first_in_schema_order_among_equals():
    # Two missing required properties: the first in `required` order is named.
    r = check("SetVariablesRequest", svr({"attributeValue": "1"}))
    assert r == (OCC, "setVariableData[0].component: required property missing"), r
    # Two unknown properties: the alphabetically smallest.
    r = check("ResetRequest", {"type": "Immediate", "zeta": 1, "alpha": 2, "mid": 3})
    assert r == (FMT, "alpha: unknown property"), r
    # Two bad items: the lower index.
    r = check("SetVariablesRequest", svr(svd(), svd(value=1), svd(value=2)))
    assert r == (TYP, "setVariableData[1].attributeValue: not a string"), r


def test_description_is_short():
    r = check("ResetRequest", {"type": "Immediate", "k" * 500: 1})
    assert r[0] == FMT and len(r[1]) < 200, r
    deep = ("o", (), (("a" * 150, ("o", (), (("b" * 150, ("i",)),), False)),), False)
    r = schema.validate(deep, {"a" * 150: {"b" * 150: "x"}})
    assert r[0] == TYP and len(r[1]) < 200 and r[1].startswith("a" * 150 + "."), r


# --- date-time ------------------------------------------------------------------

GOOD_DT = (
    "2024-01-01T00:00:00Z",
    "2024-01-01t00:00:00z",
    "2013-02-01T20:53:32.486Z",
    "2013-02-01T20:53:32.1+01:00",
    "2013-02-01T20:53:32.123456789-11:30",
    "2024-02-29T23:59:59+00:00",
    "2000-02-29T12:00:00Z",
    "1999-12-31T23:59:60Z",
    "0000-01-01T00:00:00Z",
)
BAD_DT = (
    "",
    "yesterday",
    "2024-01-01",
    "20240101T000000Z",
    "2024-01-01T00:00:00.Z",
    "2024-01-01T00:00:00+0100",
    "2024-01-01T00:00:00+01",
    "2024-01-01T00:00:00+24:00",
    "2024-01-01T00:00:00+01:60",
    "2024-13-01T00:00:00Z",
    "2024-00-01T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "2024-01-00T00:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T00:60:00Z",
    "2024-01-01T00:00:61Z",
    "2024-01-01T00:00:00ZZ",
    "2024-01-01T00:00:00Z ",
    " 2024-01-01T00:00:00Z",
    "2024-1-01T00:00:00Z",
    "2024-01-01T00:00:00+01:00Z",
    "+2024-01-01T00:00:00Z",
    "2024-01-01T0a:00:00Z",
    "2024-01-01T00:00:00.12a4Z",
    "2024-01-01T00:00:00\u00e9",
)


def test_datetime_accepts_rfc3339():
    for s in GOOD_DT:
        assert schema.is_datetime(s), s
        assert check("HeartbeatResponse", {"currentTime": s}) is None, s


# Loose forms real CSMS send (issue 8): accepted, and named in `notes` so the caller warns.
LOOSE_DT = (
    "2026-08-21T10:00:00.123456",  # no offset, microseconds
    "2024-01-01T00:00:00",  # no offset
    "2024-01-01T00:00:00.5",
    "2024-01-01 00:00:00Z",  # space separator
    "2024-01-01 00:00:00",
)


def test_datetime_loose_forms_accepted_with_a_note():
    for s in LOOSE_DT:
        assert schema.is_datetime(s), s
        notes = []
        assert v201.validate("HeartbeatResponse", {"currentTime": s}, notes) is None, s
        assert notes == [s], (s, notes)
    for s in GOOD_DT:
        notes = []
        assert v201.validate("HeartbeatResponse", {"currentTime": s}, notes) is None
        assert notes == [], s


def test_integral_float_where_an_integer_is_due_becomes_an_int():
    # JSON Schema draft-06: 1E+00 is an integer; the handler must get int 1, not float 1.0.
    p = {"getVariableData": [{"component": {"name": "EVSE", "evse": {"id": 1e0, "connectorId": 2.0}},
                              "variable": {"name": "Power"}}]}
    assert check("GetVariablesRequest", p) is None
    evse = p["getVariableData"][0]["component"]["evse"]
    assert type(evse["id"]) is int and evse["id"] == 1 and type(evse["connectorId"]) is int
    p = {"currentTime": "2024-01-01T00:00:00Z", "interval": 300.0, "status": "Accepted"}
    assert check("BootNotificationResponse", p) is None and type(p["interval"]) is int
    assert check("BootNotificationResponse", {"currentTime": "2024-01-01T00:00:00Z", "interval": 1.5,
                                              "status": "Accepted"})[0] == TYP


def test_datetime_rejects_garbage():
    for s in BAD_DT:
        assert not schema.is_datetime(s), s
        assert check("HeartbeatResponse", {"currentTime": s}) == (PROP, "currentTime: not an RFC 3339 date-time"), s
    assert check("HeartbeatResponse", {"currentTime": 1700000000}) == (TYP, "currentTime: not a string")


# --- the profile ----------------------------------------------------------------


def test_profile_actions():
    assert v201.SUBPROTOCOL == "ocpp2.0.1"
    for a in ("Reset", "SetVariables", "GetVariables", "TriggerMessage", "DataTransfer", "CertificateSigned"):
        assert v201.is_request(a), a
        assert v201.is_known(a), a
    for a in ("BootNotification", "Heartbeat", "TransactionEvent", "StatusNotification", "NotifyReport"):
        assert not v201.is_request(a), a
        assert v201.is_known(a), a
    for a in ("Foo", "", "RemoteStartTransaction", "ResetRequest", "BatterySwap"):
        assert not v201.is_request(a), a
        assert not v201.is_known(a), a
    # every 2.0.1 action is in one list or both (DataTransfer only)
    from flexcharge.core.v201.actions import CSMS_TO_CS, CS_TO_CSMS

    assert len(CSMS_TO_CS) == 40 and len(CS_TO_CSMS) == 25
    assert [a for a in CSMS_TO_CS if a in CS_TO_CSMS] == ["DataTransfer"]


def test_profile_validate_without_table_is_none():
    # Messages the station sends, unknown names and odd strings have no table.
    assert v201.validate("BootNotificationRequest", {"bogus": 1}) is None
    assert v201.validate("ResetResponse", 5) is None
    assert v201.validate("Foo", {}) is None
    assert v201.validate("FooRequest", {}) is None
    assert v201.validate("__init__", {}) is None
    assert v201.validate("Request", {}) is None
    # ... but every received message has one
    from flexcharge.core.v201.actions import CSMS_TO_CS, CS_TO_CSMS

    for a in CSMS_TO_CS:
        assert v201.validate(a + "Request", "not an object") is not None, a
    for a in CS_TO_CSMS:
        assert v201.validate(a + "Response", "not an object") is not None, a


def test_profile_unloads_tables():
    assert v201.validate("SetVariablesRequest", svr(svd())) is None
    assert v201.validate("ResetRequest", {}) is not None
    names = [k for k in sys.modules if k.startswith("flexcharge.core.v201.schemas.")]
    assert names == [], names
    pkg = sys.modules["flexcharge.core.v201.schemas"]
    assert not hasattr(pkg, "SetVariablesRequest")
    assert not hasattr(pkg, "ResetRequest")


def test_heap_flat_when_validating_repeatedly():
    if mem_alloc() is None:
        # CPython: no comparable heap figure; still check nothing accumulates in sys.modules.
        n0 = len(sys.modules)
        for _ in range(20):
            v201.validate("SetVariablesRequest", svr(svd()))
        assert len(sys.modules) == n0
        return
    import gc

    good = svr(svd(), svd(component={"name": "EVSE", "evse": {"id": 1}}), svd())
    bad = svr(svd(value=5))
    for _ in range(3):  # warm up: first import interns the table's names for good
        v201.validate("SetVariablesRequest", good)
        v201.validate("SetVariablesRequest", bad)
    gc.collect()
    before = mem_alloc()
    for _ in range(100):
        assert v201.validate("SetVariablesRequest", good) is None
        assert v201.validate("SetVariablesRequest", bad)[0] == TYP
    gc.collect()
    after = mem_alloc()
    # One leaked table would be kilobytes; one leaked small object per call >= 1600 bytes.
    assert after - before <= 256, (before, after)
