# B01–B04 Boot: BootNotification at start and the registration state machine.
#
# B01 Cold boot Accepted, B02 Pending, B03 Rejected, B04 offline behaviour (no new
# BootNotification on reconnect, Part 4 §5.3). See TC_B_01_CS, TC_B_02_CS, TC_B_03_CS, TC_B_30_CS.
import asyncio

from flexcharge.compat import ticks_ms, ticks_diff, ticks_add, heap_in_use

from flexcharge.core.router import Block
from flexcharge.core.station import ACCEPTED, PENDING, REJECTED
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected, SECURITY_ERROR

# When the CSMS gives interval 0, or the BootNotification fails, wait this long before retrying.
_DEFAULT_RETRY_S = 30

# BootReasonEnumType values the station can record before a reboot.
REASONS = (
    "ApplicationReset", "FirmwareUpdate", "LocalReset", "PowerUp", "RemoteReset",
    "ScheduledReset", "Triggered", "Unknown", "Watchdog",
)


class Boot(Block):
    def __init__(self, station, reason="PowerUp"):
        Block.__init__(self, station)
        self.reason = reason if reason in REASONS else "Unknown"
        self._wake = asyncio.Event()
        self._triggered = False
        self.accepted_once = False
        self.on_accepted_first = None  # lifecycle hook: forget the recorded boot reason
        self.refusing = False  # the last BootNotification was Rejected (gate, B03.FR.08)
        self._not_before = None  # ticks before which no BootNotification may go (B03, even across reconnects)

    def start(self):
        st = self.station
        st.on_online.append(self._on_online)

    def gate(self, action):
        # B03.FR.08 / TC_B_30_CS: while Rejected, CSMS-initiated messages get SecurityError.
        if self.refusing:
            return CallError(SECURITY_ERROR, "BootNotification was Rejected")
        return None

    def _on_result(self, res):
        # Runs as the BootNotificationResponse is read, so a CSMS CALL right behind it is
        # already judged by the new status (the waiting coroutine resumes only later).
        self.refusing = res.get("status") == REJECTED

    def _on_online(self, online):
        if online:
            self._wake.set()

    def trigger(self):
        """TriggerMessage(BootNotification) while not yet Accepted (TC_B_02_CS step 13-15)."""
        self._triggered = True
        self._wake.set()

    def payload(self):
        c = self.station.config
        cs = {"model": c.get("model", "FlexCharge"), "vendorName": c.get("vendor", "FlexCharge")}
        if c.get("serial_number"):
            cs["serialNumber"] = c["serial_number"]
        if c.get("firmware_version"):
            cs["firmwareVersion"] = c["firmware_version"]
        return {"reason": "Triggered" if self._triggered else self.reason, "chargingStation": cs}

    async def run(self):
        st = self.station
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not st.online:
                continue
            if st.registration == ACCEPTED:
                st.ready(False)  # reconnect: Part 4 §5.3, no BootNotification
                continue
            await self._register()

    async def _register(self):
        st = self.station
        while st.online and st.registration != ACCEPTED:
            if self._not_before is not None and not self._triggered:
                rem = ticks_diff(self._not_before, ticks_ms())
                if rem > 0:
                    await self._sleep(rem / 1000)
                    continue
            wait_s = _DEFAULT_RETRY_S
            try:
                res = await st.call("BootNotification", self.payload(), on_result=self._on_result)
            except NotConnected:
                return  # the next connection wakes us
            except (CallError, CallTimeout) as e:
                st.log.warn("BootNotification failed: %r" % (e,))
                res = None
            self._triggered = False
            if res is not None:
                self._set_clock(res.get("currentTime"))
                status = res["status"]
                interval = res.get("interval", 0)
                st.log.info("BootNotification %s, interval %d" % (status, interval))
                st.report("registration", {"status": status, "interval": interval, "heap": heap_in_use()})
                if status == ACCEPTED:
                    if interval > 0:
                        # TC_B_01_CS: the interval of an Accepted boot becomes the heartbeat interval.
                        st.dm.set_internal("OCPPCommCtrlr", "HeartbeatInterval", str(interval))
                    st.set_registration(ACCEPTED)
                    first = not self.accepted_once
                    self.accepted_once = True
                    if first and self.on_accepted_first is not None:
                        self.on_accepted_first()
                    st.ready(first)
                    return
                # B02/B03: retry after `interval`; Pending still answers the CSMS, Rejected sends nothing.
                st.set_registration(PENDING if status == PENDING else REJECTED)
                if interval > 0:
                    wait_s = interval
            self._not_before = ticks_add(ticks_ms(), int(wait_s * 1000))
            await self._sleep(wait_s)

    async def _sleep(self, s):
        try:
            await asyncio.wait_for(self._wake.wait(), s)
        except asyncio.TimeoutError:
            pass
        self._wake.clear()

    def _set_clock(self, value):
        # B01: the station adopts the CSMS time from the response.
        if value:
            self.station.adopt_time(value, "BootNotification")
