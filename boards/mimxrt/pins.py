# Reference design pin map: Teensy 4.1 (i.MX RT1062, Cortex-M7, Ethernet PHY on board),
# one AC EVSE, Type 2 socket. Pins are the Teensy board names.

EVSES = (
    {
        "cp_pwm": "D2",  # FlexPWM4_A2 -> CP generator
        "cp_adc": "A0",  # D14, ADC1: CP feedback divider
        "pp_adc": "A1",  # D15: PP, 330 ohm pull-up to 3.3 V
        "relay": "D3",
        "relay_fb": "D4",  # mirror contact to GND, internal pull-up
        "rcd": "D5",  # RDC-DD trip output, high = tripped
        "lock": "D6",
        "lock_fb": "D9",
    },
)

# CP front end: -12..+12 V -> 0.2..3.1 V (ADC reference 3.3 V).
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

# The on-board LED (D13) is SPI0's SCK here, so the LEDs are on the panel.
LEDS = {"power": "D28", "net": "D29", "charge": "D30", "fault": "D31"}

# UART(1) = LPUART6 on D1 (TX) / D0 (RX), fixed by the port; DE//RE on D22.
METER = {"id": 1, "de": "D22", "baud": 9600, "units": (1,)}

# MFRC522 on SPI(0) = LPSPI4 (D13 SCK, D11 MOSI, D12 MISO, fixed), CS D10, RST D23.
RFID = {"id": 0, "cs": "D10", "rst": "D23"}
