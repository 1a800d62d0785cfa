# H01–H04 Reservation: ReserveNow (a specific EVSE, a connector type, or any EVSE),
# CancelReservation, expiry, ReservationStatusUpdate, and the Reserved connector status.
#
# Reservations are persisted with every change (TC_B_24_CS: Reserved persists a reset), and so
# are the ReservationStatusUpdate messages not yet delivered. Transactions asks allows() before
# it starts charging for an idToken and calls consume() when it does (H03.FR.09); consume()
# returns the reservationId for the TransactionEvent.
import json
import asyncio

from flexcharge.core.router import Block, on
from flexcharge.core import timefmt
from flexcharge.core.station import ACCEPTED as REG_ACCEPTED
from flexcharge.core.blocks.g_availability.status import RESERVED, UNAVAILABLE
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected

FILE = "reservations.json"
_MAX = 16  # reservations kept at most (more than EVSEs x a few is a CSMS bug, not a use case)

ACCEPTED = "Accepted"
FAULTED = "Faulted"
OCCUPIED = "Occupied"
REJECTED = "Rejected"
UNAVAILABLE_ST = "Unavailable"

# EVSE states as a reservation sees them
_FREE = 0
_RESERVED = 1
_OCCUPIED = 2
_UNAVAILABLE = 3
_FAULTED = 4

_ANY_TYPE = ("Unknown", "Undetermined")


def _tok(t):
    """idToken string of an IdTokenType dict (or a plain string)."""
    if t is None:
        return None
    if isinstance(t, dict):
        return t.get("idToken")
    return t


def _same_token(a, b):
    if a is None or b is None:
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.get("idToken") == b.get("idToken") and a.get("type", b.get("type")) == b.get("type", a.get("type"))
    return _tok(a) == _tok(b)


class Reservation(Block):
    POLL_S = 1  # expiry check period

    def __init__(self, station, status, transactions, availability=None):
        Block.__init__(self, station)
        self.status = status
        self.tx = transactions
        self.availability = availability
        self.items = []  # dicts: id, evse (int or None), token, group (dict or None), expiry (unix s), ctype
        self.outbox = []  # ReservationStatusUpdate payloads not yet delivered
        self._sending = False
        self._load()
        status.overrides.append(self._override)
        if availability is not None:
            availability.on_change.append(self.check)  # H01.FR.17
        station.on_ready.append(self._on_ready)

    def start(self):
        self.station.spawn(self._run())

    # -- persistence ------------------------------------------------------------------------
    def _load(self):
        raw = self.station.board.storage.read(FILE)
        if not raw:
            return
        try:
            d = json.loads(raw)
            self.items = [r for r in d.get("r", ()) if isinstance(r, dict) and "id" in r]
            self.outbox = list(d.get("out", ()))
        except (ValueError, AttributeError, TypeError) as e:
            self.station.log.warn("reservations file ignored: %r" % (e,))

    def _save(self):
        self.station.board.storage.write(FILE, json.dumps({"r": self.items, "out": self.outbox}))

    # -- EVSE state as seen for reserving -----------------------------------------------------
    def _ctype(self, evse_id, cid):
        try:
            return self.station.dm.get("Connector", "ConnectorType", evse=evse_id, connector=cid)
        except Exception:
            return None

    def _fits(self, e, ctype):
        if not ctype or ctype in _ANY_TYPE:
            return True
        for c in e.connectors:
            t = self._ctype(e.id, c.id)
            if t is None or t == ctype:
                return True
        return False

    def _state(self, e, skip_id=None):
        """What an EVSE is for a new reservation; skip_id: a reservation being replaced (H01.FR.02)."""
        faulted = 0
        for c in e.connectors:
            hw = c.hw if hasattr(c, "hw") else None
            if hw is not None and hw.faulted():
                faulted += 1
        if faulted == len(e.connectors):
            return _FAULTED
        if self.availability is not None and self.availability.evse_inoperative(e.id):
            return _UNAVAILABLE
        for r in self.items:
            if r["evse"] == e.id and r["id"] != skip_id:
                return _RESERVED
        if self.tx.active(e.id) is not None:
            return _OCCUPIED
        for c in e.connectors:
            hw = c.hw if hasattr(c, "hw") else None
            if hw is not None and hw.plugged():
                return _OCCUPIED
        return _FREE

    def _unspecified(self, skip_id=None):
        return [r for r in self.items if r["evse"] is None and r["id"] != skip_id]

    def _free(self, skip_id=None, ctype=None):
        return [e for e in self.station.evses if self._fits(e, ctype) and self._state(e, skip_id) == _FREE]

    # -- H01 ReserveNow ---------------------------------------------------------------------------
    @on("ReserveNow")
    def reserve_now(self, p):
        st = self.station
        dm = st.dm
        # H01.FR.01 / TC_H_22_CS: reservations not supported or disabled
        if not dm.get_bool("ReservationCtrlr", "Available", True) or not dm.get_bool("ReservationCtrlr", "Enabled", True):
            return {"status": REJECTED}
        try:
            expiry = timefmt.parse(p["expiryDateTime"])
        except ValueError:
            return {"status": REJECTED}
        if expiry <= st.now():
            return {"status": REJECTED}
        rid = p["id"]
        ctype = p.get("connectorType")
        evse_id = p.get("evseId")
        if evse_id == 0:
            evse_id = None
        if evse_id is not None:
            e = st.evse(evse_id)
            if e is None or not self._fits(e, ctype):
                return {"status": REJECTED}
            s = self._state(e, rid)
            if s == _FAULTED:
                return {"status": FAULTED}
            if s == _UNAVAILABLE:
                return {"status": UNAVAILABLE_ST}  # H01.FR.14
            if s != _FREE:
                return {"status": OCCUPIED}  # H01.FR.11 reserved, H01.FR.13 occupied
            # A specific reservation may not take the last EVSE an unspecified one counts on.
            if len(self._free(rid)) <= len(self._unspecified(rid)):
                return {"status": OCCUPIED}
        else:
            # H01.FR.19: unspecified EVSE only with NonEvseSpecific; without a type filter this
            # is H01(S1), with one H01(S3) (H01.FR.06: a connector type on any EVSE).
            if not ctype and not dm.get_bool("ReservationCtrlr", "NonEvseSpecific", False):
                return {"status": REJECTED}
            cands = [e for e in st.evses if self._fits(e, ctype)]
            if not cands:
                return {"status": REJECTED}
            states = [self._state(e, rid) for e in cands]
            # H01.FR.04/H01.FR.20: accept while at least one matching EVSE stays free for each
            # unspecified reservation.
            free = states.count(_FREE)
            if free <= len([r for r in self._unspecified(rid) if self._overlaps(r, ctype)]):
                if _RESERVED in states or _OCCUPIED in states or free:
                    return {"status": OCCUPIED}  # H01.FR.11 / H01.FR.13
                if all(s == _FAULTED for s in states):
                    return {"status": FAULTED}
                return {"status": UNAVAILABLE_ST}  # H01.FR.14
        self._drop(rid)  # H01.FR.02: the same id replaces the old reservation
        if len(self.items) >= _MAX:
            return {"status": REJECTED}
        self.items.append({"id": rid, "evse": evse_id, "token": p["idToken"], "group": p.get("groupIdToken"),
                           "expiry": expiry, "ctype": ctype})
        self._save()
        self.status.refresh()
        return {"status": ACCEPTED}

    def _overlaps(self, r, ctype):
        return not ctype or not r.get("ctype") or r.get("ctype") == ctype or ctype in _ANY_TYPE

    # -- H02 CancelReservation --------------------------------------------------------------------
    @on("CancelReservation")
    def cancel_reservation(self, p):
        if not self._drop(p["reservationId"]):
            return {"status": REJECTED}  # H02.FR.01
        self._save()
        self.status.refresh()  # H02.FR.02: Reserved -> Available
        return {"status": ACCEPTED}

    def _drop(self, rid):
        for r in self.items:
            if r["id"] == rid:
                self.items.remove(r)
                return r
        return None

    # -- H03 use of a reservation (called by Transactions) ---------------------------------------------
    def _match(self, r, id_token, group_id_token):
        if _same_token(r["token"], id_token):
            return True
        g = r.get("group")
        # H03.FR.04/H03.FR.06: a token of the reservation's group
        return g is not None and group_id_token is not None and _tok(g) == _tok(group_id_token)

    def _find(self, evse_id, id_token, group_id_token):
        for r in self.items:
            if r["evse"] == evse_id and self._match(r, id_token, group_id_token):
                return r
        for r in self.items:
            if r["evse"] is None and self._match(r, id_token, group_id_token):
                e = self.station.evse(evse_id)
                if e is None or self._fits(e, r.get("ctype")):
                    return r
        return None

    def allows(self, evse_id, id_token, group_id_token=None):
        """May this idToken (with its groupIdToken) charge on this EVSE? (H03, F01.FR.22)"""
        specific = [r for r in self.items if r["evse"] == evse_id]
        if specific:
            for r in specific:
                if self._match(r, id_token, group_id_token):
                    return True
            return False
        if self._find(evse_id, id_token, group_id_token) is not None:
            return True
        # H01.FR.20: taking this EVSE must leave one free EVSE per unspecified reservation.
        pending = self._unspecified()
        if not pending:
            return True
        others = [e for e in self._free() if e.id != evse_id]
        return len(others) >= len(pending)

    def group_reserved(self, evse_id):
        """Does a reservation that counts on this EVSE name a groupIdToken? Then a token of unknown
        group must be authorized and its group compared before it is refused (H03.FR.04/06)."""
        specific = [r for r in self.items if r["evse"] == evse_id]
        if specific:
            return any(r.get("group") is not None for r in specific)
        return any(r.get("group") is not None for r in self._unspecified())

    def reserved_evse(self, id_token, group_id_token=None):
        """The EVSE reserved for this token, if one is (for a RequestStartTransaction without evseId)."""
        for r in self.items:
            if r["evse"] is not None and self._match(r, id_token, group_id_token):
                return r["evse"]
        return None

    def consume(self, evse_id, id_token, group_id_token=None):
        """H03.FR.09: a transaction for a matching token starts; returns the reservationId or None."""
        r = self._find(evse_id, id_token, group_id_token)
        if r is None:
            return None
        self.items.remove(r)
        self._save()
        self.status.refresh()  # Reserved -> Available/Occupied (TC_H_01_CS)
        return r["id"]

    # -- status override ---------------------------------------------------------------------------
    def _override(self, c):
        e_id = c.evse_id
        for r in self.items:
            if r["evse"] == e_id:
                ct = r.get("ctype")
                if ct and ct not in _ANY_TYPE:
                    t = self._ctype(e_id, c.id)
                    if t is not None and t != ct:
                        return UNAVAILABLE  # TC_H_15_CS: the EVSE's other connector types
                return RESERVED  # G01.FR.09: a plug-in does not change it
        pending = self._unspecified()
        if pending:
            e = self.station.evse(e_id)
            if e is not None and self._state(e) == _FREE:
                free = self._free()
                if len(free) <= len(pending):
                    return RESERVED  # H01.FR.20 / TC_H_08_CS, TC_H_14_CS
        return None

    # -- H04 expiry, H01.FR.17 removal ------------------------------------------------------------------
    def check(self):
        """Expire reservations (H04.FR.01/02) and remove those whose EVSE became Unavailable or
        Faulted (H01.FR.17); queue the ReservationStatusUpdate for each."""
        now = self.station.now()
        gone = []
        for r in list(self.items):
            why = None
            if r["expiry"] <= now:
                why = "Expired"
            elif r["evse"] is not None:
                e = self.station.evse(r["evse"])
                if e is None or self._state(e, r["id"]) in (_UNAVAILABLE, _FAULTED):
                    why = "Removed"
            else:
                if all(self._state(e) in (_UNAVAILABLE, _FAULTED) for e in self.station.evses):
                    why = "Removed"
            if why is not None:
                self.items.remove(r)
                gone.append((r["id"], why))
        if not gone:
            return gone
        for rid, why in gone:
            self.outbox.append({"reservationId": rid, "reservationUpdateStatus": why})
        self._save()
        self.status.refresh()
        self._kick()
        return gone

    async def _run(self):
        while True:
            try:
                self.check()
            except Exception as e:
                self.station.log.error("reservation check failed: %r" % (e,))
            await asyncio.sleep(self.POLL_S)

    # -- ReservationStatusUpdate delivery -------------------------------------------------------------
    def _on_ready(self, first):
        self._kick()

    def _kick(self):
        st = self.station
        if self.outbox and not self._sending and st.online and st.registration == REG_ACCEPTED:
            self._sending = True
            st.spawn(self.flush())

    async def flush(self):
        """Send the queued ReservationStatusUpdates in order; what fails stays for the next link."""
        try:
            while self.outbox:
                try:
                    await self.station.call("ReservationStatusUpdate", self.outbox[0])
                except (NotConnected, CallTimeout):
                    return
                except CallError as e:
                    self.station.log.warn("ReservationStatusUpdate refused: %s" % (e.code,))
                self.outbox.pop(0)
                self._save()
        finally:
            self._sending = False
