# Issue 8, N07 monitors on power: the meter feeds EVSE.Power and ChargingStation.Power into the device
# model (core/blocks/j_meter_values/metering.py MeterFeed), so threshold monitors on them trip while
# 7.4 kW flows, and clear again when it stops.
CALLRESULT = 3


def mon(component, type_, value, evse=None):
    c = {"name": component}
    if evse is not None:
        c["evse"] = {"id": evse}
    return {"component": c, "variable": {"name": "Power"}, "type": type_, "value": value, "severity": 5}


def power_events(csms, since):
    out = []
    for f in csms.calls("NotifyEvent", since=since):
        for e in f.payload["eventData"]:
            if e["variable"]["name"] == "Power":
                out.append(e)
    return out


def test_threshold_monitors_on_evse_and_station_power(make_csms, make_station, kit):
    csms = make_csms()
    st = make_station(kit.station_config(csms.url))
    kit.wait_booted(csms, st)
    r = csms.call("SetVariableMonitoring", {"setMonitoringData": [
        mon("EVSE", "UpperThreshold", 7000, evse=1), mon("ChargingStation", "UpperThreshold", 7000)]})
    assert r.kind == CALLRESULT and [x["status"] for x in r.payload["setMonitoringResult"]] == ["Accepted"] * 2, r
    ids = {x["component"]["name"]: x["id"] for x in r.payload["setMonitoringResult"]}
    m = csms.mark()
    st.send({"cmd": "plug", "evse": 1, "connector": 1})
    st.send({"cmd": "tag", "id": "AABBCCDD", "type": "ISO14443", "evse": 1})
    st.send({"cmd": "ev", "evse": 1, "state": "C"})
    st.send({"cmd": "load", "evse": 1, "watts": 7400})

    def both():
        evs = [e for e in power_events(csms, m) if e["trigger"] == "Alerting" and not e.get("cleared")]
        return evs if set(e["component"]["name"] for e in evs) >= {"EVSE", "ChargingStation"} else None
    evs = csms.wait_for(both, 20, "NotifyEvent for EVSE.Power and ChargingStation.Power")
    for e in evs:
        assert float(e["actualValue"]) > 7000, e
        assert e["variableMonitoringId"] == ids[e["component"]["name"]], e
    evse = [e for e in evs if e["component"]["name"] == "EVSE"][0]
    assert evse["component"]["evse"]["id"] == 1

    # GetVariables reports the live value
    r = csms.call("GetVariables", {"getVariableData": [
        {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}},
        {"component": {"name": "ChargingStation"}, "variable": {"name": "Power"}}]})
    values = [float(x["attributeValue"]) for x in r.payload["getVariableResult"]]
    assert all(v > 7000 for v in values), r.payload

    # the load stops: both clear (N07.FR.02-style back to normal)
    m = csms.mark()
    st.send({"cmd": "load", "evse": 1, "watts": 0})

    def cleared():
        evs = [e for e in power_events(csms, m) if e.get("cleared")]
        return evs if set(e["component"]["name"] for e in evs) >= {"EVSE", "ChargingStation"} else None
    csms.wait_for(cleared, 20, "cleared NotifyEvent for both Power monitors")
