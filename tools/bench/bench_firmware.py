#!/usr/bin/env python3
"""Frozen MicroPython builds (make firmware BOARD=unix|qemu), side by side in one run:

1. heap in use after gc.collect() on the qemu Cortex-M3 frozen build (host_tests/qemu_station.py:
   the full firmware over an in-memory transport): at boot, once Accepted, peak during a
   charging session, peak during a FullInventory report. Goal: 40 KB idle, 64 KB peak.
2. flash: the qemu image's text with the firmware frozen, against the stock port (built here
   once into build/firmware/qemu-stock).
3. boot -> Accepted over loopback ws (profile 0) from the firmware process's start: the frozen
   unix build against the prebuilt unix port running the sources. Goal: 20 ms.

Skips a part (saying so) when its build is missing: `make firmware BOARD=unix` / `BOARD=qemu`.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import deploy  # noqa: E402
import qemu_run  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
FW_UNIX = os.path.join(ROOT, "build", "firmware", "unix", "micropython")
FW_QEMU = os.path.join(ROOT, "build", "firmware", "qemu", "firmware.elf")
STOCK_QEMU = os.path.join(ROOT, "build", "firmware", "qemu-stock", "firmware.elf")
PREBUILT = os.path.join(ROOT, ".venv", "bin", "micropython")


def kb(n):
    return "%7.1f KB" % (n / 1024.0) if n is not None else "     n/a"


# -- 1. heap on qemu -----------------------------------------------------------------------
def qemu_heap():
    lines = []
    rc = qemu_run.run(open(os.path.join(ROOT, "host_tests", "qemu_station.py")).read(),
                      [(os.path.join(ROOT, "host_tests", "portable"), "/host_tests/portable")],
                      FW_QEMU, 240, out=lambda b: lines.append(b))
    text = b"".join(lines).decode(errors="replace")
    heap = None
    for ln in text.splitlines():
        if ln.startswith("HEAP "):
            heap = json.loads(ln[5:])
    if rc != 0 or heap is None:
        raise SystemExit("qemu station run failed (status %s):\n%s" % (rc, text[-3000:]))
    return heap


# -- 2. flash ------------------------------------------------------------------------------
def size_text(elf):
    out = subprocess.run(["arm-none-eabi-size", elf], capture_output=True, text=True, check=True).stdout
    return int(out.splitlines()[1].split()[0])


def build_stock_qemu():
    if os.path.isfile(STOCK_QEMU):
        return
    tree = deploy.debian_tree()
    cmd = ["make", "-C", os.path.join(tree, "ports", "qemu"), "BOARD=MPS2_AN385", "FROZEN_MANIFEST=",
           "MICROPY_MPYCROSS=" + os.path.join(tree, "mpy-cross", "build", "mpy-cross"),
           "BUILD=" + os.path.dirname(STOCK_QEMU), "-j%d" % (os.cpu_count() or 2)]
    print("building the stock qemu port once (%s)" % os.path.relpath(STOCK_QEMU, ROOT), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


# -- 3. boot -> Accepted from process start ------------------------------------------------------
def boot_to_accepted(csms_url, binary, frozen, tmp, n):
    state = os.path.join(tmp, "state-%s-%d" % ("frozen" if frozen else "src", n))
    os.makedirs(state)
    cfg = os.path.join(tmp, "cfg-%s-%d.json" % ("frozen" if frozen else "src", n))
    with open(cfg, "w") as f:
        json.dump({"identity": "BENCH-FW-%d" % n, "csms_url": csms_url, "security_profile": 0,
                   "evses": [{"id": 1, "connectors": 1}]}, f)
    env = dict(os.environ)
    if frozen:
        env["MICROPYPATH"] = ".frozen"
        cmd = [binary, "-X", "heapsize=1M", "-m", "main"]
    else:
        env["MICROPYPATH"] = ".frozen:%s:%s" % (os.path.join(ROOT, "firmware"), os.path.join(ROOT, "boards", "unix"))
        cmd = [binary, "-X", "heapsize=1M", os.path.join(ROOT, "firmware", "main.py")]
    cmd += ["--config", cfg, "--state", state]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=state)
    got = {}

    def read():
        for raw in iter(p.stdout.readline, b""):
            try:
                ev = json.loads(raw)
            except ValueError:
                continue
            if ev.get("event") == "registration" and ev.get("status") == "Accepted":
                got["t"] = time.monotonic() - t0
                got["heap"] = ev.get("heap")
                return

    th = threading.Thread(target=read, daemon=True)
    th.start()
    th.join(20)
    try:
        p.stdin.write(b'{"cmd": "shutdown"}\n')
        p.stdin.flush()
        p.wait(5)
    except Exception:
        p.kill()
        p.wait()
    if "t" not in got:
        raise SystemExit("%s did not reach Accepted in 20 s" % binary)
    return got["t"], got["heap"]


def main():
    print("== frozen firmware builds (MicroPython 1.25 from Debian's source, make firmware BOARD=unix|qemu)")
    if os.path.isfile(FW_QEMU):
        h = qemu_heap()
        net = h["start"]
        print("1. heap in use after gc.collect() on qemu MPS2-AN385 (Cortex-M3, frozen), bytes:")
        print("   %-34s %8s %10s   (net = less the test harness: %d B)" % ("", "total", "net", net))
        for label, k, goal in (("firmware imported", "imported", None), ("at boot (App built)", "boot", None),
                               ("once Accepted (idle)", "accepted", 40 * 1024),
                               ("peak during a charging session", "session_peak", 64 * 1024),
                               ("peak during FullInventory", "inventory_peak", 64 * 1024)):
            v = h[k]
            print("   %-34s %8d %10d  %s" % (label, v, v - net,
                                            "goal %d KB: x%.2f" % (goal // 1024, (v - net) / goal) if goal else ""))
        if "rx_buffer" in h:
            print("   (from boot on, these include the %d B WebSocket receive buffer the board reserves)" % h["rx_buffer"])
        print("   (no TLS on this image: TLS buffers are mbedTLS's, outside the GC heap on the unix port)")
        try:
            build_stock_qemu()
            fz, st = size_text(FW_QEMU), size_text(STOCK_QEMU)
            print("2. flash (text) qemu image: frozen %d B, stock %d B: +%d B (x%.2f)" % (fz, st, fz - st, fz / st))
        except (subprocess.CalledProcessError, OSError) as e:
            print("2. flash: stock build failed: %s" % e)
    else:
        print("1./2. skipped: no %s (make firmware BOARD=qemu)" % os.path.relpath(FW_QEMU, ROOT))

    if os.path.isfile(FW_UNIX):
        from csms.server import Csms

        tmp = tempfile.mkdtemp(prefix="fc-bench-fw-")
        rows = []
        try:
            with Csms(heartbeat_interval=300) as csms:
                for name, binary, frozen in (("frozen unix build", FW_UNIX, True),
                                             ("prebuilt port, sources", PREBUILT, False)):
                    res = [boot_to_accepted(csms.url, binary, frozen, tmp, i) for i in range(RUNS)]
                    ts = [r[0] for r in res]
                    rows.append((name, statistics.median(ts), min(ts), max(ts), res[-1][1]))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        base = rows[0][1]
        print("3. boot -> Accepted over loopback ws (profile 0), from the firmware process start (%d runs):" % RUNS)
        print("   %-26s %9s %8s %8s %8s %12s" % ("", "median ms", "min", "max", "x frozen", "heap@Accept"))
        for name, med, lo, hi, heap in rows:
            print("   %-26s %9.1f %8.1f %8.1f %8.2f %12s" % (name, med * 1000, lo * 1000, hi * 1000, med / base, heap))
        print("   goal 20 ms: frozen x%.2f" % (base * 1000 / 20))
    else:
        print("3. skipped: no %s (make firmware BOARD=unix)" % os.path.relpath(FW_UNIX, ROOT))


if __name__ == "__main__":
    main()
