# L01-L04 Secure firmware update, the OCPP side: UpdateFirmware, FirmwareStatusNotification,
# the signing certificate and signature checks, scheduling, retries, and waiting for
# transactions. The bytes, the slots and the reboot belong to lifecycle/update.py (`updater`,
# handed in by the composition root: the core does not import lifecycle).
#
# Statuses, in order (TC_L_01_CS): [DownloadScheduled] Downloading [DownloadPaused Downloading]
# Downloaded SignatureVerified [InstallScheduled] Installing InstallRebooting -- reboot into
# the new image -- Installed (+ security event FirmwareUpdated). Failures: DownloadFailed,
# InvalidSignature (+ InvalidFirmwareSignature), InstallVerificationFailed, InstallationFailed
# (the new image did not confirm and the old one came back). An untrusted signingCertificate
# is refused in the response (InvalidCertificate, TC_L_05_CS) with the security event
# InvalidFirmwareSigningCertificate.
#
# Decisions (README "Firmware update"):
# - retries absent: 0 (the CSMS decides); retryInterval absent: 30 s.
# - DownloadPaused: a download that broke after some bytes and will resume (Range) after
#   retryInterval. A download that fails before any byte is retried silently with Downloading.
# - Installation waits for every transaction to end (L01.FR.06 / TC_L_12..15_CS); while it waits
#   no new session starts unless ChargingStation.AllowNewSessionsPendingFirmwareUpdate is true.
#   Once installing starts every EVSE is Unavailable.
import asyncio
import binascii

from flexcharge.core.router import Block, Reply, on
from flexcharge.core.timefmt import parse
from flexcharge.core.blocks.g_availability.status import UNAVAILABLE
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected

DEFAULT_RETRY_INTERVAL_S = 30
_NOTIFY_RETRY_S = 5


class Firmware(Block):
    POLL_S = 1

    def __init__(self, station, updater, transactions, status, security, anchors, http_get, tls_context):
        Block.__init__(self, station)
        self.updater = updater
        self.tx = transactions
        self.status = status
        self.security = security
        self.anchors = anchors  # callable -> [DER] ManufacturerRootCertificates
        self.http_get = http_get  # comm.http.get
        self.tls_context = tls_context  # callable -> ssl context verifying against the CSMS roots
        self.task = None
        self.request_id = None
        self.last = "Idle"
        self.blocking = False  # new sessions held back while an install waits
        self.installing = False
        self._queue = []
        self._wake = asyncio.Event()
        self._cancel = False
        self._retry_wait = asyncio.Event()
        transactions.evse_blocked.append(lambda evse_id, *a: self.blocking or self.installing)
        status.overrides.append(lambda c: UNAVAILABLE if self.installing else None)

    def start(self):
        st = self.station
        st.spawn(self._sender())
        st.on_ready.append(self._ready)
        job = self.updater.job()
        if job is None:
            if self.updater.on_trial:
                self.updater.confirm()  # an image booted without a job (e.g. flashed by hand)
            return
        self.request_id = job["requestId"]
        if job.get("phase") == "rebooting" or self.updater.on_trial:
            if self.updater.on_trial:
                self.last = "InstallRebooting"  # confirmed in _ready on Accepted (probation)
                st.spawn(self._probation())
            else:
                # The new image did not confirm: the bootloader rolled back to us (L01/L04).
                self.updater.failed_version = None
                self._finish(job, "InstallationFailed")
            return
        self.task = st.spawn(self._run(job))

    # -- CSMS -> station ------------------------------------------------------------------------
    @on("UpdateFirmware")
    def update_firmware(self, p):
        st = self.station
        fw = p["firmware"]
        cert_pem = fw.get("signingCertificate")
        sig = fw.get("signature")
        if not cert_pem or not sig:
            # L01 is the secure update: unsigned firmware is not installed (TC_L_18_CS).
            return {"status": "Rejected", "statusInfo": {"reasonCode": "MissingParam",
                                                         "additionalInfo": "signingCertificate and signature"}}
        # The X.509 reader and verifier are imported on the first update, not kept in the idle heap.
        from flexcharge.security.der import CertError
        from flexcharge.security.x509 import Certificate, pem_to_ders
        from flexcharge.security import verify

        try:
            chain = pem_to_ders(cert_pem)
            verify.verify_chain(chain, self.anchors(), int(st.now()))
            Certificate(chain[0])
        except (CertError, ValueError) as e:
            # L01.FR.02 / TC_L_05_CS: not issued by a ManufacturerRootCertificate.
            self.security.notify("InvalidFirmwareSigningCertificate", str(e)[:255])
            return {"status": "InvalidCertificate"}
        try:
            binascii.a2b_base64(sig)
        except (ValueError, binascii.Error):
            return {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidValue", "additionalInfo": "signature"}}
        if self.updater.on_trial:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "TxInProgress",
                                                         "additionalInfo": "new firmware on probation"}}
        job = {
            "requestId": p["requestId"], "location": fw["location"], "signature": sig, "cert": cert_pem,
            "retrieve": _epoch(fw.get("retrieveDateTime")), "install": _epoch(fw.get("installDateTime")),
            "retries": p.get("retries", 0), "interval": p.get("retryInterval", DEFAULT_RETRY_INTERVAL_S),
            "phase": "download",
        }
        status = "Accepted"
        if self.task is not None and not self.task.done():
            if self.installing:
                # Installing cannot be undone half-way: the running update goes on (L01.FR.27, TC_L_11_CS).
                return {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidState",
                                                             "additionalInfo": "installing"}}
            # L01.FR.24 / TC_L_10_CS: the running one stops, this one goes on. Cancelled here, in
            # the handler: the old task sits at an await before `installing`, where this lands.
            self.task.cancel()
            status = "AcceptedCanceled"
        return Reply({"status": status}, then=self._replace(self.task, job))

    async def _replace(self, old, job):
        while old is not None and not old.done():
            await asyncio.sleep(0.05)
        self.blocking = False
        self.installing = False
        self.updater.save(job)
        self.request_id = job["requestId"]
        self.task = self.station.spawn(self._run(job))

    # -- the update ---------------------------------------------------------------------------
    async def _run(self, job):
        st = self.station
        up = self.updater
        if job["phase"] == "download":
            if job["retrieve"] and job["retrieve"] > st.now():
                self.notify("DownloadScheduled")
                await self._until(job["retrieve"])
            digest = await self._download(job)
            if digest is None:
                return self._finish(job, "DownloadFailed")
            self.notify("Downloaded")
            job["phase"] = "downloaded"
            up.save(job)
        if job["phase"] == "downloaded":
            digest = up.downloaded_digest()
            from flexcharge.security.der import CertError
            from flexcharge.security.x509 import Certificate, pem_to_ders
            from flexcharge.security import verify

            try:
                cert = Certificate(pem_to_ders(job["cert"])[0])
                verify.verify_signature(cert, None, binascii.a2b_base64(job["signature"]), digest=digest)
            except (CertError, ValueError, TypeError) as e:
                # L01.FR.03 / TC_L_06_CS
                self.security.notify("InvalidFirmwareSignature", str(e)[:255])
                return self._finish(job, "InvalidSignature")
            self.notify("SignatureVerified")
            job["phase"] = "verified"
            up.save(job)
        if job["phase"] in ("verified", "installing"):
            scheduled = False
            if job["install"] and job["install"] > st.now():
                self.notify("InstallScheduled")  # TC_L_02_CS
                scheduled = True
                await self._until(job["install"])
            if not self.tx.idle():
                # L01.FR.06: wait for the transactions to end.
                if not scheduled:
                    self.notify("InstallScheduled")
                self.blocking = not st.dm.get_bool("ChargingStation", "AllowNewSessionsPendingFirmwareUpdate", False)
                while not self.tx.idle():
                    await asyncio.sleep(self.POLL_S)
            self.blocking = False
            self.installing = True
            self.status.refresh()  # every EVSE Unavailable (TC_L_01_CS step 9)
            self.notify("Installing")
            job["phase"] = "installing"
            up.save(job)
            await asyncio.sleep(0)
            try:
                version = up.install(job)
            except Exception as e:  # ImageError, OSError: the image cannot be installed
                st.log.error("firmware install failed: %r" % (e,))
                self.installing = False
                self.status.refresh()
                return self._finish(job, "InstallVerificationFailed")
            job["phase"] = "rebooting"
            job["version"] = version
            up.save(job)
            self.notify("InstallRebooting")
            await self._drain(10)
            hook = st.reset_hook
            if hook is not None:
                hook("FirmwareUpdate")

    async def _download(self, job):
        st = self.station
        up = self.updater
        tries = 1 + max(0, job["retries"])
        for n in range(tries):
            self.notify("Downloading")
            before = up.progress
            try:
                ctx = self.tls_context() if job["location"].lower().startswith("https:") else None
                return await up.download(job, self.http_get, ctx)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                st.log.warn("firmware download attempt %d/%d failed: %r" % (n + 1, tries, e))
                if n + 1 >= tries:
                    return None
                if up.progress > before or up.progress > 0:
                    self.notify("DownloadPaused")  # resumes with a Range request
                await asyncio.sleep(max(0, job["interval"]))
        return None

    def _finish(self, job, status):
        self.installing = False
        self.blocking = False
        self.notify(status)
        self.updater.clear()
        if status in ("Installed",):
            self.security.notify("FirmwareUpdated", "version %s" % job.get("version", "?"))

    async def _until(self, t):
        st = self.station
        while st.now() < t:
            await asyncio.sleep(min(5, max(0.1, t - st.now())))

    # -- probation of a new image ---------------------------------------------------------------
    def _ready(self, first):
        if first and self.updater.on_trial:
            # L01/L04: the new firmware registered: it marks itself good.
            self.updater.confirm()
            job = self.updater.job() or {"requestId": self.request_id}
            self._finish(job, "Installed")
        elif first and self.updater.failed_version is not None:
            self.updater.failed_version = None  # a rollback without a job: nothing to report

    async def _probation(self):
        from flexcharge.compat import ticks_ms, ticks_diff

        t0 = ticks_ms()
        bound = self.updater.probation_s
        while self.updater.on_trial:
            if ticks_diff(ticks_ms(), t0) > bound * 1000:
                # Could not register within the bound: back to the previous image (L01/L04).
                self.station.log.error("new firmware not accepted within %d s: rolling back" % bound)
                self.updater.give_up()
                if self.station.reset_hook is not None:
                    self.station.reset_hook("FirmwareUpdate")
                return
            await asyncio.sleep(1)

    # -- FirmwareStatusNotification, in order, delivered once online ---------------------------
    def notify(self, status):
        self.last = status
        self.station.report("firmware", {"status": status, "requestId": self.request_id})
        self._queue.append({"status": status, "requestId": self.request_id})
        self._wake.set()

    async def _drain(self, seconds):
        for _ in range(seconds * 10):
            if not self._queue:
                return
            await asyncio.sleep(0.1)

    async def _sender(self):
        st = self.station
        while True:
            while not self._queue:
                self._wake.clear()
                await self._wake.wait()
            p = self._queue[0]
            if p["requestId"] is None:
                del p["requestId"]
            try:
                await st.call("FirmwareStatusNotification", p, wait=True)
                self._queue.pop(0)
            except (NotConnected, CallTimeout):
                await asyncio.sleep(_NOTIFY_RETRY_S)
            except CallError as e:
                st.log.warn("FirmwareStatusNotification refused: %r" % (e,))
                self._queue.pop(0)

    def trigger(self, p):
        """TriggerMessage(FirmwareStatusNotification): the real status (F06.FR.16: Idle when
        no update runs; L01: the last status with its requestId while one does)."""
        st = self.station
        busy = self.updater.job() is not None
        payload = {"status": self.last if busy else "Idle"}
        if busy and self.request_id is not None:
            payload["requestId"] = self.request_id
        if st.registration == "Pending":
            st.triggered = "FirmwareStatusNotification"
        return st.call("FirmwareStatusNotification", payload)


def _epoch(s):
    if not s:
        return None
    try:
        return parse(s)
    except (ValueError, TypeError):
        return None
