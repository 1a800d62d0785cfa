# Power contactor driven by a relay output, checked by an auxiliary (mirror) contact.
# Mirror contact disagreeing with the command after the settle time:
#   commanded open, feedback closed  -> welded contacts (IEC 61851-1 6.3.3.x: must not
#                                       offer charging again; report a fault)
#   commanded closed, feedback open  -> contactor did not close (coil/driver fault)
from flexcharge.hal import Contactor
from flexcharge.compat import ticks_ms, ticks_diff

WELDED = "ContactorWelded"
NOT_CLOSED = "ContactorFailure"


class RelayContactor(Contactor):
    def __init__(self, relay, feedback=None, on_level=1, fb_closed_level=1, settle_ms=150):
        self._relay = relay
        self._fb = feedback
        self._on = on_level
        self._fb_closed = fb_closed_level
        self.settle_ms = settle_ms
        self._cmd = False
        self._since = ticks_ms()
        relay.value(1 - on_level)

    def _command(self, closed):
        if closed != self._cmd:
            self._since = ticks_ms()
        self._cmd = closed
        self._relay.value(self._on if closed else 1 - self._on)

    def close(self):
        self._command(True)

    def open(self):
        self._command(False)

    def commanded(self):
        return self._cmd

    def feedback(self):
        """Mirror contact: True = closed; None without a feedback input."""
        if self._fb is None:
            return None
        return self._fb.value() == self._fb_closed

    def is_closed(self):
        fb = self.feedback()
        return self._cmd if fb is None else fb

    def check(self):
        """None when consistent (or still settling), else WELDED / NOT_CLOSED."""
        fb = self.feedback()
        if fb is None or fb == self._cmd:
            return None
        if ticks_diff(ticks_ms(), self._since) < self.settle_ms:
            return None
        return NOT_CLOSED if self._cmd else WELDED

    def welded(self):
        return self.check() == WELDED
