# The charging controller of one EVSE (IEC 61851-1 mode 3): control pilot PWM from the
# current we allow, contactor from the EV's request, with welding/fault checks.
#
#   allowed >= 6 A, EV in B        pilot offers (PWM), contactor open   (B2: EV may request)
#   allowed >= 6 A, EV in C        pilot offers, contactor closed       (C2: charging)
#   allowed <  6 A                 steady +12 V (no offer), contactor open (B1/C1) once the EV
#                                  has stopped drawing, at the latest PAUSE_GRACE_MS later
#   fault / welded / EV in E,F     pilot state F (-12 V), contactor open
#   EV in D (ventilation asked)    no ventilation on our boards: treated as not allowed
#
# The board supplies pilots/contactors/meters per EVSE (flexcharge.hal); an EVSE without
# them (e.g. a board still being brought up) reads as "no EV, nothing measured".
from flexcharge.hal import iec61851 as cp
from flexcharge.hal import energy_mwh
from flexcharge.compat import ticks_ms, ticks_diff

WELDED = "ContactorWelded"
METER_FAILURE = "MeterFailure"
METER_MISSES = 3  # consecutive failed readings before the meter counts as silent
# Pause under load (smart charging limit < 6 A, IEC 61851-1 A.4 / Table A.6, sequence C2 -> C1):
# the offer goes first; the EV must stop drawing within 3 s, and the EVSE opens the power path
# once it has (no switching under load), or after this grace when the EV does not comply.
PAUSE_GRACE_MS = 6000


class EvseControl:
    def __init__(self, evse, board):
        self.evse = evse  # core.station.EVSE (id, max_current, phases, voltage, connectors)
        eid = evse.id
        self.pilot = getattr(board, "pilots", {}).get(eid)
        self.contactor = getattr(board, "contactors", {}).get(eid)
        self.meter = getattr(board, "meters", {}).get(eid)
        self.fault = None  # latched controller fault (welding), cleared by clear_fault()
        # callable(evse_id, code, active) set by the composition root (diag/faults.py): the faults
        # only this controller sees reach the Faulted status, NotifyEvent and the log.
        self.on_fault = None
        self._misses = 0
        self.meter_silent = False
        self._pause_t = None  # ticks_ms when the offer was withdrawn with the contactor closed

    # -- inputs ------------------------------------------------------------------------
    def plugged_connector(self):
        """Id of the plugged connector, or None."""
        for c in self.evse.connectors:
            if c.hw is not None and c.hw.plugged():
                return c.id
        return None

    def ev_state(self):
        if self.pilot is not None:
            return self.pilot.state()
        return "B" if self.plugged_connector() is not None else "A"

    def faulted(self):
        if self.fault is not None:
            return self.fault
        for c in self.evse.connectors:
            if c.hw is not None:
                f = c.hw.faulted()
                if f:
                    return f
        return None

    def closed(self):
        return self.contactor is not None and self.contactor.is_closed()

    def offered(self):
        return self.pilot.offered() if self.pilot is not None else 0

    def reading(self):
        if self.meter is None:
            return None
        try:
            r = self.meter.read()
        except Exception:
            r = None
        if r is None:
            self._misses += 1
            if self._misses >= METER_MISSES and not self.meter_silent:
                self.meter_silent = True
                self._report(METER_FAILURE, True)
        else:
            self._misses = 0
            if self.meter_silent:
                self.meter_silent = False
                self._report(METER_FAILURE, False)
        return r

    def _report(self, code, active):
        if self.on_fault is not None:
            try:
                self.on_fault(self.evse.id, code, active)
            except Exception:
                pass  # reporting must never stop the controller

    def energy_mwh(self):
        """The meter's import register, an int in mWh (None without a reading)."""
        r = self.reading()
        return energy_mwh(r) if r else None

    def power_w(self):
        r = self.reading()
        return r.get("power_w", 0) if r else 0

    # -- outputs ------------------------------------------------------------------------
    def apply(self, amps):
        """Drive pilot and contactor for `amps` allowed now (0: no charging)."""
        p = self.pilot
        fault = self.faulted()
        st = self.ev_state() if p is not None else ("B" if self.plugged_connector() else "A")
        # State F read while we drive -12 V ourselves is our own doing, not the EV's.
        if fault or st == "E" or (st == "F" and (p is None or p.duty() != cp.OFF)):
            self._open()
            if p is not None:
                p.disable()
            return
        if amps > self.evse.max_current:
            amps = self.evse.max_current
        if amps >= cp.MIN_CURRENT and st in ("B", "C"):
            self._pause_t = None
            if p is not None:
                p.offer(amps)
            if st == "C":
                if self.contactor is not None:
                    self.contactor.close()
            else:
                self._open()
        else:
            # Offer withdrawn first, then the power path opens (IEC 61851-1: no offer before
            # opening under load; the simulated EV reacts at once).
            if p is not None:
                p.offer(0)
            if self.closed() and st == "C" and self.power_w() > 0:
                now = ticks_ms()
                if self._pause_t is None:
                    self._pause_t = now
                if ticks_diff(now, self._pause_t) < PAUSE_GRACE_MS:
                    return  # the EV is still ramping down: open once it has stopped drawing
            self._pause_t = None
            self._open()

    def _open(self):
        c = self.contactor
        if c is None:
            return
        c.open()
        # Welding check: commanded open but the feedback still reads closed.
        if c.welded() and self.fault != WELDED:
            self.fault = WELDED
            self._report(WELDED, True)

    def clear_fault(self):
        if self.contactor is None or not self.contactor.welded():
            if self.fault is not None:
                self._report(self.fault, False)
            self.fault = None
