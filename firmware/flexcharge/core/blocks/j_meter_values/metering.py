# J01-J03 meter values: turn a hal.Meter reading into OCPP MeterValueType dicts.
#
# Measurands we can sample (SampledDataCtrlr/AlignedDataCtrlr valuesList):
#   Energy.Active.Import.Register  Wh, the register (no phase)
#   Power.Active.Import            W, total (no phase)
#   Current.Import                 A, one value per phase L1..L3 the EVSE uses
#   Current.Offered                A, what the control pilot offers (no phase)
#   Power.Offered                  W, that offer times the phase voltages (no phase)
#   Voltage                        V, per phase L1-N..L3-N
# The meter sits at the EVSE outlet: location "Outlet" (the schema default) throughout.
from flexcharge.compat import const, sleep_ms
from flexcharge.core.router import Block
from flexcharge.hal import energy_mwh

BEGIN = "Transaction.Begin"
PERIODIC = "Sample.Periodic"
CLOCK = "Sample.Clock"
END = "Transaction.End"
TRIGGER = "Trigger"
OTHER = "Other"

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
CURRENT = "Current.Import"
OFFERED = "Current.Offered"
POWER_OFFERED = "Power.Offered"
VOLTAGE = "Voltage"

_PHASES = ("L1", "L2", "L3")
_PHASES_N = ("L1-N", "L2-N", "L3-N")
_MAX_INTERVAL = const(86400)


def _sv(value, context, measurand, unit, phase=None):
    # location is left at its default (Outlet: where our meter sits) and unitOfMeasure at
    # its default for Wh: every queued event is persisted, and defaults cost flash bytes.
    # context and measurand stay explicit (Part 6 validates them; measurand may be omitted
    # only for the energy register, we keep it for clarity).
    d = {"value": value, "context": context, "measurand": measurand}
    if unit != "Wh":
        d["unitOfMeasure"] = {"unit": unit}
    if phase is not None:
        d["phase"] = phase
    return d


def whole_wh(mwh):
    """mWh register -> whole Wh, rounded: an int, exact on every port."""
    return (mwh + 500) // 1000


def wh(mwh):
    """mWh register -> the Wh value reported: 0.1 Wh resolution up to 1 MWh (7 digits, exact in a
    single-precision float), whole Wh above."""
    if mwh >= 1000000000:
        return whole_wh(mwh)
    return ((mwh + 50) // 100) / 10


def sampled_values(reading, measurands, context, offered=0):
    """sampledValue list for `measurands` from a hal.Meter reading dict."""
    out = []
    if reading is None:
        return out
    for m in measurands:
        if m == ENERGY:
            e = energy_mwh(reading)
            out.append(_sv(wh(e) if e is not None else 0, context, m, "Wh"))
        elif m == POWER:
            out.append(_sv(round(reading.get("power_w", 0), 1), context, m, "W"))
        elif m == CURRENT:
            cur = reading.get("current_a") or ()
            for i in range(min(len(cur), 3)):
                out.append(_sv(round(cur[i], 2), context, m, "A", _PHASES[i]))
        elif m == OFFERED:
            out.append(_sv(round(offered or 0, 1), context, m, "A"))
        elif m == POWER_OFFERED:
            v = reading.get("voltage_v") or ()
            tot = 0.0
            for x in v:
                tot += x
            out.append(_sv(round((offered or 0) * tot, 1), context, m, "W"))
        elif m == VOLTAGE:
            v = reading.get("voltage_v") or ()
            for i in range(min(len(v), 3)):
                out.append(_sv(round(v[i], 1), context, m, "V", _PHASES_N[i]))
        # other measurands: not measured by this hardware, silently not reported
    return out


def meter_value(timestamp, reading, measurands, context, offered=0):
    """One MeterValueType, or None when there is nothing to report (empty list, no meter)."""
    sv = sampled_values(reading, measurands, context, offered)
    if not sv:
        return None
    return {"timestamp": timestamp, "sampledValue": sv}


def next_aligned(now, interval):
    """Next clock-aligned instant after `now` (J01: intervals count from midnight UTC)."""
    if interval <= 0:
        return None
    if interval > _MAX_INTERVAL:
        interval = _MAX_INTERVAL
    return (int(now) // interval + 1) * interval


def next_after(prev, now, interval):
    """Next sample time of a periodic interval; skips missed slots rather than bursting."""
    if interval <= 0:
        return None
    t = prev + interval
    if t <= now:
        t = now + interval
    return t


# -- measured values into the device model (N07 monitors on Power, Current, Voltage, Energy) --
#
# Every FEED_MS the meters are read and EVSE.Power, ChargingStation.Power (the sum) and, where
# the board's table has them, ControlMetering.Power/Energy/ACCurrent/ACVoltage are updated, so
# threshold and delta monitors on them see the real values (N07.FR.16-18). Bounded rate, and no
# heap churn: handles are resolved once, values are kept as numbers (no string per sample), a raw
# reading equal to the last one costs nothing, and nothing new is built per sample.
FEED_MS = const(1000)

# slot fields
_EVSE = 0
_METER = 1
_HANDLES = 2  # (EVSE.Power, ControlMetering.Power, .Energy, .ACCurrent, .ACVoltage), None where absent
_RAW = 3  # last raw power, energy, current tuple, voltage tuple
_WATTS = 4  # last EVSE power, int W


def _whole(x):
    # W and Wh to the unit: small ints, no heap object per value on any port
    return x if isinstance(x, int) else int(x + 0.5)


def _tenth(x):
    return x if isinstance(x, int) else int(x * 10 + 0.5) / 10


def _mean(t):
    n = len(t) if t else 0
    if n == 0:
        return None
    if n == 1:
        return t[0]
    s = 0
    for v in t:
        s += v
    return s / n


def _same(a, b):
    # elementwise, so a new tuple with equal readings counts as unchanged
    if a is b:
        return True
    if a is None or b is None or len(a) != len(b):
        return False
    for i in range(len(a)):
        if a[i] != b[i]:
            return False
    return True


class MeterFeed(Block):
    """The J block's part of the device model: meter readings -> measured variables.
    No handlers; start() runs the sampler."""

    def __init__(self, station):
        Block.__init__(self, station)
        self._slots = None
        self._total = None
        self._total_w = None

    def _build(self):
        st = self.station
        dm = st.dm
        meters = getattr(st.board, "meters", None) or {}
        slots = []
        for e in st.evses:
            m = meters.get(e.id)
            if m is None:
                continue
            i = e.id
            hs = (dm.handle("EVSE", "Power", i), dm.handle("ControlMetering", "Power", i),
                  dm.handle("ControlMetering", "Energy", i), dm.handle("ControlMetering", "ACCurrent", i),
                  dm.handle("ControlMetering", "ACVoltage", i))
            slots.append([i, m, hs, [None, None, None, None], 0])
        self._total = dm.handle("ChargingStation", "Power")
        self._slots = slots

    def start(self):
        self._build()
        if self._slots:
            self.station.spawn(self.run())

    async def run(self):
        while True:
            try:
                self.sample()
            except Exception as e:  # a meter fault must not end the feed
                self.station.log.error("meter feed: %r" % (e,))
            await sleep_ms(FEED_MS)

    def sample(self):
        if self._slots is None:
            self._build()
        dm = self.station.dm
        total = 0
        seen = False
        for s in self._slots:
            try:
                r = s[_METER].read()
            except Exception:
                r = None
            if not r:
                continue
            seen = True
            raw = s[_RAW]
            hs = s[_HANDLES]
            i = s[_EVSE]
            p = r.get("power_w")
            if p is not None and p != raw[0]:
                raw[0] = p
                w = _whole(p)
                s[_WATTS] = w
                if hs[0] is not None:
                    dm.put(hs[0], w, i)
                if hs[1] is not None:
                    dm.put(hs[1], w, i)
            total += s[_WATTS]
            x = energy_mwh(r)
            if x is not None and x != raw[1] and hs[2] is not None:
                raw[1] = x
                dm.put(hs[2], whole_wh(x), i)
            x = r.get("current_a")
            if hs[3] is not None and not _same(x, raw[2]):
                raw[2] = x
                m = _mean(x)
                if m is not None:
                    dm.put(hs[3], _tenth(m), i)
            x = r.get("voltage_v")
            if hs[4] is not None and not _same(x, raw[3]):
                raw[3] = x
                m = _mean(x)
                if m is not None:
                    dm.put(hs[4], _tenth(m), i)
        if seen and self._total is not None and total != self._total_w:
            self._total_w = total
            dm.put(self._total, total)
