# Reset and reset reason on machine.reset()/machine.reset_cause().
# The numeric reset-cause constants differ per port (nRF: PWRON_RESET = 16,
# PSoC6: 0, ESP32: 1, ...) and not every port has every name, so map by name.
from flexcharge.hal import Reset

_CAUSES = (
    ("PWRON_RESET", "power"),
    ("BROWNOUT_RESET", "power"),
    ("WDT_RESET", "watchdog"),
    ("SOFT_RESET", "soft"),
    ("HARD_RESET", "hard"),
    ("LOCKUP_RESET", "hard"),
    ("DEEPSLEEP_RESET", "power"),
)


class MachineReset(Reset):
    def __init__(self, machine):
        self._m = machine

    def reset(self):
        self._m.reset()

    def cause(self):
        m = self._m
        code = m.reset_cause()
        for name, ours in _CAUSES:
            if getattr(m, name, None) == code:
                return ours
        return "power"
