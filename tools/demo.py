#!/usr/bin/env python3
"""`make run`: the walking skeleton end to end, narrated.

Starts the dev CSMS (in this process) and the simulated station (tools/station on the MicroPython unix
port) with a temporary config and state directory, then: boot -> BootNotification Accepted ->
StatusNotification for every connector -> heartbeats -> cable plugged in on the station's stdin ->
connector Occupied -> graceful shutdown. Exits 0 when every step happened and every frame the station
sent was valid; otherwise non-zero with the step that failed.

    .venv/bin/python tools/demo.py [--station PATH] [--keep] [--verbose]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

TOOLS = os.path.dirname(os.path.realpath(__file__))
REPO = os.path.dirname(TOOLS)
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

from csms import CALL, Csms, StationProcess  # noqa: E402

IDENTITY = "FC-DEMO-1"
HEARTBEAT = 2
EVSES = [{"id": 1, "connectors": 1, "max_current": 32, "phases": 3, "voltage": 230},
         {"id": 2, "connectors": 2, "max_current": 16, "phases": 1, "voltage": 230}]
CONNECTORS = [(1, 1), (2, 1), (2, 2)]


class DemoFailed(Exception):
    pass


class Narrator:
    def __init__(self, verbose):
        self.t0 = time.monotonic()
        self.verbose = verbose

    def say(self, text):
        sys.stdout.write("[%5.2fs] %s\n" % (time.monotonic() - self.t0, text))
        sys.stdout.flush()

    def __call__(self, kind, obj):  # CSMS listener (runs in the CSMS thread)
        if kind == "violation":
            self.say("!!! SCHEMA/FRAMING VIOLATION: %s" % obj.problem)
        elif self.verbose and kind == "frame":
            self.say("      wire %s" % obj.summary(160))


def step(narrator, what, fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except AssertionError as e:
        first = str(e).splitlines()[0] if str(e) else ""
        raise DemoFailed("%s did not happen: %s" % (what, first))


def status_map(csms, since):
    out = {}
    for f in csms.calls("StatusNotification", since=since):
        out[(f.payload.get("evseId"), f.payload.get("connectorId"))] = f.payload.get("connectorStatus")
    return out


def run(args, narrator, workdir):
    csms = Csms(heartbeat_interval=HEARTBEAT, listeners=[narrator]).start()
    station = None
    try:
        narrator.say("dev CSMS listening on %s" % csms.url)
        config = {
            "identity": IDENTITY, "csms_url": csms.url, "security_profile": 0,
            "vendor": "FlexCharge", "model": "FC-Sim-Demo", "serial_number": "DEMO-0001",
            "firmware_version": "demo", "evses": EVSES,
            "device_model": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "RetryBackOffWaitMinimum"}, "attributeValue": "1"},
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "RetryBackOffRandomRange"}, "attributeValue": "0"},
            ],
        }
        station = StationProcess(config, os.path.join(workdir, "state"), config_path=os.path.join(workdir, "station.json"),
                                 launcher=args.station)
        narrator.say("starting station %s: %s --config %s --state %s" % (
            IDENTITY, _show(args.station), station.config_path, station.state_dir))
        station.start()

        step(narrator, "the WebSocket connection", csms.wait_for, lambda: csms.accepted(), 8, "a connection")
        conn = csms.accepted()[0]
        narrator.say("station connected: path %s, subprotocol %s" % (conn.path, conn.subprotocol))

        boot = step(narrator, "BootNotification", csms.wait_call, "BootNotification", timeout=5)
        info = boot.payload.get("chargingStation", {})
        answer = step(narrator, "the BootNotification answer", csms.wait_for, lambda: csms.answer_to(boot), 5)
        narrator.say("BootNotification (reason %s, %s %s fw %s) -> %s, heartbeat interval %ss" % (
            boot.payload.get("reason"), info.get("vendorName"), info.get("model"), info.get("firmwareVersion"),
            answer.payload.get("status"), answer.payload.get("interval")))
        if answer.payload.get("status") != "Accepted":
            raise DemoFailed("BootNotification was not Accepted")

        step(narrator, "StatusNotification for every connector", csms.wait_for,
             lambda: set(status_map(csms, answer.index)) >= set(CONNECTORS), 6)
        statuses = status_map(csms, answer.index)
        for evse, connector in CONNECTORS:
            narrator.say("StatusNotification: EVSE %d connector %d is %s" % (evse, connector, statuses[(evse, connector)]))

        for n in (1, 2):
            beat = step(narrator, "Heartbeat %d" % n, csms.wait_call, "Heartbeat", since=answer.index, count=n,
                        timeout=HEARTBEAT + 4)
            narrator.say("Heartbeat %d (%.1fs after boot)" % (n, beat.t - answer.t))

        mark = csms.mark()
        plug = {"cmd": "plug", "evse": 1, "connector": 1}
        narrator.say("stdin -> station: %s" % _json(plug))
        station.send(plug)
        occupied = step(narrator, "StatusNotification Occupied for EVSE 1 connector 1", csms.wait_for,
                        lambda: [f for f in csms.calls("StatusNotification", since=mark)
                                 if (f.payload.get("evseId"), f.payload.get("connectorId")) == (1, 1)
                                 and f.payload.get("connectorStatus") == "Occupied"], 6)
        narrator.say("StatusNotification: EVSE 1 connector 1 is Occupied")
        others = [f.action for f in csms.frames[mark:occupied[0].index] if f.src == "station" and f.kind == CALL
                  and f.action != "StatusNotification"]
        if others:
            narrator.say("(also sent: %s)" % ", ".join(others))

        narrator.say('stdin -> station: {"cmd": "shutdown"}')
        station.send({"cmd": "shutdown"})
        status = step(narrator, "graceful shutdown", station.wait_exit, 8)
        narrator.say("station exited with status %s" % status)
        if status != 0:
            raise DemoFailed("station exit status %s after shutdown" % status)
        if station.bad_lines:
            raise DemoFailed("station printed non-JSON lines on stdout: %r" % station.bad_lines[:3])
        if csms.violations:
            raise DemoFailed("%d schema/framing violations in what the station sent" % len(csms.violations))
        narrator.say("demo OK: %d frames exchanged, all valid" % len(csms.frames))
    except DemoFailed:
        if station is not None and station.proc is not None:
            tail = station.stderr_text(2500)
            if tail:
                sys.stdout.write("--- station stderr (tail) ---\n%s\n" % tail)
            if station.bad_lines:
                sys.stdout.write("--- station stdout lines that are not JSON events ---\n%s\n" % "\n".join(station.bad_lines[-30:]))
        sys.stdout.write(csms.format_log(25) + "\n")
        raise
    finally:
        if station is not None and station.proc is not None:
            station.kill()
        csms.stop()


def _show(path):
    rel = os.path.relpath(path, REPO)
    return path if rel.startswith("..") else rel


def _json(obj):
    import json
    return json.dumps(obj)


def main(argv=None):
    ap = argparse.ArgumentParser(description="FlexCharge walking-skeleton demo")
    ap.add_argument("--station", default=os.path.join(TOOLS, "station"), help="the station launcher")
    ap.add_argument("--keep", action="store_true", help="keep the temporary config/state directory")
    ap.add_argument("--verbose", "-v", action="store_true", help="also print every frame")
    args = ap.parse_args(argv)
    narrator = Narrator(args.verbose)
    if not os.path.exists(args.station):
        print("DEMO FAILED: station launcher %s not found (run `make setup`?)" % args.station)
        return 1
    workdir = tempfile.mkdtemp(prefix="flexcharge-demo-")
    ok = False
    try:
        run(args, narrator, workdir)
        ok = True
    except DemoFailed as e:
        print("DEMO FAILED: %s (files kept in %s)" % (e, workdir))
    except Exception as e:
        print("DEMO FAILED: %s: %s (files kept in %s)" % (type(e).__name__, e, workdir))
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
