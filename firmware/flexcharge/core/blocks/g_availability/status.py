# G01 Status Notification, and B04 reporting after an offline period.
#
# A connector's status is derived from the hardware (cable, fault) and, later, from
# availability and reservations. Every change is reported on the board indicator at
# once and to the CSMS when the link is up and the registration Accepted; changes made
# while offline are sent on reconnect (B04.FR.01 all connectors when offline longer
# than OfflineThreshold, B04.FR.02 only the changed ones otherwise).
#
# Order with TransactionEvents. Those go through the E block's persisted queue, sent by
# its own task; StatusNotifications are sent from here. Each pending change is stamped with
# the number of TransactionEvents queued before it happened (`order.tx_order()`), so:
#   - a status change waits until every TransactionEvent queued before it is acknowledged
#     (the Ended of a stopped session goes out before the Available of the unplug after it);
#   - the E sender, before each event, lets the status changes made before that event go
#     first (settle()).
# The smallest stamp is always sent first, so the two never wait for each other. A change
# whose delivery fails stays pending (reconnect), and the E block's queue keeps its own
# guarantees (persisted first, removed after the CALLRESULT).
import asyncio

from flexcharge.core.router import Block
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected

AVAILABLE = "Available"
OCCUPIED = "Occupied"
RESERVED = "Reserved"
UNAVAILABLE = "Unavailable"
FAULTED = "Faulted"


def aggregate(states):
    """The AvailabilityState of a whole from its parts."""
    for s in (OCCUPIED, RESERVED):
        if s in states:
            return s
    if AVAILABLE in states:
        return AVAILABLE
    if states and all(s == FAULTED for s in states):
        return FAULTED
    return UNAVAILABLE if states else AVAILABLE


class Status(Block):
    def __init__(self, station):
        Block.__init__(self, station)
        self._dirty = {}  # (evse, connector) changed since last reported -> stamp (see module comment)
        self._offline_since = None
        self.overrides = []  # callables(connector) -> status or None, consulted in order (availability, reservation...)
        self.order = None  # the E block: tx_order(), tx_done(), async tx_delivered(n); None: no ordering
        self._sending = False
        self._again = False
        self._inflight = None  # stamp of the StatusNotification being sent

    def start(self):
        st = self.station
        st.on_ready.append(self._on_ready)
        st.on_online.append(self._on_online)
        t = self._stamp()
        for c in st.connectors():
            c.status = self.derive(c)
            self._publish(c)
            self._dirty[(c.evse_id, c.id)] = t
        self._mirror_aggregates()

    def _stamp(self):
        o = self.order
        return o.tx_order() if o is not None else 0

    # -- derivation -------------------------------------------------------------
    def derive(self, c):
        hw = c.hw
        if hw is not None and hw.faulted():
            return FAULTED
        for f in self.overrides:
            s = f(c)
            if s is not None:
                return s
        if hw is not None and hw.plugged():
            return OCCUPIED
        return AVAILABLE

    def refresh(self, evse_id=None):
        """Re-derive statuses (after a hardware event or a state change) and report changes."""
        st = self.station
        for c in st.connectors():
            if evse_id is not None and c.evse_id != evse_id:
                continue
            s = self.derive(c)
            if s != c.status:
                c.status = s
                self._publish(c)
                self._dirty[(c.evse_id, c.id)] = self._stamp()  # the newest change is what is sent
                if st.online and st.registration == "Accepted":
                    self._kick()
        self._mirror_aggregates()

    def _mirror_aggregates(self):
        # EVSE and ChargingStation AvailabilityState summarise their connectors (device model
        # appendix: the EVSE is Occupied when a connector is, Faulted/Unavailable when all are).
        st = self.station
        every = []
        for e in st.evses:
            s = aggregate([c.status for c in e.connectors])
            every.append(s)
            self._mirror("EVSE", s, e.id)
        self._mirror("ChargingStation", aggregate(every), None)

    def _mirror(self, component, status, evse):
        try:
            if self.station.dm.get(component, "AvailabilityState", evse=evse) != status:
                self.station.dm.set_internal(component, "AvailabilityState", status, evse=evse)
        except Exception as e:
            self.station.log.warn("%s AvailabilityState not mirrored: %r" % (component, e))

    def _publish(self, c):
        st = self.station
        st.report("status", {"evse": c.evse_id, "connector": c.id, "status": c.status})
        # The device model mirrors it; hard-wired Delta monitors turn it into NotifyEvent (TC_B_02_CS step 17).
        try:
            st.dm.set_internal("Connector", "AvailabilityState", c.status, evse=c.evse_id, connector=c.id)
        except Exception as e:
            st.log.warn("AvailabilityState not mirrored: %r" % (e,))

    # -- reporting ----------------------------------------------------------------
    def _on_online(self, online):
        if not online and self._offline_since is None:
            self._offline_since = self.station.now()

    def _on_ready(self, first):
        st = self.station
        if not first and self._offline_since is not None:
            threshold = st.dm.get_int("OCPPCommCtrlr", "OfflineThreshold", 0)
            if st.now() - self._offline_since > threshold:
                self._mark_all()  # B04.FR.01
        else:
            self._mark_all()  # after boot: every connector (TC_B_01_CS post-validation)
            if first:
                # What boot recovery queued (the Ended of a transaction cut by a power loss) happened
                # before these statuses, which describe the station as it is now.
                t = self._stamp()
                for k in self._dirty:
                    self._dirty[k] = t
        self._offline_since = None
        self._kick()

    def _mark_all(self):
        t = self._stamp()
        for c in self.station.connectors():
            k = (c.evse_id, c.id)
            if k not in self._dirty:
                self._dirty[k] = t  # a pending change keeps its place in the order

    def _kick(self):
        # One sender at a time, so a connector is never reported twice for one change.
        if self._sending:
            self._again = True
        else:
            self._sending = True
            self.station.spawn(self._send_dirty())

    def _oldest(self):
        """(connector, stamp) of the pending change with the smallest stamp, or (None, None)."""
        best = None
        bt = None
        for c in self.station.connectors():
            t = self._dirty.get((c.evse_id, c.id))
            if t is not None and (bt is None or t < bt):
                best, bt = c, t
        return best, bt

    async def _send_dirty(self):
        st = self.station
        try:
            again = True
            while again:
                self._again = False
                while True:
                    c, t = self._oldest()
                    if c is None:
                        break
                    o = self.order
                    if o is not None and o.tx_done() < t:
                        # TransactionEvents queued before this change go first (issue 8: the Ended
                        # of a stopped session before the Available of the unplug that follows).
                        if not await o.tx_delivered(t):
                            return  # link down: kept, sent after reconnect
                        c2, t2 = self._oldest()
                        if c2 is not c or t2 != t:
                            continue  # changed meanwhile: pick again
                    key = (c.evse_id, c.id)
                    del self._dirty[key]
                    self._inflight = t
                    try:
                        await self.send(c)
                    except (NotConnected, CallTimeout):
                        if key not in self._dirty:
                            self._dirty[key] = t  # sent after reconnect
                        return
                    except CallError as e:
                        st.log.warn("StatusNotification refused: %s" % (e.code,))
                    finally:
                        self._inflight = None
                again = self._again
        finally:
            self._sending = False

    async def settle(self, done):
        """The E sender calls this before its next TransactionEvent (`done` acknowledged so far):
        returns once the status changes made before that event are sent, or sending stopped."""
        while self._sending and self.station.online:
            t = self._inflight
            if t is None or t > done:
                c, t = self._oldest()
                if c is None or t > done:
                    return
            await asyncio.sleep(0.02)

    async def send(self, c):
        await self.station.call(
            "StatusNotification",
            {"timestamp": self.station.isonow(), "connectorStatus": c.status, "evseId": c.evse_id, "connectorId": c.id},
        )
