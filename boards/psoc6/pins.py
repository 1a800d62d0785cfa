# Reference design pin map: CY8CPROTO-062-4343W (PSoC 62, Cortex-M4F + CYW4343W Wi-Fi),
# one AC EVSE, Type 2 socket. The only ADC block is on P10_0-P10_5; P11 is the QSPI
# flash; P5_0/P5_1 the KitProg UART; P6_6/P6_7 SWD. The kit's LEDs are active low.

EVSES = (
    {
        "cp_pwm": "P9_2",  # TCPWM -> CP generator
        "cp_adc": "P10_0",  # SAR ADC ch0: CP feedback divider
        "pp_adc": "P10_1",  # SAR ADC ch1: PP, 330 ohm pull-up to 3.3 V
        "relay": "P9_4",
        "relay_fb": "P9_5",  # mirror contact to GND, internal pull-up
        "rcd": "P9_6",  # RDC-DD trip output, high = tripped
        "lock": "P9_7",
        "lock_fb": "P8_0",
    },
)

# CP front end: -12..+12 V -> 0.2..3.1 V (VDDA 3.3 V). The port notes the ADC may not
# read 0 at GND: the lowest CP level used (-12 V) sits at 0.2 V, clear of that.
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
LED_ON = 0  # kit LED (P13_7) and panel LEDs sink current

LEDS = {"power": "P13_7", "net": "P5_6", "charge": "P5_7", "fault": "P12_3"}

# SCB2 UART on P9_1 (TX) / P9_0 (RX) to RS-485, DE//RE on P12_1.
METER = {"id": 1, "tx": "P9_1", "rx": "P9_0", "de": "P12_1", "baud": 9600, "units": (1,)}

# MFRC522 on SCB3 SPI: MOSI P6_0, MISO P6_1, SCK P6_2; CS P6_3, RST P12_0.
RFID = {"id": 0, "sck": "P6_2", "mosi": "P6_0", "miso": "P6_1", "cs": "P6_3", "rst": "P12_0"}
