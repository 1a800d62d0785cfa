# Issue 4, transactions end to end: the real station process (tools/station, MicroPython unix port)
# against the CSMS on the `ocpp` package. The simulated hardware is driven through the launcher's stdin
# (plug/unplug/ev/load/tag); what the station sends is checked frame by frame (every frame is also
# schema-checked by the `make_csms` teardown). Test case ids are Part 6 (TC_x_nn_CS).
#
# Default device model (core/devicemodel/standard.py): TxStartPoint PowerPathClosed, TxStopPoint
# EVConnected,Authorized, TxUpdatedMeasurands Energy.Active.Import.Register,Power.Active.Import,
# TxStarted/TxEndedMeasurands Energy.Active.Import.Register, StopTxOnEVSideDisconnect true.
import asyncio
import datetime
import threading
import time

import pytest

CALL, CALLRESULT, CALLERROR = 2, 3, 4
TAG = {"idToken": "AABBCCDD", "type": "ISO14443"}
ENERGY, POWER = "Energy.Active.Import.Register", "Power.Active.Import"
CURRENT, OFFERED, VOLTAGE = "Current.Import", "Current.Offered", "Voltage"
UNITS = {ENERGY: "Wh", POWER: "W", CURRENT: "A", OFFERED: "A", VOLTAGE: "V"}  # Part 2 appendix 2 units
NO_CLOCK = ("AlignedDataCtrlr", "Interval", 0)  # no clock-aligned values interfering with exact sequences


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def duty_for(amps):
    """IEC 61851-1 Table A.8: the PWM duty (per cent) that offers `amps` (6..80 A)."""
    return round(amps / 0.6 if amps <= 51 else amps / 2.5 + 64, 1)


def boot(make_csms, make_station, kit, settings=(), evses=None, **csms_kw):
    csms = make_csms(heartbeat_interval=600, **csms_kw)
    extra = {"evses": evses} if evses is not None else {}
    cfg = kit.station_config(csms.url, device_model=[kit.dm(*s) for s in settings], **extra)
    st = make_station(cfg)
    kit.wait_booted(csms, st)
    st.wait_event("connected", timeout=5)
    return csms, st


def ok(csms, action, payload, timeout=5):
    reply = csms.call(action, payload, timeout=timeout)
    assert reply.kind == CALLRESULT, "%s answered with %r" % (action, reply)
    return reply.payload


def tx_frames(csms, since=0, tid=None):
    """TransactionEvent CALLs the station sent (of transaction `tid`)."""
    return [f for f in csms.calls("TransactionEvent", since=since)
            if tid is None or f.payload["transactionInfo"]["transactionId"] == tid]


def wait_tx(csms, pred, since=0, timeout=8, what="a TransactionEvent"):
    def find():
        for f in tx_frames(csms, since):
            if pred(f.payload):
                return f
        return None
    return csms.wait_for(find, timeout, what)


def is_ended(p):
    return p["eventType"] == "Ended"


def acked_all(csms, frames, timeout=5):
    csms.wait_for(lambda: all(csms.answer_to(f) for f in frames), timeout, "CSMS answers to %d frames" % len(frames))
    assert all(csms.answer_to(f).kind == CALLRESULT for f in frames)


def state(p):
    return p["transactionInfo"].get("chargingState")


def no_tx_event(csms, since, wait=0.8):
    time.sleep(wait)
    got = tx_frames(csms, since)
    assert got == [], "no TransactionEvent expected here, got %r" % got


def send(st, cmd, **kw):
    d = {"cmd": cmd}
    d.update(kw)
    st.send(d)


def first_copies(csms, frames):
    """`frames` without retransmissions. A copy of a seqNo already seen is allowed only where the previous
    transmission's answer may never have reached the station: it went unanswered (or CALLERROR), or its
    connection was torn down (TCP abort) right after the answer. The copy must be identical."""
    conns = dict((c.index, c) for c in csms.connections)
    prev = {}
    out = []
    for f in frames:
        k = f.payload["seqNo"]
        if k not in prev:
            prev[k] = f
            out.append(f)
            continue
        g = prev[k]
        prev[k] = f
        assert f.payload == g.payload, "seqNo %s sent twice with different content:\n%r\n%r" % (k, g.payload, f.payload)
        answer = csms.answer_to(g)
        closed = conns[g.conn].t_close
        lost = answer is None or answer.kind != CALLRESULT or (
            f.conn != g.conn and closed is not None and closed - answer.t < 0.5)
        assert lost, "seqNo %s sent again although its CALLRESULT was delivered: %r / %r" % (k, g, f)
    return out


def check_sequence(frames):
    """One transaction's events as the CSMS got them: seqNo 0..n in arrival order, each once, Started
    first and only first, Ended (if any) last, timestamps in seqNo order (Part 6 general tool rules)."""
    seqs = [f.payload["seqNo"] for f in frames]
    assert seqs == list(range(len(frames))), "seqNo in arrival order: %s" % seqs
    types = [f.payload["eventType"] for f in frames]
    assert types[0] == "Started" and "Started" not in types[1:], types
    if "Ended" in types:
        assert types.index("Ended") == len(types) - 1, types
    times = [parse_time(f.payload["timestamp"]) for f in frames]
    assert times == sorted(times), "timestamps out of seqNo order: %s" % [f.payload["timestamp"] for f in frames]


def sampled(mv, measurand):
    return [s for s in mv["sampledValue"] if s.get("measurand", ENERGY) == measurand]


def check_meter_value(mv, context, measurands, phases=3):
    """One MeterValueType: every sampledValue in `context`, exactly one element per measurand and phase,
    units per the Part 2 appendix (Wh is the schema default, so unitOfMeasure may be left out)."""
    parse_time(mv["timestamp"])
    svs = mv["sampledValue"]
    assert svs and all(s.get("context", "Sample.Periodic") == context for s in svs), (context, svs)
    got = set(s.get("measurand", ENERGY) for s in svs)
    assert got == set(measurands), "measurands %s, configured %s" % (sorted(got), sorted(measurands))
    for s in svs:
        m = s.get("measurand", ENERGY)
        unit = (s.get("unitOfMeasure") or {}).get("unit", "Wh")
        assert unit == UNITS[m], s
        assert s.get("location", "Outlet") == "Outlet", s
        assert isinstance(s["value"], (int, float)) and s["value"] >= 0, s
    for m in (CURRENT, VOLTAGE):
        if m in measurands:
            want = ["L1", "L2", "L3"][:phases] if m == CURRENT else ["L1-N", "L2-N", "L3-N"][:phases]
            assert [s.get("phase") for s in sampled(mv, m)] == want, sampled(mv, m)
    for m in (ENERGY, POWER, OFFERED):
        if m in measurands:
            assert len(sampled(mv, m)) == 1 and "phase" not in sampled(mv, m)[0], sampled(mv, m)


def energy_of(mv):
    return sampled(mv, ENERGY)[0]["value"]


def pilots(st, evse, since=0):
    return [(e["duty"], e["contactor"]) for e in st.named("pilot", since) if e["evse"] == evse]


def tx_status(csms, tid=None):
    return ok(csms, "GetTransactionStatus", {} if tid is None else {"transactionId": tid})


def settled_status(csms, tid=None, timeout=2):
    """GetTransactionStatus once the station has processed the answers already on the wire (an answer
    and our request can cross: the station may handle the request before it pops the acknowledged entry)."""
    deadline = time.monotonic() + timeout
    while True:
        r = tx_status(csms, tid)
        if not r["messagesInQueue"] or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def default_answer(payload):
    return {"idTokenInfo": {"status": "Accepted"}} if "idToken" in payload else {}


class Hold:
    """CSMS responder for TransactionEvent that keeps the first request unanswered until release():
    the station's queue then provably still holds it (GetTransactionStatus messagesInQueue)."""

    def __init__(self, csms):
        self.csms = csms
        self.gate = threading.Event()
        self.held = []
        csms.responders["TransactionEvent"] = self

    def __call__(self, payload, session):
        self.held.append(payload)

        async def later():
            while not self.gate.is_set():
                await asyncio.sleep(0.02)
            return default_answer(payload)
        return later()

    def release(self):
        self.csms.responders.pop("TransactionEvent", None)
        self.gate.set()


def go_offline(csms, st):
    # Let the station read every answer first: a TCP abort makes the peer's kernel drop unread data.
    settled_status(csms, timeout=5)
    mark = st.mark()
    csms.refuse(None)
    csms.drop("tcp")
    st.wait_event("disconnected", since=mark, timeout=5)


def wait_reported(st, pred, since=0, timeout=8, what="transaction"):
    return st.wait_event("transaction", pred, timeout=timeout, since=since)


# ---------------------------------------------------------------------------------------------
# A local session with the default start/stop points
# ---------------------------------------------------------------------------------------------

def test_local_session_default_points(make_csms, make_station, kit):
    # TC_E_01_CS (PowerPathClosed), TC_E_03_CS, TC_E_17_CS (EV side disconnect, StopTxOnEVSideDisconnect
    # true), TC_J_07/09/10_CS, TC_E_28/30/32/34_CS
    csms, st = boot(make_csms, make_station, kit, settings=[
        ("SampledDataCtrlr", "TxUpdatedInterval", 1), ("SampledDataCtrlr", "TxEndedInterval", 1), NO_CLOCK])
    # The test relies on the factory defaults of the start/stop points.
    assert kit.get_variable(csms, "TxCtrlr", "TxStartPoint")["attributeValue"] == "PowerPathClosed"
    assert kit.get_variable(csms, "TxCtrlr", "TxStopPoint")["attributeValue"] == "EVConnected,Authorized"

    # TC_E_34_CS: nothing queued, ongoingIndicator omitted without transactionId; TC_E_28_CS: unknown id.
    assert settled_status(csms) == {"messagesInQueue": False}
    assert tx_status(csms, "no-such-transaction-42") == {"ongoingIndicator": False, "messagesInQueue": False}

    mark, ev0 = csms.mark(), st.mark()
    send(st, "plug", evse=1, connector=1)
    sn = csms.wait_for(lambda: [f for f in csms.calls("StatusNotification", since=mark)
                                if (f.payload["evseId"], f.payload["connectorId"]) == (1, 1)], 5, "StatusNotification")
    assert sn[-1].payload["connectorStatus"] == "Occupied"
    send(st, "load", evse=1, watts=7400)  # what the EV will draw once allowed
    no_tx_event(csms, mark, 0.5)  # PowerPathClosed: a cable alone starts nothing (E01.FR.05)

    send(st, "tag", id=TAG["idToken"])
    auth = csms.wait_call("Authorize", since=mark)
    assert auth.payload["idToken"] == TAG  # TC_E_03_CS / C01
    st.wait_event("pilot", lambda e: e["evse"] == 1, since=ev0)
    # Authorized, EV in state B: PWM offers the EVSE's 32 A (duty per IEC 61851-1), contactor still open.
    assert pilots(st, 1, ev0) == [(duty_for(32), False)], pilots(st, 1, ev0)
    no_tx_event(csms, mark, 0.5)  # power path still open

    send(st, "ev", evse=1, state="C")
    started = wait_tx(csms, lambda p: p["eventType"] == "Started", mark, what="Started")
    p = started.payload
    tid = p["transactionInfo"]["transactionId"]
    assert p["seqNo"] == 0 and p["triggerReason"] in ("ChargingStateChanged", "CablePluggedIn"), p  # TC_E_01 / EVConnectedPreSession
    assert state(p) == "Charging", p  # the EV draws at once
    assert p.get("idToken") == TAG, p  # first event after authorization carries the idToken
    assert p.get("evse") == {"id": 1, "connectorId": 1}, p  # first event after connecting: evse + connectorId
    assert not p.get("offline", False)
    assert len(p["meterValue"]) == 1
    check_meter_value(p["meterValue"][0], "Transaction.Begin", [ENERGY])  # TC_J_07_CS
    e_start = energy_of(p["meterValue"][0])
    assert pilots(st, 1, ev0) == [(duty_for(32), False), (duty_for(32), True)]  # contactor closed for charging

    # TC_E_30_CS: ongoing; nothing queued once an answer came (retry past an Updated in flight).
    assert settled_status(csms, tid) == {"ongoingIndicator": True, "messagesInQueue": False}

    # TC_J_09_CS: MeterValuePeriodic every TxUpdatedInterval (1 s) with TxUpdatedMeasurands.
    periodic = lambda: [f for f in tx_frames(csms, mark, tid) if f.payload["triggerReason"] == "MeterValuePeriodic"]
    csms.wait_for(lambda: len(periodic()) >= 3, 6, "three MeterValuePeriodic Updated")
    upd = periodic()[:3]
    for f in upd:
        assert f.payload["eventType"] == "Updated"
        assert state(f.payload) in (None, "Charging"), f.payload
        assert len(f.payload["meterValue"]) == 1
        check_meter_value(f.payload["meterValue"][0], "Sample.Periodic", [ENERGY, POWER])
        assert sampled(f.payload["meterValue"][0], POWER)[0]["value"] == pytest.approx(7400, rel=0.01)
    stamps = [parse_time(f.payload["meterValue"][0]["timestamp"]) for f in upd]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert all(0.5 <= g <= 2.0 for g in gaps), "TxUpdatedInterval 1 s, sample gaps %s" % gaps
    energies = [e_start] + [energy_of(f.payload["meterValue"][0]) for f in upd]
    assert energies == sorted(energies) and energies[-1] > energies[1], energies
    # The register integrates 7400 W: Wh per sample gap within 25 % of P x dt.
    for (t0, e0), (t1, e1) in zip(zip(stamps, energies[1:]), zip(stamps[1:], energies[2:])):
        assert (e1 - e0) == pytest.approx(7400 * (t1 - t0) / 3600, rel=0.25, abs=0.3), (e0, e1, t1 - t0)

    # EnergyTransferSuspended: the EV stops drawing (state B), the contactor opens, the offer stays.
    sus = csms.mark()
    send(st, "ev", evse=1, state="B")
    f = wait_tx(csms, lambda p: p["triggerReason"] == "ChargingStateChanged", sus, what="SuspendedEV")
    assert f.payload["eventType"] == "Updated" and state(f.payload) == "SuspendedEV", f.payload
    assert pilots(st, 1, ev0)[-1] == (duty_for(32), False)
    csms.wait_for(lambda: [f for f in periodic() if f.index > sus], 4, "a periodic sample while suspended")
    time.sleep(1.1)

    # TC_E_17_CS / Reusable State EVDisconnected: Ended, EVCommunicationLost, Idle, EVDisconnected.
    ev_unplug = st.mark()
    send(st, "unplug", evse=1, connector=1)
    end = wait_tx(csms, is_ended, mark, what="Ended").payload
    assert end["triggerReason"] == "EVCommunicationLost", end
    assert state(end) == "Idle" and end["transactionInfo"].get("stoppedReason") == "EVDisconnected", end
    # TC_J_10_CS: TxEndedInterval samples (Sample.Periodic) and one Transaction.End.
    contexts = [mv["sampledValue"][0]["context"] for mv in end["meterValue"]]
    assert contexts.count("Transaction.End") == 1 and contexts[-1] == "Transaction.End", contexts
    assert contexts.count("Sample.Periodic") >= 3, contexts
    for mv in end["meterValue"]:
        check_meter_value(mv, mv["sampledValue"][0]["context"], [ENERGY])
    ended_stamps = [parse_time(mv["timestamp"]) for mv in end["meterValue"] if mv["sampledValue"][0]["context"] == "Sample.Periodic"]
    assert all(0.5 <= b - a <= 2.0 for a, b in zip(ended_stamps, ended_stamps[1:])), ended_stamps
    e_end = energy_of(end["meterValue"][-1])
    assert e_end >= energies[-1]
    st.wait_event("pilot", lambda e: e["evse"] == 1 and e["duty"] == 100.0, since=ev_unplug)
    assert pilots(st, 1, ev_unplug) == [(100.0, False)]  # no offer, no power without a session

    frames = tx_frames(csms, mark)
    assert all(f.payload["transactionInfo"]["transactionId"] == tid for f in frames)
    acked_all(csms, frames)
    check_sequence(frames)
    # chargingState as reported (meter-only Updates may leave an unchanged state out).
    changes = [state(f.payload) for f in frames if state(f.payload) is not None]
    assert [s for i, s in enumerate(changes) if i == 0 or s != changes[i - 1]] == ["Charging", "SuspendedEV", "Idle"], changes
    triggers = [f.payload["triggerReason"] for f in frames]
    assert set(triggers) == {"ChargingStateChanged", "MeterValuePeriodic", "EVCommunicationLost"}, triggers
    assert all(not f.payload.get("offline", False) for f in frames)

    # The launcher's `transaction` events mirror what was sent.
    reported = [e for e in st.named("transaction") if e["id"] == tid]
    assert [(e["seqNo"], e["type"], e["triggerReason"]) for e in reported] == \
           [(f.payload["seqNo"], f.payload["eventType"], f.payload["triggerReason"]) for f in frames]
    assert reported[-1]["stoppedReason"] == "EVDisconnected"
    assert reported[-1]["energyWh"] == pytest.approx(e_end - e_start, abs=0.2)

    csms.wait_for(lambda: kit.status_notifications(csms, since=frames[-1].index).get((1, 1)) == "Available", 5,
                  "connector 1/1 Available after the session")
    # TC_E_32_CS: ended, nothing queued; TC_E_34_CS.
    assert settled_status(csms, tid) == {"ongoingIndicator": False, "messagesInQueue": False}
    assert settled_status(csms) == {"messagesInQueue": False}


# ---------------------------------------------------------------------------------------------
# Other TxStartPoint / TxStopPoint combinations (E01 start options, E06 stop options)
# ---------------------------------------------------------------------------------------------

def test_ev_connected_start_and_stop_with_remote_stop(make_csms, make_station, kit):
    # TC_E_09_CS (start EVConnected), Reusable States Authorized and StopAuthorized (Main B: RemoteStop),
    # TC_E_14_CS (stop EVConnected, stoppedReason Remote after a RequestStopTransaction)
    csms, st = boot(make_csms, make_station, kit, settings=[
        ("TxCtrlr", "TxStartPoint", "EVConnected"), ("TxCtrlr", "TxStopPoint", "EVConnected"),
        ("SampledDataCtrlr", "TxUpdatedInterval", 0), NO_CLOCK])
    mark, ev0 = csms.mark(), st.mark()
    send(st, "load", evse=2, watts=7400)
    send(st, "plug", evse=2, connector=2)
    f = wait_tx(csms, lambda p: True, mark, what="Started on cable in")
    p = f.payload
    tid = p["transactionInfo"]["transactionId"]
    assert (p["eventType"], p["seqNo"], p["triggerReason"]) == ("Started", 0, "CablePluggedIn"), p
    assert state(p) == "EVConnected" and p["evse"] == {"id": 2, "connectorId": 2}, p
    assert "idToken" not in p  # nobody authorized yet
    check_meter_value(p["meterValue"][0], "Transaction.Begin", [ENERGY])  # TC_J_07_CS
    assert pilots(st, 2, ev0) == []  # not authorized: no PWM offer, contactor open

    # TC_E_30_CS with no periodic values: ongoing, nothing queued.
    acked_all(csms, [f])
    assert settled_status(csms, tid) == {"ongoingIndicator": True, "messagesInQueue": False}

    send(st, "tag", id=TAG["idToken"], evse=2)
    f = wait_tx(csms, lambda p: p["triggerReason"] == "Authorized", mark, what="Updated Authorized")
    assert f.payload["eventType"] == "Updated" and f.payload.get("idToken") == TAG, f.payload  # Reusable State Authorized
    send(st, "ev", evse=2, state="C")
    f = wait_tx(csms, lambda p: state(p) == "Charging", mark, what="Charging")
    assert f.payload["triggerReason"] == "ChargingStateChanged" and f.payload["eventType"] == "Updated", f.payload
    assert pilots(st, 2, ev0) == [(duty_for(32), False), (duty_for(32), True)]

    # RequestStopTransaction: TxStopPoint EVConnected keeps the transaction until the cable goes,
    # the energy stops now (StopAuthorized Main B: triggerReason RemoteStop).
    r = ok(csms, "RequestStopTransaction", {"transactionId": tid})
    assert r["status"] == "Accepted", r
    f = wait_tx(csms, lambda p: p["triggerReason"] == "RemoteStop", mark, what="RemoteStop")
    assert f.payload["eventType"] == "Updated" and state(f.payload) == "EVConnected", f.payload
    st.wait_event("pilot", lambda e: e["evse"] == 2 and not e["contactor"], since=ev0)
    assert pilots(st, 2, ev0)[-1] == (100.0, False)  # offer withdrawn, power path open
    no_tx_event(csms, f.index + 1, 0.6)

    send(st, "unplug", evse=2, connector=2)
    end = wait_tx(csms, is_ended, mark, what="Ended").payload
    # TC_E_14_CS: EVCommunicationLost, Idle, stoppedReason Remote (stopped by RequestStopTransaction).
    assert end["triggerReason"] == "EVCommunicationLost" and state(end) == "Idle", end
    assert end["transactionInfo"].get("stoppedReason") == "Remote", end
    frames = tx_frames(csms, mark)
    acked_all(csms, frames)
    check_sequence(frames)
    assert [f.payload["triggerReason"] for f in frames] == \
           ["CablePluggedIn", "Authorized", "ChargingStateChanged", "RemoteStop", "EVCommunicationLost"]
    assert settled_status(csms, tid) == {"ongoingIndicator": False, "messagesInQueue": False}


def test_authorized_start_and_stop_single_phase(make_csms, make_station, kit):
    # TC_E_10_CS (start Authorized, local), TC_J_08_CS, TC_E_15_CS (stop Authorized: StopAuthorized, Local),
    # metering of a 10 A single-phase EVSE whose EV would draw more (J02 measurands, units, phases).
    evses = [{"id": 1, "connectors": 1, "max_current": 10, "phases": 1}, {"id": 2, "connectors": 2}]
    every = ",".join([ENERGY, POWER, CURRENT, OFFERED, VOLTAGE])
    csms, st = boot(make_csms, make_station, kit, evses=evses, settings=[
        ("TxCtrlr", "TxStartPoint", "Authorized"), ("TxCtrlr", "TxStopPoint", "Authorized"),
        ("SampledDataCtrlr", "TxUpdatedInterval", 1), ("SampledDataCtrlr", "TxUpdatedMeasurands", every), NO_CLOCK])
    mark, ev0 = csms.mark(), st.mark()
    send(st, "tag", id=TAG["idToken"], evse=1)
    auth = csms.wait_call("Authorize", since=mark)
    assert auth.payload["idToken"] == TAG
    f = wait_tx(csms, lambda p: True, mark, what="Started on authorization")
    p = f.payload
    tid = p["transactionInfo"]["transactionId"]
    assert f.index > auth.index
    assert (p["eventType"], p["seqNo"], p["triggerReason"]) == ("Started", 0, "Authorized"), p  # TC_E_10_CS
    assert p.get("idToken") == TAG, p
    assert p.get("evse", {}).get("id") in (None, 1) and "connectorId" not in p.get("evse", {}), p  # no cable yet
    # TC_J_08_CS: Transaction.Begin values at the latest in the first event that carries an evse.
    first_evse = wait_tx(csms, lambda p: "evse" in p, mark, what="an event with evse").payload
    assert any(mv["sampledValue"][0]["context"] == "Transaction.Begin" for mv in first_evse.get("meterValue", [])), first_evse

    send(st, "plug", evse=1, connector=1)
    f = wait_tx(csms, lambda p: p["triggerReason"] == "CablePluggedIn", mark, what="CablePluggedIn")
    # General rule: the first event after connecting carries evse.id and evse.connectorId.
    assert f.payload["eventType"] == "Updated" and f.payload.get("evse") == {"id": 1, "connectorId": 1}, f.payload
    assert pilots(st, 1, ev0) == [(duty_for(10), False)]  # 10 A offered: 16.7 % duty

    send(st, "load", evse=1, watts=7400)
    send(st, "ev", evse=1, state="C")
    f = wait_tx(csms, lambda p: state(p) == "Charging", mark, what="Charging")
    assert f.payload["triggerReason"] == "ChargingStateChanged"
    f = wait_tx(csms, lambda p: p["triggerReason"] == "MeterValuePeriodic" and
                sampled(p["meterValue"][0], POWER)[0]["value"] > 0, mark, what="a periodic sample while charging")
    mv = f.payload["meterValue"][0]
    check_meter_value(mv, "Sample.Periodic", [ENERGY, POWER, CURRENT, OFFERED, VOLTAGE], phases=1)
    # The EVSE caps the EV at the offered 10 A on one 230 V phase.
    assert sampled(mv, POWER)[0]["value"] == pytest.approx(2300, rel=0.01), mv
    assert sampled(mv, CURRENT)[0]["value"] == pytest.approx(10, rel=0.01), mv
    assert sampled(mv, OFFERED)[0]["value"] == pytest.approx(10, rel=0.01), mv
    assert sampled(mv, VOLTAGE)[0]["value"] == pytest.approx(230, rel=0.01), mv

    # TC_E_15_CS: the same idToken again ends the transaction at once.
    send(st, "tag", id=TAG["idToken"], evse=1)
    end = wait_tx(csms, is_ended, mark, what="Ended").payload
    assert end["triggerReason"] == "StopAuthorized", end
    assert end["transactionInfo"].get("stoppedReason", "Local") == "Local", end
    assert end.get("idToken", TAG) == TAG, end
    st.wait_event("pilot", lambda e: e["evse"] == 1 and not e["contactor"], since=ev0)
    assert pilots(st, 1, ev0)[-1] == (100.0, False)
    send(st, "unplug", evse=1, connector=1)
    no_tx_event(csms, csms.mark(), 0.6)  # the transaction is over: the cable going out sends nothing
    frames = tx_frames(csms, mark)
    acked_all(csms, frames)
    check_sequence(frames)
    assert all(f.payload["transactionInfo"]["transactionId"] == tid for f in frames)


def test_energy_transfer_start_and_stop(make_csms, make_station, kit):
    # TC_E_02_CS (start EnergyTransfer), TC_E_22_CS (stop EnergyTransfer: the EV suspends, StoppedByEV)
    csms, st = boot(make_csms, make_station, kit, settings=[
        ("TxCtrlr", "TxStartPoint", "EnergyTransfer"), ("TxCtrlr", "TxStopPoint", "EnergyTransfer"),
        ("SampledDataCtrlr", "TxUpdatedInterval", 0), NO_CLOCK])
    mark, ev0 = csms.mark(), st.mark()
    send(st, "plug", evse=1, connector=1)
    send(st, "tag", id=TAG["idToken"])
    csms.wait_call("Authorize", since=mark)
    send(st, "ev", evse=1, state="C")
    st.wait_event("pilot", lambda e: e["evse"] == 1 and e["contactor"], since=ev0)
    no_tx_event(csms, mark, 0.6)  # power path closed, but the EV draws nothing yet

    send(st, "load", evse=1, watts=7400)
    f = wait_tx(csms, lambda p: True, mark, what="Started on energy transfer")
    p = f.payload
    assert (p["eventType"], p["seqNo"]) == ("Started", 0), p
    assert p["triggerReason"] in ("ChargingStateChanged", "Authorized"), p  # TC_E_02_CS
    assert p.get("idToken") == TAG and p.get("evse") == {"id": 1, "connectorId": 1}, p
    assert state(p) == "Charging", p
    tid = p["transactionInfo"]["transactionId"]

    time.sleep(1.0)
    send(st, "load", evse=1, watts=0)  # the EV suspends the energy transfer
    end = wait_tx(csms, lambda p: p["seqNo"] > 0, mark, what="the event after suspension").payload
    # TC_E_22_CS: ChargingStateChanged; Ended with StoppedByEV (chargingState EVConnected or SuspendedEV).
    assert end["triggerReason"] == "ChargingStateChanged", end
    assert end["eventType"] == "Ended", end
    assert end["transactionInfo"].get("stoppedReason") == "StoppedByEV", end
    assert state(end) in ("EVConnected", "SuspendedEV"), end
    assert energy_of(end["meterValue"][-1]) >= 7400 * 1.0 / 3600 * 0.7  # about a second of 7400 W
    frames = tx_frames(csms, mark, tid)
    acked_all(csms, frames)
    check_sequence(frames)
    assert len(frames) == 2


def test_ev_not_ready_after_authorization(make_csms, make_station, kit):
    # TC_E_38_CS: authorized first (TxStartPoint Authorized starts the transaction), then the EV is
    # connected but not ready: EVConnectedPreSession (CablePluggedIn, chargingState EVConnected /
    # SuspendedEVSE / Charging), then ChargingStateChanged with chargingState SuspendedEV.
    csms, st = boot(make_csms, make_station, kit, settings=[
        ("TxCtrlr", "TxStartPoint", "Authorized"), ("SampledDataCtrlr", "TxUpdatedInterval", 0), NO_CLOCK])
    mark = csms.mark()
    send(st, "tag", id=TAG["idToken"], evse=1)
    wait_tx(csms, lambda p: p["eventType"] == "Started", mark, what="Started")
    send(st, "plug", evse=1, connector=1)  # the simulated EV stays in state B: not ready to charge
    plugged = wait_tx(csms, lambda p: p["triggerReason"] == "CablePluggedIn", mark, what="CablePluggedIn").payload
    time.sleep(1.5)
    after = [f.payload for f in tx_frames(csms, mark)]
    assert state(plugged) in ("EVConnected", "SuspendedEVSE", "Charging"), \
        "TC_E_38_CS / EVConnectedPreSession step 3: CablePluggedIn carries chargingState %r; events: %r" % (state(plugged), after)
    assert [p for p in after if p["triggerReason"] == "ChargingStateChanged" and state(p) == "SuspendedEV"], \
        "TC_E_38_CS step 2: no ChargingStateChanged/SuspendedEV after connecting an EV that is not ready: %r" % after


# ---------------------------------------------------------------------------------------------
# Metering: clock-aligned values (J01)
# ---------------------------------------------------------------------------------------------

def test_clock_aligned_meter_values(make_csms, make_station, kit):
    # TC_J_01_CS (idle), TC_J_02_CS (transaction ongoing), TC_J_03_CS (AlignedDataCtrlr.TxEndedInterval)
    iv = 2
    csms, st = boot(make_csms, make_station, kit, settings=[
        ("AlignedDataCtrlr", "Interval", iv), ("AlignedDataCtrlr", "Measurands", "%s,%s" % (ENERGY, CURRENT)),
        ("AlignedDataCtrlr", "TxEndedInterval", iv), ("AlignedDataCtrlr", "TxEndedMeasurands", ENERGY),
        ("SampledDataCtrlr", "TxEndedMeasurands", ""), ("SampledDataCtrlr", "TxUpdatedInterval", 0)])
    mark = csms.mark()

    def mv_calls(evse, since):
        return [f for f in csms.calls("MeterValues", since=since) if f.payload["evseId"] == evse]

    csms.wait_for(lambda: len(mv_calls(1, mark)) >= 2 and len(mv_calls(2, mark)) >= 2, 3 * iv + 3,
                  "two clock-aligned MeterValues per EVSE")
    rounds = {}
    for f in csms.calls("MeterValues", since=mark):
        assert len(f.payload["meterValue"]) == 1
        mv = f.payload["meterValue"][0]
        check_meter_value(mv, "Sample.Clock", [ENERGY, CURRENT])  # TC_J_01_CS
        t = parse_time(mv["timestamp"])
        assert abs(t / iv - round(t / iv)) < 1e-3, "not aligned to %d s: %s" % (iv, mv["timestamp"])
        rounds.setdefault(mv["timestamp"], set()).add(f.payload["evseId"])
    stamps = sorted(rounds, key=parse_time)
    # Post scenario validation: one message per EVSE per interval, all with the same timestamp.
    assert all(rounds[s] == {1, 2} for s in stamps[:-1]), rounds
    assert all(parse_time(b) - parse_time(a) == pytest.approx(iv, abs=1e-3) for a, b in zip(stamps, stamps[1:])), stamps

    # A transaction on EVSE 1: its clock-aligned values go in TransactionEvent (MeterValueClock),
    # EVSE 2 (idle) keeps sending MeterValues.
    send(st, "plug", evse=1, connector=1)
    send(st, "load", evse=1, watts=7400)
    send(st, "tag", id=TAG["idToken"])
    send(st, "ev", evse=1, state="C")
    started = wait_tx(csms, lambda p: p["eventType"] == "Started", mark, what="Started")
    tid = started.payload["transactionInfo"]["transactionId"]
    clock = lambda: [f for f in tx_frames(csms, started.index, tid) if f.payload["triggerReason"] == "MeterValueClock"]
    csms.wait_for(lambda: len(clock()) >= 2, 3 * iv + 3, "two MeterValueClock TransactionEvents")
    cl = clock()[:2]
    for f in cl:
        assert f.payload["eventType"] == "Updated"
        check_meter_value(f.payload["meterValue"][0], "Sample.Clock", [ENERGY, CURRENT])  # TC_J_02_CS
    t0, t1 = [parse_time(f.payload["meterValue"][0]["timestamp"]) for f in cl]
    assert t1 - t0 == pytest.approx(iv, abs=1e-3) and abs(t0 / iv - round(t0 / iv)) < 1e-3, (t0, t1)
    assert energy_of(cl[1].payload["meterValue"][0]) > energy_of(cl[0].payload["meterValue"][0])
    cur = sampled(cl[1].payload["meterValue"][0], CURRENT)
    assert [s["value"] for s in cur] == pytest.approx([7400 / 690.0] * 3, rel=0.02), cur  # 7400 W on 3 x 230 V
    assert mv_calls(1, cl[1].index) == [] and [f for f in mv_calls(1, started.index)
                                               if parse_time(f.payload["meterValue"][0]["timestamp"]) > t0] == []
    assert mv_calls(2, started.index), "the idle EVSE 2 still reports MeterValues"

    send(st, "unplug", evse=1, connector=1)
    end = wait_tx(csms, is_ended, started.index, what="Ended").payload
    # TC_J_03_CS: the Ended event carries the AlignedDataCtrlr.TxEndedInterval samples, Sample.Clock,
    # and nothing from SampledDataCtrlr.TxEndedMeasurands (empty).
    mvs = end.get("meterValue", [])
    assert len(mvs) >= 2, end
    for mv in mvs:
        check_meter_value(mv, "Sample.Clock", [ENERGY])
    ts = [parse_time(mv["timestamp"]) for mv in mvs]
    assert all(b - a == pytest.approx(iv, abs=1e-3) for a, b in zip(ts, ts[1:])), [mv["timestamp"] for mv in mvs]
    frames = tx_frames(csms, mark, tid)
    acked_all(csms, frames)
    check_sequence(frames)


# ---------------------------------------------------------------------------------------------
# Offline: E04/E11/E12, GetTransactionStatus with messages queued (E14)
# ---------------------------------------------------------------------------------------------

def test_whole_session_offline_then_delivered(make_csms, make_station, kit):
    # TC_E_43_CS (E12: transaction during the offline period), TC_E_31_CS, TC_E_33_CS, TC_E_32_CS
    csms, st = boot(make_csms, make_station, kit, settings=[
        ("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true"),  # C15: the tag is unknown to the station
        ("SampledDataCtrlr", "TxUpdatedInterval", 1), NO_CLOCK])
    boots = len(csms.calls("BootNotification"))
    go_offline(csms, st)
    ev0, mark = st.mark(), csms.mark()

    send(st, "plug", evse=1, connector=1)
    send(st, "load", evse=1, watts=7400)
    send(st, "tag", id=TAG["idToken"])
    a = st.wait_event("authorize", since=ev0, timeout=10)
    assert a["status"] == "Accepted", a
    send(st, "ev", evse=1, state="C")
    started = wait_reported(st, lambda e: e["type"] == "Started", ev0)
    tid = started["id"]
    wait_reported(st, lambda e: e["id"] == tid and e["triggerReason"] == "MeterValuePeriodic" and e["seqNo"] >= 2, ev0)
    send(st, "unplug", evse=1, connector=1)
    wait_reported(st, lambda e: e["id"] == tid and e["type"] == "Ended", ev0)
    reported = [(e["seqNo"], e["type"]) for e in st.named("transaction", ev0) if e["id"] == tid]
    assert [s for s, _ in reported] == list(range(len(reported))), reported
    assert csms.mark() == mark  # nothing got through

    hold = Hold(csms)
    csms.accept_connections()
    first = csms.wait_call("TransactionEvent", since=mark, timeout=10)
    try:
        # TC_E_31_CS: ended but still queued; TC_E_33_CS: queued, no transactionId -> no ongoingIndicator.
        assert tx_status(csms, tid) == {"ongoingIndicator": False, "messagesInQueue": True}
        assert tx_status(csms) == {"messagesInQueue": True}
    finally:
        hold.release()
    assert first.payload["seqNo"] == 0 and first.payload["eventType"] == "Started"

    frames = csms.wait_for(lambda: (lambda fs: fs if fs and is_ended(fs[-1].payload) else None)(tx_frames(csms, mark, tid)),
                           10, "the queued events up to Ended")
    acked_all(csms, frames)
    frames = first_copies(csms, frames)
    check_sequence(frames)  # each seqNo once, in order
    assert [(f.payload["seqNo"], f.payload["eventType"]) for f in frames] == reported
    # TC_E_43_CS: every message offline true; Started and Ended among them.
    assert all(f.payload.get("offline") is True for f in frames), [f.payload for f in frames if not f.payload.get("offline")]
    assert frames[0].payload.get("idToken") == TAG and frames[0].payload.get("evse") == {"id": 1, "connectorId": 1}
    assert frames[-1].payload["transactionInfo"].get("stoppedReason") == "EVDisconnected"
    assert len(csms.calls("BootNotification")) == boots  # reconnecting is not rebooting
    time.sleep(0.5)
    assert len(tx_frames(csms, mark)) == len(frames)  # nothing sent twice (no connection loss after reconnect)
    assert settled_status(csms, tid) == {"ongoingIndicator": False, "messagesInQueue": False}  # TC_E_32_CS


def test_connection_loss_during_transaction(make_csms, make_station, kit):
    # TC_E_40_CS (E11), TC_E_29_CS, then TC_E_44_CS (E08: local stop and disconnect while offline)
    csms, st = boot(make_csms, make_station, kit, settings=[
        ("SampledDataCtrlr", "TxUpdatedInterval", 1), ("TxCtrlr", "TxStopPoint", "EVConnected"), NO_CLOCK])
    mark = csms.mark()
    send(st, "plug", evse=1, connector=1)
    send(st, "load", evse=1, watts=7400)
    send(st, "tag", id=TAG["idToken"])
    send(st, "ev", evse=1, state="C")
    started = wait_tx(csms, lambda p: p["eventType"] == "Started", mark, what="Started")
    tid = started.payload["transactionInfo"]["transactionId"]
    acked_all(csms, [started])
    assert not started.payload.get("offline", False)

    # Offline while charging: the periodic Updates queue up.
    ev0 = st.mark()
    go_offline(csms, st)
    off_mark = csms.mark()
    st.wait_event("transaction", lambda e: len([x for x in st.named("transaction", ev0) if x["id"] == tid]) >= 2,
                  timeout=6, since=ev0)
    queued = [e["seqNo"] for e in st.named("transaction", ev0) if e["id"] == tid]
    assert len(queued) >= 2, queued

    hold = Hold(csms)
    csms.accept_connections()
    first = csms.wait_call("TransactionEvent", since=off_mark, timeout=10)
    try:
        assert tx_status(csms, tid) == {"ongoingIndicator": True, "messagesInQueue": True}  # TC_E_29_CS
    finally:
        hold.release()
    csms.wait_for(lambda: {f.payload["seqNo"] for f in tx_frames(csms, off_mark, tid)} >= set(queued), 10,
                  "the queued Updates")
    back = [f for f in tx_frames(csms, off_mark, tid) if f.payload["seqNo"] in queued]
    # TC_E_40_CS: all queued messages Updated, with meter values, offline true.
    for f in back:
        p = f.payload
        assert p["eventType"] == "Updated" and p.get("meterValue") and p.get("offline") is True, p

    # TC_E_44_CS: offline again; the driver stops with the same idToken and unplugs.
    ev1 = st.mark()
    go_offline(csms, st)
    off2 = csms.mark()
    send(st, "tag", id=TAG["idToken"])
    wait_reported(st, lambda e: e["id"] == tid and e["triggerReason"] == "StopAuthorized", ev1)
    send(st, "unplug", evse=1, connector=1)
    wait_reported(st, lambda e: e["id"] == tid and e["type"] == "Ended", ev1)
    later = [e["seqNo"] for e in st.named("transaction", ev1) if e["id"] == tid]
    csms.accept_connections()
    frames = csms.wait_for(lambda: (lambda fs: fs if fs and is_ended(fs[-1].payload) else None)(tx_frames(csms, mark, tid)),
                           10, "the events up to Ended")
    acked_all(csms, frames)
    frames = first_copies(csms, frames)
    check_sequence(frames)  # one seqNo sequence across both offline periods, each message once
    after = [f.payload for f in frames if f.index >= off2]  # mark(): the index of the next frame
    assert [p["seqNo"] for p in after] == later
    assert all(p.get("offline") is True for p in after), after
    stop = [p for p in after if p["triggerReason"] == "StopAuthorized"][0]
    assert stop.get("idToken", TAG) == TAG and state(stop) == "EVConnected", stop
    end = after[-1]
    assert end["eventType"] == "Ended" and end["triggerReason"] == "EVCommunicationLost", end
    assert state(end) == "Idle" and end["transactionInfo"].get("stoppedReason") in ("Local", "EVDisconnected", None), end
    time.sleep(0.5)
    assert len(first_copies(csms, tx_frames(csms, mark, tid))) == len(frames)  # nothing more came
    assert settled_status(csms, tid) == {"ongoingIndicator": False, "messagesInQueue": False}


# ---------------------------------------------------------------------------------------------
# E13: retries when the CSMS answers a TransactionEvent with a CALLERROR
# ---------------------------------------------------------------------------------------------

def test_retry_transaction_event_after_callerror(make_csms, make_station, kit):
    # TC_E_51_CS (success before MessageAttempts is reached), TC_E_50_CS (MessageAttempts reached:
    # the message is given up, E13.FR.03), interval x preceding transmissions (E13.FR.02).
    from ocpp.exceptions import InternalError
    attempts, interval = 3, 1
    csms, st = boot(make_csms, make_station, kit, settings=[
        ("OCPPCommCtrlr", "MessageAttempts", attempts, "TransactionEvent"),
        ("OCPPCommCtrlr", "MessageAttemptInterval", interval, "TransactionEvent"),
        ("SampledDataCtrlr", "TxUpdatedInterval", 0), NO_CLOCK])
    mark = csms.mark()
    send(st, "plug", evse=1, connector=1)
    send(st, "load", evse=1, watts=7400)
    send(st, "tag", id=TAG["idToken"])
    send(st, "ev", evse=1, state="C")
    started = wait_tx(csms, lambda p: p["eventType"] == "Started", mark, what="Started")
    tid = started.payload["transactionInfo"]["transactionId"]
    acked_all(csms, [started])
    tries = {}

    def flaky(payload, session):
        k = payload["seqNo"]
        tries[k] = tries.get(k, 0) + 1
        if (k == 1 and tries[k] == 1) or k == 2:  # seqNo 1 fails once, seqNo 2 always
            raise InternalError(description="test CSMS refuses this one")
        return default_answer(payload)
    csms.responders["TransactionEvent"] = flaky

    send(st, "ev", evse=1, state="B")  # seqNo 1: SuspendedEV
    csms.wait_for(lambda: len([f for f in tx_frames(csms, mark, tid) if f.payload["seqNo"] == 1]) >= 2, 3 * interval + 3,
                  "seqNo 1 sent a second time")
    send(st, "ev", evse=1, state="C")  # seqNo 2: Charging, refused every time
    csms.wait_for(lambda: len([f for f in tx_frames(csms, mark, tid) if f.payload["seqNo"] == 2]) >= attempts,
                  (1 + 2) * interval + 4, "seqNo 2 sent MessageAttempts times")
    send(st, "unplug", evse=1, connector=1)  # seqNo 3: Ended, queued behind seqNo 2
    wait_tx(csms, is_ended, mark, timeout=(attempts + 1) * interval + 4, what="Ended after seqNo 2 was given up")
    time.sleep(attempts * interval + 0.5)  # the next retry of seqNo 2 would have come by now
    csms.responders.pop("TransactionEvent", None)

    frames = tx_frames(csms, mark, tid)
    by_seq = {}
    for f in frames:
        by_seq.setdefault(f.payload["seqNo"], []).append(f)
    assert sorted(by_seq) == [0, 1, 2, 3], sorted(by_seq)
    assert [len(by_seq[k]) for k in (0, 1, 2, 3)] == [1, 2, attempts, 1], [(k, len(v)) for k, v in sorted(by_seq.items())]
    for k in (1, 2):
        copies = by_seq[k]
        assert all(c.payload == copies[0].payload for c in copies)  # the same message again, same seqNo
        gaps = [b.t - a.t for a, b in zip(copies, copies[1:])]
        want = [interval * (i + 1) for i in range(len(gaps))]  # interval x transmissions so far
        assert all(w - 0.15 <= g <= w + 0.9 for g, w in zip(gaps, want)), "seqNo %d retry gaps %s, expected %s" % (k, gaps, want)
    assert [csms.answer_to(c).kind for c in by_seq[1]] == [CALLERROR, CALLRESULT]
    assert all(csms.answer_to(c).kind == CALLERROR for c in by_seq[2])
    assert by_seq[3][0].index > by_seq[2][-1].index  # in order: Ended only after seqNo 2 was given up
    assert state(by_seq[1][0].payload) == "SuspendedEV" and state(by_seq[2][0].payload) == "Charging"
    assert settled_status(csms, tid) == {"ongoingIndicator": False, "messagesInQueue": False}


# ---------------------------------------------------------------------------------------------
# Deauthorization: EVConnectionTimeOut, StopTxOnInvalidId
# ---------------------------------------------------------------------------------------------

def test_ev_connection_timeout(make_csms, make_station, kit):
    # TC_E_39_CS: authorized (TxStartPoint Authorized starts the transaction) but no cable within
    # EVConnectionTimeOut: Ended, EVConnectTimeout, stoppedReason Timeout; a cable later charges nothing.
    timeout = 2
    csms, st = boot(make_csms, make_station, kit, settings=[
        ("TxCtrlr", "TxStartPoint", "Authorized"), ("TxCtrlr", "EVConnectionTimeOut", timeout),
        ("SampledDataCtrlr", "TxUpdatedInterval", 0), NO_CLOCK])
    mark, ev0 = csms.mark(), st.mark()
    send(st, "tag", id=TAG["idToken"], evse=1)
    started = wait_tx(csms, lambda p: p["eventType"] == "Started", mark, what="Started")
    tid = started.payload["transactionInfo"]["transactionId"]
    end = wait_tx(csms, is_ended, mark, timeout=timeout + 4, what="Ended after EVConnectionTimeOut")
    waited = parse_time(end.payload["timestamp"]) - parse_time(started.payload["timestamp"])
    assert timeout - 0.1 <= waited <= timeout + 1.6, "ended %.2fs after the authorization, EVConnectionTimeOut %ds" % (waited, timeout)
    p = end.payload
    assert p["triggerReason"] == "EVConnectTimeout" and p["transactionInfo"].get("stoppedReason") == "Timeout", p
    assert p["transactionInfo"]["transactionId"] == tid and p["seqNo"] == 1
    # The EV comes late: no new session, no charging (step 3 note).
    late = csms.mark()
    send(st, "plug", evse=1, connector=1)
    send(st, "load", evse=1, watts=7400)
    send(st, "ev", evse=1, state="C")
    time.sleep(1.2)
    assert not [f for f in tx_frames(csms, late) if state(f.payload) == "Charging"], tx_frames(csms, late)
    assert not [e for e in st.named("pilot", ev0) if e["contactor"]], st.named("pilot", ev0)
    check_sequence(tx_frames(csms, mark, tid))


def test_deauthorized_by_invalid_id_token(make_csms, make_station, kit):
    # TC_E_16_CS: a transaction started offline (OfflineTxForUnknownIdEnabled); on reconnect the CSMS
    # answers the event carrying the idToken with Invalid; StopTxOnInvalidId true (default) ends it:
    # Ended, Deauthorized, stoppedReason DeAuthorized, and the power path opens.
    csms, st = boot(make_csms, make_station, kit, settings=[
        ("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true"), ("SampledDataCtrlr", "TxUpdatedInterval", 0), NO_CLOCK])
    go_offline(csms, st)
    ev0, mark = st.mark(), csms.mark()
    send(st, "plug", evse=1, connector=1)
    send(st, "load", evse=1, watts=7400)
    send(st, "tag", id=TAG["idToken"])
    send(st, "ev", evse=1, state="C")
    wait_reported(st, lambda e: e["type"] == "Started", ev0)
    st.wait_event("pilot", lambda e: e["evse"] == 1 and e["contactor"], since=ev0)
    csms.responders["TransactionEvent"] = lambda p, s: (
        {"idTokenInfo": {"status": "Invalid"}} if "idToken" in p else {})
    csms.accept_connections()
    first = wait_tx(csms, lambda p: p["eventType"] == "Started", mark, timeout=10, what="the queued Started")
    assert first.payload.get("offline") is True and first.payload.get("idToken") == TAG, first.payload  # step 1
    end = wait_tx(csms, is_ended, mark, what="Ended after Invalid").payload
    assert end["triggerReason"] == "Deauthorized", end  # step 3
    assert end["transactionInfo"].get("stoppedReason") == "DeAuthorized", end
    st.wait_event("pilot", lambda e: e["evse"] == 1 and not e["contactor"], since=ev0)
    frames = tx_frames(csms, mark)
    acked_all(csms, frames)
    check_sequence(frames)
    csms.responders.pop("TransactionEvent", None)
