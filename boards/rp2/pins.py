# Reference design pin map: Raspberry Pi Pico W (RP2040), one AC EVSE, Type 2 socket.
# GPIO23/24/25/29 belong to the CYW43 wireless chip on the Pico W; ADC only on GPIO26-28.

EVSES = (
    {
        "cp_pwm": 16,  # PWM slice 0 A -> CP generator
        "cp_adc": 26,  # ADC0: CP feedback divider
        "pp_adc": 27,  # ADC1: PP, 330 ohm pull-up to 3.3 V
        "relay": 18,
        "relay_fb": 19,  # mirror contact to GND, internal pull-up
        "rcd": 20,  # RDC-DD trip output, high = tripped
        "lock": 21,
        "lock_fb": 22,
    },
)

# CP front end: -12..+12 V -> 0.2..3.1 V around a 1.65 V bias (ADC full scale 3.3 V).
CP_GAIN = 24 / 2.9
CP_OFFSET = -12 - 0.2 * 24 / 2.9
CP_SAMPLES = 48  # a read_u16 takes ~2 us; 48 reads 25 us apart span 1.2 ms
CP_SPACING_US = 23

PP_SUPPLY = 3.3
PP_PULLUP = 330

RELAY_ON = 1
RELAY_FB_CLOSED = 0
RCD_TRIP = 1
LOCK_FB_LOCKED = 1
LED_ON = 1

LEDS = {"power": 13, "net": 14, "charge": 15, "fault": 17}

# UART1 on GPIO4/5 to an RS-485 transceiver, DE//RE on GPIO6.
METER = {"id": 1, "tx": 4, "rx": 5, "de": 6, "baud": 9600, "units": (1,)}

# MFRC522 on SPI1 (SCK 10, MOSI 11, MISO 12), CS GPIO9, RST GPIO8.
RFID = {"id": 1, "sck": 10, "mosi": 11, "miso": 12, "cs": 9, "rst": 8}
