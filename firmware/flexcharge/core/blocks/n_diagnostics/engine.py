# The monitor engine (N04-N08): which monitors exist, when they trip, and NotifyEvent delivery.
#
# Monitors are small lists [id, key, kind, type, value, severity, transaction, state]:
#   kind "H" hard-wired and "P" preconfigured come from the tables (row[9]) with ids 1..999 in
#   table order; "C" custom ones come from SetVariableMonitoring, ids from 1000, persisted
#   (N07.FR.13, TC_N_53_CS). A custom monitor that replaces a preconfigured one keeps its id
#   (N04.FR.15, TC_N_41_CS). state: tripped flag (thresholds), reference value (numeric Delta),
#   next due time (periodic).
# The device model calls on_change() after every change of an Actual value.
import asyncio
import json

from flexcharge.core import timefmt
from flexcharge.compat import ticks_ms, ticks_diff
from flexcharge.core.devicemodel import check
from flexcharge.core.devicemodel.model import component_dict, evse_of, key as dm_key, unkey, variable_dict
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected

TYPES = ("UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned")
UPPER = 0
LOWER = 1
DELTA = 2
PERIODIC = 3
ALIGNED = 4
KIND_NAMES = {
    "H": "HardWiredMonitor",
    "P": "PreconfiguredMonitor",
    "C": "CustomMonitor",
    "N": "HardWiredNotification",
}
BASES = ("All", "FactoryDefault", "HardWiredOnly")

# monitor fields
ID = 0
KEY = 1
KIND = 2
TYPE = 3
VALUE = 4
SEV = 5
TX = 6
STATE = 7

MONITORS_FILE = "dm.monitors"
FIRST_CUSTOM_ID = 1000
MAX_CUSTOM = 32  # custom monitors kept (each ~100 bytes of heap)
MAX_QUEUE = 24  # events waiting for the link; the oldest are dropped beyond this
EVENTS_PER_MESSAGE = 8
_RETRY_S = 1


def _true(v):
    return v is True or (isinstance(v, str) and v.lower() == "true")


def _numeric(row):
    return row[3] == "integer" or row[3] == "decimal"


class MonitorEngine:
    def __init__(self, station):
        self.st = station
        self.dm = station.dm
        self._pre = None  # built on first use: the tables and EVSEs must be known
        self._custom = []
        self._off = []  # ids of preconfigured monitors cleared by the CSMS
        self._next_id = FIRST_CUSTOM_ID
        self._queue = []  # (eventId, time, trigger, actualValue, cleared, key, monitorId, kind, txId, techCode, techInfo)
        self._event_id = 0
        self._sending = False
        self._started = False
        self._wake = asyncio.Event()
        self._anchor = None  # (clock seconds, ticks_ms) of _now_ms
        # Set by the transaction block: callable(evse_id or None) -> transactionId or None.
        # Without it, monitors with transaction=true never trigger.
        self.tx_lookup = None
        self._hs = None  # see _flag()
        self.dm.monitor = self.on_change

    # -- set-up ---------------------------------------------------------------------------
    def _ensure(self):
        if self._pre is not None:
            return
        dm = self.dm
        pre = []
        nid = 1
        for blk, i, evse, conn in dm.components():
            for row in blk[3]:
                if len(row) > 9:
                    for kind, typ, value, sev in row[9]:
                        pre.append([nid, dm_key(i, evse, conn, 0), kind, TYPES.index(typ), value, sev, False, None])
                        nid += 1
                i += 1
        self._pre = pre
        self._load()

    def start(self, periodic=True):
        self._ensure()
        self._started = True
        if periodic:
            self.st.spawn(self.run_periodic())
        if self._queue:
            self._kick()

    # -- queries ----------------------------------------------------------------------------
    def _flag(self, i, var, default):
        # MonitoringCtrlr settings read on every monitored change: handles resolved once, so a
        # meter value feeding a monitor costs no heap (no lookup tuple, no string) per sample.
        hs = self._hs
        if hs is None:
            dm = self.dm
            hs = self._hs = (dm.handle("MonitoringCtrlr", "Enabled"), dm.handle("MonitoringCtrlr", "Available"),
                             dm.handle("MonitoringCtrlr", "ActiveMonitoringBase"))
        h = hs[i]
        if h is None:
            return default
        return self.dm.value(h[1], h[2], None, None)

    def base(self):
        b = self._flag(2, "ActiveMonitoringBase", "All")
        return b if b in BASES else "All"

    def level(self):
        return self.dm.get_int("MonitoringCtrlr", "ActiveMonitoringLevel", 9)

    def enabled(self):
        # Available is the maker's (factory value), Enabled the CSMS's: both must be true.
        return _true(self._flag(0, "Enabled", True)) and _true(self._flag(1, "Available", True))

    def _pre_active(self, m, hard_only):
        if m[KIND] == "H":
            return True
        if hard_only or m[ID] in self._off:  # N03.FR.05
            return False
        for c in self._custom:
            if c[ID] == m[ID]:
                return False  # replaced by a custom monitor (N04.FR.15)
        return True

    def monitors(self):
        """Every active monitor: hard-wired, preconfigured (per base), custom."""
        self._ensure()
        hard_only = self.base() == "HardWiredOnly"
        for m in self._pre:
            if self._pre_active(m, hard_only):
                yield m
        for m in self._custom:
            yield m

    def by_id(self, mid):
        for m in self.monitors():
            if m[ID] == mid:
                return m
        return None

    def _row(self, k):
        br = self.dm.by_vidx(k >> 11)
        return br[1] if br is not None else None

    def _current(self, k, row):
        vidx, evse, conn, a = unkey(k)
        return self.dm.value(row, vidx, evse, conn, 0)

    def _tx(self, k):
        if self.tx_lookup is None:
            return None
        try:
            return self.tx_lookup(unkey(k)[1])
        except Exception:
            return None

    # -- evaluation (N07, N08) -----------------------------------------------------------------
    def on_change(self, k, row, old, new):
        self._ensure()
        # Cheap exit first: most changes (meter readings...) have no monitor at all.
        hit = False
        for m in self._pre:
            if m[KEY] == k:
                hit = True
                break
        if not hit:
            for m in self._custom:
                if m[KEY] == k:
                    hit = True
                    break
        if not hit or not self.enabled():
            return
        hard_only = self.base() == "HardWiredOnly"
        pre = self._pre
        n = len(pre)
        i = 0
        while i < n + len(self._custom):  # monitors(), without a generator per change
            m = pre[i] if i < n else self._custom[i - n]
            i += 1
            if m[KEY] != k or m[TYPE] >= PERIODIC:
                continue
            if i <= n and not self._pre_active(m, hard_only):
                continue
            if m[TX] and self._tx(k) is None:
                continue
            t = m[TYPE]
            if t == DELTA:
                if _numeric(row):
                    x = check.number(new)
                    ref = m[STATE]
                    if ref is None:
                        ref = check.number(old)
                    if x is None:
                        continue
                    if ref is None:
                        m[STATE] = x  # first value since boot: the baseline
                    elif abs(x - ref) > m[VALUE]:  # N07.FR.18: changed *more* than the delta (absolute, errata 1.1)
                        m[STATE] = x
                        self._emit(m, row, "Delta", new, False)
                elif old is None or old != new:  # N07.FR.19: any change of a non-numeric value
                    self._emit(m, row, "Delta", new, False)
            else:
                self._threshold(m, row, new)

    def _threshold(self, m, row, v):
        x = check.number(v)
        if x is None:
            return
        over = x > m[VALUE] if m[TYPE] == UPPER else x < m[VALUE]  # N07.FR.16/17: beyond, not at
        if over and not m[STATE]:
            m[STATE] = True
            self._emit(m, row, "Alerting", v, False)
        elif not over and m[STATE]:
            m[STATE] = False
            self._emit(m, row, "Alerting", v, True)  # N07.FR.02: back to normal

    def tick(self, now_ms):
        """Periodic and PeriodicClockAligned monitors due at `now_ms` (wall clock, integer Unix
        milliseconds: a float32 epoch moves in 128 s steps) (N08.FR.05-07).
        Returns the next due time (ms), or None when there is no periodic monitor."""
        nxt = None
        on = self.enabled()
        for m in self.monitors():
            t = m[TYPE]
            if t < PERIODIC:
                continue
            due = m[STATE]
            if due is None:
                due = self._due(m, now_ms)
            elif now_ms >= due:
                if on and not (m[TX] and self._tx(m[KEY]) is None):
                    row = self._row(m[KEY])
                    if row is not None:
                        self._emit(m, row, "Periodic", self._current(m[KEY], row), False)
                due = self._due(m, now_ms)
            m[STATE] = due
            if nxt is None or due < nxt:
                nxt = due
        return nxt

    def _due(self, m, now_ms):
        iv = max(1, int(m[VALUE] * 1000 + 0.5))  # the monitor's value: seconds, maybe fractional
        if m[TYPE] == ALIGNED:  # N08.FR.07: e.g. 900 -> :00, :15, :30, :45
            return (now_ms // iv + 1) * iv
        return now_ms + iv

    def _now_ms(self):
        # Wall-clock ms: the station clock's whole seconds, ticks_ms in between; re-anchored
        # when the clock moves by more than a second (set by the CSMS).
        s = int(self.st.now())
        a = self._anchor
        if a is not None:
            ms = a[0] * 1000 + ticks_diff(ticks_ms(), a[1])
            if -1000 < ms - s * 1000 < 2000:
                return ms
        self._anchor = (s, ticks_ms())
        return s * 1000

    async def run_periodic(self):
        self._anchor = None
        while True:
            nxt = self.tick(self._now_ms())
            timeout_ms = 3600000 if nxt is None else max(50, nxt - self._now_ms())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout_ms / 1000)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    # -- events ------------------------------------------------------------------------------
    def _emit(self, m, row, trigger, value, cleared):
        self._queue_event(m[SEV], m[KEY], row, trigger, value, cleared, m[ID], m[KIND])

    def hardwired(self, component, variable, actual, severity=0, evse=None, connector=None, tech_code=None, tech_info=None, cleared=False):
        """A HardWiredNotification (TC_N_21_CS) raised by the firmware itself."""
        f = self.dm.find(component, None, evse, connector, variable, None)
        if not isinstance(f, tuple):
            return False
        return self._queue_event(severity, dm_key(f[2], evse, connector, 0), f[1], "Alerting", actual, cleared, None, "N", tech_code, tech_info)

    def _queue_event(self, sev, k, row, trigger, value, cleared, mid, kind, tech_code=None, tech_info=None):
        st = self.st
        if sev > self.level():
            return False  # N05.FR.03, N07.FR.15
        if not st.online and st.registration == "Accepted":
            # N07.FR.04 / N08.FR.03, TC_N_22/23_CS: offline, only up to OfflineQueuingSeverity is kept.
            # (Before the first Accepted of this boot everything is held: the boot-time state.)
            if sev > self.dm.get_int("MonitoringCtrlr", "OfflineQueuingSeverity", 9):
                return False
        actual = "" if row[2][:2] == "WO" else check.text(value)  # N07.FR.10, TC_N_48_CS
        lim = self.dm.value_limit()
        if lim and len(actual) > lim:
            actual = actual[:lim]
        self._event_id += 1
        q = self._queue
        q.append((self._event_id, st.now(), trigger, actual, cleared, k, mid, kind, self._tx(k), tech_code, tech_info))
        if len(q) > MAX_QUEUE:
            del q[0]
        if self._started:
            self._kick()
        return True

    def _kick(self):
        if not self._sending:
            self._sending = True
            self.st.spawn(self._send_loop())

    def event_data(self, ev):
        eid, ts, trigger, actual, cleared, k, mid, kind, tx, tcode, tinfo = ev
        vidx, evse, conn, a = unkey(k)
        blk, row = self.dm.by_vidx(vidx)
        d = {
            "eventId": eid,
            "timestamp": timefmt.iso(ts),
            "trigger": trigger,
            "actualValue": actual,
            "eventNotificationType": KIND_NAMES[kind],
            "component": component_dict(blk, evse, conn),  # N07.FR.06
            "variable": variable_dict(row),
        }
        if mid is not None:
            d["variableMonitoringId"] = mid
        if cleared:
            d["cleared"] = True
        if tx:
            d["transactionId"] = tx
        if tcode:
            d["techCode"] = tcode
        if tinfo:
            d["techInfo"] = tinfo
        return d

    async def _send_loop(self):
        st = self.st
        try:
            while self._queue:
                if not st.online or st.registration != "Accepted":
                    await asyncio.sleep(_RETRY_S)
                    continue
                batch = self._queue[:EVENTS_PER_MESSAGE]
                payload = {
                    "generatedAt": st.isonow(),
                    "seqNo": 0,  # N07.FR.07: each NotifyEvent here is a whole report
                    "tbc": False,
                    "eventData": [self.event_data(ev) for ev in batch],
                }
                try:
                    await st.call("NotifyEvent", payload)
                except (NotConnected, CallTimeout):
                    await asyncio.sleep(_RETRY_S)
                    continue  # kept: delivered when the link is back
                except CallError as e:
                    st.log.warn("NotifyEvent refused (%s): dropped" % (e.code,))
                payload = None
                # Events queued meanwhile stay behind the batch; drop exactly what was sent.
                n = len(batch)
                if self._queue[:1] and self._queue[0] is batch[0]:
                    del self._queue[:n]
                else:
                    self._queue = [ev for ev in self._queue if ev not in batch]
        finally:
            self._sending = False

    # -- configuration (N03-N06) -------------------------------------------------------------
    def set_monitor(self, d):
        """One SetMonitoringData -> (status, id or None, statusInfo or None)."""
        self._ensure()
        dm = self.dm
        comp = d["component"]
        var = d["variable"]
        typ = d["type"]
        sev = d["severity"]
        value = d["value"]
        mid = d.get("id")
        if typ not in TYPES:
            return "UnsupportedMonitorType", None, None
        t = TYPES.index(typ)
        evse, conn = evse_of(comp)
        f = dm.find(comp["name"], comp.get("instance"), evse, conn, var["name"], var.get("instance"))
        if f == 0:
            return "UnknownComponent", None, {"reasonCode": "NotFound"}  # N04.FR.03, TC_N_11_CS
        if f == 1:
            return "UnknownVariable", None, {"reasonCode": "NotFound"}  # N04.FR.04, TC_N_37_CS
        blk, row, vidx = f
        if "M" not in row[2]:
            return "Rejected", None, {"reasonCode": "UnsupportedParam"}  # not monitorable (TC_N_39_CS)
        if not 0 <= sev <= 9:
            return "Rejected", None, {"reasonCode": "ValueOutOfRange"}
        if t == UPPER or t == LOWER:
            if not _numeric(row):
                return "UnsupportedMonitorType", None, None  # N04.FR.05, TC_N_38_CS
            mn, mx = dm.limits(row, vidx, evse, conn)
            if (mn is not None and value < mn) or (mx is not None and value > mx):
                return "Rejected", None, {"reasonCode": "ValueOutOfRange"}  # N04.FR.06, TC_N_13_CS
        elif t == DELTA:
            if value < 0:
                return "Rejected", None, {"reasonCode": "ValuePositiveOnly"}  # N04.FR.14, TC_N_12_CS
        elif value <= 0:
            return "Rejected", None, {"reasonCode": "ValuePositiveOnly"}  # an interval in seconds
        k = dm_key(vidx, evse, conn, 0)
        old = None
        if mid is not None:
            old = self.by_id(mid)
            if old is None:
                return "Rejected", None, {"reasonCode": "NotFound"}  # N04.FR.13
            if old[KIND] == "H":
                return "Rejected", None, {"reasonCode": "ReadOnly"}  # N04.FR.18
            if old[KEY] != k:
                return "Rejected", None, {"reasonCode": "InvalidValue"}  # N04.FR.16
        for m in self.monitors():
            if m[KEY] == k and m[TYPE] == t and m[SEV] == sev and m[ID] != mid:
                return "Duplicate", None, None  # N04.FR.10, TC_N_15_CS
        if old is None and len(self._custom) >= MAX_CUSTOM:
            return "Rejected", None, {"reasonCode": "OutOfMemory"}
        if mid is None:
            mid = self._next_id
            self._next_id += 1
        m = [mid, k, "C", t, value, sev, bool(d.get("transaction", False)), None]
        if old is not None and old[KIND] == "C":
            self._custom[self._custom.index(old)] = m  # N04.FR.12
        else:
            self._custom.append(m)  # new, or replacing a preconfigured one (N04.FR.15)
        self._save()
        cur = self._current(k, row)
        if t == DELTA:
            m[STATE] = check.number(cur) if _numeric(row) else None
        elif t < DELTA:
            if old is not None and old[TYPE] == t:
                m[STATE] = old[STATE]
            if not (m[TX] and self._tx(k) is None) and self.enabled():
                self._threshold(m, row, cur)  # N07.FR.11, TC_N_51_CS
        else:
            self._wake.set()
        return "Accepted", mid, None

    def clear(self, mid):
        """ClearVariableMonitoring of one id -> (status, statusInfo or None) (N06)."""
        self._ensure()
        for i in range(len(self._custom)):
            if self._custom[i][ID] == mid:
                del self._custom[i]
                for p in self._pre:
                    if p[ID] == mid and mid not in self._off:
                        self._off.append(mid)  # a cleared replacement does not bring the original back
                self._save()
                return "Accepted", None  # N06.FR.01; N07.FR.12: no "cleared" event follows
        m = self.by_id(mid)
        if m is None:
            return "NotFound", {"reasonCode": "NotFound"}  # N06.FR.02, TC_N_19_CS
        if m[KIND] == "H":
            return "Rejected", None  # N06.FR.03, TC_N_44_CS
        self._off.append(mid)
        self._save()
        return "Accepted", None

    def set_base(self, base):
        """SetMonitoringBase (N03) -> status."""
        if base not in BASES:
            return "NotSupported"  # N03.FR.02
        self._ensure()
        if base != "All":
            self._custom = []  # N03.FR.04/05: custom monitors go, overruled preconfigured ones too
        self._off = []  # All/FactoryDefault (re)activate every preconfigured monitor (N03.FR.03/04)
        for m in self._pre:
            m[STATE] = None
        self.dm.set_internal("MonitoringCtrlr", "ActiveMonitoringBase", base)
        self._save()
        self._wake.set()
        return "Accepted"

    def set_level(self, severity):
        """SetMonitoringLevel (N05) -> (status, statusInfo or None)."""
        if not 0 <= severity <= 9:
            return "Rejected", {"reasonCode": "ValueOutOfRange"}  # N05.FR.02, TC_N_17_CS
        self.dm.set_internal("MonitoringCtrlr", "ActiveMonitoringLevel", severity)
        return "Accepted", None

    # -- persistence ----------------------------------------------------------------------------
    def _save(self):
        dm = self.dm
        lines = [json.dumps({"next": self._next_id, "off": self._off})]
        for m in self._custom:
            vidx, evse, conn, a = unkey(m[KEY])
            blk, row = dm.by_vidx(vidx)
            lines.append(
                json.dumps(
                    [m[ID], blk[0], blk[1] or "", evse or 0, conn or 0, row[0], row[1] or "", TYPES[m[TYPE]], m[VALUE], m[SEV], m[TX]]
                )
            )
        dm.storage.write(MONITORS_FILE, "\n".join(lines))

    def _load(self):
        dm = self.dm
        raw = dm.storage.read(MONITORS_FILE)
        if not raw:
            return
        first = True
        for line in raw.decode().split("\n"):
            if not line:
                continue
            try:
                x = json.loads(line)
                if first:
                    first = False
                    self._next_id = max(FIRST_CUSTOM_ID, int(x.get("next", FIRST_CUSTOM_ID)))
                    self._off = [int(i) for i in x.get("off", ())]
                    continue
                mid, c, ci, e, n, v, vi, typ, value, sev, tx = x
                f = dm.find(c, ci or None, e or None, n or None, v, vi or None)
            except Exception:
                dm.log.warn("dm.monitors: bad line skipped")
                continue
            # A monitor whose variable is gone after a firmware update is dropped (N04).
            if not isinstance(f, tuple) or "M" not in f[1][2] or typ not in TYPES:
                dm.log.warn("dm.monitors: monitor %s on %s.%s dropped" % (mid, c, v))
                continue
            m = [mid, dm_key(f[2], e or None, n or None, 0), "C", TYPES.index(typ), value, sev, tx, None]
            if TYPES.index(typ) == DELTA and _numeric(f[1]):
                m[STATE] = check.number(self._current(m[KEY], f[1]))
            self._custom.append(m)
            if mid >= self._next_id:
                self._next_id = mid + 1
