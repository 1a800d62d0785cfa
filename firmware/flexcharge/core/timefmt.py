# RFC 3339 date-times as OCPP uses them. MicroPython has no datetime/strftime, so this is
# done by hand, in integers only: on single-precision-float ports a Unix epoch in a float
# moves in 128 s steps.
#
# What we send: strict RFC 3339 UTC, "YYYY-MM-DDTHH:MM:SS.mmmZ" (iso, iso_ms).
#
# What we accept (be robust, per form; the schema validator and every parser use scan()):
#   "Z" or "+hh:mm"/"-hh:mm" offset            RFC 3339 §5.6: accepted.
#   0..n fraction digits                       accepted; kept to the millisecond (truncated).
#   lower-case "t" / "z"                       RFC 3339 §5.6 NOTE allows them: accepted, no warning.
#   no offset ("2026-08-21T10:00:00.123456")    not RFC 3339, but sent by widely used CSMS:
#                                              read as UTC, accepted with a warning (LOOSE).
#   a space instead of "T"                     RFC 3339 §5.6 NOTE permits it "for readability"; ISO
#                                              8601 does not: accepted with a warning (LOOSE).
#   refused (PropertyConstraintViolation where a schema asks for a date-time): impossible dates
#   (2024-02-30, month 13, hour 24), "." without digits, basic ISO forms (20240101T000000Z),
#   "+hhmm" or "+hh" offsets, anything trailing, anything that is not a string.
from flexcharge.compat import gmtime

from flexcharge import accel

# scan(s) -> (unix_seconds, ms, loose_flags) or None: one implementation, in C where the build has
# the flexcharge_c module, else accel's Python twin (same contract, differential-tested).
scan = accel.time_scan
days_from_civil = accel.days_from_civil
LOOSE_NO_OFFSET = accel.TIME_LOOSE_NO_OFFSET
LOOSE_SPACE = accel.TIME_LOOSE_SPACE


def loose_reason(flags):
    if flags & LOOSE_NO_OFFSET:
        return "no UTC offset, read as UTC"
    if flags & LOOSE_SPACE:
        return "space instead of 'T'"
    return None


def parse(s):
    """RFC 3339 -> Unix seconds (int). Raises ValueError for what scan() refuses."""
    r = scan(s)
    if r is None:
        raise ValueError("not a date-time: %r" % (s,))
    return r[0]


def parse_ms(s):
    """RFC 3339 -> Unix milliseconds (int)."""
    r = scan(s)
    if r is None:
        raise ValueError("not a date-time: %r" % (s,))
    return r[0] * 1000 + r[1]


def iso(unix_seconds):
    """Unix seconds -> "YYYY-MM-DDTHH:MM:SS.mmmZ". An int gives .000; a float (a host clock)
    gives its milliseconds."""
    s = int(unix_seconds)
    ms = 0
    if not isinstance(unix_seconds, int):
        ms = int((unix_seconds - s) * 1000)
        if ms < 0:
            s -= 1
            ms += 1000
    return _fmt(s, ms)


def iso_ms(unix_ms):
    """Unix milliseconds (int) -> "YYYY-MM-DDTHH:MM:SS.mmmZ"."""
    return _fmt(unix_ms // 1000, unix_ms % 1000)


def _fmt(s, ms):
    t = gmtime(s)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (t[0], t[1], t[2], t[3], t[4], t[5], ms)
