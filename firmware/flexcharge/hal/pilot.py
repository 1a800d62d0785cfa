# Generic IEC 61851-1 control pilot on any MCU: a PWM output driving the +-12 V
# pilot generator and an ADC reading the CP line through the board's divider.
#
# The board supplies:
#   pwm          object with duty_u16(v)/duty_u16() and freq(hz)/freq() (machine.PWM)
#   read_volts   callable -> volts at the ADC pin now (the board handles resolution,
#                attenuation and calibration quirks)
#   gain, offset CP volts = adc_volts * gain + offset (the divider/level shifter)
#   samples      ADC reads per measurement, spacing_us apart: together they must span
#                more than one PWM period (1 ms) so both plateaus are seen; a 10 %
#                duty high phase lasts only 100 us
#   limit        optional callable -> max amps now (cable PP rating, EVSE rating)
from flexcharge.hal import ControlPilot
from flexcharge.hal import iec61851 as cp

try:
    from time import sleep_us
except ImportError:  # CPython: the fake ADC has no time axis to spread samples over
    sleep_us = None


class PwmPilot(ControlPilot):
    def __init__(self, pwm, read_volts, gain, offset, samples=48, limit=None, spacing_us=0):
        self._pwm = pwm
        self._read = read_volts
        self._gain = gain
        self._offset = offset
        self._samples = samples
        self._spacing = spacing_us if sleep_us is not None else 0
        self.limit = limit
        self._state = None
        self._pos = None
        self._neg = None
        self._offered = 0
        self._duty = None
        pwm.freq(cp.PWM_FREQ)
        self._set(cp.STEADY)

    def _set(self, percent):
        self._duty = percent
        self._pwm.duty_u16(cp.duty_u16(percent))

    def offer(self, amps):
        """Offer `amps` to the EV (clamped to limit()); below 6 A: steady +12 V, no offer."""
        if self.limit is not None and amps:
            cap = self.limit()
            if cap is not None and amps > cap:
                amps = cap
        duty = cp.duty_for_current(amps)
        if duty is None:
            self._offered = 0
            self._set(cp.STEADY)
        else:
            self._offered = min(amps, cp.MAX_CURRENT)
            self._set(duty)

    def offered(self):
        return self._offered

    def disable(self):
        """State F: constant -12 V (EVSE not available)."""
        self._offered = 0
        self._set(cp.OFF)

    def duty(self):
        return self._duty

    def measure(self):
        """(positive plateau, negative plateau) in CP volts; negative is None at 100 % duty."""
        r = self._read
        sp = self._spacing
        hi = lo = r()
        for _ in range(self._samples - 1):
            if sp:
                sleep_us(sp)
            v = r()
            if v > hi:
                hi = v
            elif v < lo:
                lo = v
        g = self._gain
        o = self._offset
        self._pos = hi * g + o
        neg = lo * g + o
        # Without PWM there is no low phase; a low reading then is noise, not a plateau.
        self._neg = neg if 0 < self._duty < 100 else None
        return self._pos, self._neg

    def state(self):
        pos, _ = self.measure()
        self._state = cp.state_for_voltage(pos, self._state)
        return self._state

    def last_state(self):
        return self._state

    def diode_ok(self):
        """False when the last measurement saw an EV (B/C/D) without the diode clamp."""
        if self._state not in ("B", "C", "D"):
            return True
        return cp.diode_ok(self._neg)
