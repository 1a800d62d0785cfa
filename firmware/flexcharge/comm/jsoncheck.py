# Strict JSON check (RFC 8259) before json.loads, which is lenient on MicroPython: it takes
# leading zeros (010), trailing commas, missing commas or colons, invalid escapes (\x41) and
# raw control characters in strings. Part 4 §4.1.2: the whole message MUST be valid JSON.
#
# One pass, no recursion: containers are counted on a small stack, so the check also bounds
# the nesting depth before anything recursive (json.loads on CPython, json.dumps, schema
# validation) sees the message. Strings are searched with bytes.find (C) rather than byte by
# byte. Functions over bytes/bytearray only, so that a C user module can replace check().

# One implementation: flexcharge.accel (C where the build has flexcharge_c, else its Python twin,
# differential-tested and fuzzed against each other). This module keeps the names comm uses.
from flexcharge import accel

OK = accel.JSON_OK
BAD = accel.JSON_BAD  # not valid JSON
DEEP = accel.JSON_DEEP  # valid so far, but nested deeper than max_depth

# Deep enough for every OCPP 2.0.1/2.1 message (the deepest schema nests 14 levels, wrapper
# included; host_tests/portable/test_jsoncheck.py measures it), shallow enough that no
# recursive consumer can exhaust an MCU's C stack.
MAX_DEPTH = accel.JSON_MAX_DEPTH

check = accel.json_check
