# F01/F02 RequestStartTransaction, F03 RequestStopTransaction, F05 UnlockConnector.
#
# Starting and stopping is the Transactions block's job (remote_start/remote_stop, which
# apply AuthorizeRemoteStart and TxStartPoint); this block checks what the request may ask
# for here: registration, EVSE, availability, reservations, the charging profile.
# A chargingProfile must be a TxProfile (any other purpose is Rejected); the smart-charging block
# (self.smart, when present) validates it (K05.FR.04/05) and installs it as the TxProfile of the
# transaction that starts (K05.FR.02/03). Without that block it is ignored (TC_K_38_CS).
from flexcharge.core.router import Block, on
from flexcharge.core.station import ACCEPTED as REG_ACCEPTED

ACCEPTED = "Accepted"
REJECTED = "Rejected"


def _awaitable(r):
    return hasattr(r, "send") or hasattr(r, "__await__")


class Remote(Block):
    def __init__(self, station, transactions, reservation=None):
        Block.__init__(self, station)
        self.tx = transactions
        self.reservation = reservation  # h_reservation.Reservation or None
        self.smart = None  # k_smart_charging.profiles.SmartCharging or None (set by the composition root)

    def _blocked(self, evse_id):
        for f in self.tx.evse_blocked:
            try:
                if f(evse_id):
                    return True
            except Exception as e:
                self.station.log.error("evse_blocked entry failed: %r" % (e,))
                return True
        return False

    def _allows(self, evse_id, id_token, group):
        r = self.reservation
        return r is None or r.allows(evse_id, id_token, group)

    def _known_group(self, id_token):
        auth = getattr(self.tx, "auth", None)
        info = auth.known_info(id_token) if auth is not None and hasattr(auth, "known_info") else None
        if info and info.get("status") == "Accepted":
            return info.get("groupIdToken")
        return None

    def _group_reserved(self, evse_id):
        r = self.reservation
        return r is not None and hasattr(r, "group_reserved") and r.group_reserved(evse_id)

    def _pick(self, id_token, group):
        """An EVSE for a RequestStartTransaction without evseId: one reserved for this token,
        else one where a cable waits for authorization, else the first free one."""
        r = self.reservation
        if r is not None:
            e = r.reserved_evse(id_token, group)
            if e is not None and not self._blocked(e):
                return e
        best = None
        best_rank = 9
        for e in self.station.evses:
            if self._blocked(e.id) or not self._allows(e.id, id_token, group):
                continue
            t = self.tx.active(e.id)
            if t is not None:
                if t.id_token is not None:
                    continue  # already someone's session
                rank = 0  # cable plugged in first (TxStartPoint EVConnected): this one
            else:
                rank = 1
                for c in e.connectors:
                    hw = getattr(c, "hw", None)
                    if hw is not None and hw.plugged():
                        rank = 0
            if rank < best_rank:
                best, best_rank = e.id, rank
        return best

    @on("RequestStartTransaction")
    async def request_start(self, p):
        st = self.station
        if st.registration != REG_ACCEPTED:
            return {"status": REJECTED}  # TC_B_02_CS step 12: not while Pending
        profile = p.get("chargingProfile")
        if profile is not None and profile.get("chargingProfilePurpose") != "TxProfile":
            return {"status": REJECTED}  # only a TxProfile belongs to a remote start
        id_token = p["idToken"]
        group = p.get("groupIdToken")
        evse_id = p.get("evseId")
        if evse_id is None:
            evse_id = self._pick(id_token, group)
            if evse_id is None:
                return {"status": REJECTED}
        elif st.evse(evse_id) is None or self._blocked(evse_id):
            return {"status": REJECTED}
        if not self._allows(evse_id, id_token, group):
            known = self._known_group(id_token) if group is None else None
            if known is not None and self._allows(evse_id, id_token, known):
                group = known  # H03.FR.04/06: its group, known from the local list / cache
            elif group is None and known is None and self._group_reserved(evse_id):
                # H03.FR.04/06 with F01.FR.01/02: the reservation is for a groupIdToken and this
                # token's group is not known here: Accepted, and Transactions authorizes the token
                # and compares its group before it charges (a mismatch starts nothing).
                pass
            else:
                return {"status": REJECTED}  # F01.FR.22: reserved for another idToken (TC_H_02_CS)
        if profile is not None and self.smart is not None and self.smart.check_remote(evse_id, profile) is not None:
            return {"status": REJECTED}  # K05.FR.04/05: a profile we could not install
        before = self.tx.active(evse_id)
        if group is None:
            status = await self.tx.remote_start(evse_id, id_token, p["remoteStartId"], profile)
        else:
            status = await self.tx.remote_start(evse_id, id_token, p["remoteStartId"], profile, group=group)
        res = {"status": status}
        if status == ACCEPTED and profile is not None and self.smart is not None:
            self.smart.remote_profile(evse_id, profile)
        if status == ACCEPTED and before is not None and self.tx.active(evse_id) is before:
            # A transaction started before this request (cable first): its id goes back
            # (TC_K_38_CS, reusable state Authorized (remote)).
            res["transactionId"] = before.id
        return res

    @on("RequestStopTransaction")
    async def request_stop(self, p):
        # F03.FR.08: an unknown transactionId is Rejected (Transactions decides)
        return {"status": await self.tx.remote_stop(p["transactionId"])}

    @on("UnlockConnector")
    async def unlock_connector(self, p):
        e = self.station.evse(p["evseId"])
        c = e.connector(p["connectorId"]) if e is not None else None
        if c is None:
            return {"status": "UnknownConnector"}  # F05.FR.03
        t = self.tx.active(e.id)
        if t is not None and t.id_token is not None and getattr(t, "connector_id", None) in (None, c.id):
            return {"status": "OngoingAuthorizedTransaction"}  # F05.FR.02
        hw = getattr(c, "hw", None)
        if hw is None:
            return {"status": "UnlockFailed"}
        try:
            r = hw.lock(False)  # F05.FR.04: unlock, also with no cable (TC_F_07_CS)
            if _awaitable(r):
                r = await r
        except Exception as err:
            self.station.log.warn("unlock %d/%d failed: %r" % (e.id, c.id, err))
            return {"status": "UnlockFailed"}
        return {"status": "UnlockFailed" if r is False else "Unlocked"}
