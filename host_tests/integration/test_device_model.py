# Issue 3, device model and monitoring end to end: the real station process against the CSMS on the
# `ocpp` package. The CSMS reads and writes variables (B05/B06), pulls base and custom reports (B07/B08:
# every NotifyReport is schema-checked by the `make_csms` teardown, seqNo/tbc checked here), sets
# monitors and receives NotifyEvent (N02-N07). Test case ids are Part 6 (TC_x_nn_CS).
import datetime
import time

CALLRESULT, CALLERROR = 3, 4  # OCPP-J MessageTypeId
HEARTBEAT = 60  # the interval in BootNotificationResponse: long, so no Heartbeat interferes unless a test asks
LIST_TYPES = ("OptionList", "SequenceList", "MemberList")
AVAILABILITY_OPTIONS = {"Available", "Occupied", "Reserved", "Unavailable", "Faulted"}
FACTORY = [("OCPPCommCtrlr", "OfflineThreshold", "321")]  # a factory value (launcher `device_model`)

# Part 2 appendix (dm_components_vars.csv, "Required? yes") for the components this firmware has:
# a FullInventory must report each one whose component it reports (TC_B_13_CS, TC_B_53_CS).
REQUIRED = (
    ("AlignedDataCtrlr", "Interval", None), ("AlignedDataCtrlr", "Measurands", None),
    ("AlignedDataCtrlr", "TxEndedInterval", None), ("AlignedDataCtrlr", "TxEndedMeasurands", None),
    ("AuthCtrlr", "AuthorizeRemoteStart", None), ("AuthCtrlr", "LocalAuthorizeOffline", None),
    ("AuthCtrlr", "LocalPreAuthorize", None),
    ("ChargingStation", "AvailabilityState", None), ("ChargingStation", "Available", None),
    ("ChargingStation", "SupplyPhases", None),
    ("ClockCtrlr", "DateTime", None), ("ClockCtrlr", "TimeSource", None),
    ("Connector", "Available", None), ("Connector", "ConnectorType", None), ("Connector", "SupplyPhases", None),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetReport"), ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables"),
    ("DeviceDataCtrlr", "BytesPerMessage", "SetVariables"), ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"), ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables"),
    ("EVSE", "AvailabilityState", None), ("EVSE", "Available", None), ("EVSE", "Power", None),
    ("EVSE", "SupplyPhases", None),
    ("LocalAuthListCtrlr", "BytesPerMessage", None), ("LocalAuthListCtrlr", "Entries", None),
    ("LocalAuthListCtrlr", "ItemsPerMessage", None),
    ("MonitoringCtrlr", "BytesPerMessage", "SetVariableMonitoring"),
    ("MonitoringCtrlr", "ItemsPerMessage", "SetVariableMonitoring"),
    ("OCPPCommCtrlr", "FileTransferProtocols", None), ("OCPPCommCtrlr", "MessageTimeout", "Default"),
    ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
    ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
    ("OCPPCommCtrlr", "NetworkConfigurationPriority", None), ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", None),
    ("OCPPCommCtrlr", "OfflineThreshold", None), ("OCPPCommCtrlr", "ResetRetries", None),
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", None),
    ("SampledDataCtrlr", "TxEndedInterval", None), ("SampledDataCtrlr", "TxEndedMeasurands", None),
    ("SampledDataCtrlr", "TxStartedMeasurands", None), ("SampledDataCtrlr", "TxUpdatedInterval", None),
    ("SampledDataCtrlr", "TxUpdatedMeasurands", None),
    ("SecurityCtrlr", "CertificateEntries", None), ("SecurityCtrlr", "OrganizationName", None),
    ("SecurityCtrlr", "SecurityProfile", None),
    ("SmartChargingCtrlr", "Entries", "ChargingProfiles"), ("SmartChargingCtrlr", "LimitChangeSignificance", None),
    ("SmartChargingCtrlr", "PeriodsPerSchedule", None), ("SmartChargingCtrlr", "ProfileStackLevel", None),
    ("SmartChargingCtrlr", "RateUnit", None),
    ("TxCtrlr", "EVConnectionTimeOut", None), ("TxCtrlr", "StopTxOnEVSideDisconnect", None),
    ("TxCtrlr", "StopTxOnInvalidId", None), ("TxCtrlr", "TxStartPoint", None), ("TxCtrlr", "TxStopPoint", None),
)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def comp(name, evse=None, connector=None, instance=None):
    c = {"name": name}
    if instance is not None:
        c["instance"] = instance
    if evse is not None:
        c["evse"] = {"id": evse}
        if connector is not None:
            c["evse"]["connectorId"] = connector
    return c


def var(name, instance=None):
    v = {"name": name}
    if instance is not None:
        v["instance"] = instance
    return v


def gv(component, variable, attr=None):
    """GetVariableData; component/variable are names or dicts."""
    d = {"component": comp(component) if isinstance(component, str) else component,
         "variable": var(variable) if isinstance(variable, str) else variable}
    if attr is not None:
        d["attributeType"] = attr
    return d


def sv(component, variable, value, attr=None):
    d = gv(component, variable, attr)
    d["attributeValue"] = value
    return d


def ok(csms, action, payload, timeout=5):
    reply = csms.call(action, payload, timeout=timeout)
    assert reply.kind == CALLRESULT, "%s answered with %r" % (action, reply)
    return reply


def get_vars(csms, *items):
    res = ok(csms, "GetVariables", {"getVariableData": list(items)}).payload["getVariableResult"]
    assert len(res) == len(items), res  # B06.FR.01: one result per element
    return res


def set_vars(csms, *items):
    res = ok(csms, "SetVariables", {"setVariableData": list(items)}).payload["setVariableResult"]
    assert len(res) == len(items), res  # B05.FR.01
    return res


def value_of(csms, component, variable):
    r = get_vars(csms, gv(component, variable))[0]
    assert r["attributeStatus"] == "Accepted", r
    return r["attributeValue"]


def reason(result, key="attributeStatusInfo"):
    return (result.get(key) or {}).get("reasonCode")


def boot(make_csms, make_station, kit, factory=FACTORY, heartbeat=HEARTBEAT):
    csms = make_csms(heartbeat_interval=heartbeat)
    cfg = kit.station_config(csms.url, device_model=[kit.dm(c, v, x) for c, v, x in factory])
    st = make_station(cfg)
    kit.wait_booted(csms, st)
    return csms, st, cfg


def report_frames(csms, action, request_id, since=0, timeout=10):
    """The station's `action` CALLs (NotifyReport / NotifyMonitoringReport) for request_id after `since`,
    once the last one (tbc false) arrived. Checks seqNo 0, 1, 2 ... and tbc true on all but the last
    (B07.FR.10, B08.FR.12, N02.FR.09) and that the CSMS answered each."""
    def finished():
        fr = [f for f in csms.calls(action, since=since) if f.payload.get("requestId") == request_id]
        return fr if fr and not fr[-1].payload.get("tbc", False) else None
    frames = csms.wait_for(finished, timeout, "%s for requestId %s up to tbc=false" % (action, request_id))
    assert [f.payload["seqNo"] for f in frames] == list(range(len(frames))), [f.payload["seqNo"] for f in frames]
    assert [f.payload.get("tbc", False) for f in frames] == [True] * (len(frames) - 1) + [False]
    for f in frames:
        assert f.payload["requestId"] == request_id
        parse_time(f.payload["generatedAt"])
    csms.wait_for(lambda: all(csms.answer_to(f) for f in frames), 5, "CSMS answers to the %s frames" % action)
    return frames


def request_report(csms, action, payload, notify, timeout=10):
    """Send GetBaseReport/GetReport/GetMonitoringReport; when Accepted, return (response, frames)."""
    since = csms.mark()
    reply = ok(csms, action, payload)
    if reply.payload["status"] != "Accepted":
        return reply.payload, []
    frames = report_frames(csms, notify, payload["requestId"], since, timeout)
    assert frames[0].index > reply.index  # B07.FR.01/N02.FR.01: the response first, then the report
    return reply.payload, frames


def rd_key(rd):
    c, v = rd["component"], rd["variable"]
    e = c.get("evse") or {}
    return (c["name"], c.get("instance"), e.get("id"), e.get("connectorId"), v["name"], v.get("instance"))


def report_data(frames):
    return [rd for f in frames for rd in f.payload["reportData"]]


def actual(rd):
    for a in rd["variableAttribute"]:
        if a.get("type", "Actual") == "Actual":
            return a
    raise AssertionError("no Actual attribute in %r" % (rd,))


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def events(csms, since=0):
    """[(NotifyEvent frame, eventData)] sent by the station after `since`."""
    out = []
    for f in csms.calls("NotifyEvent", since=since):
        assert f.payload["seqNo"] == 0 and not f.payload.get("tbc", False), f  # N07.FR.07: whole reports
        for e in f.payload["eventData"]:
            out.append((f, e))
    return out


def ev_where(e, name, variable, evse=None, connector=None):
    c = e["component"]
    ce = c.get("evse") or {}
    return (c["name"] == name and e["variable"]["name"] == variable
            and ce.get("id") == evse and ce.get("connectorId") == connector)


def wait_event(csms, pred, since, what, timeout=8):
    def find():
        for f, e in events(csms, since):
            if pred(e):
                return (f, e)
        return None
    return csms.wait_for(find, timeout, "NotifyEvent with %s" % what)


def wait_status(csms, since, evse, connector, status, timeout=8):
    return csms.wait_for(lambda: [f for f in csms.calls("StatusNotification", since=since)
                                  if (f.payload["evseId"], f.payload["connectorId"]) == (evse, connector)
                                  and f.payload["connectorStatus"] == status],
                         timeout, "StatusNotification %s for %d/%d" % (status, evse, connector))[0]


def wait_boot_events(csms, kit):
    """TC_B_20_CS step 5 / TC_B_02_CS: after boot, a Delta NotifyEvent reports each connector's
    AvailabilityState. Returns those events."""
    found = {}

    def all_there():
        for _, e in events(csms):
            if e["component"]["name"] == "Connector" and e["variable"]["name"] == "AvailabilityState":
                found[(e["component"]["evse"]["id"], e["component"]["evse"]["connectorId"])] = e
        return set(found) >= kit.CONNECTORS
    csms.wait_for(all_there, 10, "boot NotifyEvents for every connector's AvailabilityState")
    for e in found.values():
        assert e["trigger"] == "Delta" and e["actualValue"] == "Available", e
        assert e["eventNotificationType"] in ("PreconfiguredMonitor", "HardWiredMonitor"), e
        assert isinstance(e.get("variableMonitoringId"), int), e
    return found


def set_monitors(csms, *data):
    res = ok(csms, "SetVariableMonitoring", {"setMonitoringData": list(data)}).payload["setMonitoringResult"]
    assert len(res) == len(data), res  # N04.FR.01
    for d, r in zip(data, res):  # N04.FR.02: same type, severity, component, variable
        assert (r["type"], r["severity"], r["component"], r["variable"]) == (
            d["type"], d["severity"], d["component"], d["variable"]), (d, r)
        if r["status"] == "Accepted":
            assert isinstance(r.get("id"), int), r  # N04.FR.11
            if d.get("id") is not None:
                assert r["id"] == d["id"], r
        else:
            assert "id" not in r or d.get("id") is not None, r
    return res


def mon(component, variable, type_, value, severity, **kw):
    d = {"component": comp(component) if isinstance(component, str) else component,
         "variable": var(variable) if isinstance(variable, str) else variable,
         "type": type_, "value": value, "severity": severity}
    d.update(kw)
    return d


def monitors(frames):
    """{monitor id: (component/variable key, type, value, severity)} from NotifyMonitoringReport frames."""
    out = {}
    for f in frames:
        for m in f.payload["monitor"]:
            for vm in m["variableMonitoring"]:
                assert vm["id"] not in out, "monitor %s reported twice" % vm["id"]
                out[vm["id"]] = (rd_key(m), vm["type"], vm["value"], vm["severity"])
    return out


def monitoring_report(csms, request_id, criteria=None, cvs=None):
    p = {"requestId": request_id}
    if criteria is not None:
        p["monitoringCriteria"] = criteria
    if cvs is not None:
        p["componentVariable"] = cvs
    resp, frames = request_report(csms, "GetMonitoringReport", p, "NotifyMonitoringReport")
    return resp, monitors(frames)


def cvt(component, variable=None):
    """A ComponentVariableType (GetReport, GetMonitoringReport); component is a name or a dict."""
    d = {"component": comp(component) if isinstance(component, str) else component}
    if variable is not None:
        d["variable"] = var(variable) if isinstance(variable, str) else variable
    return d


def key(name, variable, evse=None, connector=None, instance=None, var_instance=None):
    return (name, instance, evse, connector, variable, var_instance)


def avail_key(name, evse=None, connector=None):
    return key(name, "AvailabilityState", evse, connector)


# ---------------------------------------------------------------------------------------------
# B06 Get Variables
# ---------------------------------------------------------------------------------------------

def test_get_variables(make_csms, make_station, kit):
    csms, st, _ = boot(make_csms, make_station, kit)

    # TC_B_06_CS: one value, echoed component/variable/attributeType (B06.FR.02/03/04/11).
    r = get_vars(csms, gv("OCPPCommCtrlr", "OfflineThreshold", "Actual"))[0]
    assert r == {"attributeStatus": "Accepted", "attributeType": "Actual", "attributeValue": "321",
                 "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}, r

    # TC_B_07_CS: several values, in request order; also a variable instance and EVSE/connector addressing.
    res = get_vars(csms,
                   gv("OCPPCommCtrlr", "OfflineThreshold"),
                   gv("AuthCtrlr", "LocalAuthorizeOffline"),
                   gv("OCPPCommCtrlr", var("MessageTimeout", "Default")),
                   gv("OCPPCommCtrlr", "HeartbeatInterval"),
                   gv(comp("Connector", 2, 2), "AvailabilityState"),
                   gv(comp("EVSE", 1), "AvailabilityState"),
                   gv("ChargingStation", "VendorName"),
                   gv(comp("DeviceDataCtrlr"), var("ItemsPerMessage", "GetVariables")))
    assert [r["attributeStatus"] for r in res] == ["Accepted"] * 8, res
    assert [r["attributeValue"] for r in res] == [
        "321", "true", "30", str(HEARTBEAT), "Available", "Available", "FlexCharge", "16"], res
    assert res[2]["variable"] == {"name": "MessageTimeout", "instance": "Default"}
    assert res[4]["component"] == comp("Connector", 2, 2)
    assert all(r["attributeType"] == "Actual" for r in res)  # B06.FR.11: omitted means Actual
    items_per_message = int(res[7]["attributeValue"])

    # Component and variable names are case-insensitive (schema); the result echoes the request (B06.FR.02).
    r = get_vars(csms, gv(comp("ocppcommctrlr"), var("offlinethreshold")))[0]
    assert r["attributeStatus"] == "Accepted" and r["attributeValue"] == "321", r
    assert r["component"] == {"name": "ocppcommctrlr"} and r["variable"] == {"name": "offlinethreshold"}, r

    # TC_B_32/33/34_CS: unknown component, unknown variable, unsupported attribute type (B06.FR.06/07/08);
    # a connector that does not exist is an unknown component too.
    res = get_vars(csms,
                   gv("UnknownComponent", "OfflineThreshold"),
                   gv("OCPPCommCtrlr", "UnknownVariable"),
                   gv("OCPPCommCtrlr", "OfflineThreshold", "Target"),
                   gv(comp("Connector", 1, 2), "AvailabilityState"))
    assert [r["attributeStatus"] for r in res] == [
        "UnknownComponent", "UnknownVariable", "NotSupportedAttributeType", "UnknownComponent"], res
    assert res[0]["component"] == {"name": "UnknownComponent"} and res[0]["variable"] == {"name": "OfflineThreshold"}
    assert res[1]["variable"] == {"name": "UnknownVariable"}
    assert res[2]["attributeType"] == "Target"
    assert all("attributeValue" not in r for r in res), res

    # B06.FR.09: a WriteOnly variable is never read back, even once it has a value.
    password = "a-new-password-0123456"
    assert set_vars(csms, sv("SecurityCtrlr", "BasicAuthPassword", password))[0]["attributeStatus"] == "Accepted"
    r = get_vars(csms, gv("SecurityCtrlr", "BasicAuthPassword"))[0]
    assert r["attributeStatus"] == "Rejected", r
    assert "attributeValue" not in r and reason(r) in (None, "WriteOnly"), r
    assert password not in "".join(f.text for f in csms.station_frames() if isinstance(f.text, str))

    # B06.FR.16 (a MAY the firmware takes, variables.check_limits): more getVariableData than
    # ItemsPerMessage[GetVariables] -> CALLERROR OccurrenceConstraintViolation; exactly that many is fine.
    many = [gv("OCPPCommCtrlr", "OfflineThreshold")] * items_per_message
    assert len(get_vars(csms, *many)) == items_per_message
    reply = csms.call("GetVariables", {"getVariableData": many + [gv("AuthCtrlr", "LocalAuthorizeOffline")]})
    assert reply.kind == CALLERROR and reply.error_code == "OccurrenceConstraintViolation", reply
    # B06.FR.17: more bytes than BytesPerMessage[GetVariables] -> CALLERROR FormatViolation.
    limit = int(value_of(csms, "DeviceDataCtrlr", var("BytesPerMessage", "GetVariables")))
    padded = {"getVariableData": [gv("OCPPCommCtrlr", "OfflineThreshold")],
              "customData": {"vendorId": "FlexChargeTest", "pad": "x" * (limit + 100)}}
    reply = csms.call("GetVariables", padded)
    assert reply.kind == CALLERROR and reply.error_code == "FormatViolation", reply
    kit.assert_responsive(csms, st)
    assert len(csms.accepted()) == 1  # all of it on the one connection


# ---------------------------------------------------------------------------------------------
# B05 Set Variables
# ---------------------------------------------------------------------------------------------

def test_set_variables(make_csms, make_station, kit):
    csms, st, _ = boot(make_csms, make_station, kit)

    # TC_B_09_CS: one value, read back.
    r = set_vars(csms, sv("OCPPCommCtrlr", "OfflineThreshold", "301", "Actual"))[0]
    assert r["attributeStatus"] == "Accepted" and reason(r) in (None, "NoError"), r
    assert (r["attributeType"], r["component"], r["variable"]) == (
        "Actual", {"name": "OCPPCommCtrlr"}, {"name": "OfflineThreshold"}), r
    assert value_of(csms, "OCPPCommCtrlr", "OfflineThreshold") == "301"

    # TC_B_10_CS: several values in one request, results in order.
    res = set_vars(csms, sv("OCPPCommCtrlr", "OfflineThreshold", "302"),
                   sv("AuthCtrlr", "LocalAuthorizeOffline", "false"),
                   sv("TxCtrlr", "TxStartPoint", "EVConnected,Authorized"),
                   sv("SmartChargingCtrlr", "LimitChangeSignificance", "12.5"))
    assert [r["attributeStatus"] for r in res] == ["Accepted"] * 4, res
    assert [r["variable"]["name"] for r in res] == [
        "OfflineThreshold", "LocalAuthorizeOffline", "TxStartPoint", "LimitChangeSignificance"]
    res = get_vars(csms, gv("OCPPCommCtrlr", "OfflineThreshold"), gv("AuthCtrlr", "LocalAuthorizeOffline"),
                   gv("TxCtrlr", "TxStartPoint"), gv("SmartChargingCtrlr", "LimitChangeSignificance"))
    assert [r["attributeValue"] for r in res] == ["302", "false", "EVConnected,Authorized", "12.5"], res

    # TC_B_35/36/37_CS (B05.FR.04/05/06).
    res = set_vars(csms, sv("UnknownComponent", "OfflineThreshold", "300"),
                   sv("OCPPCommCtrlr", "UnknownVariable", "300"),
                   sv("OCPPCommCtrlr", "OfflineThreshold", "300", "Target"))
    assert [r["attributeStatus"] for r in res] == ["UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"], res
    assert res[0]["component"] == {"name": "UnknownComponent"} and res[2]["attributeType"] == "Target"

    # TC_B_39_CS (B05.FR.09): read-only variables are Rejected and keep their value.
    res = set_vars(csms, sv("OCPPCommCtrlr", var("MessageTimeout", "Default"), "60"),
                   sv(comp("EVSE", 1), "AvailabilityState", "Faulted"),
                   sv("DeviceDataCtrlr", var("ItemsPerMessage", "GetVariables"), "99"))
    assert [r["attributeStatus"] for r in res] == ["Rejected"] * 3, res
    assert all(reason(r) in (None, "ReadOnly") for r in res), res
    assert res[0]["variable"] == {"name": "MessageTimeout", "instance": "Default"}
    res = get_vars(csms, gv("OCPPCommCtrlr", var("MessageTimeout", "Default")), gv(comp("EVSE", 1), "AvailabilityState"),
                   gv("DeviceDataCtrlr", var("ItemsPerMessage", "GetVariables")))
    assert [r["attributeValue"] for r in res] == ["30", "Available", "16"], res

    # TC_B_11_CS (B05.FR.07): values of the wrong format are Rejected per dataType.
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    cases = (  # (component, variable, value, accepted?)
        ("OCPPCommCtrlr", "OfflineThreshold", "300", True),
        ("OCPPCommCtrlr", "OfflineThreshold", "300.1", False),
        ("OCPPCommCtrlr", "OfflineThreshold", "true", False),
        ("OCPPCommCtrlr", "OfflineThreshold", now, False),
        ("OCPPCommCtrlr", "OfflineThreshold", "abc", False),
        ("SmartChargingCtrlr", "LimitChangeSignificance", "true", False),
        ("SmartChargingCtrlr", "LimitChangeSignificance", now, False),
        ("SmartChargingCtrlr", "LimitChangeSignificance", "abc", False),
        ("AuthCtrlr", "AuthorizeRemoteStart", "true", True),
        ("AuthCtrlr", "AuthorizeRemoteStart", "300", False),
        ("AuthCtrlr", "AuthorizeRemoteStart", "abc", False),
        ("ClockCtrlr", "NextTimeOffsetTransitionDateTime", now, True),
        ("ClockCtrlr", "NextTimeOffsetTransitionDateTime", "300", False),
        ("ClockCtrlr", "NextTimeOffsetTransitionDateTime", "abc", False),
    )
    res = set_vars(csms, *[sv(c, v, x) for c, v, x, _ in cases])
    got = [(c, v, x, r["attributeStatus"]) for (c, v, x, _), r in zip(cases, res)]
    assert got == [(c, v, x, "Accepted" if a else "Rejected") for c, v, x, a in cases], got
    res = get_vars(csms, gv("OCPPCommCtrlr", "OfflineThreshold"), gv("SmartChargingCtrlr", "LimitChangeSignificance"),
                   gv("AuthCtrlr", "AuthorizeRemoteStart"), gv("ClockCtrlr", "NextTimeOffsetTransitionDateTime"))
    assert [r["attributeValue"] for r in res] == ["300", "12.5", "true", now], res  # rejected writes changed nothing

    # B05.FR.07: outside minLimit/maxLimit, or not in valuesList -> Rejected, value kept.
    res = set_vars(csms,
                   sv("OCPPCommCtrlr", "HeartbeatInterval", "0"),  # minLimit 1
                   sv("SmartChargingCtrlr", "LimitChangeSignificance", "100.5"),  # maxLimit 100 (percent)
                   sv("SecurityCtrlr", "BasicAuthPassword", "too-short"),  # 16..64 characters
                   sv("SecurityCtrlr", "BasicAuthPassword", "x" * 65),
                   sv("AuthCacheCtrlr", "Policy", "FIFO"),  # OptionList LRU
                   sv("TxCtrlr", "TxStartPoint", "EVConnected,Bogus"),  # MemberList
                   sv("ClockCtrlr", "TimeSource", "Heartbeat,Sundial"))  # SequenceList
    assert [r["attributeStatus"] for r in res] == ["Rejected"] * 7, res
    assert reason(res[0]) in (None, "ValueOutOfRange", "InvalidValue"), res[0]
    res = get_vars(csms, gv("OCPPCommCtrlr", "HeartbeatInterval"), gv("SmartChargingCtrlr", "LimitChangeSignificance"),
                   gv("AuthCacheCtrlr", "Policy"), gv("TxCtrlr", "TxStartPoint"), gv("ClockCtrlr", "TimeSource"))
    assert [r["attributeValue"] for r in res] == [str(HEARTBEAT), "12.5", "LRU", "EVConnected,Authorized", "Heartbeat"], res
    res = set_vars(csms, sv("ClockCtrlr", "TimeSource", "RealTimeClock,Heartbeat"))
    assert res[0]["attributeStatus"] == "Accepted", res
    assert value_of(csms, "ClockCtrlr", "TimeSource") == "RealTimeClock,Heartbeat"  # a SequenceList keeps its order

    # RebootRequired where the model says so: SecurityCtrlr.Identity only takes effect after a reboot.
    r = set_vars(csms, sv("SecurityCtrlr", "Identity", "FC-TEST-2"))[0]
    assert r["attributeStatus"] == "RebootRequired", r
    kit.assert_responsive(csms, st)
    assert len(csms.accepted()) == 1


def test_set_variables_persist_over_reboot_and_power_loss(make_csms, make_station, kit):
    csms, st, cfg = boot(make_csms, make_station, kit)
    res = set_vars(csms, sv("OCPPCommCtrlr", "OfflineThreshold", "777"),
                   sv("AuthCtrlr", "AuthorizeRemoteStart", "true"),
                   sv("TxCtrlr", "TxStartPoint", "EVConnected,Authorized"),
                   sv("SecurityCtrlr", "OrganizationName", "Flex Org"))
    assert [r["attributeStatus"] for r in res] == ["Accepted"] * 4, res
    wanted = [gv("OCPPCommCtrlr", "OfflineThreshold"), gv("AuthCtrlr", "AuthorizeRemoteStart"),
              gv("TxCtrlr", "TxStartPoint"), gv("SecurityCtrlr", "OrganizationName")]

    # Reboot: graceful shutdown, start again on the same state directory. The config's device_model
    # now says 555, but factory values apply to a new state directory only (launcher contract).
    assert st.shutdown() == 0
    mark = csms.mark()
    cfg2 = dict(cfg, device_model=cfg["device_model"] + [kit.dm("OCPPCommCtrlr", "OfflineThreshold", "555")])
    st2 = make_station(cfg2, state_dir=st.state_dir)
    kit.wait_booted(csms, st2, since=mark)
    res = get_vars(csms, *wanted)
    assert [r["attributeValue"] for r in res] == ["777", "true", "EVConnected,Authorized", "Flex Org"], res

    # Power loss right after the SetVariablesResponse: the value was persisted before it was acknowledged.
    assert set_vars(csms, sv("OCPPCommCtrlr", "OfflineThreshold", "888"))[0]["attributeStatus"] == "Accepted"
    st2.kill()
    mark = csms.mark()
    st3 = make_station(cfg2, state_dir=st.state_dir)
    kit.wait_booted(csms, st3, since=mark)
    res = get_vars(csms, *wanted)
    assert [r["attributeValue"] for r in res] == ["888", "true", "EVConnected,Authorized", "Flex Org"], res
    # A new state directory starts from the factory values again.
    mark = csms.mark()
    st3.kill()
    st4 = make_station(cfg2)
    kit.wait_booted(csms, st4, since=mark)
    assert value_of(csms, "OCPPCommCtrlr", "OfflineThreshold") == "555"


def test_heartbeat_interval_takes_effect_at_once(make_csms, make_station, kit):  # G02 with B05
    csms, _, _ = boot(make_csms, make_station, kit)
    reply = ok(csms, "SetVariables", {"setVariableData": [sv("OCPPCommCtrlr", "HeartbeatInterval", "1")]})
    assert reply.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"
    csms.wait_call("Heartbeat", since=reply.index, count=3, timeout=6)
    beats = csms.calls("Heartbeat", since=reply.index)[:3]
    first = beats[0].t - reply.t
    assert 0.8 <= first <= 2.0, "first Heartbeat %.2fs after the interval became 1s (was %ds)" % (first, HEARTBEAT)
    gaps = [b.t - a.t for a, b in zip(beats, beats[1:])]
    assert all(0.8 <= g <= 2.0 for g in gaps), gaps

    reply = ok(csms, "SetVariables", {"setVariableData": [sv("OCPPCommCtrlr", "HeartbeatInterval", "30")]})
    assert reply.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"
    time.sleep(2.5)
    late = [b for b in csms.calls("Heartbeat") if b.t > reply.t + 0.3]
    assert late == [], "Heartbeat at the old 1s interval after it became 30s: %r" % late
    assert value_of(csms, "OCPPCommCtrlr", "HeartbeatInterval") == "30"


# ---------------------------------------------------------------------------------------------
# B07 Get Base Report, B08 Get Custom Report
# ---------------------------------------------------------------------------------------------

def test_base_reports(make_csms, make_station, kit):  # TC_B_12/13/14/53_CS
    csms, st, _ = boot(make_csms, make_station, kit)
    r = set_vars(csms, sv("SecurityCtrlr", "BasicAuthPassword", "secret-password-0987"))[0]
    assert r["attributeStatus"] == "Accepted", r

    # FullInventory (TC_B_13_CS, TC_B_53_CS)
    counts = {}
    resp, frames = request_report(csms, "GetBaseReport", {"requestId": 1301, "reportBase": "FullInventory"},
                                  "NotifyReport")
    assert resp["status"] == "Accepted" and reason(resp, "statusInfo") in (None, "NoError"), resp
    counts[1301] = len(frames)
    assert len(frames) >= 2, "a whole device model in one NotifyReport: tbc is not exercised"
    full = report_data(frames)
    keys = [rd_key(rd) for rd in full]
    assert len(keys) == len(set(keys)), "reported twice: %r" % sorted(k for k in set(keys) if keys.count(k) > 1)
    by_key = dict(zip(keys, full))
    for rd in full:
        ch = rd["variableCharacteristics"]  # post-validation: variableCharacteristics present
        assert ch["dataType"] and "supportsMonitoring" in ch, rd
        a = actual(rd)
        if ch["dataType"] in LIST_TYPES:  # TC_B_53_CS: valuesList given, value within it
            allowed = [x.strip() for x in ch.get("valuesList", "").split(",") if x.strip()]
            assert allowed, "no valuesList for %r" % (rd,)
            if a.get("value"):
                members = [a["value"]] if ch["dataType"] == "OptionList" else a["value"].split(",")
                assert all(m.strip() in allowed for m in members), rd
        if a.get("mutability") == "WriteOnly":
            assert all("value" not in x for x in rd["variableAttribute"]), rd  # B07.FR.03 / errata
        else:
            assert "value" in a, rd
    components = set(k[0] for k in keys)
    missing = [r for r in REQUIRED if r[0] in components and
               not any(k[0] == r[0] and k[4] == r[1] and k[5] == r[2] for k in keys)]
    assert missing == [], "required variables missing from FullInventory: %r" % missing
    for name in ("ChargingStation", "EVSE", "Connector", "OCPPCommCtrlr", "DeviceDataCtrlr", "SecurityCtrlr",
                 "ClockCtrlr", "MonitoringCtrlr"):
        assert name in components, name
    # Every EVSE and connector of the config, and no other.
    evses = set(k[2] for k in keys if k[0] == "EVSE")
    connectors = set((k[2], k[3]) for k in keys if k[0] == "Connector")
    assert evses == {1, 2} and connectors == kit.CONNECTORS, (evses, connectors)
    for k in [avail_key("ChargingStation"), avail_key("EVSE", 1), avail_key("EVSE", 2)] + [
            avail_key("Connector", e, c) for e, c in kit.CONNECTORS]:
        rd = by_key[k]
        assert actual(rd)["value"] == "Available" and actual(rd)["mutability"] == "ReadOnly", rd
        assert set(x.strip() for x in rd["variableCharacteristics"]["valuesList"].split(",")) == AVAILABILITY_OPTIONS
    hb = by_key[key("OCPPCommCtrlr", "HeartbeatInterval")]
    a = actual(hb)
    assert (a["value"], a["mutability"], a.get("persistent")) == (str(HEARTBEAT), "ReadWrite", True), hb
    assert hb["variableCharacteristics"]["dataType"] == "integer" and hb["variableCharacteristics"].get("unit") == "s"
    assert actual(by_key[key("OCPPCommCtrlr", "OfflineThreshold")])["value"] == "321"  # the factory value
    assert actual(by_key[key("OCPPCommCtrlr", "MessageTimeout", var_instance="Default")])["value"] == "30"
    assert actual(by_key[key("SecurityCtrlr", "BasicAuthPassword")])["mutability"] == "WriteOnly"
    assert by_key[key("EVSE", "Power", 1)]["variableCharacteristics"].get("maxLimit") == 32 * 230 * 3  # config defaults
    # The report agrees with GetVariables.
    sample = [key("OCPPCommCtrlr", "OfflineThreshold"), key("TxCtrlr", "TxStopPoint"), key("AuthCtrlr", "Enabled"),
              key("ChargingStation", "Model"), key("Connector", "ConnectorType", 2, 2)]
    res = get_vars(csms, *[gv(comp(k[0], k[2], k[3]), var(k[4], k[5])) for k in sample])
    assert [r["attributeValue"] for r in res] == [actual(by_key[k])["value"] for k in sample]

    # ConfigurationInventory (TC_B_12_CS, B07.FR.07): exactly the writable variables of the full report.
    resp, frames = request_report(csms, "GetBaseReport", {"requestId": 1201, "reportBase": "ConfigurationInventory"},
                                  "NotifyReport")
    assert resp["status"] == "Accepted", resp
    counts[1201] = len(frames)
    config = report_data(frames)
    for rd in config:
        assert "variableCharacteristics" in rd, rd
        assert all(a["mutability"] in ("ReadWrite", "WriteOnly") for a in rd["variableAttribute"]), rd
    writable = set(k for k, rd in by_key.items() if any(a["mutability"] != "ReadOnly" for a in rd["variableAttribute"]))
    assert set(rd_key(rd) for rd in config) == writable
    assert key("OCPPCommCtrlr", "HeartbeatInterval") in writable and key("SecurityCtrlr", "BasicAuthPassword") in writable

    # SummaryInventory (TC_B_14_CS, B07.FR.09), after a cable went into connector 2/1.
    mark = csms.mark()
    st.send({"cmd": "plug", "evse": 2, "connector": 1})
    wait_status(csms, mark, 2, 1, "Occupied")
    resp, frames = request_report(csms, "GetBaseReport", {"requestId": 1401, "reportBase": "SummaryInventory"},
                                  "NotifyReport")
    assert resp["status"] == "Accepted", resp
    counts[1401] = len(frames)
    summary = {rd_key(rd): rd for rd in report_data(frames)}
    expected = {avail_key("EVSE", 1): "Available", avail_key("EVSE", 2): "Occupied"}
    for k, v in expected.items():
        assert k in summary and actual(summary[k])["value"] == v, (k, summary.get(k))
    assert actual(summary[avail_key("ChargingStation")])["value"] in AVAILABILITY_OPTIONS
    want_conn = {(1, 1): "Available", (2, 1): "Occupied", (2, 2): "Available"}
    for k, rd in summary.items():
        assert "variableCharacteristics" in rd, rd
        if k[4] == "AvailabilityState":
            assert k[0] in ("ChargingStation", "EVSE", "Connector"), k
            if k[0] == "Connector":  # "if known": when reported, right
                assert actual(rd)["value"] == want_conn[(k[2], k[3])], rd
        else:  # only components in an abnormal state, by their Problem/Tripped/Overload/Fallback
            assert k[4] in ("Problem", "Tripped", "Overload", "Fallback") and actual(rd)["value"] == "true", rd
    # Nothing more of any of the three reports arrived after its last frame, and nothing else.
    got = [f.payload["requestId"] for f in csms.calls("NotifyReport")]
    assert {rid: got.count(rid) for rid in set(got)} == counts, got


def test_custom_reports(make_csms, make_station, kit):  # TC_B_16/17/18/54_CS
    csms, st, _ = boot(make_csms, make_station, kit)

    # TC_B_17_CS: one component/variable.
    cv_evse1 = {"component": comp("EVSE", 1), "variable": var("AvailabilityState")}
    resp, frames = request_report(csms, "GetReport", {"requestId": 1701, "componentVariable": [cv_evse1]}, "NotifyReport")
    assert resp["status"] == "Accepted", resp
    data = report_data(frames)
    assert [rd_key(rd) for rd in data] == [avail_key("EVSE", 1)], data
    ch = data[0]["variableCharacteristics"]
    assert ch["dataType"] == "OptionList" and set(x.strip() for x in ch["valuesList"].split(",")) == AVAILABILITY_OPTIONS
    a = data[0]["variableAttribute"]
    assert len(a) == 1 and a[0].get("type", "Actual") == "Actual" and a[0]["mutability"] == "ReadOnly", a

    # TC_B_18_CS: with componentCriteria Available (it is) and Problem (it is not).
    resp, frames = request_report(csms, "GetReport", {"requestId": 1801, "componentCriteria": ["Available"],
                                                      "componentVariable": [cv_evse1]}, "NotifyReport")
    assert resp["status"] == "Accepted" and [rd_key(rd) for rd in report_data(frames)] == [avail_key("EVSE", 1)]
    resp, frames = request_report(csms, "GetReport", {"requestId": 1802, "componentCriteria": ["Problem"],
                                                      "componentVariable": [cv_evse1]}, "NotifyReport")
    assert resp["status"] == "EmptyResultSet" and reason(resp, "statusInfo") in (None, "NotFound"), resp

    # An unknown component (and a connector that does not exist) -> EmptyResultSet (B08.FR.04-ish).
    for rid, cv in ((1803, {"component": comp("NoSuchCtrlr"), "variable": var("Enabled")}),
                    (1804, {"component": comp("Connector", 1, 2)}),
                    (1805, {"component": comp("OCPPCommCtrlr"), "variable": var("NoSuchVariable")})):
        resp, frames = request_report(csms, "GetReport", {"requestId": rid, "componentVariable": [cv]}, "NotifyReport")
        assert resp["status"] == "EmptyResultSet", (cv, resp)

    # TC_B_54_CS: no variable instance -> every instance; a component without variable -> all its variables.
    resp, frames = request_report(csms, "GetReport", {"requestId": 5401, "componentVariable": [
        {"component": comp("DeviceDataCtrlr"), "variable": var("ItemsPerMessage")}]}, "NotifyReport")
    assert resp["status"] == "Accepted"
    assert sorted(rd_key(rd)[5] for rd in report_data(frames)) == ["GetReport", "GetVariables", "SetVariables"]
    resp, frames = request_report(csms, "GetReport", {"requestId": 5402, "componentVariable": [
        {"component": comp("OCPPCommCtrlr")}, {"component": comp("Connector", 2)}]}, "NotifyReport")
    got = set(rd_key(rd) for rd in report_data(frames))
    assert set(k[0] for k in got) == {"OCPPCommCtrlr", "Connector"}, got
    assert {key("OCPPCommCtrlr", "HeartbeatInterval"), key("OCPPCommCtrlr", "MessageTimeout", var_instance="Default"),
            avail_key("Connector", 2, 1), avail_key("Connector", 2, 2)} <= got, got
    assert not any(k[0] == "Connector" and k[2] != 2 for k in got), got

    # TC_B_16_CS: componentCriteria Enabled -> the "Enabled" variables that are true, and only those.
    assert set_vars(csms, sv("AuthCacheCtrlr", "Enabled", "false"))[0]["attributeStatus"] == "Accepted"
    resp, frames = request_report(csms, "GetReport", {"requestId": 1601, "componentCriteria": ["Enabled"]}, "NotifyReport")
    assert resp["status"] == "Accepted", resp
    data = report_data(frames)
    assert data and all(rd["variable"]["name"] == "Enabled" and actual(rd)["value"] == "true" for rd in data), data
    names = set(rd["component"]["name"] for rd in data)
    assert {"AuthCtrlr", "MonitoringCtrlr", "SampledDataCtrlr"} <= names and "AuthCacheCtrlr" not in names, names
    res = get_vars(csms, *[gv(rd["component"], rd["variable"]) for rd in data[:16]])  # step 5/6
    assert all(r["attributeStatus"] == "Accepted" and r["attributeValue"] == "true" for r in res), res

    # B08.FR.17: more componentVariable than ItemsPerMessage[GetReport] -> OccurrenceConstraintViolation.
    n = int(value_of(csms, "DeviceDataCtrlr", var("ItemsPerMessage", "GetReport")))
    reply = csms.call("GetReport", {"requestId": 1900, "componentVariable": [cv_evse1] * (n + 1)})
    assert reply.kind == CALLERROR and reply.error_code == "OccurrenceConstraintViolation", reply
    # Nothing was reported for the requests that were not Accepted.
    assert not [f for f in csms.calls("NotifyReport") if f.payload["requestId"] in (1802, 1803, 1804, 1805, 1900)]
    kit.assert_responsive(csms, st)


# ---------------------------------------------------------------------------------------------
# N04/N07 monitors and NotifyEvent
# ---------------------------------------------------------------------------------------------

def test_delta_monitor_notify_event(make_csms, make_station, kit):  # TC_N_08/12/15/37/38/56_CS, TC_B_20_CS
    csms, st, _ = boot(make_csms, make_station, kit)
    boot_events = wait_boot_events(csms, kit)

    conn21 = comp("Connector", 2, 1)
    res = set_monitors(csms,
                       mon(conn21, "AvailabilityState", "Delta", 1, 4),  # TC_N_08_CS
                       mon(comp("EVSE", 2), "AvailabilityState", "Delta", -1, 5),  # TC_N_12_CS
                       mon(comp("EVSE", 1), "unknownVariable", "Delta", 1, 5),  # TC_N_37_CS
                       mon(comp("NoSuchComponent"), "AvailabilityState", "Delta", 1, 5),  # TC_N_11_CS-like
                       mon(comp("EVSE", 1), "AvailabilityState", "UpperThreshold", 1, 5),  # TC_N_38_CS
                       mon("ChargingStation", "SupplyPhases", "Delta", 1, 5))  # supportsMonitoring false
    assert [r["status"] for r in res[:4]] == ["Accepted", "Rejected", "UnknownVariable", "UnknownComponent"], res
    assert reason(res[1], "statusInfo") in (None, "ValueOutOfRange", "ValuePositiveOnly"), res[1]
    assert res[4]["status"] in ("UnsupportedMonitorType", "Rejected"), res[4]
    assert res[5]["status"] in ("UnsupportedMonitorType", "Rejected"), res[5]
    custom = res[0]["id"]
    assert custom not in [e["variableMonitoringId"] for e in boot_events.values()]

    # TC_N_15_CS (N04.FR.10): same variable, type and severity twice -> Duplicate.
    res = set_monitors(csms, mon(comp("EVSE", 1), "AvailabilityState", "Delta", 1, 6),
                       mon(comp("EVSE", 1), "AvailabilityState", "Delta", 1, 6))
    assert [r["status"] for r in res] == ["Accepted", "Duplicate"], res
    evse1_custom = res[0]["id"]

    # TC_N_56_CS / TC_N_45_CS: the cable goes in, the non-numeric Delta monitor fires.
    mark = csms.mark()
    st.send({"cmd": "plug", "evse": 2, "connector": 1})
    wait_status(csms, mark, 2, 1, "Occupied")
    f, e = wait_event(csms, lambda e: e.get("variableMonitoringId") == custom, mark, "monitor %d" % custom)
    assert e["trigger"] == "Delta" and e["actualValue"] == "Occupied", e
    assert e["component"] == conn21 and e["variable"] == {"name": "AvailabilityState"}, e
    assert e["eventNotificationType"] == "CustomMonitor" and not e.get("cleared", False), e
    assert "transactionId" not in e, e
    assert abs((parse_time(e["timestamp"]) - parse_time(f.payload["generatedAt"])).total_seconds()) < 5
    # The preconfigured monitors of the connector and of its EVSE fire as well (N07.FR.19: any change).
    wait_event(csms, lambda e: ev_where(e, "Connector", "AvailabilityState", 2, 1)
               and e["eventNotificationType"] == "PreconfiguredMonitor" and e["actualValue"] == "Occupied",
               mark, "the preconfigured monitor of connector 2/1")
    wait_event(csms, lambda e: ev_where(e, "EVSE", "AvailabilityState", 2) and e["actualValue"] == "Occupied",
               mark, "EVSE 2 Occupied")
    # What did not change reports nothing: no event for EVSE 1 (its custom monitor included) or the other connectors.
    later = [e for _, e in events(csms, mark)]
    assert not [e for e in later if e.get("variableMonitoringId") == evse1_custom], later
    assert not [e for e in later if e["component"]["name"] == "Connector"
                and e["component"]["evse"] != {"id": 2, "connectorId": 1}], later
    # eventIds are unique (and new since boot).
    ids = [e["eventId"] for _, e in events(csms)]
    assert len(ids) == len(set(ids)), ids

    mark = csms.mark()
    st.send({"cmd": "unplug", "evse": 2, "connector": 1})
    _, e = wait_event(csms, lambda e: e.get("variableMonitoringId") == custom, mark, "monitor %d after unplug" % custom)
    assert e["actualValue"] == "Available" and e["trigger"] == "Delta", e
    wait_status(csms, mark, 2, 1, "Available")


def test_threshold_monitors(make_csms, make_station, kit):  # TC_N_13/20/51/52/53_CS
    csms, st, cfg = boot(make_csms, make_station, kit, factory=[("OCPPCommCtrlr", "OfflineThreshold", "300")])
    wait_boot_events(csms, kit)
    ot = ("OCPPCommCtrlr", "OfflineThreshold")

    # TC_N_13_CS (N04.FR.06): a threshold beyond the variable's maxLimit is Rejected.
    res = set_monitors(csms, mon(comp("EVSE", 1), "Power", "UpperThreshold", 10 ** 6, 5))
    assert res[0]["status"] == "Rejected" and reason(res[0], "statusInfo") in (None, "ValueOutOfRange"), res

    mark = csms.mark()
    up = set_monitors(csms, mon(*ot, type_="UpperThreshold", value=500, severity=2))[0]
    assert up["status"] == "Accepted", up
    up = up["id"]
    # TC_N_20_CS: the value goes above the threshold -> Alerting.
    assert set_vars(csms, sv(*ot, "600"))[0]["attributeStatus"] == "Accepted"
    _, e = wait_event(csms, lambda e: e.get("variableMonitoringId") == up, mark, "UpperThreshold %d" % up)
    assert (e["trigger"], e["actualValue"], e.get("cleared", False)) == ("Alerting", "600", False), e
    assert e["component"] == {"name": "OCPPCommCtrlr"} and e["variable"] == {"name": "OfflineThreshold"}, e
    assert e["eventNotificationType"] == "CustomMonitor", e

    # ... then below a new LowerThreshold: the upper one clears, the lower one alerts (N07.FR.02/17).
    low = set_monitors(csms, mon(*ot, type_="LowerThreshold", value=100, severity=3))[0]
    assert low["status"] == "Accepted", low
    low = low["id"]
    mark = csms.mark()
    assert set_vars(csms, sv(*ot, "50"))[0]["attributeStatus"] == "Accepted"
    _, e = wait_event(csms, lambda e: e.get("variableMonitoringId") == up, mark, "UpperThreshold cleared")
    assert (e["trigger"], e["actualValue"], e.get("cleared")) == ("Alerting", "50", True), e
    _, e = wait_event(csms, lambda e: e.get("variableMonitoringId") == low, mark, "LowerThreshold")
    assert (e["trigger"], e["actualValue"], e.get("cleared", False)) == ("Alerting", "50", False), e
    ups = [x for _, x in events(csms) if x.get("variableMonitoringId") == up]
    assert len(ups) == 2, ups  # one alert, one clear: no repeats

    # TC_N_51_CS (N07.FR.11): a replaced threshold that the current value already exceeds alerts at once.
    mark = csms.mark()
    assert set_vars(csms, sv(*ot, "300"))[0]["attributeStatus"] == "Accepted"  # low clears, up stays clear
    wait_event(csms, lambda e: e.get("variableMonitoringId") == low and e.get("cleared"), mark, "LowerThreshold cleared")
    r = set_monitors(csms, mon(*ot, type_="UpperThreshold", value=200, severity=2, id=up))[0]
    assert r["status"] == "Accepted" and r["id"] == up, r
    _, e = wait_event(csms, lambda e: e.get("variableMonitoringId") == up and not e.get("cleared"), mark,
                      "UpperThreshold %d after replacing it" % up)
    assert (e["trigger"], e["actualValue"]) == ("Alerting", "300"), e

    # TC_N_52_CS (N07.FR.12): a cleared monitor reports nothing more, not even its return to normal.
    assert ok(csms, "ClearVariableMonitoring", {"id": [up]}).payload["clearMonitoringResult"] == [
        {"status": "Accepted", "id": up}]
    resp, found = monitoring_report(csms, 5201, ["ThresholdMonitoring"], [cvt(*ot)])
    assert resp["status"] == "Accepted" and set(found) == {low}, (resp, found)
    mark = csms.mark()
    assert set_vars(csms, sv(*ot, "150"))[0]["attributeStatus"] == "Accepted"  # below 200: would clear `up`
    assert set_vars(csms, sv(*ot, "60"))[0]["attributeStatus"] == "Accepted"  # below 100: `low` alerts (sentinel)
    wait_event(csms, lambda e: e.get("variableMonitoringId") == low and not e.get("cleared"), mark, "LowerThreshold again")
    assert not [e for _, e in events(csms, mark) if e.get("variableMonitoringId") == up]

    # TC_N_53_CS (N07.FR.13): custom monitors survive a reboot.
    assert st.shutdown() == 0
    mark = csms.mark()
    st2 = make_station(cfg, state_dir=st.state_dir)
    kit.wait_booted(csms, st2, since=mark)
    resp, found = monitoring_report(csms, 5301, ["ThresholdMonitoring"])
    assert resp["status"] == "Accepted", resp
    assert found.get(low) == (key(*ot), "LowerThreshold", 100, 3), found
    assert up not in found


def test_monitoring_report_and_clear(make_csms, make_station, kit):  # TC_N_01/02/03/09/18/19/40/44/47_CS
    csms, _, _ = boot(make_csms, make_station, kit)

    # TC_N_47_CS: everything. Preconfigured Delta monitors on the AvailabilityStates are there.
    resp, before = monitoring_report(csms, 4701)
    assert resp["status"] == "Accepted", resp
    pre = {}
    for mid, (k, t, _, _) in before.items():
        if k[4] == "AvailabilityState":
            assert t == "Delta", (mid, k, t)
            pre[k] = mid
    assert set(pre) >= {avail_key("ChargingStation"), avail_key("EVSE", 1), avail_key("EVSE", 2)}, pre

    # Custom monitors of every type, so that the report spans several messages (TC_N_09_CS).
    hb, ot = ("OCPPCommCtrlr", "HeartbeatInterval"), ("OCPPCommCtrlr", "OfflineThreshold")
    ect = ("TxCtrlr", "EVConnectionTimeOut")
    data = [mon(*hb, type_="UpperThreshold", value=100000, severity=5),
            mon(*hb, type_="LowerThreshold", value=5, severity=5),
            mon(*ot, type_="Delta", value=10, severity=6),
            mon(*ot, type_="Periodic", value=3600, severity=7),
            mon(*ect, type_="PeriodicClockAligned", value=3600, severity=7),
            mon(*ect, type_="Delta", value=5, severity=6),
            mon(comp("EVSE", 1), "AvailabilityState", "Delta", 1, 3),
            mon("AuthCtrlr", "Enabled", "Delta", 1, 4)]
    # N04.FR.09: more than ItemsPerMessage[SetVariableMonitoring] -> CALLERROR (the station takes the MAY).
    n = int(value_of(csms, "MonitoringCtrlr", var("ItemsPerMessage", "SetVariableMonitoring")))
    assert n == len(data)
    reply = csms.call("SetVariableMonitoring", {"setMonitoringData": data + [mon("AuthCtrlr", "Enabled", "Delta", 1, 2)]})
    assert reply.kind == CALLERROR and reply.error_code == "OccurrenceConstraintViolation", reply
    res = set_monitors(csms, *data)
    assert [r["status"] for r in res] == ["Accepted"] * len(data), res
    ids = [r["id"] for r in res]
    assert len(set(ids) | set(before)) == len(ids) + len(before)  # new, unique ids

    since = csms.mark()
    resp, everything = monitoring_report(csms, 4702)
    frames = [f for f in csms.calls("NotifyMonitoringReport", since=since)]
    assert len(frames) >= 2, "expected the report to span several NotifyMonitoringReport messages"
    assert set(everything) == set(before) | set(ids)
    for d, mid in zip(data, ids):
        k = key(d["component"]["name"], d["variable"]["name"], (d["component"].get("evse") or {}).get("id"))
        assert everything[mid] == (k, d["type"], d["value"], d["severity"]), (mid, everything[mid], d)

    # TC_N_01_CS: monitoringCriteria select by type.
    thresholds, periodic = {"UpperThreshold", "LowerThreshold"}, {"Periodic", "PeriodicClockAligned"}
    for rid, crit, types in ((101, ["ThresholdMonitoring"], thresholds),
                             (102, ["ThresholdMonitoring", "DeltaMonitoring"], thresholds | {"Delta"}),
                             (103, ["DeltaMonitoring", "PeriodicMonitoring"], periodic | {"Delta"})):
        resp, found = monitoring_report(csms, rid, crit)
        assert resp["status"] == "Accepted", resp
        assert set(found) == set(m for m, x in everything.items() if x[1] in types), (crit, found)

    # TC_N_02_CS: by component/variable; an EVSE without variable means all of its monitors.
    cvs = [{"component": comp("ChargingStation"), "variable": var("AvailabilityState")}, {"component": comp("EVSE", 1)}]
    resp, found = monitoring_report(csms, 201, None, cvs)
    assert resp["status"] == "Accepted"
    assert set(found) == set(m for m, x in everything.items()
                             if x[0] == avail_key("ChargingStation") or (x[0][0] == "EVSE" and x[0][2] == 1)), found
    assert pre[avail_key("EVSE", 1)] in found and ids[6] in found

    # TC_N_03_CS: criteria and component/variable together.
    cvs = [{"component": comp("ChargingStation"), "variable": var("AvailabilityState")},
           {"component": comp("EVSE", 1), "variable": var("AvailabilityState")}]
    resp, found = monitoring_report(csms, 301, ["ThresholdMonitoring"], cvs)
    assert resp["status"] == "EmptyResultSet" and reason(resp, "statusInfo") in (None, "NotFound"), resp
    resp, found = monitoring_report(csms, 302, ["DeltaMonitoring"], cvs)
    assert set(found) == {pre[avail_key("ChargingStation")], pre[avail_key("EVSE", 1)], ids[6]}, found

    # TC_N_40_CS (N04.FR.12): replace a custom monitor by its id.
    r = set_monitors(csms, mon(comp("EVSE", 1), "AvailabilityState", "Delta", 1, 4, id=ids[6]))[0]
    assert r["status"] == "Accepted" and r["id"] == ids[6], r
    resp, found = monitoring_report(csms, 401, ["DeltaMonitoring"], [cvs[1]])
    assert found[ids[6]][3] == 4, found
    # N04.FR.16: an id with another component/variable is Rejected; N04.FR.13: an unknown id too.
    res = set_monitors(csms, mon("AuthCtrlr", "Enabled", "Delta", 1, 1, id=ids[6]),
                       mon("AuthCtrlr", "Enabled", "Delta", 1, 1, id=987654))
    assert [r["status"] for r in res] == ["Rejected", "Rejected"], res

    # TC_N_18_CS: clear a custom and a preconfigured monitor; TC_N_19_CS: an unknown id.
    cs_pre = pre[avail_key("ChargingStation")]
    res = ok(csms, "ClearVariableMonitoring", {"id": [ids[0], cs_pre, 123456]}).payload["clearMonitoringResult"]
    assert [(r["id"], r["status"]) for r in res] == [(ids[0], "Accepted"), (cs_pre, "Accepted"), (123456, "NotFound")], res
    assert reason(res[2], "statusInfo") in (None, "NotFound")
    resp, _ = monitoring_report(csms, 1801, None, [cvs[0]])
    assert resp["status"] == "EmptyResultSet", resp
    resp, found = monitoring_report(csms, 1802)
    assert set(found) == set(everything) - {ids[0], cs_pre}

    # TC_N_44_CS (N06.FR.03): a hard-wired monitor cannot be cleared. The firmware hard-wires the
    # contactor's Problem monitor (core/devicemodel/standard.py HARDWARE).
    hard = [m for m, x in found.items() if x[0][0] == "PowerContactor" and x[0][4] == "Problem"]
    assert hard, found
    res = ok(csms, "ClearVariableMonitoring", {"id": hard[:1]}).payload["clearMonitoringResult"]
    assert res[0]["status"] == "Rejected", res
    # N06.FR.06: more ids than ItemsPerMessage[ClearVariableMonitoring] -> CALLERROR.
    n = int(value_of(csms, "MonitoringCtrlr", var("ItemsPerMessage", "ClearVariableMonitoring")))
    reply = csms.call("ClearVariableMonitoring", {"id": list(range(900000, 900001 + n))})
    assert reply.kind == CALLERROR and reply.error_code == "OccurrenceConstraintViolation", reply
    resp, found = monitoring_report(csms, 1803)
    assert set(found) == set(everything) - {ids[0], cs_pre}  # nothing else went


def test_monitoring_base(make_csms, make_station, kit):  # TC_N_05/06/41_CS, N03
    csms, st, _ = boot(make_csms, make_station, kit)
    wait_boot_events(csms, kit)
    resp, before = monitoring_report(csms, 1)
    pre_evse1 = [m for m, x in before.items() if x[0] == avail_key("EVSE", 1)]
    assert len(pre_evse1) == 1, before
    pre_evse1 = pre_evse1[0]
    pre_sev = before[pre_evse1][3]
    # Hard-wired: the contactor, RCD and meter Problem monitors (fault reporting, N07).
    hard = set(m for m, x in before.items() if x[0][0] in ("PowerContactor", "RCD", "ControlMetering"))

    # TC_N_41_CS (N04.FR.15): a custom monitor overrules the preconfigured one under its id...
    conn11 = comp("Connector", 1, 1)
    res = set_monitors(csms, mon(comp("EVSE", 1), "AvailabilityState", "Delta", 1, pre_sev + 1, id=pre_evse1),
                       mon(conn11, "AvailabilityState", "Delta", 1, 2))
    assert [r["status"] for r in res] == ["Accepted", "Accepted"], res
    custom = res[1]["id"]
    evse1_cv = [{"component": comp("EVSE", 1), "variable": var("AvailabilityState")}]
    resp, found = monitoring_report(csms, 2, ["DeltaMonitoring"], evse1_cv)
    assert {m: x[3] for m, x in found.items()} == {pre_evse1: pre_sev + 1}, found

    # ... and FactoryDefault brings the preconfigured one back and drops custom monitors (N03.FR.04).
    r = ok(csms, "SetMonitoringBase", {"monitoringBase": "FactoryDefault"}).payload
    assert r["status"] == "Accepted" and reason(r, "statusInfo") in (None, "NoError"), r
    resp, found = monitoring_report(csms, 3, ["DeltaMonitoring"], evse1_cv)
    assert {m: x[3] for m, x in found.items()} == {pre_evse1: pre_sev}, found
    resp, found = monitoring_report(csms, 4)
    assert set(found) == set(before), found
    assert value_of(csms, "MonitoringCtrlr", "ActiveMonitoringBase") == "FactoryDefault"

    # TC_N_06_CS (N03.FR.05): HardWiredOnly leaves only the hard-wired monitors...
    custom = set_monitors(csms, mon(conn11, "AvailabilityState", "Delta", 1, 2))[0]["id"]
    r = ok(csms, "SetMonitoringBase", {"monitoringBase": "HardWiredOnly"}).payload
    assert r["status"] == "Accepted", r
    resp, _ = monitoring_report(csms, 5, None, [cvt("ChargingStation", "AvailabilityState")])
    assert resp["status"] == "EmptyResultSet" and reason(resp, "statusInfo") in (None, "NotFound"), resp
    resp, found = monitoring_report(csms, 6)
    assert set(found) == hard, found
    # ... so a cable going in reports its status but no event.
    mark = csms.mark()
    st.send({"cmd": "plug", "evse": 1, "connector": 1})
    sn = wait_status(csms, mark, 1, 1, "Occupied")
    csms.wait_for(lambda: csms.answer_to(sn), 5, "the answer to StatusNotification")
    time.sleep(1.0)
    assert events(csms, mark) == [], events(csms, mark)

    # TC_N_05_CS: All turns the preconfigured monitors on again (the custom one stays gone).
    r = ok(csms, "SetMonitoringBase", {"monitoringBase": "All"}).payload
    assert r["status"] == "Accepted", r
    resp, found = monitoring_report(csms, 7)
    assert set(found) == set(before) and custom not in found, found
    mark = csms.mark()
    st.send({"cmd": "unplug", "evse": 1, "connector": 1})
    wait_event(csms, lambda e: ev_where(e, "Connector", "AvailabilityState", 1, 1) and e["actualValue"] == "Available",
               mark, "connector 1/1 Available from its preconfigured monitor")
    assert value_of(csms, "MonitoringCtrlr", "ActiveMonitoringBase") == "All"


def test_monitoring_level(make_csms, make_station, kit):  # TC_N_16/17_CS, N05
    csms, st, _ = boot(make_csms, make_station, kit)
    wait_boot_events(csms, kit)

    # TC_N_17_CS (N05.FR.02): outside 0..9 -> Rejected.
    for sev, alt in ((10, "ValueTooHigh"), (-1, "ValueTooLow")):
        r = ok(csms, "SetMonitoringLevel", {"severity": sev}).payload
        assert r["status"] == "Rejected" and reason(r, "statusInfo") in (None, "ValueOutOfRange", alt), r
    assert value_of(csms, "MonitoringCtrlr", "ActiveMonitoringLevel") == "9"

    conn22 = comp("Connector", 2, 2)
    important = set_monitors(csms, mon(conn22, "AvailabilityState", "Delta", 1, 3))[0]["id"]
    # TC_N_16_CS (N05.FR.01/03): level 7 suppresses the severity-8 preconfigured monitors.
    r = ok(csms, "SetMonitoringLevel", {"severity": 7}).payload
    assert r["status"] == "Accepted" and reason(r, "statusInfo") in (None, "NoError"), r
    assert value_of(csms, "MonitoringCtrlr", "ActiveMonitoringLevel") == "7"
    _, found = monitoring_report(csms, 1, ["DeltaMonitoring"], [cvt(comp("EVSE", 1), "AvailabilityState")])
    assert all(x[3] > 7 for x in found.values()), found  # the EVSE's monitors are all below the level

    mark = csms.mark()
    st.send({"cmd": "plug", "evse": 1, "connector": 1})
    wait_status(csms, mark, 1, 1, "Occupied")
    st.send({"cmd": "plug", "evse": 2, "connector": 2})
    _, e = wait_event(csms, lambda e: e.get("variableMonitoringId") == important, mark, "the severity-3 monitor")
    assert e["actualValue"] == "Occupied" and e["component"] == conn22, e
    wait_status(csms, mark, 2, 2, "Occupied")
    seen = [e for _, e in events(csms, mark)]
    assert [e["variableMonitoringId"] for e in seen] == [important], seen  # nothing for EVSE 1, nothing above 7

    # Back to 9: the severity-8 monitors report again.
    assert ok(csms, "SetMonitoringLevel", {"severity": 9}).payload["status"] == "Accepted"
    mark = csms.mark()
    st.send({"cmd": "unplug", "evse": 1, "connector": 1})
    wait_event(csms, lambda e: ev_where(e, "EVSE", "AvailabilityState", 1) and e["actualValue"] == "Available",
               mark, "EVSE 1 Available")

    # MonitoringCtrlr.Enabled false: no monitor reports anything, whatever its severity.
    assert set_vars(csms, sv("MonitoringCtrlr", "Enabled", "false"))[0]["attributeStatus"] == "Accepted"
    mark = csms.mark()
    st.send({"cmd": "unplug", "evse": 2, "connector": 2})
    sn = wait_status(csms, mark, 2, 2, "Available")
    csms.wait_for(lambda: csms.answer_to(sn), 5, "the answer to StatusNotification")
    time.sleep(1.0)
    assert events(csms, mark) == [], events(csms, mark)
    assert set_vars(csms, sv("MonitoringCtrlr", "Enabled", "true"))[0]["attributeStatus"] == "Accepted"
    mark = csms.mark()
    st.send({"cmd": "plug", "evse": 2, "connector": 2})
    wait_event(csms, lambda e: e.get("variableMonitoringId") == important and e["actualValue"] == "Occupied",
               mark, "the severity-3 monitor once monitoring is enabled again")


def test_events_queued_offline_by_severity(make_csms, make_station, kit):  # TC_N_22/23_CS, N07.FR.04
    csms, st, _ = boot(make_csms, make_station, kit)
    wait_boot_events(csms, kit)
    assert set_vars(csms, sv("MonitoringCtrlr", "OfflineQueuingSeverity", "5"))[0]["attributeStatus"] == "Accepted"
    conn11 = comp("Connector", 1, 1)
    kept = set_monitors(csms, mon(conn11, "AvailabilityState", "Delta", 1, 5))[0]["id"]  # = OfflineQueuingSeverity
    _, found = monitoring_report(csms, 1, ["DeltaMonitoring"], [cvt(comp("EVSE", 1), "AvailabilityState")])
    assert found and all(x[3] > 5 for x in found.values()), found  # EVSE 1's monitor: above it, not queued

    # Offline: the CSMS drops the connection and refuses to take it back for now.
    ev_mark = st.mark()
    csms.refuse(None)
    csms.drop("tcp")
    st.wait_event("disconnected", since=ev_mark, timeout=5)
    st.send({"cmd": "plug", "evse": 1, "connector": 1})
    st.wait_event("status", lambda e: e.get("evse") == 1 and e.get("connector") == 1 and e.get("status") == "Occupied",
                  since=ev_mark, timeout=5)
    time.sleep(0.5)
    mark = csms.mark()
    csms.accept_connections()
    csms.wait_for(lambda: len(csms.accepted()) >= 2, 10, "the station to reconnect")

    f, e = wait_event(csms, lambda e: e.get("variableMonitoringId") == kept, mark, "the queued severity-5 event")
    assert (e["trigger"], e["actualValue"], e["component"]) == ("Delta", "Occupied", conn11), e
    assert parse_time(e["timestamp"]) <= parse_time(f.payload["generatedAt"])  # the time it happened, not sent
    wait_status(csms, mark, 1, 1, "Occupied")
    time.sleep(1.0)
    # TC_N_23_CS: nothing above OfflineQueuingSeverity from the offline period (EVSE 1, the severity-8 monitors).
    others = [x for _, x in events(csms, mark) if x.get("variableMonitoringId") != kept]
    assert others == [], others
    assert csms.calls("BootNotification", since=mark) == []


def test_numeric_delta_periodic_and_write_only_monitors(make_csms, make_station, kit):  # TC_N_24/61/48_CS
    csms, _, _ = boot(make_csms, make_station, kit)
    ot = ("OCPPCommCtrlr", "OfflineThreshold")
    # TC_N_61_CS (N07.FR.18): a numeric Delta fires when the value moved by more than `value` from the
    # value it last reported (or had when the monitor was set), in either direction (issue 8: not "at least").
    delta = set_monitors(csms, mon(*ot, type_="Delta", value=2, severity=5))[0]
    assert delta["status"] == "Accepted", delta
    delta = delta["id"]
    pw = set_monitors(csms, mon("SecurityCtrlr", "BasicAuthPassword", "Delta", 1, 5))[0]
    assert pw["status"] == "Accepted", pw
    pw = pw["id"]
    mark = csms.mark()
    for value in ("322", "323", "324", "325", "327", "324"):  # from 321: +1, +2 no; +3 yes; +1 no, +3 yes, -3 yes
        assert set_vars(csms, sv(*ot, value))[0]["attributeStatus"] == "Accepted"
    csms.wait_for(lambda: len([e for _, e in events(csms, mark) if e.get("variableMonitoringId") == delta]) >= 3, 8,
                  "three Delta events")
    got = [e for _, e in events(csms, mark) if e.get("variableMonitoringId") == delta]
    assert [(e["trigger"], e["actualValue"]) for e in got] == [("Delta", "324"), ("Delta", "327"), ("Delta", "324")], got

    # TC_N_48_CS (N07.FR.10): an event on a WriteOnly variable carries an empty actualValue.
    secret = "another-secret-password-42"
    mark = csms.mark()
    r = set_vars(csms, sv("SecurityCtrlr", "BasicAuthPassword", secret))[0]
    assert r["attributeStatus"] in ("Accepted", "RebootRequired"), r
    _, e = wait_event(csms, lambda e: e.get("variableMonitoringId") == pw, mark, "the BasicAuthPassword monitor")
    assert e["actualValue"] == "" and e["component"] == {"name": "SecurityCtrlr"}, e
    assert not [x for x in csms.station_frames() if isinstance(x.text, str) and secret in x.text]
    time.sleep(0.5)
    got2 = [e for _, e in events(csms, mark) if e.get("variableMonitoringId") == delta]
    assert got2 == [], got2  # the password change moved nothing else

    # TC_N_24_CS (N08.FR.01/05): a Periodic monitor reports the value every `value` seconds, until cleared.
    periodic = set_monitors(csms, mon(comp("EVSE", 1), "AvailabilityState", "Periodic", 1, 5))[0]
    assert periodic["status"] == "Accepted", periodic
    periodic = periodic["id"]
    mark = csms.mark()
    csms.wait_for(lambda: len([1 for _, e in events(csms, mark) if e.get("variableMonitoringId") == periodic]) >= 3,
                  6, "three Periodic events")
    got = [(f, e) for f, e in events(csms, mark) if e.get("variableMonitoringId") == periodic]
    assert all(e["trigger"] == "Periodic" and e["actualValue"] == "Available" and e["component"] == comp("EVSE", 1)
               for _, e in got), got
    gaps = [b[0].t - a[0].t for a, b in zip(got, got[1:])]
    assert all(0.6 <= g <= 1.6 for g in gaps), gaps
    r = ok(csms, "ClearVariableMonitoring", {"id": [periodic]}).payload["clearMonitoringResult"][0]
    assert r["status"] == "Accepted", r
    cleared = csms.mark()
    time.sleep(1.6)
    assert not [e for _, e in events(csms, cleared) if e.get("variableMonitoringId") == periodic]
