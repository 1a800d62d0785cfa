# Renesas RA board shims (MicroPython renesas-ra port). See pins.py for the wiring.
# Everything not overridden here is the standard machine API (flexcharge.hal.mcu.MachinePort).
# Port quirks: no machine.WDT (the WDT peripheral is programmed in register-start mode
# through machine.mem8/mem16), UART/SPI pins fixed per id, filesystem at /flash.
import machine

import pins
from flexcharge.hal import Watchdog
from flexcharge.hal.mcu import MachinePort, board_api

# RA6M5 WDT (User's Manual 26): refresh = write 0x00 then 0xFF to WDTRR; in register
# start mode (OFS0.WDTSTRT = 1, the erased default) WDTCR/WDTRCR are written once
# before the first refresh, which starts the count.
_WDT = 0x40044200
_WDTRR = _WDT + 0x00
_WDTCR = _WDT + 0x02
_WDTRCR = _WDT + 0x06
_CKS_8192 = 0x8  # WDT clock = PCLKB / 8192
_TOPS = (1024, 4096, 8192, 16384)  # cycles per TOPS setting 0..3
_NO_WINDOW = (3 << 12) | (3 << 8)  # refresh allowed anywhere in the period
_RESET_ON_UNDERFLOW = 0x80


def wdt_periods_ms(pclkb=None):
    hz = pclkb or pins.PCLKB_HZ
    return tuple(c * 8192 * 1000 // hz for c in _TOPS)


class RaWatchdog(Watchdog):
    def __init__(self, mem8, mem16):
        self._m8 = mem8
        self._m16 = mem16
        self._periods = wdt_periods_ms()
        self.min_ms = self._periods[0]
        self.max_ms = self._periods[-1]
        self.timeout_ms = None

    def start(self, timeout_ms):
        if self.timeout_ms is not None:
            self.feed()
            return self.timeout_ms
        # Longest period not above the request (never fire later than asked).
        tops = 0
        for i in range(len(self._periods)):
            if self._periods[i] <= timeout_ms:
                tops = i
        self._m16[_WDTCR] = _NO_WINDOW | (_CKS_8192 << 4) | tops
        self._m8[_WDTRCR] = _RESET_ON_UNDERFLOW
        self.timeout_ms = self._periods[tops]
        self.feed()  # the first refresh starts the counter
        return self.timeout_ms

    def started(self):
        return self.timeout_ms is not None

    def feed(self):
        self._m8[_WDTRR] = 0x00
        self._m8[_WDTRR] = 0xFF


class RenesasRa(MachinePort):
    NAME = "renesas_ra"
    MARCH = "armv7emsp"  # Cortex-M33 with single-precision FPU: M4F-compatible native code
    STORAGE_ROOT = "/flash/data"  # FAT in internal flash, mounted at /flash
    CONFIG_PATH = "/flash/station.json"
    BUS_PINS = False  # UART/SPI pins fixed per bus id by the board config

    def watchdog(self):
        # WDT limits follow PCLKB (wdt_periods_ms), not the WDT_MIN_MS/WDT_MAX_MS constants.
        return RaWatchdog(machine.mem8, machine.mem16)


# The board module's interface (firmware/main.py, tools, host tests).
paths, make_board = board_api(RenesasRa, pins)
NAME, MARCH = RenesasRa.NAME, RenesasRa.MARCH
STORAGE_ROOT, CONFIG_PATH = RenesasRa.STORAGE_ROOT, RenesasRa.CONFIG_PATH
