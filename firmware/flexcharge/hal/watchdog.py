# Hardware watchdog on machine.WDT, within the limits of the MCU's watchdog.
#
# Every port takes WDT(timeout=ms) but the hardware bounds differ (RP2040 ~8.3 s,
# STM32 IWDG ~32 s, SAMD51 16 s, i.MX RT 0.5..128 s in 0.5 s steps, ...). start()
# clamps the request into [min_ms, max_ms] and rounds down to the step, so the
# watchdog never fires later than asked; `timeout_ms` is what the hardware got and
# the caller must feed well within it.
from flexcharge.hal import Watchdog


def clamp_timeout(timeout_ms, min_ms, max_ms, step_ms=1):
    t = int(timeout_ms)
    if max_ms is not None and t > max_ms:
        t = max_ms
    t -= t % step_ms
    if t < min_ms:
        t = min_ms
    return t


class MachineWatchdog(Watchdog):
    def __init__(self, wdt_class, min_ms=1, max_ms=None, step_ms=1):
        self._cls = wdt_class
        self.min_ms = min_ms
        self.max_ms = max_ms
        self.step_ms = step_ms
        self.timeout_ms = None
        self._wdt = None

    def start(self, timeout_ms):
        # A started WDT cannot be stopped or (on most ports) re-armed: keep the first one.
        if self._wdt is not None:
            self._wdt.feed()
            return self.timeout_ms
        t = clamp_timeout(timeout_ms, self.min_ms, self.max_ms, self.step_ms)
        self._wdt = self._cls(timeout=t)
        self.timeout_ms = t
        return t

    def started(self):
        return self._wdt is not None

    def feed(self):
        if self._wdt is not None:
            self._wdt.feed()
