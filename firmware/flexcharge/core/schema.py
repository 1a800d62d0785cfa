# Light JSON-schema validator for OCPP payloads, driven by the compact tables that
# tools/gen_schemas.py generates from the OCA JSON schemas (core/<version>/schemas/).
#
# Table encoding: a spec is a tuple whose first item names its kind, or the string "c".
#   ("o", required, props, extra)  object. required: tuple of names; props: ((name, spec), ...)
#                                  in schema order; extra: True if unknown properties are
#                                  allowed (additionalProperties not false), else False.
#   ("a", item, min, max)          array of `item`; min/max = minItems/maxItems or None.
#   ("s",) / ("s", maxLength)      string, optionally with maxLength (counted in characters).
#   ("e", (value, ...))            string that must be one of the enum values.
#   ("d",)                         string in RFC 3339 date-time format.
#   ("i",) / ("i", min, max)       integer (Draft 6: 3.0 counts as an integer); min/max or None.
#   ("n",) / ("n", min, max)       number (int or float, never bool); min/max or None.
#   ("b",)                         boolean.
#   ("*",)                         any JSON value (DataTransfer.data).
#   "c"                            the OCA CustomDataType (CUSTOM_DATA below), shared because
#                                  nearly every object has a customData property.
# Tables contain only tuples/str/int/float/None/bool, so a frozen table is one constant
# object in flash and costs no heap.
#
# Error codes (OCPP-J Part 4 §4.3, Table 8):
#   FormatViolation               the payload is not a JSON object; a property that the schema
#                                 does not declare where additionalProperties is false.
#   OccurrenceConstraintViolation a required property is missing; minItems/maxItems.
#   TypeConstraintViolation       a value of the wrong JSON type (e.g. "somestring": 12).
#   PropertyConstraintViolation   a value not allowed: enum, maxLength, minimum/maximum, date-time.
#
# Precedence when several things are wrong: the payload is walked depth-first in schema
# order (at each object: missing required properties in `required` order, then unknown
# properties, then each declared property present, in `props` order; arrays item by item).
# The reported error is the one of the highest rank -- Format, then Occurrence, then Type,
# then Property (Part 4 calls the last three "syntactically correct but ...") -- and among
# equals the first met in that walk. Several unknown properties of one object: the
# alphabetically smallest is named (MicroPython dicts have no stable order).
#
# The description is "<path>: <what>" with a JSON path such as
# "setVariableData[0].component.name: longer than 50", cut below 200 characters.
# Recursion follows the schema, never the payload, so its depth is bounded by the
# deepest table (~8); nothing is allocated unless an error is found.
from flexcharge import accel
from flexcharge.core.timefmt import scan
from flexcharge.comm.errors import (
    FORMAT_VIOLATION,
    OCCURRENCE_CONSTRAINT_VIOLATION,
    TYPE_CONSTRAINT_VIOLATION,
    PROPERTY_CONSTRAINT_VIOLATION,
)

_fast = accel.schema_ok  # None without the C module

CUSTOM_DATA = ("o", ("vendorId",), (("vendorId", ("s", 255)),), True)

# Ranks, highest first; index into _CODES.
_FORMAT = 0
_OCCURRENCE = 1
_TYPE = 2
_PROPERTY = 3
_CODES = (
    FORMAT_VIOLATION,
    OCCURRENCE_CONSTRAINT_VIOLATION,
    TYPE_CONSTRAINT_VIOLATION,
    PROPERTY_CONSTRAINT_VIOLATION,
)
_MAX_DESC = 199
_MAX_KEY = 40


def validate(spec, payload, notes=None):
    """Check `payload` (parsed JSON) against a table. None if valid, else (error_code, description).

    Normalises as it goes: an integral float where an integer is due (`1E+00`, valid JSON
    Schema draft-06 integer) becomes an int, so handlers see the type they were promised.
    `notes`, a list, collects the date-times accepted in a loose form (no offset, space
    separator: core/timefmt.py) so the caller can log a warning."""
    if not isinstance(payload, dict):
        return (FORMAT_VIOLATION, "payload: not a JSON object")
    if _fast is not None and _fast(spec, payload):
        return None  # the C module's fast path: valid, nothing to normalise or note
    e = _check(spec, payload, notes)
    if e is None:
        return None
    path = e[1] or "payload"
    return (_CODES[e[0]], (path + ": " + e[2])[:_MAX_DESC])


def _join(head, path):
    # head is "name" or "[i]"; path is the child's relative path.
    if not path:
        return head
    if path[0] == "[":
        return head + path
    return head + "." + path


def _better(best, e):
    return best is None or e[0] < best[0]


def _is_number(v):
    return (isinstance(v, int) or isinstance(v, float)) and not isinstance(v, bool)


def _is_int_spec(spec):
    return spec != "c" and spec[0] == "i"


def _check(spec, v, notes):
    """-> None or (rank, relative_path, message)."""
    if spec == "c":
        spec = CUSTOM_DATA
    k = spec[0]
    if k == "o":
        if not isinstance(v, dict):
            return (_TYPE, "", "not an object")
        props = spec[2]
        best = None
        for name in spec[1]:
            if name not in v:
                best = (_OCCURRENCE, name, "required property missing")
                break
        if not spec[3]:
            unknown = None
            for key in v:
                if not isinstance(key, str):
                    key = repr(key)
                elif _declared(props, key):
                    continue
                if unknown is None or key < unknown:
                    unknown = key
            if unknown is not None:
                return (_FORMAT, unknown[:_MAX_KEY] or '""', "unknown property")
        for p in props:
            name = p[0]
            if name in v:
                x = v[name]
                e = _check(p[1], x, notes)
                if e is None:
                    if isinstance(x, float) and _is_int_spec(p[1]):
                        v[name] = int(x)
                elif _better(best, e):
                    best = (e[0], _join(name, e[1]), e[2])
                    if e[0] == _FORMAT:
                        return best
        return best
    if k == "a":
        if not isinstance(v, list):
            return (_TYPE, "", "not an array")
        n = len(v)
        best = None
        if spec[2] is not None and n < spec[2]:
            best = (_OCCURRENCE, "", "fewer than %d items" % spec[2])
        elif spec[3] is not None and n > spec[3]:
            best = (_OCCURRENCE, "", "more than %d items" % spec[3])
        item = spec[1]
        for i in range(n):
            x = v[i]
            e = _check(item, x, notes)
            if e is None:
                if isinstance(x, float) and _is_int_spec(item):
                    v[i] = int(x)
            elif _better(best, e):
                best = (e[0], _join("[%d]" % i, e[1]), e[2])
                if e[0] == _FORMAT:
                    return best
        return best
    if k == "s":
        if not isinstance(v, str):
            return (_TYPE, "", "not a string")
        if len(spec) > 1 and len(v) > spec[1]:
            return (_PROPERTY, "", "longer than %d" % spec[1])
        return None
    if k == "e":
        if not isinstance(v, str):
            return (_TYPE, "", "not a string")
        if v not in spec[1]:
            return (_PROPERTY, "", "not in enum")
        return None
    if k == "d":
        if not isinstance(v, str):
            return (_TYPE, "", "not a string")
        r = scan(v)
        if r is None:
            return (_PROPERTY, "", "not an RFC 3339 date-time")
        if r[2] and notes is not None:
            notes.append(v)
        return None
    if k == "i" or k == "n":
        if not _is_number(v):
            return (_TYPE, "", "not an integer" if k == "i" else "not a number")
        # Draft 6/7: a float with no fractional part is an integer; inf/nan are not.
        if k == "i" and isinstance(v, float) and not (v % 1 == 0):
            return (_TYPE, "", "not an integer")
        if len(spec) > 1:
            if spec[1] is not None and v < spec[1]:
                return (_PROPERTY, "", "below minimum %s" % spec[1])
            if spec[2] is not None and v > spec[2]:
                return (_PROPERTY, "", "above maximum %s" % spec[2])
        return None
    if k == "b":
        if not isinstance(v, bool):
            return (_TYPE, "", "not a boolean")
        return None
    if k == "*":
        return None
    raise ValueError("bad schema table")


def _declared(props, key):
    for p in props:
        if p[0] == key:
            return True
    return False


def is_datetime(s):
    """A date-time we accept (see core/timefmt.py for the decision per form)."""
    return scan(s) is not None
