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

print("qemu accel (%s, %s): %d passed, %d failed" % (accel.IMPL, sys.implementation._machine, passed, failed))
