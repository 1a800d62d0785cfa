# i.MX RT board shims (MicroPython mimxrt port). See pins.py for the wiring.
# Everything not overridden here is the standard machine API (flexcharge.hal.mcu.MachinePort).
# Port quirks: UART/SPI pins fixed per id; WDT 0.5..128 s in 0.5 s steps.
import pins
from flexcharge.hal.mcu import MachinePort, board_api


class Mimxrt(MachinePort):
    NAME = "mimxrt"
    MARCH = "armv7emdp"  # Cortex-M7 with double-precision FPU (RT1060)
    STORAGE_ROOT = "/data"  # littlefs in the QSPI flash above the firmware, mounted at /
    CONFIG_PATH = "/station.json"
    WDT_MIN_MS = 500
    WDT_MAX_MS = 128000
    WDT_STEP_MS = 500  # WDOG1 WT field counts half seconds
    BUS_PINS = False  # UART/SPI pins fixed per bus id


# The board module's interface (firmware/main.py, tools, host tests).
paths, make_board = board_api(Mimxrt, pins)
NAME, MARCH, STORAGE_ROOT, CONFIG_PATH = Mimxrt.NAME, Mimxrt.MARCH, Mimxrt.STORAGE_ROOT, Mimxrt.CONFIG_PATH
WDT_MIN_MS, WDT_MAX_MS = Mimxrt.WDT_MIN_MS, Mimxrt.WDT_MAX_MS
