# Value checks against a variable's characteristics (B05.FR.07, TC_B_11_CS) and the typed
# form values are kept in: int for integer, bool for boolean, the table's own string for
# OptionList (and for a value equal to the default), so most stored values cost no heap.
from flexcharge.core import timefmt

INVALID = "InvalidValue"
OUT_OF_RANGE = "ValueOutOfRange"

# row fields (see model.py)
_TYPE = 3
_VALUES = 7
_DEFAULT = 8


def _int(s):
    # Strict: optional sign and digits only (int() would also take " 7", "1_0").
    n = len(s)
    if n == 0:
        return None
    i = 1 if s[0] == "+" or s[0] == "-" else 0
    if i == n:
        return None
    while i < n:
        c = s[i]
        if c < "0" or c > "9":
            return None
        i += 1
    return int(s)


def _dec(s):
    # [+-]digits[.digits][e[+-]digits]; float() would also take "nan", "inf", " 1".
    n = len(s)
    i = 0
    if i < n and (s[i] == "+" or s[i] == "-"):
        i += 1
    d = 0
    while i < n and "0" <= s[i] <= "9":
        i += 1
        d += 1
    if i < n and s[i] == ".":
        i += 1
        while i < n and "0" <= s[i] <= "9":
            i += 1
            d += 1
    if d == 0:
        return None
    if i < n and (s[i] == "e" or s[i] == "E"):
        i += 1
        if i < n and (s[i] == "+" or s[i] == "-"):
            i += 1
        e = 0
        while i < n and "0" <= s[i] <= "9":
            i += 1
            e += 1
        if e == 0:
            return None
    if i != n:
        return None
    return float(s)


def _member(values, v):
    for o in values:
        if o == v:
            return o
    lv = v.lower()
    for o in values:
        if o.lower() == lv:
            return o
    return None


def _outside(x, mn, mx):
    return (mn is not None and x < mn) or (mx is not None and x > mx)


def parse(row, value, mn, mx, strict):
    """(typed, None) if value suits the variable, else (None, reasonCode).
    strict=False (firmware-side writes) skips the limits but not the type."""
    if not isinstance(value, str):
        if value is True or value is False:
            value = "true" if value else "false"
        elif isinstance(value, int) or isinstance(value, float):
            value = str(value)
        else:
            return None, INVALID
    dt = row[_TYPE]
    if dt == "integer":
        v = _int(value)
        if v is None:
            return None, INVALID
        if strict and _outside(v, mn, mx):
            return None, OUT_OF_RANGE
        return v, None
    if dt == "decimal":
        f = _dec(value)
        if f is None:
            return None, INVALID
        if strict and _outside(f, mn, mx):
            return None, OUT_OF_RANGE
        return (row[_DEFAULT] if value == row[_DEFAULT] else value), None
    if dt == "boolean":
        lv = value.lower()
        if lv == "true":
            return True, None
        if lv == "false":
            return False, None
        return None, INVALID
    if dt == "dateTime":
        if value == "" and not strict:
            return "", None  # firmware may clear it
        try:
            timefmt.parse(value)
        except ValueError:
            return None, INVALID
        return value, None
    if dt == "OptionList":
        o = _member(row[_VALUES] or (), value)
        if o is None:
            return None, INVALID
        return o, None
    if dt == "MemberList" or dt == "SequenceList":
        if value == "":
            return "", None
        seen = []
        for p in value.split(","):
            o = _member(row[_VALUES] or (), p.strip())
            if o is None or o in seen:
                return None, INVALID
            seen.append(o)
        s = ",".join(seen)
        if strict and mx is not None and len(s) > mx:
            return None, OUT_OF_RANGE
        return (row[_DEFAULT] if s == row[_DEFAULT] else s), None
    # string: minLimit/maxLimit bound the length (schema: maxLimit is the string length)
    if strict and _outside(len(value), mn, mx):
        return None, OUT_OF_RANGE
    return (row[_DEFAULT] if value == row[_DEFAULT] else value), None


def text(v):
    """Typed value -> its OCPP string."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int) or isinstance(v, float):
        return str(v)  # measured values (DeviceModel.put) are kept as numbers
    return v


def number(v):
    """Typed value -> float for numeric comparisons, or None."""
    if v is True or v is False or v is None:
        return None
    if isinstance(v, int):
        return v
    try:
        return float(v)
    except (ValueError, TypeError):
        return None
