# Station entry for tools/bench/bench_cmod.py: the firmware's main.py, after pointing the hot
# paths at flexcharge.accel when the C user module is there -- the wiring the firmware does
# itself once accel is wired into comm/ and core/ (then this changes nothing). With
# FLEXCHARGE_ACCEL=python or without the C module the firmware runs unchanged.
from flexcharge import accel

if accel.IMPL == "c":
    from flexcharge.comm import wsframe, jsoncheck
    from flexcharge.core import timefmt, router, schema

    wsframe.ProtocolError = accel.ProtocolError
    wsframe.mask = accel.mask
    wsframe.encode = accel.encode
    wsframe.parse_header = accel.parse_header
    wsframe.utf8_valid = accel.utf8_valid
    jsoncheck.check = accel.json_check
    timefmt.scan = router.scan = schema.scan = accel.time_scan

    def _fast_validate(spec, payload, notes=None, _ok=accel.schema_ok, _full=schema.validate):
        # C says "valid, nothing to normalise or note" -> done; else the full validator
        if _ok(spec, payload):
            return None
        return _full(spec, payload, notes)

    schema.validate = _fast_validate

import main  # noqa: E402,F401  (runs the station; frozen main.py or firmware/main.py)
