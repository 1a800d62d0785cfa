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

from flexcharge.hal import Board, Clock, Watchdog, Reset, Indicator, ConnectorHw
from flexcharge.hal.storage import FileStorage
from flexcharge.compat import ticks_ms

PILOT_STATES = ("A", "B", "C", "D", "E", "F")


class StdoutIndicator(Indicator):
    def __init__(self, out=None):
        self.out = out

    def report(self, event, fields):
        d = {"event": event}
        for k in fields:
            d[k] = fields[k]
        line = json.dumps(d) + "\n"
        out = self.out if self.out is not None else sys.stdout
        out.write(line)
        try:
            out.flush()
        except AttributeError:
            pass


class SimClock(Clock):
    """Host clock plus an offset: set() by the CSMS time moves the offset (kept in RAM;
    like an RTC without a battery the offset is lost on power loss)."""

    def __init__(self):
        self.offset = 0.0

    def now(self):
        return time.time() + _EPOCH + self.offset

    def set(self, unix_seconds):
        self.offset = unix_seconds - (time.time() + _EPOCH)


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
        self.connectors = {}
        for eid in self.evse_ids:
            for c in range(1, self.ncon[eid] + 1):
                self.connectors[(eid, c)] = SimConnector(self, eid, c)

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
        for k in ("plugged", "ev", "load", "fault"):
            if not isinstance(w.get(k), dict):
                w[k] = {}
        return w

    def _save_world(self):
        self.storage.write("world.json", json.dumps(self.world))

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
        if not self._set("ev", str(e), None if s == "A" else s):
            return None
        self.emit("ev", {"evse": e, "state": s})
        return "ev"

    def _load(self, cmd):
        e, _ = self._evse(cmd)
        w = cmd.get("watts")
        if isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0:
            raise ValueError("watts must be a number >= 0")
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


def make_board(config, state_dir):
    return SimBoard(config, state_dir)


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
