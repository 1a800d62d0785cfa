# IEC 61851-1 control pilot and proximity pilot arithmetic (Annex A, Annex B).
# Pure functions: no hardware, no state. Boards feed them measured volts/ohms.

# Current offer limits of the PWM signal (Table A.8).
MIN_CURRENT = 6
MAX_CURRENT = 80
PWM_FREQ = 1000  # Hz, +-0.5 % (Table A.6)

STEADY = 100.0  # duty: +12 V without PWM (state B1/C1, "no charging offer")
OFF = 0.0  # duty: -12 V constant (state F, EVSE not available)

# Positive CP plateau per state (Table A.3): A 12 V, B 9 V, C 6 V, D 3 V, E 0 V, F -12 V.
# A reading belongs to the state whose band it falls in; the bands meet halfway
# between nominal levels. E covers everything between D and F (short to PE, no supply).
_BOUNDS = ((10.5, "A"), (7.5, "B"), (4.5, "C"), (1.5, "D"), (-10.0, "E"))
HYSTERESIS = 0.4  # V: a reading must leave the old band by this much to change state
NEG_MIN = -11.0  # V: negative plateau must be <= this with an EV connected (diode present)


def duty_for_current(amps):
    """Duty cycle in per cent that offers `amps` (Table A.8); None below 6 A (no offer).

    6..51 A: duty = A / 0.6; 51..80 A: duty = A / 2.5 + 64; above 80 A clamps to 80 A.
    """
    if amps is None or amps < MIN_CURRENT:
        return None
    if amps > MAX_CURRENT:
        amps = MAX_CURRENT
    if amps <= 51:
        return amps / 0.6
    return amps / 2.5 + 64


def current_for_duty(duty):
    """What an EV reads from a duty cycle (Table A.8, vehicle side).

    Returns amps, 0 when the duty allows no charging, None for 3..7 % (digital communication).
    """
    if duty < 3:
        return 0
    if duty <= 7:
        return None
    if duty < 8:
        return 0
    if duty < 10:
        return 6
    if duty <= 85:
        return duty * 0.6
    if duty <= 96:
        return (duty - 64) * 2.5
    if duty <= 97:
        return 80
    return 0


def duty_u16(percent):
    """Per cent -> machine.PWM.duty_u16 value."""
    if percent <= 0:
        return 0
    if percent >= 100:
        return 65535
    return int(percent * 65535 / 100 + 0.5)


def percent_u16(value):
    return value * 100 / 65535


def classify(volts):
    for bound, state in _BOUNDS:
        if volts >= bound:
            return state
    return "F"


def state_for_voltage(volts, prev=None, hyst=HYSTERESIS):
    """Pilot state A..F from the positive CP plateau, keeping `prev` while the
    reading is within `hyst` of the boundary it would cross (no flicker on noise)."""
    state = classify(volts)
    if prev is None or state == prev:
        return state
    if classify(volts - hyst) == prev or classify(volts + hyst) == prev:
        return prev
    return state


def diode_ok(neg_volts):
    """The EV's diode clamps the negative half-wave: with an EV connected and PWM running
    the negative plateau stays at -12 V. A missing/shorted diode pulls it towards the
    positive level (Table A.3 note, diode check)."""
    return neg_volts is None or neg_volts <= NEG_MIN


# Proximity pilot: resistor between PP and PE in the cable plug codes its current
# capacity (IEC 61851-1 Table B.2 / IEC 62196-2). (low ohm, high ohm, amps)
_PP_RANGES = ((1100, 2460, 13), (400, 936, 20), (164, 308, 32), (80, 140, 63))
PP_OPEN = 4500  # ohm: above this no cable is plugged


def pp_ohms(volts, supply, pullup):
    """PP resistance from the voltage of a pull-up divider (pullup ohms to `supply` volts).
    None when open (no cable)."""
    if volts >= supply * 0.97:
        return None
    if volts <= 0:
        return 0
    return pullup * volts / (supply - volts)


def cable_current(ohms):
    """Cable capacity in A from the PP resistance: None = no cable, 0 = invalid coding."""
    if ohms is None or ohms > PP_OPEN:
        return None
    for lo, hi, amps in _PP_RANGES:
        if lo <= ohms <= hi:
            return amps
    return 0
