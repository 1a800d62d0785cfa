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
def reboot():
    # machine.reset() on a real board; here: say so and end the process
    with open(%(reboots)r, "a") as f:
        f.write("reboot\\n")
    raise SystemExit(99)
def make_board(config, state_dir):
    raise RuntimeError("the board's bus does not answer")  # a crash of the factory firmware
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
    reboots = tmp_path / "reboots"
    (bdir / "board.py").write_text(BOARD % {"cfg": str(tmp_path / "station.json"), "state": str(state),
                                            "flag": str(flag), "reboots": str(reboots)})
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
            if reboots.exists():
                reboots.unlink()
            if crashed:
                flag.write_text("1")
            elif flag.exists():
                flag.unlink()
            env = dict(os.environ, MICROPYPATH=".frozen:%s:%s" % (bdir, os.path.join(ROOT, "firmware")))
            return subprocess.run([MICROPYTHON, os.path.join(ROOT, "firmware", "main.py")], env=env,
                                  capture_output=True, text=True, timeout=60, cwd=str(tmp_path))

        def rebooted(self):
            return reboots.exists()

        def write_config(self):
            (tmp_path / "station.json").write_text(json.dumps(
                {"identity": "CS1", "csms_url": "ws://127.0.0.1:9/ocpp", "evses": [{"id": 1}]}))

        def slots(self):
            with open(str(state / "fw" / "slot.json")) as f:
                return json.load(f)

    m = Mcu()
    m.tree = str(tree)
    return m


def test_pending_update_boots_its_own_tree_ahead_of_the_factory_modules(mcu):
    r = mcu.boot()
    # The tree's main.py ran, with the tree's flexcharge package, not the factory one.
    assert "slot main %s version 9.9.9" % mcu.tree in r.stderr
    s = mcu.slots()
    assert s["pending"] is not None and s["tries"] == 1  # one trial start, counted once
    # It came back instead of running a station: the chip restarts (no wait for a power cycle).
    assert r.returncode == 99 and mcu.rebooted(), r.stderr


def test_a_trial_image_that_keeps_stopping_rolls_back_after_its_tries(mcu):
    for n in (1, 2, 3):
        assert mcu.boot().returncode == 99
        assert mcu.slots()["tries"] == n
    r = mcu.boot()  # the fourth start: MAX_TRIES used up
    assert "firmware slot: rollback" in r.stderr and "slot main" not in r.stderr
    assert mcu.slots()["pending"] is None and mcu.slots()["failed"] == "9.9.9"


def test_crash_during_the_trial_rolls_back_to_the_factory_firmware(mcu):
    assert mcu.boot().returncode == 99  # the trial start
    r = mcu.boot(crashed=True)
    assert "firmware slot: rollback" in r.stderr
    assert "slot main" not in r.stderr
    # The factory firmware booted: it stops on the missing station config (exit status 2) and stays
    # down for the engineer (no restart loop on a configuration error).
    assert r.returncode == 2 and "station.json" in r.stderr, (r.returncode, r.stderr)
    assert not mcu.rebooted()
    s = mcu.slots()
    assert s["pending"] is None and s["failed"] == "9.9.9"  # reported as InstallationFailed once online


def test_a_crash_of_the_factory_firmware_restarts_the_chip(mcu):
    mcu.boot()
    mcu.boot(crashed=True)  # rolled back: factory firmware from here on
    mcu.write_config()
    r = mcu.boot()
    assert "bus does not answer" in r.stderr
    assert r.returncode == 99 and mcu.rebooted(), r.stderr
