# The diagnostics log ring (GetLog DiagnosticsLog, N01): records on flash that survive reboots,
# bounded in size, the oldest dropped first.
#
# Layout: SEGMENTS files "<name>.<seq>" in the state directory (seq grows, 8 digits). Records are
# appended to the newest segment; when it passes seg_bytes a new one is started and the oldest
# beyond SEGMENTS is removed, so the ring never holds more than SEGMENTS x seg_bytes + one record
# and a wrap-around costs one unlink, not a rewrite.
#
# Record, one line:  "<ck> <time> <level> <source> <message>\n"
#   ck      two hex digits: sum of the bytes after "<ck> " up to the newline, mod 256
#   time    integer Unix seconds (the board clock; before the CSMS set it, whatever the RTC says)
#   level   D I W E
# A power cut in the middle of an append leaves a torn last line: it has no newline, or its
# check digits do not match (a FAT cluster filled with zeros). Readers skip such lines, and the
# first append after boot starts on a fresh line, so one torn record never spoils the next.
SEGMENTS = 4
SEG_BYTES = 8192
LEVELS = "DIWE"
_MAX_MSG = 200


def _ck(b):
    s = 0
    for x in b:
        s += x
    return s & 0xFF


def _clean(s):
    return str(s).replace("\n", " ").replace("\r", " ")


def parse(line):
    """A record line (bytes, with its newline) -> (time, level, source, message) or None if torn."""
    if len(line) < 12 or line[-1:] != b"\n" or line[2:3] != b" ":
        return None
    body = line[3:-1]
    try:
        if int(line[:2], 16) != _ck(body):
            return None
        parts = body.decode().split(" ", 3)
        t = int(parts[0])
    except (ValueError, UnicodeError):
        return None
    if len(parts) < 4 or len(parts[1]) != 1 or parts[1] not in LEVELS:
        return None
    return (t, parts[1], parts[2], parts[3])


class LogRing:
    def __init__(self, storage, clock, name="diaglog", seg_bytes=SEG_BYTES, segments=SEGMENTS):
        self.storage = storage  # hal.storage.FileStorage (append, open)
        self.clock = clock  # callable -> int Unix seconds
        self.name = name
        self.seg_bytes = seg_bytes
        self.segments = segments
        self.records = 0  # written this boot (a metric)
        segs = self._segs()
        self._seq = _seq(segs[-1]) if segs else 1
        self._size = storage.size(self._cur()) if segs else 0
        if self._size:
            # A torn last record (power cut mid-append): start the next one on a fresh line.
            with storage.open(self._cur(), "rb") as f:
                f.seek(self._size - 1)
                if f.read(1) != b"\n":
                    storage.append(self._cur(), b"\n")
                    self._size += 1

    def _segs(self):
        p = self.name + "."
        return [n for n in self.storage.names(p) if _seq(n) > 0]

    def _cur(self):
        return "%s.%08d" % (self.name, self._seq)

    def append(self, level, source, message, t=None):
        if t is None:
            t = int(self.clock())
        body = ("%d %s %s %s" % (t, level, _clean(source).replace(" ", "_") or "-", _clean(message)[:_MAX_MSG])).encode()
        rec = ("%02x " % _ck(body)).encode() + body + b"\n"
        if self._size and self._size + len(rec) > self.seg_bytes:
            self._seq += 1
            self._size = 0
            segs = self._segs()
            for n in segs[: max(0, len(segs) + 1 - self.segments)]:
                self.storage.remove(n)  # wrap-around: the oldest segment goes
        self.storage.append(self._cur(), rec)
        self._size += len(rec)
        self.records += 1

    def clear(self):
        for n in self._segs():
            self.storage.remove(n)
        self._seq += 1
        self._size = 0

    def size(self):
        return sum(self.storage.size(n) for n in self._segs())

    def records_in(self, oldest=None, latest=None):
        """Valid records, oldest first, with oldest <= time <= latest (ints or None: open end).
        A generator that reads line by line: the ring is never held in RAM."""
        for n in self._segs():
            try:
                f = self.storage.open(n, "rb")
            except OSError:
                continue  # removed by a wrap-around since the listing
            try:
                while True:
                    line = f.readline()
                    if not line:
                        break
                    r = parse(line)
                    if r is None:
                        continue  # torn by a power cut
                    if oldest is not None and r[0] < oldest:
                        continue
                    if latest is not None and r[0] > latest:
                        continue
                    yield r
            finally:
                f.close()

    def oldest_time(self):
        for r in self.records_in():
            return r[0]
        return None


def _seq(name):
    i = name.rfind(".")
    try:
        return int(name[i + 1:])
    except ValueError:
        return 0
