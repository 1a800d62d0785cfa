# ESP32 board shims (MicroPython esp32 port). See pins.py for the reference wiring.
import machine
from machine import Pin

import pins
from flexcharge.hal.mcu import build
from flexcharge.hal.watchdog import MachineWatchdog
from flexcharge.hal.reset import MachineReset
from flexcharge.hal.clock import RtcClock

NAME = "esp32"
MARCH = "xtensawin"
STORAGE_ROOT = "/data"  # littlefs2 on the flash "vfs" partition, mounted at /
CONFIG_PATH = "/station.json"
# Task watchdog: older ESP-IDF rounds the timeout to whole seconds, so never below 1 s.
WDT_MIN_MS = 1000
WDT_MAX_MS = 3600000

_PULL = {"up": Pin.PULL_UP, "down": Pin.PULL_DOWN, None: None}


class Esp32:
    name = NAME
    storage_root = STORAGE_ROOT

    def pin_out(self, pid, value=0):
        return Pin(pid, Pin.OUT, value=value)

    def pin_in(self, pid, pull=None):
        if pid >= 34:
            pull = None  # GPIO34-39: no internal pulls, the board has external ones
        return Pin(pid, Pin.IN, _PULL[pull])

    def pwm(self, pid, freq):
        # LEDC; starts at 100 % (steady +12 V, state A/B1).
        return machine.PWM(Pin(pid), freq=freq, duty_u16=65535)

    def adc(self, pid):
        a = machine.ADC(Pin(pid), atten=machine.ADC.ATTN_11DB)

        # read_uv() applies the eFuse calibration; read_u16() is raw and bends above ~2.5 V.
        def volts():
            return a.read_uv() / 1000000

        return volts

    def uart(self, s):
        return machine.UART(s["id"], baudrate=s["baud"], bits=8, parity=None, stop=1,
                            tx=s["tx"], rx=s["rx"], timeout=0)

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
    return build(Esp32(), pins, config, root)
