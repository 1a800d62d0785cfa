# RFC 3339 date-times as OCPP uses them (dateTime fields are UTC "…Z" when we send them).
# MicroPython has no datetime/strftime, so this is done by hand.
from flexcharge.compat import gmtime, timegm


def iso(unix_seconds):
    t = gmtime(unix_seconds)
    ms = int((unix_seconds - int(unix_seconds)) * 1000)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (t[0], t[1], t[2], t[3], t[4], t[5], ms)


def parse(s):
    """RFC 3339 -> Unix seconds (float). Accepts 'Z' or ±hh:mm and an optional fraction;
    robust in what we accept: a missing offset is read as UTC. Raises ValueError."""
    if not isinstance(s, str) or len(s) < 19 or s[4] != "-" or s[7] != "-" or s[10] not in "Tt ":
        raise ValueError("not a date-time: %r" % (s,))
    try:
        tm = (int(s[0:4]), int(s[5:7]), int(s[8:10]), int(s[11:13]), int(s[14:16]), int(s[17:19]))
    except ValueError:
        raise ValueError("not a date-time: %r" % (s,))
    if not (1 <= tm[1] <= 12 and 1 <= tm[2] <= 31 and tm[3] < 24 and tm[4] < 60 and tm[5] < 61):
        raise ValueError("date-time out of range: %r" % (s,))
    i = 19
    frac = 0.0
    if i < len(s) and s[i] == ".":
        j = i + 1
        while j < len(s) and "0" <= s[j] <= "9":
            j += 1
        if j > i + 1:
            frac = float("0" + s[i:j])
        i = j
    off = 0
    rest = s[i:]
    if rest in ("Z", "z", ""):
        pass
    elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
        off = int(rest[1:3]) * 3600 + int(rest[4:6]) * 60
        if rest[0] == "-":
            off = -off
    else:
        raise ValueError("bad UTC offset in %r" % (s,))
    return timegm(tm) - off + frac
