# i.MX RT board shims (MicroPython mimxrt port). See pins.py for the wiring.
# Port quirks: UART/SPI pins fixed per id; WDT 0.5..128 s in 0.5 s steps.
import machine
from machine import Pin

import pins
from flexcharge.hal.mcu import build
from flexcharge.hal.watchdog import MachineWatchdog
from flexcharge.hal.reset import MachineReset
from flexcharge.hal.clock import RtcClock

NAME = "mimxrt"
MARCH = "armv7emdp"  # Cortex-M7 with double-precision FPU (RT1060)
STORAGE_ROOT = "/data"  # littlefs in the QSPI flash above the firmware, mounted at /
CONFIG_PATH = "/station.json"
WDT_MIN_MS = 500
WDT_MAX_MS = 128000
WDT_STEP_MS = 500  # WDOG1 WT field counts half seconds

_PULL = {"up": Pin.PULL_UP, "down": Pin.PULL_DOWN, None: None}


class Mimxrt:
    name = NAME
    storage_root = STORAGE_ROOT

    def pin_out(self, pid, value=0):
        return Pin(pid, Pin.OUT, value=value)

    def pin_in(self, pid, pull=None):
        return Pin(pid, Pin.IN, _PULL[pull])

    def pwm(self, pid, freq):
        return machine.PWM(Pin(pid), freq=freq, duty_u16=65535)

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
        return MachineWatchdog(machine.WDT, WDT_MIN_MS, WDT_MAX_MS, WDT_STEP_MS)

    def reset(self):
        return MachineReset(machine)

    def clock(self):
        return RtcClock(machine.RTC())


def paths():
    """(station config path, state directory) on this board's filesystem (firmware/main.py)."""
    return CONFIG_PATH, STORAGE_ROOT


def make_board(config, root=None):
    """hal.Board for the station config; `root` overrides the state directory."""
    return build(Mimxrt(), pins, config, root)
