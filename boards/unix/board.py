# The simulated station for the MicroPython unix port (and CPython tests).
#
# The physical world -- cables, EV pilot state, load, faults -- is the world's, not
# the firmware's: it lives in <state>/world.json, survives reboots and power loss,
# and is changed only by JSON-line commands on stdin (DESIGN.md launcher contract).
# Events go to stdout as JSON lines; nothing else may be printed there.
import sys
import json
import time
import asyncio

from flexcharge.hal import Board, Clock, Watchdog, Reset, Indicator, ConnectorHw, ControlPilot, Contactor, Meter
from flexcharge.hal import iec61851 as cp
from flexcharge.hal.storage import FileStorage
from flexcharge.compat import ticks_ms, ticks_diff

PILOT_STATES = ("A", "B", "C", "D", "E", "F")
# L01/L04 boot step: tools/station selects the firmware slot before it starts MicroPython
# (firmware/main.py does it on the MCU boards).
LAUNCHER_SELECTS_SLOT = True


class StdoutIndicator(Indicator):
    def __init__(self, out=None):
        self.out = out
        self.broken = False

    def report(self, event, fields):
        d = {"event": event}
        for k in fields:
            d[k] = fields[k]
        if self.broken:
            return
        line = json.dumps(d) + "\n"
        out = self.out if self.out is not None else sys.stdout
        try:
            out.write(line)
            flush = getattr(out, "flush", None)
            if flush is not None:
                flush()
        except OSError as e:
            # EPIPE: the reader of the event stream went away. The events are a report, not the
            # station's job: stop writing them (a pipe does not come back) and carry on charging.
            self.broken = True
            sys.stderr.write("board: event stream closed (%r): events no longer reported\n" % (e,))


class SimClock(Clock):
    """Host clock plus an offset: set() by the CSMS time moves the offset (kept in RAM;
    like an RTC without a battery the offset is lost on power loss). Whole seconds, an int
    like an MCU's RTC: a float32 epoch (qemu, rp2, stm32...) moves in 128 s steps."""

    def __init__(self):
        self.offset = 0

    def now(self):
        return int(time.time()) + _EPOCH + self.offset

    def set(self, unix_seconds):
        self.offset = int(unix_seconds) - (int(time.time()) + _EPOCH)


_EPOCH = 0 if time.gmtime(0)[0] == 1970 else 946684800


class FileWatchdog(Watchdog):
    """The launcher (tools/station) is the watchdog hardware: it kills and restarts the
    firmware process when <state>/watchdog has not been rewritten within the timeout."""

    def __init__(self, storage):
        self.storage = storage
        self.timeout_ms = 0

    def start(self, timeout_ms):
        self.timeout_ms = timeout_ms
        self.feed()
        return timeout_ms

    def feed(self):
        self.storage.write("watchdog", "%d %d\n" % (self.timeout_ms, ticks_ms()))


class SimReset(Reset):
    def __init__(self, storage):
        raw = storage.read("reset_cause")  # written by the launcher before a restart
        storage.remove("reset_cause")
        self._cause = raw.decode().strip() if raw else "power"

    def cause(self):
        return self._cause

    def reset(self):
        raise SystemExit(3)


class SimConnector(ConnectorHw):
    def __init__(self, board, evse, cid):
        self.board = board
        self.evse = evse
        self.cid = cid
        self.locked = False

    def plugged(self):
        return self.board.world["plugged"].get("%d/%d" % (self.evse, self.cid), False)

    def faulted(self):
        return self.board.world["fault"].get(str(self.evse))

    def lock(self, locked):
        self.locked = locked


class SimPilot(ControlPilot):
    """The EVSE side of the control pilot: the PWM we generate, and the state the simulated
    EV puts on the line (the world's `ev` state; A when no cable)."""

    def __init__(self, board, evse):
        self.board = board
        self.evse = evse
        self._duty = cp.STEADY
        self._offered = 0

    def state(self):
        return self.board.ev_state(self.evse)

    def last_state(self):
        return self.state()

    def offer(self, amps):
        d = cp.duty_for_current(amps)
        if d is None:
            self._set(cp.STEADY, 0)
        else:
            self._set(d, min(amps, cp.MAX_CURRENT))

    def disable(self):
        self._set(cp.OFF, 0)

    def _set(self, duty, offered):
        if duty == self._duty and offered == self._offered:
            return
        self.board.meter_touch(self.evse)  # energy so far accrues at the old offer
        self._duty = duty
        self._offered = offered
        self.board.pilot_changed(self.evse)

    def duty(self):
        return self._duty

    def offered(self):
        return self._offered


class SimContactor(Contactor):
    """Relay with a mirror contact. While the world has fault code ContactorWelded, a
    closed contactor stays closed when told to open (welded contacts)."""

    def __init__(self, board, evse):
        self.board = board
        self.evse = evse
        self._cmd = False
        self._fb = False

    def close(self):
        if not self._cmd or not self._fb:
            self.board.meter_touch(self.evse)
            self._cmd = True
            self._fb = True
            self.board.pilot_changed(self.evse)

    def open(self):
        if self._cmd:
            self.board.meter_touch(self.evse)
            self._cmd = False
            if self.board.world["fault"].get(str(self.evse)) != WELDED:
                self._fb = False
            self.board.pilot_changed(self.evse)

    def is_closed(self):
        return self._fb

    def welded(self):
        return self._fb and not self._cmd

    def repair(self):
        if self._fb != self._cmd:
            self.board.meter_touch(self.evse)
            self._fb = self._cmd
            self.board.pilot_changed(self.evse)


class SimMeter(Meter):
    """Energy meter at the outlet. Power = what the EV draws (`load`) capped by the offered
    current x voltage x phases, while the contactor is closed and the EV is in state C/D.
    The energy register integrates that power over time and lives in the world (a real
    meter keeps its register through a power cut): a reading is persisted before it is
    reported, so the register never runs backwards after a power loss; between readings it
    is saved at most every 5 s."""

    def __init__(self, board, evse, voltage, phases):
        self.board = board
        self.evse = evse
        self.voltage = float(voltage)
        self.phases = phases
        self._t = board.ms()
        self._saved = self._t
        self._rem = 0  # µJ (mW x ms) below one mWh, carried to the next step

    def power(self):
        b = self.board
        e = self.evse
        c = b.contactors[e]
        if not c.is_closed() or b.ev_state(e) not in ("C", "D"):
            return 0.0
        cap = b.pilots[e].offered() * self.voltage * self.phases
        load = b.load_w(e)
        return float(load if load < cap else cap)

    def update(self, save=False):
        b = self.board
        now = b.ms()
        dt = ticks_diff(now, self._t)
        self._t = now
        if dt > 0:
            p = self.power()
            if p > 0:
                # Integer mWh register plus a µJ remainder: no float accumulation error, and
                # no step lost on a float32 port (flexcharge.accel.energy_step's contract).
                k = str(self.evse)
                en = b.world["energy_mwh"]
                e = self._rem + int(p * 1000) * dt
                en[k] = en.get(k, 0) + e // 3600000
                self._rem = e % 3600000
                if save or ticks_diff(now, self._saved) >= 5000:
                    self._saved = now
                    b._save_world()
                    return
        if save:
            b._save_world()

    def energy_mwh(self):
        return self.board.world["energy_mwh"].get(str(self.evse), 0)

    def read(self):
        before = self.energy_mwh()
        self.update()
        if self.energy_mwh() != before:
            self._saved = self._t
            self.board._save_world()  # what we report survives a power cut
        p = self.power()
        n = self.phases
        amps = p / (self.voltage * n) if n else 0.0
        return {"energy_mwh": self.energy_mwh(), "power_w": p, "current_a": (amps,) * n,
                "voltage_v": (self.voltage,) * n}


WELDED = "ContactorWelded"


class SimBoard(Board):
    name = "unix"

    def __init__(self, config, state_dir, stdin=None, out=None):
        self.storage = FileStorage(state_dir)
        self.clock = SimClock()
        self.watchdog = FileWatchdog(self.storage)
        self.reset = SimReset(self.storage)
        self.indicator = StdoutIndicator(out)
        self.stdin = stdin
        self.evse_ids = tuple(e["id"] for e in config["evses"])
        self.ncon = {}
        for e in config["evses"]:
            self.ncon[e["id"]] = e.get("connectors", 1)
        self.world = self._load_world()
        self.ms = ticks_ms  # time base of the energy integration (tests replace it)
        self.connectors = {}
        for eid in self.evse_ids:
            for c in range(1, self.ncon[eid] + 1):
                self.connectors[(eid, c)] = SimConnector(self, eid, c)
        # Per EVSE: control pilot, contactor, meter (flexcharge.hal interfaces).
        self.pilots = {}
        self.contactors = {}
        self.meters = {}
        self._pilot_seen = {}
        for e in config["evses"]:
            eid = e["id"]
            self.pilots[eid] = SimPilot(self, eid)
            self.contactors[eid] = SimContactor(self, eid)
            self.meters[eid] = SimMeter(self, eid, e.get("voltage", 230), e.get("phases", 3))

    # -- world state ------------------------------------------------------------
    def _load_world(self):
        raw = self.storage.read("world.json")
        w = None
        if raw:
            try:
                w = json.loads(raw)
            except ValueError:
                w = None
        if not isinstance(w, dict):
            w = {}
        for k in ("plugged", "ev", "load", "fault", "energy_mwh"):
            if not isinstance(w.get(k), dict):
                w[k] = {}
        old = w.pop("energy", None)  # worlds saved before the integer register: float Wh
        if isinstance(old, dict):
            for k in old:
                w["energy_mwh"].setdefault(k, int(old[k] * 1000 + 0.5))
        return w

    def _save_world(self):
        self.storage.write("world.json", json.dumps(self.world))

    # -- simulated power path ------------------------------------------------------------
    def meter_touch(self, evse):
        m = self.meters.get(evse) if hasattr(self, "meters") else None
        if m is not None:
            m.update()

    def pilot_changed(self, evse):
        """`pilot` event whenever the PWM duty or the contactor changes (launcher contract)."""
        p = self.pilots[evse]
        c = self.contactors[evse]
        now = (round(p.duty(), 1), c.is_closed())
        if self._pilot_seen.get(evse) == now:
            return
        self._pilot_seen[evse] = now
        self.indicator.report("pilot", {"evse": evse, "duty": now[0], "contactor": now[1]})

    # -- commands ------------------------------------------------------------------
    def _error(self, msg, line=None):
        f = {"message": msg}
        if line is not None:
            f["line"] = line[:200]
        self.indicator.report("error", f)

    def _evse(self, cmd, need_connector=False):
        e = cmd.get("evse")
        if isinstance(e, bool) or not isinstance(e, int) or e not in self.evse_ids:
            raise ValueError("unknown evse %r" % (e,))
        if not need_connector:
            return e, None
        c = cmd.get("connector", 1)
        if isinstance(c, bool) or not isinstance(c, int) or not (1 <= c <= self.ncon[e]):
            raise ValueError("unknown connector %r of evse %d" % (c, e))
        return e, c

    def command(self, line):
        """Apply one stdin line. Returns the kind of change applied, or None."""
        line = line.strip()
        if not line:
            return None
        try:
            cmd = json.loads(line)
        except ValueError:
            self._error("not JSON", line)
            return None
        if not isinstance(cmd, dict) or not isinstance(cmd.get("cmd"), str):
            self._error("expected an object with a string 'cmd'", line)
            return None
        name = cmd["cmd"]
        fn = _COMMANDS.get(name)
        if fn is None:
            self._error("unknown command %r" % name, line)
            return None
        try:
            return fn(self, cmd)
        except ValueError as e:
            self._error(str(e), line)
            return None

    def _set(self, table, key, value):
        # Repeating a command that describes the current state changes nothing.
        w = self.world[table]
        if w.get(key) == value:
            return False
        if value is None:
            del w[key]
        else:
            w[key] = value
        self._save_world()
        return True

    def _plug(self, cmd, plugged):
        e, c = self._evse(cmd, True)
        self.meter_touch(e)
        if not self._set("plugged", "%d/%d" % (e, c), True if plugged else None):
            return None
        # A plugged EV starts in state B, an unplugged connector is state A.
        self._set("ev", str(e), "B" if plugged else None)
        kind = "plug" if plugged else "unplug"
        self.emit(kind, {"evse": e, "connector": c})
        return kind

    def _ev(self, cmd):
        e, _ = self._evse(cmd)
        s = cmd.get("state")
        if s not in PILOT_STATES:
            raise ValueError("state must be one of A-F")
        self.meter_touch(e)
        if not self._set("ev", str(e), None if s == "A" else s):
            return None
        self.emit("ev", {"evse": e, "state": s})
        return "ev"

    def _load(self, cmd):
        e, _ = self._evse(cmd)
        w = cmd.get("watts")
        if isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0:
            raise ValueError("watts must be a number >= 0")
        self.meter_touch(e)
        if not self._set("load", str(e), w if w else None):
            return None
        self.emit("load", {"evse": e, "watts": w})
        return "load"

    def _tag(self, cmd):
        tid = cmd.get("id")
        if not isinstance(tid, str) or not tid or len(tid) > 36:
            raise ValueError("tag id must be a string of 1-36 characters")
        d = {"id": tid, "type": cmd.get("type", "ISO14443")}
        if "evse" in cmd:
            d["evse"] = self._evse(cmd)[0]
        self.emit("tag", d)
        return "tag"

    def _fault(self, cmd):
        e, _ = self._evse(cmd)
        code = cmd.get("code")
        if not isinstance(code, str) or not code:
            raise ValueError("fault needs a string 'code'")
        if not self._set("fault", str(e), code):
            return None
        self.emit("fault", {"evse": e, "code": code})
        return "fault"

    def _clear_fault(self, cmd):
        e, _ = self._evse(cmd)
        if not self._set("fault", str(e), None):
            return None
        c = self.contactors.get(e)
        if c is not None:
            c.repair()  # the welded contactor was replaced
        self.emit("clear_fault", {"evse": e})
        return "clear_fault"

    def _shutdown(self, cmd):
        self.emit("shutdown", {})
        return "shutdown"

    def ev_state(self, evse):
        return self.world["ev"].get(str(evse), "A")

    def load_w(self, evse):
        return self.world["load"].get(str(evse), 0)

    async def run(self):
        if self.stdin is False:
            return  # tests drive command() directly
        src = self.stdin if self.stdin is not None else sys.stdin
        reader = asyncio.StreamReader(src)
        while True:
            line = await reader.readline()
            if not line:
                return  # stdin closed: the world stays as it is, the station runs on
            if isinstance(line, bytes):
                try:
                    line = line.decode()
                except UnicodeError:
                    self._error("not UTF-8")
                    continue
            self.command(line)


_COMMANDS = {
    "plug": lambda b, c: b._plug(c, True),
    "unplug": lambda b, c: b._plug(c, False),
    "ev": SimBoard._ev,
    "load": SimBoard._load,
    "tag": SimBoard._tag,
    "fault": SimBoard._fault,
    "clear_fault": SimBoard._clear_fault,
    "shutdown": SimBoard._shutdown,
}


def _data_transfer(board, cmd):
    exts = getattr(board, "vendor_extensions", None)
    if not exts:
        raise ValueError("this board has no vendor extension")
    return exts[0].command(cmd)


_COMMANDS["data_transfer"] = _data_transfer  # P02 from the example vendor extension


def make_board(config, state_dir):
    from vendor_example import ExampleVendor  # the maker's own code: OCPP DataTransfer (P01/P02)

    b = SimBoard(config, state_dir)
    b.vendor_extensions = (ExampleVendor(b),)
    return b


def paths():
    """(config_path, state_dir) from the command line: main.py --config FILE --state DIR."""
    a = sys.argv
    cfg = st = None
    i = 1
    while i < len(a) - 1:
        if a[i] == "--config":
            cfg = a[i + 1]
        elif a[i] == "--state":
            st = a[i + 1]
        i += 1
    return cfg, st
