# ESP32 board shims (MicroPython esp32 port). See pins.py for the reference wiring.
# Everything not overridden here is the standard machine API (flexcharge.hal.mcu.MachinePort).
import machine
from machine import Pin

import pins
from flexcharge.hal.mcu import MachinePort, board_api


class Esp32(MachinePort):
    NAME = "esp32"
    MARCH = "xtensawin"
    STORAGE_ROOT = "/data"  # littlefs2 on the flash "vfs" partition, mounted at /
    CONFIG_PATH = "/station.json"
    # Task watchdog: older ESP-IDF rounds the timeout to whole seconds, so never below 1 s.
    WDT_MIN_MS = 1000
    WDT_MAX_MS = 3600000
    # pwm(): the CP PWM is an LEDC channel.

    def pin_in(self, pid, pull=None):
        if pid >= 34:
            pull = None  # GPIO34-39: no internal pulls, the board has external ones
        return MachinePort.pin_in(self, pid, pull)

    def adc(self, pid):
        a = machine.ADC(Pin(pid), atten=machine.ADC.ATTN_11DB)

        # read_uv() applies the eFuse calibration; read_u16() is raw and bends above ~2.5 V.
        def volts():
            return a.read_uv() / 1000000

        return volts


# The board module's interface (firmware/main.py, tools, host tests).
paths, make_board = board_api(Esp32, pins)
NAME, MARCH, STORAGE_ROOT, CONFIG_PATH = Esp32.NAME, Esp32.MARCH, Esp32.STORAGE_ROOT, Esp32.CONFIG_PATH
WDT_MIN_MS, WDT_MAX_MS = Esp32.WDT_MIN_MS, Esp32.WDT_MAX_MS
