# Firmware slots for A/B updates (L01 firmware update), file based: works on any
# MicroPython VFS and on the unix port. Two image files, a.bin and b.bin, under one
# directory; the running image is the active slot, a download goes to the other.
#
#   begin(version) -> write(chunk)* -> finish() -> verify(sha256_hex) -> mark_pending()
#   reboot; lifecycle calls boot(): 'trial' while the pending image gets its tries,
#   then confirm() once it runs well, or it falls back ('rollback') after max_tries.
#
# How an image is booted (copying a bundle into place, esp32.Partition OTA, ...) is
# the board's business; this keeps the bytes, the digest and the state machine.
# The state file is written atomically (FileStorage), so a power cut at any point
# leaves either the old or the new state.
import json
import hashlib
import binascii

from flexcharge.hal.storage import FileStorage
from flexcharge.compat import sync_file

_STATE = "slot.json"
_CHUNK = 1024
# A pending image that crashed or hung (watchdog) rolls back at the next start. A power cut during
# its trial is not its fault: it gets another trial, up to MAX_TRIES starts in all.
MAX_TRIES = 3


def slot_dir(state_dir):
    """Where a state directory keeps its firmware slots (the boot step and the update both look here)."""
    return state_dir.rstrip("/") + "/fw"


class SlotError(Exception):
    pass


def _other(s):
    return "b" if s == "a" else "a"


class FirmwareSlot:
    """Interface; FileSlot is the generic implementation."""

    def begin(self, version, size=None):
        raise NotImplementedError

    def write(self, chunk):
        raise NotImplementedError

    def finish(self):
        raise NotImplementedError

    def verify(self, sha256_hex):
        raise NotImplementedError

    def mark_pending(self):
        raise NotImplementedError

    def boot(self):
        raise NotImplementedError

    def confirm(self):
        raise NotImplementedError

    def rollback(self):
        raise NotImplementedError


def _hash_file(path):
    """-> (sha256 object, bytes read) of the file, read 1 KB at a time; (None, 0) if it cannot be read."""
    h = hashlib.sha256()
    n = 0
    try:
        with open(path, "rb") as f:
            while True:
                b = f.read(_CHUNK)
                if not b:
                    break
                h.update(b)
                n += len(b)
    except OSError:
        return None, 0
    return h, n


class FileSlot(FirmwareSlot):
    def __init__(self, root, max_tries=MAX_TRIES):
        self._st = FileStorage(root)
        self.root = self._st.root
        self.max_tries = max_tries
        self._f = None
        self._h = None
        self._size = 0
        raw = self._st.read(_STATE)
        s = json.loads(raw) if raw else None
        if not s:
            s = {"active": "a", "pending": None, "tries": 0, "version": {}, "sha256": {}, "size": {}}
        self._s = s

    def _save(self):
        self._st.write(_STATE, json.dumps(self._s))

    def path(self, slot):
        return self.root + "/" + slot + ".bin"

    def active(self):
        return self._s["active"]

    def inactive(self):
        return _other(self._s["active"])

    def pending(self):
        """Slot waiting to be booted (or on trial), else None."""
        return self._s["pending"]

    def version(self, slot=None):
        return self._s["version"].get(slot or self._s["active"])

    def begin(self, version, size=None):
        if self._s["pending"] is not None:
            raise SlotError("an image is pending")
        target = self.inactive()
        if self._f is not None:
            self._f.close()
        self._s["version"][target] = version
        self._s["sha256"].pop(target, None)
        self._s["size"].pop(target, None)
        self._save()
        self._f = open(self.path(target), "wb")
        self._h = hashlib.sha256()
        self._size = 0
        self._expect = size

    def resume(self, version):
        """Go on writing the inactive slot's partial image of `version` after a power loss or
        a restart (L01: download resumed with an HTTP Range). Re-hashes what is on flash and
        returns its size, the offset to resume from; 0 when there is nothing to resume."""
        t = self.inactive()
        if self._s["pending"] is not None or self._s["version"].get(t) != version or t in self._s["sha256"]:
            self.begin(version)
            return 0
        if self._f is not None:
            self._f.close()
        h, n = _hash_file(self.path(t))
        if h is None:  # nothing on flash yet: append to an empty image
            h = hashlib.sha256()
        self._f = open(self.path(t), "ab")
        self._h = h
        self._size = n
        self._expect = None
        return n

    def digest(self, slot=None):
        """sha256 hex of the finished image in slot (default: the inactive one), else None."""
        return self._s["sha256"].get(slot or self.inactive())

    def set_version(self, slot, version):
        """Name the image in slot by the version its header gives (saved with the next state change)."""
        self._s["version"][slot] = version

    def tries(self):
        return self._s["tries"]

    def written(self):
        return self._size

    def abort(self):
        """Drop the partial image (its bytes stay until the next begin())."""
        if self._f is not None:
            self._f.close()
            self._f = None

    def sync(self):
        if self._f is not None:
            sync_file(self._f)

    def write(self, chunk):
        if self._f is None:
            raise SlotError("begin() first")
        self._f.write(chunk)
        self._h.update(chunk)
        self._size += len(chunk)

    def finish(self):
        """Close the image; returns (size, sha256 hex of what was written)."""
        if self._f is None:
            raise SlotError("begin() first")
        sync_file(self._f)
        self._f.close()
        self._f = None
        digest = binascii.hexlify(self._h.digest()).decode()
        if self._expect is not None and self._size != self._expect:
            raise SlotError("size %d, expected %d" % (self._size, self._expect))
        t = self.inactive()
        self._s["sha256"][t] = digest
        self._s["size"][t] = self._size
        self._save()
        return self._size, digest

    def verify(self, sha256_hex):
        """Re-read the stored image from flash and compare its sha256 (catches flash write errors)."""
        t = self.inactive()
        h, n = _hash_file(self.path(t))
        if h is None:
            return False
        got = binascii.hexlify(h.digest()).decode()
        ok = got == sha256_hex.lower() and self._s["sha256"].get(t) == got
        return ok

    def mark_pending(self):
        t = self.inactive()
        if t not in self._s["sha256"]:
            raise SlotError("no finished image")
        self._s["pending"] = t
        self._s["tries"] = 0
        self._save()

    def boot(self):
        """Call once per boot. 'normal', 'trial' (run the pending image, try n of max_tries)
        or 'rollback' (it failed max_tries times: pending dropped, old image stays)."""
        p = self._s["pending"]
        if p is None:
            return "normal"
        if self._s["tries"] >= self.max_tries:
            self.fail_pending()
            return "rollback"
        self._s["tries"] += 1
        self._save()
        return "trial"

    def confirm(self):
        p = self._s["pending"]
        if p is None:
            return
        self._s["active"] = p
        self._s["pending"] = None
        self._s["tries"] = 0
        self._save()

    def fail_pending(self):
        """Roll back, remembering the failed version until take_failed(): the old firmware
        reports InstallationFailed once online."""
        p = self._s["pending"]
        if p is not None:
            self._s["failed"] = self._s["version"].get(p)
        self.rollback()

    def take_failed(self):
        """Version of an image that was rolled back since the last call, else None."""
        v = self._s.pop("failed", None)
        if v is not None:
            self._save()
        return v

    def rollback(self):
        self._s["pending"] = None
        self._s["tries"] = 0
        self._save()
