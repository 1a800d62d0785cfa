# PSoC 6 board shims (MicroPython psoc6 port). See pins.py for the wiring.
# Everything not overridden here is the standard machine API (flexcharge.hal.mcu.MachinePort).
# Port quirks: pins by "P<port>_<pin>" name, one 12-bit ADC block on P10, filesystem on
# the external QSPI flash at /flash, WDT limited by cyhal to ~6 s.
import pins
from flexcharge.hal.mcu import MachinePort, board_api


class Psoc6(MachinePort):
    NAME = "psoc6"
    MARCH = "armv7emsp"  # Cortex-M4F (the application core)
    STORAGE_ROOT = "/flash/data"  # littlefs2 on the QSPI flash, mounted at /flash
    CONFIG_PATH = "/flash/station.json"
    WDT_MAX_MS = 6000  # cyhal_wdt_get_max_timeout_ms() on PSoC 6


# The board module's interface (firmware/main.py, tools, host tests).
paths, make_board = board_api(Psoc6, pins)
NAME, MARCH, STORAGE_ROOT, CONFIG_PATH = Psoc6.NAME, Psoc6.MARCH, Psoc6.STORAGE_ROOT, Psoc6.CONFIG_PATH
WDT_MIN_MS, WDT_MAX_MS = Psoc6.WDT_MIN_MS, Psoc6.WDT_MAX_MS
