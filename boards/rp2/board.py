# RP2040 / RP2350 board shims (MicroPython rp2 port). See pins.py for the wiring.
import machine
from machine import Pin

import pins
from flexcharge.hal.mcu import build
from flexcharge.hal.watchdog import MachineWatchdog
from flexcharge.hal.reset import MachineReset
from flexcharge.hal.clock import RtcClock

NAME = "rp2"
MARCH = "armv6m"  # RP2040 Cortex-M0+; RP2350 (Cortex-M33): armv7emsp
STORAGE_ROOT = "/data"  # littlefs2 in the upper flash, mounted at /
CONFIG_PATH = "/station.json"
# RP2040 watchdog: 24-bit counter at 1 us, but an erratum (RP2040-E1) makes it count
# twice: the port caps the timeout at 8388 ms (0x7fffff us). RP2350: 16777 ms.
WDT_MIN_MS = 1
WDT_MAX_MS = 8388

_PULL = {"up": Pin.PULL_UP, "down": Pin.PULL_DOWN, None: None}


class Rp2:
    name = NAME
    storage_root = STORAGE_ROOT

    def pin_out(self, pid, value=0):
        return Pin(pid, Pin.OUT, value=value)

    def pin_in(self, pid, pull=None):
        return Pin(pid, Pin.IN, _PULL[pull])

    def pwm(self, pid, freq):
        # At 1 kHz the 16-bit wrap gives full duty_u16 resolution (125 MHz / 1 kHz / div 2).
        return machine.PWM(Pin(pid), freq=freq, duty_u16=65535)

    def adc(self, pid):
        a = machine.ADC(Pin(pid))

        def volts():
            # 12-bit SAR, scaled to 16 bits by read_u16; ADC_VREF is the 3.3 V rail.
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
    return build(Rp2(), pins, config, root)
