#!/usr/bin/env python3
"""GetLog of a full DiagnosticsLog ring on the MicroPython unix port: upload time and peak GC heap.

CPython runs a local HTTP server (http.server in a thread) and starts this same file under the
unix port's `micropython`, which fills a ring to its bound (diag/ring.py: 4 x 8 KB), then uploads it
with the GetLog block's own path (core/blocks/n_diagnostics/logs.py -> comm/http.py) by PUT and by
multipart POST. Printed side by side: the ring's bytes on flash, the upload time, and the peak of the
live GC heap during the upload above the heap before it (sampled after a gc.collect() at every chunk
the body generator yields, in a separate run so the timing run is not slowed). The peak staying a
small fraction of the ring size shows the file is streamed, not built in RAM.
"""
import os
import sys

RUNS = 3  # BENCH_RUNS overrides (passed on the command line: MicroPython's os has no environ)


def mpy_main(url, state, runs):
    global RUNS
    RUNS = runs

    for seg in (8192, 32768):  # the default ring, and one 4x larger: the peak must not follow it
        one(url, state + "/seg%d" % seg, seg)


def one(url, state, seg):
    import gc
    import asyncio
    import time

    from flexcharge.hal.storage import FileStorage
    from flexcharge.diag.ring import LogRing
    from flexcharge.core import timefmt
    from flexcharge.core.blocks.n_diagnostics import logs as logs_mod

    class Clock:
        t = 1790000000

        def __call__(self):
            return self.t

    clock = Clock()
    ring = LogRing(FileStorage(state), clock, seg_bytes=seg)
    i = 0
    while len(FileStorage(state).names("diaglog.")) < 4 or ring._size < ring.seg_bytes - 200:
        clock.t += 1
        ring.append("I", "bench", "record %d: session 42 meter 12345 Wh, 16 A offered, pilot C, contactor closed" % i)
        i += 1
    size = ring.size()

    def lines(oldest=None, latest=None):
        for t, lvl, src, msg in ring.records_in(oldest, latest):
            yield ("%s %s %s %s\n" % (timefmt.iso(t), lvl, src, msg)).encode()

    n = 0
    for _ in lines():
        n += 1

    class Station:
        log = None

    class Log:
        def info(self, m):
            pass

        warn = error = debug = info

    st = Station()
    st.log = Log()
    block = logs_mod.Logs(st, {"DiagnosticsLog": lines})
    peak = [0]

    def sampled(oldest=None, latest=None):
        for line in lines(oldest, latest):
            gc.collect()
            a = gc.mem_alloc()
            if a > peak[0]:
                peak[0] = a
            yield line

    for mode, target in (("PUT", url + "/logs/"), ("POST multipart", url + "/up?upload=multipart")):
        times = []
        for _ in range(RUNS):
            gc.collect()
            t0 = time.ticks_ms()
            asyncio.run(block._upload_once(lines, None, None, n, target, "DiagnosticsLog-1.log"))
            times.append(time.ticks_diff(time.ticks_ms(), t0))
        gc.collect()
        base = gc.mem_alloc()
        peak[0] = base
        asyncio.run(block._upload_once(sampled, None, None, n, target, "DiagnosticsLog-1.log"))
        times.sort()
        ms = times[len(times) // 2]
        print("%-15s ring %6d B on flash, %5d records | upload %5d ms (%5.0f KB/s) | peak heap +%d B (%.1f%% of the ring)" % (
            mode, size, n, ms, size / 1024.0 / (ms / 1000.0 or 0.001), peak[0] - base, 100.0 * (peak[0] - base) / size))


def main():
    import http.server
    import subprocess
    import tempfile
    import threading

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    got = []

    class H(http.server.BaseHTTPRequestHandler):
        def _handle(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got.append(len(body))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_PUT = do_POST = _handle

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % srv.server_address[1]
    state = tempfile.mkdtemp(prefix="fc-bench-getlog-")
    mp = os.path.join(root, ".venv", "bin", "micropython")
    env = dict(os.environ, MICROPYPATH=".frozen:%s/firmware:%s/boards/unix" % (root, root))
    runs = int(os.environ.get("BENCH_RUNS", str(RUNS)))
    print("GetLog of a full DiagnosticsLog ring, MicroPython unix port (median of %d runs)" % runs)
    r = subprocess.run([mp, "-X", "heapsize=256K", os.path.abspath(__file__), "--mpy", url, state, str(runs)],
                       env=env, cwd=root)
    srv.shutdown()
    if r.returncode != 0:
        return r.returncode
    if not got or min(got) < 30000:  # every upload carried a whole ring
        print("uploads received: %r (expected ~32 KB each)" % got)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--mpy":
        mpy_main(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(main())
