# Structured, human-readable log lines on stderr (stdout belongs to the station's
# JSON event stream). One logger object is built by the composition root and handed
# to every layer, so no layer imports another's logging.
import sys

from flexcharge.compat import ticks_ms, ticks_diff

DEBUG = 10
INFO = 20
WARN = 30
ERROR = 40
_NAMES = {DEBUG: "D", INFO: "I", WARN: "W", ERROR: "E"}


class Logger:
    def __init__(self, level=INFO, stream=None, tag="fc"):
        self.level = level
        self.stream = stream if stream is not None else sys.stderr
        self.tag = tag
        self._t0 = ticks_ms()
        self.counts = [0, 0]  # warnings, errors: a cheap health metric
        # The log ring on flash (diag/ring.py), set by the composition root once storage and
        # clock exist: callable(level letter, source, message). stderr output is unchanged.
        self.sink = None

    def _w(self, lvl, msg):
        if lvl >= WARN:
            self.counts[0 if lvl == WARN else 1] += 1
        if lvl < self.level:
            return
        t = ticks_diff(ticks_ms(), self._t0)
        try:
            self.stream.write("%7d.%03d %s %s %s\n" % (t // 1000, t % 1000, _NAMES[lvl], self.tag, msg))
        except Exception:
            pass  # a broken log sink must never stop the station
        if self.sink is not None:
            try:
                self.sink(_NAMES[lvl], self.tag, msg)
            except Exception:
                pass  # a full or failing flash must never stop the station

    def debug(self, msg):
        self._w(DEBUG, msg)

    def info(self, msg):
        self._w(INFO, msg)

    def warn(self, msg):
        self._w(WARN, msg)

    def error(self, msg):
        self._w(ERROR, msg)
