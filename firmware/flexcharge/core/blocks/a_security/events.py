# A04 Security Event Notification.
#
# Every security event goes to the security log (the `log_sink` the composition root hands in:
# diag/securitylog.py). Critical events (appendices security_events.csv, column Critical) are also
# sent to the CSMS as SecurityEventNotification: persisted first, one file each (se.<n>, atomic
# write), delivered in order once online and Accepted, removed after the CSMS answered -- so they
# survive an offline period and a power loss, like transaction messages. Non-critical events are
# logged only (A04: only critical events are pushed to the CSMS).
import asyncio
import json

from flexcharge.compat import heap_in_use, mem_free
from flexcharge.core.router import Block
from flexcharge.core.station import ACCEPTED
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected

# security_events.csv, Critical = Yes.
CRITICAL = (
    "FirmwareUpdated", "SettingSystemTime", "StartupOfTheDevice", "ResetOrReboot", "SecurityLogWasCleared",
    "MemoryExhaustion", "TamperDetectionActivated", "InvalidFirmwareSignature",
    "InvalidFirmwareSigningCertificate", "InvalidCsmsCertificate", "InvalidChargingStationCertificate",
    "InvalidTLSVersion", "InvalidTLSCipherSuite", "MaintenanceLoginAccepted", "MaintenanceLoginFailed",
    # Not in the 2.0.1 CSV; errata 2025-01 A02.FR.29 asks for it to reach the CSMS.
    "DiscardedRenewedClientCertificate",
)
_PREFIX = "se."
MAX_QUEUED = 200  # oldest dropped beyond this: a station offline for months keeps the recent ones
_RETRY_S = 30
# MemoryExhaustion: raised when the free heap falls under LOW of the total, re-armed above HIGH.
_LOW_PERCENT = 10
_HIGH_PERCENT = 20
_HEAP_CHECK_S = 30


class SecurityEvents(Block):
    def __init__(self, station, storage, log_sink=None):
        Block.__init__(self, station)
        self.storage = storage
        self.log_sink = log_sink  # callable(timestamp, type, techInfo) or None
        self._wake = asyncio.Event()
        names = storage.names(_PREFIX)
        self._next = 1 + max([_seq(n) for n in names] or [0])
        self._heap_low = False
        self._tls_reported = False

    def start(self):
        st = self.station
        st.on_ready.append(lambda first: self._wake.set())
        st.on_online.append(self._online)
        st.on_clock.append(self._clock_set)
        st.spawn(self._deliver())
        st.spawn(self._watch_heap())

    def notify(self, event_type, tech_info=None):
        """Record a security event now; critical ones are queued for the CSMS."""
        st = self.station
        ts = st.isonow()
        if self.log_sink is not None:
            try:
                self.log_sink(ts, event_type, tech_info)
            except Exception as e:  # the security log full or gone must not stop the event
                st.log.error("security log: %r" % (e,))
        st.log.info("security event %s%s" % (event_type, (": " + tech_info) if tech_info else ""))
        if event_type not in CRITICAL:
            return
        p = {"type": event_type, "timestamp": ts}
        if tech_info:
            p["techInfo"] = tech_info[:255]
        self.storage.write("%s%08d" % (_PREFIX, self._next), json.dumps(p))
        self._next += 1
        names = self.storage.names(_PREFIX)
        for n in names[:max(0, len(names) - MAX_QUEUED)]:
            st.log.warn("security event queue full: dropping %s" % n)
            self.storage.remove(n)
        self._wake.set()

    def _online(self, online):
        if online:
            self._tls_reported = False

    def _clock_set(self, delta, source):
        # SettingSystemTime: only a change beyond ClockCtrlr.TimeAdjustmentReportingThreshold (0 = never).
        limit = self.station.dm.get_int("ClockCtrlr", "TimeAdjustmentReportingThreshold", 0)
        if limit > 0 and (delta > limit or -delta > limit):
            self.notify("SettingSystemTime", "clock moved by %d s (%s)" % (delta, source))

    def boot(self, reason):
        """At start: StartupOfTheDevice, and ResetOrReboot after anything but a power-up."""
        self.notify("StartupOfTheDevice", "boot reason " + reason)
        if reason != "PowerUp":
            self.notify("ResetOrReboot", reason)

    def connect_failed(self, exc):
        """A failed connection attempt that is a security event (TLS verification, TLS version)."""
        name = type(exc).__name__
        if name != "TLSError" or self._tls_reported:
            return
        self._tls_reported = True  # once until a connection succeeds: retries are not new events
        text = str(exc)
        up = text.upper()
        if "VERSION" in up:
            self.notify("InvalidTLSVersion", text[:200])
        elif "CIPHER" in up or "HANDSHAKE_FAILURE" in up:
            self.notify("InvalidTLSCipherSuite", text[:200])
        elif "VERIF" in up or "X509" in up or "CERT" in up:
            self.notify("InvalidCsmsCertificate", text[:200])

    def queued(self):
        return len(self.storage.names(_PREFIX))

    async def _deliver(self):
        st = self.station
        while True:
            await self._wake.wait()
            self._wake.clear()
            while st.online and st.registration == ACCEPTED:
                names = self.storage.names(_PREFIX)
                if not names:
                    break
                raw = self.storage.read(names[0])
                try:
                    p = json.loads(raw)
                except (ValueError, TypeError):
                    self.storage.remove(names[0])  # a torn file cannot be (rename is atomic, but be safe)
                    continue
                try:
                    await st.call("SecurityEventNotification", p)
                except (NotConnected, CallTimeout) as e:
                    st.log.info("SecurityEventNotification waits: %r" % (e,))
                    await self._pause()
                    break
                except CallError as e:
                    # The CSMS answered and refused it: delivered as far as it can be; keep the order going.
                    st.log.warn("SecurityEventNotification %s refused: %r" % (p["type"], e))
                self.storage.remove(names[0])

    async def _pause(self):
        try:
            await asyncio.wait_for(self._wake.wait(), _RETRY_S)
        except asyncio.TimeoutError:
            pass
        self._wake.set()

    async def _watch_heap(self):
        while True:
            self.check_heap()
            await asyncio.sleep(_HEAP_CHECK_S)

    def check_heap(self, free=None, used=None):
        """MemoryExhaustion, once per low-memory episode (where the port reports its heap)."""
        free = mem_free() if free is None else free
        used = heap_in_use() if used is None else used
        if free is None or used is None:
            return  # CPython: no GC heap figure
        total = free + used
        if not total or free < 0:
            return
        pct = free * 100 // total
        if not self._heap_low and pct < _LOW_PERCENT:
            self._heap_low = True
            self.notify("MemoryExhaustion", "heap free %d of %d bytes" % (free, total))
        elif self._heap_low and pct > _HIGH_PERCENT:
            self._heap_low = False


def _seq(name):
    try:
        return int(name[len(_PREFIX):])
    except ValueError:
        return 0
