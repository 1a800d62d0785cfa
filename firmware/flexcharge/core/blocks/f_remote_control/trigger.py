# F06 Trigger Message: the CSMS asks the station to send a message now.
# Issue 2 covers the triggers of the boot/availability blocks; later blocks add theirs
# by registering in `triggers`.
from flexcharge.core.router import Block, Reply, on
from flexcharge.core.station import ACCEPTED, PENDING


class Trigger(Block):
    def __init__(self, station, boot, status, heartbeat):
        Block.__init__(self, station)
        self.boot = boot
        self.status = status
        self.heartbeat = heartbeat
        # requestedMessage -> callable(payload) -> coroutine or None (None = NotImplemented)
        self.triggers = {
            "BootNotification": self._boot,
            "Heartbeat": self._heartbeat,
            "StatusNotification": self._status,
            # No log upload / firmware update exists yet on this station, so "not busy" is the truth
            # (F06.FR.15 TC_F_15_CS, F06.FR.16 TC_F_18_CS; an evse in the request is not relevant, TC_F_17_CS).
            # Blocks that add uploads or updates replace these entries with their own status.
            "LogStatusNotification": lambda p: self._idle("LogStatusNotification"),
            "FirmwareStatusNotification": lambda p: self._idle("FirmwareStatusNotification"),
        }

    @on("TriggerMessage")
    def trigger_message(self, p):
        what = p["requestedMessage"]
        fn = self.triggers.get(what)
        if fn is None:
            return {"status": "NotImplemented"}
        r = fn(p)
        if r is None:
            return {"status": "Rejected"}
        return Reply({"status": "Accepted"}, then=r)

    def _boot(self, p):
        # F06.FR.17: BootNotification after an Accepted boot is Rejected.
        if self.station.registration == ACCEPTED:
            return None
        self.boot.trigger()
        return _noop()

    def _heartbeat(self, p):
        st = self.station
        if st.registration == PENDING:
            st.triggered = "Heartbeat"
        return self.heartbeat.beat()

    def _idle(self, action):
        st = self.station
        if st.registration == PENDING:
            st.triggered = action
        return st.call(action, {"status": "Idle"})

    def _status(self, p):
        st = self.station
        evse = p.get("evse")
        if evse is None or "connectorId" not in evse:
            return None  # a StatusNotification trigger must name one connector (TriggerMessageRequest evse.connectorId)
        e = st.evse(evse["id"])
        c = e.connector(evse["connectorId"]) if e is not None else None
        if c is None:
            return None
        if st.registration == PENDING:
            st.triggered = "StatusNotification"
        return self.status.send(c)


async def _noop():
    pass
