# G01 Status Notification, and B04 reporting after an offline period.
#
# A connector's status is derived from the hardware (cable, fault) and, later, from
# availability and reservations. Every change is reported on the board indicator at
# once and to the CSMS when the link is up and the registration Accepted; changes made
# while offline are sent on reconnect (B04.FR.01 all connectors when offline longer
# than OfflineThreshold, B04.FR.02 only the changed ones otherwise).
from flexcharge.core.router import Block
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected

AVAILABLE = "Available"
OCCUPIED = "Occupied"
RESERVED = "Reserved"
UNAVAILABLE = "Unavailable"
FAULTED = "Faulted"


class Status(Block):
    def __init__(self, station):
        Block.__init__(self, station)
        self._dirty = set()  # (evse, connector) changed since last reported to the CSMS
        self._offline_since = None
        self.overrides = []  # callables(connector) -> status or None, consulted in order (availability, reservation...)

    def start(self):
        st = self.station
        st.on_ready.append(self._on_ready)
        st.on_online.append(self._on_online)
        for c in st.connectors():
            c.status = self.derive(c)
            self._publish(c)
            self._dirty.add((c.evse_id, c.id))

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
                self._dirty.add((c.evse_id, c.id))
                if st.online and st.registration == "Accepted":
                    st.spawn(self._send_dirty())

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
        self._offline_since = None
        st.spawn(self._send_dirty())

    def _mark_all(self):
        for c in self.station.connectors():
            self._dirty.add((c.evse_id, c.id))

    async def _send_dirty(self):
        st = self.station
        for c in st.connectors():
            key = (c.evse_id, c.id)
            if key not in self._dirty:
                continue
            try:
                await self.send(c)
            except (NotConnected, CallTimeout):
                return  # stays dirty: sent after reconnect
            except CallError as e:
                st.log.warn("StatusNotification refused: %s" % (e.code,))
            self._dirty.discard(key)

    async def send(self, c):
        await self.station.call(
            "StatusNotification",
            {"timestamp": self.station.isonow(), "connectorStatus": c.status, "evseId": c.evse_id, "connectorId": c.id},
        )
