# N02-N08 through the Monitoring block and its engine: monitor configuration results, the
# monitoring report stream, and NotifyEvent when monitors trip (Part 6 TC_N_*, TC_B_02_CS).
from support import raises, tmpdir
from fake_station import FakeStation, Handlers, make_dm, EVSES
from flexcharge.core.router import Reply
from flexcharge.core.devicemodel import standard
from flexcharge.core.blocks.n_diagnostics.monitoring import Monitoring
from flexcharge.core.blocks.n_diagnostics import engine as eng
from flexcharge.comm.errors import CallError, NotConnected

ALL_TABLES = standard.TABLES + (standard.HARDWARE, standard.MONITORING_CTRLR)


def setup(path=None, online=True, registration="Accepted", start=True):
    dm = make_dm(path, tables=ALL_TABLES)
    st = FakeStation(dm=dm, online=online, registration=registration)
    mon = Monitoring(st)
    if start:
        mon.engine.start(periodic=False)
    return st, mon, Handlers(st, mon)


def md(comp, var, typ, value, severity, evse=None, mid=None, **kw):
    d = {"component": {"name": comp}, "variable": {"name": var}, "type": typ, "value": value, "severity": severity}
    if evse is not None:
        d["component"]["evse"] = evse
    if mid is not None:
        d["id"] = mid
    d.update(kw)
    return d


def setmon(h, *data):
    return h("SetVariableMonitoring", {"setMonitoringData": list(data)})["setMonitoringResult"]


def events(st):
    st.drain()
    return [ev for p in st.sent("NotifyEvent") for ev in p["eventData"]]


def report(h, st, **req):
    req.setdefault("requestId", 77)
    before = len(st.sent("NotifyMonitoringReport"))
    r = h.reply("GetMonitoringReport", req)
    if r.payload["status"] != "Accepted":
        return r.payload["status"], []
    assert isinstance(r, Reply)
    h.then(r)
    msgs = st.sent("NotifyMonitoringReport")[before:]
    for i, m in enumerate(msgs):
        assert m["requestId"] == req["requestId"] and m["seqNo"] == i and m["tbc"] == (i < len(msgs) - 1)
    out = []
    for m in msgs:
        for x in m["monitor"]:
            for vm in x["variableMonitoring"]:
                out.append((x["component"]["name"], x["component"].get("evse", {}).get("id"), x["variable"]["name"],
                            vm["type"], vm["severity"], vm["id"]))
    return "Accepted", out


def pre_id(mon, comp, var, evse=None, conn=None):
    dm = mon.station.dm
    f = dm.find(comp, None, evse, conn, var, None)
    k = eng.dm_key(f[2], evse, conn, 0)
    for m in mon.engine.monitors():
        if m[eng.KEY] == k and m[eng.KIND] != "C":
            return m[eng.ID]
    return None


# -- NotifyEvent from preconfigured monitors --------------------------------------------------
def test_boot_time_availability_is_reported_after_accepted_tc_b_02_step_17():
    st, mon, h = setup(registration=None, start=False)
    # G01 mirrors every connector at start, before the link is up: the first write counts.
    for e in EVSES:
        for c in range(1, e["connectors"] + 1):
            st.dm.set_internal("Connector", "AvailabilityState", "Available", evse=e["id"], connector=c)
    mon.engine.start(periodic=False)
    assert st.sent("NotifyEvent") == []  # held while not yet Accepted
    st.registration = "Pending"
    assert st.sent("NotifyEvent") == []
    st.registration = "Accepted"
    evs = events(st)
    assert len(evs) == sum(e["connectors"] for e in EVSES)
    ev = evs[0]
    assert ev["trigger"] == "Delta" and ev["actualValue"] == "Available"
    assert ev["component"] == {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}
    assert ev["variable"] == {"name": "AvailabilityState"}
    assert ev["eventNotificationType"] == "PreconfiguredMonitor"
    assert ev["variableMonitoringId"] == pre_id(mon, "Connector", "AvailabilityState", 1, 1)
    assert "cleared" not in ev and ev["timestamp"].endswith("Z")
    p = st.sent("NotifyEvent")[0]
    assert p["seqNo"] == 0 and p["tbc"] is False
    # unchanged: nothing more; a change: one more
    st.dm.set_internal("Connector", "AvailabilityState", "Available", evse=1, connector=1)
    assert len(events(st)) == len(evs)
    st.dm.set_internal("Connector", "AvailabilityState", "Occupied", evse=1, connector=1)
    assert events(st)[-1]["actualValue"] == "Occupied"


def test_report_all_monitors_tc_n_47():
    st, mon, h = setup()
    status, got = report(h, st)
    assert status == "Accepted"
    keys = [(g[0], g[1], g[2], g[3]) for g in got]
    assert ("ChargingStation", None, "AvailabilityState", "Delta") in keys
    for e in EVSES:
        assert ("EVSE", e["id"], "AvailabilityState", "Delta") in keys
    # ids are unique and the hard-wired contactor monitor is there too
    assert len(set(g[5] for g in got)) == len(got)
    assert ("PowerContactor", 1, "Problem", "Delta") in keys


def test_report_criteria_and_component_variables_tc_n_01_02_03():
    st, mon, h = setup()
    r = setmon(h,
               md("EVSE", "Power", "UpperThreshold", 5000, 4, evse={"id": 1}),
               md("EVSE", "Power", "LowerThreshold", 10, 4, evse={"id": 1}),
               md("EVSE", "Power", "Periodic", 60, 7, evse={"id": 2}),
               md("EVSE", "Power", "PeriodicClockAligned", 900, 7, evse={"id": 2}))
    assert [x["status"] for x in r] == ["Accepted"] * 4
    s, got = report(h, st, monitoringCriteria=["ThresholdMonitoring"])
    assert sorted(g[3] for g in got) == ["LowerThreshold", "UpperThreshold"]
    s, got = report(h, st, monitoringCriteria=["ThresholdMonitoring", "DeltaMonitoring"])
    assert set(g[3] for g in got) == {"LowerThreshold", "UpperThreshold", "Delta"}
    s, got = report(h, st, monitoringCriteria=["DeltaMonitoring", "PeriodicMonitoring"])
    assert set(g[3] for g in got) == {"Delta", "Periodic", "PeriodicClockAligned"}
    # TC_N_02_CS: AvailabilityState of the station, everything of EVSE 1
    s, got = report(h, st, componentVariable=[
        {"component": {"name": "ChargingStation"}, "variable": {"name": "AvailabilityState"}},
        {"component": {"name": "EVSE", "evse": {"id": 1}}}])
    assert set((g[0], g[1], g[2]) for g in got) == {("ChargingStation", None, "AvailabilityState"),
                                                      ("EVSE", 1, "AvailabilityState"), ("EVSE", 1, "Power")}
    # TC_N_03_CS: criteria AND component variables
    cvs = [{"component": {"name": "ChargingStation"}, "variable": {"name": "AvailabilityState"}},
           {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}}]
    assert h("GetMonitoringReport", {"requestId": 1, "monitoringCriteria": ["ThresholdMonitoring"],
                                     "componentVariable": cvs}) == {"status": "EmptyResultSet",
                                                                    "statusInfo": {"reasonCode": "NotFound"}}
    s, got = report(h, st, monitoringCriteria=["DeltaMonitoring"], componentVariable=cvs)
    assert sorted((g[0], g[3]) for g in got) == [("ChargingStation", "Delta"), ("EVSE", "Delta")]
    # TC_N_04_CS: an unknown criterion is caught by the schema; the handler itself says NotSupported
    with raises(CallError):
        h("GetMonitoringReport", {"requestId": 2, "monitoringCriteria": ["DeltaMonitoring", "Sometimes"]})
    r = Monitoring.get_monitoring_report.fn(mon, {"requestId": 2, "monitoringCriteria": ["DeltaMonitoring", "X"]})
    assert r["status"] == "NotSupported"
    # EVSE 1 draws 0 W: the LowerThreshold of 10 W was beyond from the start (N07.FR.11)
    assert [(e["trigger"], e["actualValue"]) for e in events(st)] == [("Alerting", "0")]


def test_report_is_chunked():
    st, mon, h = setup()
    for i in range(12):
        assert setmon(h, md("EVSE", "Power", "UpperThreshold", 100 + i, i % 10, evse={"id": 1 + i // 10}))[0][
            "status"] == "Accepted"
    s, got = report(h, st, monitoringCriteria=["ThresholdMonitoring"])
    assert len(got) == 12
    assert len(st.sent("NotifyMonitoringReport")) == 1  # 2 variables: one message
    s, got = report(h, st)
    msgs = st.sent("NotifyMonitoringReport")[1:]
    assert len(msgs) > 1 and all(len(m["monitor"]) <= 8 for m in msgs)


# -- SetMonitoringBase / SetMonitoringLevel ---------------------------------------------------
def test_monitoring_base_tc_n_05_06_41():
    st, mon, h = setup()
    for base in ("All", "FactoryDefault", "HardWiredOnly"):
        assert h("SetMonitoringBase", {"monitoringBase": base}) == {"status": "Accepted"}  # TC_N_05_CS
    assert st.dm.get("MonitoringCtrlr", "ActiveMonitoringBase") == "HardWiredOnly"
    cs = [{"component": {"name": "ChargingStation"}, "variable": {"name": "AvailabilityState"}}]
    assert h("GetMonitoringReport", {"requestId": 2, "componentVariable": cs})["status"] == "EmptyResultSet"
    s, got = report(h, st)
    assert set(g[0] for g in got) == {"PowerContactor"}  # only hard-wired ones remain
    assert h("SetMonitoringBase", {"monitoringBase": "All"})["status"] == "Accepted"
    s, got = report(h, st, componentVariable=cs)
    assert len(got) == 1
    # TC_N_06_CS: a custom monitor goes with HardWiredOnly
    setmon(h, md("ChargingStation", "AvailabilityState", "Delta", 1, 3))
    h("SetMonitoringBase", {"monitoringBase": "HardWiredOnly"})
    assert h("GetMonitoringReport", {"requestId": 3, "componentVariable": cs})["status"] == "EmptyResultSet"
    # TC_N_41_CS: overrule a preconfigured monitor, FactoryDefault brings the original back
    h("SetMonitoringBase", {"monitoringBase": "All"})
    pid = pre_id(mon, "EVSE", "AvailabilityState", 1)
    r = setmon(h, md("EVSE", "AvailabilityState", "Delta", 1, 9, evse={"id": 1}, mid=pid))[0]
    assert r["status"] == "Accepted" and r["id"] == pid
    ev1 = [{"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}}]
    s, got = report(h, st, componentVariable=ev1, monitoringCriteria=["DeltaMonitoring"])
    assert [(g[4], g[5]) for g in got] == [(9, pid)]
    h("SetMonitoringBase", {"monitoringBase": "All"})  # All keeps the custom one
    s, got = report(h, st, componentVariable=ev1)
    assert [(g[4], g[5]) for g in got] == [(9, pid)]
    h("SetMonitoringBase", {"monitoringBase": "FactoryDefault"})
    s, got = report(h, st, componentVariable=ev1)
    assert [(g[4], g[5]) for g in got] == [(8, pid)]
    # TC_N_07_CS: an unknown base is caught by the schema; the engine says NotSupported
    with raises(CallError):
        h("SetMonitoringBase", {"monitoringBase": "Everything"})
    assert mon.engine.set_base("Everything") == "NotSupported"


def test_monitoring_level_tc_n_16_17():
    st, mon, h = setup()
    assert h("SetMonitoringLevel", {"severity": 10})["status"] == "Rejected"  # TC_N_17_CS
    r = h("SetMonitoringLevel", {"severity": -1})
    assert r == {"status": "Rejected", "statusInfo": {"reasonCode": "ValueOutOfRange"}}
    assert h("SetMonitoringLevel", {"severity": 7}) == {"status": "Accepted"}  # TC_N_16_CS
    assert st.dm.get_int("MonitoringCtrlr", "ActiveMonitoringLevel") == 7
    st.dm.set_internal("EVSE", "AvailabilityState", "Occupied", evse=1)  # preconfigured, severity 8
    assert events(st) == []
    setmon(h, md("EVSE", "AvailabilityState", "Delta", 1, 7, evse={"id": 1}))
    st.dm.set_internal("EVSE", "AvailabilityState", "Available", evse=1)
    evs = events(st)
    assert len(evs) == 1 and evs[0]["eventNotificationType"] == "CustomMonitor"


# -- SetVariableMonitoring (N04) --------------------------------------------------------------
def test_set_monitors_tc_n_08_09_10_15():
    st, mon, h = setup()
    h("SetMonitoringBase", {"monitoringBase": "HardWiredOnly"})  # "no monitor active before the test"
    r = setmon(h, md("EVSE", "AvailabilityState", "Delta", 1, 8, evse={"id": 1}))[0]  # TC_N_08_CS
    assert r["status"] == "Accepted" and r["id"] >= eng.FIRST_CUSTOM_ID and r["type"] == "Delta"
    assert r["severity"] == 8 and r["component"] == {"name": "EVSE", "evse": {"id": 1}}
    r = setmon(h, md("EVSE", "AvailabilityState", "Delta", 1, 7, evse={"id": 2}),  # TC_N_09_CS
               md("ChargingStation", "AvailabilityState", "Delta", 1, 7))
    assert [x["status"] for x in r] == ["Accepted", "Accepted"] and r[0]["id"] != r[1]["id"]
    r = setmon(h, md("EVSE", "AvailabilityState", "Delta", 1, 7, evse={"id": 1}))  # TC_N_10_CS: other severity
    assert r[0]["status"] == "Accepted"
    r = setmon(h, md("EVSE", "AvailabilityState", "Delta", 1, 3, evse={"id": 1}),  # TC_N_15_CS
               md("EVSE", "AvailabilityState", "Delta", 1, 3, evse={"id": 1}))
    assert [x["status"] for x in r] == ["Accepted", "Duplicate"] and "id" not in r[1]
    s, got = report(h, st, componentVariable=[{"component": {"name": "EVSE", "evse": {"id": 1}},
                                               "variable": {"name": "AvailabilityState"}}])
    assert sorted(g[4] for g in got) == [3, 7, 8]


def test_set_monitor_rejections_tc_n_11_12_13_37_38_39_43():
    st, mon, h = setup()
    r = setmon(h,
               md("EVSE", "AvailabilityState", "Delta", 1, 5, evse={"id": 99}),  # TC_N_11_CS
               md("NonExistent", "Power", "UpperThreshold", 1234.0, 5),
               md("EVSE", "unknownVariable", "Delta", 1, 5, evse={"id": 1}),  # TC_N_37_CS
               md("EVSE", "AvailabilityState", "UpperThreshold", 1, 5, evse={"id": 1}),  # TC_N_38_CS
               md("EVSE", "AvailabilityState", "Delta", -1, 5, evse={"id": 1}),  # TC_N_12_CS
               md("EVSE", "Power", "UpperThreshold", 100000.0, 5, evse={"id": 1}),  # TC_N_13_CS (maxLimit 22080)
               md("ChargingStation", "SupplyPhases", "UpperThreshold", 2, 5),  # TC_N_39_CS: not monitorable
               md("EVSE", "Power", "Periodic", 0, 5, evse={"id": 1}))
    assert [x["status"] for x in r] == ["UnknownComponent", "UnknownComponent", "UnknownVariable",
                                        "UnsupportedMonitorType", "Rejected", "Rejected", "Rejected", "Rejected"]
    for x in r:
        assert "id" not in x
    assert r[4]["statusInfo"]["reasonCode"] in ("ValueOutOfRange", "ValuePositiveOnly")
    assert r[5]["statusInfo"]["reasonCode"] == "ValueOutOfRange"
    # TC_N_43_CS: the bad element in the middle does not spoil the others
    r = setmon(h, md("EVSE", "Power", "UpperThreshold", 20000, 5, evse={"id": 1}),
               md("EVSE", "Power", "Delta", -1.0, 5, evse={"id": 1}),
               md("EVSE", "Power", "LowerThreshold", 10, 5, evse={"id": 1}))
    assert [x["status"] for x in r] == ["Accepted", "Rejected", "Accepted"]
    assert [e["variableMonitoringId"] for e in events(st)] == [r[2]["id"]]  # 0 W < 10 W already
    # N04.FR.09: ItemsPerMessageSetVariableMonitoring
    n = st.dm.get_int("MonitoringCtrlr", "ItemsPerMessage", var_instance="SetVariableMonitoring")
    with raises(CallError) as e:
        setmon(h, *([md("EVSE", "Power", "Delta", 5, 5, evse={"id": 1})] * (n + 1)))
    assert e.value.code == "OccurrenceConstraintViolation"


def test_replace_monitor_by_id_tc_n_40_and_rules():
    st, mon, h = setup()
    mid = setmon(h, md("EVSE", "AvailabilityState", "Delta", 1, 5, evse={"id": 1}))[0]["id"]
    r = setmon(h, md("EVSE", "AvailabilityState", "Delta", 1, 4, evse={"id": 1}, mid=mid))[0]  # TC_N_40_CS
    assert r["status"] == "Accepted" and r["id"] == mid
    s, got = report(h, st, monitoringCriteria=["DeltaMonitoring"], componentVariable=[
        {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}}])
    assert sorted((g[4], g[5]) for g in got) == [(4, mid), (8, pre_id(mon, "EVSE", "AvailabilityState", 1))]
    r = setmon(h, md("EVSE", "AvailabilityState", "Delta", 1, 4, evse={"id": 2}, mid=mid))[0]
    assert r["status"] == "Rejected"  # N04.FR.16: another variable
    assert setmon(h, md("EVSE", "AvailabilityState", "Delta", 1, 4, evse={"id": 1}, mid=424242))[0]["status"] == \
        "Rejected"  # N04.FR.13
    hw = pre_id(mon, "PowerContactor", "Problem", 1)
    assert setmon(h, md("PowerContactor", "Problem", "Delta", 1, 4, evse={"id": 1}, mid=hw))[0]["status"] == \
        "Rejected"  # N04.FR.18


def test_clear_monitoring_tc_n_18_19_44():
    st, mon, h = setup()
    a = setmon(h, md("ChargingStation", "AvailabilityState", "Delta", 1, 2))[0]["id"]
    b = setmon(h, md("EVSE", "AvailabilityState", "Delta", 1, 2, evse={"id": 1}))[0]["id"]
    r = h("ClearVariableMonitoring", {"id": [a, b]})["clearMonitoringResult"]  # TC_N_18_CS
    assert r == [{"status": "Accepted", "id": a}, {"status": "Accepted", "id": b}]
    r = h("ClearVariableMonitoring", {"id": [123456]})["clearMonitoringResult"]  # TC_N_19_CS
    assert r == [{"status": "NotFound", "id": 123456, "statusInfo": {"reasonCode": "NotFound"}}]
    hw = pre_id(mon, "PowerContactor", "Problem", 2)
    assert h("ClearVariableMonitoring", {"id": [hw]})["clearMonitoringResult"][0]["status"] == "Rejected"  # TC_N_44
    # a preconfigured monitor can be cleared; SetMonitoringBase(All) brings it back
    pid = pre_id(mon, "ChargingStation", "AvailabilityState")
    assert h("ClearVariableMonitoring", {"id": [pid]})["clearMonitoringResult"][0]["status"] == "Accepted"
    cs = [{"component": {"name": "ChargingStation"}, "variable": {"name": "AvailabilityState"}}]
    assert h("GetMonitoringReport", {"requestId": 1, "componentVariable": cs})["status"] == "EmptyResultSet"
    h("SetMonitoringBase", {"monitoringBase": "All"})
    assert report(h, st, componentVariable=cs)[1][0][5] == pid
    n = st.dm.get_int("MonitoringCtrlr", "ItemsPerMessage", var_instance="ClearVariableMonitoring")
    with raises(CallError) as e:
        h("ClearVariableMonitoring", {"id": list(range(n + 1))})
    assert e.value.code == "OccurrenceConstraintViolation"  # N06.FR.06


# -- alert events (N07) ---------------------------------------------------------------------------
def test_threshold_events_tc_n_20():
    st, mon, h = setup()
    mon.engine.tx_lookup = lambda evse: "tx-%s" % evse if evse == 1 else None
    up = setmon(h, md("EVSE", "Power", "UpperThreshold", 7000, 4, evse={"id": 1}))[0]["id"]
    st.dm.set_internal("EVSE", "Power", "7000", evse=1)  # at the threshold: not beyond (N07.FR.16)
    assert events(st) == []
    st.dm.set_internal("EVSE", "Power", "7400.5", evse=1)
    evs = events(st)
    assert len(evs) == 1
    ev = evs[0]
    assert ev["trigger"] == "Alerting" and ev["actualValue"] == "7400.5" and "cleared" not in ev
    assert ev["variableMonitoringId"] == up and ev["eventNotificationType"] == "CustomMonitor"
    assert ev["component"] == {"name": "EVSE", "evse": {"id": 1}} and ev["transactionId"] == "tx-1"
    st.dm.set_internal("EVSE", "Power", "7300", evse=1)  # still above: nothing new
    assert len(events(st)) == 1
    low = setmon(h, md("EVSE", "Power", "LowerThreshold", 100, 4, evse={"id": 1}))[0]["id"]
    st.dm.set_internal("EVSE", "Power", "50", evse=1)
    evs = events(st)[1:]
    assert [(e["variableMonitoringId"], e.get("cleared", False)) for e in evs] == [(up, True), (low, False)]
    assert evs[0]["actualValue"] == "50"


def test_replaced_threshold_is_reevaluated_tc_n_51_and_removed_one_is_silent_tc_n_52():
    st, mon, h = setup()
    st.dm.set_internal("EVSE", "Power", "3000", evse=2)
    mid = setmon(h, md("EVSE", "Power", "UpperThreshold", 2000, 4, evse={"id": 2}))[0]["id"]
    assert events(st)[0]["variableMonitoringId"] == mid  # already beyond when set (N07.FR.11)
    r = setmon(h, md("EVSE", "Power", "UpperThreshold", 3679, 4, evse={"id": 2}, mid=mid))[0]  # max 3680
    assert r["status"] == "Accepted"
    evs = events(st)
    assert len(evs) == 2 and evs[1]["cleared"] is True  # the new threshold clears it
    setmon(h, md("EVSE", "Power", "UpperThreshold", 0, 4, evse={"id": 2}, mid=mid))
    assert len(events(st)) == 3  # and this one is exceeded again (TC_N_51_CS)
    h("ClearVariableMonitoring", {"id": [mid]})
    st.dm.set_internal("EVSE", "Power", "0", evse=2)
    assert len(events(st)) == 3  # N07.FR.12: no "cleared" for a removed monitor (TC_N_52_CS)


def test_numeric_delta_tc_n_45_61():
    st, mon, h = setup()
    dm = st.dm
    t = dm.get_int("OCPPCommCtrlr", "OfflineThreshold")
    mid = setmon(h, md("OCPPCommCtrlr", "OfflineThreshold", "Delta", 2, 5))[0]["id"]
    setvars = lambda v: dm.set_variable({"component": {"name": "OCPPCommCtrlr"},
                                         "variable": {"name": "OfflineThreshold"}, "attributeValue": str(v)})
    assert setvars(t + 1)[0] == "Accepted"
    assert events(st) == []  # |+1| < 2
    setvars(t + 2)
    assert events(st) == []  # |+2| is not more than 2 (N07.FR.18: "more than", issue 8)
    setvars(t + 3)
    evs = events(st)
    assert len(evs) == 1 and evs[0]["actualValue"] == str(t + 3) and evs[0]["trigger"] == "Delta"
    assert evs[0]["variableMonitoringId"] == mid
    setvars(t + 5)
    assert len(events(st)) == 1  # measured from the last reported value


def test_write_only_variable_event_has_empty_value_tc_n_48():
    st, mon, h = setup()
    assert setmon(h, md("SecurityCtrlr", "BasicAuthPassword", "Delta", 1, 5))[0]["status"] == "Accepted"
    assert st.dm.set_variable({"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
                               "attributeValue": "0123456789abcdef0123"})[0] == "Accepted"
    evs = events(st)
    assert len(evs) == 1 and evs[0]["actualValue"] == ""


def test_offline_queuing_severity_tc_n_22_23():
    st, mon, h = setup()
    assert st.dm.set_variable({"component": {"name": "MonitoringCtrlr"}, "variable": {"name": "OfflineQueuingSeverity"},
                               "attributeValue": "5"}) == ("Accepted", None)
    h("SetMonitoringBase", {"monitoringBase": "HardWiredOnly"})
    setmon(h, md("EVSE", "AvailabilityState", "Delta", 1, 5, evse={"id": 1}),
           md("EVSE", "AvailabilityState", "Delta", 1, 6, evse={"id": 2}))
    st.online = False
    st.dm.set_internal("EVSE", "AvailabilityState", "Occupied", evse=1)  # severity 5: queued
    st.dm.set_internal("EVSE", "AvailabilityState", "Occupied", evse=2)  # severity 6: dropped
    assert len(mon.engine._queue) == 1
    st.online = True
    evs = events(st)
    assert [(e["component"]["evse"]["id"], e["actualValue"]) for e in evs] == [(1, "Occupied")]


def test_events_survive_a_failed_send_and_queue_is_bounded():
    st, mon, h = setup()
    calls = []

    def flaky(p):
        calls.append(p)
        if len(calls) == 1:
            st.online = False  # the link drops while sending
            return NotConnected("gone")
        return {}

    st.responses["NotifyEvent"] = flaky
    st.dm.set_internal("EVSE", "AvailabilityState", "Faulted", evse=1)
    assert len(mon.engine._queue) == 1
    st.online = True
    st.responses["NotifyEvent"] = {}
    evs = events(st)
    assert len(evs) == 1 and evs[0]["actualValue"] == "Faulted" and mon.engine._queue == []
    st.online = False
    for i in range(eng.MAX_QUEUE + 5):
        st.dm.set_internal("EVSE", "AvailabilityState", "Faulted" if i % 2 else "Available", evse=2)
    st.dm.set_internal("MonitoringCtrlr", "OfflineQueuingSeverity", "9")
    for i in range(eng.MAX_QUEUE + 5):
        st.dm.set_internal("EVSE", "AvailabilityState", "Faulted" if i % 2 else "Available", evse=2)
    assert len(mon.engine._queue) == eng.MAX_QUEUE
    st.online = True
    st.responses["NotifyEvent"] = CallError("GenericError", "no")
    events(st)
    assert mon.engine._queue == []  # refused by the CSMS: dropped, not retried forever


def test_periodic_monitors_tc_n_24():
    st, mon, h = setup()
    e = mon.engine
    t0 = 1795000000
    st.t = t0
    r = setmon(h, md("EVSE", "AvailabilityState", "Periodic", 2, 5, evse={"id": 1}),
               md("EVSE", "AvailabilityState", "PeriodicClockAligned", 900, 5, evse={"id": 2}))
    assert [x["status"] for x in r] == ["Accepted", "Accepted"]
    ms = t0 * 1000  # tick() takes integer Unix ms
    nxt = e.tick(ms)
    assert nxt == ms + 2000
    assert events(st) == []
    nxt = e.tick(ms + 2000)
    evs = events(st)
    assert len(evs) == 1 and evs[0]["trigger"] == "Periodic" and evs[0]["component"]["evse"]["id"] == 1
    assert evs[0]["actualValue"] == "Available"
    aligned = (t0 // 900 + 1) * 900000
    assert nxt == min(ms + 4000, aligned)
    e.tick(aligned)
    evs = events(st)
    assert [x["component"]["evse"]["id"] for x in evs[1:]] == [1, 2]
    assert e.tick(aligned + 1000) == aligned + 2000  # the aligned one is due at aligned + 900 s


def test_transaction_monitors_need_a_transaction():
    st, mon, h = setup()
    setmon(h, md("EVSE", "Power", "UpperThreshold", 10, 5, evse={"id": 1}, transaction=True))
    st.dm.set_internal("EVSE", "Power", "20", evse=1)
    assert events(st) == []  # no transaction known
    mon.engine.tx_lookup = lambda evse: "T1"
    st.dm.set_internal("EVSE", "Power", "5", evse=1)
    st.dm.set_internal("EVSE", "Power", "21", evse=1)
    evs = events(st)
    assert len(evs) == 1 and evs[0]["transactionId"] == "T1"


def test_monitoring_disabled_sends_nothing():
    st, mon, h = setup()
    st.dm.set_variable({"component": {"name": "MonitoringCtrlr"}, "variable": {"name": "Enabled"},
                        "attributeValue": "false"})
    st.dm.set_internal("EVSE", "AvailabilityState", "Occupied", evse=1)
    assert events(st) == []


def test_hardwired_monitor_and_notification_tc_n_21():
    st, mon, h = setup()
    st.dm.set_internal("PowerContactor", "Problem", "true", evse=2)
    evs = events(st)
    assert len(evs) == 1 and evs[0]["eventNotificationType"] == "HardWiredMonitor"
    assert mon.engine.hardwired("ChargingStation", "AvailabilityState", "Faulted", severity=1,
                                tech_code="E42", tech_info="tamper")
    ev = events(st)[-1]
    assert ev["eventNotificationType"] == "HardWiredNotification" and ev["techCode"] == "E42"
    assert "variableMonitoringId" not in ev


def test_monitors_persist_over_reboot_tc_n_53():
    d = tmpdir("mon")
    st, mon, h = setup(d)
    a = setmon(h, md("EVSE", "Power", "UpperThreshold", 999, 4, evse={"id": 2}))[0]["id"]
    pid = pre_id(mon, "Connector", "AvailabilityState", 1, 2)
    h("ClearVariableMonitoring", {"id": [pid]})
    st2, mon2, h2 = setup(d)  # reboot
    s, got = report(h2, st2, monitoringCriteria=["ThresholdMonitoring"])
    assert [(g[0], g[1], g[3], g[5]) for g in got] == [("EVSE", 2, "UpperThreshold", a)]
    assert mon2.engine.by_id(pid) is None  # the cleared preconfigured one stays cleared
    b = setmon(h2, md("EVSE", "Power", "LowerThreshold", 9, 4, evse={"id": 2}))[0]["id"]
    assert b > a  # ids are not reused after reboot
    assert [e["variableMonitoringId"] for e in events(st2)] == [b]


def test_start_spawns_periodic_loop_and_flushes():
    st, mon, h = setup(start=False)
    st.dm.set_internal("EVSE", "AvailabilityState", "Occupied", evse=1)
    mon.start()
    assert len(st.pending) == 2  # periodic loop + sender
    st.pending[0].close()  # the loop never ends by itself
    del st.pending[0]
    assert len(events(st)) == 1


def test_periodic_loop_runs_in_real_time():
    import asyncio
    from support import run
    from flexcharge.compat import unix_time

    st, mon, h = setup(start=False)
    st.now = unix_time
    tasks = []

    def spawn(coro):
        tasks.append(asyncio.create_task(coro))
        return tasks[-1]

    st.spawn = spawn

    async def main():
        mon.start()  # the periodic loop and the sender run as real tasks here
        d = md("EVSE", "AvailabilityState", "Periodic", 0.1, 5, evse={"id": 1})
        assert mon.engine.set_monitor(d)[0] == "Accepted"  # wakes the sleeping loop
        await asyncio.sleep(0.45)
        for t in tasks:
            t.cancel()
        await asyncio.sleep(0)

    run(main())
    evs = [ev for p in st.sent("NotifyEvent") for ev in p["eventData"]]
    assert 2 <= len(evs) <= 6, len(evs)
    assert all(ev["trigger"] == "Periodic" and ev["component"]["evse"]["id"] == 1 for ev in evs)
