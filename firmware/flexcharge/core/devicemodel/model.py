# The OCPP 2.0.1 device model: static definitions in frozen tables, values in one dict.
#
# Table format (tuples of constants, so a frozen build keeps them in flash):
#   table = ((component, component_instance, scope, rows), ...)
#     scope 0: one component; 1: one per EVSE (component.evse.id); 2: one per connector
#     (component.evse.id + evse.connectorId), instantiated from add_evses().
#   row = (variable, instance, flags, dataType, unit, minLimit, maxLimit, valuesList, default[, monitors])
#     flags: "RO"|"RW"|"WO" then P persistent, C constant, M supportsMonitoring,
#            B RebootRequired on write, T/N/X the variable also has Target/MinSet/MaxSet,
#            F a ReadOnly variable the factory may set, U feature not implemented (see apply_factory).
#     dataType: string, decimal, integer, dateTime, boolean, OptionList, SequenceList, MemberList.
#     minLimit/maxLimit: ints or None (length for strings and lists); valuesList: tuple of str.
#     default: str (Actual; other attributes default to ""), or a 4-tuple per attribute.
#     monitors: ((kind, type, value, severity), ...) kind "P" preconfigured / "H" hard-wired.
#
# Heap: no object per variable. A variable instance is a small-int key
# (row index, evse, connector, attribute); only values that were set live in `_values`, as
# ints, bools or strings (OptionList values and defaults reuse the table's string objects).
# Persistent values go to one file (atomic write) by name, so tables may change between
# firmware versions; factory values (launcher `device_model`) to another, read first at boot.
import json

from flexcharge.core.devicemodel import check

ATTRS = ("Actual", "Target", "MinSet", "MaxSet")
_ATTR_FLAG = ("", "T", "N", "X")
MUTABILITY = {"RO": "ReadOnly", "RW": "ReadWrite", "WO": "WriteOnly"}

VALUES_FILE = "dm.values"
FACTORY_FILE = "dm.factory"

_MISSING = object()


class DeviceModelError(Exception):
    pass


def key(vidx, evse, conn, attr):
    # 6 bits EVSE id, 3 bits connector, 2 bits attribute: still a small int on every port.
    return ((((vidx << 6) | (evse or 0)) << 3 | (conn or 0)) << 2) | attr


def unkey(k):
    """-> (vidx, evse or None, connector or None, attr)"""
    e = (k >> 5) & 63
    c = (k >> 2) & 7
    return k >> 11, (e or None), (c or None), k & 3


def attr_index(name):
    for i in range(4):
        if ATTRS[i] == name:
            return i
    return -1


def has_attr(row, a):
    return a == 0 or (a > 0 and _ATTR_FLAG[a] in row[2])


def mutability(row):
    return MUTABILITY[row[2][:2]]


def default(row, a):
    d = row[8]
    if isinstance(d, tuple):
        return d[a] if a < len(d) and d[a] is not None else ""
    return d if a == 0 else ""


def component_dict(blk, evse, conn):
    d = {"name": blk[0]}
    if blk[1]:
        d["instance"] = blk[1]
    if evse is not None:
        e = {"id": evse}
        if conn is not None:
            e["connectorId"] = conn
        d["evse"] = e
    return d


def variable_dict(row):
    d = {"name": row[0]}
    if row[1]:
        d["instance"] = row[1]
    return d


def evse_of(comp):
    """component dict -> (evse id or None, connector id or None)"""
    e = comp.get("evse")
    if not e:
        return None, None
    return e.get("id"), e.get("connectorId")


def describe(comp, var):
    """'EVSE@1.Power', 'OCPPCommCtrlr.MessageTimeout[Default]' for messages."""
    s = str(comp.get("name"))
    if comp.get("instance"):
        s += "[%s]" % comp["instance"]
    e, c = evse_of(comp)
    if e is not None:
        s += "@%s" % e
        if c is not None:
            s += "/%s" % c
    s += "." + str(var.get("name"))
    if var.get("instance"):
        s += "[%s]" % var["instance"]
    return s


def _ieq(a, b):
    # case-insensitive, allocation only when the lengths agree
    return a == b or (isinstance(b, str) and len(a) == len(b) and a.lower() == b.lower())


def cv_match(cv, blk, evse, conn, row=None):
    """Does a ComponentVariableType select this component instance (row None) or variable?
    Absent instance / evse / connectorId / variable / variable instance select them all
    (N02.FR.15-17; the same rules for GetReport)."""
    c = cv["component"]
    if not _ieq(blk[0], c["name"]):
        return False
    ci = c.get("instance")
    if ci and not (blk[1] and _ieq(blk[1], ci)):
        return False
    e = c.get("evse")
    if e:
        if evse != e.get("id"):
            return False
        if e.get("connectorId") is not None and conn != e["connectorId"]:
            return False
    if row is None:
        return True
    v = cv.get("variable")
    if not v:
        return True
    if not _ieq(row[0], v["name"]):
        return False
    vi = v.get("instance")
    return not vi or bool(row[1] and _ieq(row[1], vi))


def _same(a, b, ci):
    return a == b or (ci and _ieq(a, b))


def _same_inst(a, b, ci):
    if not a:
        return not b
    if not b:
        return False
    return _same(a, b, ci)


class DeviceModel:
    def __init__(self, storage, log):
        self.storage = storage
        self.log = log
        self._tables = []  # (table, vidx of its first row)
        self._n = 0
        self._evses = ()  # ((evse_id, connectors), ...) sorted
        self._derived = None  # EVSE figures from the config, applied by load()
        self._values = {}
        self._limits = {}  # key(attr 0) -> (minLimit, maxLimit) where the config sets them
        self._watch = []  # (vidx, callback)
        self._vetoes = []  # (vidx, fn(value) -> reason or None): checks a block adds (A01 passwordString)
        self._getters = []  # (vidx, fn)
        self._hold = 0
        self._dirty = False
        self._new = True
        self._vlim = None  # cached value_limit() figures
        # Set by the monitoring engine: callable(key, row, old, new) after every change of an
        # Actual value (old is None the first time it is set after boot).
        self.monitor = None

    # -- building -----------------------------------------------------------------
    def add_table(self, table):
        if not table:
            return
        for t, _ in self._tables:
            if t is table:
                return  # a block that took over a table the root also adds
        self._tables.append((table, self._n))
        for blk in table:
            self._n += len(blk[3])

    def add_evses(self, evses):
        ids = []
        derived = []
        for e in evses:
            i = e.get("id")
            n = e.get("connectors", 1)
            if not isinstance(i, int) or not 1 <= i <= 63 or not isinstance(n, int) or not 1 <= n <= 7:
                raise DeviceModelError("evses: ids 1..63 with 1..7 connectors, got %r" % (e,))
            ids.append((i, n))
            ph = e.get("phases", 3)
            derived.append((i, n, ph, e.get("max_current", 32) * e.get("voltage", 230) * ph))
        ids.sort()
        self._evses = tuple(ids)
        self._derived = derived

    def load(self):
        """Read factory then persisted values. Call after the tables and EVSEs are added."""
        raw = self.storage.read(FACTORY_FILE)
        self._new = raw is None
        if raw:
            self._read_lines(raw, FACTORY_FILE)
        raw = self.storage.read(VALUES_FILE)
        if raw:
            self._read_lines(raw, VALUES_FILE)
        raw = None
        self._apply_derived()
        self._vlim = None

    def is_new(self):
        # The factory file is the marker: written by apply_factory() once it succeeded, so a
        # launcher that stopped on a bad `device_model` entry applies it again next time.
        return self._new

    def _apply_derived(self):
        d = self._derived
        self._derived = None
        if not d:
            return
        top = 0
        total = 0
        for i, n, ph, watts in d:
            top = max(top, ph)
            total += watts
            self._quiet("EVSE", "SupplyPhases", ph, i, None)
            for c in range(1, n + 1):
                self._quiet("Connector", "SupplyPhases", ph, i, c)
            f = self._scan("EVSE", None, i, None, "Power", None, False)
            if isinstance(f, tuple):
                self._limits[key(f[2], i, None, 0)] = (0, watts)  # TC_N_13_CS relies on maxLimit
        self._quiet("ChargingStation", "SupplyPhases", top, None, None)
        f = self._scan("ChargingStation", None, None, None, "Power", None, False)
        if isinstance(f, tuple):
            self._limits[key(f[2], None, None, 0)] = (0, total)

    def _quiet(self, comp, var, value, evse, conn):
        f = self._scan(comp, None, evse, conn, var, None, False)
        if isinstance(f, tuple):
            typed, err = check.parse(f[1], value, None, None, False)
            if err is None:
                self._values[key(f[2], evse, conn, 0)] = typed

    def _read_lines(self, raw, what):
        try:
            text = raw.decode() if isinstance(raw, bytes) else raw
        except Exception:
            self.log.error("%s unreadable, ignored" % what)
            return
        for line in text.split("\n"):
            if not line:
                continue
            try:
                c, ci, e, n, v, vi, a, val = json.loads(line)
                f = self._scan(c, ci or None, e or None, n or None, v, vi or None, False)
            except Exception:
                self.log.warn("%s: bad line skipped" % what)
                continue
            if not isinstance(f, tuple) or not has_attr(f[1], a):
                self.log.warn("%s: %s.%s no longer exists, dropped" % (what, c, v))
                continue
            typed, err = check.parse(f[1], val, None, None, False)
            if err is not None:
                self.log.warn("%s: %s.%s=%r invalid, dropped" % (what, c, v, val))
                continue
            self._values[key(f[2], e or None, n or None, a)] = typed

    def apply_factory(self, entries):
        """Factory values (SetVariableData-shaped dicts) for a new state directory. All are
        checked first; the first bad one raises DeviceModelError naming it, nothing is applied."""
        todo = []
        i = 0
        for e in entries or ():
            label = "device_model[%d]" % i
            i += 1
            if not isinstance(e, dict):
                raise DeviceModelError(label + ": not an object")
            comp = e.get("component")
            var = e.get("variable")
            if not isinstance(comp, dict) or not isinstance(var, dict) or "name" not in comp or "name" not in var:
                raise DeviceModelError(label + ": needs component.name and variable.name")
            label += " " + describe(comp, var)
            value = e.get("attributeValue")
            if not isinstance(value, str):
                raise DeviceModelError(label + ": attributeValue must be a string")
            a = attr_index(e.get("attributeType", "Actual"))
            if a < 0:
                raise DeviceModelError(label + ": unknown attributeType")
            ev, cn = evse_of(comp)
            f = self.find(comp["name"], comp.get("instance"), ev, cn, var["name"], var.get("instance"))
            if f == 0:
                raise DeviceModelError(label + ": unknown component")
            if f == 1:
                raise DeviceModelError(label + ": unknown variable")
            if not has_attr(f[1], a):
                raise DeviceModelError(label + ": attributeType not supported")
            flags = f[1][2]
            # The factory file is not the CSMS: ReadOnly variables the maker provisions (flag F:
            # ItemsPerMessage, MessageTimeout, ReservationCtrlr.NonEvseSpecific...) are accepted.
            # Refused: what the firmware itself maintains (AvailabilityState, Entries, meter
            # values...), a feature this firmware does not have (U), and any value outside the
            # limits the firmware can honour (maxLimit: tools/gen_dm.py MAX_ITEMS, MAX_MESSAGE...).
            if "U" in flags:
                if check.text(check.parse(f[1], value, None, None, False)[0]) != default(f[1], a):
                    raise DeviceModelError(label + ": %r not possible, the feature is not implemented" % value)
            elif flags[:2] == "RO" and "F" not in flags:
                raise DeviceModelError(label + ": read-only, maintained by the firmware")
            mn, mx = self.limits(f[1], f[2], ev, cn)
            typed, err = check.parse(f[1], value, mn, mx, True)
            if err is not None:
                why = err
                if err == check.OUT_OF_RANGE:
                    why = "%s: allowed %s..%s" % (err, "" if mn is None else mn, "" if mx is None else mx)
                raise DeviceModelError(label + ": invalid value %r (%s)" % (value, why))
            todo.append((f, ev, cn, a, typed))
        lines = []
        self.hold()
        try:
            for f, ev, cn, a, typed in todo:
                self._store(f, ev, cn, a, typed, False)
                lines.append(self._line(f[0], f[1], key(f[2], ev, cn, a), typed))
            self.storage.write(FACTORY_FILE, "\n".join(lines))
            self._dirty = True
        finally:
            self.release()

    # -- lookup ---------------------------------------------------------------------------
    def _addr_ok(self, scope, evse, conn):
        if scope == 0:
            return evse is None and conn is None
        for e, n in self._evses:
            if e == evse:
                if scope == 1:
                    return conn is None
                return isinstance(conn, int) and 1 <= conn <= n
        return False

    def _scan(self, cname, cinst, evse, conn, vname, vinst, ci):
        # -> (blk, row, vidx) | 1 (component known, variable not) | 0 (component unknown)
        # Hot path (every get_int): comparisons inlined, no calls unless a name matches.
        comp = 0
        for t, i in self._tables:
            for blk in t:
                rows = blk[3]
                if blk[0] == cname or (ci and _ieq(blk[0], cname)):
                    if _same_inst(blk[1], cinst, ci) and self._addr_ok(blk[2], evse, conn):
                        comp = 1
                        for r in rows:
                            if (r[0] == vname or (ci and _ieq(r[0], vname))) and (
                                r[1] == vinst or _same_inst(r[1], vinst, ci)
                            ):
                                return (blk, r, i)
                            i += 1
                        continue
                i += len(rows)
        return comp

    def find(self, cname, cinst, evse, conn, vname, vinst):
        """OCPP addressing -> (blk, row, vidx), or 0 unknown component / 1 unknown variable.
        Names are case-insensitive (schema), exact match tried first."""
        f = self._scan(cname, cinst, evse, conn, vname, vinst, False)
        if isinstance(f, tuple):
            return f
        g = self._scan(cname, cinst, evse, conn, vname, vinst, True)
        return g if isinstance(g, tuple) else max(f, g)

    def _lookup(self, component, variable, instance, evse, connector, var_instance):
        f = self._scan(component, instance, evse, connector, variable, var_instance, False)
        if not isinstance(f, tuple) and instance and not var_instance:
            # Tolerate get(..., instance="Default") meaning the *variable* instance
            # (OCPPCommCtrlr.MessageTimeout[Default]).
            f = self._scan(component, None, evse, connector, variable, instance, False)
        return f

    def _need(self, component, variable, instance, evse, connector, var_instance):
        f = self._lookup(component, variable, instance, evse, connector, var_instance)
        if not isinstance(f, tuple):
            what = "unknown component" if f == 0 else "unknown variable"
            raise DeviceModelError("%s.%s: %s" % (component, variable, what))
        return f

    def rows(self):
        """(blk, row, vidx) for every definition, in table order."""
        for t, i in self._tables:
            for blk in t:
                for r in blk[3]:
                    yield blk, r, i
                    i += 1

    def components(self):
        """(blk, vidx of its first row, evse, connector) for every component instance."""
        for t, i in self._tables:
            for blk in t:
                s = blk[2]
                if s == 0:
                    yield blk, i, None, None
                else:
                    for e, n in self._evses:
                        if s == 1:
                            yield blk, i, e, None
                        else:
                            for c in range(1, n + 1):
                                yield blk, i, e, c
                i += len(blk[3])

    def by_vidx(self, vidx):
        """vidx -> (blk, row) or None."""
        for t, i in self._tables:
            for blk in t:
                n = len(blk[3])
                if vidx < i + n:
                    return (blk, blk[3][vidx - i]) if vidx >= i else None
                i += n
        return None

    def evses(self):
        return self._evses

    # -- reading ----------------------------------------------------------------------------
    def value(self, row, vidx, evse, conn, a=0):
        """Typed value of one attribute (firmware view: WriteOnly values included)."""
        if a == 0 and self._getters:
            for g, fn in self._getters:
                if g == vidx:
                    return fn()
        v = self._values.get(key(vidx, evse, conn, a), _MISSING)
        return default(row, a) if v is _MISSING else v

    def read(self, row, vidx, evse, conn, a=0):
        return check.text(self.value(row, vidx, evse, conn, a))

    def limits(self, row, vidx, evse, conn):
        lim = self._limits.get(key(vidx, evse, conn, 0)) if self._limits else None
        return lim if lim is not None else (row[5], row[6])

    def get(self, component, variable, attr="Actual", instance=None, evse=None, connector=None, var_instance=None):
        f = self._lookup(component, variable, instance, evse, connector, var_instance)
        a = attr_index(attr)
        if not isinstance(f, tuple) or not has_attr(f[1], a):
            return None
        return check.text(self.value(f[1], f[2], evse, connector, a))

    def _typed(self, component, variable, instance, evse, connector, var_instance):
        f = self._lookup(component, variable, instance, evse, connector, var_instance)
        if not isinstance(f, tuple):
            return _MISSING
        return self.value(f[1], f[2], evse, connector, 0)

    def get_int(self, component, variable, default=None, instance=None, evse=None, connector=None, var_instance=None):
        v = self._typed(component, variable, instance, evse, connector, var_instance)
        if v is _MISSING:
            return default
        if isinstance(v, int):
            return int(v)
        try:
            return int(v)
        except (ValueError, TypeError):
            try:
                return int(float(v))
            except (ValueError, TypeError):
                return default

    def get_bool(self, component, variable, default=None, instance=None, evse=None, connector=None, var_instance=None):
        v = self._typed(component, variable, instance, evse, connector, var_instance)
        if v is True or v is False:
            return v
        if isinstance(v, str):
            lv = v.lower()
            if lv == "true":
                return True
            if lv == "false":
                return False
        return default

    def get_list(self, component, variable, default=(), instance=None, evse=None, connector=None, var_instance=None):
        v = self._typed(component, variable, instance, evse, connector, var_instance)
        if v is _MISSING:
            return default
        v = check.text(v)
        if not v:
            return ()
        return tuple(p.strip() for p in v.split(","))

    def value_limit(self, configuration=False):
        """Max length of values: ReportingValueSize (reports, GetVariables, events) or
        ConfigurationValueSize (SetVariables), each capped by ValueSize; 0 = no limit."""
        c = self._vlim
        if c is None:
            c = self._vlim = (self._min_size("ReportingValueSize"), self._min_size("ConfigurationValueSize"))
        return c[1] if configuration else c[0]

    def _min_size(self, var):
        lim = 0
        for v in ("ValueSize", var):
            n = self.get_int("DeviceDataCtrlr", v, 0)
            if n > 0 and (lim == 0 or n < lim):
                lim = n
        return lim

    # -- writing -----------------------------------------------------------------------------
    def hold(self):
        """Defer persisting until release() (one atomic write for a whole SetVariables)."""
        self._hold += 1

    def release(self):
        self._hold -= 1
        if self._hold <= 0:
            self._hold = 0
            if self._dirty:
                self._save()

    def _store(self, f, evse, conn, a, typed, fire=True):
        blk, row, vidx = f
        k = key(vidx, evse, conn, a)
        vals = self._values
        old = vals.get(k, _MISSING)
        # The first write after boot counts as a change even if it equals the default: the
        # previous state is unknown, and Delta monitors must report it (TC_B_02_CS step 17).
        if old is not _MISSING and old == typed and type(old) is type(typed):
            return False
        vals[k] = typed
        if blk[0] == "DeviceDataCtrlr":
            self._vlim = None
        if "P" in row[2]:
            self._save()
        if fire:
            self._fire(blk, row, vidx, evse, conn, a, None if old is _MISSING else old, typed)
        return True

    def _fire(self, blk, row, vidx, evse, conn, a, old, typed):
        if a != 0:
            return
        if self._watch:
            txt = None  # made only for a watcher of this variable: meter values change often
            for w, cb in self._watch:
                if w == vidx:
                    if txt is None:
                        txt = check.text(typed)
                    try:
                        cb(blk[0], row[0], txt, evse, conn)
                    except Exception as e:
                        self.log.error("watcher of %s.%s failed: %r" % (blk[0], row[0], e))
        if self.monitor is not None:
            try:
                self.monitor(key(vidx, evse, conn, 0), row, old, typed)
            except Exception as e:
                self.log.error("monitor of %s.%s failed: %r" % (blk[0], row[0], e))

    def set_internal(self, component, variable, value, instance=None, evse=None, connector=None, var_instance=None, attr="Actual", force=False):
        """Firmware-side update: bypasses mutability and limits (not the dataType), persists if
        persistent, fires watchers and monitors when the value changed (or force=True)."""
        f = self._need(component, variable, instance, evse, connector, var_instance)
        a = attr_index(attr)
        if not has_attr(f[1], a):
            raise DeviceModelError("%s.%s: no %s attribute" % (component, variable, attr))
        typed, err = check.parse(f[1], value, None, None, False)
        if err is not None:
            raise DeviceModelError("%s.%s: invalid value %r" % (component, variable, value))
        if not self._store(f, evse, connector, a, typed) and force:
            self._fire(f[0], f[1], f[2], evse, connector, a, typed, typed)

    def handle(self, component, variable, evse=None, connector=None, instance=None, var_instance=None):
        """A variable instance resolved once, for put(): (blk, row, vidx, key), or None if the
        model has no such variable (e.g. a board whose table lacks ControlMetering)."""
        f = self._lookup(component, variable, instance, evse, connector, var_instance)
        if not isinstance(f, tuple):
            return None
        return (f[0], f[1], f[2], key(f[2], evse, connector, 0))

    def put(self, h, value, evse=None, connector=None):
        """Firmware fast path for measured numbers (int or float, stored as is: no string per
        sample). Fires watchers and monitors only on a change. Returns True if it changed."""
        k = h[3]
        vals = self._values
        old = vals.get(k, _MISSING)
        if old is not _MISSING and old == value:
            return False
        vals[k] = value
        self._fire(h[0], h[1], h[2], evse, connector, 0, None if old is _MISSING else old, value)
        return True

    def set_limits(self, component, variable, min_limit, max_limit, instance=None, evse=None, connector=None, var_instance=None):
        """Per-instance limits (e.g. EVSE.Power maxLimit from the hardware)."""
        f = self._need(component, variable, instance, evse, connector, var_instance)
        self._limits[key(f[2], evse, connector, 0)] = (min_limit, max_limit)

    def cap_max_limit(self, variable, max_limit):
        """Lower the maxLimit of every definition named `variable` (each component and instance of
        the station-wide controllers) to max_limit where it is higher: a bound the hardware sets
        (e.g. BytesPerMessage and the board's receive buffer)."""
        for blk, row, vidx in self.rows():
            if row[0] == variable:
                k = key(vidx, None, None, 0)
                mn, mx = self._limits.get(k) or (row[5], row[6])
                if mx is None or mx > max_limit:
                    self._limits[k] = (mn, max_limit)

    def set_variable(self, data):
        """One SetVariableData (B05) -> (attributeStatus, attributeStatusInfo or None)."""
        comp = data["component"]
        var = data["variable"]
        a = attr_index(data.get("attributeType", "Actual"))
        ev, cn = evse_of(comp)
        f = self.find(comp["name"], comp.get("instance"), ev, cn, var["name"], var.get("instance"))
        if f == 0:
            return "UnknownComponent", None  # B05.FR.04
        if f == 1:
            return "UnknownVariable", None  # B05.FR.05
        row = f[1]
        if not has_attr(row, a):
            return "NotSupportedAttributeType", None  # B05.FR.06
        if row[2][:2] == "RO":
            return "Rejected", {"reasonCode": "ReadOnly"}  # B05.FR.09, TC_B_39_CS
        value = data["attributeValue"]
        lim = self.value_limit(True)
        if lim and len(value) > lim:
            return "Rejected", {"reasonCode": "TooLargeElement", "additionalInfo": "ConfigurationValueSize"}
        mn, mx = self.limits(row, f[2], ev, cn)
        typed, err = check.parse(row, value, mn, mx, True)
        if err is not None:
            return "Rejected", {"reasonCode": err}  # B05.FR.07, TC_B_11_CS
        for vidx, fn in self._vetoes:
            if vidx == f[2] and a == 0:
                why = fn(typed)
                if why:
                    return "Rejected", {"reasonCode": "InvalidValue", "additionalInfo": why[:500]}
        self._store(f, ev, cn, a, typed)
        if "B" in row[2]:
            return "RebootRequired", None  # stored, effective after reboot (SetVariableStatus RebootRequired)
        return "Accepted", None

    def get_variable(self, data):
        """One GetVariableData (B06) -> (attributeStatus, attributeValue or None, statusInfo or None)."""
        comp = data["component"]
        var = data["variable"]
        a = attr_index(data.get("attributeType", "Actual"))
        ev, cn = evse_of(comp)
        f = self.find(comp["name"], comp.get("instance"), ev, cn, var["name"], var.get("instance"))
        if f == 0:
            return "UnknownComponent", None, None  # B06.FR.06
        if f == 1:
            return "UnknownVariable", None, None  # B06.FR.07
        row = f[1]
        if not has_attr(row, a):
            return "NotSupportedAttributeType", None, None  # B06.FR.08
        if row[2][:2] == "WO":
            return "Rejected", None, {"reasonCode": "WriteOnly"}  # B06.FR.09
        v = self.read(row, f[2], ev, cn, a)  # B06.FR.13: unset attribute -> ""
        lim = self.value_limit()
        if lim and len(v) > lim:
            v = v[:lim]
        return "Accepted", v, None

    def watch(self, component, variable, callback):
        """callback(component, variable, value, evse, connector) after a change of the Actual
        value of any instance of component.variable."""
        n = 0
        for blk, row, vidx in self.rows():
            if blk[0] == component and row[0] == variable:
                self._watch.append((vidx, callback))
                n += 1
        if not n:
            self.log.warn("watch: %s.%s is not in the device model" % (component, variable))

    def veto(self, component, variable, fn):
        """fn(value) -> None to allow a CSMS write of component.variable, or the reason to refuse
        it (SetVariables Rejected, reasonCode InvalidValue): checks beyond dataType and limits."""
        for blk, row, vidx in self.rows():
            if blk[0] == component and row[0] == variable:
                self._vetoes.append((vidx, fn))

    def getter(self, component, variable, fn):
        """Actual value computed on read (fn() -> str), e.g. ClockCtrlr.DateTime."""
        for blk, row, vidx in self.rows():
            if blk[0] == component and row[0] == variable:
                self._getters.append((vidx, fn))

    # -- persistence --------------------------------------------------------------------------
    def _line(self, blk, row, k, typed):
        vidx, e, c, a = unkey(k)
        return json.dumps([blk[0], blk[1] or "", e or 0, c or 0, row[0], row[1] or "", a, check.text(typed)])

    def _save(self):
        if self._hold:
            self._dirty = True
            return
        self._dirty = False
        vals = self._values
        keys = sorted(vals)
        out = []
        j = 0
        n = len(keys)
        for blk, row, vidx in self.rows():
            if j >= n:
                break
            while j < n and (keys[j] >> 11) == vidx:
                k = keys[j]
                j += 1
                if "P" in row[2]:
                    out.append(self._line(blk, row, k, vals[k]))
        keys = None
        self.storage.write(VALUES_FILE, "\n".join(out))
