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
from flexcharge.compat import const

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


def sampled_values(reading, measurands, context, offered=0):
    """sampledValue list for `measurands` from a hal.Meter reading dict."""
    out = []
    if reading is None:
        return out
    for m in measurands:
        if m == ENERGY:
            out.append(_sv(round(reading.get("energy_wh", 0), 1), context, m, "Wh"))
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
