# SAMD51 board shims (MicroPython samd port). See pins.py for the wiring.
# Everything not overridden here is the standard machine API (flexcharge.hal.mcu.MachinePort).
# Port quirks: UART/SPI ids are SERCOM numbers and the pins must be pads of that
# SERCOM; WDT up to 16 s.
import pins
from flexcharge.hal.mcu import MachinePort, board_api


class Samd(MachinePort):
    NAME = "samd"
    MARCH = "armv7emsp"  # SAMD51 Cortex-M4F; SAMD21 (Cortex-M0+): armv6m
    STORAGE_ROOT = "/data"  # littlefs on the 2 MB QSPI flash, mounted at /
    CONFIG_PATH = "/station.json"
    WDT_MAX_MS = 16384  # WDT clocked at 1.024 kHz, period up to 16384 cycles


# The board module's interface (firmware/main.py, tools, host tests).
paths, make_board = board_api(Samd, pins)
NAME, MARCH, STORAGE_ROOT, CONFIG_PATH = Samd.NAME, Samd.MARCH, Samd.STORAGE_ROOT, Samd.CONFIG_PATH
WDT_MIN_MS, WDT_MAX_MS = Samd.WDT_MIN_MS, Samd.WDT_MAX_MS
