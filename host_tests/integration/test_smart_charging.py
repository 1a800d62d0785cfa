# Issue 12, smart charging end to end (K01, K05, K08, K09, K10): the real station process (tools/station,
# MicroPython unix port) against the CSMS on the `ocpp` package. Every frame the station sends is
# schema-checked by the make_csms teardown. Part 6 test case ids (TC_K_nn_CS) where a test follows one.
import datetime
import os
import signal
import time

CALLRESULT = 3
BASE_DM = (
    ("AlignedDataCtrlr", "Interval", 0),
    ("SampledDataCtrlr", "TxUpdatedInterval", 0),
)


def duty(amps):
    return round(amps / 0.6, 1)  # IEC 61851-1 Table A.8, 6..51 A


def near(a, b, tol=0.15):
    return abs(a - b) <= tol  # duty tolerance: the sim reports the exact float; 0.15 % covers rounding


def iso_in(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def ok(csms, action, payload, timeout=5):
    reply = csms.call(action, payload, timeout=timeout)
    assert reply.kind == CALLRESULT, "%s answered with %r" % (action, reply)
    return reply.payload


def booted(make_csms, make_station, kit, dm=(), state_dir=None, csms=None):
    if csms is None:
        csms = make_csms(heartbeat_interval=600)
        csms.responders["Authorize"] = lambda p, s: {"idTokenInfo": {"status": "Accepted"}}
        csms.responders["TransactionEvent"] = lambda p, s: (
            {"idTokenInfo": {"status": "Accepted"}} if "idToken" in p else {})
    cfg = kit.station_config(csms.url, device_model=[kit.dm(c, v, x) for c, v, x in BASE_DM + tuple(dm)])
    m = csms.mark()
    st = make_station(cfg, state_dir=state_dir)
    kit.wait_booted(csms, st, since=m)
    return csms, st


def profile(pid, purpose, periods, unit="A", kind="Absolute", level=0, start=True, **kw):
    sch = {"id": pid, "chargingRateUnit": unit,
           "chargingSchedulePeriod": [{"startPeriod": s, "limit": l} for s, l in periods]}
    if start and kind != "Relative":
        sch["startSchedule"] = iso_in(-1)
    for k in ("duration", "minChargingRate"):
        if k in kw:
            sch[k] = kw.pop(k)
    p = {"id": pid, "stackLevel": level, "chargingProfilePurpose": purpose, "chargingProfileKind": kind,
         "chargingSchedule": [sch]}
    p.update(kw)
    return p


def set_profile(csms, evse, p):
    return ok(csms, "SetChargingProfile", {"evseId": evse, "chargingProfile": p})["status"]


def get_profiles(csms, request_id, crit, evse=None):
    """(status, [(evseId, profile id, tbc)] reported)."""
    m = csms.mark()
    p = {"requestId": request_id, "chargingProfile": crit}
    if evse is not None:
        p["evseId"] = evse
    status = ok(csms, "GetChargingProfiles", p)["status"]
    out = []
    if status == "Accepted":
        def done():
            fr = [f for f in csms.calls("ReportChargingProfiles", since=m) if f.payload["requestId"] == request_id]
            return fr if fr and not fr[-1].payload.get("tbc", False) else None
        for f in csms.wait_for(done, 10, "ReportChargingProfiles"):
            for cp in f.payload["chargingProfile"]:
                out.append((f.payload["evseId"], cp["id"], f.payload.get("tbc", False)))
    return status, out


def start_session(st, csms, evse=1, watts=22000):
    s = st.mark()
    m = csms.mark()
    st.send({"cmd": "plug", "evse": evse, "connector": 1})
    st.send({"cmd": "tag", "id": "SMART-1", "evse": evse})
    st.wait_event("pilot", lambda e: e["evse"] == evse and e["duty"] < 100 and e["duty"] > 0, since=s)
    st.send({"cmd": "ev", "evse": evse, "state": "C"})
    st.send({"cmd": "load", "evse": evse, "watts": watts})
    started = st.wait_event("transaction", lambda e: e["evse"] == evse and e["type"] == "Started", since=s)
    csms.wait_for(lambda: [f for f in csms.calls("TransactionEvent", since=m)
                           if f.payload["eventType"] == "Started"], 10, "Started")
    return started["id"]


def rate_events(csms, since):
    return [f.payload for f in csms.calls("TransactionEvent", since=since)
            if f.payload["triggerReason"] == "ChargingRateChanged"]


def offered(payload):
    out = {}
    for mv in payload.get("meterValue", ()):
        for sv in mv["sampledValue"]:
            out[sv.get("measurand")] = sv["value"]
    return out


# ---------------------------------------------------------------------------------------------
# K01 SetChargingProfile: accepted and rejected cases; a rejected profile changes nothing
# ---------------------------------------------------------------------------------------------

def test_set_charging_profile_validation(make_csms, make_station, kit):
    csms, st = booted(make_csms, make_station, kit)
    # declared capability is the truth now
    assert kit.get_variable(csms, "SmartChargingCtrlr", "Available")["attributeValue"] == "true"
    TXD, TXP, MAX = "TxDefaultProfile", "TxProfile", "ChargingStationMaxProfile"
    assert set_profile(csms, 1, profile(1, TXD, [(0, 16)])) == "Accepted"  # TC_K_01_CS
    assert set_profile(csms, 0, profile(2, TXD, [(0, 20)], level=1)) == "Accepted"  # TC_K_10_CS
    assert set_profile(csms, 0, profile(3, MAX, [(0, 25)])) == "Accepted"  # TC_K_03_CS
    assert set_profile(csms, 0, profile(4, "TxDefaultProfile", [(0, 10)], kind="Recurring",
                                        recurrencyKind="Daily", level=2)) == "Accepted"  # TC_K_19_CS
    assert set_profile(csms, 1, profile(5, TXD, [(0, 6)], kind="Relative", level=3,
                                        validFrom=iso_in(300))) == "Accepted"  # TC_K_21_CS
    rejected = [
        (1, profile(10, TXP, [(0, 10)])),  # TC_K_02_CS: no transaction on the EVSE (K01.FR.09)
        (0, profile(11, TXP, [(0, 10)])),  # TC_K_11_CS: TxProfile on all EVSEs (K01.FR.16)
        (3, profile(12, TXD, [(0, 10)])),  # TC_K_14_CS: unknown EVSE (K01.FR.28)
        (0, profile(13, MAX, [(0, 10)], kind="Relative")),  # K01.FR.38
        (1, profile(14, MAX, [(0, 10)])),  # ChargingStationMaxProfile only on EVSE 0
        (1, profile(15, TXD, [(5, 10)])),  # K01.FR.31: first startPeriod 0
        (1, profile(16, TXD, [(0, 10), (60, 8), (30, 6)])),  # periods ascend
        (1, profile(17, TXD, [(0, 10)], level=11)),  # above ProfileStackLevel (10)
        (1, profile(18, TXD, [(0, 10)], start=False)),  # K01.FR.40: Absolute needs startSchedule
        (1, profile(19, TXD, [(0, 10)], kind="Recurring")),  # Recurring needs recurrencyKind
        (1, profile(20, TXD, [(s, 10) for s in range(0, 25 * 60, 60)])),  # > PeriodsPerSchedule (24)
        (1, profile(21, TXD, [(0, 10)], validFrom=iso_in(100), validTo=iso_in(50))),
        (1, profile(22, TXD, [(0, 10)], validTo=iso_in(-10))),  # already expired
        (1, profile(23, TXD, [(0, 12)])),  # same stackLevel/purpose/EVSE as profile 1, other id (K01.FR.39)
        (1, dict(profile(24, TXD, [(0, 10)], level=4), transactionId="x")),  # transactionId outside TxProfile
    ]
    ph = profile(25, TXD, [(0, 10)], level=5)
    ph["chargingSchedule"][0]["chargingSchedulePeriod"][0].update(numberPhases=1, phaseToUse=1)
    rejected.append((1, ph))  # phaseToUse without Phases3to1 support
    for evse, p in rejected:
        r = ok(csms, "SetChargingProfile", {"evseId": evse, "chargingProfile": p})
        assert r["status"] == "Rejected", (p["id"], r)
        assert r.get("statusInfo", {}).get("reasonCode"), r
    # nothing of the rejected ones was installed (K01: a rejected profile changes nothing)
    status, rep = get_profiles(csms, 1, {})
    assert status == "Accepted"
    assert sorted(i for _, i, _ in rep) == [1, 2, 3, 4, 5]
    # tbc: 5 profiles, at most 4 per report and one evseId per report
    assert [t for _, _, t in rep][-1] is False and any(t for _, _, t in rep)
    # replacement by id (K01.FR.05): same id, new limit -> still five profiles
    assert set_profile(csms, 1, profile(1, TXD, [(0, 14)])) == "Accepted"
    status, rep = get_profiles(csms, 2, {"chargingProfileId": [1]})
    assert rep == [(1, 1, False)]
    # K09 criteria: TC_K_29 (evseId 0), TC_K_33 (stackLevel), TC_K_34 (source), TC_K_35 (purpose)
    assert sorted(i for _, i, _ in get_profiles(csms, 3, {}, evse=0)[1]) == [2, 3, 4]
    assert [i for _, i, _ in get_profiles(csms, 4, {"stackLevel": 3})[1]] == [5]
    assert get_profiles(csms, 5, {"chargingLimitSource": ["EMS"]})[0] == "NoProfiles"
    assert [i for _, i, _ in get_profiles(csms, 6, {"chargingProfilePurpose": MAX})[1]] == [3]
    assert get_profiles(csms, 7, {"chargingProfileId": [99]})[0] == "NoProfiles"
    # K08 / TC_K_40-41: stacking and combining purposes; TC_K_42-ish unknown EVSE
    r = ok(csms, "GetCompositeSchedule", {"evseId": 1, "duration": 600, "chargingRateUnit": "A"})
    assert r["status"] == "Accepted"
    sch = r["schedule"]
    assert sch["evseId"] == 1 and sch["duration"] == 600 and sch["chargingRateUnit"] == "A"
    per = sch["chargingSchedulePeriod"]
    # level-2 recurring 10 A (EVSE 0) wins over level 0 (14 A, EVSE 1) and level 1 (20 A); from 300 s the
    # level-3 relative 6 A profile (validFrom) wins; max 25 A caps nothing here
    assert per[0]["startPeriod"] == 0 and per[0]["limit"] == 10.0, per
    assert per[-1]["limit"] == 6.0 and 295 <= per[-1]["startPeriod"] <= 300, per
    w = ok(csms, "GetCompositeSchedule", {"evseId": 1, "duration": 60, "chargingRateUnit": "W"})
    assert w["schedule"]["chargingSchedulePeriod"][0]["limit"] == 10 * 230 * 3  # A -> W, 3 phases 230 V
    assert ok(csms, "GetCompositeSchedule", {"evseId": 7, "duration": 60})["status"] == "Rejected"
    z = ok(csms, "GetCompositeSchedule", {"evseId": 0, "duration": 60, "chargingRateUnit": "A"})
    assert z["schedule"]["chargingSchedulePeriod"][0]["limit"] == 25.0
    # K10 ClearChargingProfile: TC_K_05 (id), TC_K_06 (criteria), TC_K_08 (nothing -> Unknown)
    assert ok(csms, "ClearChargingProfile", {"chargingProfileId": 99})["status"] == "Unknown"
    assert ok(csms, "ClearChargingProfile", {"chargingProfileId": 5})["status"] == "Accepted"
    assert ok(csms, "ClearChargingProfile", {"chargingProfileCriteria": {
        "chargingProfilePurpose": MAX, "stackLevel": 0}})["status"] == "Accepted"
    assert ok(csms, "ClearChargingProfile", {"chargingProfileCriteria": {
        "chargingProfilePurpose": MAX}})["status"] == "Unknown"
    assert sorted(i for _, i, _ in get_profiles(csms, 8, {})[1]) == [1, 2, 4]
    r = ok(csms, "GetVariables", {"getVariableData": [{"component": {"name": "SmartChargingCtrlr"},
                                                       "variable": {"name": "Entries", "instance": "ChargingProfiles"}}]})
    assert r["getVariableResult"][0]["attributeValue"] == "3", r
    assert ok(csms, "ClearChargingProfile", {})["status"] == "Accepted"
    assert get_profiles(csms, 9, {})[0] == "NoProfiles"
    # TC_K_39_CS: nothing installed -> the EVSE's own maximum (32 A)
    r = ok(csms, "GetCompositeSchedule", {"evseId": 1, "duration": 300})
    assert r["schedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 32.0, "numberPhases": 3}]
    # SmartChargingCtrlr.Entries bounds the store (maxLimit 10)
    for i in range(10):
        assert set_profile(csms, 1, profile(100 + i, TXD, [(0, 16)], level=i)) == "Accepted"
    r = ok(csms, "SetChargingProfile", {"evseId": 0, "chargingProfile": profile(200, MAX, [(0, 16)])})
    assert r["status"] == "Rejected" and r["statusInfo"]["reasonCode"] == "NoCapacity"


# ---------------------------------------------------------------------------------------------
# control: the pilot follows the TxProfile's periods, pause below 6 A and resume, W, station max
# ---------------------------------------------------------------------------------------------

def test_tx_profile_pilot_follows_periods_pause_and_resume(make_csms, make_station, kit):
    csms, st = booted(make_csms, make_station, kit)
    tid = start_session(st, csms)
    st.wait_event("pilot", lambda e: near(e["duty"], duty(32)) and e["contactor"])
    # TC_K_16_CS: unknown transactionId -> Rejected
    assert set_profile(csms, 1, profile(1, "TxProfile", [(0, 16)], transactionId="nope")) == "Rejected"
    s = st.mark()
    m = csms.mark()
    t0 = time.monotonic()
    # TC_K_60_CS: TxProfile on the running transaction
    p = profile(1, "TxProfile", [(0, 16), (4, 10), (8, 3), (12, 20)], transactionId=tid)
    p["chargingSchedule"][0]["startSchedule"] = iso_in(0)
    assert set_profile(csms, 1, p) == "Accepted"
    e16 = st.wait_event("pilot", lambda e: near(e["duty"], duty(16)), since=s, timeout=5)
    e10 = st.wait_event("pilot", lambda e: near(e["duty"], duty(10)), since=s, timeout=8)
    t10 = time.monotonic()
    assert 2.5 <= t10 - t0 <= 6.0, t10 - t0  # boundary at 4 s, applied within a second (+ start slack)
    # 3 A: pause -- no offer (steady +12 V, duty 100) and the contactor opens (the EV stopped drawing)
    paused = st.wait_event("pilot", lambda e: e["duty"] == 100 and not e["contactor"], since=s, timeout=8)
    resumed = st.wait_event("pilot", lambda e: near(e["duty"], duty(20)) and e["contactor"], since=s, timeout=8)
    assert time.monotonic() - t0 <= 14.5
    # TransactionEvent Updated / ChargingRateChanged with the offered current and power
    ev = csms.wait_for(lambda: rate_events(csms, m) if len(rate_events(csms, m)) >= 4 else None, 10,
                       "ChargingRateChanged x4")
    amps = [offered(x).get("Current.Offered") for x in ev]
    assert amps[:4] == [16.0, 10.0, 0.0, 20.0], amps
    assert offered(ev[0])["Power.Offered"] == 16 * 230 * 3
    states = [x["transactionInfo"].get("chargingState") for x in ev]
    assert states[2] == "SuspendedEVSE" and states[3] == "Charging", states
    # the meter follows the offer: power drawn never exceeds what is offered
    mv = [offered(x).get("Power.Active.Import") for x in ev]
    assert mv[2] == 0.0
    # the TxProfile goes with its transaction (K01: TxProfile lives as long as the transaction)
    m = csms.mark()
    st.send({"cmd": "unplug", "evse": 1, "connector": 1})
    csms.wait_for(lambda: [f for f in csms.calls("TransactionEvent", since=m)
                           if f.payload["eventType"] == "Ended"], 10, "Ended")
    time.sleep(1.5)
    assert get_profiles(csms, 1, {})[0] == "NoProfiles"


def test_w_limit_and_station_max(make_csms, make_station, kit):
    csms, st = booted(make_csms, make_station, kit)
    assert set_profile(csms, 0, profile(1, "ChargingStationMaxProfile", [(0, 20)])) == "Accepted"
    tid = start_session(st, csms)
    # the station maximum caps the offer (20 A of the EVSE's 32 A)
    st.wait_event("pilot", lambda e: near(e["duty"], duty(20)) and e["contactor"])
    s = st.mark()
    # a larger TxProfile (30 A) stays capped by the station maximum
    assert set_profile(csms, 1, profile(2, "TxProfile", [(0, 30)], transactionId=tid)) == "Accepted"
    time.sleep(1.5)
    assert not [e for e in st.named("pilot", since=s) if e["duty"] != duty(20)]
    r = ok(csms, "GetCompositeSchedule", {"evseId": 1, "duration": 60, "chargingRateUnit": "A"})
    assert r["schedule"]["chargingSchedulePeriod"][0]["limit"] == 20.0
    # a W limit: 6900 W on 3 phases at 230 V = 10 A per phase; on 1 phase (numberPhases 1) 30 A -> capped 20
    p = profile(2, "TxProfile", [(0, 6900)], unit="W", transactionId=tid)
    assert set_profile(csms, 1, p) == "Accepted"
    st.wait_event("pilot", lambda e: near(e["duty"], duty(10)), since=s, timeout=5)
    r = ok(csms, "GetCompositeSchedule", {"evseId": 1, "duration": 60, "chargingRateUnit": "W"})
    assert r["schedule"]["chargingSchedulePeriod"][0]["limit"] == 6900.0
    p = profile(2, "TxProfile", [(0, 2300)], unit="W", transactionId=tid)
    p["chargingSchedule"][0]["chargingSchedulePeriod"][0]["numberPhases"] = 1
    assert set_profile(csms, 1, p) == "Accepted"
    r = ok(csms, "GetCompositeSchedule", {"evseId": 1, "duration": 60, "chargingRateUnit": "A"})
    assert r["schedule"]["chargingSchedulePeriod"][0] == {"startPeriod": 0, "limit": 10.0, "numberPhases": 1}


def test_remote_start_with_charging_profile(make_csms, make_station, kit):
    # TC_K_37_CS (K05.FR.02/03): the profile of RequestStartTransaction is the TxProfile of the transaction.
    csms, st = booted(make_csms, make_station, kit)
    tok = {"idToken": "REMOTE-K", "type": "ISO14443"}
    bad = profile(7, "TxDefaultProfile", [(0, 8)], kind="Relative")
    assert ok(csms, "RequestStartTransaction", {"idToken": tok, "remoteStartId": 1, "evseId": 1,
                                                "chargingProfile": bad})["status"] == "Rejected"
    bad = profile(7, "TxProfile", [(0, 8)], kind="Relative", transactionId="t")
    assert ok(csms, "RequestStartTransaction", {"idToken": tok, "remoteStartId": 1, "evseId": 1,
                                                "chargingProfile": bad})["status"] == "Rejected"
    s = st.mark()
    good = profile(7, "TxProfile", [(0, 8)], kind="Relative")
    assert ok(csms, "RequestStartTransaction", {"idToken": tok, "remoteStartId": 2, "evseId": 1,
                                                "chargingProfile": good})["status"] == "Accepted"
    st.send({"cmd": "plug", "evse": 1, "connector": 1})
    first = st.wait_event("pilot", lambda e: 0 < e["duty"] < 100, since=s)
    assert near(first["duty"], duty(8)), first  # the first offer already follows the profile
    st.send({"cmd": "ev", "evse": 1, "state": "C"})
    st.send({"cmd": "load", "evse": 1, "watts": 22000})
    started = st.wait_event("transaction", lambda e: e["type"] == "Started", since=s)
    time.sleep(1.5)
    status, rep = get_profiles(csms, 1, {"chargingProfilePurpose": "TxProfile"})
    assert rep == [(1, 7, False)]
    f = [x for x in csms.calls("ReportChargingProfiles")][-1]
    assert f.payload["chargingProfile"][0]["transactionId"] == started["id"]


def test_profiles_survive_power_loss(make_csms, make_station, kit, tmp_path):
    # TC_K_13_CS-like: persistent over a reboot, here a power loss (SIGKILL of the process group)
    csms, st = booted(make_csms, make_station, kit)
    assert set_profile(csms, 0, profile(1, "ChargingStationMaxProfile", [(0, 20)])) == "Accepted"
    assert set_profile(csms, 1, profile(2, "TxDefaultProfile", [(0, 12), (3600, 16)])) == "Accepted"
    os.killpg(st.proc.pid, signal.SIGKILL)
    st.proc.wait(10)
    st._reader.join(10)
    csms, st2 = booted(make_csms, make_station, kit, state_dir=st.state_dir, csms=csms)
    status, rep = get_profiles(csms, 1, {})
    assert sorted((e, i) for e, i, _ in rep) == [(0, 1), (1, 2)]
    r = ok(csms, "GetCompositeSchedule", {"evseId": 1, "duration": 60, "chargingRateUnit": "A"})
    assert r["schedule"]["chargingSchedulePeriod"][0]["limit"] == 12.0
    # and the limit is applied after the restart
    s = st2.mark()
    st2.send({"cmd": "plug", "evse": 1, "connector": 1})
    st2.send({"cmd": "tag", "id": "SMART-1", "evse": 1})
    st2.wait_event("pilot", lambda e: near(e["duty"], duty(12)), since=s)


def test_tx_default_profile_during_a_transaction_and_cleared(make_csms, make_station, kit):
    # TC_K_28_CS (K01.FR.32): a TxDefaultProfile set during a transaction applies to it at once;
    # TC_K_09_CS (K10.FR.07): clearing it during the transaction lifts the limit again.
    csms, st = booted(make_csms, make_station, kit)
    start_session(st, csms)
    st.wait_event("pilot", lambda e: near(e["duty"], duty(32)) and e["contactor"])
    s = st.mark()
    m = csms.mark()
    assert set_profile(csms, 1, profile(5, "TxDefaultProfile", [(0, 13)])) == "Accepted"
    st.wait_event("pilot", lambda e: near(e["duty"], duty(13)) and e["contactor"], since=s, timeout=3)
    assert ok(csms, "ClearChargingProfile", {"chargingProfileId": 5})["status"] == "Accepted"
    st.wait_event("pilot", lambda e: near(e["duty"], duty(32)) and e["contactor"], since=s, timeout=3)
    ev = csms.wait_for(lambda: rate_events(csms, m) if len(rate_events(csms, m)) >= 2 else None, 5, "2 changes")
    assert [offered(x)["Current.Offered"] for x in ev[:2]] == [13.0, 32.0]
    # LimitChangeSignificance (10 %): 32 -> 30 A is below it: applied, not reported
    m = csms.mark()
    assert set_profile(csms, 1, profile(6, "TxDefaultProfile", [(0, 30)])) == "Accepted"
    st.wait_event("pilot", lambda e: near(e["duty"], duty(30)), since=s, timeout=3)
    time.sleep(1.2)
    assert rate_events(csms, m) == []
