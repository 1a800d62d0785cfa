# The security log (Part 2 A04: every security event, critical or not, is logged; GetLog with
# logType SecurityLog uploads it). Two bounded files in the state directory, seclog.0 (current)
# and seclog.1 (previous): when the current one passes MAX_BYTES it becomes the previous one, so
# the log never grows past ~2 x MAX_BYTES and a power cut loses at most the line being written.
# One line per event: "<RFC 3339 time> <type> <techInfo>". Secrets never go in (A01.FR.12).
MAX_BYTES = 8192
CURRENT = "seclog.0"
PREVIOUS = "seclog.1"


class SecurityLog:
    def __init__(self, storage, max_bytes=MAX_BYTES):
        self.storage = storage
        self.max_bytes = max_bytes

    def append(self, timestamp, event_type, tech_info=None):
        line = "%s %s %s\n" % (timestamp, event_type, _clean(tech_info or ""))
        cur = self.storage.read(CURRENT) or b""
        if len(cur) + len(line) > self.max_bytes and cur:
            self.storage.write(PREVIOUS, cur)
            cur = b""
        self.storage.write(CURRENT, cur + line.encode())

    def text(self):
        """Everything kept, oldest first (what GetLog SecurityLog uploads)."""
        return (self.storage.read(PREVIOUS) or b"") + (self.storage.read(CURRENT) or b"")

    def lines_in(self, oldest=None, latest=None):
        """Lines (bytes, oldest first) whose time is within [oldest, latest] (ints or None),
        read line by line from the files: GetLog streams them (N01.FR.03)."""
        from flexcharge.core.timefmt import scan

        for name in (PREVIOUS, CURRENT):
            try:
                f = self.storage.open(name, "rb")
            except OSError:
                continue
            try:
                while True:
                    line = f.readline()
                    if not line:
                        break
                    if line[-1:] != b"\n":
                        continue  # torn
                    if oldest is not None or latest is not None:
                        try:
                            r = scan(line[: line.find(b" ")].decode())
                        except (ValueError, UnicodeError):
                            r = None
                        if r is None:
                            continue
                        if (oldest is not None and r[0] < oldest) or (latest is not None and r[0] > latest):
                            continue
                    yield line
            finally:
                f.close()

    def clear(self):
        self.storage.remove(PREVIOUS)
        self.storage.remove(CURRENT)


def _clean(s):
    # One event, one line.
    return s.replace("\n", " ").replace("\r", " ")[:255]
