# Reference design pin map: EK-RA6M5 (RA6M5, Cortex-M33, Ethernet on board), one AC
# EVSE, Type 2 socket. Pins are "P<port><pin>" names. LED1 blue P006, LED2 green P007,
# LED3 red P008 (active high).

EVSES = (
    {
        "cp_pwm": "P105",  # GPT -> CP generator
        "cp_adc": "P000",  # AN000: CP feedback divider
        "pp_adc": "P001",  # AN001: PP, 330 ohm pull-up to 3.3 V
        "relay": "P305",
        "relay_fb": "P306",  # mirror contact to GND, internal pull-up
        "rcd": "P307",  # RDC-DD trip output, high = tripped
        "lock": "P308",
        "lock_fb": "P309",
    },
)

# CP front end: -12..+12 V -> 0.2..3.1 V (AVCC0/VREFH0 3.3 V).
CP_GAIN = 24 / 2.9
CP_OFFSET = -12 - 0.2 * 24 / 2.9
CP_SAMPLES = 48
CP_SPACING_US = 20

PP_SUPPLY = 3.3
PP_PULLUP = 330

RELAY_ON = 1
RELAY_FB_CLOSED = 0
RCD_TRIP = 1
LOCK_FB_LOCKED = 1
LED_ON = 1

LEDS = {"power": "P007", "net": "P006", "charge": "P310", "fault": "P008"}

# UART(7) (SCI7, pins fixed by the board config) to RS-485, DE//RE on P311.
METER = {"id": 7, "de": "P311", "baud": 9600, "units": (1,)}

# MFRC522 on SPI(0) (RSPI0, pins fixed by the board config), CS P312, RST P313.
RFID = {"id": 0, "cs": "P312", "rst": "P313"}

# The WDT counts PCLKB / 8192; PCLKB is 50 MHz on the EK-RA6M5 build.
PCLKB_HZ = 50000000
