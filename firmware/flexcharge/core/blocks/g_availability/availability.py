# G03/G04 Change Availability of a connector, an EVSE or the whole station.
#
# Inoperative settings are flags per level: (0, 0) the station, (evse, 0) an EVSE, (evse, c)
# a connector. A connector is inoperative when any level above or at it is. The flags are
# persisted at once (G03.FR.08, G04.FR.09: state persists across reboot, TC_G_18/19/21_CS).
#
# Nesting (issue 8, decided from G03/G04): each ChangeAvailability sets the one level its `evse`
# field names (G04: no evse = the station; G03: an EVSE, or one connector of it), and the levels
# are separate persisted settings: effective = station AND EVSE AND connector operative. So an
# Operative for the EVSE (or the station) does not undo an earlier connector-level Inoperative,
# which the CSMS decided on its own; only an Operative for that connector does (G03.FR.07 for the
# addressed level). An Operative answer is Accepted even when a level above or below keeps the
# connector Unavailable: the addressed setting did change.
# While a transaction runs in the scope the answer is Scheduled (G03.FR.05, G04.FR.06) and
# the connector keeps its status until the transaction ends (TC_G_11/14/17_CS): the status
# override below only says Unavailable for a connector without a running transaction, so a
# Status.refresh() after the transaction ends applies it.
#
# The device model's Connector/EVSE/ChargingStation "Available" variables mean "exists and is
# wired for use" (appendix), not the operational state, so they are left alone; the
# AvailabilityState mirror of Status reports the result (NotifyEvent, TC_G_* step 3).
import json

from flexcharge.core.router import Block, on
from flexcharge.core.blocks.g_availability.status import UNAVAILABLE

FILE = "availability.json"

ACCEPTED = "Accepted"
REJECTED = "Rejected"
SCHEDULED = "Scheduled"


class Availability(Block):
    def __init__(self, station, status, transactions):
        Block.__init__(self, station)
        self.status = status
        self.tx = transactions
        self.off = set()  # inoperative levels: (0, 0), (evse, 0), (evse, connector)
        self.on_change = []  # callbacks() after a change of the operational state (reservations, H01.FR.17)
        self._load()
        status.overrides.append(self._override)
        transactions.evse_blocked.append(self.evse_blocked)
        # The last transaction's end applies what was Scheduled; Transactions is also asked to
        # refresh the status of an EVSE whose transaction ends while others still run.
        transactions.on_idle.append(self._on_idle)

    # -- persistence -------------------------------------------------------------------
    def _load(self):
        raw = self.station.board.storage.read(FILE)
        if not raw:
            return
        try:
            for e, c in json.loads(raw):
                self.off.add((int(e), int(c)))
        except (ValueError, TypeError) as err:
            self.station.log.warn("availability file ignored: %r" % (err,))

    def _save(self):
        self.station.board.storage.write(FILE, json.dumps([[e, c] for e, c in self.off]))

    # -- queries -------------------------------------------------------------------------
    def connector_inoperative(self, evse_id, connector_id):
        off = self.off
        return (0, 0) in off or (evse_id, 0) in off or (evse_id, connector_id) in off

    def evse_inoperative(self, evse_id):
        """True when no connector of the EVSE may be used (the EVSE, the station, or each connector off)."""
        e = self.station.evse(evse_id)
        if e is None:
            return True
        for c in e.connectors:
            if not self.connector_inoperative(evse_id, c.id):
                return False
        return True

    def evse_blocked(self, evse_id):
        # Transactions.evse_blocked: no new transaction on an inoperative EVSE; a running one
        # (Scheduled) goes on.
        return self.evse_inoperative(evse_id) and self.tx.active(evse_id) is None

    def _override(self, c):
        if not self.connector_inoperative(c.evse_id, c.id):
            return None
        t = self.tx.active(c.evse_id)
        if t is not None and getattr(t, "connector_id", None) in (None, c.id):
            return None  # Scheduled: becomes Unavailable when the transaction ends
        return UNAVAILABLE

    def _on_idle(self):
        self.status.refresh()

    # -- G03/G04 -------------------------------------------------------------------------
    @on("ChangeAvailability")
    def change_availability(self, p):
        st = self.station
        operative = p["operationalStatus"] == "Operative"
        evse = p.get("evse")
        if evse is None or evse.get("id", 0) == 0:
            if evse is not None and evse.get("connectorId"):
                return {"status": REJECTED}
            level = (0, 0)  # G04: the whole station
            evses = st.evses
        else:
            e = st.evse(evse["id"])
            cid = evse.get("connectorId")
            if e is None or (cid is not None and e.connector(cid) is None):
                return {"status": REJECTED}  # unknown EVSE or connector
            level = (e.id, cid or 0)
            evses = (e,)
        busy = False
        if operative:
            # Only the addressed level (see the nesting note at the top): other levels that are
            # still off keep their connectors Unavailable.
            changed = level in self.off
            self.off.discard(level)
        else:
            changed = level not in self.off
            self.off.add(level)
            for e in evses:
                t = self.tx.active(e.id)
                if t is not None and (level[1] == 0 or getattr(t, "connector_id", None) in (None, level[1])):
                    busy = True  # G03.FR.05 / G04.FR.06
        if changed:
            self._save()
        self.status.refresh(None if level == (0, 0) else level[0])
        if changed:
            for cb in self.on_change:
                try:
                    cb()
                except Exception as err:
                    st.log.error("availability callback failed: %r" % (err,))
        return {"status": SCHEDULED if busy else ACCEPTED}
