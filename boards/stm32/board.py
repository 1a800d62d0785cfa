# STM32 board shims (MicroPython stm32 port). See pins.py for the wiring.
# Port quirks: UART/SPI pins are fixed per bus id by the board config (no tx=/sck=
# keywords); machine.PWM is recent on this port, older firmware gets PWM from pyb.Timer.
import machine
from machine import Pin

import pins
from flexcharge.hal.mcu import build
from flexcharge.hal.watchdog import MachineWatchdog
from flexcharge.hal.reset import MachineReset
from flexcharge.hal.clock import RtcClock

NAME = "stm32"
MARCH = "armv7emsp"  # Cortex-M4F (F4); F7/H7 with double FPU: armv7emdp
STORAGE_ROOT = "/flash/data"  # FAT in internal flash (small on F4: put logs on /sd)
CONFIG_PATH = "/flash/station.json"
# IWDG: LSI 32 kHz, prescaler up to 256, 12-bit reload -> 32768 ms max.
WDT_MIN_MS = 1
WDT_MAX_MS = 32768

_PULL = {"up": Pin.PULL_UP, "down": Pin.PULL_DOWN, None: None}


class _TimerPwm:
    """machine.PWM-like front for a pyb.Timer PWM channel."""

    def __init__(self, pid, freq):
        import pyb

        tim, ch = pins.PWM_TIMER[pid]
        self._t = pyb.Timer(tim, freq=freq)
        self._c = self._t.channel(ch, pyb.Timer.PWM, pin=pyb.Pin(pid), pulse_width_percent=100)
        self._d = 65535

    def freq(self, f=None):
        if f is None:
            return self._t.freq()
        self._t.freq(f)

    def duty_u16(self, d=None):
        if d is None:
            return self._d
        self._d = d
        self._c.pulse_width_percent(d * 100 / 65535)


class Stm32:
    name = NAME
    storage_root = STORAGE_ROOT

    def pin_out(self, pid, value=0):
        return Pin(pid, Pin.OUT, value=value)

    def pin_in(self, pid, pull=None):
        return Pin(pid, Pin.IN, _PULL[pull])

    def pwm(self, pid, freq):
        if hasattr(machine, "PWM"):
            return machine.PWM(Pin(pid), freq=freq, duty_u16=65535)
        return _TimerPwm(pid, freq)

    def adc(self, pid):
        a = machine.ADC(Pin(pid))

        def volts():
            return a.read_u16() * 3.3 / 65535

        return volts

    def uart(self, s):
        return machine.UART(s["id"], baudrate=s["baud"], bits=8, parity=None, stop=1, timeout=0)

    def spi(self, s):
        return machine.SPI(s["id"], baudrate=1000000, polarity=0, phase=0)

    def watchdog(self):
        return MachineWatchdog(machine.WDT, WDT_MIN_MS, WDT_MAX_MS)

    def reset(self):
        return MachineReset(machine)

    def clock(self):
        return RtcClock(machine.RTC())


def paths():
    """(station config path, state directory) on this board's filesystem (firmware/main.py)."""
    return CONFIG_PATH, STORAGE_ROOT


def make_board(config, root=None):
    """hal.Board for the station config; `root` overrides the state directory."""
    return build(Stm32(), pins, config, root)
