#!/usr/bin/env python3
"""Run Python on the qemu Cortex-M3 image (boards/qemu) from the host.

    tools/qemu_run.py [--elf FILE] [--tree DIR=DEST ...] [--timeout S] (-c CODE | SCRIPT [ARG ...])

The files of each --tree (host folder DIR, copied to DEST on the target) are put in a
littlefs image built by the frozen unix build, which qemu preloads into the board's RAM
disk (boards/qemu/board.py). The code then runs in the raw REPL after `board.mount()`;
its output is copied to stdout; `board.exit(n)` (or the end of the code: 0, an uncaught
exception: 1) ends qemu with that exit status, which is ours.
"""
import argparse
import os
import select
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ELF = os.path.join(ROOT, "build", "firmware", "qemu", "firmware.elf")
UNIX = os.path.join(ROOT, "build", "firmware", "unix", "micropython")
DISK_ADDR = 0x21000000
DISK_SIZE = 16 * 1024 * 1024  # boards/qemu/board.py DISK_SIZE
QEMU = ["qemu-system-arm", "-machine", "mps2-an385", "-nographic", "-semihosting", "-serial", "stdio",
        "-monitor", "none"]

# Run by the frozen unix build: a littlefs2 image of the listed files (same MicroPython and
# littlefs version as the qemu image, same block geometry as boards/qemu/board.py).
MKDISK = r"""
import os, sys
BLOCK = 4096
class Dev:
    def __init__(self, n):
        self.mem = bytearray(n * BLOCK)
        self.n = n
    def readblocks(self, b, buf, off=0):
        a = b * BLOCK + off
        buf[:] = self.mem[a:a + len(buf)]
    def writeblocks(self, b, buf, off=0):
        a = b * BLOCK + off
        self.mem[a:a + len(buf)] = buf
    def ioctl(self, op, arg):
        if op == 4: return self.n
        if op == 5: return BLOCK
        if op == 6: return 0
out, size, listing = sys.argv[1], int(sys.argv[2]), sys.argv[3]
dev = Dev(size // BLOCK)
os.VfsLfs2.mkfs(dev)
fs = os.VfsLfs2(dev)
made = set()
def mkdirs(p):
    part = ""
    for seg in p.strip("/").split("/")[:-1]:
        part += "/" + seg
        if part not in made:
            try:
                fs.mkdir(part)
            except OSError:
                pass
            made.add(part)
with open(listing) as f:
    for line in f:
        src, dst = line.rstrip("\n").split("\t")
        mkdirs(dst)
        with open(src, "rb") as i:
            data = i.read()
        with fs.open(dst, "wb") as o:
            o.write(data)
with open(out, "wb") as f:
    f.write(dev.mem)
"""


def build_disk(trees, path, unix=UNIX):
    listing = path + ".list"
    with open(listing, "w") as f:
        for src_dir, dest in trees:
            for dirpath, dirnames, filenames in os.walk(src_dir):
                dirnames[:] = [d for d in dirnames if d != "__pycache__"]
                for n in filenames:
                    if n.endswith(".pyc"):
                        continue
                    s = os.path.join(dirpath, n)
                    rel = os.path.relpath(s, src_dir)
                    f.write("%s\t%s\n" % (s, (dest.rstrip("/") + "/" + rel).replace(os.sep, "/")))
    script = path + ".py"
    with open(script, "w") as f:
        f.write(MKDISK)
    env = dict(os.environ, MICROPYPATH=".frozen")
    subprocess.run([unix, "-X", "heapsize=40M", script, path, str(DISK_SIZE), listing], check=True, env=env)


class Target:
    """One qemu process driven through its raw REPL."""

    def __init__(self, elf=ELF, disk=None):
        cmd = QEMU + ["-kernel", elf]
        if disk:
            cmd += ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (disk, DISK_ADDR)]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self.buf = b""
        self.t0 = time.time()

    def _read_until(self, marker, timeout, echo=None):
        """Bytes up to marker (consumed). With echo, they are streamed to it instead."""
        end = time.time() + timeout
        while marker not in self.buf:
            if echo is not None and len(self.buf) >= len(marker):
                keep = len(marker) - 1  # a marker may straddle two reads
                echo(self.buf[: len(self.buf) - keep])
                self.buf = self.buf[len(self.buf) - keep:]
            if time.time() > end:
                raise TimeoutError("no %r from qemu within %s s; got %r" % (marker, timeout, self.buf[-300:]))
            r = select.select([self.p.stdout], [], [], 0.5)[0]
            if not r:
                continue
            d = os.read(self.p.stdout.fileno(), 65536)
            if not d:
                raise EOFError("qemu ended")
            self.buf += d
        i = self.buf.index(marker)
        head, self.buf = self.buf[:i], self.buf[i + len(marker):]
        if echo is not None:
            echo(head)
        return head

    def raw_repl(self, timeout=20):
        self._read_until(b">>> ", timeout)
        self.p.stdin.write(b"\x01")
        self._read_until(b"raw REPL; CTRL-B to exit\r\n>", timeout)

    def exec_(self, code, timeout, out=None):
        """Run code; stream its stdout to out (bytes callback). -> (stdout, stderr) when it
        returns to the REPL; raises EOFError when the code ended qemu (board.exit)."""
        data = code.encode() if isinstance(code, str) else code
        self.p.stdin.write(data + b"\x04")
        self._read_until(b"OK", timeout)
        o = self._read_until(b"\x04", timeout, echo=out)
        e = self._read_until(b"\x04", timeout)
        self._read_until(b">", timeout)
        return o, e

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        return self.p.wait()


RUNNER = """import board, sys
board.mount()
try:
    exec(open('/_main.py').read(), {'__name__': '__main__'})
except SystemExit as e:
    board.exit(e.args[0] if e.args and isinstance(e.args[0], int) else 0)
except BaseException as e:
    sys.print_exception(e, sys.stdout)
    board.exit(1)
board.exit(0)
"""


def run(code, trees=(), elf=ELF, timeout=600, out=None):
    """Run code (as /_main.py) on a fresh qemu with the trees on its disk. -> qemu's exit
    status: the code's SystemExit status, 0 at its end, 1 for an uncaught exception."""
    out = out or (lambda b: (sys.stdout.buffer.write(b.replace(b"\r\n", b"\n")), sys.stdout.flush()))
    with tempfile.TemporaryDirectory(prefix="fc-qemu-") as d:
        main = os.path.join(d, "main")
        os.mkdir(main)
        with open(os.path.join(main, "_main.py"), "w") as f:
            f.write(code)
        disk = os.path.join(d, "disk.img")
        build_disk([(main, "/")] + list(trees), disk)
        t = Target(elf, disk)
        try:
            t.raw_repl()
            try:
                o, e = t.exec_(RUNNER, timeout, out)
                if e:
                    sys.stderr.write(e.decode(errors="replace"))
                return 1  # back in the REPL: board.exit was not reached
            except EOFError:
                if t.buf:
                    out(t.buf)
                return t.p.wait()
        finally:
            t.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--elf", default=ELF)
    ap.add_argument("--tree", action="append", default=[], help="HOSTDIR=TARGETDIR to put on the RAM disk")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("-c", dest="code")
    ap.add_argument("script", nargs="?")
    ap.add_argument("args", nargs="*", help="the script's sys.argv[1:]")
    a = ap.parse_args(argv)
    if not os.path.isfile(a.elf):
        print("qemu_run: no %s: run `make firmware BOARD=qemu`" % a.elf, file=sys.stderr)
        return 2
    if a.code is None:
        if not a.script:
            ap.error("give -c CODE or SCRIPT")
        with open(a.script) as f:
            a.code = f.read()
        # sys.argv is not assignable on this port, only its contents.
        a.code = "import sys\nsys.argv[:] = %r\n" % ([a.script] + a.args) + a.code
    trees = []
    for t in a.tree:
        src, _, dst = t.partition("=")
        trees.append((src, dst or "/" + os.path.basename(src.rstrip("/"))))
    return run(a.code, trees, a.elf, a.timeout)


if __name__ == "__main__":
    sys.exit(main())
