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
