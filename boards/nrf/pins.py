# Reference design pin map: nRF52840-DK (PCA10056), one AC EVSE, Type 2 socket.
# Pins are GPIO numbers, P1.n = 32 + n. The DK's LEDs (P0.13-P0.16) are active low.
# ADC inputs are SAADC channels: AIN1 = P0.03, AIN2 = P0.04 (Arduino A0, A1).

EVSES = (
    {
        "cp_pwm": 26,  # P0.26, PWM0 -> CP generator
        "cp_adc": 1,  # AIN1 (P0.03): CP feedback divider
        "pp_adc": 2,  # AIN2 (P0.04): PP, 330 ohm pull-up to VDD (3.0 V)
        "relay": 27,  # P0.27
        "relay_fb": 33,  # P1.01, mirror contact to GND, internal pull-up
        "rcd": 34,  # P1.02, RDC-DD trip output, high = tripped
        "lock": 35,  # P1.03
        "lock_fb": 36,  # P1.04
    },
)

# The port's SAADC setup (gain 1/4, reference VDD/4) gives a full scale of VDD = 3.0 V
# on the DK, at 8-bit resolution (12 mV steps, ~0.1 V on the CP line).
# CP front end: -12..+12 V -> 0.2..2.8 V.
ADC_FULL_SCALE = 3.0
CP_GAIN = 24 / 2.6
CP_OFFSET = -12 - 0.2 * 24 / 2.6
CP_SAMPLES = 48
CP_SPACING_US = 20

PP_SUPPLY = 3.0
PP_PULLUP = 330

RELAY_ON = 1
RELAY_FB_CLOSED = 0
RCD_TRIP = 1
LOCK_FB_LOCKED = 1
LED_ON = 0  # DK LEDs sink to GND through the pin

LEDS = {"power": 13, "net": 14, "charge": 15, "fault": 16}

# UART(0) on the board's UART pins (P0.06 TX / P0.08 RX, also the J-Link VCOM): the
# reference design builds the port with the REPL on USB CDC. DE//RE on P1.05.
METER = {"id": 0, "de": 37, "baud": 9600, "units": (1,)}

# MFRC522 on SPI0: SCK P1.15, MOSI P1.13, MISO P1.14 (Arduino D13/D11/D12), CS P1.12, RST P1.11.
RFID = {"id": 0, "sck": 47, "mosi": 45, "miso": 46, "cs": 44, "rst": 43}
