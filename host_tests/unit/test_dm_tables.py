# CPython checks of the device model tables against the OCPP 2.0.1 appendix CSV, and of the
# messages the B05-B08 / N02-N08 blocks produce against the OCA JSON schemas (ocpp package).
import importlib.util
import json
import os
import sys

import jsonschema
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "host_tests", "portable"))

from flexcharge.core.devicemodel import standard, check  # noqa: E402
from flexcharge.core.devicemodel.model import MUTABILITY  # noqa: E402
from flexcharge.core.blocks.b_provisioning.variables import Variables  # noqa: E402
from flexcharge.core.blocks.n_diagnostics.monitoring import Monitoring  # noqa: E402
from fake_station import FakeStation, Handlers, make_dm  # noqa: E402


def _gen():
    spec = importlib.util.spec_from_file_location("gen_dm", os.path.join(ROOT, "tools", "gen_dm.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


GEN = _gen()
HAVE_CSV = os.path.exists(GEN.CSV)
ALL = [getattr(standard, name) for name, _, _ in GEN.OVERLAY]
DATATYPES = ("string", "decimal", "integer", "dateTime", "boolean", "OptionList", "SequenceList", "MemberList")
# dataType differs from the CSV on purpose (errata 2025-01), or the variable is not in the CSV.
CSV_EXCEPTIONS = {("OCPPCommCtrlr", "ActiveNetworkProfile"): "errata 2.40.1: integer",
                  ("AuthCtrlr", "SupportedIdTokenTypes"): "errata 2.43.1",
                  ("SecurityCtrlr", "CertificateRenewalLeadTime"): "ours (A03 lead time), not standardized"}


def rows():
    for t in ALL:
        for comp, cinst, scope, rs in t:
            for r in rs:
                yield comp, cinst, scope, r


@pytest.mark.skipif(not HAVE_CSV, reason="spec CSV not available")
def test_generated_table_is_up_to_date():
    with open(GEN.OUT) as f:
        assert f.read() == GEN.render(GEN.build()), "run: python3 tools/gen_dm.py"


@pytest.mark.skipif(not HAVE_CSV, reason="spec CSV not available")
def test_every_variable_matches_the_csv():
    specific, generic = GEN.read_csv(GEN.CSV)
    for comp, cinst, scope, r in rows():
        name, inst, dtype = r[0], r[1], r[3]
        e = GEN.csv_entry(specific, generic, comp, name, inst)
        if (comp, name) in CSV_EXCEPTIONS:
            continue
        assert e is not None, (comp, name, inst)
        assert GEN.DATATYPE_ALIASES.get(e[0], e[0]) == dtype, (comp, name, e[0], dtype)


@pytest.mark.skipif(not HAVE_CSV, reason="spec CSV not available")
def test_required_variables_of_implemented_components_are_present():
    specific, generic = GEN.read_csv(GEN.CSV)
    ours = set((comp, r[0], r[1] or "") for comp, cinst, scope, r in rows())
    comps = set(c for c, _, _ in ours)
    missing = []
    for (comp, var, inst), (dtype, unit, req) in specific.items():
        if comp in comps and req == "yes" and (comp, var, inst) not in ours:
            missing.append((comp, var, inst))
    assert missing == []
    for want in ("ChargingStation", "EVSE", "Connector", "DeviceDataCtrlr", "OCPPCommCtrlr", "SecurityCtrlr",
                 "ClockCtrlr", "TxCtrlr", "SampledDataCtrlr", "AlignedDataCtrlr", "AuthCtrlr", "AuthCacheCtrlr",
                 "LocalAuthListCtrlr", "SmartChargingCtrlr", "ReservationCtrlr", "MonitoringCtrlr"):
        assert want in comps
    # errata 2.45.1: the Connector reports AvailabilityState too; 2.40.1 ActiveNetworkProfile required
    assert ("Connector", "AvailabilityState", "") in ours and ("OCPPCommCtrlr", "ActiveNetworkProfile", "") in ours


def test_mutability_from_part2_and_part6():
    want = {
        ("OCPPCommCtrlr", "MessageTimeout"): "ReadOnly",  # TC_B_39_CS
        ("OCPPCommCtrlr", "OfflineThreshold"): "ReadWrite",  # TC_B_09_CS
        ("OCPPCommCtrlr", "HeartbeatInterval"): "ReadWrite",
        ("AuthCtrlr", "LocalAuthorizeOffline"): "ReadWrite",  # TC_B_10_CS
        ("SecurityCtrlr", "BasicAuthPassword"): "WriteOnly",  # errata 2.1.1
        ("SecurityCtrlr", "SecurityProfile"): "ReadOnly",
        ("EVSE", "AvailabilityState"): "ReadOnly",  # TC_B_17_CS
        ("Connector", "AvailabilityState"): "ReadOnly",  # errata 2.45.1
        ("ChargingStation", "AvailabilityState"): "ReadOnly",
        ("DeviceDataCtrlr", "ItemsPerMessage"): "ReadOnly",
        ("MonitoringCtrlr", "ActiveMonitoringBase"): "ReadOnly",
        ("MonitoringCtrlr", "OfflineQueuingSeverity"): "ReadWrite",  # TC_N_22_CS sets it
        ("ClockCtrlr", "NextTimeOffsetTransitionDateTime"): "ReadWrite",  # TC_B_11_CS
        ("SmartChargingCtrlr", "LimitChangeSignificance"): "ReadWrite",  # TC_B_11_CS
        ("TxCtrlr", "TxStartPoint"): "ReadWrite",
    }
    got = {}
    for comp, cinst, scope, r in rows():
        got[(comp, r[0])] = MUTABILITY[r[2][:2]]
    for k, v in want.items():
        assert got[k] == v, k


def test_rows_are_well_formed_constants_with_valid_defaults():
    seen = set()

    def const(x):
        if isinstance(x, tuple):
            return all(const(y) for y in x)
        return x is None or isinstance(x, (str, int))  # no floats/lists: frozen into flash as is

    for t in ALL:
        assert const(t)
    for comp, cinst, scope, r in rows():
        assert len(r) in (9, 10), r
        assert scope in (0, 1, 2)
        flags = r[2]
        assert flags[:2] in MUTABILITY and set(flags[2:]) <= set("PCMBTNXFU"), r
        assert r[3] in DATATYPES, r
        if r[3] in ("OptionList", "SequenceList", "MemberList"):
            assert r[7], r  # valuesList required for the list types (TC_B_12/13_CS)
        k = (comp, cinst, scope, r[0], r[1])
        assert k not in seen, k  # no definition shadows another
        seen.add(k)
        d = r[8]
        if r[3] in ("dateTime", "string") and d == "":
            continue  # "not set" (e.g. BasicAuthPassword before the config gives one)
        typed, err = check.parse(r, d, r[5], r[6], True)
        assert err is None, (comp, r[0], d, err)
        if len(r) == 10:
            assert "M" in flags
            for kind, typ, value, sev in r[9]:
                assert kind in "PH" and 0 <= sev <= 9
                assert typ in ("UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned")


# -- messages against the OCA schemas -----------------------------------------------------
SCHEMAS = os.path.join(os.path.dirname(__import__("ocpp").__file__), "v201", "schemas")


def validate(name, payload):
    with open(os.path.join(SCHEMAS, name + ".json")) as f:
        schema = json.load(f)
    jsonschema.validate(payload, schema)


def test_full_inventory_and_responses_validate():
    dm = make_dm(tables=standard.TABLES + (standard.HARDWARE, standard.MONITORING_CTRLR))
    st = FakeStation(dm=dm)
    v = Variables(st)
    v.start()
    h = Handlers(st, v)
    for base in ("FullInventory", "ConfigurationInventory", "SummaryInventory"):
        r = h.reply("GetBaseReport", {"requestId": 1, "reportBase": base})
        validate("GetBaseReportResponse", r.payload)
        h.then(r)
    msgs = st.sent("NotifyReport")
    assert len(msgs) > 10
    for m in msgs:
        validate("NotifyReportRequest", m)
    res = h("GetVariables", {"getVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}},
        {"component": {"name": "Nope"}, "variable": {"name": "X"}},
        {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}]})
    validate("GetVariablesResponse", res)
    res = h("SetVariables", {"setVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}, "attributeValue": "x"},
        {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "Identity"}, "attributeValue": "CS9"}]})
    validate("SetVariablesResponse", res)
    validate("GetReportResponse", h("GetReport", {"requestId": 3, "componentCriteria": ["Problem"]}))


def test_monitoring_messages_validate():
    dm = make_dm(tables=standard.TABLES + (standard.HARDWARE, standard.MONITORING_CTRLR))
    st = FakeStation(dm=dm)
    mon = Monitoring(st)
    mon.engine.start(periodic=False)
    h = Handlers(st, mon)
    res = h("SetVariableMonitoring", {"setMonitoringData": [
        {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"},
         "type": "UpperThreshold", "value": 10, "severity": 3},
        {"component": {"name": "Nope"}, "variable": {"name": "Power"}, "type": "Delta", "value": 1, "severity": 3}]})
    validate("SetVariableMonitoringResponse", res)
    validate("ClearVariableMonitoringResponse", h("ClearVariableMonitoring", {"id": [1, 99999]}))
    validate("SetMonitoringLevelResponse", h("SetMonitoringLevel", {"severity": 12}))
    validate("SetMonitoringBaseResponse", h("SetMonitoringBase", {"monitoringBase": "All"}))
    r = h.reply("GetMonitoringReport", {"requestId": 4})
    validate("GetMonitoringReportResponse", r.payload)
    h.then(r)
    for m in st.sent("NotifyMonitoringReport"):
        validate("NotifyMonitoringReportRequest", m)
    dm.set_internal("EVSE", "Power", "20", evse=1)
    dm.set_internal("Connector", "AvailabilityState", "Occupied", evse=1, connector=1)
    mon.engine.hardwired("ChargingStation", "AvailabilityState", "Faulted", tech_code="X1")
    st.drain()
    sent = st.sent("NotifyEvent")
    assert sent
    for m in sent:
        validate("NotifyEventRequest", m)
