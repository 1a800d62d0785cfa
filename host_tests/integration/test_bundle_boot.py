# Issue 5: the unix-port bundle (`make bundle BOARD=unix`: .mpy files, not sources) boots the
# station, and it is the bundle that runs: the firmware process's module path holds the bundle
# and nothing of the source tree, and its modules load from the bundle's .mpy files.
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import bundle as _bundle  # noqa: E402
from bundle_table import bundle_launcher  # noqa: E402
from csms import StationProcess  # noqa: E402

MICROPYTHON = os.environ.get("FLEXCHARGE_MICROPYTHON") or os.path.join(ROOT, ".venv", "bin", "micropython")


@pytest.fixture(scope="module")
def unix_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "unix"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bundle.py"), "--board", "unix", "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "bundle unix:" in r.stdout and "-march=x64" in r.stdout
    return str(out)


def bundle_files(d):
    out = []
    for dirpath, _, files in os.walk(d):
        out += [os.path.relpath(os.path.join(dirpath, f), d).replace(os.sep, "/") for f in files]
    return sorted(out)


def firmware_child(launcher_pid, timeout=10):
    """pid of the launcher's MicroPython child process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for tid in os.listdir("/proc/%d/task" % launcher_pid):
            try:
                with open("/proc/%d/task/%s/children" % (launcher_pid, tid)) as f:
                    kids = [int(p) for p in f.read().split()]
            except OSError:
                continue
            if kids:
                return kids[0]
        time.sleep(0.1)
    raise AssertionError("launcher %d has no firmware child process" % launcher_pid)


def proc_environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)


def proc_cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return [a.decode() for a in f.read().split(b"\0") if a]


def test_bundle_holds_compiled_modules_only(unix_bundle):
    files = bundle_files(unix_bundle)
    # main.py stays source (MicroPython runs main.py at boot only as source; see tools/bundle.py).
    assert [f for f in files if not f.endswith(".mpy")] == ["main.py"]
    assert not [f for f in files if f.endswith(".py") and f != "main.py"]
    want = {p[:-3] + ".mpy" for p in _bundle.firmware_files()} | {"board.mpy"}
    assert want <= set(files), sorted(want - set(files))[:5]
    for f in files:
        if f.endswith(".mpy"):
            with open(os.path.join(unix_bundle, f), "rb") as fh:
                assert fh.read(2) == b"M\x06", f


@pytest.mark.skipif(os.environ.get("FLEXCHARGE_FROZEN", "") not in ("", "0"),
                    reason="a binary with the firmware frozen in: its .frozen modules shadow a bundle's")
def test_unix_bundle_boots_the_station(unix_bundle, make_csms, harness, tmp_path, kit):
    csms = make_csms(heartbeat_interval=60)
    cfg = kit.station_config(csms.url)
    launcher = bundle_launcher(unix_bundle, str(tmp_path))
    st = StationProcess(cfg, str(tmp_path / "state"), config_path=str(tmp_path / "station.json"), launcher=launcher)
    harness.stations.append(st)  # killed, and its stdout checked for JSON-only lines, at teardown
    st.start()

    # The firmware process runs the bundle's main.py with the bundle alone on its module path.
    child = firmware_child(st.proc.pid)
    env = proc_environ(child)
    path = env[b"MICROPYPATH"].decode()
    assert path == ".frozen:" + unix_bundle, path
    assert os.path.join(ROOT, "firmware") not in path and os.path.join(ROOT, "boards") not in path
    cmd = proc_cmdline(child)
    assert os.path.join(unix_bundle, "main.py") in cmd, cmd

    boot, answer = kit.wait_booted(csms, st)
    assert boot.payload["reason"] == "PowerUp"
    assert boot.payload["chargingStation"]["model"] == cfg["model"]
    statuses = kit.status_notifications(csms, since=answer.index)
    assert set(statuses) == kit.CONNECTORS and set(statuses.values()) == {"Available"}, statuses
    kit.assert_responsive(csms, st)
    ev = st.wait_event("registration", lambda e: e.get("status") == "Accepted", timeout=5)
    assert isinstance(ev.get("heap"), int) and ev["heap"] > 0

    # With that same environment, every flexcharge module the station uses resolves to a .mpy
    # inside the bundle (the unix port sets __file__ for .mpy modules too).
    mods = ("flexcharge.lifecycle.boot", "flexcharge.core.router", "flexcharge.comm.websocket", "board")
    code = "import sys\nfor m in %r:\n    __import__(m)\n    print(sys.modules[m].__file__)\n" % (mods,)
    r = subprocess.run([MICROPYTHON, "-c", code], capture_output=True, text=True, cwd=str(tmp_path),
                       env={"MICROPYPATH": path, "PATH": os.environ.get("PATH", "")})
    assert r.returncode == 0, r.stderr
    files = r.stdout.split()
    assert len(files) == len(mods), r.stdout
    for f in files:
        assert f.endswith(".mpy") and os.path.abspath(f).startswith(unix_bundle + os.sep), files

    assert st.shutdown() == 0
