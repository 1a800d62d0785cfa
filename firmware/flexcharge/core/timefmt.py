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

LOOSE_NO_OFFSET = 1
LOOSE_SPACE = 2

_MDAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _digits(s, i, n):
    # Value of the n ASCII digits at s[i:], or -1. No slicing: no allocation on the hot path.
    x = 0
    for j in range(i, i + n):
        c = ord(s[j])
        if c < 48 or c > 57:
            return -1
        x = x * 10 + c - 48
    return x


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (any year 1..9999), in integers."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def scan(s):
    """Parse a date-time. Returns (unix_seconds, milliseconds, loose_flags) as ints, or None
    if `s` is not a date-time we accept. Never raises, never allocates more than the tuple."""
    if not isinstance(s, str):
        return None
    n = len(s)
    if n < 19 or s[4] != "-" or s[7] != "-" or s[13] != ":" or s[16] != ":":
        return None
    flags = 0
    c = s[10]
    if c == " ":
        flags |= LOOSE_SPACE
    elif c != "T" and c != "t":
        return None
    y = _digits(s, 0, 4)
    mo = _digits(s, 5, 2)
    d = _digits(s, 8, 2)
    h = _digits(s, 11, 2)
    mi = _digits(s, 14, 2)
    sec = _digits(s, 17, 2)
    if y < 0 or mo < 1 or mo > 12 or d < 1 or h < 0 or h > 23 or mi < 0 or mi > 59 or sec < 0 or sec > 60:
        return None
    md = _MDAYS[mo - 1]
    if mo == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0):
        md = 29
    if d > md:
        return None
    i = 19
    ms = 0
    if i < n and s[i] == ".":
        i += 1
        j = i
        while i < n and 48 <= ord(s[i]) <= 57:
            if i - j < 3:
                ms = ms * 10 + ord(s[i]) - 48
            i += 1
        if i == j:
            return None
        k = i - j
        while k < 3:
            ms *= 10
            k += 1
    off = 0
    if i == n:
        flags |= LOOSE_NO_OFFSET
    else:
        c = s[i]
        if c == "Z" or c == "z":
            if i + 1 != n:
                return None
        elif (c == "+" or c == "-") and i + 6 == n and s[i + 3] == ":":
            oh = _digits(s, i + 1, 2)
            om = _digits(s, i + 4, 2)
            if oh < 0 or oh > 23 or om < 0 or om > 59:
                return None
            off = oh * 3600 + om * 60
            if c == "-":
                off = -off
        else:
            return None
    if sec == 60:
        sec = 59  # a leap second is read as the second before it
    t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off
    return (t, ms, flags)


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
