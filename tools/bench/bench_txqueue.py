#!/usr/bin/env python3
"""Offline TransactionEvent queue benchmark.

A whole session runs offline on the simulated board (plug, tag, charge, TxUpdatedInterval 1 s
ticks, stop) until 1,000 TransactionEvents are queued; then the link comes up and the queue is
replayed through the real Station.call / Rpc / OCPP-J framing to an in-process fake CSMS link
that answers every CALL at once (like host_tests/portable/fake_csms.py). Reported:
  * events persisted per second while offline (each one an atomic file write),
  * messages per second replayed after reconnect (each: read entry, send CALL, CALLRESULT,
    unlink the entry),
  * bytes of flash each queued event takes (the entry's content; see notes for FS overhead),
  * GC heap the queue bookkeeping holds with 1,000 entries queued (MicroPython only).

Run with CPython (`make bench`): it runs this same file in `--measure` mode under the
MicroPython unix port and under CPython and prints both side by side.
"""
import sys

N = 1000


def measure(state_dir):
    import gc
    import json
    import time
    import asyncio
    from flexcharge import compat
    from flexcharge.compat import ticks_ms, ticks_diff
    from flexcharge.core import versions
    from flexcharge.core.station import Station
    from flexcharge.core.devicemodel import DeviceModel, standard
    from flexcharge.comm.rpc import Rpc
    from flexcharge.core.blocks.e_transactions.transactions import Transactions
    from board import SimBoard

    class Log:
        def debug(self, m):
            pass

        info = warn = error = debug

    class Out:
        def write(self, s):
            pass

    class Auth:
        async def authorize(self, tok, evse_id=None):
            return {"status": "Accepted"}

        def update(self, tok, info):
            pass

        def is_master_pass(self, tok, info=None):
            return False

        def may_stop(self, a, ai, b, bi):
            return a["idToken"] == b["idToken"]

    class Link:
        """Fake CSMS end of the WebSocket: answers every CALL with an empty CALLRESULT."""

        def __init__(self):
            self.inbox = []
            self.ev = asyncio.Event()
            self.calls = 0

        async def send(self, text):
            msg = json.loads(text)
            if msg[0] == 2:
                self.calls += 1
                self.inbox.append(json.dumps([3, msg[1], {}]))
                self.ev.set()

        async def recv(self):
            while not self.inbox:
                self.ev = asyncio.Event()
                await self.ev.wait()
            return self.inbox.pop(0)

    evses = [{"id": 1, "connectors": 1, "max_current": 32, "phases": 3, "voltage": 230}]
    config = {"evses": evses}
    board = SimBoard(config, state_dir, stdin=False, out=Out())
    log = Log()
    dm = DeviceModel(board.storage, log)
    for t in standard.TABLES:
        dm.add_table(t)
    dm.add_evses(evses)
    dm.load()
    dm.set_internal("SampledDataCtrlr", "TxUpdatedInterval", "1")
    dm.set_internal("SampledDataCtrlr", "TxUpdatedMeasurands", "Energy.Active.Import.Register,Power.Active.Import")
    st = Station(config, board, dm, versions.get("ocpp2.0.1"), log, 1)
    st.registration = "Accepted"
    st.online = False
    txs = Transactions(st, None, Auth())
    txs.background = False
    board.listener = txs.on_hw_event
    res = {}

    async def go():
        txs.start()
        board.command('{"cmd":"plug","evse":1,"connector":1}')
        board.command('{"cmd":"tag","id":"AABBCCDD","evse":1}')
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        board.command('{"cmd":"ev","evse":1,"state":"C"}')
        board.command('{"cmd":"load","evse":1,"watts":7400}')
        t0 = st.now()
        gc.collect()
        m0 = compat.mem_alloc()
        c0 = ticks_ms()
        i = 0
        while len(txs.queue) < N - 1:
            i += 1
            if i > 10 * N:
                raise RuntimeError("no transaction running: %d events queued after %d ticks" % (len(txs.queue), i))
            txs.tick(t0 + i)
        board.command('{"cmd":"tag","id":"AABBCCDD","evse":1}')  # Ended: the 1,000th event
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        dt = ticks_diff(ticks_ms(), c0)
        n = len(txs.queue)
        res["queued"] = n
        res["persist_per_s"] = round(n * 1000.0 / dt, 0) if dt else None
        gc.collect()
        m1 = compat.mem_alloc()
        res["queue_heap_bytes"] = None if m0 is None else m1 - m0
        sizes = []
        for name in board.storage.names("tq."):
            sizes.append(len(board.storage.read(name)))
        res["bytes_mean"] = round(sum(sizes) / len(sizes), 1)
        res["bytes_min"] = min(sizes)
        res["bytes_max"] = max(sizes)
        res["name_len"] = len(board.storage.names("tq.")[0])
        # reconnect: real Rpc + Station.call over the fake link
        link = Link()
        rpc = Rpc(None, st.next_id, log, st.spawn)
        rpc.attach(link)
        st.rpc = rpc

        async def reader():
            while True:
                await rpc.on_message(await link.recv())

        rt = asyncio.create_task(reader())
        st.online = True
        c1 = ticks_ms()
        await txs.deliver()
        dt2 = ticks_diff(ticks_ms(), c1)
        rt.cancel()
        res["replayed"] = link.calls
        res["left"] = len(txs.queue)
        res["replay_per_s"] = round(link.calls * 1000.0 / dt2, 0) if dt2 else None

    asyncio.run(go())
    print("RESULT " + json.dumps(res))


def _orchestrate():
    import json
    import os
    import shutil
    import subprocess
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    paths = os.pathsep.join(os.path.join(root, p) for p in ("firmware", "boards/unix"))
    mpaths = ":".join(os.path.join(root, p) for p in ("firmware", "boards/unix"))
    bindir = os.path.dirname(sys.executable)
    mp = shutil.which("micropython", path=bindir + os.pathsep + os.environ.get("PATH", ""))
    me = os.path.abspath(__file__)
    work = tempfile.mkdtemp(prefix="fc-bench-txq-")

    def run(cmd, tag):
        state = os.path.join(work, "state-" + tag)
        env = dict(os.environ)
        env["MICROPYPATH"] = ".frozen:" + mpaths
        env["PYTHONPATH"] = paths
        p = subprocess.run(list(cmd) + [me, "--measure", state], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=600)
        for line in p.stdout.splitlines():
            if line.startswith("RESULT "):
                return json.loads(line[7:])
        return {"error": (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]}

    cols = []
    if mp:
        cols.append(("MicroPython unix", run([mp, "-X", "heapsize=1M"], "mp")))
    cols.append(("CPython %d.%d" % sys.version_info[:2], run([sys.executable], "cpy")))
    shutil.rmtree(work, ignore_errors=True)

    rows = (
        ("events queued offline", lambda r: "%d" % r["queued"]),
        ("persisted events / s", lambda r: "%d" % r["persist_per_s"]),
        ("replayed after reconnect", lambda r: "%d (left %d)" % (r["replayed"], r["left"])),
        ("replay messages / s", lambda r: "%d" % r["replay_per_s"]),
        ("bytes per queued event", lambda r: "%.0f (%d-%d)" % (r["bytes_mean"], r["bytes_min"], r["bytes_max"])),
        ("entry file name length", lambda r: "%d" % r["name_len"]),
        ("queue heap, 1000 queued", lambda r: "n/a" if r["queue_heap_bytes"] is None else "%d B" % r["queue_heap_bytes"]),
    )
    w = 28
    print("TransactionEvent offline queue: %d events, fake CSMS answering at once" % N)
    print("%-*s" % (w, "") + "".join("%22s" % name for name, _ in cols))
    for label, f in rows:
        cells = []
        for _, r in cols:
            try:
                cells.append("error: " + r["error"][:60] if "error" in r else f(r))
            except (KeyError, TypeError):
                cells.append("n/a")
        print("%-*s" % (w, label) + "".join("%22s" % c for c in cells))
    if len(cols) == 2 and "error" not in cols[0][1] and "error" not in cols[1][1]:
        a, b = cols[0][1], cols[1][1]
        print("replay ratio MicroPython/CPython: %.2f" % (a["replay_per_s"] / b["replay_per_s"]))
    print("notes: one file per event (temp + rename). Content bytes are what the flash holds on")
    print("       littlefs, which inlines files this small in the directory metadata pair; on FAT each")
    print("       entry takes a whole cluster. Heap for the queue does not grow with its length.")
    bad = [name for name, r in cols if "error" in r or r.get("left") != 0 or r.get("replayed") != N]
    if bad:
        print("FAILED: " + ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        measure(sys.argv[2])
    else:
        sys.exit(_orchestrate())
