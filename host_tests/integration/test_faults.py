# Issue 11 fault reporting (diag/faults.py): an RCD trip, a welded contactor or a silent meter becomes
# the connector status Faulted, a NotifyEvent on the component's Problem variable from its hard-wired
# monitor (N07, TC_N_21-style), and a log record in the DiagnosticsLog ring. Before issue 11 the
# ground-fault path reached no notification at all.
import glob
import os


def events(csms, since=0):
    out = []
    for f in csms.calls("NotifyEvent", since=since):
        for e in f.payload["eventData"]:
            out.append(e)
    return out


def problem(csms, comp, evse, since):
    return [e for e in events(csms, since) if e["component"]["name"] == comp
            and e["component"].get("evse", {}).get("id") == evse and e["variable"]["name"] == "Problem"]


def ring_text(state):
    text = ""
    for n in sorted(glob.glob(os.path.join(state, "diaglog.*"))):
        with open(n, "rb") as f:
            text += f.read().decode(errors="replace")
    return text


def test_faults_reach_status_notifyevent_and_log(make_csms, make_station, kit):
    csms = make_csms(heartbeat_interval=600)
    st = make_station(kit.station_config(csms.url))
    kit.wait_booted(csms, st)
    for evse, code, comp in ((1, "GroundFailure", "RCD"), (2, "ContactorWelded", "PowerContactor")):
        m = csms.mark()
        st.send({"cmd": "fault", "evse": evse, "code": code})
        csms.wait_for(lambda: problem(csms, comp, evse, m), 10, "NotifyEvent %s.Problem" % comp)
        e = problem(csms, comp, evse, m)[0]
        assert e["actualValue"] == "true" and e["eventNotificationType"] == "HardWiredMonitor", e
        assert e["trigger"] == "Delta"
        csms.wait_for(lambda: kit.status_notifications(csms, m).get((evse, 1)) == "Faulted", 10, "Faulted")
        assert "fault on EVSE %d" % evse in ring_text(st.state_dir) and code in ring_text(st.state_dir)
    # Cleared: Problem false, the connector Available again.
    m = csms.mark()
    st.send({"cmd": "clear_fault", "evse": 1})
    csms.wait_for(lambda: problem(csms, "RCD", 1, m), 10, "NotifyEvent RCD.Problem false")
    assert problem(csms, "RCD", 1, m)[0]["actualValue"] == "false"
    csms.wait_for(lambda: kit.status_notifications(csms, m).get((1, 1)) == "Available", 10, "Available")
    # A meter that stops answering.
    m = csms.mark()
    st.send({"cmd": "fault", "evse": 1, "code": "MeterFailure"})
    csms.wait_for(lambda: problem(csms, "ControlMetering", 1, m), 10, "NotifyEvent ControlMetering.Problem")
