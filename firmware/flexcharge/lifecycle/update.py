# Firmware update, lifecycle side (L01-L04): the persisted job, the streamed download into the
# inactive slot with resume, the install (unpack + the atomic switch) and the probation of a
# freshly booted image. The OCPP side (UpdateFirmware, FirmwareStatusNotification, signature
# checks, waiting for transactions) is core/blocks/l_firmware, which the composition root
# hands this object to (the core does not import lifecycle).
#
# The job lives in <state>/fwupdate.json (atomic writes); its phase says where a restart
# resumes:
#   download   -> the partial image in the inactive slot is re-hashed and the download goes on
#                 with an HTTP Range request (or from 0 if the server ignores the Range)
#   downloaded -> hash known, signature not yet checked
#   verified   -> waiting for installDateTime / for transactions to end
#   installing -> unpack again (a half-unpacked tree is dropped at boot)
#   rebooting  -> the slot switch is done; the next boot is the new image on probation
import json
import binascii

from flexcharge.compat import ticks_ms, ticks_diff
from flexcharge.lifecycle import slots

JOB = "fwupdate.json"
_CHUNK = 1024  # bytes per read/write: what the update holds of the image in RAM
_SYNC_EVERY = 16 * 1024  # flush the partial image this often (resume point after a power cut)
PROBATION_S = 180  # L01/L04: a new image that is not Accepted by the CSMS within this rolls back


class Updater:
    def __init__(self, storage, fs, board="unix", log=None, running_version=None, probation_s=PROBATION_S):
        self.storage = storage  # the state directory's FileStorage
        self.probation_s = probation_s  # config firmware_probation_s
        self.fs = fs  # hal.slot.FileSlot
        self.board = board
        self.log = log
        # The image running now is on probation when its slot is the pending one (the
        # bootloader booted it for its trial) -- and only if we really are that image: a
        # bootloader that did not switch (a board without slot selection) must not make the
        # old firmware report Installed.
        p = fs.pending()
        self.on_trial = p is not None and (running_version is None or fs.version(p) == running_version)
        if p is not None and not self.on_trial:
            fs.fail_pending()
        self.failed_version = fs.take_failed()
        self.progress = 0

    # -- the job ---------------------------------------------------------------------------
    def job(self):
        j = self.storage.read_json(JOB)
        return j if isinstance(j, dict) and "requestId" in j else None

    def save(self, job):
        self.storage.write(JOB, json.dumps(job))

    def clear(self):
        self.storage.remove(JOB)

    # -- download ----------------------------------------------------------------------------
    async def download(self, job, get, ssl_ctx, timeout_ms=30000):
        """Stream job["location"] into the inactive slot; -> SHA-256 digest (bytes) of the
        whole image. get: comm.http.get. Raises on any failure; what was written stays for a
        resume (a later call goes on with a Range request)."""
        fs = self.fs
        tag = "req%d" % job["requestId"]
        offset = fs.resume(tag)
        resp = await get(job["location"], ssl_ctx, range_from=offset or None, timeout_ms=timeout_ms)
        try:
            if resp.status == 200 and offset:
                # The server ignored the Range: start again from the first byte.
                fs.begin(tag)
                offset = 0
            elif resp.status == 416 and offset:
                # Nothing after offset: the image was complete already.
                resp.close()
                return self._finish()
            elif resp.status == 206:
                if resp.range_start != offset:
                    raise OSError("server resumed at %d, asked for %d" % (resp.range_start, offset))
            elif resp.status != 200:
                raise OSError("HTTP %d %s" % (resp.status, resp.reason))
            since = 0
            self.progress = offset
            while True:
                d = await resp.read(_CHUNK)
                if not d:
                    break
                fs.write(d)
                self.progress += len(d)
                since += len(d)
                if since >= _SYNC_EVERY:
                    fs.sync()
                    since = 0
        except BaseException:
            fs.sync()
            fs.abort()
            raise
        finally:
            resp.close()
        return self._finish()

    def _finish(self):
        size, hexdigest = self.fs.finish()
        self.progress = size
        return binascii.unhexlify(hexdigest)

    def downloaded_digest(self):
        """Digest of a finished image in the inactive slot (after a restart in 'downloaded')."""
        h = self.fs.digest()
        return binascii.unhexlify(h) if h else None

    # -- install ---------------------------------------------------------------------------------
    def install(self, job):
        """Re-read the image from flash (InstallVerificationFailed if it differs from what was
        verified), unpack it into the inactive slot's tree and make it the pending slot: one
        atomic rename of slot.json is the switch. -> the image's version. Raises ImageError."""
        fs = self.fs
        t = fs.inactive()
        h = fs.digest(t)
        if not h or not fs.verify(h):
            raise slots.ImageError("image on flash does not match the verified one")
        hdr = slots.unpack(fs, t, self.board)
        fs.set_version(t, hdr["version"])
        fs.mark_pending()  # the switch
        return hdr["version"]

    def confirm(self):
        """The new image registered (BootNotification Accepted): it becomes the active slot."""
        self.fs.confirm()
        self.on_trial = False

    def give_up(self):
        """Probation failed without a crash (no registration in time): roll back now."""
        self.fs.fail_pending()
        self.on_trial = False


class Timer:
    """Monotonic deadline in ms (ticks), for probation."""

    def __init__(self, seconds):
        self.t0 = ticks_ms()
        self.ms = seconds * 1000

    def expired(self):
        return ticks_diff(ticks_ms(), self.t0) >= self.ms
