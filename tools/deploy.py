#!/usr/bin/env python3
"""Put FlexCharge on a board. Thin wrappers, each printing the command it runs.

  deploy   --board B --port P [--config station.json]
           copy build/bundle/B (tools/bundle.py) and the station configuration to the
           board's filesystem with mpremote
  flash    --board esp32 --port P --image firmware.bin [--erase]
           write a MicroPython image with esptool (ESP32 boards only; other boards
           print their own procedure)
  firmware --board B --mpy-dir ~/micropython
           build a MicroPython image with FlexCharge and the board's modules frozen in
           (needs the port's toolchain: ESP-IDF for esp32, arm-none-eabi-gcc otherwise)
  firmware --board unix|qemu
           the same from the Debian MicroPython source `make setup` put in .mpbuild/,
           output in build/firmware/<board>/

--dry-run prints the commands without running them. Exit status 2 for usage errors
(unknown board, no board attached, missing bundle/image), else the tool's status.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import bundle as _bundle  # noqa: E402


class DeployError(Exception):
    pass


def serial_ports():
    """Serial ports that look like an attached board (USB serial), as device paths."""
    try:
        from serial.tools import list_ports
    except ImportError:
        return []
    return sorted(p.device for p in list_ports.comports() if p.vid is not None or "USB" in (p.device or "") or "ACM" in (p.device or ""))


def check_port(port):
    attached = serial_ports()
    listing = ", ".join(attached) if attached else "none found"
    if not port:
        raise DeployError("no PORT given (make deploy BOARD=... PORT=/dev/ttyUSB0); attached serial ports: %s" % listing)
    if port == "auto":
        if not attached:
            raise DeployError("PORT=auto but no board is attached (no USB serial port found)")
        return port
    if port.startswith("/dev/") and not os.path.exists(port):
        raise DeployError("PORT %s does not exist: is the board attached and powered? attached serial ports: %s"
                          % (port, listing))
    return port


def run(cmd, dry_run, env=None):
    print("+ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    if dry_run:
        return 0
    return subprocess.call(cmd, env=env)


def code_root(info):
    d = os.path.dirname(info.get("config_path", "/station.json"))
    return d or "/"


def deploy_commands(board, port, config=None, bundle_dir=None, reset=False):
    info = _bundle.board_info(board)
    bundle_dir = bundle_dir or os.path.join(ROOT, "build", "bundle", board)
    if not os.path.isdir(bundle_dir) or not os.listdir(bundle_dir):
        raise DeployError("no bundle at %s: run `make bundle BOARD=%s` first" % (os.path.relpath(bundle_dir), board))
    dest = code_root(info)
    prefix = ":" if dest == "/" else ":" + dest + "/"
    cmd = [sys.executable, "-m", "mpremote", "connect", port]
    for name in sorted(os.listdir(bundle_dir)):
        p = os.path.join(bundle_dir, name)
        cmd += ["+", "fs", "cp", "-r", p, prefix] if os.path.isdir(p) else ["+", "fs", "cp", p, prefix + name]
    if config:
        if not os.path.isfile(config):
            raise DeployError("station config %s not found" % config)
        try:
            with open(config) as f:
                json.load(f)
        except ValueError as e:
            raise DeployError("station config %s is not valid JSON: %s" % (config, e))
        cmd += ["+", "fs", "cp", config, ":" + info.get("config_path", "/station.json")]
    if reset:
        cmd += ["+", "reset"]
    return cmd


def flash_commands(board, port, image, erase=False):
    info = _bundle.board_info(board)
    fl = info.get("flash", {})
    if fl.get("tool") != "esptool":
        raise DeployError("`flash` writes ESP32 images with esptool; for %s: %s"
                          % (board, fl.get("hint", "use the vendor's tool")))
    if not image:
        raise DeployError("no IMAGE given (make flash BOARD=%s PORT=... IMAGE=firmware.bin)" % board)
    if not os.path.isfile(image):
        raise DeployError("image %s not found" % image)
    base = [sys.executable, "-m", "esptool", "--chip", fl["chip"], "--port", port, "--baud", str(fl.get("baud", 460800))]
    cmds = []
    if erase:
        cmds.append(base + ["erase-flash"])
    cmds.append(base + ["write-flash", "-z", fl["offset"], image])
    return cmds


MPBUILD = os.path.join(ROOT, ".mpbuild")
CMODULES = os.path.join(ROOT, "firmware", "cmodules")
CMAKE_PORTS = ("esp32", "rp2")


def debian_tree():
    """The MicroPython tree `make setup` unpacked from Debian's source package, or None."""
    if os.path.isdir(MPBUILD):
        for n in sorted(os.listdir(MPBUILD)):
            d = os.path.join(MPBUILD, n)
            if n.startswith("micropython-") and os.path.isfile(os.path.join(d, ".flexcharge-unpacked")):
                return d
    return None


def user_c_modules(board, info):
    """USER_C_MODULES: the C user-module when it is there (optional: every entry point has
    a pure-Python fallback) and the board's own (board.json "c_modules", folders of
    modules). make-based ports take one folder: a folder of links to each module."""
    mods = []
    for base in [CMODULES] + [os.path.join(ROOT, d) for d in info.get("c_modules", [])]:
        if os.path.isdir(base):
            for n in sorted(os.listdir(base)):
                if os.path.isfile(os.path.join(base, n, "micropython.mk")):
                    mods.append(os.path.join(base, n))
    if not mods:
        return []
    if info["port"] in CMAKE_PORTS:
        cm = [os.path.join(m, "micropython.cmake") for m in mods if os.path.isfile(os.path.join(m, "micropython.cmake"))]
        return ["USER_C_MODULES=" + ";".join(cm)] if cm else []
    farm = os.path.join(ROOT, "build", "cmodules", board)
    if os.path.isdir(farm):
        shutil.rmtree(farm)
    os.makedirs(farm)
    for m in mods:
        os.symlink(m, os.path.join(farm, os.path.basename(m)))
    return ["USER_C_MODULES=" + farm]


def firmware_commands(board, mpy_dir, jobs=None):
    """Commands building an image of `board` with FlexCharge frozen in.

    With mpy_dir: a full MicroPython checkout of the board's port (its own submodules).
    Without: the Debian source tree in .mpbuild (make setup), for the boards whose
    board.json has "debian_build" (unix, qemu): no lib/ submodules there but mbedTLS, so
    the build gets an empty micropython-lib, no btree, and its output in build/firmware/B."""
    info = _bundle.board_info(board)
    if "port" not in info:
        raise DeployError("boards/%s/board.json names no MicroPython port" % board)
    debian = not mpy_dir
    if debian:
        if "debian_build" not in info:
            raise DeployError("no MPY_DIR given: point it at a MicroPython checkout (git clone https://github.com/micropython/micropython)")
        mpy_dir = debian_tree()
        if not mpy_dir:
            raise DeployError("no MicroPython source in .mpbuild: run `make setup` first")
    mpy_dir = os.path.abspath(os.path.expanduser(mpy_dir))
    port_dir = os.path.join(mpy_dir, "ports", info["port"])
    if not os.path.isdir(port_dir):
        raise DeployError("%s is not a MicroPython checkout with ports/%s" % (mpy_dir, info["port"]))
    if info["port"] == "esp32" and not shutil.which("idf.py"):
        raise DeployError("the esp32 port needs ESP-IDF: run `. $IDF_PATH/export.sh` first")
    j = ["-j%d" % (jobs or os.cpu_count() or 2)]
    make = ["make", "-C"]
    board_arg = ["BOARD=" + info["mp_board"]] if "mp_board" in info else []
    args = board_arg + ["FROZEN_MANIFEST=" + os.path.join(ROOT, "manifest.py")]
    subst = {"root": ROOT, "mpy_dir": mpy_dir}
    args += [a.format(**subst) for a in info.get("make_args", [])]
    args += user_c_modules(board, info)
    if debian:
        args += [
            "MICROPY_MPYCROSS=" + os.path.join(mpy_dir, "mpy-cross", "build", "mpy-cross"),
            "MPY_LIB_DIR=" + os.path.join(MPBUILD, "mpy-lib-empty"),
            "MICROPY_PY_BTREE=0",
            "BUILD=" + os.path.join(ROOT, "build", "firmware", board),
        ]
        args += [a.format(**subst) for a in info["debian_build"].get("make_args", [])]
    env = dict(os.environ)
    env["FLEXCHARGE_BOARD"] = board
    env["FLEXCHARGE_PORT_MANIFEST"] = info.get("port_manifest", "$(PORT_DIR)/boards/manifest.py")
    cmds = [make + [os.path.join(mpy_dir, "mpy-cross")] + j]
    if not debian:  # a Debian source tree is no git checkout: nothing to fetch
        cmds.append(make + [port_dir] + board_arg + ["submodules"])
    cmds.append(make + [port_dir] + args + j)
    return cmds, env


def fresh_build_dir(make_cmd):
    """Our own build folder (BUILD=) starts afresh when the make arguments changed (a new heap
    size or config overlay does not make the port rebuild what depends on it)."""
    build = [x[len("BUILD="):] for x in make_cmd if x.startswith("BUILD=")]
    if not build:
        return
    d = build[0]
    stamp = d + ".args"
    key = "\n".join(x for x in make_cmd if not x.startswith("-j")) + "\n"
    old = None
    if os.path.isfile(stamp):
        with open(stamp) as f:
            old = f.read()
    if old is not None and old != key and os.path.isdir(d):
        print("+ rm -rf %s  (the build arguments changed)" % d, flush=True)
        shutil.rmtree(d)
    os.makedirs(os.path.dirname(stamp), exist_ok=True)
    with open(stamp, "w") as f:
        f.write(key)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("deploy", help="copy a bundle and the station config with mpremote")
    d.add_argument("--board", required=True)
    d.add_argument("--port", default=os.environ.get("PORT"))
    d.add_argument("--config", help="station configuration JSON to install")
    d.add_argument("--bundle", help="bundle folder (default build/bundle/<board>)")
    d.add_argument("--reset", action="store_true", help="hard-reset the board afterwards")
    f = sub.add_parser("flash", help="write a MicroPython image (ESP32, esptool)")
    f.add_argument("--board", required=True)
    f.add_argument("--port", default=os.environ.get("PORT"))
    f.add_argument("--image")
    f.add_argument("--erase", action="store_true", help="erase the whole flash first")
    w = sub.add_parser("firmware", help="build a MicroPython image with FlexCharge frozen in")
    w.add_argument("--board", required=True)
    w.add_argument("--mpy-dir", default=os.environ.get("MPY_DIR"))
    w.add_argument("-j", "--jobs", type=int)
    for p in (d, f, w):
        p.add_argument("--dry-run", action="store_true", help="print the commands only")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "deploy":
            port = (a.port or "<PORT>") if a.dry_run else check_port(a.port)
            cmd = deploy_commands(a.board, port, a.config, a.bundle, a.reset)
            return run(cmd, a.dry_run)
        if a.cmd == "flash":
            port = (a.port or "<PORT>") if a.dry_run else check_port(a.port)
            for cmd in flash_commands(a.board, port, a.image, a.erase):
                rc = run(cmd, a.dry_run)
                if rc:
                    return rc
            return 0
        cmds, env = firmware_commands(a.board, a.mpy_dir, a.jobs)
        if not a.dry_run:
            fresh_build_dir(cmds[-1])
        print("+ export FLEXCHARGE_BOARD=%s FLEXCHARGE_PORT_MANIFEST='%s'" % (env["FLEXCHARGE_BOARD"], env["FLEXCHARGE_PORT_MANIFEST"]))
        for cmd in cmds:
            rc = run(cmd, a.dry_run, env)
            if rc:
                return rc
        return 0
    except (DeployError, _bundle.BundleError) as e:
        print("deploy: error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
