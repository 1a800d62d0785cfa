# Issue 8, G03/G04 nesting: station, EVSE and connector availability are separate persisted settings;
# a connector is usable only when all three are Operative. Setting an EVSE (or the station) Operative
# does not clear an earlier connector-level Inoperative (core/blocks/g_availability/availability.py).
import time

CALLRESULT = 3


def change(csms, op, evse=None, connector=None):
    p = {"operationalStatus": op}
    if evse is not None:
        p["evse"] = {"id": evse}
        if connector is not None:
            p["evse"]["connectorId"] = connector
    r = csms.call("ChangeAvailability", p)
    assert r.kind == CALLRESULT, r
    return r.payload["status"]


def latest(csms, since):
    out = {}
    for f in csms.calls("StatusNotification", since=since):
        out[(f.payload["evseId"], f.payload["connectorId"])] = f.payload["connectorStatus"]
    return out


def wait_latest(csms, since, want):
    return csms.wait_for(lambda: all(latest(csms, since).get(k) == v for k, v in want.items()), 10,
                         "StatusNotification %s" % want)


def test_evse_operative_keeps_connector_inoperative(make_csms, make_station, kit):
    csms = make_csms()
    cfg = kit.station_config(csms.url)
    st = make_station(cfg)
    kit.wait_booted(csms, st)
    m = csms.mark()
    assert change(csms, "Inoperative", 2, 2) == "Accepted"
    assert change(csms, "Inoperative", 2) == "Accepted"
    wait_latest(csms, m, {(2, 1): "Unavailable", (2, 2): "Unavailable"})
    m = csms.mark()
    assert change(csms, "Operative", 2) == "Accepted"
    wait_latest(csms, m, {(2, 1): "Available"})
    time.sleep(0.5)
    assert (2, 2) not in latest(csms, m) or latest(csms, m)[(2, 2)] == "Unavailable", latest(csms, m)

    # the station level too: Inoperative then Operative leaves connector 2/2 off
    m = csms.mark()
    assert change(csms, "Inoperative") == "Accepted"
    wait_latest(csms, m, {(1, 1): "Unavailable", (2, 1): "Unavailable"})
    m = csms.mark()
    assert change(csms, "Operative") == "Accepted"
    wait_latest(csms, m, {(1, 1): "Available", (2, 1): "Available"})
    time.sleep(0.5)
    assert latest(csms, m).get((2, 2), "Unavailable") == "Unavailable"

    # persisted as separate settings: a reboot keeps connector 2/2 off, the rest on
    st.kill()
    m = csms.mark()
    st2 = make_station(cfg, state_dir=st.state_dir)
    boot, answer = kit.wait_booted(csms, st2, since=m)
    assert kit.status_notifications(csms, since=answer.index) == {
        (1, 1): "Available", (2, 1): "Available", (2, 2): "Unavailable"}
    # only an Operative for the connector itself brings it back
    m = csms.mark()
    assert change(csms, "Operative", 2, 2) == "Accepted"
    wait_latest(csms, m, {(2, 2): "Available"})
