#!/usr/bin/env python3
"""Firmware update throughput and heap on the MicroPython unix port (issue 11, L01).

A CPython http.server serves two FCFW1 images side by side: the real update image of this
checkout (tools/firmware-image, ~570 KB) and a small one (~50 KB). For each, the MicroPython
unix port runs the firmware's own code path -- comm/http.py GET streamed through
lifecycle/update.py into the inactive slot (SHA-256 while streaming), the ECDSA P-256 signature
check (security/verify.py), then the install (re-read + verify on flash, unpack, the slot
switch) -- and reports the time of each phase and the live heap: gc.mem_alloc() after
gc.collect(), sampled every 16 KB written, minus the same figure just before the download.
The image never sits in RAM, so the heap rise must not grow with the image.
"""
import base64
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "host_tests", "integration"))

from pki import generate_firmware_pki  # noqa: E402

MPY = os.environ.get("FLEXCHARGE_MICROPYTHON") or os.path.join(ROOT, ".venv", "bin", "micropython")

SCRIPT = r'''
import sys, gc, time, asyncio, binascii
from flexcharge.hal.storage import FileStorage
from flexcharge.lifecycle import slots
from flexcharge.lifecycle.update import Updater
from flexcharge.comm import http
from flexcharge.security import verify
from flexcharge.security.x509 import Certificate, pem_to_ders

url, state, cert_path, sig_b64 = sys.argv[1:5]
cert = Certificate(pem_to_ders(open(cert_path, "rb").read())[0])
sig = binascii.a2b_base64(sig_b64)
up = Updater(FileStorage(state), slots.open_slots(state))
fs = up.fs
peak = [0]
orig_write = fs.write
count = [0]

def write(chunk):
    orig_write(chunk)
    count[0] += len(chunk)
    if count[0] % 16384 < len(chunk):
        gc.collect()
        a = gc.mem_alloc()
        if a > peak[0]:
            peak[0] = a

fs.write = write
job = {"requestId": 1, "location": url}
base = [0]

async def main():
    # Measured inside the running loop, as in the station (the loop itself is not the update's).
    gc.collect()
    base[0] = gc.mem_alloc()
    peak[0] = base[0]
    return await up.download(job, http.get, None)

t0 = time.ticks_ms()
digest = asyncio.run(main())
t1 = time.ticks_ms()
base = base[0]
verify.verify_signature(cert, None, sig, digest=digest)
t2 = time.ticks_ms()
version = up.install(job)
t3 = time.ticks_ms()
gc.collect()
print("RESULT", fs.written(), time.ticks_diff(t1, t0), time.ticks_diff(t2, t1), time.ticks_diff(t3, t2),
      peak[0] - base, gc.mem_alloc() - base)
'''


def small_image(path, kb=50):
    files = [("main.py", b"print('small')\n")] + [("flexcharge/pad%d.py" % i, b"#" * 1023 + b"\n") for i in range(kb)]
    with open(path, "wb") as f:
        f.write(b"FCFW1\n" + json.dumps({"version": "small", "board": "unix", "files": len(files)}).encode() + b"\n")
        for p, data in files:
            f.write(b"F %d %s\n" % (len(data), p.encode()) + data)
        f.write(b"END\n")


def sign(key, image):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "sign-firmware"), "--key", key, image],
                       check=True, capture_output=True, text=True)
    return r.stdout.strip()


def main():
    tmp = tempfile.mkdtemp(prefix="fc-bench-fw-")
    pki = generate_firmware_pki(tmp, key_type="ec")
    big = os.path.join(tmp, "big.img")
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "firmware-image"), "--version", "bench",
                    "--out", big], check=True, capture_output=True)
    small = os.path.join(tmp, "small.img")
    small_image(small)

    class H(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=tmp, **kw)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    script = os.path.join(tmp, "bench_fw_mpy.py")
    with open(script, "w") as f:
        f.write(SCRIPT)
    env = dict(os.environ)
    env["MICROPYPATH"] = ".frozen:%s:%s" % (os.path.join(ROOT, "firmware"), os.path.join(ROOT, "boards", "unix"))
    rows = []
    for name, img in (("small", small), ("full", big)):
        state = os.path.join(tmp, "state-" + name)
        url = "http://127.0.0.1:%d/%s" % (httpd.server_address[1], os.path.basename(img))
        r = subprocess.run([MPY, "-X", "heapsize=512K", script, url, state, pki["signer"], sign(pki["signer_key"], img)],
                           capture_output=True, text=True, env=env, timeout=300)
        line = [x for x in r.stdout.splitlines() if x.startswith("RESULT")]
        if r.returncode != 0 or not line:
            print(r.stdout, r.stderr)
            return 1
        size, t_dl, t_ver, t_inst, peak, after = map(int, line[0].split()[1:])
        rows.append((name, size, t_dl, t_ver, t_inst, peak, after))
    httpd.shutdown()
    print("%-6s %9s %12s %10s %12s %14s %12s" % ("image", "bytes", "download", "verify", "install", "peak heap +",
                                                 "after +"))
    for name, size, t_dl, t_ver, t_inst, peak, after in rows:
        print("%-6s %9d %7d ms %3.0fKB/s %5d ms %7d ms %3.0fKB/s %10d B %10d B" % (
            name, size, t_dl, size / 1024 / max(t_dl, 1) * 1000, t_ver, t_inst, size / 1024 / max(t_inst, 1) * 1000,
            peak, after))
    s, b = rows[0], rows[1]
    print("size ratio full/small %.1fx, peak heap rise full/small %.2fx (%+d B)" % (
        b[1] / s[1], b[5] / max(s[5], 1), b[5] - s[5]))
    if b[5] > 10240 or b[5] > s[5] + 1024:  # a few KB, and not growing with the image
        print("FAIL: a %d KB image raised the live heap by %d B (> 10 KB or more than the small one)" % (b[1] // 1024, b[5]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
