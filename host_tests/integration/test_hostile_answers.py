# Issue 8, robustness: "hostile answers to our own CALLs". Answers such as currentTime 0001-01-01, a
# number, 2024-02-30, or a CALLERROR to a triggered MeterValues used to leave tracebacks in the sending
# task. Each is now handled per message and logged in one line (core/station.py adopt_time and _guard).
import datetime
import time

from ocpp.exceptions import InternalError

CALLRESULT = 3


def _utc(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


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


def test_callerror_to_a_triggered_meter_values_is_logged_not_a_traceback(make_csms, make_station, kit):
    csms = make_csms(heartbeat_interval=600)

    def refuse(p, s):
        raise InternalError(description="backend busy")
    csms.responders["MeterValues"] = refuse
    st = make_station(kit.station_config(csms.url))
    kit.wait_booted(csms, st)
    for _ in range(3):
        m = csms.mark()
        r = csms.call("TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 1}})
        assert r.kind == CALLRESULT and r.payload["status"] == "Accepted", r
        mv = csms.wait_call("MeterValues", since=m)
        answer = csms.wait_for(lambda: csms.answer_to(mv), 5, "the CALLERROR")
        assert answer.kind == 4 and answer.error_code == "InternalError"
    time.sleep(0.5)
    r = csms.call("GetVariables", kit.GET_HEARTBEAT_INTERVAL)  # and the station carries on
    assert r.kind == CALLRESULT
    err = st.stderr_text(200000)
    assert "Traceback" not in err, err[-3000:]
    assert err.count("background CALL failed") == 3, err[-3000:]
