# Issue 8, conformance defects of the E, C, F and H blocks, end to end: the real station process
# (tools/station, MicroPython unix port) against the CSMS on the `ocpp` package. Each test names the
# Part 2 requirement ids (and Part 6 test cases) it checks; each failed before its fix.
import time

import pytest

CALLRESULT = 3
HEARTBEAT = 60
OFFER = 53.3  # % duty offering 32 A (IEC 61851-1: 32 / 0.6)
BASE_DM = (
    ("AlignedDataCtrlr", "Interval", 0),
    ("SampledDataCtrlr", "TxUpdatedInterval", 0),
)


class Tokens:
    """The CSMS's idToken database: {idToken: status or (status, group)}; unknown ids are Unknown.
    tx_table (optional) answers TransactionEvent's idTokenInfo differently from Authorize."""

    def __init__(self, table, tx_table=None):
        self.table = dict(table)
        self.tx_table = dict(tx_table) if tx_table is not None else None

    @staticmethod
    def _info(table, t):
        v = table.get(t["idToken"])
        if v is None:
            return {"status": "Unknown"}
        if isinstance(v, str):
            return {"status": v}
        return {"status": v[0], "groupIdToken": {"idToken": v[1], "type": "Central"}}

    def install(self, csms):
        tx = self.tx_table if self.tx_table is not None else self.table
        csms.responders["Authorize"] = lambda p, s: {"idTokenInfo": self._info(self.table, p["idToken"])}
        csms.responders["TransactionEvent"] = lambda p, s: (
            {"idTokenInfo": self._info(tx, p["idToken"])} if "idToken" in p else {})
        return self


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


def ok(csms, action, payload, timeout=5):
    reply = csms.call(action, payload, timeout=timeout)
    assert reply.kind == CALLRESULT, "%s answered with %r" % (action, reply)
    return reply.payload


def set_var(csms, component, variable, value):
    res = ok(csms, "SetVariables", {"setVariableData": [
        {"component": {"name": component}, "variable": {"name": variable}, "attributeValue": str(value)}]})
    assert res["setVariableResult"][0]["attributeStatus"] == "Accepted", res


def tok(id_token, type_="ISO14443"):
    return {"idToken": id_token, "type": type_}


def tag(st, id_token, evse=None):
    cmd = {"cmd": "tag", "id": id_token}
    if evse is not None:
        cmd["evse"] = evse
    st.send(cmd)


def plug(st, evse, connector=1):
    st.send({"cmd": "plug", "evse": evse, "connector": connector})


def unplug(st, evse, connector=1):
    st.send({"cmd": "unplug", "evse": evse, "connector": connector})


def ev(st, evse, state):
    st.send({"cmd": "ev", "evse": evse, "state": state})


def load(st, evse, watts):
    st.send({"cmd": "load", "evse": evse, "watts": watts})


def authorized(st, id_token, since, timeout=10):
    return st.wait_event("authorize", lambda e: e.get("id") == id_token, since=since, timeout=timeout)


def tx_calls(csms, since=0, tid=None, etype=None):
    return [f for f in csms.calls("TransactionEvent", since=since)
            if (tid is None or f.payload["transactionInfo"]["transactionId"] == tid)
            and (etype is None or f.payload["eventType"] == etype)]


def wait_tx(csms, etype, since=0, tid=None, timeout=10, pred=None):
    def find():
        fs = [f for f in tx_calls(csms, since, tid, etype) if pred is None or pred(f.payload)]
        return fs[0] if fs else None
    return csms.wait_for(find, timeout, "TransactionEvent %s (tid %s)" % (etype, tid))


def tid_of(frame):
    return frame.payload["transactionInfo"]["transactionId"]


def charge(st, evse, since, timeout=10):
    st.wait_event("pilot", lambda e: e["evse"] == evse and e["duty"] == OFFER, since=since, timeout=timeout)
    ev(st, evse, "C")
    load(st, evse, 7000)
    st.wait_event("pilot", lambda e: e["evse"] == evse and e["contactor"], since=since, timeout=timeout)
    return st.wait_event("transaction", lambda e: e["evse"] == evse and e["type"] == "Started", since=since,
                         timeout=timeout)


def start_session(st, evse, id_token, tag_evse=True):
    s = st.mark()
    plug(st, evse)
    tag(st, id_token, evse if tag_evse else None)
    e = authorized(st, id_token, s)
    assert e["status"] == "Accepted", e
    return charge(st, evse, s)


def drained(csms, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not ok(csms, "GetTransactionStatus", {})["messagesInQueue"]:
            return
        time.sleep(0.1)
    raise AssertionError("TransactionEvents still queued after %ss" % timeout)


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
    LocalPreAuthorize true and false (C10.FR.11: always ask)."""
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
    assert [f.payload["idToken"] for f in csms.calls("Authorize", since=m)] == [tok("GRP-B")]
    started = charge(st, 2, s)
    first = wait_tx(csms, "Started", since=m, tid=started["id"])
    assert first.payload.get("reservationId") == 5, first.payload
    assert first.payload["idToken"] == tok("GRP-B")
    assert first.payload["triggerReason"] == "RemoteStart"
