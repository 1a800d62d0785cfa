# The launcher is the unix board's watchdog hardware: a firmware process that stops feeding
# (<state>/watchdog not rewritten within its timeout) is killed and started again, and the
# next boot reports reset cause "watchdog". Here the "firmware" is a real MicroPython script
# that arms the watchdog and then blocks its event loop forever -- the hang a WDT must catch.
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
STATION = os.path.join(ROOT, "tools", "station")

HANG = r'''
import sys, time
state = sys.argv[sys.argv.index("--state") + 1]
try:
    cause = open(state + "/reset_cause").read()
except OSError:
    cause = "power"
print('{"event": "boot", "cause": "%s"}' % cause)
with open(state + "/watchdog", "w") as f:
    f.write("1000 0\n")   # armed with a 1 s timeout, fed once
if cause == "watchdog":
    sys.exit(0)           # second life: leave cleanly so the test ends
while True:               # a hang: nothing runs, nothing feeds
    time.sleep(0.05) if False else None
'''


def test_hung_firmware_is_reset_by_the_launcher_watchdog(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "main.py").write_text(HANG)
    cfg = tmp_path / "cfg.json"
    cfg.write_text("{}")
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, STATION, "--config", str(cfg), "--state", str(tmp_path / "state"),
                        "--bundle", str(bundle)], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    elapsed = time.monotonic() - t0
    events = [json.loads(l) for l in p.stdout.decode().splitlines()]
    assert p.returncode == 0, p.stderr.decode()
    assert [e["cause"] for e in events] == ["power", "watchdog"]
    assert "watchdog expired" in p.stderr.decode()
    assert 1.0 <= elapsed < 15
