# Helpers for the portable tests: these files run under pytest (CPython) and under
# host_tests/mpy_runner.py (MicroPython unix port), so only plain asserts and
# what is here -- no pytest fixtures, no CPython-only modules.
import asyncio


class raises:
    """with raises(ValueError): ... -- fails the test if nothing (or something else) is raised."""

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


def run(coro):
    """Run a coroutine to completion on a fresh event loop."""
    return asyncio.run(coro)


_tmp_counter = [0]


def tmpdir(tag="t"):
    """A fresh empty directory under /tmp (both interpreters)."""
    import os

    _tmp_counter[0] += 1
    base = "/tmp/fc-test-%d-%s-%d" % (_pid(), tag, _tmp_counter[0])
    _rmtree(base)
    os.mkdir(base)
    return base


def _pid():
    try:
        import os

        return os.getpid()
    except AttributeError:
        import time

        return time.ticks_ms() & 0xFFFFFF


def _rmtree(path):
    import os

    try:
        mode = os.stat(path)[0]
    except OSError:
        return
    if mode & 0x4000:
        for n in os.listdir(path):
            _rmtree(path + "/" + n)
        os.rmdir(path)
    else:
        os.remove(path)
