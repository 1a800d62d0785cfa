# Issue 4, power loss during a session: the station process (launcher and firmware) is killed with
# SIGKILL at chosen and at random points of a session and started again on the same state directory.
# Across the CSMS's whole record no TransactionEvent may be lost or duplicated per (transactionId,
# seqNo), seqNo stays contiguous, and a transaction cut by the power loss is ended, never dropped.
#
# What the firmware documents (core/blocks/e_transactions/transactions.py): OCPP 2.0.1 cannot resume a
# transaction after a reboot (resumption is 2.1 E17), so at boot a transaction found running is ended
# with the next seqNo, triggerReason AbnormalCondition and stoppedReason PowerLoss (reset cause power;
# ReasonEnumType PowerLoss: "complete loss of power"). Queued events are delivered in order (E04, E11).
#
# A resent copy of an event is not a duplicate when the first copy's answer can never have been read:
# it went unanswered, or the station died (or the link was aborted) right after the CSMS answered.
import datetime
import os
import random
import signal
import time

from csms import NO_REPLY

CALL, CALLRESULT, CALLERROR = 2, 3, 4
TAG = {"idToken": "AABBCCDD", "type": "ISO14443"}
ENERGY = "Energy.Active.Import.Register"
SETTINGS = [("SampledDataCtrlr", "TxUpdatedInterval", 1), ("AlignedDataCtrlr", "Interval", 0)]
ANSWER_LOST = 0.5  # s: an answer this close before the connection died may never have been read


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def send(st, cmd, **kw):
    d = {"cmd": cmd}
    d.update(kw)
    st.send(d)


def power_cut(st):
    """SIGKILL the launcher's process group; its firmware child (own group, PR_SET_PDEATHSIG) dies with
    it. Returns once the firmware is gone: its stdout (inherited from the launcher) reached EOF."""
    os.killpg(st.proc.pid, signal.SIGKILL)
    st.proc.wait(10)
    st._reader.join(10)
    assert not st._reader.is_alive(), "the firmware process outlived its launcher"
    return time.monotonic()


class Rig:
    """One CSMS, one state directory, a station process restarted on it after every power cut."""

    def __init__(self, make_csms, make_station, kit, settings=SETTINGS):
        self.kit = kit
        self.make_station = make_station
        self.csms = make_csms(heartbeat_interval=600)
        self.cfg = kit.station_config(self.csms.url, device_model=[kit.dm(*s) for s in settings])
        self.stations = []
        self.cuts = []
        self.start()

    @property
    def st(self):
        return self.stations[-1]

    def start(self, wait=True):
        mark = self.csms.mark()
        state_dir = self.stations[0].state_dir if self.stations else None
        self.stations.append(self.make_station(self.cfg, state_dir=state_dir))
        if wait:
            self.booted(mark)
        return mark

    def booted(self, mark, timeout=15):
        boot, _ = self.kit.wait_booted(self.csms, self.st, timeout=timeout, since=mark)
        return boot

    def cut_and_restart(self, wait=True):
        self.cuts.append(power_cut(self.st))
        return self.start(wait)

    def reported(self):
        """Every `transaction` event any station process reported on stdout (persisted before reported)."""
        return [e for s in self.stations for e in s.named("transaction")]


def tx_frames(csms, since=0):
    return csms.calls("TransactionEvent", since=since)


def tid_of(f):
    return f.payload["transactionInfo"]["transactionId"]


def answers(csms):
    return dict(((f.conn, f.msg_id), f) for f in list(csms.frames) if f.src == "csms" and f.kind in (CALLRESULT, CALLERROR))


def record(csms):
    """{transactionId: [TransactionEvent frames in arrival order]} over the CSMS's whole record."""
    out = {}
    for f in tx_frames(csms):
        out.setdefault(tid_of(f), []).append(f)
    return out


def delivered(csms, frames, ans):
    """The first copy of every seqNo (asserting every further copy is a legitimate resend: identical, and
    the previous copy's answer may never have been read) and the seqNos that got a CALLRESULT."""
    conns = dict((c.index, c) for c in csms.connections)
    first, prev = {}, {}
    acked = set()
    for f in frames:
        k = f.payload["seqNo"]
        if k in first:
            g = prev[k]
            assert f.payload == g.payload, "(%s, %s) sent twice with different content:\n%r\n%r" % (
                tid_of(f), k, g.payload, f.payload)
            ga = ans.get((g.conn, g.msg_id))
            closed = conns[g.conn].t_close
            lost = ga is None or ga.kind != CALLRESULT or (closed is not None and closed - ga.t < ANSWER_LOST)
            assert lost, "(%s, %s) delivered again although the station had its CALLRESULT %.2fs before the link went: %r / %r" % (
                tid_of(f), k, (closed or 0) - ga.t, g, f)
        else:
            first[k] = f
        prev[k] = f
        a = ans.get((f.conn, f.msg_id))
        if a is not None and a.kind == CALLRESULT:
            acked.add(k)
    return [first[k] for k in sorted(first)], acked


def check_transaction(csms, tid, frames, ans):
    """seqNo 0..n contiguous, first arrivals in seqNo order, Started first, exactly one Ended and last,
    every seqNo acknowledged. Returns the Ended payload."""
    firsts, acked = delivered(csms, frames, ans)
    seqs = [f.payload["seqNo"] for f in firsts]
    assert seqs == list(range(len(seqs))), "%s: seqNo %s not contiguous from 0" % (tid, seqs)
    arrival = sorted(firsts, key=lambda f: f.index)
    assert [f.payload["seqNo"] for f in arrival] == seqs, "%s: first arrivals out of seqNo order" % tid
    assert acked == set(seqs), "%s: seqNo %s never acknowledged" % (tid, sorted(set(seqs) - acked))
    types = [f.payload["eventType"] for f in firsts]
    assert types[0] == "Started" and "Started" not in types[1:], (tid, types)
    assert types.count("Ended") == 1 and types[-1] == "Ended", "%s: event types %s" % (tid, types)
    stamps = [f.payload["timestamp"] for f in firsts]
    assert [parse(s) for s in stamps] == sorted(parse(s) for s in stamps), (tid, stamps)
    return firsts[-1].payload


def energy_readings(csms, frames):
    """(seqNo, timestamp, Wh) of every Energy.Active.Import.Register value of one transaction."""
    firsts, _ = delivered(csms, frames, answers(csms))
    readings = [(f.payload["seqNo"], mv["timestamp"], sv["value"]) for f in firsts for mv in f.payload.get("meterValue", [])
                for sv in mv["sampledValue"] if sv.get("measurand", ENERGY) == ENERGY]
    readings.sort(key=lambda r: (r[0], parse(r[1])))
    return readings


def parse(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def check_power_loss_end(end):
    assert end["triggerReason"] == "AbnormalCondition", end
    assert end["transactionInfo"].get("stoppedReason") == "PowerLoss", end


def wait_drained(rig, timeout=15):
    """Every event any station process reported is acknowledged, and the station's queue is empty."""
    csms = rig.csms

    def done():
        ans = answers(csms)
        got = set((tid_of(f), f.payload["seqNo"]) for f in tx_frames(csms)
                  if getattr(ans.get((f.conn, f.msg_id)), "kind", None) == CALLRESULT)
        want = set((e["id"], e["seqNo"]) for e in rig.reported())
        return want <= got
    csms.wait_for(done, timeout, "every reported TransactionEvent acknowledged")
    deadline = time.monotonic() + timeout
    while True:
        r = csms.call("GetTransactionStatus", {}, timeout=5)
        assert r.kind == CALLRESULT, r
        if not r.payload["messagesInQueue"]:
            return
        assert time.monotonic() < deadline, "queue never drained"
        time.sleep(0.1)


def start_session(st, evse=1):
    send(st, "plug", evse=evse, connector=1)
    send(st, "load", evse=evse, watts=7400)
    send(st, "tag", id=TAG["idToken"])
    send(st, "ev", evse=evse, state="C")


# ---------------------------------------------------------------------------------------------
# Chosen points
# ---------------------------------------------------------------------------------------------

def test_power_loss_before_started_acknowledged(make_csms, make_station, kit):
    rig = Rig(make_csms, make_station, kit)
    csms = rig.csms
    csms.responders["TransactionEvent"] = lambda payload, session: NO_REPLY  # the answer never comes
    mark = csms.mark()
    start_session(rig.st)
    started = csms.wait_call("TransactionEvent", since=mark, timeout=8)
    assert started.payload["eventType"] == "Started"
    tid = tid_of(started)
    rig.st.wait_event("pilot", lambda e: e["contactor"], timeout=5)
    del csms.responders["TransactionEvent"]

    ev_mark = len(rig.stations)
    boot_mark = rig.cut_and_restart()
    boot = csms.calls("BootNotification", since=boot_mark)[0]
    assert boot.payload["reason"] == "PowerUp", boot.payload  # B01: power came back

    end = csms.wait_for(lambda: [f for f in tx_frames(csms, boot_mark) if tid_of(f) == tid and f.payload["eventType"] == "Ended"],
                        10, "the interrupted transaction's Ended")[0]
    frames = record(csms)[tid]
    p = check_transaction(csms, tid, frames, answers(csms))
    check_power_loss_end(p)
    # The unanswered Started is sent again, unchanged, before the Ended (E04: in order after reconnect).
    again = [f for f in frames if f.index > boot_mark]
    assert [f.payload["seqNo"] for f in again] == [0, 1], [f.payload for f in again]
    assert again[0].payload == started.payload
    assert end.payload["seqNo"] == 1 and end.payload["transactionInfo"]["transactionId"] == tid
    # The EV is still plugged in: no charging without a new authorization (contactor stays open).
    time.sleep(1.5)
    assert [f for f in tx_frames(csms, boot_mark) if tid_of(f) != tid] == []
    assert not [e for s in rig.stations[ev_mark:] for e in s.named("pilot") if e["contactor"]]
    assert kit.status_notifications(csms, since=boot_mark).get((1, 1)) == "Occupied"  # cable still in
    wait_drained(rig)


def test_power_loss_with_offline_queue(make_csms, make_station, kit):
    # E04/E11 across a power cut: Updates queued while the CSMS refuses, then the power goes.
    rig = Rig(make_csms, make_station, kit)
    csms, st = rig.csms, rig.st
    mark = csms.mark()
    start_session(st)
    started = csms.wait_call("TransactionEvent", since=mark, timeout=8)
    tid = tid_of(started)
    csms.wait_for(lambda: csms.answer_to(started), 5, "the answer to Started")
    time.sleep(0.3)  # the station reads the answer before the link goes (an abort drops unread data)
    ev = st.mark()
    csms.refuse(None)
    csms.drop("tcp")
    st.wait_event("disconnected", since=ev, timeout=5)
    st.wait_event("transaction", lambda e: len([x for x in st.named("transaction", ev) if x["id"] == tid]) >= 2,
                  timeout=6, since=ev)
    queued = [e["seqNo"] for e in st.named("transaction", ev) if e["id"] == tid]
    off_mark = csms.mark()

    rig.cut_and_restart(wait=False)
    time.sleep(1.5)  # the new firmware boots offline and ends the transaction there
    assert csms.calls(since=off_mark) == []
    csms.accept_connections()
    rig.booted(off_mark)
    wait_drained(rig)

    frames = record(csms)[tid]
    end = check_transaction(csms, tid, frames, answers(csms))
    check_power_loss_end(end)
    firsts, _ = delivered(csms, frames, answers(csms))
    # Started, the Updates queued offline (and any the cut firmware queued after we looked), the Ended.
    assert [f.payload["seqNo"] for f in firsts][:len(queued) + 1] == [0] + queued, [f.payload for f in firsts]
    # Generated while the station had no link (before the cut, and at boot before connecting): offline.
    for f in firsts[1:]:
        assert f.payload.get("offline") is True, f.payload
    assert all(f.payload["eventType"] == "Updated" and f.payload.get("meterValue") for f in firsts[1:-1])


def test_power_loss_right_after_unplug(make_csms, make_station, kit):
    # The session ends (EVDisconnected) and the power goes before the CSMS has answered the Ended.
    rig = Rig(make_csms, make_station, kit)
    csms, st = rig.csms, rig.st
    mark = csms.mark()
    start_session(st)
    started = csms.wait_call("TransactionEvent", since=mark, timeout=8)
    tid = tid_of(started)
    time.sleep(1.2)
    csms.responders["TransactionEvent"] = lambda p, s: NO_REPLY if p["eventType"] == "Ended" else (
        {"idTokenInfo": {"status": "Accepted"}} if "idToken" in p else {})
    send(st, "unplug", evse=1, connector=1)
    ended = csms.wait_for(lambda: [f for f in tx_frames(csms, mark) if f.payload["eventType"] == "Ended"], 8, "Ended")[0]
    del csms.responders["TransactionEvent"]
    boot_mark = rig.cut_and_restart()
    wait_drained(rig)

    frames = record(csms)[tid]
    end = check_transaction(csms, tid, frames, answers(csms))
    assert end == ended.payload  # the same Ended, resent once: not a second, PowerLoss one
    assert end["triggerReason"] == "EVCommunicationLost" and end["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    assert [f.payload["eventType"] for f in frames if f.index > boot_mark] == ["Ended"]
    time.sleep(1.0)
    assert [f for f in tx_frames(csms, boot_mark) if tid_of(f) != tid] == []  # no new transaction (cable out)


def test_energy_register_survives_power_loss(make_csms, make_station, kit):
    # The Ended of a transaction cut by a power loss reports the register as it stood at the cut: never
    # less than a value already reported for the same transaction (J02 Transaction.End; the CSMS bills
    # Transaction.End minus Transaction.Begin). A meter keeps its register without power
    # (boards/unix/board.py SimMeter says so too).
    rig = Rig(make_csms, make_station, kit)
    csms, st = rig.csms, rig.st
    mark = csms.mark()
    start_session(st)
    started = csms.wait_call("TransactionEvent", since=mark, timeout=8)
    tid = tid_of(started)
    periodic = lambda: [f for f in tx_frames(csms, mark) if f.payload["triggerReason"] == "MeterValuePeriodic"]
    csms.wait_for(lambda: len(periodic()) >= 2 and csms.answer_to(periodic()[1]), 6, "two periodic samples")
    last = periodic()[1].payload["meterValue"][0]
    reported = [sv["value"] for sv in last["sampledValue"] if sv.get("measurand", ENERGY) == ENERGY][0]
    assert reported > 2.0, last  # about two seconds of 7400 W
    time.sleep(0.3)
    rig.cut_and_restart()
    wait_drained(rig)
    frames = record(csms)[tid]
    end = check_transaction(csms, tid, frames, answers(csms))
    check_power_loss_end(end)
    readings = energy_readings(csms, frames)
    final = [r for r in readings if r[0] == end["seqNo"]]
    assert final and final[-1][2] >= reported, \
        "energy register after the power cut %s Wh < %s Wh already reported for the transaction: %s" % (
            final[-1][2] if final else None, reported, readings)
    assert [r[2] for r in readings] == sorted(r[2] for r in readings), readings


# ---------------------------------------------------------------------------------------------
# Random points
# ---------------------------------------------------------------------------------------------

SCRIPT = (  # (seconds from the start of the session, command): plug, authorize, charge, suspend, unplug
    (0.0, {"cmd": "unplug", "evse": 1, "connector": 1}),
    (0.05, {"cmd": "plug", "evse": 1, "connector": 1}),
    (0.1, {"cmd": "load", "evse": 1, "watts": 7400}),
    (0.15, {"cmd": "tag", "id": TAG["idToken"]}),
    (0.5, {"cmd": "ev", "evse": 1, "state": "C"}),
    (1.9, {"cmd": "ev", "evse": 1, "state": "B"}),
    (2.3, {"cmd": "unplug", "evse": 1, "connector": 1}),
)


def test_power_loss_at_random_points(make_csms, make_station, kit):
    rng = random.Random(4242)  # seeded: the same kill points every run
    # Half anywhere in the session, half within a few ms after a command (a CALL then is in flight).
    delays = [rng.uniform(0.05, 2.8) if i % 2 else rng.choice(SCRIPT[3:])[0] + rng.uniform(0.0, 0.06) for i in range(8)]
    rig = Rig(make_csms, make_station, kit)
    csms = rig.csms
    interrupted = []  # tids reported Started, not Ended, by a process cut before the cable went out
    for delay in delays:
        st = rig.st
        ev = st.mark()
        t0 = time.monotonic()
        sent = []
        for at, cmd in SCRIPT:
            if at > delay:
                break
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            st.send(cmd)
            sent.append(cmd)
        time.sleep(max(0.0, t0 + delay - time.monotonic()))
        rig.cut_and_restart()
        seen = st.named("transaction", ev)
        if sent[-1] is not SCRIPT[-1][1]:
            # (After the final unplug the Ended may be persisted by the cut process yet reported by none.)
            interrupted += [e["id"] for e in seen if e["type"] == "Started"
                            and not [x for x in seen if x["id"] == e["id"] and x["type"] == "Ended"]]
    send(rig.st, "unplug", evse=1, connector=1)
    wait_drained(rig, timeout=20)
    time.sleep(0.5)

    ans = answers(csms)
    rec = record(csms)
    assert rec, "no transaction at all: the kill points never reached a session"
    reported = set((e["id"], e["seqNo"]) for e in rig.reported())
    firsts = set()
    power_loss = set()
    for tid, frames in rec.items():
        end = check_transaction(csms, tid, frames, ans)
        firsts |= set((tid, f.payload["seqNo"]) for f in frames)
        if end["transactionInfo"].get("stoppedReason") == "PowerLoss":
            check_power_loss_end(end)
            power_loss.add(tid)
        else:
            assert end["triggerReason"] == "EVCommunicationLost", end
            assert end["transactionInfo"].get("stoppedReason") == "EVDisconnected", end
    assert reported <= firsts, "reported by the station but never delivered: %s" % sorted(reported - firsts)
    assert set(interrupted) <= power_loss, "cut while running but not ended with PowerLoss: %s" % sorted(set(interrupted) - power_loss)
    # Every transaction ended; nothing runs and nothing is queued now.
    r = csms.call("GetTransactionStatus", {"transactionId": sorted(rec)[0]}, timeout=5)
    assert r.payload == {"ongoingIndicator": False, "messagesInQueue": False}, r.payload
    assert len(rig.cuts) == len(delays)
