# SAMD51 board shims (MicroPython samd port). See pins.py for the wiring.
# Port quirks: UART/SPI ids are SERCOM numbers and the pins must be pads of that
# SERCOM; WDT up to 16 s.
import machine
from machine import Pin

import pins
from flexcharge.hal.mcu import build
from flexcharge.hal.watchdog import MachineWatchdog
from flexcharge.hal.reset import MachineReset
from flexcharge.hal.clock import RtcClock

NAME = "samd"
MARCH = "armv7emsp"  # SAMD51 Cortex-M4F; SAMD21 (Cortex-M0+): armv6m
STORAGE_ROOT = "/data"  # littlefs on the 2 MB QSPI flash, mounted at /
CONFIG_PATH = "/station.json"
WDT_MIN_MS = 1
WDT_MAX_MS = 16384  # WDT clocked at 1.024 kHz, period up to 16384 cycles

_PULL = {"up": Pin.PULL_UP, "down": Pin.PULL_DOWN, None: None}


class Samd:
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
        return machine.UART(s["id"], baudrate=s["baud"], bits=8, parity=None, stop=1,
                            tx=Pin(s["tx"]), rx=Pin(s["rx"]), timeout=0)

    def spi(self, s):
        return machine.SPI(s["id"], baudrate=1000000, polarity=0, phase=0,
                           sck=Pin(s["sck"]), mosi=Pin(s["mosi"]), miso=Pin(s["miso"]))

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
    return build(Samd(), pins, config, root)
