# Reference design pin map: NUCLEO-F429ZI (STM32F429ZI, Cortex-M4F, on-board Ethernet),
# one AC EVSE, Type 2 socket. Pins are CPU names ("A8" = PA8). The Arduino names on the
# Nucleo headers (A0-A5, D0-D15) name other pins and are not used here. Ethernet RMII
# (PA1 PA2 PA7 PB13 PC1 PC4 PC5 PG11 PG13), USB, SWD and the ST-LINK UART (PD8/PD9) stay free.

EVSES = (
    {
        "cp_pwm": "A8",  # TIM1_CH1 -> CP generator
        "cp_adc": "C3",  # ADC123_IN13: CP feedback divider
        "pp_adc": "C0",  # ADC123_IN10: PP, 330 ohm pull-up to 3.3 V
        "relay": "G2",
        "relay_fb": "G3",  # mirror contact to GND, internal pull-up
        "rcd": "F13",  # RDC-DD trip output, high = tripped
        "lock": "E2",
        "lock_fb": "E4",
    },
)

# Timer/channel behind each CP PWM pin, for firmware without machine.PWM (pyb.Timer).
PWM_TIMER = {"A8": (1, 1)}

# CP front end: -12..+12 V -> 0.2..3.1 V around a 1.65 V bias (VREF+ = 3.3 V).
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

# LD1 green PB0, LD2 blue PB7, LD3 red PB14 on the Nucleo; charge LED external on PE6.
LEDS = {"power": "B0", "net": "B7", "charge": "E6", "fault": "B14"}

# USART2 (PD5 TX / PD6 RX, fixed by the board config) to RS-485, DE//RE on PE3.
METER = {"id": 2, "de": "E3", "baud": 9600, "units": (1,)}

# MFRC522 on SPI1 (PA5 SCK, PA6 MISO, PB5 MOSI, fixed by the board config).
RFID = {"id": 1, "cs": "F12", "rst": "F15"}
