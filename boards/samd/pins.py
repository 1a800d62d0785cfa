# Reference design pin map: Adafruit Feather M4 Express (SAMD51J19A), one AC EVSE,
# Type 2 socket. Pins are CPU names; Feather labels in the comments.

EVSES = (
    {
        "cp_pwm": "PA16",  # D5, TCC1 -> CP generator
        "cp_adc": "PA02",  # A0 (ADC0 AIN0): CP feedback divider
        "pp_adc": "PA05",  # A1 (ADC0 AIN5): PP, 330 ohm pull-up to 3.3 V
        "relay": "PA18",  # D6
        "relay_fb": "PA19",  # D9, mirror contact to GND, internal pull-up
        "rcd": "PA21",  # D11, RDC-DD trip output, high = tripped
        "lock": "PA22",  # D12
        "lock_fb": "PB08",  # A2
    },
)

# CP front end: -12..+12 V -> 0.2..3.1 V (ADC reference VDDANA 3.3 V).
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

# D13 (PA23) is the red on-board LED; the others are panel LEDs on A3/A4/A5.
LEDS = {"power": "PA23", "net": "PB09", "charge": "PA04", "fault": "PA06"}

# SERCOM5 UART on the Feather TX/RX pins (PB16/PB17), DE//RE on D4 (PA14).
METER = {"id": 5, "tx": "PB16", "rx": "PB17", "de": "PA14", "baud": 9600, "units": (1,)}

# MFRC522 on SERCOM1 SPI (SCK PA17, MOSI PB23, MISO PB22), CS D10 (PA20), RST SDA (PA12).
RFID = {"id": 1, "sck": "PA17", "mosi": "PB23", "miso": "PB22", "cs": "PA20", "rst": "PA12"}
