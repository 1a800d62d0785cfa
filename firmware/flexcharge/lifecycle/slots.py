# A/B firmware slots on a filesystem (L01 install, L01/L04 recovery), on top of the HAL's
# FileSlot (hal/slot.py: the image bytes a.bin / b.bin and the slot state slot.json).
#
# Layout under <state>/fw/:
#   slot.json      which slot is active, which one is pending (on probation) and its tries;
#                  every change is one atomic rename of this small file: that rename *is*
#                  the switch, so a power cut leaves either the old or the new choice.
#   a.bin, b.bin   downloaded images (the bytes the publisher signed)
#   a.d/, b.d/     the unpacked image a boot loads (main.py, flexcharge/, board.py, ...)
#
# Image format (FCFW1, the same for every board: the payload is the board's module tree,
# .py sources or .mpy bundles):
#   b"FCFW1\n"
#   one JSON line: {"version": "...", "board": "unix", "files": N}
#   N times: b"F <size> <relative/path>\n" followed by <size> bytes
#   b"END\n"
# The signature covers the whole file. Unpacking streams 1 KB at a time into <slot>.new/,
# which is renamed to <slot>.d/ only when complete.
#
# Boot selection (select(), run by the bootloader: tools/station on the unix board, main.py on
# an MCU before it imports the rest): a pending slot gets one trial boot; if that boot never
# confirms (crash, watchdog, no Accepted registration in time: lifecycle/update.py), the next
# start rolls back to the active slot and remembers the failure (reported as
# InstallationFailed, L01/L04). A slot without an unpacked tree is the factory firmware.
import os
import json

from flexcharge.hal.slot import FileSlot, MAX_TRIES, slot_dir  # noqa: F401 -- MAX_TRIES: trials before rollback
from flexcharge.compat import makedirs, isdir, sync_file

MAGIC = b"FCFW1\n"
_CHUNK = 1024


class ImageError(ValueError):
    pass


def open_slots(state_dir):
    return FileSlot(slot_dir(state_dir))


def tree(fs, slot):
    return fs.root + "/" + slot + ".d"


def _rmtree(path):
    try:
        names = os.listdir(path)
    except OSError:
        return
    for n in names:
        p = path + "/" + n
        if isdir(p):
            _rmtree(p)
        else:
            try:
                os.remove(p)
            except OSError:
                pass
    try:
        os.rmdir(path)
    except OSError:
        pass


class _Reader:
    def __init__(self, f):
        self.f = f
        self.buf = b""

    def line(self, limit=600):
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise ImageError("image header line too long")
            d = self.f.read(_CHUNK)
            if not d:
                raise ImageError("image truncated")
            self.buf += d
        i = self.buf.index(b"\n")
        ln = self.buf[:i]
        self.buf = self.buf[i + 1 :]
        return ln

    def copy(self, n, out):
        while n > 0:
            if not self.buf:
                self.buf = self.f.read(_CHUNK)
                if not self.buf:
                    raise ImageError("image truncated")
            d = self.buf[:n]
            self.buf = self.buf[len(d) :]
            out.write(d)
            n -= len(d)


def _safe(path):
    if not path or path.startswith("/") or "\\" in path:
        return False
    for seg in path.split("/"):
        if seg in ("", ".", ".."):
            return False
    return True


def _header(r):
    if r.line() + b"\n" != MAGIC:
        raise ImageError("not a FlexCharge firmware image")
    try:
        h = json.loads(r.line())
    except ValueError:
        raise ImageError("bad image header")
    if not isinstance(h, dict) or not isinstance(h.get("version"), str):
        raise ImageError("image header without version")
    return h


def read_header(path):
    """-> the image's JSON header (version, board, files); ImageError if it is not an image."""
    with open(path, "rb") as f:
        return _header(_Reader(f))


def unpack(fs, slot, board=None):
    """Unpack the image in slot `slot` into its tree; -> header. ImageError on a bad image
    (InstallVerificationFailed). The tree appears whole or not at all."""
    new = fs.root + "/" + slot + ".new"
    _rmtree(new)
    makedirs(new)
    with open(fs.path(slot), "rb") as f:
        r = _Reader(f)
        h = _header(r)
        if board is not None and h.get("board") != board:
            raise ImageError("image for board %r, this is %r" % (h.get("board"), board))
        count = 0
        while True:
            ln = r.line().decode()
            if ln == "END":
                break
            parts = ln.split(" ", 2)
            if len(parts) != 3 or parts[0] != "F" or not parts[1].isdigit() or not _safe(parts[2]):
                raise ImageError("bad image entry %r" % ln[:60])
            size = int(parts[1])
            target = new + "/" + parts[2]
            k = target.rfind("/")
            makedirs(target[:k])
            with open(target, "wb") as out:
                r.copy(size, out)
                sync_file(out)
            count += 1
        if count != h.get("files", count):
            raise ImageError("image holds %d files, header says %s" % (count, h.get("files")))
    if not isdir(new) or not _exists(new + "/main.py"):
        raise ImageError("image has no main.py")
    old = tree(fs, slot)
    _rmtree(old)
    os.rename(new, old)
    return h


def _exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def clean(fs):
    # Half-unpacked trees from a power cut during Installing.
    for s in ("a", "b"):
        _rmtree(fs.root + "/" + s + ".new")


def select(state_dir, crashed=False):
    """Bootloader step, once per start. crashed: the previous run ended by a crash or the
    watchdog (not a power cut, not a requested reset). -> (mode, tree or None): mode 'normal',
    'trial' or 'rollback'; tree the directory to boot, None for the factory firmware."""
    fs = open_slots(state_dir)
    clean(fs)
    if crashed and fs.pending() is not None and fs.tries() > 0:
        fs.fail_pending()  # the new image crashed or hung during its trial (L01/L04)
        mode = "rollback"
    else:
        mode = fs.boot()
    slot = fs.pending() if mode == "trial" else fs.active()
    t = tree(fs, slot)
    if not _exists(t + "/main.py"):
        if mode == "trial":
            # A pending slot without its tree cannot be booted: back to the old one at once.
            fs.fail_pending()
            mode = "rollback"
            t = tree(fs, fs.active())
            if not _exists(t + "/main.py"):
                t = None
        else:
            t = None
    return mode, t


def boot_step(state_dir, crashed, note):
    """select() as a bootloader runs it (tools/station on the unix board, firmware/main.py on an MCU):
    a damaged slot state must not brick the station, so it boots the factory firmware ('normal', None).
    note(text) is told what was chosen."""
    try:
        mode, t = select(state_dir, crashed)
    except Exception as e:
        note("firmware slots unusable (%r): booting the factory firmware" % (e,))
        return "normal", None
    if mode != "normal" or t:
        note("firmware slot: %s, booting %s" % (mode, t or "the factory firmware"))
    return mode, t
