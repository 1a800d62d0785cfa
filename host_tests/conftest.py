# Make the firmware and the portable test helpers importable under pytest, exactly as
# host_tests/mpy_runner.py does under MicroPython.
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (os.path.join(ROOT, "firmware"), os.path.join(ROOT, "boards", "unix"), os.path.join(HERE, "portable")):
    if p not in sys.path:
        sys.path.insert(0, p)
