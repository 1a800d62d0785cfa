# nRF52840 board shims (MicroPython nrf port). See pins.py for the wiring.
# Port quirks: no machine.WDT (the WDT peripheral is programmed through machine.mem32),
# no machine.RTC (wall clock counted from ticks after the CSMS sets it), 8-bit ADC.
import machine
from machine import Pin

import pins
from flexcharge.hal import Watchdog
from flexcharge.hal.mcu import build
from flexcharge.hal.watchdog import clamp_timeout
from flexcharge.hal.reset import MachineReset
from flexcharge.hal.clock import TickClock

NAME = "nrf"
MARCH = "armv7emsp"  # Cortex-M4F
STORAGE_ROOT = "/flash/data"
CONFIG_PATH = "/flash/station.json"

# nRF52 WDT registers (nRF52840 PS v1.7, 6.36): 32.768 kHz counter, reload on RR[n].
_WDT = 0x40010000
_TASKS_START = _WDT + 0x000
_RUNSTATUS = _WDT + 0x400
_CRV = _WDT + 0x504
_RREN = _WDT + 0x508
_CONFIG = _WDT + 0x50C
_RR0 = _WDT + 0x600
_RELOAD = 0x6E524635
WDT_MIN_MS = 1
WDT_MAX_MS = 131072000  # CRV is 32 bits of 1/32768 s


class NrfWatchdog(Watchdog):
    min_ms = WDT_MIN_MS
    max_ms = WDT_MAX_MS

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
        t = clamp_timeout(timeout_ms, WDT_MIN_MS, WDT_MAX_MS)
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


class Nrf:
    name = NAME
    storage_root = STORAGE_ROOT

    def pin_out(self, pid, value=0):
        return Pin(pid, Pin.OUT, value=value)

    def pin_in(self, pid, pull=None):
        return Pin(pid, Pin.IN, {"up": Pin.PULL_UP, "down": Pin.PULL_DOWN, None: None}[pull])

    def pwm(self, pid, freq):
        return machine.PWM(Pin(pid), freq=freq, duty_u16=65535)

    def adc(self, ain):
        a = machine.ADC(ain)
        fs = pins.ADC_FULL_SCALE
        if hasattr(a, "read_u16"):

            def volts():
                return a.read_u16() * fs / 65535

        else:  # older nrf firmware: value() is the raw 8-bit result

            def volts():
                return a.value() * fs / 255

        return volts

    def uart(self, s):
        return machine.UART(s["id"], baudrate=s["baud"])

    def spi(self, s):
        return machine.SPI(s["id"], baudrate=1000000, polarity=0, phase=0,
                           sck=Pin(s["sck"]), mosi=Pin(s["mosi"]), miso=Pin(s["miso"]))

    def watchdog(self):
        return NrfWatchdog(machine.mem32)

    def reset(self):
        return MachineReset(machine)

    def clock(self):
        return TickClock()


def paths():
    """(station config path, state directory) on this board's filesystem (firmware/main.py)."""
    return CONFIG_PATH, STORAGE_ROOT


def make_board(config, root=None):
    """hal.Board for the station config; `root` overrides the state directory."""
    return build(Nrf(), pins, config, root)
