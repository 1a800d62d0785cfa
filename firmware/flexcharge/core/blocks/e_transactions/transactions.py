# E Transactions (E01-E15), J metering (J01-J03), `tag` handling and the charging
# controller glue. Spec ids in comments; Part 6 test cases as TC_E_nn / TC_J_nn.
#
# Model. Per EVSE a slot holds the authorization (idToken, idTokenInfo, remoteStartId,
# since when) and the running Transaction. Six TxCtrlr conditions are evaluated after
# every input (hardware event, authorization, response, 1 s tick):
#   EVConnected      a connector of the EVSE is plugged and the EV is on the pilot (not state A):
#                    pilot state A with the cable still in the socket is an EV-side disconnect
#                    (E09 / E10, StopTxOnEVSideDisconnect), reported as EVCommunicationLost / Idle
#   Authorized       the slot holds an accepted authorization
#   PowerPathClosed  the contactor is closed
#   EnergyTransfer   the contactor is closed and the meter sees power
#   DataSigned       never: the boards have no signed meter (TxStartPoint/TxStopPoint
#                    valuesList in standard.py leave it out, so it cannot be configured)
#   ParkingBayOccupancy  never: no parking-bay sensor (same)
# A transaction starts when a TxStartPoint condition becomes true (E01.FR.01-.06), or when
# the driver authorizes while a start condition already holds (cable plugged earlier).
# It ends when a TxStopPoint condition that was true during the transaction becomes false
# (E06), or when nothing holds it any more (no cable and no authorization), or on stop().
#
# Persistence. Every TransactionEvent goes to the TxQueue (persisted first, then sent,
# removed after its CALLRESULT); the transaction's own record (TxStore) is rewritten after
# the queue entry, so at boot the queue is the truth for seqNo (reconciled upwards).
# A transaction found running at boot was cut by a power loss or a crash: OCPP 2.0.1 has
# no way to resume it (resumption is OCPP 2.1 E17), so it is ended with the next seqNo,
# triggerReason AbnormalCondition and stoppedReason PowerLoss (reset cause "power") or
# Reboot (other causes) -- never dropped.
import asyncio

from flexcharge.core.router import Block, on
from flexcharge.core import timefmt
from flexcharge.compat import sleep_ms, ticks_ms, ticks_diff
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected
from flexcharge.core.blocks.j_meter_values import metering as mtr
from flexcharge.core.blocks.e_transactions.txqueue import TxQueue
from flexcharge.core.blocks.e_transactions.transaction import Transaction, TxStore, new_id
from flexcharge.core.blocks.e_transactions.evse_control import EvseControl

EV_CONNECTED = 1
AUTHORIZED = 2
POWER_PATH_CLOSED = 4
ENERGY_TRANSFER = 8
DATA_SIGNED = 16
PARKING_BAY = 32
_POINTS = (("EVConnected", EV_CONNECTED), ("Authorized", AUTHORIZED), ("PowerPathClosed", POWER_PATH_CLOSED),
           ("EnergyTransfer", ENERGY_TRANSFER), ("DataSigned", DATA_SIGNED), ("ParkingBayOccupancy", PARKING_BAY))

STARTED = "Started"
UPDATED = "Updated"
ENDED = "Ended"

# stoppedReason when the transaction ends because of this trigger and no reason is pending.
_REASON = {
    "EVCommunicationLost": "EVDisconnected",  # TC_E_17, TC_E_20
    "StopAuthorized": "Local",  # E07, TC_E_14
    "RemoteStop": "Remote",  # F03
    "Deauthorized": "DeAuthorized",  # TC_E_16
    "EVConnectTimeout": "Timeout",  # TC_E_39
    "EnergyLimitReached": "EnergyLimitReached",
    "ChargingStateChanged": "StoppedByEV",  # EV stopped the energy transfer (TC_E_22)
    "ResetCommand": "ImmediateReset",
    "AbnormalCondition": "Other",
}
_FAULT_REASON = {"GroundFailure": "GroundFault", "OverCurrentFailure": "OvercurrentFault"}
# Triggers reported even when the chargingState did not change.
_ALWAYS = ("Authorized", "StopAuthorized", "RemoteStart", "RemoteStop", "Deauthorized", "EVConnectTimeout",
           "EnergyLimitReached", "CablePluggedIn", "EVCommunicationLost", "Trigger", "AbnormalCondition")
# Meter-only Updates may leave an unchanged chargingState out; a triggered event always carries it (TC_F_13/14).
_METER_TRIGGERS = ("MeterValuePeriodic", "MeterValueClock")
_HW_CAUSE = {"plug": "CablePluggedIn", "unplug": "EVCommunicationLost", "ev": "ChargingStateChanged",
             "load": "ChargingStateChanged", "fault": "AbnormalCondition", "clear_fault": "ChargingStateChanged"}


def same_token(a, b):
    return a is not None and b is not None and a.get("idToken") == b.get("idToken") and a.get("type") == b.get("type")


class _Slot:
    def __init__(self, evse, board):
        self.evse = evse
        self.ctl = EvseControl(evse, board)
        self.tx = None
        self.auth = None  # {"tok": idToken, "info": idTokenInfo, "rsid": remoteStartId|None, "t": unix time}
        self.conds = 0  # conditions at the last evaluation (edges start transactions)
        self.limited = False  # MaxEnergyOnInvalidId reached: no more energy
        self.shown = 0  # what the Status override last saw (1 tx, 2 auth): refresh on change
        self.ev_gone = False  # EV-side disconnect: cable in the socket, pilot in state A (E09/E10)
        self.hold = None  # E09.FR.03: idToken that unlocks the cable kept locked after an EV-side disconnect
        self.floating = False  # authorized without an EVSE choice before any cable: EVSE not known yet


class Transactions(Block):
    VARIABLES = ()  # TxCtrlr, SampledDataCtrlr, AlignedDataCtrlr come from devicemodel/standard.py

    def __init__(self, station, status, auth):
        Block.__init__(self, station)
        self.status = status
        self.auth = auth
        self.reservation = None  # optional: object with allows(evse_id, id_token, group_id_token) (H01)
        self.on_idle = []  # callbacks() when the last transaction ends
        self.evse_blocked = []  # callables(evse_id[, id_token]) -> True: do not start charging there
        self.current_limits = []  # callables(evse_id) -> amps or None (smart charging plugs in here)
        self.background = True  # False in tests that drive tick()/deliver() by hand
        board = station.board
        storage = board.storage
        self.queue = TxQueue(storage, station.log)
        self.store = TxStore(storage, station.log)
        self.slots = tuple(_Slot(e, board) for e in station.evses)
        self._kick = asyncio.Event()
        self._attempts = 0
        self._next_aligned = None
        self._next_aligned_end = None
        # Order with StatusNotification (g_availability/status.py): events queued so far (this boot's
        # count plus what the queue held at boot).
        self._pushed = len(self.queue)
        if status is not None:
            status.overrides.append(self._status_override)
            status.order = self

    # -- public API (issue 4 contract) ---------------------------------------------------------
    def active(self, evse_id):
        s = self._slot(evse_id)
        return s.tx if s is not None else None

    def find(self, transaction_id):
        for s in self.slots:
            if s.tx is not None and s.tx.id == transaction_id:
                return s.tx
        return None

    def all_active(self):
        return [s.tx for s in self.slots if s.tx is not None]

    def idle(self):
        for s in self.slots:
            if s.tx is not None:
                return False
        return True

    async def remote_start(self, evse_id, id_token, remote_start_id, charging_profile=None, group=None):
        """F01/F02. Returns "Accepted"/"Rejected" at once; authorization (AuthorizeRemoteStart)
        and the start follow in the background: a handler must not wait for a CALL of ours."""
        if evse_id is None:
            slot = self._free_slot(id_token)  # F01: the station picks an EVSE
        else:
            slot = self._slot(evse_id)
        if slot is None or slot.auth is not None or slot.ctl.faulted():
            return "Rejected"
        if self._blocked(slot, id_token) or not self._tx_allowed():
            return "Rejected"
        self.station.spawn(self._remote_authorize(slot, id_token, remote_start_id, group))
        return "Accepted"

    async def remote_stop(self, transaction_id):
        """F03: treated like a local stop with stoppedReason Remote (TxStopPoint decides
        whether the transaction ends now or when the cable goes)."""
        for s in self.slots:
            if s.tx is not None and s.tx.id == transaction_id:
                if s.auth is None:
                    self._end(s, "RemoteStop", "Remote")  # nothing to deauthorize: end it now
                else:
                    self._deauthorize(s, "RemoteStop", "Remote")
                return "Accepted"
        return "Rejected"

    async def stop(self, evse_id, stopped_reason, trigger_reason):
        """End the transaction(s) now, whatever TxStopPoint says (Reset, availability).
        evse_id None: every EVSE."""
        for s in self.slots:
            if evse_id is not None and s.evse.id != evse_id:
                continue
            if s.tx is None:
                s.auth = None
                continue
            s.auth = None
            self._apply(s)
            self._end(s, trigger_reason, stopped_reason)

    # -- order with StatusNotification (see g_availability/status.py) ---------------------------
    def tx_order(self):
        return self._pushed

    def tx_done(self):
        return self._pushed - len(self.queue)

    async def tx_delivered(self, n):
        """Wait until the first n TransactionEvents are acknowledged (or dropped per E13); False
        when the link goes down first."""
        while self.tx_done() < n:
            if not self.background:
                return True  # no sender task (tests drive deliver() by hand): nothing to wait for
            if not self.station.online:
                return False
            await asyncio.sleep(0.02)
        return True

    def on_hw_event(self, kind, data):
        """Every board event (the App forwards them all): plug, unplug, ev, load, fault,
        clear_fault, tag. Unknown kinds are ignored."""
        if kind == "tag":
            self.station.spawn(self._on_tag(data))
            return
        cause = _HW_CAUSE.get(kind)
        if cause is None:
            return
        s = self._slot(data.get("evse"))
        if s is None:
            return
        if kind == "clear_fault":
            s.ctl.clear_fault()
        if kind == "plug":
            self._adopt(s)
        if kind == "unplug" and s.auth is not None and s.tx is not None:
            if self._dm_bool("TxCtrlr", "StopTxOnEVSideDisconnect", True):
                # E10/TC_E_17: unplugging at the EV side deauthorizes the transaction.
                s.auth = None
                if s.tx.stopped_reason is None:
                    s.tx.stopped_reason = "EVDisconnected"
        hint = _FAULT_REASON.get(data.get("code")) if kind == "fault" else None
        self._evaluate(s, cause, hint=hint)
        if self.status is not None and kind in ("plug", "unplug", "fault", "clear_fault"):
            self.status.refresh(s.evse.id)  # cable/fault statuses (idempotent if the App did it too)

    def trigger_transaction_event(self, evse_id=None):
        """F06 TriggerMessage(TransactionEvent): coroutine, or None when no transaction is
        running there (the caller answers Rejected)."""
        slots = [s for s in self.slots if s.tx is not None and (evse_id is None or s.evse.id == evse_id)]
        if not slots:
            return None

        async def go():
            for s in slots:
                if s.tx is not None:
                    mv = self._sample(s, self._list("SampledDataCtrlr", "TxUpdatedMeasurands"), mtr.TRIGGER)
                    self._event(s, UPDATED, "Trigger", self._charging_state(s, s.conds), meter=mv)

        return go()

    def trigger_meter_values(self, evse_id=None):
        """F06 TriggerMessage(MeterValues): coroutine sending MeterValues (context Trigger,
        AlignedDataCtrlr.Measurands) for one EVSE or all; None for an unknown EVSE."""
        slots = [s for s in self.slots if evse_id is None or s.evse.id == evse_id]
        if not slots:
            return None

        async def go():
            for s in slots:
                mv = self._sample(s, self._list("AlignedDataCtrlr", "Measurands"), mtr.TRIGGER)
                if mv is not None:
                    await self._send_meter_values(s.evse.id, mv, True)

        return go()

    # -- CSMS requests ----------------------------------------------------------------------
    @on("GetTransactionStatus")
    def get_transaction_status(self, p):
        tid = p.get("transactionId")
        if tid is None:
            return {"messagesInQueue": len(self.queue) > 0}  # E14.FR.06/07, TC_E_33/34
        # E14.FR.01-05, TC_E_28..32: an unknown id is neither ongoing nor queued.
        return {"ongoingIndicator": self.find(tid) is not None, "messagesInQueue": self.queue.has(tid)}

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self):
        st = self.station
        st.on_ready.append(self._on_ready)
        self._recover()
        for s in self.slots:
            self._evaluate(s, "CablePluggedIn" if s.ctl.plugged_connector() is not None else "ChargingStateChanged")
        if self.background:
            st.spawn(self._sender())
            st.spawn(self._ticker())

    def _on_ready(self, first):
        self._kick.set()  # E04/E11: queued events go out after reconnect, once Accepted

    async def _ticker(self):
        while True:
            await asyncio.sleep(1)
            try:
                self.tick()
            except Exception as e:
                self.station.log.error("transactions tick: %r" % (e,))

    # -- boot recovery -------------------------------------------------------------------------
    def _recover(self):
        st = self.station
        try:
            cause = st.board.reset.cause()
        except Exception:
            cause = "power"
        reason = "PowerLoss" if cause in (None, "power") else "Reboot"
        summary = self.queue.summary()
        known = {}
        for tx in self.store.load_all():
            known[tx.id] = True
            q = summary.get(tx.id)
            if q is not None:
                if q[0] + 1 > tx.seq_no:
                    tx.seq_no = q[0] + 1  # the queue entry was written, the record not yet
                if q[1] == "E":
                    self.store.remove(tx.evse_id)  # Ended already queued before the cut
                    continue
            self._end_recovered(tx, reason)
        for tid in summary:
            seq, typ, name = summary[tid]
            if tid in known or typ == "E":
                continue
            # Started (or later) queued but its record never written: rebuild from the entry.
            p = self.queue.read(name) or {}
            ev = p.get("evse") or {}
            tx = Transaction(tid, ev.get("id", 0), ev.get("connectorId"))
            tx.seq_no = seq + 1
            tx.evse_sent = 2
            tx.last_t = _parse_time(p.get("timestamp"))
            self._end_recovered(tx, reason)

    def _end_recovered(self, tx, reason):
        s = self._slot(tx.evse_id)
        if s is not None:
            s.tx = tx
            s.auth = None
            self._end(s, "AbnormalCondition", reason)
        else:
            # The EVSE left the configuration: still end the transaction, without meter values.
            self._push(tx, ENDED, "AbnormalCondition", "Idle", reason, None, tx.ended_values)
            self.store.remove(tx.evse_id)

    # -- authorization inputs --------------------------------------------------------------------
    async def _on_tag(self, data):
        tok = {"idToken": data.get("id"), "type": data.get("type") or "ISO14443"}
        st = self.station
        evse_id = data.get("evse")
        if evse_id is None and self.auth.is_master_pass(tok) and not self.idle():
            await self._master_pass_all(tok)  # C16 without an EVSE choice: every session it may stop
            return
        s = self._tag_slot(evse_id, tok)
        if s is None:
            if evse_id is None and not self.idle():
                # Perhaps a master pass the station has not seen yet: only the CSMS can tell (C16).
                info = await self.auth.authorize(tok, None)
                if self.auth.is_master_pass(tok, info):
                    await self._master_pass_all(tok, info)
                    return
                # C09.FR.03: an idToken of the starting token's group stops that session. Without an
                # EVSE choice that is only unambiguous when exactly one session is of its group.
                mine = [x for x in self.slots if x.auth is not None
                        and self.auth.may_stop(x.auth["tok"], x.auth["info"], tok, info)]
                if len(mine) == 1:
                    self._deauthorize(mine[0], "StopAuthorized", "Local", stop_token=tok)
                    return
            st.report("authorize", {"id": tok["idToken"], "status": "NoEVSE"})
            return
        a = s.auth
        if a is None and s.hold is not None and same_token(s.hold, tok):
            # E09.FR.03: the idToken of the ended session unlocks the cable kept locked.
            s.hold = None
            self._apply(s)
            st.report("authorize", {"evse": s.evse.id, "id": tok["idToken"], "status": "Unlocked"})
            return
        if a is not None:
            # C01/C09/C16: the same id, one of its group, or a master pass stops the session.
            if same_token(a["tok"], tok):
                info = a["info"]
            else:
                info = await self.auth.authorize(tok, s.evse.id)
            if s.auth is not a:
                return  # the session changed while we asked
            if not self.auth.may_stop(a["tok"], a["info"], tok, info):
                st.report("authorize", {"evse": s.evse.id, "id": tok["idToken"], "status": "NotAllowedToStop"})
                return
            master = not same_token(a["tok"], tok) and self.auth.is_master_pass(tok)
            self._deauthorize(s, "StopAuthorized", "MasterPass" if master else "Local", stop_token=tok)
            return
        if self.auth.is_master_pass(tok):
            # C16: a master pass stops transactions, it does not start them.
            st.report("authorize", {"evse": s.evse.id, "id": tok["idToken"], "status": "MasterPass"})
            return
        if self._blocked(s, tok) or not self._tx_allowed():
            st.report("authorize", {"evse": s.evse.id, "id": tok["idToken"], "status": "Blocked"})
            return
        info = await self.auth.authorize(tok, s.evse.id)
        if self.auth.is_master_pass(tok, info):
            # C16: first seen here, the AuthorizeResponse's group makes it a master pass: it starts nothing.
            st.report("authorize", {"evse": s.evse.id, "id": tok["idToken"], "status": "MasterPass"})
            if not self.idle():
                await self._master_pass_all(tok, info)
            return
        status = info.get("status") if isinstance(info, dict) else None
        if status == "Accepted" and not self._reservation_allows(s, tok, info):
            status = "Reserved"  # H01: reserved for another idToken / group
        st.report("authorize", {"evse": s.evse.id, "id": tok["idToken"], "status": status})
        if status != "Accepted" or s.auth is not None:
            return
        if evse_id is None and len(self.slots) > 1 and s.ctl.plugged_connector() is None:
            # EVSE choice (issue 8, README "EVSE choice"): on a multi-EVSE station an idToken presented
            # with no EVSE chosen and no cable plugged names no EVSE. The session is parked on a free
            # slot but the EVSE is not known: with TxStartPoint Authorized the Started event has no
            # `evse`; the first cable plugged into a free EVSE takes the session, and the first event
            # after that carries evse (TransactionEventRequest.evse: "provided in the first
            # TransactionEventRequest after the EVSE is known"; E01.FR.01-05 start points, C01).
            s.floating = True
        self._authorize(s, tok, info, None, "Authorized")

    async def _master_pass_all(self, tok, info=None):
        if info is None:
            info = await self.auth.authorize(tok, None)
        for s in self.slots:
            if s.auth is not None and self.auth.may_stop(s.auth["tok"], s.auth["info"], tok, info):
                self._deauthorize(s, "StopAuthorized", "MasterPass", stop_token=tok)

    async def _remote_authorize(self, s, tok, rsid, group=None):
        if self._dm_bool("AuthCtrlr", "AuthorizeRemoteStart", False):
            info = await self.auth.authorize(tok, s.evse.id)  # F01.FR.02 / TC_E_13 step 3
            if not isinstance(info, dict) or info.get("status") != "Accepted":
                self.station.report("authorize", {"evse": s.evse.id, "id": tok.get("idToken"),
                                                  "status": info.get("status") if isinstance(info, dict) else None})
                return
        else:
            info = {"status": "Accepted"}  # F01.FR.01: trusted as authorized by the CSMS
            if group:
                info["groupIdToken"] = group  # the request's groupIdToken
            if not self._reservation_allows(s, tok, info):
                # H03.FR.04/06: reserved for a group: this token's group decides, so ask for it.
                got = await self.auth.authorize(tok, s.evse.id)
                if isinstance(got, dict) and got.get("status") == "Accepted":
                    info = got
        if s.auth is not None:
            return
        if not self._reservation_allows(s, tok, info):
            # H03: not the reserved token nor of its group: nothing starts, the reservation stays.
            self.station.report("authorize", {"evse": s.evse.id, "id": tok.get("idToken"), "status": "Reserved"})
            return
        self._authorize(s, tok, info, rsid, "RemoteStart")

    def _authorize(self, s, tok, info, rsid, cause):
        s.auth = {"tok": tok, "info": info, "rsid": rsid, "t": self.station.now(),
                  "rid": self._consume_reservation(s, tok, info)}
        s.hold = None
        s.limited = False
        tx = s.tx
        if tx is not None:
            if s.auth["rid"] is not None:
                tx.reservation_id = s.auth["rid"]
            tx.id_token = tok
            tx.token_sent = False  # E01: the first event after authorization carries idToken
            if rsid is not None:
                tx.remote_start_id = rsid
                tx.rsid_sent = False
        self._evaluate(s, cause)

    def _deauthorize(self, s, cause, reason, stop_token=None):
        s.auth = None
        if s.tx is not None and s.tx.stopped_reason is None:
            s.tx.stopped_reason = reason
        self._evaluate(s, cause, stop_token)

    def _invalid(self, s):
        """A TransactionEventResponse said the transaction's idToken is not Accepted."""
        if self._dm_bool("TxCtrlr", "StopTxOnInvalidId", True):
            self._deauthorize(s, "Deauthorized", "DeAuthorized")  # E05/E06, TC_E_16
        else:
            # MaxEnergyOnInvalidId: the energy this transaction may still take in total.
            # C12.FR.04 / E05 (TC_C_15_CS): StopTxOnInvalidId false -> the transaction is not
            # deauthorized; it goes on until MaxEnergyOnInvalidId is delivered (then EnergyLimitReached,
            # SuspendedEVSE, from _evaluate). No Deauthorized event meanwhile.
            s.tx.limit_wh = self.station.dm.get_int("TxCtrlr", "MaxEnergyOnInvalidId", 0)
            self.store.save(s.tx)
            self._evaluate(s, "ChargingStateChanged")

    # -- evaluation ------------------------------------------------------------------------------
    def _ev_side(self, s, cause):
        """E09/E10: the EV leaves (pilot A) while the cable stays in the socket, or comes back."""
        plugged = s.ctl.plugged_connector() is not None
        conn = plugged and s.ctl.ev_state() != "A"
        if plugged and not conn:
            if not s.conds & EV_CONNECTED:
                return cause
            s.ev_gone = True
            if s.tx is not None and s.auth is not None and self._dm_bool("TxCtrlr", "StopTxOnEVSideDisconnect", True):
                # E09.FR.01: deauthorize (the transaction ends per TxStopPoint, stoppedReason
                # EVDisconnected, E09.FR.04); E09.FR.02/03: unlock now, or keep the cable locked
                # until the idToken that started it is presented again.
                if not self._dm_bool("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", True):
                    s.hold = s.auth["tok"]
                s.auth = None
                if s.tx.stopped_reason is None:
                    s.tx.stopped_reason = "EVDisconnected"
            # E10.FR.03 / TC_E_20/24/26_CS: reported as EVCommunicationLost (chargingState Idle).
            return "EVCommunicationLost"
        if not plugged:
            s.ev_gone = False
            s.hold = None
        elif s.floating:
            s.floating = False
            if s.tx is not None:
                s.tx.evse_hidden = False  # the cable is on this EVSE after all
        if plugged and s.ev_gone:
            s.ev_gone = False
            return "CablePluggedIn"  # TC_E_26_CS step 5: the EV is back on the cable
        return cause

    def _evaluate(self, s, cause, stop_token=None, hint=None):
        cause = self._ev_side(s, cause)
        was = s.limited
        self._apply(s)
        if s.limited and not was:
            cause = "EnergyLimitReached"  # MaxEnergyOnInvalidId just reached
        c = self._conditions(s)
        rose = c & ~s.conds
        s.conds = c
        cs = self._charging_state(s, c)
        tx = s.tx
        if tx is None:
            start = self._points("TxStartPoint")
            auth_now = rose & AUTHORIZED and (c & start)
            if (rose & start) or auth_now:
                if c & (EV_CONNECTED | AUTHORIZED) and self._tx_allowed():
                    self._begin(s, cause, cs, c)
            self._refresh(s)
            return
        if tx.connector_id is None and c & EV_CONNECTED:
            tx.connector_id = s.ctl.plugged_connector()  # cable after authorization: report it next
        tx.seen |= c
        fell = tx.seen & self._points("TxStopPoint") & ~c
        if fell or not c & (EV_CONNECTED | AUTHORIZED):
            reason = tx.stopped_reason or hint or _REASON.get(cause, "Other")
            self._end(s, cause, reason, stop_token)
            return
        if cause == "CablePluggedIn" and cs in ("SuspendedEV", "SuspendedEVSE", "Charging") \
                and tx.charging_state != "EVConnected":
            # TC_E_38_CS: the plug-in event reports EVConnected (reusable state EVConnectedPreSession);
            # that the EV is not ready follows as its own ChargingStateChanged -> SuspendedEV.
            self._event(s, UPDATED, cause, "EVConnected")
            cause = "ChargingStateChanged"
        if cs != tx.charging_state or cause in _ALWAYS or not tx.token_sent or stop_token is not None:
            trigger = cause
            if cause not in _ALWAYS and cs != tx.charging_state:
                trigger = "ChargingStateChanged"
            self._event(s, UPDATED, trigger, cs, id_token=stop_token)
        self._refresh(s)

    def _apply(self, s):
        amps = self._allowed(s)
        s.ctl.apply(amps)
        # Keep the cable locked while a session is authorized on a plugged socket (and, E09.FR.03,
        # after an EV-side disconnect until the idToken is presented again).
        want = s.auth is not None or s.hold is not None
        for con in s.evse.connectors:
            hw = con.hw
            if hw is not None and hw.plugged():
                try:
                    hw.lock(want)
                except Exception:
                    pass

    def rate_changed(self, evse_id, report=True):
        """K08 -> control: the smart-charging limit of evse_id changed. Apply it now; during a
        transaction report it (TransactionEvent Updated, triggerReason ChargingRateChanged) with
        the offered current and power (J: Current.Offered / Power.Offered)."""
        s = self._slot(evse_id)
        if s is None:
            return
        self._apply(s)
        if s.tx is None or not report:
            return
        c = self._conditions(s)
        s.conds = c
        mv = self._sample(s, (mtr.OFFERED, mtr.POWER_OFFERED, mtr.POWER), mtr.OTHER)
        self._event(s, UPDATED, "ChargingRateChanged", self._charging_state(s, c), meter=mv)
        self._refresh(s)

    def _allowed(self, s):
        if s.auth is None or s.limited:
            return 0
        if s.tx is not None and s.tx.limit_wh is not None and self._limit_reached(s):
            s.limited = True
            return 0
        amps = s.evse.max_current
        for f in self.current_limits:
            try:
                v = f(s.evse.id)
            except Exception as e:
                self.station.log.warn("current limit hook failed: %r" % (e,))
                v = None
            if v is not None and v < amps:
                amps = v
        return amps

    def _limit_reached(self, s):
        tx = s.tx
        if tx is None or tx.limit_wh is None:
            return False
        e = s.ctl.energy_mwh()
        if e is None or tx.start_mwh is None:
            return True  # nothing to measure with: do not deliver unaccounted energy
        return e - tx.start_mwh >= tx.limit_wh * 1000

    def _conditions(self, s):
        c = 0
        if s.ctl.plugged_connector() is not None and s.ctl.ev_state() != "A":
            c |= EV_CONNECTED  # pilot state A: the EV is gone even if the cable is in the socket
        if s.auth is not None:
            c |= AUTHORIZED
        if s.ctl.closed():
            c |= POWER_PATH_CLOSED
            if s.ctl.power_w() > 0:
                c |= ENERGY_TRANSFER
        return c

    def _charging_state(self, s, c):
        if not c & EV_CONNECTED:
            return "Idle"
        if s.auth is None:
            return "EVConnected"
        if c & ENERGY_TRANSFER:
            return "Charging"
        if s.ctl.offered() <= 0:
            return "SuspendedEVSE"
        return "SuspendedEV"

    def _points(self, var):
        m = 0
        for v in self.station.dm.get_list("TxCtrlr", var):
            for name, bit in _POINTS:
                if v == name:
                    m |= bit
        return m

    # -- transaction life ----------------------------------------------------------------------
    def _begin(self, s, cause, cs, c):
        st = self.station
        tx = Transaction(new_id(), s.evse.id, s.ctl.plugged_connector())
        tx.evse_hidden = s.floating  # EVSE not known yet: `evse` waits for the cable (see _on_tag)
        tx.started_at = int(st.now())
        tx.start_mwh = s.ctl.energy_mwh()
        tx.seen = c
        a = s.auth
        if a is not None:
            tx.id_token = a["tok"]
            tx.token_sent = False
            tx.reservation_id = a.get("rid")
            if a["rsid"] is not None:
                tx.remote_start_id = a["rsid"]
                tx.rsid_sent = False
        s.tx = tx
        mv = None
        if self._dm_bool("SampledDataCtrlr", "Enabled", True):
            # J02 / TC_J_07: Transaction.Begin values in the Started event.
            mv = self._sample(s, self._list("SampledDataCtrlr", "TxStartedMeasurands"), mtr.BEGIN)
        trig = cause
        if trig == "RemoteStart" or (a is not None and a["rsid"] is not None):
            trig = "RemoteStart"  # Part 6 general rule: first event after RequestStart
        self._event(s, STARTED, trig, cs, meter=mv)

    def _end(self, s, trigger, reason, stop_token=None):
        tx = s.tx
        c = self._conditions(s)
        s.conds = c
        # E06.FR.07 (TC_E_22_CS), and every other end while the EV is still on the cable: the
        # session is over, the EV is connected (not SuspendedEV/Charging); Idle once it is gone.
        cs = "EVConnected" if c & EV_CONNECTED else "Idle"
        mvs = list(tx.ended_values)
        if self._dm_bool("SampledDataCtrlr", "Enabled", True):
            mv = self._sample(s, self._list("SampledDataCtrlr", "TxEndedMeasurands"), mtr.END)
            if mv is not None:
                mvs.append(mv)  # J02 / TC_J_10: one Transaction.End sample
        self._event(s, ENDED, trigger, cs, reason=reason, id_token=stop_token, meter_list=mvs)
        s.tx = None
        s.auth = None
        s.limited = False
        s.floating = False
        self._apply(s)
        self._refresh(s)
        if self.idle():
            for cb in self.on_idle:
                try:
                    cb()
                except Exception as e:
                    self.station.log.error("on_idle callback failed: %r" % (e,))

    def _event(self, s, etype, trigger, cs, reason=None, id_token=None, meter=None, meter_list=None):
        tx = s.tx
        mvs = meter_list if meter_list is not None else ([meter] if meter is not None else [])
        if etype == UPDATED and trigger in ("MeterValuePeriodic", "MeterValueClock") and self.queue.full():
            self.station.log.warn("transaction queue full: periodic meter values not queued")
            return False
        return self._push(tx, etype, trigger, cs, reason, id_token, mvs, s)

    def _push(self, tx, etype, trigger, cs, reason, id_token, mvs, s=None):
        st = self.station
        now = st.now()
        if now < tx.last_t:
            now = tx.last_t  # clock not set yet after a power cut: keep event times monotonic
        ti = {"transactionId": tx.id}
        if cs is not None and (cs != tx.charging_state or etype != UPDATED or trigger not in _METER_TRIGGERS):
            ti["chargingState"] = cs  # meter-value-only Updates leave an unchanged state out (bytes queued)
        if etype == ENDED and reason:
            ti["stoppedReason"] = reason
        rs = tx.remote_start_id is not None and not tx.rsid_sent
        if rs:
            ti["remoteStartId"] = tx.remote_start_id
        p = {"eventType": etype, "timestamp": timefmt.iso(now), "triggerReason": trigger, "seqNo": tx.seq_no,
             "transactionInfo": ti}
        if not st.online:
            p["offline"] = True  # E04/E11/E12: happened while the link was down
        es = 2 if tx.connector_id is not None else 1
        if tx.evse_sent < es and tx.evse_id and not tx.evse_hidden:
            ev = {"id": tx.evse_id}
            if tx.connector_id is not None:
                ev["connectorId"] = tx.connector_id
            p["evse"] = ev  # E01.FR.16-ish / Part 6: first event once the EVSE (connector) is known
        tok_first = False
        if id_token is not None:
            p["idToken"] = id_token
        elif not tx.token_sent and tx.id_token is not None:
            p["idToken"] = tx.id_token
            tok_first = True
        if mvs:
            p["meterValue"] = mvs
        if tx.reservation_id is not None:
            p["reservationId"] = tx.reservation_id  # H01: the event that uses the reservation
        try:
            self.queue.push(p)  # persisted before anything else sees it
        except OSError as e:
            st.log.error("TransactionEvent not persisted: %r" % (e,))
            return False
        self._pushed += 1
        tx.seq_no += 1
        tx.reservation_id = None
        tx.last_t = now
        tx.charging_state = cs
        if rs:
            tx.rsid_sent = True
        if tok_first:
            tx.token_sent = True
        if es > tx.evse_sent:
            tx.evse_sent = es
        if etype == ENDED:
            self.store.remove(tx.evse_id)
        else:
            self.store.save(tx)
        f = {"evse": tx.evse_id, "type": etype, "id": tx.id, "seqNo": p["seqNo"], "triggerReason": trigger,
             "chargingState": cs}
        if etype == ENDED:
            f["stoppedReason"] = reason
            if s is not None and tx.start_mwh is not None:
                e = s.ctl.energy_mwh()
                if e is not None:
                    f["energyWh"] = mtr.wh(e - tx.start_mwh)
            f["duration"] = int(now - tx.started_at + 0.5) if tx.started_at else 0
        st.report("transaction", f)
        self._kick.set()
        return True

    # -- periodic work (1 s) ------------------------------------------------------------------------
    def tick(self, now=None):
        st = self.station
        dm = st.dm
        if now is None:
            now = st.now()
        sampled = self._dm_bool("SampledDataCtrlr", "Enabled", True)
        upd = dm.get_int("SampledDataCtrlr", "TxUpdatedInterval", 0) if sampled else 0
        endi = dm.get_int("SampledDataCtrlr", "TxEndedInterval", 0) if sampled else 0
        timeout = dm.get_int("TxCtrlr", "EVConnectionTimeOut", 0)
        for s in self.slots:
            self._evaluate(s, "ChargingStateChanged")  # real pilots are polled: catch EV state changes
            if s.auth is not None and s.ctl.plugged_connector() is None and timeout > 0:
                if s.tx is None or not s.tx.seen & EV_CONNECTED:
                    if now - s.auth["t"] >= timeout:
                        # E03.FR.05 / TC_E_39: no cable within EVConnectionTimeOut.
                        self._deauthorize(s, "EVConnectTimeout", "Timeout")
            tx = s.tx
            if tx is None:
                continue
            if tx.limit_wh is not None and not s.limited and self._limit_reached(s):
                self._evaluate(s, "EnergyLimitReached")
                tx = s.tx
                if tx is None:
                    continue
            if upd > 0:
                if tx.next_updated is None:
                    tx.next_updated = tx.started_at + upd
                if now >= tx.next_updated:  # integer seconds: the 1 s ticker keeps the gaps even
                    # J02 / TC_J_09: MeterValuePeriodic, Sample.Periodic, TxUpdatedMeasurands.
                    mv = self._sample(s, self._list("SampledDataCtrlr", "TxUpdatedMeasurands"), mtr.PERIODIC, now)
                    if mv is not None:
                        self._event(s, UPDATED, "MeterValuePeriodic", self._charging_state(s, s.conds), meter=mv)
                    tx.next_updated = mtr.next_after(tx.next_updated, now, upd)
            if endi > 0:
                if tx.next_ended is None:
                    tx.next_ended = tx.started_at + endi
                if now >= tx.next_ended:
                    # J02 / TC_J_10: TxEndedMeasurands every TxEndedInterval, kept for Ended.
                    mv = self._sample(s, self._list("SampledDataCtrlr", "TxEndedMeasurands"), mtr.PERIODIC, now)
                    if mv is not None:
                        tx.add_ended(mv)
                        self.store.save(tx)
                    tx.next_ended = mtr.next_after(tx.next_ended, now, endi)
        self._aligned(now)

    def _aligned(self, now):
        dm = self.station.dm
        if not self._dm_bool("AlignedDataCtrlr", "Enabled", True):
            return
        iv = dm.get_int("AlignedDataCtrlr", "Interval", 0)
        if iv > 0:
            if self._next_aligned is None:
                self._next_aligned = mtr.next_aligned(now, iv)
            elif now >= self._next_aligned:
                at = self._next_aligned
                self._next_aligned = mtr.next_aligned(now, iv)
                self._clock_values(at)
        else:
            self._next_aligned = None
        ie = dm.get_int("AlignedDataCtrlr", "TxEndedInterval", 0)
        if ie > 0:
            if self._next_aligned_end is None:
                self._next_aligned_end = mtr.next_aligned(now, ie)
            elif now >= self._next_aligned_end:
                at = self._next_aligned_end
                self._next_aligned_end = mtr.next_aligned(now, ie)
                meas = self._list("AlignedDataCtrlr", "TxEndedMeasurands")
                for s in self.slots:
                    if s.tx is not None:
                        mv = self._sample(s, meas, mtr.CLOCK, at)  # TC_J_03: Sample.Clock in Ended
                        if mv is not None:
                            s.tx.add_ended(mv)
                            self.store.save(s.tx)
        else:
            self._next_aligned_end = None

    def _clock_values(self, at):
        # J01 / TC_J_01, TC_J_02: a transaction's EVSE reports in TransactionEvent
        # (MeterValueClock), idle EVSEs in MeterValues; SendDuringIdle: only while no
        # transaction runs anywhere (TC_J_06).
        meas = self._list("AlignedDataCtrlr", "Measurands")
        if not meas:
            return
        if self._dm_bool("AlignedDataCtrlr", "SendDuringIdle", False) and not self.idle():
            return
        for s in self.slots:
            mv = self._sample(s, meas, mtr.CLOCK, at)
            if mv is None:
                continue
            if s.tx is not None:
                self._event(s, UPDATED, "MeterValueClock", self._charging_state(s, s.conds), meter=mv)
            elif self.station.online:
                self.station.spawn(self._send_meter_values(s.evse.id, mv, False))

    async def _send_meter_values(self, evse_id, mv, raise_errors):
        try:
            await self.station.call("MeterValues", {"evseId": evse_id, "meterValue": [mv]})
        except (NotConnected, CallError, CallTimeout) as e:
            # Not transaction-related: not queued (E04 covers TransactionEvent only).
            self.station.log.info("MeterValues not delivered: %r" % (e,))
            if raise_errors:
                raise

    def _sample(self, s, measurands, context, at=None):
        if not measurands:
            return None
        t = timefmt.iso(at if at is not None else self.station.now())
        return mtr.meter_value(t, s.ctl.reading(), measurands, context, s.ctl.offered())

    # -- delivery (E04, E11-E13) ------------------------------------------------------------------------
    async def _sender(self):
        while True:
            try:
                await self.deliver()
            except Exception as e:
                self.station.log.error("transaction sender: %r" % (e,))
            await self._kick.wait()
            self._kick.clear()

    async def deliver(self):
        """Send queued TransactionEvents in order until the queue is empty or the link is
        not usable. An entry leaves the queue only after its CALLRESULT, or after
        MessageAttempts transmissions that got a CALLERROR or no answer (E13)."""
        st = self.station
        while True:
            if not st.online:
                return
            h = self.queue.head()
            if h is None:
                return
            name, payload = h
            if self.status is not None:
                await self.status.settle(self.tx_done())  # status changes made before this event go first
                if not st.online:
                    return
            try:
                # The response is applied as it is read, before the next CSMS frame (a ClearCache
                # right behind it must not be undone by this TransactionEvent's idTokenInfo).
                await st.call("TransactionEvent", payload, on_result=lambda r: self._respond(payload, r))
            except NotConnected:
                return  # kept; sent after reconnect (E04/E11)
            except (CallError, CallTimeout) as e:
                self._attempts += 1
                dm = st.dm
                n = dm.get_int("OCPPCommCtrlr", "MessageAttempts", 3, var_instance="TransactionEvent")
                if self._attempts >= (n if n > 0 else 1):
                    # E13.FR.03 / TC_E_41, TC_E_50: give up on this one message.
                    st.log.warn("TransactionEvent %s dropped after %d attempts: %r" % (name, self._attempts, e))
                    self.queue.pop(name)
                    self._attempts = 0
                    continue
                iv = dm.get_int("OCPPCommCtrlr", "MessageAttemptInterval", 60, var_instance="TransactionEvent")
                # E13.FR.02: wait interval x the number of transmissions so far.
                await asyncio.sleep(iv * self._attempts)
                continue
            self.queue.pop(name)
            self._attempts = 0

    async def drained(self, timeout_s):
        """Wait until every queued TransactionEvent is acknowledged, the link is down, or timeout_s
        passes (a Reset sends its Ended event before rebooting, TC_B_22_CS step 3)."""
        t0 = ticks_ms()
        while len(self.queue) and self.station.online and ticks_diff(ticks_ms(), t0) < timeout_s * 1000:
            await sleep_ms(50)
        return len(self.queue) == 0

    def _respond(self, payload, res):
        try:
            self._on_response(payload, res)
        except Exception as e:
            self.station.log.error("TransactionEventResponse handling: %r" % (e,))

    def _on_response(self, payload, res):
        info = res.get("idTokenInfo") if isinstance(res, dict) else None
        tok = payload.get("idToken")
        if info is None or tok is None:
            return
        try:
            self.auth.update(tok, info)  # C10/C03: the response updates the cache
        except Exception as e:
            self.station.log.warn("auth.update failed: %r" % (e,))
        if info.get("status") == "Accepted":
            return
        tid = payload["transactionInfo"]["transactionId"]
        for s in self.slots:
            tx = s.tx
            if tx is not None and tx.id == tid and s.auth is not None and same_token(s.auth["tok"], tok):
                self._invalid(s)

    # -- helpers -------------------------------------------------------------------------------------
    def _slot(self, evse_id):
        for s in self.slots:
            if s.evse.id == evse_id:
                return s
        return None

    def _tag_slot(self, evse_id, tok):
        if evse_id is not None:
            return self._slot(evse_id)
        if len(self.slots) == 1:
            return self.slots[0]  # one EVSE: a tag without an EVSE choice is for it (C09.FR.03, E07)
        for s in self.slots:  # the driver's own session: stop it
            if s.auth is not None and same_token(s.auth["tok"], tok):
                return s
        for s in self.slots:  # an EV waiting for authorization
            if s.auth is None and s.ctl.plugged_connector() is not None and not s.ctl.faulted():
                return s
        return self._free_slot(tok)

    def _free_slot(self, tok):
        for s in self.slots:
            if s.auth is None and s.tx is None and not s.ctl.faulted() and not self._blocked(s, tok):
                return s
        return None

    def _blocked(self, s, tok):
        eid = s.evse.id
        for f in self.evse_blocked:
            try:
                r = f(eid, tok)
            except TypeError:
                r = f(eid)
            if r:
                return True
        return False

    def _consume_reservation(self, s, tok, info):
        # H01/H03: the authorized token uses its reservation on this EVSE; its id goes in the next event.
        r = self.reservation
        if r is None or not hasattr(r, "consume"):
            return None
        g = info.get("groupIdToken") if isinstance(info, dict) else None
        try:
            return r.consume(s.evse.id, tok, g)
        except Exception as e:
            self.station.log.warn("reservation consume failed: %r" % (e,))
            return None

    def _reservation_allows(self, s, tok, info):
        r = self.reservation
        if r is None:
            return True
        g = info.get("groupIdToken") if isinstance(info, dict) else None
        try:
            return r.allows(s.evse.id, tok, g)
        except Exception as e:
            self.station.log.warn("reservation check failed: %r" % (e,))
            return True

    def _tx_allowed(self):
        reg = self.station.registration
        if reg in ("Pending", "Rejected"):
            return self._dm_bool("TxCtrlr", "TxBeforeAcceptedEnabled", False)
        return True

    def _refresh(self, s):
        now = (1 if s.tx is not None else 0) | (2 if s.auth is not None else 0)
        if now != s.shown and self.status is not None:
            s.shown = now
            self.status.refresh(s.evse.id)

    def _adopt(self, m):
        """A cable plugged into EVSE m, which has no session: a floating session (authorized with no
        EVSE known) moves here; its next event names this EVSE (see _on_tag, "EVSE choice")."""
        if m.auth is not None or m.tx is not None:
            m.floating = False  # its own session: the cable says the EVSE is this one
            if m.tx is not None and m.tx.evse_hidden:
                m.tx.evse_hidden = False
                self.store.save(m.tx)
            return
        for f in self.slots:
            if f is m or not f.floating or f.auth is None or f.ctl.plugged_connector() is not None:
                continue
            tx = f.tx
            m.auth, f.auth = f.auth, None
            m.tx, f.tx = tx, None
            m.conds = f.conds
            f.floating = False
            f.conds = 0
            if tx is not None:
                self.store.remove(tx.evse_id)
                tx.evse_id = m.evse.id
                tx.evse_hidden = False
                self.store.save(tx)
            self._apply(f)
            self._refresh(f)
            break
        m.floating = False

    def _status_override(self, c):
        s = self._slot(c.evse_id)
        if s is None or (s.tx is None and s.auth is None) or s.floating:
            return None  # a floating session occupies no connector until a cable says where it is
        cid = s.tx.connector_id if s.tx is not None else None
        if cid is None or cid == c.id:
            return "Occupied"  # G01: a session (even before the cable) occupies the connector
        return None

    def _dm_bool(self, comp, var, default):
        v = self.station.dm.get_bool(comp, var, default)
        return default if v is None else v

    def _list(self, comp, var):
        return self.station.dm.get_list(comp, var)


def _parse_time(s):
    try:
        return timefmt.parse(s)
    except (ValueError, TypeError):
        return 0
