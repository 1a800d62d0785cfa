# Issue 8, conformance defects of the E, C, F and H blocks, end to end: the real station process
# (tools/station, MicroPython unix port) against the CSMS on the `ocpp` package. Each test names the
# Part 2 requirement ids (and Part 6 test cases) it checks; each failed before its fix unless its
# docstring says otherwise.
import time

import pytest
from drive import (authorized, charge, drained, ev, load, ok, plug, tag, tid_of, tok, Tokens, tx_calls,
    unplug, wait_tx)

HEARTBEAT = 60
BASE_DM = (
    ("AlignedDataCtrlr", "Interval", 0),
    ("SampledDataCtrlr", "TxUpdatedInterval", 0),
)


def boot(make_csms, make_station, kit, tokens=None, dm=(), evses=None):
    csms = make_csms(heartbeat_interval=HEARTBEAT)
    if tokens is not None:
        tokens.install(csms)
    cfg = kit.station_config(csms.url, device_model=[kit.dm(c, v, x) for c, v, x in BASE_DM + tuple(dm)])
    if evses is not None:
        cfg["evses"] = evses
    st = make_station(cfg)
    conns = set((e["id"], c) for e in cfg["evses"] for c in range(1, e["connectors"] + 1))
    b = csms.wait_call("BootNotification", timeout=15)
    a = csms.wait_for(lambda: csms.answer_to(b), 5, "BootNotificationResponse")
    assert a.payload["status"] == "Accepted"
    csms.wait_for(lambda: set(kit.status_notifications(csms, since=a.index)) >= conns, 15, "statuses")
    return csms, st


def start_session(st, evse, id_token, tag_evse=True):
    s = st.mark()
    plug(st, evse)
    tag(st, id_token, evse if tag_evse else None)
    e = authorized(st, id_token, s)
    assert e["status"] == "Accepted", e
    return charge(st, evse, s)


ONE_EVSE = [{"id": 1, "connectors": 1}]


# ---------------------------------------------------------------------------------------------
# C09 group id
# ---------------------------------------------------------------------------------------------

def test_c09_group_member_without_evse_stops_on_one_evse_station(make_csms, make_station, kit):
    """C09.FR.02/C09.FR.03 (TC_C_39_CS / TC_C_40_CS): on a one-EVSE station, another idToken of the
    starting token's groupIdToken, presented without an EVSE choice, stops the running transaction
    (triggerReason StopAuthorized, stoppedReason Local, idToken of the stopper). C09.FR.11: a token of
    another group does not stop it."""
    tokens = Tokens({"GRP-A": ("Accepted", "FLEET-1"), "GRP-B": ("Accepted", "FLEET-1"),
                     "OTHER-1": ("Accepted", "FLEET-2")})
    csms, st = boot(make_csms, make_station, kit, tokens, evses=ONE_EVSE)
    started = start_session(st, 1, "GRP-A", tag_evse=False)
    s = st.mark()
    tag(st, "OTHER-1")
    assert authorized(st, "OTHER-1", s)["status"] in ("NotAllowedToStop", "NoEVSE")
    m = csms.mark()
    tag(st, "GRP-B")
    ended = wait_tx(csms, "Ended", since=m, tid=started["id"])
    assert ended.payload["triggerReason"] == "StopAuthorized"
    assert ended.payload["transactionInfo"]["stoppedReason"] == "Local"
    assert ended.payload["idToken"] == tok("GRP-B")


def test_c09_group_member_without_evse_stops_its_session_on_two_evse_station(make_csms, make_station, kit):
    """C09.FR.03 on a two-EVSE station: without an EVSE choice, the group member stops the one session of
    its group (the other EVSE's session, of another group, goes on)."""
    tokens = Tokens({"GRP-A": ("Accepted", "FLEET-1"), "GRP-B": ("Accepted", "FLEET-1"),
                     "OTHER-1": ("Accepted", "FLEET-2")})
    csms, st = boot(make_csms, make_station, kit, tokens)
    a = start_session(st, 1, "GRP-A")
    b = start_session(st, 2, "OTHER-1")
    m = csms.mark()
    tag(st, "GRP-B")
    ended = wait_tx(csms, "Ended", since=m, tid=a["id"])
    assert ended.payload["triggerReason"] == "StopAuthorized"
    time.sleep(0.5)
    assert not tx_calls(csms, since=m, tid=b["id"], etype="Ended")


# ---------------------------------------------------------------------------------------------
# C12 / E05 MaxEnergyOnInvalidId
# ---------------------------------------------------------------------------------------------

INVALID_AT_TX = dict(table={"INV-1": "Accepted"}, tx_table={"INV-1": "Invalid"})


def test_c12_stop_tx_on_invalid_id_false_keeps_charging_until_energy_limit(make_csms, make_station, kit):
    """C12.FR.04 / E05 (TC_C_15_CS): TxCtrlr.StopTxOnInvalidId false, MaxEnergyOnInvalidId 10000: the
    TransactionEventResponse says Invalid, yet the transaction is not deauthorized: no event with
    triggerReason Deauthorized, no SuspendedEVSE, the power path stays closed."""
    csms, st = boot(make_csms, make_station, kit, Tokens(**INVALID_AT_TX),
                    dm=[("TxCtrlr", "StopTxOnInvalidId", "false"), ("TxCtrlr", "MaxEnergyOnInvalidId", 10000)])
    s, m = st.mark(), csms.mark()
    started = start_session(st, 1, "INV-1")
    first = wait_tx(csms, None, since=m, tid=started["id"], pred=lambda p: "idToken" in p)
    csms.wait_for(lambda: csms.answer_to(first), 5, "answer")
    time.sleep(2)
    frames = tx_calls(csms, since=m, tid=started["id"])
    assert not [f for f in frames if f.payload["triggerReason"] == "Deauthorized"], frames
    assert not [f for f in frames if f.payload["transactionInfo"].get("chargingState") == "SuspendedEVSE"], frames
    assert not [f for f in frames if f.payload["eventType"] == "Ended"], frames
    assert [e for e in st.named("pilot", s) if e["evse"] == 1][-1]["contactor"], st.named("pilot", s)


def test_c12_energy_limit_reached_suspends(make_csms, make_station, kit):
    """C12.FR.04 / E05: with a small MaxEnergyOnInvalidId (2 Wh) the energy limit is reached soon: an
    Updated event with triggerReason EnergyLimitReached and chargingState SuspendedEVSE; the transaction
    stays (TxStopPoint EVConnected,Authorized both still true) and never says Deauthorized."""
    csms, st = boot(make_csms, make_station, kit, Tokens(**INVALID_AT_TX),
                    dm=[("TxCtrlr", "StopTxOnInvalidId", "false"), ("TxCtrlr", "MaxEnergyOnInvalidId", 2)])
    m = csms.mark()
    started = start_session(st, 1, "INV-1")
    lim = wait_tx(csms, "Updated", since=m, tid=started["id"], timeout=15,
                  pred=lambda p: p["triggerReason"] == "EnergyLimitReached")
    assert lim.payload["transactionInfo"]["chargingState"] == "SuspendedEVSE"
    frames = tx_calls(csms, since=m, tid=started["id"])
    assert not [f for f in frames if f.payload["triggerReason"] == "Deauthorized"], frames
    assert not [f for f in frames if f.payload["eventType"] == "Ended"], frames


# ---------------------------------------------------------------------------------------------
# C14 local list vs online authorization
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pre", ["true", "false"])
def test_c14_local_list_invalid_then_csms_accepts_charges(make_csms, make_station, kit, pre):
    """C14.FR.03 (TC_C_28_CS..TC_C_31_CS) with LocalAuthListCtrlr.DisablePostAuthorize false: an idToken
    listed as Invalid in the local list is asked at the CSMS (AuthorizeRequest, C01.FR.01) and the CSMS's
    Accepted decides (C01.FR.02/C14.FR.03): charging starts and the Started event carries the idToken.
    LocalPreAuthorize true and false (C10.FR.11: always ask). Not reproduced as a defect on this code
    (it passed before the issue-8 fixes too): kept as the regression test of the reported scenario."""
    tokens = Tokens({"LL-INV": "Accepted"})
    csms, st = boot(make_csms, make_station, kit, tokens,
                    dm=[("AuthCtrlr", "LocalPreAuthorize", pre), ("LocalAuthListCtrlr", "Enabled", "true"),
                        ("LocalAuthListCtrlr", "DisablePostAuthorize", "false")])
    res = ok(csms, "SendLocalList", {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [
        {"idToken": tok("LL-INV"), "idTokenInfo": {"status": "Invalid"}}]})
    assert res["status"] == "Accepted"
    m = csms.mark()
    started = start_session(st, 1, "LL-INV")
    assert [f.payload["idToken"] for f in csms.calls("Authorize", since=m)] == [tok("LL-INV")]
    first = wait_tx(csms, "Started", since=m, tid=started["id"])
    assert first.payload["idToken"] == tok("LL-INV")
    time.sleep(1)
    frames = tx_calls(csms, since=m, tid=started["id"])
    assert not [f for f in frames if f.payload["eventType"] == "Ended"
                or f.payload["triggerReason"] == "Deauthorized"], frames


# ---------------------------------------------------------------------------------------------
# H03 reservation for a groupIdToken, RequestStartTransaction with another idToken
# ---------------------------------------------------------------------------------------------

def _iso_in(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))


@pytest.mark.parametrize("authorize_remote_start", ["true", "false"])
def test_h03_remote_start_with_group_member_on_group_reservation(make_csms, make_station, kit,
                                                                 authorize_remote_start):
    """H03.FR.04 (TC_H_19_CS) with F01.FR.01/F01.FR.02 (AuthorizeRemoteStart true and false): an EVSE is
    reserved for idToken RES-1 with groupIdToken FLEET-1. RequestStartTransaction for another idToken
    GRP-B is not refused at once: the station authorizes GRP-B (AuthorizeRequest), finds its group FLEET-1
    equal to the reservation's and charges, the Started event carrying reservationId (H03.FR.09). A token
    of another group (OTHER-1) gets Accepted for the request but, once its group is known, starts nothing
    and leaves the reservation in place (F01.FR.22 / H03.FR.01)."""
    tokens = Tokens({"RES-1": ("Accepted", "FLEET-1"), "GRP-B": ("Accepted", "FLEET-1"),
                     "OTHER-1": ("Accepted", "FLEET-2")})
    csms, st = boot(make_csms, make_station, kit, tokens,
                    dm=[("AuthCtrlr", "AuthorizeRemoteStart", authorize_remote_start)])
    res = ok(csms, "ReserveNow", {"id": 5, "expiryDateTime": _iso_in(120), "idToken": tok("RES-1"),
                                  "groupIdToken": {"idToken": "FLEET-1", "type": "Central"}, "evseId": 2})
    assert res["status"] == "Accepted"
    s, m = st.mark(), csms.mark()
    plug(st, 2)
    # Another group: nothing starts.
    res = ok(csms, "RequestStartTransaction", {"idToken": tok("OTHER-1"), "remoteStartId": 8, "evseId": 2})
    assert res["status"] == "Accepted"
    assert authorized(st, "OTHER-1", s)["status"] == "Reserved"
    assert [f.payload["idToken"] for f in csms.calls("Authorize", since=m)] == [tok("OTHER-1")]
    time.sleep(0.5)
    assert tx_calls(csms, since=m) == []
    # A member of the reservation's group: authorized, its group compared, charges with reservationId.
    m = csms.mark()
    res = ok(csms, "RequestStartTransaction", {"idToken": tok("GRP-B"), "remoteStartId": 9, "evseId": 2})
    assert res["status"] == "Accepted"
    assert csms.wait_call("Authorize", since=m).payload["idToken"] == tok("GRP-B")
    started = charge(st, 2, s)
    first = wait_tx(csms, "Started", since=m, tid=started["id"])
    assert first.payload.get("reservationId") == 5, first.payload
    assert first.payload["idToken"] == tok("GRP-B")
    assert first.payload["triggerReason"] == "RemoteStart"


# ---------------------------------------------------------------------------------------------
# Order of StatusNotification and TransactionEvent (issue 8)
# ---------------------------------------------------------------------------------------------

def _slow_tx(csms, delay=0.4):
    import asyncio

    async def answer(p, s):
        await asyncio.sleep(delay)
        return {"idTokenInfo": {"status": "Accepted"}} if "idToken" in p else {}
    csms.responders["TransactionEvent"] = answer


def _order(csms, since, tid):
    out = []
    for f in csms.station_frames(since=since):
        if f.action == "TransactionEvent" and f.payload["transactionInfo"]["transactionId"] == tid:
            out.append(("TE", f.payload["eventType"]))
        elif f.action == "StatusNotification" and f.payload["evseId"] == 1:
            out.append(("SN", f.payload["connectorStatus"]))
    return out


def test_order_ended_before_available_online(make_csms, make_station, kit):
    """G01 / E06 (TC_E_09_CS-like: stop by the driver, then unplug): the Ended event of the stop is
    generated before the Available of the unplug and reaches the CSMS first, also while the CSMS is slow
    to answer TransactionEvents (the stop's Ended waits in the queue behind an Updated in flight)."""
    csms, st = boot(make_csms, make_station, kit, Tokens({"ORD-1": "Accepted"}))
    _slow_tx(csms)
    m = csms.mark()
    started = start_session(st, 1, "ORD-1")
    s = st.mark()
    ev(st, 1, "B")  # Updated (SuspendedEV) in flight
    tag(st, "ORD-1", 1)  # Ended queued behind it
    st.wait_event("transaction", lambda e: e["type"] == "Ended", since=s)
    unplug(st, 1)
    csms.wait_for(lambda: ("SN", "Available") in _order(csms, m, started["id"])
                  and ("TE", "Ended") in _order(csms, m, started["id"]), 15, "Ended and Available")
    o = _order(csms, m, started["id"])
    assert o.index(("TE", "Ended")) < o.index(("SN", "Available")), o


def test_order_ended_before_available_after_offline(make_csms, make_station, kit):
    """E04/E11 offline queue with B04 reconnect statuses: stop and unplug while offline; after the
    reconnection the queued Ended (made first) is delivered before the Available status (made after)."""
    csms, st = boot(make_csms, make_station, kit, Tokens({"ORD-2": "Accepted"}))
    started = start_session(st, 1, "ORD-2")
    drained(csms)
    s = st.mark()
    csms.refuse(None)
    csms.drop("tcp")
    st.wait_event("disconnected", since=s, timeout=10)
    tag(st, "ORD-2", 1)
    st.wait_event("transaction", lambda e: e["type"] == "Ended", since=s)
    unplug(st, 1)
    st.wait_event("status", lambda e: e["evse"] == 1 and e["status"] == "Available", since=s)
    m = csms.mark()
    csms.accept_connections()
    csms.wait_for(lambda: ("SN", "Available") in _order(csms, m, started["id"])
                  and ("TE", "Ended") in _order(csms, m, started["id"]), 20, "Ended and Available")
    o = _order(csms, m, started["id"])
    assert o.index(("TE", "Ended")) < o.index(("SN", "Available")), o


def test_order_unplug_ends_then_available(make_csms, make_station, kit):
    """TC_E_14_CS (E06.FR.02, TxStopPoint EVConnected), a guard for the order above: the unplug ends the
    transaction (Ended, triggerReason EVCommunicationLost, chargingState Idle), then the connector becomes
    Available; both reach the CSMS in that order (the order the station generated them)."""
    csms, st = boot(make_csms, make_station, kit, Tokens({"ORD-3": "Accepted"}),
                    dm=[("TxCtrlr", "TxStopPoint", "EVConnected")])
    _slow_tx(csms, 0.2)
    m = csms.mark()
    started = start_session(st, 1, "ORD-3")
    unplug(st, 1)
    csms.wait_for(lambda: ("SN", "Available") in _order(csms, m, started["id"])
                  and ("TE", "Ended") in _order(csms, m, started["id"]), 15, "Ended and Available")
    o = _order(csms, m, started["id"])
    assert o.index(("TE", "Ended")) < o.index(("SN", "Available")), o
    end = wait_tx(csms, "Ended", since=m, tid=started["id"]).payload
    assert end["triggerReason"] == "EVCommunicationLost"
    assert end["transactionInfo"]["chargingState"] == "Idle"


# ---------------------------------------------------------------------------------------------
# E06 / E09 / E10: EV-side disconnect (pilot state A, cable still in the socket), and Ended states
# ---------------------------------------------------------------------------------------------

def _states(frames):
    return [(f.payload["eventType"], f.payload["triggerReason"], f.payload["transactionInfo"].get("chargingState"))
            for f in frames]


EV_SIDE = [
    # (TxStopPoint, StopTxOnEVSideDisconnect, ends, requirement ids / test cases)
    ("EVConnected", "false", True),                # E06.FR.02, TC_E_20_CS
    ("EVConnected", "true", True),                 # E06.FR.02, E09.FR.01
    ("EVConnected,Authorized", "true", True),      # default points, E09.FR.01/04
    ("Authorized", "true", True),                  # E09.FR.01/04, E06.FR.03, TC_E_24_CS / TC_E_25_CS
    ("Authorized", "false", False),                # E10.FR.01/03, TC_E_26_CS
    ("PowerPathClosed", "false", True),            # E06.FR.06 (the EV opens the power path by leaving)
    ("EnergyTransfer", "false", True),             # E06.FR.07
]


@pytest.mark.parametrize("stop_point,stop_tx,ends", EV_SIDE)
def test_e06_e09_e10_ev_side_disconnect(make_csms, make_station, kit, stop_point, stop_tx, ends):
    """E09 / E10 / E06 for every TxStopPoint value the board supports: the EV leaves (pilot state A) while
    the cable stays in the socket. Reported as triggerReason EVCommunicationLost, chargingState Idle
    (E09.FR.04, E10.FR.03; TC_E_20/24/25/26_CS), never SuspendedEVSE. The transaction ends (stoppedReason
    EVDisconnected) when a TxStopPoint condition falls (E06.FR.02/03/06/07) or StopTxOnEVSideDisconnect
    deauthorizes it (E09.FR.01); with TxStopPoint Authorized and StopTxOnEVSideDisconnect false it is
    suspended (Updated) and resumes when the EV comes back: CablePluggedIn / EVConnected, then Charging
    (E10.FR.01, TC_E_26_CS steps 5 and 7). The connector stays Occupied while the cable is in the socket."""
    csms, st = boot(make_csms, make_station, kit, Tokens({"EVS-1": "Accepted"}),
                    dm=[("TxCtrlr", "TxStopPoint", stop_point), ("TxCtrlr", "StopTxOnEVSideDisconnect", stop_tx)])
    started = start_session(st, 1, "EVS-1")
    tid = started["id"]
    wait_tx(csms, None, tid=tid, pred=lambda p: p["transactionInfo"].get("chargingState") == "Charging")
    m, s = csms.mark(), st.mark()
    ev(st, 1, "A")
    st.wait_event("pilot", lambda e: e["evse"] == 1 and not e["contactor"], since=s)
    first = wait_tx(csms, None, since=m, tid=tid)
    p = first.payload
    assert p["triggerReason"] == "EVCommunicationLost", _states(tx_calls(csms, m, tid))
    assert p["transactionInfo"]["chargingState"] == "Idle", p
    assert p["eventType"] == ("Ended" if ends else "Updated"), p
    if ends:
        assert p["transactionInfo"]["stoppedReason"] == "EVDisconnected", p
    time.sleep(1.2)
    frames = tx_calls(csms, m, tid)
    assert [f for f in frames if f.payload["transactionInfo"].get("chargingState") == "SuspendedEVSE"] == [], \
        _states(frames)
    assert len(frames) == 1, _states(frames)
    assert kit.status_notifications(csms, since=m).get((1, 1)) in (None, "Occupied")  # cable in the socket
    if not ends:
        m2 = csms.mark()
        ev(st, 1, "B")
        back = wait_tx(csms, "Updated", since=m2, tid=tid)
        assert back.payload["triggerReason"] == "CablePluggedIn", _states(tx_calls(csms, m2, tid))
        assert back.payload["transactionInfo"]["chargingState"] == "EVConnected"
        ev(st, 1, "C")
        wait_tx(csms, "Updated", since=m2, tid=tid,
                pred=lambda q: q["triggerReason"] == "ChargingStateChanged"
                and q["transactionInfo"].get("chargingState") == "Charging")
        assert not tx_calls(csms, m2, tid, "Ended")


ENDS_PLUGGED = [
    # (TxStopPoint, how the EV / driver ends it, triggerReason, stoppedReason, requirement ids / test cases)
    ("EnergyTransfer", "suspend", "ChargingStateChanged", "StoppedByEV"),  # E06.FR.07, TC_E_22_CS
    ("PowerPathClosed", "evB", "ChargingStateChanged", "StoppedByEV"),     # E06.FR.06, TC_E_05_CS
    ("Authorized", "tag", "StopAuthorized", "Local"),                      # E06.FR.03, TC_E_15_CS
    ("EVConnected,Authorized", "tag", "StopAuthorized", "Local"),          # E06.FR.03 with the defaults
    ("EnergyTransfer", "tag", "StopAuthorized", "Local"),                  # E06.FR.07 via deauthorization
]


@pytest.mark.parametrize("stop_point,how,trigger,reason", ENDS_PLUGGED)
def test_e06_ended_while_plugged_reports_ev_connected(make_csms, make_station, kit, stop_point, how, trigger, reason):
    """E06.FR.07 (TC_E_22_CS: chargingState EVConnected with eventType Ended), and the same for every end
    while the EV is still on the cable: the Ended event's chargingState is EVConnected, never SuspendedEV."""
    csms, st = boot(make_csms, make_station, kit, Tokens({"END-1": "Accepted"}),
                    dm=[("TxCtrlr", "TxStopPoint", stop_point)])
    started = start_session(st, 1, "END-1")
    tid = started["id"]
    wait_tx(csms, None, tid=tid, pred=lambda p: p["transactionInfo"].get("chargingState") == "Charging")
    m = csms.mark()
    if how == "suspend":
        load(st, 1, 0)
    elif how == "evB":
        ev(st, 1, "B")
    else:
        tag(st, "END-1", 1)
    end = wait_tx(csms, "Ended", since=m, tid=tid).payload
    assert end["triggerReason"] == trigger, end
    assert end["transactionInfo"]["chargingState"] == "EVConnected", end
    assert end["transactionInfo"]["stoppedReason"] == reason, end


@pytest.mark.parametrize("point", ["DataSigned", "ParkingBayOccupancy"])
def test_e06_points_without_hardware_are_refused(make_csms, make_station, kit, point):
    """E06.FR.01 (ParkingBayOccupancy: no parking-bay sensor on this board) and E06.FR.05 (DataSigned: no
    signed meter): not in TxStopPoint's valuesList, so SetVariables refuses them and the points stay."""
    csms, st = boot(make_csms, make_station, kit)
    res = ok(csms, "SetVariables", {"setVariableData": [
        {"component": {"name": "TxCtrlr"}, "variable": {"name": "TxStopPoint"}, "attributeValue": point}]})
    assert res["setVariableResult"][0]["attributeStatus"] != "Accepted", res
    assert kit.get_variable(csms, "TxCtrlr", "TxStopPoint")["attributeValue"] == "EVConnected,Authorized"


# ---------------------------------------------------------------------------------------------
# EVSE choice on a multi-EVSE station (tag before any cable, no EVSE chosen)
# ---------------------------------------------------------------------------------------------

def test_evse_unknown_until_cable_tx_start_authorized(make_csms, make_station, kit):
    """Decision (README "EVSE choice"): on a two-EVSE station, an idToken presented without an EVSE before
    any cable names no EVSE. TxStartPoint Authorized (E01.FR.02... start points): the transaction starts at
    authorization and its Started event has no `evse`; TransactionEventRequest.evse is provided in the
    first event after the EVSE is known: the CablePluggedIn event of the EVSE the cable goes into (here
    EVSE 2, connector 1). No connector is Occupied before the cable (G01), the session charges on EVSE 2."""
    csms, st = boot(make_csms, make_station, kit, Tokens({"CHO-1": "Accepted"}),
                    dm=[("TxCtrlr", "TxStartPoint", "Authorized")])
    s, m = st.mark(), csms.mark()
    tag(st, "CHO-1")
    assert authorized(st, "CHO-1", s)["status"] == "Accepted"
    started = wait_tx(csms, "Started", since=m)
    assert "evse" not in started.payload, started.payload
    assert started.payload["idToken"] == tok("CHO-1")
    tid = tid_of(started)
    time.sleep(0.5)
    assert kit.status_notifications(csms, since=m) == {}, kit.status_notifications(csms, since=m)
    plug(st, 2)
    plugged = wait_tx(csms, "Updated", since=m, tid=tid, pred=lambda p: p["triggerReason"] == "CablePluggedIn")
    assert plugged.payload["evse"] == {"id": 2, "connectorId": 1}, plugged.payload
    assert kit.status_notifications(csms, since=m).get((2, 1)) == "Occupied" or csms.wait_for(
        lambda: kit.status_notifications(csms, since=m).get((2, 1)) == "Occupied", 5, "2/1 Occupied")
    ev(st, 2, "C")
    load(st, 2, 7000)
    wait_tx(csms, "Updated", since=m, tid=tid, pred=lambda p: p["transactionInfo"].get("chargingState") == "Charging")
    assert (1, 1) not in kit.status_notifications(csms, since=m)
    later = [f for f in tx_calls(csms, since=plugged.index + 1, tid=tid)]
    assert all("evse" not in f.payload for f in later), later  # reported once
    tag(st, "CHO-1")
    end = wait_tx(csms, "Ended", since=m, tid=tid).payload
    assert end["triggerReason"] == "StopAuthorized"


def test_evse_unknown_until_cable_default_start_point_charges_where_plugged(make_csms, make_station, kit):
    """The same choice with the default TxStartPoint PowerPathClosed: the authorization waits for a cable;
    plugged into EVSE 2 it charges there and the Started event names EVSE 2 (E01.FR.05 start at
    PowerPathClosed, C01 authorization first)."""
    csms, st = boot(make_csms, make_station, kit, Tokens({"CHO-2": "Accepted"}))
    s, m = st.mark(), csms.mark()
    tag(st, "CHO-2")
    assert authorized(st, "CHO-2", s)["status"] == "Accepted"
    plug(st, 2)
    started = charge(st, 2, s)
    first = wait_tx(csms, "Started", since=m, tid=started["id"])
    assert first.payload["evse"] == {"id": 2, "connectorId": 1}
    assert first.payload["idToken"] == tok("CHO-2")
