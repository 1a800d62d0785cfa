# host_tests/portable/test_accel.py on an image without asyncio (the stock qemu Cortex-M3
# port, single-precision floats, 32-bit small ints): frozen with flexcharge.accel and the C
# module by mk/cmod.mk (test-cmod-qemu), run from the REPL: `import qemu_accel`.
import sys


class _Raises:
    def __init__(self, exc):
        self.exc = exc
        self.value = None

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is None:
            raise AssertionError("expected " + self.exc.__name__)
        if not issubclass(et, self.exc):
            return False
        self.value = ev
        return True


class _Support:
    raises = _Raises


sys.modules["support"] = _Support
import test_accel  # noqa: E402

passed = failed = 0
for name in sorted(dir(test_accel)):
    if name.startswith("test_"):
        try:
            getattr(test_accel, name)()
            passed += 1
        except Exception as e:
            failed += 1
            print("FAIL", name, repr(e))
            sys.print_exception(e)
from flexcharge import accel  # noqa: E402

# schema_ok on 32-bit ints and float32, with tables shaped as the generated ones (the core
# package needs `time`, which the stock qemu port lacks)
_S = ("o", ("a", "t"), (("customData", "c"), ("a", ("a", ("o", ("n",), (("n", ("i", 0, 2147483647)),
      ("f", ("n", -1.5, 1e30)), ("e", ("e", ("X", "Y"))), ("b", ("b",)), ("d", ("d",)), ("s", ("s", 3))), False),
      1, 3)), ("t", ("s",))), True)
_ok = {"a": [{"n": 2147483647, "f": 1e29, "e": "Y", "b": False, "d": "2024-02-29T12:00:00.5+01:00", "s": "abc"}],
       "t": "", "extra": 1}
_cases = [_ok, {"a": [{"n": 2147483648}], "t": ""}, {"a": [{"n": 1.0}], "t": ""}, {"a": [{"n": True}], "t": ""},
          {"a": [{"n": 0, "f": -2}], "t": ""}, {"a": [{"n": 0, "e": "Z"}], "t": ""}, {"a": [], "t": ""},
          {"a": [{"n": 0, "d": "2024-02-29 12:00:00"}], "t": ""}, {"a": [{"n": 0, "s": "abcd"}], "t": ""},
          {"a": [{"n": 0, "zz": 1}], "t": ""}, {"a": [{"n": 0}], "t": "", "customData": {}}, {"t": ""}, [1]]
try:
    for i, p in enumerate(_cases):
        want = accel.py_schema_ok(_S, p)
        assert accel.schema_ok(_S, p) == want, (i, want)
        assert want == (i == 0), i
    passed += 1
except Exception as e:
    failed += 1
    print("FAIL schema_ok", repr(e))

print("qemu accel (%s, %s): %d passed, %d failed" % (accel.IMPL, sys.implementation._machine, passed, failed))
