# One physical connector of an AC EVSE: socket (proximity pilot, lock) or tethered
# cable (no PP), with its control pilot, contactor and residual current device.
from flexcharge.hal import ConnectorHw
from flexcharge.hal import iec61851 as cp
from flexcharge.compat import ticks_ms, ticks_diff

# Fault codes returned by faulted(), most severe first.
GROUND_FAILURE = "GroundFailure"  # RCD / RDC-DD tripped
PILOT_FAULT = "PilotFault"  # CP in state E (short to PE) while we drive it
DIODE_FAULT = "DiodeFailure"  # EV diode missing (Annex A diode check)
CABLE_FAULT = "CableCodingInvalid"  # PP resistor outside every Table B.2 range
LOCK_FAULT = "LockFailure"  # lock feedback disagrees after settle time


class EvseConnector(ConnectorHw):
    def __init__(self, pilot, contactor=None, pp_volts=None, pp_supply=3.3, pp_pullup=330,
                 rcd=None, rcd_trip_level=1, lock=None, lock_fb=None, lock_fb_level=1,
                 max_current=32, lock_settle_ms=1000):
        self.pilot = pilot
        self.contactor = contactor
        self._pp = pp_volts
        self._pp_supply = pp_supply
        self._pp_pullup = pp_pullup
        self._rcd = rcd
        self._rcd_trip = rcd_trip_level
        self._lock = lock
        self._lock_fb = lock_fb
        self._lock_level = lock_fb_level
        self._lock_settle = lock_settle_ms
        self._locked = False
        self._lock_t = ticks_ms()
        self.max_current = max_current
        if lock is not None:
            lock.value(0)
        pilot.limit = self.limit

    def tethered(self):
        return self._pp is None

    def cable_current(self):
        """Cable rating in A (None: no cable; 0: invalid coding). Tethered: the EVSE rating."""
        if self._pp is None:
            return self.max_current
        return cp.cable_current(cp.pp_ohms(self._pp(), self._pp_supply, self._pp_pullup))

    def limit(self):
        c = self.cable_current()
        if c is None:
            return 0
        return c if c < self.max_current else self.max_current

    def plugged(self):
        if self._pp is not None:
            return self.cable_current() is not None
        st = self.pilot.last_state()
        return st in ("B", "C", "D")

    def rcd_tripped(self):
        return self._rcd is not None and self._rcd.value() == self._rcd_trip

    def lock(self, locked):
        if self._lock is None:
            return
        locked = bool(locked)
        if locked != self._locked:
            self._lock_t = ticks_ms()
        self._locked = locked
        self._lock.value(1 if locked else 0)

    def locked(self):
        if self._lock_fb is None:
            return self._locked
        return self._lock_fb.value() == self._lock_level

    def faulted(self):
        if self.rcd_tripped():
            return GROUND_FAILURE
        if self.contactor is not None:
            c = self.contactor.check()
            if c is not None:
                return c
        st = self.pilot.last_state()
        if st == "E":
            return PILOT_FAULT
        if not self.pilot.diode_ok():
            return DIODE_FAULT
        if self._pp is not None and self.cable_current() == 0:
            return CABLE_FAULT
        if (self._lock_fb is not None and self.locked() != self._locked
                and ticks_diff(ticks_ms(), self._lock_t) >= self._lock_settle):
            return LOCK_FAULT
        return None
