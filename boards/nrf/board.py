# nRF52840 board shims (MicroPython nrf port). See pins.py for the wiring.
# Everything not overridden here is the standard machine API (flexcharge.hal.mcu.MachinePort).
# Port quirks: no machine.WDT (the WDT peripheral is programmed through machine.mem32),
# no machine.RTC (wall clock counted from ticks after the CSMS sets it), 8-bit ADC.
import machine

import pins
from flexcharge.hal import Watchdog
from flexcharge.hal.mcu import MachinePort, board_api
from flexcharge.hal.watchdog import clamp_timeout
from flexcharge.hal.clock import TickClock

# nRF52 WDT registers (nRF52840 PS v1.7, 6.36): 32.768 kHz counter, reload on RR[n].
_WDT = 0x40010000
_TASKS_START = _WDT + 0x000
_RUNSTATUS = _WDT + 0x400
_CRV = _WDT + 0x504
_RREN = _WDT + 0x508
_CONFIG = _WDT + 0x50C
_RR0 = _WDT + 0x600
_RELOAD = 0x6E524635


class Nrf(MachinePort):
    NAME = "nrf"
    MARCH = "armv7emsp"  # Cortex-M4F
    STORAGE_ROOT = "/flash/data"
    CONFIG_PATH = "/flash/station.json"
    WDT_MAX_MS = 131072000  # CRV is 32 bits of 1/32768 s

    def adc(self, ain):
        a = machine.ADC(ain)  # a SAADC channel number (AINn), not a Pin
        fs = pins.ADC_FULL_SCALE
        if hasattr(a, "read_u16"):

            def volts():
                return a.read_u16() * fs / 65535

        else:  # older nrf firmware: value() is the raw 8-bit result

            def volts():
                return a.value() * fs / 255

        return volts

    def uart(self, s):
        # The port's UART takes only id and baudrate: 8N1, pins from the board config.
        return machine.UART(s["id"], baudrate=s["baud"])

    def watchdog(self):
        return NrfWatchdog(machine.mem32)

    def clock(self):
        return TickClock()


class NrfWatchdog(Watchdog):
    min_ms = Nrf.WDT_MIN_MS
    max_ms = Nrf.WDT_MAX_MS

    def __init__(self, mem32):
        self._m = mem32
        self.timeout_ms = None

    def start(self, timeout_ms):
        m = self._m
        if m[_RUNSTATUS] & 1:
            # Running since before a soft reset: its registers are locked until a hard reset.
            self.timeout_ms = (m[_CRV] + 1) * 1000 // 32768
            self.feed()
            return self.timeout_ms
        t = clamp_timeout(timeout_ms, self.min_ms, self.max_ms)
        m[_CRV] = max(15, t * 32768 // 1000 - 1)
        m[_RREN] = 1  # only RR[0] reloads
        m[_CONFIG] = 1  # keep counting while the CPU sleeps, pause under the debugger
        m[_TASKS_START] = 1
        self.timeout_ms = t
        return t

    def started(self):
        return bool(self._m[_RUNSTATUS] & 1)

    def feed(self):
        self._m[_RR0] = _RELOAD


# The board module's interface (firmware/main.py, tools, host tests).
paths, make_board = board_api(Nrf, pins)
NAME, MARCH, STORAGE_ROOT, CONFIG_PATH = Nrf.NAME, Nrf.MARCH, Nrf.STORAGE_ROOT, Nrf.CONFIG_PATH
WDT_MIN_MS, WDT_MAX_MS = Nrf.WDT_MIN_MS, Nrf.WDT_MAX_MS
