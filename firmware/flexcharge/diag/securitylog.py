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

    def clear(self):
        self.storage.remove(PREVIOUS)
        self.storage.remove(CURRENT)


def _clean(s):
    # One event, one line.
    return s.replace("\n", " ").replace("\r", " ")[:255]
