# Issue 8, robustness: "handlers fail on valid payloads". Schema-valid CALLs, generated from the OCA
# JSON schemas (the generator of host_tests/unit/test_schema_differential.py: every optional field,
# integers also as integral floats such as 1E+00, every enum value, date-times in every accepted form),
# are sent to the real station process. Each gets its real answer: a CALLRESULT (schema-checked by the
# harness) or a CALLERROR the spec names for a semantic refusal -- never InternalError, which means a
# handler raised. Seeded: the same examples on every run.
import importlib.util
import os

from hypothesis import HealthCheck, Phase, given, seed, settings, strategies as st

CALLRESULT, CALLERROR = 3, 4
HERE = os.path.dirname(os.path.abspath(__file__))


def _generator():
    spec = importlib.util.spec_from_file_location(
        "schema_payloads", os.path.join(os.path.dirname(HERE), "unit", "test_schema_differential.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


GEN = _generator()

# Every CSMS->CS action whose handler keeps the station up and connected (Reset reboots it; the
# network and security ones could point it elsewhere).
ACTIONS = (
    "GetVariables", "SetVariables", "GetBaseReport", "GetReport", "SendLocalList", "GetLocalListVersion",
    "SetVariableMonitoring", "SetMonitoringLevel", "SetMonitoringBase", "ClearVariableMonitoring",
    "GetMonitoringReport", "ChangeAvailability", "ClearCache", "ReserveNow", "CancelReservation",
    "GetTransactionStatus", "TriggerMessage", "UnlockConnector", "RequestStartTransaction",
    "RequestStopTransaction", "DataTransfer", "ClearChargingProfile", "GetChargingProfiles",
    "GetCompositeSchedule", "SetChargingProfile", "GetLog", "CustomerInformation", "GetInstalledCertificateIds",
    "DeleteCertificate", "ClearDisplayMessage", "GetDisplayMessages", "CostUpdated",
)
# SetVariables may not touch what moves the link: the station would (rightly) reconnect mid-test.
_LINK = ("SecurityCtrlr", "OCPPCommCtrlr", "NetworkConfigurationPriority")


def _harmless(action, p):
    if action == "SetVariables":
        return not any(d["component"]["name"] in _LINK or d["variable"]["name"] in _LINK
                       for d in p["setVariableData"])
    return True


def test_schema_valid_requests_never_get_internal_error(make_csms, make_station, kit):
    csms = make_csms(heartbeat_interval=600)
    st_ = make_station(kit.station_config(csms.url, device_model=[kit.dm("AlignedDataCtrlr", "Interval", 0)]))
    kit.wait_booted(csms, st_)
    seen = {}

    for action in ACTIONS:
        strategy = GEN._payloads(action + "Request")

        @seed(8)
        @settings(max_examples=25, deadline=None, database=None, phases=(Phase.generate,),
                  suppress_health_check=list(HealthCheck))
        @given(p=strategy)
        def one(p):
            if not _harmless(action, p):
                return
            assert GEN.schema.validate(GEN._table(action + "Request"), GEN.copy.deepcopy(p)) is None
            reply = csms.call(action, p, timeout=8)
            seen[reply.kind] = seen.get(reply.kind, 0) + 1
            assert reply.kind in (CALLRESULT, CALLERROR), reply
            if reply.kind == CALLERROR:
                assert reply.error_code != "InternalError", (action, p, reply.error_description)

        one()
        assert st_.alive(), "station died on %s" % action
    assert seen.get(CALLRESULT, 0) > 200, seen
    kit.assert_responsive(csms, st_)
    assert "Traceback" not in st_.stderr_text(400000)
