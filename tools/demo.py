#!/usr/bin/env python3
"""`make run`: one complete charging session, end to end, narrated.

Starts the dev CSMS (in this process) and the simulated station (tools/station on the MicroPython unix
port) with a temporary config and state directory, then drives the simulated hardware through the
launcher's stdin and follows the station's stdout events and every OCPP frame:

  boot -> BootNotification Accepted -> StatusNotification for every connector
  cable plugged in (EV state B) -> connector Occupied
  tag presented -> Authorize Accepted -> control pilot offers 32 A (PWM 53.3 %)
  EV switches to state C -> contactor closed -> TransactionEvent Started
  charging: TransactionEvent Updated (MeterValuePeriodic) every TxUpdatedInterval, energy rising
  smart charging: the CSMS sends a TxProfile (10 A for a while, then 32 A): the pilot PWM follows, the EV
  draws what it is offered, TransactionEvent Updated (ChargingRateChanged) each time
  EV back to state B -> contactor open -> SuspendedEV; cable unplugged -> TransactionEvent Ended
  graceful shutdown, then a summary: energy, duration, frames exchanged by type, and a plot of the
  session (tools/plot_session: power drawn, limit offered, energy, transaction events) written to a PNG
  whose path is printed.

Exits 0 when every step happened and every frame the station sent was valid (OCA JSON schemas,
OCPP-J framing); otherwise non-zero with the step that failed, the station's stderr tail and the
last frames.

    .venv/bin/python tools/demo.py [--station PATH] [--samples N] [--keep] [--verbose]
                                   [--tag-status STATUS]   (e.g. Invalid: shows the failure path)
"""
import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
import time

TOOLS = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(TOOLS)
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

from csms import CALL, CALLERROR, CALLRESULT, Csms, StationProcess  # noqa: E402
from csms import smart  # noqa: E402

IDENTITY = "FC-DEMO-1"
HEARTBEAT = 5          # s: HeartbeatInterval, also what the dev CSMS hands out in BootNotificationResponse
TX_UPDATED = 2         # s: SampledDataCtrlr.TxUpdatedInterval
SAMPLES = 4            # periodic meter values to wait for while charging
EVSES = [{"id": 1, "connectors": 1, "max_current": 32, "phases": 3, "voltage": 230},
         {"id": 2, "connectors": 2, "max_current": 16, "phases": 1, "voltage": 230}]
CONNECTORS = [(1, 1), (2, 1), (2, 2)]
EVSE, CONNECTOR = 1, 1
TAG = {"idToken": "04A2B3C4D5E6F7", "type": "ISO14443"}  # a 7-byte MIFARE UID
EV_WATTS = 11000       # what the simulated EV's on-board charger draws (3 x 15.9 A at 230 V)
LOW_AMPS = 10          # smart charging step: the CSMS's TxProfile limit (3 x 10 A x 230 V = 6900 W) ...
LOW_S = 8              # ... for this long, then back to the EVSE's 32 A
ENERGY = "Energy.Active.Import.Register"
AUTH_STATUSES = ("Accepted", "Blocked", "ConcurrentTx", "Expired", "Invalid", "NoCredit", "NotAllowedTypeEVSE",
                 "NotAtThisLocation", "NotAtThisTime", "Unknown")


def dm(component, variable, value, instance=None):
    var = {"name": variable}
    if instance is not None:
        var["instance"] = instance
    return {"component": {"name": component}, "variable": var, "attributeValue": str(value)}


DEVICE_MODEL = [
    dm("OCPPCommCtrlr", "RetryBackOffWaitMinimum", 1),
    dm("OCPPCommCtrlr", "RetryBackOffRandomRange", 0),
    dm("OCPPCommCtrlr", "HeartbeatInterval", HEARTBEAT),
    # The factory defaults, spelled out: the transaction starts when the contactor closes and ends
    # when the cable goes or the authorization ends.
    dm("TxCtrlr", "TxStartPoint", "PowerPathClosed"),
    dm("TxCtrlr", "TxStopPoint", "EVConnected,Authorized"),
    dm("SampledDataCtrlr", "TxUpdatedInterval", TX_UPDATED),
    dm("SampledDataCtrlr", "TxUpdatedMeasurands",
       "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Current.Offered"),
    # No clock-aligned values (default every 900 s): a run crossing a quarter hour would send an extra
    # MeterValueClock event and the demo's frame counts would differ from run to run.
    dm("AlignedDataCtrlr", "Interval", 0),
]


class DemoFailed(Exception):
    pass


def expected_duty(amps):
    """IEC 61851-1 Table A.8 (independent of the firmware's own arithmetic)."""
    return amps / 0.6 if amps <= 51 else amps / 2.5 + 64


def parse_ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def _json(obj):
    return json.dumps(obj, separators=(", ", ": "))


def _show(path):
    rel = os.path.relpath(path, REPO)
    return path if rel.startswith("..") else rel


def sampled(payload, measurand=None, context=None):
    """[(measurand, phase, value, unit, context)] of every sampledValue in a TransactionEvent."""
    out = []
    for mv in payload.get("meterValue") or ():
        for sv in mv.get("sampledValue") or ():
            m = sv.get("measurand", ENERGY)
            c = sv.get("context", "Sample.Periodic")
            if (measurand is None or m == measurand) and (context is None or c == context):
                unit = (sv.get("unitOfMeasure") or {}).get("unit", "Wh")
                out.append((m, sv.get("phase"), sv.get("value"), unit, c))
    return out


def energy_of(payload, context):
    vals = sampled(payload, ENERGY, context)
    return vals[-1][2] if vals else None


def describe_meter(payload):
    """'9.2 Wh, 11000 W, 3 x 15.94 A (offered 32 A)' from the sampled values of one event."""
    parts = []
    currents = []
    for m, phase, value, unit, _ in sampled(payload):
        if m == "Current.Import":
            currents.append(value)
        elif m == "Current.Offered":
            parts.append("offered %g A" % value)
        elif m == ENERGY:
            parts.insert(0, "%.1f Wh" % value)
        else:
            parts.insert(1 if parts else 0, "%g %s" % (value, unit))
    if currents:
        same = all(c == currents[0] for c in currents)
        text = ("%d x %g A" % (len(currents), currents[0])) if same else "/".join("%g" % c for c in currents) + " A"
        parts.insert(min(2, len(parts)), text)
    return ", ".join(parts)


class Story:
    """Narrates, in time order and from one thread, what the CSMS saw on the wire and what the
    station reported on stdout. A station CALL is told together with the CSMS's answer."""

    HOLD = 0.15  # s: items younger than this wait, so the two sources interleave in time order

    def __init__(self, verbose):
        self.t0 = time.monotonic()
        self.verbose = verbose
        self.csms = None
        self.station = None
        self.fi = 0
        self.ei = 0
        self.calls = {}  # (conn, messageId) -> CALL frame not yet told
        self.last_beat = None

    def say(self, text, t=None):
        sys.stdout.write("[%5.2fs] %s\n" % ((t if t is not None else time.monotonic()) - self.t0, text))
        sys.stdout.flush()

    def pump(self, flush=False):
        cut = time.monotonic() - (0 if flush else self.HOLD)
        items = []
        if self.csms is not None:
            frames = self.csms.frames
            while self.fi < len(frames) and frames[self.fi].t <= cut:
                items.append((frames[self.fi].t, 0, frames[self.fi]))
                self.fi += 1
        if self.station is not None:
            events = self.station.events
            while self.ei < len(events) and events[self.ei]["_t"] <= cut:
                items.append((events[self.ei]["_t"], 1, events[self.ei]))
                self.ei += 1
        items.sort(key=lambda x: (x[0], x[1]))
        for t, src, obj in items:
            if src == 0:
                self._frame(obj)
            else:
                self._event(obj)

    def finish(self):
        self.pump(True)
        for f in sorted(self.calls.values(), key=lambda f: f.index):
            self.say("ocpp   %s (never answered)" % self._call_text(f, None), f.t)
        self.calls.clear()

    # -- frames --

    def _frame(self, f):
        if self.verbose:
            self.say("  wire %s" % f.summary(200), f.t)
        for p in f.problems or ():
            self.say("!!! SCHEMA/FRAMING VIOLATION in frame #%d: %s" % (f.index, p), f.t)
        if f.kind == CALL and isinstance(f.msg_id, str):
            self.calls[(f.conn, f.msg_id)] = f
        elif f.kind in (CALLRESULT, CALLERROR):
            req = self.calls.pop((f.conn, f.msg_id), None)
            if req is not None:
                self.say("ocpp   %s" % self._call_text(req, f), f.t)

    def _call_text(self, req, ans):
        p = req.payload if isinstance(req.payload, dict) else {}
        r = ans.payload if ans is not None and ans.kind == CALLRESULT and isinstance(ans.payload, dict) else {}
        way = "" if req.src == "station" else "(CSMS -> station) "
        if ans is None:
            reply = "?"
        elif ans.kind == CALLERROR:
            reply = "CALLERROR %s %r" % (ans.error_code, ans.error_description)
        else:
            reply = None
        a = req.action
        if a == "BootNotification":
            cs = p.get("chargingStation", {})
            text = "BootNotification (reason %s, %s %s fw %s)" % (
                p.get("reason"), cs.get("vendorName"), cs.get("model"), cs.get("firmwareVersion"))
            reply = reply or "%s, heartbeat every %s s" % (r.get("status"), r.get("interval"))
        elif a == "StatusNotification":
            text = "StatusNotification EVSE %s connector %s: %s" % (
                p.get("evseId"), p.get("connectorId"), p.get("connectorStatus"))
            reply = reply or "ok"
        elif a == "Heartbeat":
            gap = "" if self.last_beat is None else " (%.1f s after the last)" % (req.t - self.last_beat)
            self.last_beat = req.t
            text = "Heartbeat%s" % gap
            reply = reply or "currentTime %s" % r.get("currentTime")
        elif a == "Authorize":
            tok = p.get("idToken", {})
            text = "Authorize idToken %s (%s)" % (tok.get("idToken"), tok.get("type"))
            reply = reply or (r.get("idTokenInfo") or {}).get("status")
        elif a == "TransactionEvent":
            text = self._tx_text(p)
            info = r.get("idTokenInfo")
            reply = reply or ("idTokenInfo %s" % info.get("status") if info else "ok")
        elif a == "NotifyEvent":
            seen = []
            for d in p.get("eventData") or ():
                comp = d.get("component", {})
                ev = comp.get("evse") or {}
                where = comp.get("name", "?")
                if ev:
                    where += " %s" % ev.get("id") + ("/%s" % ev["connectorId"] if "connectorId" in ev else "")
                seen.append("%s %s=%s" % (where, d.get("variable", {}).get("name"), d.get("actualValue")))
            text = "NotifyEvent (monitors): %s" % "; ".join(seen)
            reply = reply or "ok"
        else:
            text = "%s %s" % (a, _json(p)[:120])
            reply = reply or _json(r)[:80]
        return "%s%s  =>  %s" % (way, text, reply)

    def _tx_text(self, p):
        info = p.get("transactionInfo", {})
        etype = p.get("eventType")
        bits = ["TransactionEvent %s seqNo %s trigger %s" % (etype, p.get("seqNo"), p.get("triggerReason"))]
        if "chargingState" in info:
            bits.append("chargingState %s" % info["chargingState"])
        if etype == "Ended":
            bits.append("stoppedReason %s" % info.get("stoppedReason", "(none)"))
        if "idToken" in p:
            bits.append("idToken %s" % p["idToken"].get("idToken"))
        if "evse" in p:
            bits.append("EVSE %s/%s" % (p["evse"].get("id"), p["evse"].get("connectorId")))
        if etype == "Started":
            bits.append("transactionId %s" % info.get("transactionId"))
        meter = describe_meter(p)
        if meter:
            ctx = sorted(set(s[4] for s in sampled(p)))
            bits.append("meter [%s] %s" % ("/".join(ctx), meter))
        if p.get("offline"):
            bits.append("OFFLINE")
        return ", ".join(bits)

    # -- station stdout events --

    def _event(self, e):
        kind = e.get("event")
        t = e["_t"]
        if self.verbose:
            self.say("  event %s" % _json({k: v for k, v in e.items() if k != "_t"}), t)
        if kind == "boot":
            self.say("stdout firmware booted: boot #%s, reason %s, fw %s, heap %s B" % (
                e.get("count"), e.get("reason"), e.get("firmware"), e.get("heap")), t)
        elif kind == "connected":
            self.say("stdout connected to %s (subprotocol %s)" % (e.get("url"), e.get("subprotocol")), t)
        elif kind == "disconnected":
            self.say("stdout disconnected from the CSMS", t)
        elif kind == "pilot":
            duty = e.get("duty")
            if duty == 100:
                cp = "steady +12 V (no PWM: nothing offered)"
            elif duty == 0:
                cp = "-12 V (state F: not available)"
            else:
                cp = "PWM %.1f %% (offers %.1f A)" % (duty, duty * 0.6 if duty <= 85 else (duty - 64) * 2.5)
            self.say("stdout pilot EVSE %s: %s, contactor %s" % (
                e.get("evse"), cp, "CLOSED" if e.get("contactor") else "open"), t)
        elif kind == "transaction" and e.get("type") == "Ended":
            self.say("stdout transaction %s ended on EVSE %s: energyWh %s, duration %s s, stoppedReason %s" % (
                e.get("id"), e.get("evse"), e.get("energyWh"), e.get("duration"), e.get("stoppedReason")), t)
        elif kind == "authorize" and e.get("status") != "Accepted":
            self.say("stdout tag %s not authorized: %s" % (e.get("id"), e.get("status")), t)
        elif kind == "error":
            self.say("!!! station error event: %s" % _json({k: v for k, v in e.items() if k not in ("_t", "event")}), t)


class Demo:
    def __init__(self, args, story, workdir):
        self.args = args
        self.story = story
        self.workdir = workdir
        self.csms = None
        self.station = None

    # -- waiting, with the story told meanwhile --

    def wait(self, what, predicate, timeout):
        deadline = time.monotonic() + timeout
        while True:
            self.story.pump()
            self.check_health()
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                self.story.finish()
                raise DemoFailed("%s did not happen within %.0f s" % (what, timeout))
            time.sleep(0.05)

    def check_health(self):
        if self.csms.violations:
            self.story.finish()
            v = self.csms.violations[0]
            f = self.csms.frames[v.frame]
            raise DemoFailed("a frame the station sent (#%d, %s %s) violates the OCA schemas/OCPP-J framing: %s"
                             % (v.frame, f.kind_name, f.action or "", v.problem))
        if self.csms.own_errors:
            raise DemoFailed("dev CSMS error: %s" % self.csms.own_errors[0])
        if self.station is not None and self.station.proc is not None and self.station.proc.poll() is not None \
                and not self.stopping:
            self.story.finish()
            raise DemoFailed("the station exited unexpectedly with status %s" % self.station.proc.returncode)

    def drive(self, what, cmd):
        """One stdin command to the simulated hardware, told in the story."""
        self.story.pump(True)
        self.story.say("stdin  %s: %s" % (what, _json(cmd)))
        self.station.send(cmd)

    def _idle(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.story.pump()
            self.check_health()
            time.sleep(0.05)

    # -- queries --

    def calls(self, action, since=0):
        return self.csms.calls(action, since=since)

    def answered(self, frame):
        return self.csms.answer_to(frame)

    def tx_events(self, since=0):
        return self.calls("TransactionEvent", since)

    def pilot(self, since, pred):
        return [e for e in self.station.named("pilot", since) if e.get("evse") == EVSE and pred(e)]

    def status_of(self, since, evse, connector, status):
        return [f for f in self.calls("StatusNotification", since)
                if (f.payload.get("evseId"), f.payload.get("connectorId")) == (evse, connector)
                and f.payload.get("connectorStatus") == status]

    # -- the session --

    stopping = False

    def run(self):
        args, story = self.args, self.story
        self.csms = csms = Csms(heartbeat_interval=HEARTBEAT)
        if args.tag_status != "Accepted":
            csms.responders["Authorize"] = lambda p, s: {"idTokenInfo": {"status": args.tag_status}}
        csms.start()
        story.csms = csms
        try:
            self._session()
        finally:
            story.finish()
            if self.station is not None and self.station.proc is not None:
                self.station.kill()
            csms.stop()

    def _session(self):
        csms, story = self.csms, self.story
        story.say("dev CSMS listening on %s" % csms.url)
        config = {
            "identity": IDENTITY, "csms_url": csms.url, "security_profile": 0,
            "vendor": "FlexCharge", "model": "FC-Sim-Demo", "serial_number": "DEMO-0001",
            "firmware_version": "demo", "evses": EVSES, "device_model": DEVICE_MODEL,
        }
        self.station = station = StationProcess(
            config, os.path.join(self.workdir, "state"), config_path=os.path.join(self.workdir, "station.json"),
            launcher=self.args.station)
        story.say("starting station %s: %s --config %s --state %s" % (
            IDENTITY, _show(self.args.station), station.config_path, station.state_dir))
        story.say("device model: HeartbeatInterval %d s, TxUpdatedInterval %d s, TxStartPoint PowerPathClosed, "
                  "TxStopPoint EVConnected,Authorized, EVSE %d: %d A x %d phases at %d V" % (
                      HEARTBEAT, TX_UPDATED, EVSE, EVSES[0]["max_current"], EVSES[0]["phases"], EVSES[0]["voltage"]))
        station.start()
        story.station = station

        # 1. Boot and the status of every connector (TC_B_01_CS).
        boot = self.wait("BootNotification", lambda: (self.calls("BootNotification") or [None])[0], 10)
        answer = self.wait("the answer to BootNotification", lambda: self.answered(boot), 5)
        if answer.payload.get("status") != "Accepted":
            raise DemoFailed("BootNotification was not Accepted")
        self.wait("StatusNotification Available for every connector", lambda: all(
            self.status_of(answer.index, e, c, "Available") for e, c in CONNECTORS), 8)
        self._idle(1.0)

        # 2. Cable in: the EV is in state B; the connector becomes Occupied (TC_G_01_CS). No transaction
        #    yet: TxStartPoint is PowerPathClosed.
        mark, emark = csms.mark(), station.mark()
        self.drive("driver plugs the cable into EVSE %d connector %d (EV in state B)" % (EVSE, CONNECTOR),
                   {"cmd": "plug", "evse": EVSE, "connector": CONNECTOR})
        self.wait("StatusNotification Occupied for EVSE %d connector %d" % (EVSE, CONNECTOR),
                  lambda: self.status_of(mark, EVSE, CONNECTOR, "Occupied"), 6)
        self._idle(1.0)
        if self.tx_events(mark):
            raise DemoFailed("TransactionEvent %s on plug-in, before the power path closed (TxStartPoint PowerPathClosed)"
                             % self.tx_events(mark)[0].payload.get("eventType"))

        # 3. Tag: Authorize with the CSMS (C01), then the pilot offers the EVSE's current.
        mark, emark = csms.mark(), station.mark()
        self.drive("driver presents tag %s (%s) at the reader" % (TAG["idToken"], TAG["type"]),
                   {"cmd": "tag", "id": TAG["idToken"], "type": TAG["type"]})
        auth = self.wait("Authorize", lambda: (self.calls("Authorize", mark) or [None])[0], 6)
        if auth.payload.get("idToken") != TAG:
            raise DemoFailed("Authorize carried idToken %r, not the tag presented %r" % (auth.payload.get("idToken"), TAG))
        auth_ans = self.wait("the answer to Authorize", lambda: self.answered(auth), 5)
        ev = self.wait("the station's authorize event", lambda: (station.named("authorize", emark) or [None])[0], 5)
        if ev.get("status") != "Accepted":
            raise DemoFailed("Authorize -> %s: the tag was not authorized (expected Accepted; the CSMS answered %s)"
                             % (ev.get("status"), _json(auth_ans.payload)))
        amps = EVSES[0]["max_current"]
        duty = round(expected_duty(amps), 1)
        self.wait("pilot PWM %.1f %% (offer of %d A, IEC 61851-1 Table A.8) on EVSE %d" % (duty, amps, EVSE),
                  lambda: self.pilot(emark, lambda e: abs(e.get("duty", -1) - duty) < 0.05 and not e.get("contactor")), 5)
        self._idle(1.0)

        # 4. The EV asks for power (state C): the contactor closes and the transaction starts (TC_E_01_CS),
        #    with a Transaction.Begin meter value (TC_J_07_CS).
        mark, emark = csms.mark(), station.mark()
        self.drive("the EV will draw %d W when allowed" % EV_WATTS, {"cmd": "load", "evse": EVSE, "watts": EV_WATTS})
        self.drive("the EV switches to state C (requests power)", {"cmd": "ev", "evse": EVSE, "state": "C"})
        closed = self.wait("contactor closed on EVSE %d" % EVSE, lambda: self.pilot(emark, lambda e: e.get("contactor")), 5)[0]
        started = self.wait("TransactionEvent Started", lambda: [
            f for f in self.tx_events(mark) if f.payload.get("eventType") == "Started"], 6)[0]
        sp = started.payload
        tid = sp.get("transactionInfo", {}).get("transactionId")
        problems = []
        if sp.get("seqNo") != 0:
            problems.append("seqNo %r (expected 0)" % sp.get("seqNo"))
        if sp.get("idToken") != TAG:
            problems.append("idToken %r (expected the authorized tag)" % sp.get("idToken"))
        if sp.get("evse") != {"id": EVSE, "connectorId": CONNECTOR}:
            problems.append("evse %r" % sp.get("evse"))
        if energy_of(sp, "Transaction.Begin") is None:
            problems.append("no %s sample with context Transaction.Begin (TxStartedMeasurands)" % ENERGY)
        if problems:
            raise DemoFailed("TransactionEvent Started is wrong: %s" % "; ".join(problems))

        # 5. Charging: periodic meter values every TxUpdatedInterval (TC_J_09_CS), energy rising.
        def periodic():
            return [f for f in self.tx_events(started.index) if f.payload.get("triggerReason") == "MeterValuePeriodic"
                    and f.payload.get("transactionInfo", {}).get("transactionId") == tid]
        self.wait("%d periodic meter values (TxUpdatedInterval %d s)" % (self.args.samples, TX_UPDATED),
                  lambda: len(periodic()) >= self.args.samples, self.args.samples * TX_UPDATED + 6)
        readings = [energy_of(sp, "Transaction.Begin")] + [energy_of(f.payload, "Sample.Periodic") for f in periodic()]
        if None in readings[1:]:
            raise DemoFailed("a MeterValuePeriodic event has no %s sample (TxUpdatedMeasurands)" % ENERGY)
        if any(b <= a for a, b in zip(readings, readings[1:])):
            raise DemoFailed("energy register not rising while charging at %d W: %r Wh" % (EV_WATTS, readings))

        # 5b. Smart charging (K01, issue 12): a TxProfile for this transaction lowers the offer to LOW_AMPS,
        #     then lets it rise again; the pilot follows at the period boundary and the EV draws what it is
        #     offered; each change is a TransactionEvent Updated (ChargingRateChanged) with the offer.
        mark, emark = csms.mark(), station.mark()
        p = smart.profile(1, "TxProfile", [(0, LOW_AMPS), (LOW_S, EVSES[0]["max_current"])], transaction_id=tid)
        story.pump(True)
        story.say("CSMS   SetChargingProfile TxProfile: %d A for %d s, then %d A" % (
            LOW_AMPS, LOW_S, EVSES[0]["max_current"]))
        reply = csms.call("SetChargingProfile", {"evseId": EVSE, "chargingProfile": p}, timeout=10)
        if reply.kind != CALLRESULT or reply.payload.get("status") != "Accepted":
            raise DemoFailed("SetChargingProfile TxProfile not Accepted: %s" % reply.summary(300))
        low = round(expected_duty(LOW_AMPS), 1)
        self.wait("pilot PWM %.1f %% (offer of %d A)" % (low, LOW_AMPS),
                  lambda: self.pilot(emark, lambda e: abs(e.get("duty", -1) - low) < 0.05 and e.get("contactor")), 3)
        low_w = LOW_AMPS * EVSES[0]["voltage"] * EVSES[0]["phases"]

        def rate_changed():
            return [f for f in self.tx_events(mark) if f.payload.get("triggerReason") == "ChargingRateChanged"]
        first = self.wait("TransactionEvent Updated ChargingRateChanged", lambda: rate_changed(), 5)[0]
        drawn = [x[2] for x in sampled(first.payload, "Power.Active.Import")]
        if not drawn or drawn[0] > low_w + 0.5:
            raise DemoFailed("the EV draws %r W, more than the %d W offered" % (drawn, low_w))
        self.wait("pilot PWM %.1f %% again (offer of %d A) after %d s" % (
            duty, EVSES[0]["max_current"], LOW_S), lambda: self.pilot(
                emark, lambda e: abs(e.get("duty", -1) - duty) < 0.05 and e.get("contactor")), LOW_S + 4)
        second = self.wait("a second ChargingRateChanged", lambda: rate_changed()[1:], 5)[0]
        drawn = [x[2] for x in sampled(second.payload, "Power.Active.Import")]
        if not drawn or abs(drawn[0] - EV_WATTS) > 0.5:
            raise DemoFailed("after the limit rose the EV draws %r W, not its %d W" % (drawn, EV_WATTS))
        self._idle(TX_UPDATED + 0.5)

        # 6. The EV stops drawing (back to state B): contactor opens, SuspendedEV.
        mark, emark = csms.mark(), station.mark()
        self.drive("the EV is full: back to state B", {"cmd": "ev", "evse": EVSE, "state": "B"})
        opened = self.wait("contactor open on EVSE %d" % EVSE,
                           lambda: self.pilot(emark, lambda e: not e.get("contactor")), 5)[0]
        self.wait("TransactionEvent Updated chargingState SuspendedEV", lambda: [
            f for f in self.tx_events(mark) if f.payload.get("transactionInfo", {}).get("chargingState") == "SuspendedEV"], 5)
        self._idle(1.0)

        # 7. Cable out: the transaction ends (TC_E_17_CS: EVCommunicationLost, Idle, EVDisconnected), with a
        #    Transaction.End meter value (TC_J_10_CS); the connector is Available again.
        mark, emark = csms.mark(), station.mark()
        self.drive("driver unplugs the cable", {"cmd": "unplug", "evse": EVSE, "connector": CONNECTOR})
        ended = self.wait("TransactionEvent Ended", lambda: [
            f for f in self.tx_events(mark) if f.payload.get("eventType") == "Ended"], 6)[0]
        ended_ans = self.wait("the answer to TransactionEvent Ended", lambda: self.answered(ended), 5)
        end_ev = self.wait("the station's transaction Ended event", lambda: [
            e for e in station.named("transaction", emark) if e.get("type") == "Ended"], 5)[0]
        self.wait("StatusNotification Available for EVSE %d connector %d" % (EVSE, CONNECTOR),
                  lambda: self.status_of(mark, EVSE, CONNECTOR, "Available"), 6)
        ep = ended.payload
        info = ep.get("transactionInfo", {})
        if info.get("transactionId") != tid:
            raise DemoFailed("Ended is for transaction %r, not %r" % (info, tid))
        got = (ep.get("triggerReason"), info.get("chargingState"), info.get("stoppedReason"))
        if got != ("EVCommunicationLost", "Idle", "EVDisconnected"):
            raise DemoFailed("Ended with triggerReason %s, chargingState %s, stoppedReason %s (expected "
                             "EVCommunicationLost, Idle, EVDisconnected: the cable was unplugged)" % got)
        if energy_of(ep, "Transaction.End") is None:
            raise DemoFailed("Ended has no %s sample with context Transaction.End (TxEndedMeasurands)" % ENERGY)
        self._idle(0.5)

        # 8. Graceful shutdown.
        self.stopping = True
        self.t_shutdown = time.monotonic()
        self.drive("(power off) graceful shutdown", {"cmd": "shutdown"})
        self.wait("graceful shutdown (station exit)", lambda: station.proc.poll() is not None, 10)
        status = station.proc.returncode
        story.pump(True)
        story.say("station exited with status %s" % status)
        if status != 0:
            raise DemoFailed("station exit status %s after shutdown" % status)
        if station.bad_lines:
            raise DemoFailed("station printed non-JSON lines on stdout: %r" % station.bad_lines[:3])
        self.check_health()
        story.finish()
        self._summary(tid, started, ended, ended_ans, end_ev, closed, opened, answer)

    def expected_wh(self, closed, opened):
        """Energy the simulated EV should have drawn: min(its load, the pilot's offer) between the pilot
        events from contactor closed to open."""
        evs = [e for e in self.station.named("pilot") if e.get("evse") == EVSE and closed["_t"] <= e["_t"] <= opened["_t"]]
        volts_phases = EVSES[0]["voltage"] * EVSES[0]["phases"]
        wh = 0.0
        for a, b in zip(evs, evs[1:]):
            d = a.get("duty", 100)
            amps = d * 0.6 if 10 <= d <= 85 else 0.0
            if a.get("contactor"):
                wh += min(EV_WATTS, amps * volts_phases) * (b["_t"] - a["_t"]) / 3600.0
        return wh

    def plot(self):
        """tools/plot_session on this session's stdout events and CSMS frames; returns the PNG path."""
        import subprocess

        out_dir = os.environ.get("FLEXCHARGE_PLOT_DIR") or tempfile.gettempdir()
        events = os.path.join(out_dir, "flexcharge-session.events.jsonl")
        frames = os.path.join(out_dir, "flexcharge-session.csms.jsonl")
        png = os.path.join(out_dir, "flexcharge-session.png")
        plot_session = _load_plot_session()
        plot_session.write_logs(self.station, self.csms, events, frames)
        r = subprocess.run([sys.executable, os.path.join(TOOLS, "plot_session"), "--events", events, "--csms", frames,
                            "--out", png, "--evse", str(EVSE), "--voltage", str(EVSES[0]["voltage"]),
                            "--phases", str(EVSES[0]["phases"])], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise DemoFailed("tools/plot_session failed: %s" % (r.stderr or r.stdout)[-800:])
        return png

    # -- checks across the whole session, then the summary --

    def _summary(self, tid, started, ended, ended_ans, end_ev, closed, opened, boot_answer):
        csms, say = self.csms, self.story.say
        txs = [f for f in self.tx_events() if f.payload.get("transactionInfo", {}).get("transactionId") == tid]
        seqs = [f.payload.get("seqNo") for f in txs]
        if seqs != list(range(len(txs))):
            raise DemoFailed("TransactionEvent seqNo not 0..%d in order: %r" % (len(txs) - 1, seqs))
        types = [f.payload.get("eventType") for f in txs]
        if types[0] != "Started" or types[-1] != "Ended" or "Started" in types[1:] or "Ended" in types[:-1]:
            raise DemoFailed("TransactionEvent types out of order: %r" % types)
        unanswered = [f for f in txs if (self.answered(f) or f).kind != CALLRESULT]
        if unanswered:
            raise DemoFailed("%d TransactionEvents not answered with a CALLRESULT" % len(unanswered))
        # OCPPCommCtrlr.HeartbeatInterval (Part 2 appendices): a Heartbeat after that many seconds without
        # OCPP exchanges, so the CSMS never waits much longer than the interval for a sign of life.
        beats = self.calls("Heartbeat", boot_answer.index)
        alive = [boot_answer.t] + [f.t for f in self.calls(None, boot_answer.index)] + [self.t_shutdown]
        silence = max(b - a for a, b in zip(alive, alive[1:]))
        if silence > HEARTBEAT + 1.5:
            raise DemoFailed("the station was silent for %.1f s with HeartbeatInterval %d s" % (silence, HEARTBEAT))

        stamps = [parse_ts(started.payload["timestamp"])] + [
            parse_ts(f.payload["timestamp"]) for f in txs if f.payload.get("triggerReason") == "MeterValuePeriodic"]
        sample_gaps = [b - a for a, b in zip(stamps, stamps[1:])]
        readings = [energy_of(started.payload, "Transaction.Begin")] + [
            energy_of(f.payload, "Sample.Periodic") for f in txs if f.payload.get("triggerReason") == "MeterValuePeriodic"]
        if None in readings or any(b <= a for a, b in zip(readings, readings[1:])):
            raise DemoFailed("energy register not rising through the session: %r Wh" % readings)
        begin_wh = energy_of(started.payload, "Transaction.Begin")
        end_wh = energy_of(ended.payload, "Transaction.End")
        metered = end_wh - begin_wh
        reported = end_ev.get("energyWh")
        closed_s = opened["_t"] - closed["_t"]
        physics = self.expected_wh(closed, opened)
        if not isinstance(reported, (int, float)):
            raise DemoFailed("the station's Ended event has no energyWh: %r" % end_ev)
        if abs(reported - metered) > 0.2:
            raise DemoFailed("energy disagrees: %.1f Wh in the Ended event, %.1f Wh from the meter values"
                             % (reported, metered))
        if abs(metered - physics) > max(0.5, 0.05 * physics):
            raise DemoFailed("energy %.1f Wh metered, but min(%d W, offer) for %.1f s with the contactor closed "
                             "is %.1f Wh" % (metered, EV_WATTS, closed_s, physics))
        dur_ts = parse_ts(ended.payload["timestamp"]) - parse_ts(started.payload["timestamp"])
        duration = end_ev.get("duration")
        if not isinstance(duration, int) or abs(duration - dur_ts) > 1.05:  # whole seconds vs ms timestamps
            raise DemoFailed("duration %r s in the Ended event, %.1f s between the Started and Ended timestamps"
                             % (duration, dur_ts))

        order = []
        for f in csms.frames:
            a = f.action or "?"
            if a not in order:
                order.append(a)
        # action -> [CALL from station, CALLRESULT from CSMS, CALLERROR from CSMS, CALL from CSMS, answers]
        table = dict((a, [0, 0, 0, 0, 0]) for a in order)
        sent = {"station": 0, "csms": 0}
        nbytes = {"station": 0, "csms": 0}
        for f in csms.frames:
            row = table[f.action or "?"]
            sent[f.src] += 1
            nbytes[f.src] += len(f.text.encode("utf-8") if isinstance(f.text, str) else f.text)
            if f.src == "station":
                row[0 if f.kind == CALL else 4] += 1
            else:
                row[1 if f.kind == CALLRESULT else 2 if f.kind == CALLERROR else 3] += 1

        answer_info = (ended_ans.payload or {}).get("idTokenInfo") if ended_ans.kind == CALLRESULT else None
        say("==== session summary ====")
        print("transaction        %s on EVSE %d connector %d, idToken %s (%s)" % (
            tid, EVSE, CONNECTOR, TAG["idToken"], TAG["type"]))
        print("energy (meter)     %.1f Wh from the station's meter values (%s %.1f -> %.1f Wh, "
              "Transaction.Begin -> Transaction.End)" % (metered, ENERGY, begin_wh, end_wh))
        print("energy (Ended)     %.1f Wh as reported in the Ended event (energyWh)" % reported)
        print("energy (check)     %.1f Wh expected: min(%d W, offer) over %.1f s with the contactor closed" % (
            physics, EV_WATTS, closed_s))
        print("meter values       %s Wh (Transaction.Begin, then Sample.Periodic %s s apart; TxUpdatedInterval %d s)" % (
            " -> ".join("%.1f" % r for r in readings), "/".join("%.1f" % g for g in sample_gaps), TX_UPDATED))
        print("duration           %d s (Ended event), %.1f s between the Started and Ended timestamps" % (duration, dur_ts))
        print("stopped            %s (trigger %s)%s" % (
            ended.payload["transactionInfo"].get("stoppedReason"), ended.payload.get("triggerReason"),
            "" if answer_info is None else ", CSMS idTokenInfo %s" % answer_info.get("status")))
        runs = []
        for f in txs:
            kind = "%s(%s)" % (f.payload["eventType"], f.payload["triggerReason"])
            if runs and runs[-1][0] == kind:
                runs[-1][1] += 1
            else:
                runs.append([kind, 1])
        print("TransactionEvents  %d, seqNo 0..%d in order, all answered: %s" % (len(txs), len(txs) - 1, ", ".join(
            ("%d x %s" % (n, k)) if n > 1 else k for k, n in runs)))
        print("heartbeats         %d; longest silence from the station %.1f s (HeartbeatInterval %d s)" % (
            len(beats), silence, HEARTBEAT))
        print("frames exchanged   %d: %d from the station (%d B), %d from the CSMS (%d B); 0 schema violations" % (
            len(csms.frames), sent["station"], nbytes["station"], sent["csms"], nbytes["csms"]))
        for a in order:
            st_call, res, err, cs_call, st_ans = table[a]
            parts = []
            if st_call or res or err:
                parts.append("%2d CALL station -> CSMS, %2d CALLRESULT%s" % (
                    st_call, res, ", %d CALLERROR" % err if err else ""))
            if cs_call or st_ans:
                parts.append("%2d CALL CSMS -> station, %2d answers" % (cs_call, st_ans))
            print("  %-22s %s" % (a, "; ".join(parts)))
        png = self.plot()
        print("session plot       %s (power drawn, limit offered, energy, transaction events)" % png)
        say("demo OK: a complete charging session, every frame schema-valid")


def main(argv=None):
    ap = argparse.ArgumentParser(description="FlexCharge demo: one complete charging session")
    ap.add_argument("--station", default=os.path.join(TOOLS, "station"), help="the station launcher")
    ap.add_argument("--samples", type=int, default=SAMPLES,
                    help="periodic meter values to charge for (every %d s; default %d)" % (TX_UPDATED, SAMPLES))
    ap.add_argument("--tag-status", default="Accepted", choices=AUTH_STATUSES,
                    help="what the dev CSMS answers to Authorize (anything but Accepted shows the failure path)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary config/state directory")
    ap.add_argument("--verbose", "-v", action="store_true", help="also print every frame and station event")
    args = ap.parse_args(argv)
    if args.samples < 1:
        ap.error("--samples must be at least 1")
    story = Story(args.verbose)
    if not os.path.exists(args.station):
        print("DEMO FAILED: station launcher %s not found (run `make setup`?)" % args.station)
        return 1
    workdir = tempfile.mkdtemp(prefix="flexcharge-demo-")
    demo = Demo(args, story, workdir)
    ok = False
    try:
        demo.run()
        ok = True
    except DemoFailed as e:
        _post_mortem(demo)
        print("DEMO FAILED: %s (files kept in %s)" % (e, workdir))
    except Exception as e:
        _post_mortem(demo)
        print("DEMO FAILED: %s: %s (files kept in %s)" % (type(e).__name__, e, workdir))
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


def _load_plot_session():
    import importlib.machinery
    import importlib.util

    path = os.path.join(TOOLS, "plot_session")
    loader = importlib.machinery.SourceFileLoader("plot_session", path)
    spec = importlib.util.spec_from_loader("plot_session", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def _post_mortem(demo):
    station, csms = demo.station, demo.csms
    if station is not None and station.proc is not None:
        tail = station.stderr_text(2500)
        if tail:
            sys.stdout.write("--- station stderr (tail) ---\n%s\n" % tail)
        if station.bad_lines:
            sys.stdout.write("--- station stdout lines that are not JSON events ---\n%s\n" % "\n".join(station.bad_lines[-30:]))
    if csms is not None:
        sys.stdout.write(csms.format_log(25) + "\n")


if __name__ == "__main__":
    sys.exit(main())
