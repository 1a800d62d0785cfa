# Reference design pin map: ESP32-DevKitC (ESP32-WROOM-32E), one AC EVSE, Type 2 socket.
# GPIO6-11 are the module's flash; GPIO16/17 are free on WROOM (not on WROVER: PSRAM).
# Only ADC1 (GPIO32-39) is used: ADC2 is unavailable while Wi-Fi runs.
# GPIO34-39 are input only with no internal pulls: their inputs have external pull-ups.

EVSES = (
    {
        "cp_pwm": 25,  # LEDC PWM -> CP generator (op-amp, +-12 V)
        "cp_adc": 36,  # SENSOR_VP, ADC1_CH0: CP feedback through the divider
        "pp_adc": 39,  # SENSOR_VN, ADC1_CH3: PP pulled up by a 1k/2k divider from 3.3 V
        "relay": 26,  # contactor coil driver (high = on)
        "relay_fb": 27,  # contactor mirror contact to GND, internal pull-up
        "rcd": 34,  # RDC-DD 6 mA DC module trip output (high = tripped), external pull-down
        "lock": 32,  # socket lock actuator (high = lock)
        "lock_fb": 35,  # lock position switch, high when locked (external pull-down)
    },
)

# CP front end: -12..+12 V -> 0.2..2.4 V, inside the 11 dB calibrated read_uv range
# (150..2450 mV). CP = adc * CP_GAIN + CP_OFFSET.
CP_GAIN = 24 / 2.2
CP_OFFSET = -12 - 0.2 * 24 / 2.2
CP_SAMPLES = 40  # read_uv takes ~25 us: 40 samples span > 1 ms (one PWM period)
CP_SPACING_US = 5

# PP pull-up: 1 kohm from 3.3 V with 2 kohm to GND = 2.2 V behind 667 ohm (Thevenin).
# Open (no cable) then reads 2.2 V and 100 ohm (63 A) 0.29 V: every code stays inside
# the 150..2450 mV calibrated range.
PP_SUPPLY = 2.2
PP_PULLUP = 667

RELAY_ON = 1
RELAY_FB_CLOSED = 0
RCD_TRIP = 1
LOCK_FB_LOCKED = 1
LED_ON = 1

LEDS = {"power": 2, "net": 4, "charge": 33, "fault": 13}

# RS-485 (MAX3485) to the Eastron meter(s): UART2, DE and /RE tied to one GPIO.
METER = {"id": 2, "tx": 17, "rx": 16, "de": 21, "baud": 9600, "units": (1,)}

# MFRC522 on VSPI (SPI id 2: SCK 18, MOSI 23, MISO 19), CS on GPIO5 (strapping pin,
# high at boot as CS idles high), reset on GPIO22.
RFID = {"id": 2, "sck": 18, "mosi": 23, "miso": 19, "cs": 5, "rst": 22}
