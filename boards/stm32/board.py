# STM32 board shims (MicroPython stm32 port). See pins.py for the wiring.
# Everything not overridden here is the standard machine API (flexcharge.hal.mcu.MachinePort).
# Port quirks: UART/SPI pins are fixed per bus id by the board config (no tx=/sck=
# keywords); machine.PWM is recent on this port, older firmware gets PWM from pyb.Timer.
import machine

import pins
from flexcharge.hal.mcu import MachinePort, board_api


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


class Stm32(MachinePort):
    NAME = "stm32"
    MARCH = "armv7emsp"  # Cortex-M4F (F4); F7/H7 with double FPU: armv7emdp
    STORAGE_ROOT = "/flash/data"  # FAT in internal flash (small on F4: put logs on /sd)
    CONFIG_PATH = "/flash/station.json"
    # IWDG: LSI 32 kHz, prescaler up to 256, 12-bit reload -> 32768 ms max.
    WDT_MAX_MS = 32768
    BUS_PINS = False  # UART/SPI pins fixed per bus id by the board config

    def pwm(self, pid, freq):
        if hasattr(machine, "PWM"):
            return MachinePort.pwm(self, pid, freq)
        return _TimerPwm(pid, freq)  # older firmware without machine.PWM


# The board module's interface (firmware/main.py, tools, host tests).
paths, make_board = board_api(Stm32, pins)
NAME, MARCH, STORAGE_ROOT, CONFIG_PATH = Stm32.NAME, Stm32.MARCH, Stm32.STORAGE_ROOT, Stm32.CONFIG_PATH
WDT_MIN_MS, WDT_MAX_MS = Stm32.WDT_MIN_MS, Stm32.WDT_MAX_MS
