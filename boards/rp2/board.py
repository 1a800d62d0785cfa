# RP2040 / RP2350 board shims (MicroPython rp2 port). See pins.py for the wiring.
# Everything not overridden here is the standard machine API (flexcharge.hal.mcu.MachinePort).
import pins
from flexcharge.hal.mcu import MachinePort, board_api


class Rp2(MachinePort):
    NAME = "rp2"
    MARCH = "armv6m"  # RP2040 Cortex-M0+; RP2350 (Cortex-M33): armv7emsp
    STORAGE_ROOT = "/data"  # littlefs2 in the upper flash, mounted at /
    CONFIG_PATH = "/station.json"
    # RP2040 watchdog: 24-bit counter at 1 us, but an erratum (RP2040-E1) makes it count
    # twice: the port caps the timeout at 8388 ms (0x7fffff us). RP2350: 16777 ms.
    WDT_MAX_MS = 8388
    # ADC: 12-bit SAR, scaled to 16 bits by read_u16; ADC_VREF is the 3.3 V rail (ADC_FULL_SCALE).
    # PWM: at 1 kHz the 16-bit wrap gives full duty_u16 resolution (125 MHz / 1 kHz / div 2).


# The board module's interface (firmware/main.py, tools, host tests).
paths, make_board = board_api(Rp2, pins)
NAME, MARCH, STORAGE_ROOT, CONFIG_PATH = Rp2.NAME, Rp2.MARCH, Rp2.STORAGE_ROOT, Rp2.CONFIG_PATH
WDT_MIN_MS, WDT_MAX_MS = Rp2.WDT_MIN_MS, Rp2.WDT_MAX_MS
