# Issue 8, interoperability: a CSMS that answers with the loose date-time forms real backends send
# (tools/csms LOOSE_FORMS: no offset with microseconds, lower-case t/z, a space for T, nine fraction
# digits). The station must register, keep its clock, run a whole session and a reset against it, log a
# warning for each loose form, and still send only strict RFC 3339 UTC itself (the CSMS harness checks
# every date-time the station sends against ...T...Z). Decisions per form: firmware/flexcharge/core/timefmt.py.
import datetime
import time

CALLRESULT = 3
OFFER = 53.3  # % duty offering the EVSE's 32 A


def _utc(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def test_boot_session_and_reset_against_a_loose_csms(make_csms, make_station, kit):
    csms = make_csms(time_style="loose", heartbeat_interval=1)
    table = {"LOOSE-1": "Accepted"}
    # The answers carry loose date-times too: cacheExpiryDateTime without an offset.
    expiry = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")
    csms.responders["Authorize"] = lambda p, s: {"idTokenInfo": {
        "status": table.get(p["idToken"]["idToken"], "Unknown"), "cacheExpiryDateTime": expiry}}
    cfg = kit.station_config(csms.url, device_model=[
        kit.dm("AlignedDataCtrlr", "Interval", 0), kit.dm("SampledDataCtrlr", "TxUpdatedInterval", 0)])
    st = make_station(cfg)
    kit.wait_booted(csms, st)
    # B01: registered on the first try although currentTime was "2026-...T10:00:00.123456" (no offset).
    assert csms.times_sent[0][-1].isdigit() and "Z" not in csms.times_sent[0]
    assert len(csms.calls("BootNotification")) == 1, "the loose currentTime must not be refused"

    # Heartbeats every second walk through every loose form; none is refused, the station goes on.
    csms.wait_for(lambda: len(csms.calls("Heartbeat")) >= 5, 12, "five Heartbeats")
    assert len(set(csms.times_sent)) >= 5

    # A session: the station's own timestamps are strict UTC and match the CSMS clock (no offset = UTC).
    m, s = csms.mark(), st.mark()
    st.send({"cmd": "plug", "evse": 1, "connector": 1})
    st.send({"cmd": "tag", "id": "LOOSE-1", "evse": 1})
    assert st.wait_event("authorize", lambda e: e.get("id") == "LOOSE-1", since=s)["status"] == "Accepted"
    st.wait_event("pilot", lambda e: e["evse"] == 1 and e["duty"] == OFFER, since=s)
    st.send({"cmd": "ev", "evse": 1, "state": "C"})
    started = csms.wait_for(lambda: [f for f in csms.calls("TransactionEvent", since=m)
                                     if f.payload["eventType"] == "Started"], 10, "Started")[0]
    ts = started.payload["timestamp"]
    assert ts.endswith("Z") and "T" in ts, ts
    assert abs(_utc(ts) - time.time()) < 5, "station clock off: %s" % ts
    st.send({"cmd": "ev", "evse": 1, "state": "B"})
    st.send({"cmd": "unplug", "evse": 1, "connector": 1})
    csms.wait_for(lambda: [f for f in csms.calls("TransactionEvent", since=m) if f.payload["eventType"] == "Ended"],
                  10, "Ended")

    # ReserveNow with an expiryDateTime in the space form is taken (H01), not a CALLERROR.
    exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
    r = csms.call("ReserveNow", {"id": 7, "expiryDateTime": exp, "idToken": {"idToken": "LOOSE-1", "type": "ISO14443"},
                                 "evseId": 2})
    assert r.kind == CALLRESULT and r.payload["status"] == "Accepted", r

    # Reset: the reboot registers again against the same loose CSMS.
    m = csms.mark()
    r = csms.call("Reset", {"type": "Immediate"})
    assert r.kind == CALLRESULT and r.payload["status"] == "Accepted"
    boot2 = csms.wait_call("BootNotification", since=m, timeout=20)
    kit.wait_booted(csms, st, since=boot2.index)
    assert csms.boot_status[kit.IDENTITY] == "Accepted"

    # Each loose form was logged as a warning, not refused.
    err = st.stderr_text(200000)
    assert "read as UTC" in err and "space instead of 'T'" in err, err[-3000:]
    assert "FormatViolation" not in err and "PropertyConstraintViolation" not in err


def test_hostile_current_time_is_ignored_not_fatal(make_csms, make_station, kit):
    # Issue 8 "hostile answers": currentTime 0001-01-01 (valid form, absurd value), 2024-02-30 (not a
    # date), a number (wrong type). Each is handled per message and logged; the station keeps a sane
    # clock, keeps beating, and no traceback appears.
    csms = make_csms(heartbeat_interval=1)
    answers = ["0001-01-01T00:00:00Z", "2024-02-30T00:00:00Z", 1700000000, "2199-01-01T00:00:00Z"]

    def heartbeat(p, s):
        return {"currentTime": answers.pop(0) if answers else datetime.datetime.now(
            datetime.timezone.utc).isoformat().replace("+00:00", "Z")}
    csms.responders["Heartbeat"] = heartbeat
    cfg = kit.station_config(csms.url)
    st = make_station(cfg)
    kit.wait_booted(csms, st)
    csms.wait_for(lambda: len(csms.calls("Heartbeat")) >= 6, 15, "six Heartbeats")
    assert st.alive()
    # The clock did not jump to year 1 or 2199: a fresh StatusNotification carries today's time.
    m = csms.mark()
    st.send({"cmd": "plug", "evse": 2, "connector": 1})
    sn = csms.wait_call("StatusNotification", since=m)
    assert abs(_utc(sn.payload["timestamp"]) - time.time()) < 5, sn.payload
    err = st.stderr_text(200000)
    assert "Traceback" not in err, err[-3000:]
    assert "outside 2020..2099" in err  # 0001-01-01 and 2199 logged and ignored
    assert "HeartbeatResponse rejected" in err  # 2024-02-30 and the number: a response we cannot read
    # The CSMS harness recorded its own two schema-invalid answers; they were the point of this test.
    deliberate = [e for e in csms.own_errors if "invalid HeartbeatResponse" in e]
    assert len(deliberate) >= 1, csms.own_errors  # the number (its regex lets 2024-02-30 through)
    csms.own_errors[:] = [e for e in csms.own_errors if e not in deliberate]
