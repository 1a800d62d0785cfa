# L01/L04 on the MCU boards: firmware/main.py is the bootloader step. It selects the slot
# (lifecycle/slots.select), puts an installed update's module tree ahead of the factory (frozen)
# modules and runs that tree's main.py; a crash during the trial rolls back to the factory firmware.
# Run on the MicroPython unix port with a stand-in MCU board module (paths(), crashed()).
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "firmware"))
from flexcharge.hal.slot import FileSlot  # noqa: E402

MICROPYTHON = os.environ.get("FLEXCHARGE_MICROPYTHON") or os.path.join(os.path.dirname(sys.executable), "micropython")

BOARD = """\
import os
CONFIG_PATH = %(cfg)r
STORAGE_ROOT = %(state)r
def paths():
    return CONFIG_PATH, STORAGE_ROOT
def crashed():
    try:
        os.stat(%(flag)r)
        return True
    except OSError:
        return False
"""

# The update's own main.py: says which tree and which flexcharge package it runs.
SLOT_MAIN = """\
import sys
import flexcharge
sys.stderr.write("slot main %s version %s\\n" % (FLEXCHARGE_SLOT, flexcharge.IMAGE_VERSION))
sys.exit(0)
"""


@pytest.fixture
def mcu(tmp_path):
    if not os.path.exists(MICROPYTHON):
        pytest.fail("no MicroPython unix port at %s: run make setup" % MICROPYTHON)
    bdir = tmp_path / "board"
    bdir.mkdir()
    state = tmp_path / "data"
    state.mkdir()
    flag = tmp_path / "wdt-reset"
    (bdir / "board.py").write_text(BOARD % {"cfg": str(tmp_path / "station.json"), "state": str(state),
                                            "flag": str(flag)})
    # An installed update: image in the inactive slot, the switch done (pending), its tree unpacked.
    fs = FileSlot(str(state / "fw"))
    fs.begin("9.9.9")
    fs.write(b"image bytes")
    fs.finish()
    fs.mark_pending()
    tree = state / "fw" / (fs.pending() + ".d")
    (tree / "flexcharge").mkdir(parents=True)
    (tree / "flexcharge" / "__init__.py").write_text("IMAGE_VERSION = '9.9.9'\n")
    (tree / "main.py").write_text(SLOT_MAIN)

    class Mcu:
        def boot(self, crashed=False):
            if crashed:
                flag.write_text("1")
            elif flag.exists():
                flag.unlink()
            env = dict(os.environ, MICROPYPATH=".frozen:%s:%s" % (bdir, os.path.join(ROOT, "firmware")))
            return subprocess.run([MICROPYTHON, os.path.join(ROOT, "firmware", "main.py")], env=env,
                                  capture_output=True, text=True, timeout=60, cwd=str(tmp_path))

        def slots(self):
            with open(str(state / "fw" / "slot.json")) as f:
                return json.load(f)

    m = Mcu()
    m.tree = str(tree)
    return m


def test_pending_update_boots_its_own_tree_ahead_of_the_factory_modules(mcu):
    r = mcu.boot()
    assert r.returncode == 0, r.stderr
    # The tree's main.py ran, with the tree's flexcharge package, not the factory one.
    assert "slot main %s version 9.9.9" % mcu.tree in r.stderr
    s = mcu.slots()
    assert s["pending"] is not None and s["tries"] == 1  # one trial start, counted once


def test_crash_during_the_trial_rolls_back_to_the_factory_firmware(mcu):
    assert mcu.boot().returncode == 0
    r = mcu.boot(crashed=True)
    assert "firmware slot: rollback" in r.stderr
    assert "slot main" not in r.stderr
    # The factory firmware booted: it stops on the missing station config (exit status 2).
    assert r.returncode == 2 and "station.json" in r.stderr, (r.returncode, r.stderr)
    s = mcu.slots()
    assert s["pending"] is None and s["failed"] == "9.9.9"  # reported as InstallationFailed once online
