# Minimal fake of the stm32 `pyb` module: Timer PWM channels, for the STM32 board's
# fallback on firmware that predates machine.PWM on that port.
import machine


class Pin:
    def __init__(self, id, *a, **kw):
        self.id = machine._check_pin(id)


class _Channel:
    def __init__(self, tim, ch, pin):
        self.tim = tim
        self.ch = ch
        self.pin = pin.id
        self._pct = 0.0
        machine.world.pwms[self.pin] = self

    def pulse_width_percent(self, p=None):
        if p is None:
            return self._pct
        if not 0 <= p <= 100:
            raise ValueError("percent out of range")
        self._pct = p

    # Readback in machine.PWM terms so tests treat both paths alike.
    def freq(self):
        return self.tim.freq()

    def duty_u16(self):
        return int(self._pct * 65535 / 100 + 0.5)


class Timer:
    PWM = 0

    def __init__(self, id, *, freq=None):
        self.id = id
        self._freq = freq

    def freq(self, f=None):
        if f is None:
            return self._freq
        self._freq = f

    def channel(self, ch, mode=None, *, pin=None, pulse_width_percent=0):
        c = _Channel(self, ch, pin)
        c.pulse_width_percent(pulse_width_percent)
        return c
