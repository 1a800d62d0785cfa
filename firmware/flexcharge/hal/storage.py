# File-backed Storage on any MicroPython VFS (littlefs/FAT on MCUs, POSIX on unix).
# Atomic write: write a temp file, flush (and fsync where the port has it), rename
# over the old one; rename is atomic on POSIX and littlefs, so a power cut leaves
# either the old or the new file, never a torn one.
import os

from flexcharge.hal import Storage
from flexcharge.compat import sync_file, makedirs


class FileStorage(Storage):
    def __init__(self, root):
        self.root = root.rstrip("/")
        makedirs(self.root)
        # A crash between write and rename leaves *.tmp behind: never valid, drop it.
        for n in os.listdir(self.root):
            if n.endswith(".tmp"):
                try:
                    os.remove(self._p(n))
                except OSError:
                    pass

    def _p(self, name):
        return self.root + "/" + name

    def read(self, name):
        try:
            with open(self._p(name), "rb") as f:
                return f.read()
        except OSError:
            return None

    def write(self, name, data):
        if isinstance(data, str):
            data = data.encode()
        tmp = self._p(name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            sync_file(f)
        os.rename(tmp, self._p(name))

    # Append-only logs (diag/ring.py): no atomic rename, a torn last record is the reader's problem.
    def append(self, name, data):
        with open(self._p(name), "ab") as f:
            f.write(data)

    def size(self, name):
        try:
            return os.stat(self._p(name))[6]
        except OSError:
            return 0

    def open(self, name, mode="rb"):
        return open(self._p(name), mode)

    def remove(self, name):
        try:
            os.remove(self._p(name))
        except OSError:
            pass

    def names(self, prefix=""):
        return sorted(n for n in os.listdir(self.root) if n.startswith(prefix) and not n.endswith(".tmp"))
