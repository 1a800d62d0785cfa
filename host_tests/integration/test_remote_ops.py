# Issue 4, remote control, availability, reset and reservation end to end (F01-F06, G03/G04, B11/B12,
# H01-H04): the real station process (tools/station on the MicroPython unix port) against the CSMS on the
# `ocpp` package; the simulated EV and card reader are driven through the launcher's stdin. Every frame the
# station sends is schema-checked by the `make_csms` teardown. Test case ids are Part 6 (TC_x_nn_CS).
import datetime
import time
from drive import CALLRESULT, charge, ev, OFFER, ok, plug, tag, tid_of, tok, tx_calls, unplug, wait_tx

HEARTBEAT = 60  # long: no Heartbeat between the frames a test looks at unless it triggers one

# No clock-aligned or periodic meter values cutting into the sequences.
BASE_DM = (
    ("AlignedDataCtrlr", "Interval", 0),
    ("SampledDataCtrlr", "TxUpdatedInterval", 0),
)


# ---------------------------------------------------------------------------------------------
# helpers (the shared session steps are in drive.py)
# ---------------------------------------------------------------------------------------------

def install_tokens(csms, table):
    """The CSMS's idToken database {idToken: status}; unknown ids are Unknown. Answers Authorize and the
    idTokenInfo of TransactionEvents carrying an idToken."""
    def info(t):
        return {"status": table.get(t["idToken"], "Unknown")}
    csms.responders["Authorize"] = lambda p, s: {"idTokenInfo": info(p["idToken"])}
    csms.responders["TransactionEvent"] = lambda p, s: {"idTokenInfo": info(p["idToken"])} if "idToken" in p else {}


def boot(make_csms, make_station, kit, tokens=None, dm=(), **csms_kw):
    csms_kw.setdefault("heartbeat_interval", HEARTBEAT)
    csms = make_csms(**csms_kw)
    if tokens is not None:
        install_tokens(csms, tokens)
    cfg = kit.station_config(csms.url, device_model=[kit.dm(c, v, x) for c, v, x in BASE_DM + tuple(dm)])
    st = make_station(cfg)
    return csms, st, cfg


def booted(make_csms, make_station, kit, tokens=None, dm=()):
    csms, st, cfg = boot(make_csms, make_station, kit, tokens, dm)
    kit.wait_booted(csms, st)
    return csms, st, cfg


def start_session(st, csms, evse, id_token, connector=1):
    """EnergyTransferStarted with a local card: returns the Started TransactionEvent frame."""
    s = st.mark()
    m = csms.mark()
    plug(st, evse, connector)
    tag(st, id_token, evse)
    e = st.wait_event("authorize", lambda e: e.get("id") == id_token, since=s)
    assert e["status"] == "Accepted", e
    started = charge(st, evse, s)
    return wait_tx(csms, "Started", since=m, tid=started["id"])


def statuses(csms, since):
    """[(evseId, connectorId, connectorStatus)] of the StatusNotifications after `since`, in order."""
    return [(f.payload["evseId"], f.payload["connectorId"], f.payload["connectorStatus"])
            for f in csms.calls("StatusNotification", since=since)]


def wait_status(csms, since, want, timeout=10):
    """Wait until the latest StatusNotification after `since` of every (evse, connector) in `want` has
    the wanted status; returns the {(evse, connector): status} of all seen."""
    def check():
        latest = {}
        for e, c, s in statuses(csms, since):
            latest[(e, c)] = s
        return latest if all(latest.get(k) == v for k, v in want.items()) else None
    return csms.wait_for(check, timeout, "StatusNotification %s" % want)


def iso_in(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def availability(csms, status, evse=None, connector=None):
    p = {"operationalStatus": status}
    if evse is not None:
        p["evse"] = {"id": evse}
        if connector is not None:
            p["evse"]["connectorId"] = connector
    return ok(csms, "ChangeAvailability", p)["status"]


# ---------------------------------------------------------------------------------------------
# F01-F03 remote start / stop
# ---------------------------------------------------------------------------------------------

def test_remote_start_without_authorize_remote_start_then_remote_stop(make_csms, make_station, kit):
    # TC_F_03_CS (AuthorizeRemoteStart false: no AuthorizeRequest, F01.FR.01), TC_F_08_CS (RequestStop ->
    # Ended with stoppedReason Remote, F03), TC_F_09_CS (unknown transactionId -> Rejected, F03.FR.08).
    csms, st, _ = booted(make_csms, make_station, kit, tokens={"REMOTE-1": "Accepted"})
    m = csms.mark()
    s = st.mark()
    res = ok(csms, "RequestStartTransaction", {"idToken": tok("REMOTE-1"), "remoteStartId": 4711, "evseId": 1})
    assert res["status"] == "Accepted"
    plug(st, 1)
    started = charge(st, 1, s)
    first = wait_tx(csms, "Started", since=m, tid=started["id"])
    p = first.payload
    # Part 6 general rule: the first TransactionEvent after RequestStart says RemoteStart + remoteStartId.
    assert p["triggerReason"] == "RemoteStart", p
    assert p["transactionInfo"]["remoteStartId"] == 4711
    assert p["idToken"] == tok("REMOTE-1")
    assert p["evse"] == {"id": 1, "connectorId": 1}
    assert csms.calls("Authorize", since=m) == []
    # remoteStartId goes once: later events of the transaction leave it out.
    assert all("remoteStartId" not in f.payload["transactionInfo"]
               for f in tx_calls(csms, since=first.index + 1, tid=tid_of(first)))

    assert ok(csms, "RequestStopTransaction", {"transactionId": "no-such-tx"})["status"] == "Rejected"
    m = csms.mark()
    assert ok(csms, "RequestStopTransaction", {"transactionId": tid_of(first)})["status"] == "Accepted"
    ended = wait_tx(csms, "Ended", since=m, tid=tid_of(first))
    assert ended.payload["triggerReason"] == "RemoteStop"
    assert ended.payload["transactionInfo"]["stoppedReason"] == "Remote"
    st.wait_event("pilot", lambda e: e["evse"] == 1 and not e["contactor"], since=s)


def test_remote_start_with_authorize_remote_start(make_csms, make_station, kit):
    # TC_F_02_CS: AuthorizeRemoteStart true -> AuthorizeRequest after the response (F01.FR.02); Accepted ->
    # transaction with triggerReason RemoteStart; an Invalid id gets no transaction.
    csms, st, _ = booted(make_csms, make_station, kit, tokens={"REMOTE-2": "Accepted", "REMOTE-BAD": "Invalid"},
                         dm=[("AuthCtrlr", "AuthorizeRemoteStart", "true")])
    # Invalid first (EVSE 2, cable in: TC_F_01_CS-like cable first): asked, refused, nothing starts.
    s = st.mark()
    plug(st, 2, 1)
    ev(st, 2, "C")
    m = csms.mark()
    res = ok(csms, "RequestStartTransaction", {"idToken": tok("REMOTE-BAD"), "remoteStartId": 1, "evseId": 2})
    auth = csms.wait_call("Authorize", since=m)
    assert auth.payload["idToken"] == tok("REMOTE-BAD")
    assert res["status"] in ("Accepted", "Rejected")
    time.sleep(1)
    assert tx_calls(csms, since=m) == []
    assert not [e for e in st.named("pilot", s) if e["evse"] == 2 and e["duty"] == OFFER]

    m = csms.mark()
    s = st.mark()
    reply = csms.call("RequestStartTransaction", {"idToken": tok("REMOTE-2"), "remoteStartId": 2, "evseId": 1})
    assert reply.kind == CALLRESULT and reply.payload["status"] == "Accepted"
    auth = csms.wait_call("Authorize", since=m)
    assert auth.index > reply.index  # the response first, then the AuthorizeRequest
    assert auth.payload["idToken"] == tok("REMOTE-2")
    plug(st, 1)
    started = charge(st, 1, s)
    p = wait_tx(csms, "Started", since=m, tid=started["id"]).payload
    assert p["triggerReason"] == "RemoteStart"
    assert p["transactionInfo"]["remoteStartId"] == 2
    assert p["idToken"] == tok("REMOTE-2")


def test_remote_start_rejected_while_pending(make_csms, make_station, kit):
    # TC_B_02_CS step 12: while the registration is Pending, RequestStartTransaction is Rejected.
    csms, st, _ = boot(make_csms, make_station, kit, boot=[("Pending", 30)])
    first = csms.wait_call("BootNotification", timeout=15)
    csms.wait_for(lambda: csms.answer_to(first), 5, "BootNotificationResponse Pending")
    res = ok(csms, "RequestStartTransaction", {"idToken": tok("REMOTE-3"), "remoteStartId": 3, "evseId": 1})
    assert res["status"] == "Rejected"
    time.sleep(0.5)
    assert [f.action for f in csms.calls(since=first.index + 1)] == []  # nothing unrequested while Pending


# ---------------------------------------------------------------------------------------------
# F05 UnlockConnector
# ---------------------------------------------------------------------------------------------

def test_unlock_connector_statuses(make_csms, make_station, kit):
    # TC_F_07_CS (no cable -> Unlocked), TC_F_06_CS (cable, no transaction -> Unlocked), TC_F_10_CS
    # (UnknownConnector), TC_F_05_CS (authorized transaction -> OngoingAuthorizedTransaction, F05.FR.02).
    csms, st, _ = booted(make_csms, make_station, kit, tokens={"LOCKED-1": "Accepted"})
    unlock = lambda e, c: ok(csms, "UnlockConnector", {"evseId": e, "connectorId": c})["status"]  # noqa: E731
    assert unlock(2, 2) == "Unlocked"
    plug(st, 2, 1)
    st.wait_event("status", lambda e: (e["evse"], e["connector"], e["status"]) == (2, 1, "Occupied"))
    assert unlock(2, 1) == "Unlocked"
    assert unlock(2, 3) == "UnknownConnector"
    assert unlock(3, 1) == "UnknownConnector"
    start_session(st, csms, 1, "LOCKED-1")
    assert unlock(1, 1) == "OngoingAuthorizedTransaction"


# ---------------------------------------------------------------------------------------------
# F06 TriggerMessage
# ---------------------------------------------------------------------------------------------

def trigger(csms, what, evse=None, connector=None):
    p = {"requestedMessage": what}
    if evse is not None:
        p["evse"] = {"id": evse}
        if connector is not None:
            p["evse"]["connectorId"] = connector
    reply = csms.call("TriggerMessage", p)
    assert reply.kind == CALLRESULT, reply
    return reply


def test_trigger_message(make_csms, make_station, kit):
    # TC_F_23_CS, TC_F_24_CS (StatusNotification), TC_F_20_CS (Heartbeat), TC_F_11_CS/TC_F_12_CS (MeterValues),
    # TransactionEvent without a transaction -> Rejected, TC_F_26_CS (BootNotification after Accepted -> Rejected),
    # TC_F_27_CS (NotImplemented).
    csms, st, _ = booted(make_csms, make_station, kit, tokens={"TRIG-1": "Accepted"})

    reply = trigger(csms, "StatusNotification", 2, 2)
    assert reply.payload["status"] == "Accepted"
    sn = csms.wait_call("StatusNotification", since=reply.index)
    assert (sn.payload["evseId"], sn.payload["connectorId"], sn.payload["connectorStatus"]) == (2, 2, "Available")

    reply = trigger(csms, "Heartbeat")
    assert reply.payload["status"] == "Accepted"
    hb = csms.wait_call("Heartbeat", since=reply.index, timeout=5)
    assert hb.index > reply.index

    reply = trigger(csms, "MeterValues", 2)
    assert reply.payload["status"] == "Accepted"
    mv = csms.wait_call("MeterValues", since=reply.index)
    assert mv.payload["evseId"] == 2
    assert mv.payload["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"

    reply = trigger(csms, "MeterValues")  # every EVSE (TC_F_12_CS)
    assert reply.payload["status"] == "Accepted"
    csms.wait_call("MeterValues", since=reply.index, count=2)
    assert sorted(f.payload["evseId"] for f in csms.calls("MeterValues", since=reply.index)) == [1, 2]

    # No transaction: nothing to send.
    assert trigger(csms, "TransactionEvent", 1).payload["status"] == "Rejected"

    m = csms.mark()
    first = start_session(st, csms, 1, "TRIG-1")
    wait_status(csms, m, {(1, 1): "Occupied"})
    csms.wait_for(lambda: [f for f in tx_calls(csms, since=m, tid=tid_of(first))
                           if f.payload["transactionInfo"].get("chargingState") == "Charging"], 5, "Charging")
    reply = trigger(csms, "StatusNotification", 1, 1)
    assert reply.payload["status"] == "Accepted"
    sn = csms.wait_call("StatusNotification", since=reply.index)
    assert (sn.payload["evseId"], sn.payload["connectorId"], sn.payload["connectorStatus"]) == (1, 1, "Occupied")

    reply = trigger(csms, "BootNotification")
    assert reply.payload["status"] == "Rejected"  # F06.FR.17
    assert trigger(csms, "SignCombinedCertificate").payload["status"] == "NotImplemented"
    time.sleep(0.5)
    assert csms.calls("BootNotification", since=reply.index) == []


def test_trigger_transaction_event(make_csms, make_station, kit):
    # TC_F_13_CS (one EVSE), TC_F_14_CS (evse omitted): TransactionEvent Updated, triggerReason Trigger,
    # chargingState Charging (a tool validation: present even though unchanged), meter values context Trigger.
    csms, st, _ = booted(make_csms, make_station, kit, tokens={"TRIG-2": "Accepted"})
    m = csms.mark()
    first = start_session(st, csms, 1, "TRIG-2")
    csms.wait_for(lambda: [f for f in tx_calls(csms, since=m, tid=tid_of(first))
                           if f.payload["transactionInfo"].get("chargingState") == "Charging"], 5, "Charging")
    for evse in (1, None):
        reply = trigger(csms, "TransactionEvent", evse)
        assert reply.payload["status"] == "Accepted"
        te = csms.wait_for(lambda: [f for f in tx_calls(csms, since=reply.index, tid=tid_of(first))
                                    if f.payload["triggerReason"] == "Trigger"], 5, "a triggered TransactionEvent")[0]
        p = te.payload
        assert p["eventType"] == "Updated"
        assert p.get("evse", {"id": 1})["id"] == 1
        assert p["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
        assert p["transactionInfo"].get("chargingState") == "Charging", p


# ---------------------------------------------------------------------------------------------
# G03/G04 ChangeAvailability
# ---------------------------------------------------------------------------------------------

def test_change_availability_connector_evse_station(make_csms, make_station, kit):
    # TC_G_07_CS/TC_G_08_CS (connector), TC_G_03_CS/TC_G_04_CS (EVSE), TC_G_05_CS/TC_G_06_CS (station),
    # TC_G_16_CS (inoperative -> inoperative: Accepted, nothing sent).
    csms, st, _ = booted(make_csms, make_station, kit, tokens={"AV-1": "Accepted"})

    m = csms.mark()
    assert availability(csms, "Inoperative", 2, 2) == "Accepted"
    wait_status(csms, m, {(2, 2): "Unavailable"})
    time.sleep(0.3)
    assert statuses(csms, m) == [(2, 2, "Unavailable")]  # only that connector
    m = csms.mark()
    assert availability(csms, "Inoperative", 2, 2) == "Accepted"
    time.sleep(0.3)
    assert statuses(csms, m) == []
    assert availability(csms, "Operative", 2, 2) == "Accepted"
    wait_status(csms, m, {(2, 2): "Available"})

    m = csms.mark()
    assert availability(csms, "Inoperative", 2) == "Accepted"
    wait_status(csms, m, {(2, 1): "Unavailable", (2, 2): "Unavailable"})
    assert (1, 1, "Unavailable") not in statuses(csms, m)
    # An inoperative EVSE starts nothing: RequestStart Rejected, a card there is refused.
    res = ok(csms, "RequestStartTransaction", {"idToken": tok("AV-1"), "remoteStartId": 5, "evseId": 2})
    assert res["status"] == "Rejected"
    s = st.mark()
    plug(st, 2, 1)
    tag(st, "AV-1", 2)
    e = st.wait_event("authorize", lambda e: e.get("id") == "AV-1", since=s)
    assert e["status"] != "Accepted", e
    assert not [x for x in st.named("pilot", s) if x["evse"] == 2 and x["duty"] == OFFER]
    unplug(st, 2, 1)
    m = csms.mark()
    assert availability(csms, "Operative", 2) == "Accepted"
    wait_status(csms, m, {(2, 1): "Available", (2, 2): "Available"})

    m = csms.mark()
    assert availability(csms, "Inoperative") == "Accepted"
    wait_status(csms, m, {(1, 1): "Unavailable", (2, 1): "Unavailable", (2, 2): "Unavailable"})
    m = csms.mark()
    assert availability(csms, "Operative") == "Accepted"
    wait_status(csms, m, {(1, 1): "Available", (2, 1): "Available", (2, 2): "Available"})


def test_change_availability_scheduled_during_transaction(make_csms, make_station, kit):
    # TC_G_11_CS (EVSE) / TC_G_17_CS (connector): Scheduled while a transaction runs (G03.FR.05), the
    # connector stays Occupied, and becomes Unavailable when the transaction ends.
    csms, st, _ = booted(make_csms, make_station, kit, tokens={"AV-2": "Accepted"})
    first = start_session(st, csms, 1, "AV-2")
    m = csms.mark()
    assert availability(csms, "Inoperative", 1) == "Scheduled"
    assert availability(csms, "Inoperative", 2, 1) == "Accepted"  # the other EVSE: at once
    wait_status(csms, m, {(2, 1): "Unavailable"})
    time.sleep(0.5)
    assert (1, 1, "Unavailable") not in statuses(csms, m)
    assert not tx_calls(csms, since=m, etype="Ended")  # not stopped by it

    m = csms.mark()
    tag(st, "AV-2", 1)
    ended = wait_tx(csms, "Ended", since=m, tid=tid_of(first))
    wait_status(csms, m, {(1, 1): "Unavailable"})  # with the cable still in (G03.FR.05 applied now)
    assert [f for f in csms.calls("StatusNotification", since=m) if f.payload["evseId"] == 1][-1].index > ended.index
    unplug(st, 1)
    time.sleep(0.5)
    assert statuses(csms, m)[-1] == (1, 1, "Unavailable")  # unplugging does not make it Available
    m = csms.mark()
    assert availability(csms, "Operative", 1) == "Accepted"
    wait_status(csms, m, {(1, 1): "Available"})


def test_availability_persists_across_restart(make_csms, make_station, kit):
    # TC_G_18_CS (EVSE), TC_G_19_CS (connector), TC_G_21_CS/TC_B_23_CS (station): the operational state
    # survives a restart of the station process (G03.FR.08, G04.FR.09).
    csms, st, cfg = booted(make_csms, make_station, kit)
    assert availability(csms, "Inoperative", 2) == "Accepted"
    assert availability(csms, "Inoperative", 1, 1) == "Accepted"
    st.kill()
    m = csms.mark()
    st2 = make_station(cfg, state_dir=st.state_dir)
    boot_frame, answer = kit.wait_booted(csms, st2, since=m)
    assert kit.status_notifications(csms, since=answer.index) == {
        (1, 1): "Unavailable", (2, 1): "Unavailable", (2, 2): "Unavailable"}
    m = csms.mark()
    assert availability(csms, "Operative", 2) == "Accepted"
    wait_status(csms, m, {(2, 1): "Available", (2, 2): "Available"})
    assert (1, 1, "Available") not in statuses(csms, m)

    # The whole station, then a reboot: still Unavailable everywhere; Operative brings EVSE 2 back only.
    assert availability(csms, "Inoperative") == "Accepted"
    st2.kill()
    m = csms.mark()
    st3 = make_station(cfg, state_dir=st.state_dir)
    boot_frame, answer = kit.wait_booted(csms, st3, since=m)
    assert set(kit.status_notifications(csms, since=answer.index).values()) == {"Unavailable"}
    m = csms.mark()
    assert availability(csms, "Operative") == "Accepted"
    # Levels are separate settings (issue 8, availability.py): connector 1/1's own Inoperative stays.
    wait_status(csms, m, {(2, 1): "Available", (2, 2): "Available"})
    assert (1, 1, "Available") not in statuses(csms, m)


# ---------------------------------------------------------------------------------------------
# B11/B12 Reset
# ---------------------------------------------------------------------------------------------

def test_reset_immediate_ends_transaction_then_reboots(make_csms, make_station, kit):
    # TC_B_22_CS: ResetResponse Accepted, TransactionEvent Ended (stoppedReason ImmediateReset, B12.FR.04)
    # before the station reboots, then BootNotification reason RemoteReset (the launcher restarts the
    # firmware after its exit status 3) and the status of every connector.
    csms, st, _ = booted(make_csms, make_station, kit, tokens={"RESET-1": "Accepted"})
    first = start_session(st, csms, 1, "RESET-1")
    m = csms.mark()
    s = st.mark()
    reply = csms.call("Reset", {"type": "Immediate"})
    assert reply.kind == CALLRESULT and reply.payload["status"] == "Accepted"
    boot2 = csms.wait_call("BootNotification", since=m, timeout=20)
    assert boot2.payload["reason"] == "RemoteReset"
    ended = wait_tx(csms, "Ended", since=m, tid=tid_of(first))  # (never lost: at the latest after the reboot)
    p = ended.payload
    assert p["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    assert p["triggerReason"] == "ResetCommand"
    ev_boot = st.wait_event("boot", since=s, timeout=10)
    assert ev_boot["reason"] == "RemoteReset" and ev_boot["count"] == 2
    answer = csms.wait_for(lambda: csms.answer_to(boot2), 5, "BootNotificationResponse")
    csms.wait_for(lambda: set(kit.status_notifications(csms, since=answer.index)) >= kit.CONNECTORS, 10,
                  "StatusNotification for every connector after the reset")
    # The cable is still in, the session is over: Occupied, no new transaction, nothing sent twice.
    assert kit.status_notifications(csms, since=answer.index)[(1, 1)] == "Occupied"
    time.sleep(1)
    assert len(tx_calls(csms, tid=tid_of(first), etype="Ended")) == 1
    assert tx_calls(csms, since=answer.index, etype="Started") == []
    assert ended.index < boot2.index, "TransactionEvent Ended must go out before the reboot (TC_B_22_CS step 3)"
    assert ended.conn < boot2.conn  # on the connection before the reset


def test_reset_on_idle_waits_for_transaction(make_csms, make_station, kit):
    # TC_B_21_CS: OnIdle with a transaction -> Scheduled (B12.FR.01); no reboot while it runs; when the
    # driver stops, the station reboots. TC_B_20_CS: OnIdle when idle -> Accepted and reboot.
    csms, st, _ = booted(make_csms, make_station, kit, tokens={"RESET-2": "Accepted"})
    first = start_session(st, csms, 1, "RESET-2")
    m = csms.mark()
    assert ok(csms, "Reset", {"type": "OnIdle"})["status"] == "Scheduled"
    time.sleep(1.5)
    assert csms.calls("BootNotification", since=m) == []
    assert st.alive() and len(st.named("boot")) == 1
    assert not tx_calls(csms, since=m, etype="Ended")  # OnIdle does not stop it

    tag(st, "RESET-2", 1)  # StopAuthorized
    ended = wait_tx(csms, "Ended", since=m, tid=tid_of(first))
    assert ended.payload["transactionInfo"]["stoppedReason"] == "Local"
    boot2 = csms.wait_call("BootNotification", since=m, timeout=20)
    assert boot2.index > ended.index
    assert boot2.payload["reason"] in ("RemoteReset", "ScheduledReset"), boot2.payload
    kit.wait_booted(csms, st, since=boot2.index)

    m = csms.mark()
    assert ok(csms, "Reset", {"type": "OnIdle"})["status"] == "Accepted"  # TC_B_20_CS: idle -> now
    boot3 = csms.wait_call("BootNotification", since=m, timeout=20)
    assert boot3.payload["reason"] == "RemoteReset"
    assert [e["reason"] for e in st.named("boot")] == ["PowerUp", boot2.payload["reason"], "RemoteReset"]


# ---------------------------------------------------------------------------------------------
# H01-H04 reservations
# ---------------------------------------------------------------------------------------------

def reserve(csms, rid, evse, id_token, seconds=60):
    return ok(csms, "ReserveNow", {"id": rid, "expiryDateTime": iso_in(seconds), "idToken": tok(id_token),
                                   "evseId": evse})["status"]


def test_reserve_specific_evse_other_token_refused_reserved_token_charges(make_csms, make_station, kit):
    # TC_H_01_CS (the reserved token charges; its TransactionEvent carries reservationId; Reserved ->
    # Occupied), TC_H_02_CS (another idToken cannot start there), TC_H_03_CS (a reserved EVSE -> Occupied),
    # TC_H_04_CS (an occupied EVSE -> Occupied), F01.FR.22 (RequestStart for another token -> Rejected).
    csms, st, _ = booted(make_csms, make_station, kit, tokens={"RES-1": "Accepted", "OTHER-1": "Accepted",
                                                               "BUSY-1": "Accepted"})
    m = csms.mark()
    assert reserve(csms, 5, 2, "RES-1") == "Accepted"
    wait_status(csms, m, {(2, 1): "Reserved", (2, 2): "Reserved"})
    assert (1, 1, "Reserved") not in statuses(csms, m)
    assert reserve(csms, 6, 2, "OTHER-1") == "Occupied"  # TC_H_03_CS

    # Someone else: not by card, not remotely.
    s = st.mark()
    m = csms.mark()
    plug(st, 2, 1)
    tag(st, "OTHER-1", 2)
    e = st.wait_event("authorize", lambda e: e.get("id") == "OTHER-1", since=s)
    assert e["status"] != "Accepted", e
    res = ok(csms, "RequestStartTransaction", {"idToken": tok("OTHER-1"), "remoteStartId": 9, "evseId": 2})
    assert res["status"] == "Rejected"
    time.sleep(0.5)
    assert tx_calls(csms, since=m) == []
    assert not [x for x in st.named("pilot", s) if x["evse"] == 2 and x["duty"] == OFFER]
    assert statuses(csms, m)[-1:] in ([], [(2, 1, "Reserved")])  # a plug-in does not change Reserved

    # The reserved token: charges; the reservation is used up (reservationId in the event, H03.FR.09).
    s = st.mark()
    m = csms.mark()
    tag(st, "RES-1", 2)
    e = st.wait_event("authorize", lambda e: e.get("id") == "RES-1", since=s)
    assert e["status"] == "Accepted", e
    started = charge(st, 2, s)
    first = wait_tx(csms, "Started", since=m, tid=started["id"])
    assert first.payload.get("reservationId") == 5, first.payload
    assert first.payload["idToken"] == tok("RES-1")
    assert all("reservationId" not in f.payload for f in tx_calls(csms, since=first.index + 1))
    wait_status(csms, m, {(2, 1): "Occupied", (2, 2): "Available"})  # the reservation is gone

    assert start_session(st, csms, 1, "BUSY-1")
    assert reserve(csms, 7, 1, "RES-1") == "Occupied"  # TC_H_04_CS


def test_cancel_reservation_and_expiry(make_csms, make_station, kit):
    # TC_H_17_CS (CancelReservation -> Available, H02.FR.02), TC_H_18_CS (unknown id -> Rejected),
    # TC_H_07_CS (expiry -> Available and ReservationStatusUpdate Expired, H04), TC_H_06_CS (Unavailable EVSE).
    csms, st, _ = booted(make_csms, make_station, kit)
    m = csms.mark()
    assert reserve(csms, 11, 1, "RES-2") == "Accepted"
    wait_status(csms, m, {(1, 1): "Reserved"})
    m = csms.mark()
    assert ok(csms, "CancelReservation", {"reservationId": 11})["status"] == "Accepted"
    wait_status(csms, m, {(1, 1): "Available"})
    assert ok(csms, "CancelReservation", {"reservationId": 11})["status"] == "Rejected"
    assert csms.calls("ReservationStatusUpdate") == []  # cancelled by the CSMS: no update

    m = csms.mark()
    expiry = iso_in(3)
    assert ok(csms, "ReserveNow", {"id": 12, "expiryDateTime": expiry, "idToken": tok("RES-3"),
                                   "evseId": 2})["status"] == "Accepted"
    wait_status(csms, m, {(2, 1): "Reserved", (2, 2): "Reserved"})
    upd = csms.wait_call("ReservationStatusUpdate", since=m, timeout=8)
    assert upd.payload == {"reservationId": 12, "reservationUpdateStatus": "Expired"}  # H04.FR.02
    t_exp = datetime.datetime.strptime(expiry, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    assert t_exp - 0.5 <= upd.wall <= t_exp + 3, (upd.wall - t_exp)  # at expiry, not before
    wait_status(csms, m, {(2, 1): "Available", (2, 2): "Available"})

    assert availability(csms, "Inoperative", 1) == "Accepted"
    assert reserve(csms, 13, 1, "RES-4") == "Unavailable"  # H01.FR.14
