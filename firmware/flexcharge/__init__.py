# FlexCharge: OCPP 2.0.1 charging-station firmware for MicroPython.
VERSION = "0.1.0"
