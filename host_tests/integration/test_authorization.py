# Issue 4, authorization end to end (C01-C16, D01-D04): the real station process (tools/station on the
# MicroPython unix port) against the CSMS on the `ocpp` package. The CSMS keeps an idToken database and
# answers Authorize and the idTokenInfo of TransactionEvent from it; the simulated EV and card reader are
# driven through the launcher's stdin (`plug`, `ev`, `load`, `tag`). Every frame the station sends is
# schema-checked by the `make_csms` teardown. Test case ids are Part 6 (TC_x_nn_CS).
import time
from drive import (authorized, charge, drained, ev, OFFER, ok, plug, set_var, tag, tid_of, tok, Tokens,
    tx_calls, unplug, wait_tx)

HEARTBEAT = 60  # long: no Heartbeat between the frames a test looks at

# Every station of this module: no clock-aligned or periodic meter values cutting into the sequences.
BASE_DM = (
    ("AlignedDataCtrlr", "Interval", 0),
    ("SampledDataCtrlr", "TxUpdatedInterval", 0),
)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def boot(make_csms, make_station, kit, tokens=None, dm=(), state_dir=None):
    csms = make_csms(heartbeat_interval=HEARTBEAT)
    if tokens is not None:
        tokens.install(csms)
    cfg = kit.station_config(csms.url, device_model=[kit.dm(c, v, x) for c, v, x in BASE_DM + tuple(dm)])
    st = make_station(cfg, state_dir=state_dir)
    kit.wait_booted(csms, st)
    return csms, st, cfg


def start_session(st, evse, id_token):
    """Plug in, present the card on that EVSE, charge: the station's `transaction` Started event."""
    s = st.mark()
    plug(st, evse)
    tag(st, id_token, evse)
    e = authorized(st, id_token, s)
    assert e["status"] == "Accepted", e
    return charge(st, evse, s)


def stop_session(st, evse, id_token, tid):
    """Present the card again, then unplug: the station's `transaction` Ended event."""
    s = st.mark()
    tag(st, id_token, evse)
    ended = st.wait_event("transaction", lambda e: e["id"] == tid and e["type"] == "Ended", since=s)
    unplug(st, evse)
    st.wait_event("status", lambda e: e["evse"] == evse and e["status"] == "Available", since=s)
    return ended


def no_offer_since(st, evse, since):
    """No current offered (PWM) and the contactor never closed on that EVSE since the station mark."""
    return not [e for e in st.named("pilot", since)
                if e["evse"] == evse and (e["duty"] not in (100.0, 0.0) or e["contactor"])]


def go_offline(csms, st):
    """The CSMS goes away (connections refused, the open one aborted); returns once the station noticed."""
    m = st.mark()
    csms.refuse(None)
    csms.drop("tcp")
    st.wait_event("disconnected", since=m, timeout=10)


def go_online(csms, st, timeout=15):
    m = st.mark()
    csms.accept_connections()
    st.wait_event("connected", since=m, timeout=timeout)


# ---------------------------------------------------------------------------------------------
# C01: Authorize at the CSMS
# ---------------------------------------------------------------------------------------------

def test_authorize_invalid_refused_accepted_charges(make_csms, make_station, kit):
    # TC_C_02_CS (Invalid), TC_C_56_CS (Unknown), TC_C_04_CS-style local stop by the same token (E07)
    tokens = Tokens({"GOOD-1": "Accepted", "BAD-1": "Invalid"})
    csms, st, _ = boot(make_csms, make_station, kit, tokens)

    # EVConnectedPreSession: the cable is in, the EV waits (TxStartPoint PowerPathClosed: no transaction yet).
    s0 = st.mark()
    m0 = csms.mark()
    plug(st, 1)
    ev(st, 1, "C")  # the EV asks for power at once: only an offer may close the contactor
    st.wait_event("status", lambda e: e["evse"] == 1 and e["status"] == "Occupied", since=s0)

    for bad, status in (("BAD-1", "Invalid"), ("NOBODY-1", "Unknown")):
        s = st.mark()
        m = csms.mark()
        tag(st, bad)
        assert authorized(st, bad, s)["status"] == status
        auth = csms.wait_call("Authorize", since=m)
        assert auth.payload["idToken"] == tok(bad)  # C01.FR.01: the presented idToken, its type
        assert csms.answer_to(auth).payload["idTokenInfo"]["status"] == status
    # C01.FR.02: not Accepted -> no transaction, no energy (pilot never offers, contactor stays open).
    time.sleep(1)  # would-be TransactionEvents get a moment to show up
    assert tx_calls(csms, since=m0) == [], tx_calls(csms, since=m0)
    assert no_offer_since(st, 1, s0), st.named("pilot", s0)

    # Accepted -> the pilot offers, the EV closes the power path, the transaction starts with the token.
    s = st.mark()
    m = csms.mark()
    tag(st, "GOOD-1")
    assert authorized(st, "GOOD-1", s)["status"] == "Accepted"
    auth = csms.wait_call("Authorize", since=m)
    st.wait_event("pilot", lambda e: e["evse"] == 1 and e["duty"] == OFFER and e["contactor"], since=s)
    started = wait_tx(csms, "Started", since=m)
    assert started.index > auth.index  # C01: authorized first, then charging
    p = started.payload
    assert p["idToken"] == tok("GOOD-1")
    assert p["evse"] == {"id": 1, "connectorId": 1}
    assert p["seqNo"] == 0
    assert p["transactionInfo"]["chargingState"] in ("Charging", "SuspendedEV")

    # The same card again stops it (E07 / TC_C_04_CS: no new Authorize needed for the same idToken).
    m = csms.mark()
    tag(st, "GOOD-1")
    ended = wait_tx(csms, "Ended", since=m, tid=tid_of(started))
    assert ended.payload["triggerReason"] == "StopAuthorized"
    assert ended.payload["transactionInfo"]["stoppedReason"] == "Local"
    st.wait_event("pilot", lambda e: e["evse"] == 1 and not e["contactor"], since=s)


# ---------------------------------------------------------------------------------------------
# C10-C12: the authorization cache
# ---------------------------------------------------------------------------------------------

def test_cache_pre_authorizes_online_authorizes_offline_and_clears(make_csms, make_station, kit):
    # TC_C_33_CS (stored on AuthorizeResponse), TC_C_08_CS (LocalPreAuthorize: no AuthorizeRequest),
    # C12/C13 offline through the cache (LocalAuthorizeOffline, default true), TC_C_56_CS-like unknown
    # id offline (OfflineTxForUnknownIdEnabled false), TC_C_37_CS (ClearCache empties it).
    tokens = Tokens({"CACHED-1": "Accepted"})
    csms, st, _ = boot(make_csms, make_station, kit, tokens, dm=[("AuthCtrlr", "LocalPreAuthorize", "true")])

    # 1. Unknown to the station: asked at the CSMS, the answer goes into the cache (C10.FR.04).
    m = csms.mark()
    started = start_session(st, 1, "CACHED-1")
    auth = [f for f in csms.calls("Authorize", since=m)]
    assert [f.payload["idToken"] for f in auth] == [tok("CACHED-1")]
    stop_session(st, 1, "CACHED-1", started["id"])

    # 2. Online again with LocalPreAuthorize: Accepted from the cache, no AuthorizeRequest (C12.FR.02).
    m = csms.mark()
    started = start_session(st, 1, "CACHED-1")
    wait_tx(csms, "Started", since=m, tid=started["id"])
    stop_session(st, 1, "CACHED-1", started["id"])
    assert csms.calls("Authorize", since=m) == [], csms.calls("Authorize", since=m)
    drained(csms)

    # 3. Offline: the cached token still starts charging (LocalAuthorizeOffline); an unknown one does not.
    go_offline(csms, st)
    m_off = csms.mark()
    s = st.mark()
    plug(st, 2)
    tag(st, "STRANGER-1", 2)
    assert authorized(st, "STRANGER-1", s)["status"] != "Accepted"
    started = start_session(st, 1, "CACHED-1")
    ended = stop_session(st, 1, "CACHED-1", started["id"])
    assert ended["stoppedReason"] == "Local"
    time.sleep(0.5)
    assert no_offer_since(st, 2, s), st.named("pilot", s)
    assert not [e for e in st.named("transaction", s) if e["evse"] == 2]

    # Back online: the queued events arrive, marked offline (E04), and nothing was ever sent for STRANGER-1.
    go_online(csms, st)
    wait_tx(csms, "Ended", since=m_off, tid=started["id"])
    drained(csms)  # the TransactionEventResponses (idTokenInfo Accepted) refill the cache first
    frames = tx_calls(csms, since=m_off, tid=started["id"])
    assert [f.payload["eventType"] for f in frames] == ["Started", "Ended"], frames
    assert all(f.payload.get("offline") is True for f in frames), frames
    assert frames[0].payload["idToken"] == tok("CACHED-1")
    assert csms.calls("Authorize", since=m_off) == []

    # 4. ClearCache (C11.FR.03): the same token is unknown locally again -> AuthorizeRequest (TC_C_37_CS step 5).
    assert ok(csms, "ClearCache", {})["status"] == "Accepted"
    m = csms.mark()
    started = start_session(st, 1, "CACHED-1")
    assert [f.payload["idToken"] for f in csms.calls("Authorize", since=m)] == [tok("CACHED-1")]
    wait_tx(csms, "Started", since=m, tid=started["id"])


def test_clear_cache_then_offline_refuses_and_cache_disabled_rejects(make_csms, make_station, kit):
    # TC_C_37_CS (an emptied cache authorizes nobody offline), TC_C_38_CS (ClearCache Rejected while the
    # cache is disabled, C11.FR.04).
    tokens = Tokens({"CACHED-2": "Accepted"})
    csms, st, _ = boot(make_csms, make_station, kit, tokens)
    started = start_session(st, 1, "CACHED-2")
    stop_session(st, 1, "CACHED-2", started["id"])
    wait_tx(csms, "Ended", tid=started["id"])
    drained(csms)
    assert ok(csms, "ClearCache", {})["status"] == "Accepted"

    go_offline(csms, st)
    s = st.mark()
    plug(st, 1)
    tag(st, "CACHED-2", 1)
    assert authorized(st, "CACHED-2", s)["status"] != "Accepted"  # nothing local knows it any more
    time.sleep(0.5)
    assert no_offer_since(st, 1, s)
    assert not st.named("transaction", s)

    go_online(csms, st)
    set_var(csms, "AuthCacheCtrlr", "Enabled", "false")
    assert ok(csms, "ClearCache", {})["status"] == "Rejected"


# ---------------------------------------------------------------------------------------------
# D01/D02 local authorization list, C13/C14 authorization through it
# ---------------------------------------------------------------------------------------------

def entry(id_token, status=None, group=None):
    e = {"idToken": tok(id_token)}
    if status is not None:
        e["idTokenInfo"] = {"status": status}
        if group is not None:
            e["idTokenInfo"]["groupIdToken"] = {"idToken": group, "type": "Central"}
    return e


def list_version(csms):
    return ok(csms, "GetLocalListVersion", {})["versionNumber"]


def send_list(csms, update_type, version, entries):
    p = {"versionNumber": version, "updateType": update_type}
    if entries is not None:
        p["localAuthorizationList"] = entries
    return ok(csms, "SendLocalList", p)["status"]


def list_entries(csms, kit):
    r = kit.get_variable(csms, "LocalAuthListCtrlr", "Entries")
    assert r["attributeStatus"] == "Accepted", r
    return int(r["attributeValue"])


def test_local_list_full_differential_version_and_reboot(make_csms, make_station, kit):
    # TC_D_08_CS, TC_D_01_CS, TC_D_02_CS, TC_D_03_CS, TC_D_06_CS, TC_D_07_CS, TC_D_05_CS, TC_D_04_CS
    csms, st, cfg = boot(make_csms, make_station, kit)
    assert list_version(csms) == 0  # D02: no list installed yet

    assert send_list(csms, "Full", 1, [entry("LIST-A", "Accepted"), entry("LIST-B", "Accepted")]) == "Accepted"
    assert list_version(csms) == 1  # D01.FR.15
    assert list_entries(csms, kit) == 2

    # Differential: add C, remove B (no idTokenInfo), update A to Blocked (D01.FR.16).
    assert send_list(csms, "Differential", 2,
                     [entry("LIST-C", "Accepted"), entry("LIST-B"), entry("LIST-A", "Blocked")]) == "Accepted"
    assert list_version(csms) == 2
    assert list_entries(csms, kit) == 2

    # A Differential not newer than the installed list changes nothing (D01.FR.19).
    assert send_list(csms, "Differential", 2, [entry("LIST-D", "Accepted")]) == "VersionMismatch"
    assert send_list(csms, "Differential", 1, [entry("LIST-D", "Accepted")]) == "VersionMismatch"
    assert list_version(csms) == 2
    assert list_entries(csms, kit) == 2

    # Kept across a restart of the station process (D01.FR.10), and used offline right away (C13):
    # A is Blocked, C Accepted, B was removed.
    st.kill()
    m = csms.mark()
    st2 = make_station(cfg, state_dir=st.state_dir)
    kit.wait_booted(csms, st2, since=m)
    assert list_version(csms) == 2
    assert list_entries(csms, kit) == 2
    go_offline(csms, st2)
    s = st2.mark()
    plug(st2, 1)
    for t, want in (("LIST-A", "Blocked"), ("LIST-B", "Unknown"), ("LIST-C", "Accepted")):
        s1 = st2.mark()
        tag(st2, t, 1)
        assert authorized(st2, t, s1)["status"] == want, t
    charge(st2, 1, s)
    go_online(csms, st2)

    # An empty Differential only moves the version (D01.FR.05); an empty Full empties it (D01.FR.04).
    assert send_list(csms, "Differential", 3, None) == "Accepted"
    assert list_version(csms) == 3 and list_entries(csms, kit) == 2
    assert send_list(csms, "Full", 4, None) == "Accepted"  # (the schema forbids an empty array)
    assert list_version(csms) == 4 and list_entries(csms, kit) == 0


def test_local_pre_authorize_from_list(make_csms, make_station, kit):
    # TC_C_27_CS (LocalPreAuthorize + Accepted in the list: no AuthorizeRequest, C14.FR.02),
    # TC_C_29_CS (Blocked in the list: the CSMS is asked, C14.FR.03), TC_C_36_CS-like (LocalPreAuthorize
    # false: always asked), TC_D_10_CS (list disabled: version 0).
    tokens = Tokens({"LISTED-1": "Accepted", "LISTED-2": "Accepted", "BLOCKED-1": "Blocked"})
    csms, st, _ = boot(make_csms, make_station, kit, tokens, dm=[("AuthCtrlr", "LocalPreAuthorize", "true")])
    assert send_list(csms, "Full", 7, [entry("LISTED-1", "Accepted"), entry("LISTED-2", "Accepted"),
                                       entry("BLOCKED-1", "Blocked")]) == "Accepted"

    m = csms.mark()
    started = start_session(st, 1, "LISTED-1")
    frame = wait_tx(csms, "Started", since=m, tid=started["id"])
    assert frame.payload["idToken"] == tok("LISTED-1")
    assert csms.calls("Authorize", since=m) == []  # C14.FR.02

    m = csms.mark()
    s = st.mark()
    plug(st, 2)
    tag(st, "BLOCKED-1", 2)
    assert authorized(st, "BLOCKED-1", s)["status"] == "Blocked"
    assert [f.payload["idToken"] for f in csms.calls("Authorize", since=m)] == [tok("BLOCKED-1")]  # C14.FR.03

    # LocalPreAuthorize false: a listed token is still checked with the CSMS (C01).
    set_var(csms, "AuthCtrlr", "LocalPreAuthorize", "false")
    m = csms.mark()
    s = st.mark()
    tag(st, "LISTED-2", 2)
    assert authorized(st, "LISTED-2", s)["status"] == "Accepted"
    assert [f.payload["idToken"] for f in csms.calls("Authorize", since=m)] == [tok("LISTED-2")]

    set_var(csms, "LocalAuthListCtrlr", "Enabled", "false")
    assert list_version(csms) == 0  # D02.FR.03


# ---------------------------------------------------------------------------------------------
# C15 unknown ids offline
# ---------------------------------------------------------------------------------------------

def test_offline_tx_for_unknown_id(make_csms, make_station, kit):
    # TC_C_26_CS: OfflineTxForUnknownIdEnabled true, StopTxOnInvalidId false, MaxEnergyOnInvalidId 0.
    # Offline an unknown id charges (C15.FR.02); the queued events go out marked offline; the CSMS says
    # Invalid -> the transaction goes on without energy (chargingState SuspendedEVSE); the same card ends it.
    tokens = Tokens({})
    csms, st, _ = boot(make_csms, make_station, kit, tokens, dm=[
        ("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true"),
        ("TxCtrlr", "StopTxOnInvalidId", "false"),
        ("TxCtrlr", "MaxEnergyOnInvalidId", 0),
    ])
    go_offline(csms, st)
    m = csms.mark()
    started = start_session(st, 1, "WHOEVER-1")
    assert csms.calls(since=m) == []  # nobody to ask

    s_on = st.mark()
    go_online(csms, st)
    first = wait_tx(csms, "Started", since=m, tid=started["id"])
    assert first.payload.get("offline") is True
    assert first.payload["idToken"] == tok("WHOEVER-1")
    answer = csms.wait_for(lambda: csms.answer_to(first), 5, "the answer to the queued Started event")
    assert answer.payload["idTokenInfo"]["status"] == "Unknown"
    # Not Accepted -> no more energy: the offer is withdrawn, an Updated event says SuspendedEVSE.
    upd = csms.wait_for(lambda: [f for f in tx_calls(csms, since=first.index, tid=started["id"], etype="Updated")
                                 if f.payload["transactionInfo"].get("chargingState") == "SuspendedEVSE"], 10,
                        "an Updated TransactionEvent with chargingState SuspendedEVSE")
    assert upd[0].payload.get("offline") is not True  # decided online, after the answer
    st.wait_event("pilot", lambda e: e["evse"] == 1 and e["duty"] == 100.0 and not e["contactor"], since=s_on)
    time.sleep(0.5)
    assert not tx_calls(csms, since=m, tid=started["id"], etype="Ended")  # StopTxOnInvalidId false: still running


def test_offline_unknown_id_refused_by_default(make_csms, make_station, kit):
    # C15.FR.01/TC_C_26_CS converse: OfflineTxForUnknownIdEnabled false (default) -> no charging offline.
    csms, st, _ = boot(make_csms, make_station, kit, Tokens({}))
    go_offline(csms, st)
    s = st.mark()
    plug(st, 1)
    ev(st, 1, "C")
    tag(st, "WHOEVER-2", 1)
    assert authorized(st, "WHOEVER-2", s)["status"] != "Accepted"
    time.sleep(1)
    assert no_offer_since(st, 1, s)
    assert not st.named("transaction", s)


# ---------------------------------------------------------------------------------------------
# C09 group ids, C16 master pass
# ---------------------------------------------------------------------------------------------

def test_stop_by_token_of_same_group_only(make_csms, make_station, kit):
    # TC_C_39_CS (another token of the same groupIdToken stops it, C09.FR.03), TC_C_42_CS (one of another
    # group does not), TC_C_43_CS-like (an Invalid token of the same group does not, C09.FR.11).
    tokens = Tokens({"ANNA": ("Accepted", "FAMILY"), "BOB": ("Accepted", "FAMILY"),
                     "EVE": ("Accepted", "OTHERS"), "MALLORY": ("Invalid", "FAMILY")})
    csms, st, _ = boot(make_csms, make_station, kit, tokens)
    m = csms.mark()
    started = start_session(st, 1, "ANNA")
    tid = started["id"]
    first = wait_tx(csms, "Started", since=m, tid=tid)
    assert first.payload["idToken"] == tok("ANNA")

    for other in ("EVE", "MALLORY"):
        s = st.mark()
        m2 = csms.mark()
        tag(st, other, 1)
        e = authorized(st, other, s)
        assert e["status"] == "NotAllowedToStop", e
        assert [f.payload["idToken"] for f in csms.calls("Authorize", since=m2)] == [tok(other)]
    time.sleep(0.3)
    assert not tx_calls(csms, tid=tid, etype="Ended")
    assert [e for e in st.named("pilot") if e["evse"] == 1][-1]["contactor"]  # still charging

    m = csms.mark()
    tag(st, "BOB", 1)
    ended = wait_tx(csms, "Ended", since=m, tid=tid)
    p = ended.payload
    assert p["triggerReason"] == "StopAuthorized"
    assert p["transactionInfo"]["stoppedReason"] == "Local"
    assert p["idToken"] == tok("BOB")  # the token that stopped it (E07)


def two_sessions(st, csms, evse1_token, evse2_token):
    """EnergyTransferStarted on EVSE 1 and EVSE 2 (connector 2): the two transactionIds."""
    m = csms.mark()
    t1 = start_session(st, 1, evse1_token)["id"]
    s = st.mark()
    plug(st, 2, 2)
    tag(st, evse2_token, 2)
    assert authorized(st, evse2_token, s)["status"] == "Accepted"
    t2 = charge(st, 2, s)["id"]
    wait_tx(csms, "Started", since=m, tid=t1)
    wait_tx(csms, "Started", since=m, tid=t2)
    return t1, t2


def master_pass_stopped_all(csms, since, tids):
    # TC_C_49_CS step 3: stoppedReason MasterPass, idToken omitted or the master pass.
    for tid in tids:
        p = wait_tx(csms, "Ended", since=since, tid=tid).payload
        assert p["transactionInfo"]["stoppedReason"] == "MasterPass", p
        assert p.get("idToken", tok("POLICE")) == tok("POLICE"), p


MASTER_DB = {"ANNA": ("Accepted", "FAMILY"), "JOE": "Accepted", "POLICE": ("Accepted", "MASTER")}


def test_master_pass_known_stops_all_and_starts_nothing(make_csms, make_station, kit):
    # TC_C_49_CS (without UI: a master pass presented at the reader stops every transaction, C16.FR.02),
    # TC_C_45_CS / TC_C_14_CS (it starts none, C16.FR.03). Here the station knows the card beforehand
    # (local list entry with groupIdToken = MasterPassGroupId).
    csms, st, _ = boot(make_csms, make_station, kit, Tokens(MASTER_DB),
                       dm=[("AuthCtrlr", "MasterPassGroupId", "MASTER")])
    assert send_list(csms, "Full", 1, [entry("POLICE", "Accepted", "MASTER")]) == "Accepted"
    tids = two_sessions(st, csms, "ANNA", "JOE")

    m = csms.mark()
    tag(st, "POLICE")  # no EVSE chosen: the reader of a station without UI
    master_pass_stopped_all(csms, m, tids)

    # On a waiting EV (EVSE 1: cable in, the EV asks for power) it starts nothing.
    m = csms.mark()
    s = st.mark()
    tag(st, "POLICE", 1)
    e = authorized(st, "POLICE", s)
    assert e["status"] != "Accepted", e
    time.sleep(1)
    assert no_offer_since(st, 1, s), st.named("pilot", s)
    assert not tx_calls(csms, since=m, etype="Started")


def test_master_pass_first_seen_stops_all(make_csms, make_station, kit):
    # TC_C_49_CS as written: the station has never seen the master pass. Step 1: it sends an
    # AuthorizeRequest; the answer's groupIdToken is MasterPassGroupId -> both transactions end (C16.FR.02).
    csms, st, _ = boot(make_csms, make_station, kit, Tokens(MASTER_DB),
                       dm=[("AuthCtrlr", "MasterPassGroupId", "MASTER")])
    tids = two_sessions(st, csms, "ANNA", "JOE")
    m = csms.mark()
    tag(st, "POLICE")
    auth = csms.wait_call("Authorize", since=m, timeout=5)
    assert auth.payload["idToken"] == tok("POLICE")
    master_pass_stopped_all(csms, m, tids)


def test_master_pass_first_seen_does_not_start(make_csms, make_station, kit):
    # TC_C_45_CS as written: unknown to the station, the master pass is sent in an AuthorizeRequest (step 1);
    # the answer says group MasterPassGroupId: no transaction, no energy (C16.FR.03).
    csms, st, _ = boot(make_csms, make_station, kit, Tokens(MASTER_DB),
                       dm=[("AuthCtrlr", "MasterPassGroupId", "MASTER")])
    s = st.mark()
    m = csms.mark()
    plug(st, 1)
    ev(st, 1, "C")
    tag(st, "POLICE", 1)
    auth = csms.wait_call("Authorize", since=m)
    assert auth.payload["idToken"] == tok("POLICE")
    e = authorized(st, "POLICE", s)
    time.sleep(1)
    assert not tx_calls(csms, since=m), tx_calls(csms, since=m)
    assert no_offer_since(st, 1, s), st.named("pilot", s)
    assert e["status"] != "Accepted", e
