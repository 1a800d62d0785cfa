# Facts about each MicroPython port's `machine` module that the fake enforces, so a
# board shim using a pin, bus, constant or limit the real port would refuse fails
# under test. Sources: the ports' quickref docs and machine_*.c (see each board README).


def _ints(*ranges):
    s = set()
    for r in ranges:
        s.update(r)
    return s


def _names(prefix_ports, pins_per_port, fmt="%s%d"):
    s = set()
    for p in prefix_ports:
        for i in range(pins_per_port):
            s.add(fmt % (p, i))
    return s


PORTS = {}

# ESP32 (ESP32-WROOM-32E): GPIO6-11 are the SPI flash; 34-39 input only without pulls;
# ADC2 is unusable while Wi-Fi runs, so only ADC1 (GPIO32-39) is accepted.
PORTS["esp32"] = {
    "pins": _ints(range(0, 6), range(12, 20), range(21, 24), range(25, 28), range(32, 40)),
    "input_only": _ints(range(34, 40)),
    "no_pull": _ints(range(34, 40)),
    "adc": _ints(range(32, 40)),
    "adc_bits": 12,
    "adc_kind": "esp32",
    "pwm": None,
    "uart": {1: None, 2: None},
    "uart_pin_kw": True,
    "spi": {1: None, 2: None},
    "spi_pin_kw": True,
    "wdt": (1, None),
    "rtc": True,
    "reset": {"PWRON_RESET": 1, "HARD_RESET": 2, "WDT_RESET": 3, "DEEPSLEEP_RESET": 4, "SOFT_RESET": 5},
}

# RP2040 (Pico W): GPIO23/24/25/29 belong to the wireless chip; ADC on GPIO26-28;
# fixed pin options per UART/SPI instance; WDT max 8388 ms.
PORTS["rp2"] = {
    "pins": _ints(range(0, 23), range(26, 29)),
    "input_only": set(),
    "no_pull": set(),
    "adc": {26, 27, 28},
    "adc_channel_base": 26,
    "adc_bits": 12,
    "adc_kind": "std",
    "pwm": None,
    "uart": {0: ({0, 12, 16, 28}, {1, 13, 17}), 1: ({4, 8, 20}, {5, 9, 21})},
    "uart_pin_kw": True,
    "spi": {0: ({2, 6, 18, 22}, {3, 7, 19}, {0, 4, 16, 20}), 1: ({10, 14, 26}, {11, 15, 27}, {8, 12, 28})},
    "spi_pin_kw": True,
    "wdt": (1, 8388),
    "rtc": True,
    "reset": {"PWRON_RESET": 1, "WDT_RESET": 3},
}

# STM32F429ZI (NUCLEO-F429ZI): pins by CPU name ("A8" = PA8). Arduino names A0-A5 and
# D0-D15 also exist on Nucleo boards and name *different* pins, so they are refused
# here as ambiguous. Ethernet RMII, USB, SWD and the ST-LINK UART pins are taken.
_STM32_TAKEN = {"A1", "A2", "A7", "B13", "C1", "C4", "C5", "G11", "G13", "A11", "A12", "A13", "A14", "D8", "D9"}
_STM32_ARDUINO = set(["A%d" % i for i in range(6)] + ["D%d" % i for i in range(16)])
PORTS["stm32"] = {
    "pins": _names("ABCDEFG", 16) - _STM32_TAKEN - _STM32_ARDUINO,
    "input_only": set(),
    "no_pull": set(),
    "adc": {"A6", "B0", "B1", "C0", "C2", "C3", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10"},
    "adc_bits": 12,
    "adc_kind": "std",
    "pwm": {"A6", "A8", "A9", "A10", "A15", "B0", "B1", "B3", "B4", "B6", "B8", "B9", "B10", "B11",
            "C6", "C7", "C8", "C9", "E9", "E11", "E13", "E14"},
    "uart": {1: None, 2: None, 6: None},
    "uart_pin_kw": False,
    "spi": {1: None, 3: None},
    "spi_pin_kw": False,
    "wdt": (1, 32768),
    "rtc": True,
    "reset": {"SOFT_RESET": 0, "PWRON_RESET": 1, "HARD_RESET": 2, "WDT_RESET": 3, "DEEPSLEEP_RESET": 4},
}

# nRF52840 (nRF52840-DK): pins 0-47 (P1.n = 32 + n); ADC by SAADC channel AIN0-7
# with 8-bit results, gain 1/4 against VDD/4: full scale is VDD, 3.0 V on the DK;
# no machine.WDT and no machine.RTC in the port.
PORTS["nrf"] = {
    "pins": _ints(range(0, 48)),
    "input_only": set(),
    "no_pull": set(),
    "adc": {0, 1, 2, 3, 4, 5, 6, 7},
    "adc_bits": 8,
    "adc_fs": 3.0,
    "adc_kind": "nrf",
    "pwm": None,
    "uart": {0: None},
    "uart_pin_kw": False,
    "spi": {0: None, 1: None},
    "spi_pin_kw": True,
    "wdt": None,
    "rtc": False,
    "reset": {"HARD_RESET": 0, "WDT_RESET": 1, "SOFT_RESET": 2, "LOCKUP_RESET": 3, "PWRON_RESET": 16,
              "LPCOMP_RESET": 17, "DEBUG_IF_RESET": 18, "NFC_RESET": 19},
}

# SAMD51J19 (Adafruit Feather M4 Express): CPU pin names; UART/SPI id = SERCOM number
# and the pins must be pads of that SERCOM; WDT up to 16 s.
PORTS["samd"] = {
    "pins": _names(("PA", "PB"), 32, "%s%02d"),
    "input_only": set(),
    "no_pull": set(),
    "adc": {"PA02", "PA03", "PA04", "PA05", "PA06", "PA07", "PB08", "PB09", "PB00", "PB01", "PB02", "PB03"},
    "adc_bits": 12,
    "adc_kind": "std",
    "pwm": {"PA16", "PA18", "PA19", "PA20", "PA21", "PA22", "PA23", "PA14", "PA15", "PB16", "PB17"},
    "uart": {5: ({"PB16"}, {"PB17"}), 0: ({"PA04", "PA08"}, {"PA05", "PA09"})},
    "uart_pin_kw": True,
    "spi": {1: ({"PA17"}, {"PB23"}, {"PB22"})},
    "spi_pin_kw": True,
    "wdt": (1, 16384),
    "rtc": True,
    "reset": {"PWRON_RESET": 1, "HARD_RESET": 16, "WDT_RESET": 32, "SOFT_RESET": 64, "DEEPSLEEP_RESET": 128},
}

# i.MX RT1062 (Teensy 4.1): board pin names D0-D41 / A0-A17; UART/SPI on fixed pins
# per id; WDT 0.5-128 s.
PORTS["mimxrt"] = {
    "pins": set(["D%d" % i for i in range(42)] + ["A%d" % i for i in range(18)]),
    "input_only": set(),
    "no_pull": set(),
    "adc": set(["A%d" % i for i in range(18)]),
    "adc_bits": 12,
    "adc_kind": "std",
    "pwm": set(["D%d" % i for i in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 18, 19,
                                    22, 23, 24, 25, 28, 29, 33, 36, 37)]),
    "uart": {1: None, 2: None, 3: None},
    "uart_pin_kw": False,
    "spi": {0: None, 1: None},
    "spi_pin_kw": False,
    "wdt": (500, 128000),
    "rtc": True,
    "reset": {"PWRON_RESET": 1, "WDT_RESET": 3, "SOFT_RESET": 5},
}

# PSoC 6 (CY8CPROTO-062-4343W): pins "P<port>_<pin>"; the only ADC block is on
# P10_0-P10_5; P11 is the QSPI flash, P5_0/P5_1 the KitProg UART.
_PSOC_PINS = set()
for _p, _n in ((0, 6), (1, 6), (5, 8), (6, 8), (7, 8), (8, 8), (9, 8), (10, 6), (12, 8), (13, 8)):
    for _i in range(_n):
        _PSOC_PINS.add("P%d_%d" % (_p, _i))
PORTS["psoc6"] = {
    "pins": _PSOC_PINS - {"P5_0", "P5_1"},
    "input_only": set(),
    "no_pull": set(),
    "adc": {"P10_0", "P10_1", "P10_2", "P10_3", "P10_4", "P10_5"},
    "adc_bits": 12,
    "adc_kind": "std",
    "pwm": None,
    "uart": {0: None, 1: None},
    "uart_pin_kw": True,
    "spi": {0: ({"P9_2", "P6_2"}, {"P9_0", "P6_0"}, {"P9_1", "P6_1"})},
    "spi_pin_kw": True,
    "wdt": (1, 6000),
    "rtc": True,
    "reset": {"PWRON_RESET": 0, "HARD_RESET": 1, "WDT_RESET": 2, "DEEPSLEEP_RESET": 3, "SOFT_RESET": 4},
}

# Renesas RA6M5 (EK-RA6M5): pins "Pnnn"; no machine.WDT in the port (the shim
# programs the WDT registers through machine.mem8/mem16).
_RA_PINS = set()
for _p in range(10):
    for _i in range(16):
        _RA_PINS.add("P%d%02d" % (_p, _i))
PORTS["renesas_ra"] = {
    "pins": _RA_PINS,
    "input_only": set(),
    "no_pull": set(),
    "adc": {"P000", "P001", "P002", "P003", "P004", "P005", "P006", "P007", "P008", "P014", "P015",
            "P500", "P501", "P502"},
    "adc_bits": 12,
    "adc_kind": "std",
    "pwm": {"P105", "P106", "P107", "P108", "P111", "P112", "P113", "P114", "P300", "P301", "P302",
            "P303", "P415", "P414", "P113"},
    "uart": {0: None, 7: None, 9: None},
    "uart_pin_kw": False,
    "spi": {0: None, 1: None},
    "spi_pin_kw": False,
    "wdt": None,
    "rtc": True,
    "reset": {"SOFT_RESET": 0, "PWRON_RESET": 1, "HARD_RESET": 2, "WDT_RESET": 3, "DEEPSLEEP_RESET": 4},
}
