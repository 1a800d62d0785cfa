# Wall clock (Unix seconds, UTC). RtcClock keeps it in the MCU's RTC (machine.RTC,
# battery-backed where the board has one); TickClock is for ports without machine.RTC
# (nRF): it counts from the last set() with ticks_ms.
from flexcharge.hal import Clock
from flexcharge.compat import gmtime, timegm, ticks_ms, ticks_diff, ticks_add, unix_time


class RtcClock(Clock):
    def __init__(self, rtc):
        self._rtc = rtc

    def now(self):
        # machine.RTC.datetime(): (year, month, day, weekday, hours, minutes, seconds, subseconds)
        d = self._rtc.datetime()
        return timegm((d[0], d[1], d[2], d[4], d[5], d[6]))

    def set(self, unix_seconds):
        t = gmtime(unix_seconds)
        # gmtime weekday and RTC weekday are both 0 = Monday.
        self._rtc.datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0))


class TickClock(Clock):
    # ticks_ms wraps (2**30 ms on MicroPython, ~12 days): re-anchor well before that.
    _REBASE_MS = 86400000

    def __init__(self, start=None):
        self._base = unix_time() if start is None else start
        self._t = ticks_ms()

    def now(self):
        d = ticks_diff(ticks_ms(), self._t)
        if d >= self._REBASE_MS:
            whole = d - d % 1000
            self._base += whole // 1000
            self._t = ticks_add(self._t, whole)
            d -= whole
        return self._base + d // 1000

    def set(self, unix_seconds):
        self._base = int(unix_seconds)
        self._t = ticks_ms()
