# Make the firmware and the portable test helpers importable under pytest, exactly as
# host_tests/mpy_runner.py does under MicroPython.
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (os.path.join(ROOT, "firmware"), os.path.join(ROOT, "boards", "unix"), os.path.join(HERE, "portable")):
    if p not in sys.path:
        sys.path.insert(0, p)


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_undrained_jobs(monkeypatch):
    """FakeStation keeps what the code spawns until a test drains it. Background jobs a test chose not
    to run are closed at its end: CPython would report each as a coroutine never awaited."""
    from fake_station import FakeStation

    kept = []
    spawn = FakeStation.spawn

    def keep(self, coro):
        kept.append(coro)
        return spawn(self, coro)

    monkeypatch.setattr(FakeStation, "spawn", keep)
    yield
    for coro in kept:
        coro.close()
