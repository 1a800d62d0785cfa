# Status LEDs driven from the station's structured events.
#   power  on while the firmware runs
#   net    on while connected to the CSMS
#   charge on while the contactor is closed (from `pilot` events)
#   fault  on while any connector reports Faulted, or after an `error` event until
#          the next status that is not Faulted
from flexcharge.hal import Indicator


class LedIndicator(Indicator):
    def __init__(self, leds, on_level=1):
        # leds: {"power": Pin, "net": Pin, "charge": Pin, "fault": Pin}; any may be missing.
        self._leds = leds
        self._on = on_level
        self._faulted = {}
        self._charging = {}
        for name in leds:
            self.set(name, name == "power")

    def set(self, name, on):
        p = self._leds.get(name)
        if p is not None:
            p.value(self._on if on else 1 - self._on)

    def report(self, event, fields):
        if event == "connected":
            self.set("net", True)
        elif event == "disconnected":
            self.set("net", False)
        elif event == "status":
            key = (fields.get("evse"), fields.get("connector"))
            self._faulted[key] = fields.get("status") == "Faulted"
            self.set("fault", True in self._faulted.values())
        elif event == "pilot":
            self._charging[fields.get("evse")] = bool(fields.get("contactor"))
            self.set("charge", True in self._charging.values())
        elif event == "error":
            self.set("fault", True)
