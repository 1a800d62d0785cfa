# B05-B08 through the Variables block: GetVariables/SetVariables results and limits,
# GetBaseReport/GetReport answers and the NotifyReport stream (seqNo, tbc, chunking).
from support import raises, tmpdir
from fake_station import FakeStation, Handlers, make_dm, EVSES
from flexcharge.core.router import Reply
from flexcharge.core.blocks.b_provisioning.variables import Variables, REPORT_ITEMS
from flexcharge.core.devicemodel import standard
from flexcharge.comm.errors import CallError, CallTimeout


def block(**kw):
    st = FakeStation(**kw)
    b = Variables(st)
    b.start()
    return st, Handlers(st, b)


def gv(comp, var, attr=None, **kw):
    d = {"component": {"name": comp}, "variable": {"name": var}}
    if attr:
        d["attributeType"] = attr
    if "vi" in kw:
        d["variable"]["instance"] = kw["vi"]
    if "evse" in kw:
        d["component"]["evse"] = kw["evse"]
    return d


def sv(comp, var, value, attr=None, **kw):
    d = gv(comp, var, attr, **kw)
    d["attributeValue"] = value
    return d


# -- GetVariables (B06) ---------------------------------------------------------------------
def test_get_single_value_tc_b_06():
    st, b = block()
    st.dm.set_internal("OCPPCommCtrlr", "OfflineThreshold", "300")
    r = b("GetVariables", {"getVariableData": [gv("OCPPCommCtrlr", "OfflineThreshold", "Actual")]})
    assert r == {"getVariableResult": [{
        "attributeStatus": "Accepted", "attributeType": "Actual", "attributeValue": "300",
        "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}]}


def test_get_multiple_values_tc_b_07():
    st, b = block()
    r = b("GetVariables", {"getVariableData": [gv("OCPPCommCtrlr", "OfflineThreshold", "Actual"),
                                              gv("AuthCtrlr", "LocalAuthorizeOffline", "Actual")]})["getVariableResult"]
    assert [x["attributeValue"] for x in r] == ["300", "true"]
    assert [x["variable"]["name"] for x in r] == ["OfflineThreshold", "LocalAuthorizeOffline"]


def test_get_error_statuses_tc_b_32_33_34():
    st, b = block()
    r = b("GetVariables", {"getVariableData": [
        gv("UnknownComponent", "OfflineThreshold"),  # TC_B_32_CS
        gv("OCPPCommCtrlr", "UnknownVariable"),  # TC_B_33_CS
        gv("OCPPCommCtrlr", "OfflineThreshold", "Target"),  # TC_B_34_CS
        gv("SecurityCtrlr", "BasicAuthPassword"),  # B06.FR.09
        gv("EVSE", "AvailabilityState", evse={"id": 7}),
        gv("EVSE", "AvailabilityState", evse={"id": 2}),
        gv("OCPPCommCtrlr", "MessageTimeout", vi="Default"),
    ]})["getVariableResult"]
    assert [x["attributeStatus"] for x in r] == [
        "UnknownComponent", "UnknownVariable", "NotSupportedAttributeType", "Rejected",
        "UnknownComponent", "Accepted", "Accepted"]
    assert r[2]["attributeType"] == "Target"
    assert r[0]["component"] == {"name": "UnknownComponent"} and r[1]["variable"] == {"name": "UnknownVariable"}
    for x in r[:5]:
        assert "attributeValue" not in x
    assert r[3]["attributeStatusInfo"] == {"reasonCode": "WriteOnly"}
    assert r[5]["component"]["evse"] == {"id": 2} and r[6]["attributeValue"] == "30"


def test_get_variables_message_limits_b06_fr_16_17():
    st, b = block()
    n = st.dm.get_int("DeviceDataCtrlr", "ItemsPerMessage", var_instance="GetVariables")
    data = [gv("OCPPCommCtrlr", "OfflineThreshold")] * (n + 1)
    with raises(CallError) as e:
        b("GetVariables", {"getVariableData": data})
    assert e.value.code == "OccurrenceConstraintViolation"
    st.dm.set_internal("DeviceDataCtrlr", "BytesPerMessage", "100", var_instance="GetVariables")
    with raises(CallError) as e:
        b("GetVariables", {"getVariableData": [gv("OCPPCommCtrlr", "OfflineThreshold")] * 3})
    assert e.value.code == "FormatViolation"
    st.dm.set_internal("DeviceDataCtrlr", "BytesPerMessage", "200", var_instance="GetVariables")
    assert len(b("GetVariables", {"getVariableData": [gv("OCPPCommCtrlr", "OfflineThreshold")]})["getVariableResult"]) == 1


def test_get_clock_datetime_is_live():
    st, b = block()
    r = b("GetVariables", {"getVariableData": [gv("ClockCtrlr", "DateTime")]})["getVariableResult"][0]
    assert r["attributeValue"] == st.isonow()
    st.t += 60
    r = b("GetVariables", {"getVariableData": [gv("ClockCtrlr", "DateTime")]})["getVariableResult"][0]
    assert r["attributeValue"] == st.isonow()


# -- SetVariables (B05) ---------------------------------------------------------------------
def test_set_single_and_multiple_tc_b_09_10():
    st, b = block()
    r = b("SetVariables", {"setVariableData": [sv("OCPPCommCtrlr", "OfflineThreshold", "301", "Actual"),
                                             sv("AuthCtrlr", "LocalAuthorizeOffline", "false", "Actual")]})
    assert r == {"setVariableResult": [
        {"attributeStatus": "Accepted", "attributeType": "Actual",
         "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}},
        {"attributeStatus": "Accepted", "attributeType": "Actual",
         "component": {"name": "AuthCtrlr"}, "variable": {"name": "LocalAuthorizeOffline"}}]}
    assert st.dm.get_int("OCPPCommCtrlr", "OfflineThreshold") == 301
    assert st.dm.get_bool("AuthCtrlr", "LocalAuthorizeOffline") is False


def test_set_error_statuses_tc_b_35_36_37_39():
    st, b = block()
    r = b("SetVariables", {"setVariableData": [
        sv("UnknownComponent", "OfflineThreshold", "1"),  # TC_B_35_CS
        sv("OCPPCommCtrlr", "UnknownVariable", "1"),  # TC_B_36_CS
        sv("OCPPCommCtrlr", "OfflineThreshold", "1", "Target"),  # TC_B_37_CS
        sv("OCPPCommCtrlr", "MessageTimeout", "10", vi="Default"),  # TC_B_39_CS
        sv("SecurityCtrlr", "Identity", "CS-9"),
    ]})["setVariableResult"]
    assert [x["attributeStatus"] for x in r] == [
        "UnknownComponent", "UnknownVariable", "NotSupportedAttributeType", "Rejected", "RebootRequired"]
    assert r[3]["variable"] == {"name": "MessageTimeout", "instance": "Default"}
    assert r[2]["attributeType"] == "Target"


def test_set_invalidly_formatted_values_tc_b_11():
    st, b = block()
    now = st.isonow()
    cases = (
        ("OCPPCommCtrlr", "OfflineThreshold", ("300", "Accepted"), ("300.1", "Rejected"), ("true", "Rejected"),
         (now, "Rejected"), ("abc", "Rejected")),
        ("SmartChargingCtrlr", "LimitChangeSignificance", ("300", "Rejected"), ("30.1", "Accepted"),
         ("true", "Rejected"), (now, "Rejected"), ("abc", "Rejected")),
        ("AuthCtrlr", "AuthorizeRemoteStart", ("300", "Rejected"), ("300.1", "Rejected"), ("true", "Accepted"),
         (now, "Rejected"), ("abc", "Rejected")),
        ("ClockCtrlr", "NextTimeOffsetTransitionDateTime", ("300", "Rejected"), ("300.1", "Rejected"),
         ("true", "Rejected"), (now, "Accepted"), ("abc", "Rejected")),
    )
    for case in cases:
        comp, var = case[0], case[1]
        for value, want in case[2:]:
            r = b("SetVariables", {"setVariableData": [sv(comp, var, value)]})["setVariableResult"][0]
            assert r["attributeStatus"] == want, (comp, var, value, r)
            assert r["attributeType"] == "Actual"
            if want == "Rejected":
                assert r["attributeStatusInfo"]["reasonCode"] in ("InvalidValue", "ValueOutOfRange")


def test_set_variables_limits_and_side_effect_now():
    st, b = block()
    seen = []
    st.dm.watch("OCPPCommCtrlr", "HeartbeatInterval", lambda c, v, val, e, n: seen.append(val))
    b("SetVariables", {"setVariableData": [sv("OCPPCommCtrlr", "HeartbeatInterval", "45")]})
    assert seen == ["45"]  # the heartbeat block restarts its timer from this callback
    n = st.dm.get_int("DeviceDataCtrlr", "ItemsPerMessage", var_instance="SetVariables")
    with raises(CallError) as e:
        b("SetVariables", {"setVariableData": [sv("OCPPCommCtrlr", "HeartbeatInterval", "45")] * (n + 1)})
    assert e.value.code == "OccurrenceConstraintViolation"


def test_set_variables_persisted_before_the_response():
    d = tmpdir("var")
    st = FakeStation(dm=make_dm(d))
    b = Handlers(st, Variables(st))
    b("SetVariables", {"setVariableData": [sv("OCPPCommCtrlr", "OfflineThreshold", "123"),
                                         sv("TxCtrlr", "TxStopPoint", "Authorized")]})
    dm2 = make_dm(d)  # "power loss" right after the response
    assert dm2.get_int("OCPPCommCtrlr", "OfflineThreshold") == 123
    assert dm2.get("TxCtrlr", "TxStopPoint") == "Authorized"


# -- reports (B07, B08) -----------------------------------------------------------------------
def stream(b, st, result):
    assert isinstance(result, Reply)
    b.then(result)
    return st.sent("NotifyReport")


def check_stream(msgs, request_id):
    """seqNo 0..n-1, tbc on all but the last, the same requestId, bounded chunks."""
    assert msgs
    for i, m in enumerate(msgs):
        assert m["requestId"] == request_id
        assert m["seqNo"] == i
        assert m["tbc"] == (i < len(msgs) - 1)
        assert 1 <= len(m["reportData"]) <= REPORT_ITEMS
        assert m["generatedAt"].endswith("Z")
    return [rd for m in msgs for rd in m["reportData"]]


def expected_instances(dm):
    n = 0
    for blk, i, e, c in dm.components():
        n += len(blk[3])
    return n


def test_full_inventory_tc_b_13():
    st, b = block()
    r = b.reply("GetBaseReport", {"requestId": 7, "reportBase": "FullInventory"})
    assert r.payload == {"status": "Accepted"}
    assert st.sent("NotifyReport") == []  # nothing before the response went out
    rds = check_stream(stream(b, st, r), 7)
    assert len(rds) == expected_instances(st.dm)
    seen = set()
    for rd in rds:
        ch = rd["variableCharacteristics"]
        assert "dataType" in ch and "supportsMonitoring" in ch
        if ch["dataType"] in ("OptionList", "SequenceList", "MemberList"):
            assert ch["valuesList"]
        for va in rd["variableAttribute"]:
            assert ("value" in va) == (va["mutability"] != "WriteOnly")
        c = rd["component"]
        seen.add((c["name"], c.get("evse", {}).get("id"), c.get("evse", {}).get("connectorId"),
                  rd["variable"]["name"], rd["variable"].get("instance")))
    assert len(seen) == len(rds)  # no duplicates
    for want in (("Connector", 1, 2, "AvailabilityState", None), ("EVSE", 2, None, "Power", None),
                 ("OCPPCommCtrlr", None, None, "MessageTimeout", "Default"),
                 ("DeviceDataCtrlr", None, None, "ItemsPerMessage", "GetReport"),
                 ("SecurityCtrlr", None, None, "BasicAuthPassword", None)):
        assert want in seen, want
    power = [rd for rd in rds if rd["component"]["name"] == "EVSE" and rd["variable"]["name"] == "Power"]
    assert power[0]["variableCharacteristics"]["maxLimit"] == 32 * 230 * 3
    assert power[0]["variableCharacteristics"]["unit"] == "W"


def test_configuration_inventory_tc_b_12():
    st, b = block()
    rds = check_stream(stream(b, st, b.reply("GetBaseReport", {"requestId": 1, "reportBase": "ConfigurationInventory"})), 1)
    names = set()
    for rd in rds:
        assert rd["variableAttribute"][0]["mutability"] in ("ReadWrite", "WriteOnly")
        names.add(rd["variable"]["name"])
    for want in ("HeartbeatInterval", "OfflineThreshold", "TxStartPoint", "BasicAuthPassword"):
        assert want in names
    assert "MessageTimeout" not in names and "AvailabilityState" not in names


def test_summary_inventory_tc_b_14():
    st = FakeStation(dm=make_dm(tables=standard.TABLES + (standard.HARDWARE,)))
    b = Handlers(st, Variables(st))
    st.dm.set_internal("PowerContactor", "Problem", "true", evse=2)
    rds = check_stream(stream(b, st, b.reply("GetBaseReport", {"requestId": 2, "reportBase": "SummaryInventory"})), 2)
    got = [(rd["component"]["name"], rd["variable"]["name"]) for rd in rds]
    n_conn = sum(e["connectors"] for e in EVSES)
    assert got.count(("Connector", "AvailabilityState")) == n_conn
    assert got.count(("EVSE", "AvailabilityState")) == len(EVSES)
    assert ("ChargingStation", "AvailabilityState") in got
    assert got.count(("PowerContactor", "Problem")) == 1 and len(got) == 1 + len(EVSES) + n_conn + 1


def test_report_aborted_when_the_link_fails():
    st, b = block()
    st.responses["NotifyReport"] = CallTimeout()
    msgs = stream(b, st, b.reply("GetBaseReport", {"requestId": 3, "reportBase": "FullInventory"}))
    assert len(msgs) == 1 and st.log.count("W") == 1


def test_custom_report_criteria_enabled_tc_b_16():
    st, b = block()
    st.dm.set_internal("AuthCacheCtrlr", "Enabled", "false")
    rds = check_stream(stream(b, st, b.reply("GetReport", {"requestId": 4, "componentCriteria": ["Enabled"]})), 4)
    comps = set()
    for rd in rds:
        assert rd["variable"]["name"] == "Enabled" and rd["variableAttribute"][0]["value"] == "true"
        assert "variableCharacteristics" in rd
        comps.add(rd["component"]["name"])
    assert "OCPPCommCtrlr" not in comps and "AuthCacheCtrlr" not in comps
    assert "AuthCtrlr" in comps and "SampledDataCtrlr" in comps


def test_custom_report_component_variable_tc_b_17():
    st, b = block()
    r = b.reply("GetReport", {"requestId": 5, "componentVariable": [
        {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}}]})
    rds = check_stream(stream(b, st, r), 5)
    assert len(rds) == 1
    rd = rds[0]
    assert rd["component"] == {"name": "EVSE", "evse": {"id": 1}}
    assert rd["variableCharacteristics"]["dataType"] == "OptionList"
    assert rd["variableCharacteristics"]["valuesList"] == "Available,Occupied,Reserved,Unavailable,Faulted"
    assert rd["variableAttribute"] == [{"type": "Actual", "value": "Available", "mutability": "ReadOnly",
                                        "persistent": False, "constant": False}]


def test_custom_report_criteria_and_component_variable_tc_b_18():
    st, b = block()
    cv = [{"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}}]
    rds = check_stream(stream(b, st, b.reply("GetReport", {"requestId": 6, "componentCriteria": ["Available"],
                                                    "componentVariable": cv})), 6)
    assert len(rds) == 1
    r = b("GetReport", {"requestId": 7, "componentCriteria": ["Problem"], "componentVariable": cv})
    assert r == {"status": "EmptyResultSet", "statusInfo": {"reasonCode": "NotFound"}}
    st.dm.set_internal("EVSE", "Available", "false", evse=1)
    assert b("GetReport", {"requestId": 8, "componentCriteria": ["Available"], "componentVariable": cv})["status"] == \
        "EmptyResultSet"


def test_custom_report_selection_rules():
    st, b = block()
    # no evse: every EVSE; no variable: every variable of the component; variable without instance: all
    r = b.reply("GetReport", {"requestId": 9, "componentVariable": [
        {"component": {"name": "evse"}, "variable": {"name": "Power"}},
        {"component": {"name": "Connector", "evse": {"id": 1}}},
        {"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "ItemsPerMessage"}},
    ]})
    rds = check_stream(stream(b, st, r), 9)
    got = [(rd["component"]["name"], rd["component"].get("evse", {}).get("id"), rd["variable"]["name"]) for rd in rds]
    assert got.count(("EVSE", 1, "Power")) == 1 and got.count(("EVSE", 2, "Power")) == 1
    assert len([g for g in got if g[0] == "Connector"]) == 2 * len(standard.CONNECTOR[0][3])
    assert got.count(("DeviceDataCtrlr", None, "ItemsPerMessage")) == 3
    assert b("GetReport", {"requestId": 10, "componentVariable": [{"component": {"name": "Nope"}}]})["status"] == \
        "EmptyResultSet"
    # TC_B_19_CS: an unknown criterion is caught by the schema; the handler itself says NotSupported
    with raises(CallError):
        b("GetReport", {"requestId": 11, "componentCriteria": ["Sleepy"]})
    blk = b.router._handlers["GetReport"][0]
    assert Variables.get_report.fn(blk, {"requestId": 11, "componentCriteria": ["Sleepy"]})["status"] == "NotSupported"
    n = st.dm.get_int("DeviceDataCtrlr", "ItemsPerMessage", var_instance="GetReport")
    with raises(CallError) as e:
        b.reply("GetReport", {"requestId": 12, "componentVariable": [{"component": {"name": "EVSE"}}] * (n + 1)})
    assert e.value.code == "OccurrenceConstraintViolation"  # B08.FR.17


def test_unsupported_base_report_tc_b_15_wording():
    st, b = block()
    with raises(CallError):
        b("GetBaseReport", {"requestId": 1, "reportBase": "EverythingInventory"})  # schema enum
    blk = b.router._handlers["GetBaseReport"][0]
    r = Variables.get_base_report.fn(blk, {"requestId": 1, "reportBase": "EverythingInventory"})
    assert r == {"status": "NotSupported", "statusInfo": {"reasonCode": "UnsupportedParam"}}  # B07.FR.02


def test_reporting_value_size_truncates_report_values():
    st, b = block()
    st.dm.set_internal("DeviceDataCtrlr", "ReportingValueSize", "4")
    r = b.reply("GetReport", {"requestId": 2, "componentVariable": [
        {"component": {"name": "TxCtrlr"}, "variable": {"name": "TxStopPoint"}}]})
    rds = check_stream(stream(b, st, r), 2)
    assert rds[0]["variableAttribute"][0]["value"] == "EVCo"
