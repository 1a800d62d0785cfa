#!/usr/bin/env python3
"""C user-module benchmark: station CPU time per GetVariables round trip (CSMS -> station,
one request in flight, loopback ws://, security profile 0), side by side in one run:

  * the frozen unix build (firmware, unix board and flexcharge_c frozen in) with the C module
    on the hot paths (the firmware's own wiring through flexcharge.accel),
  * the same binary with the pure-Python fallbacks (FLEXCHARGE_ACCEL=python, firmware as is),
  * the prebuilt unix port (.venv/bin/micropython, MicroPython 1.29) on the .py sources,
  * a minimal station on the `ocpp` package under CPython (Boot, Status, Get/SetVariables
    from a dict).

Station CPU time is the station process's own on-CPU time (/proc/<pid>/task/*/schedstat, ns,
user + kernel) over a window of N round trips after a warm-up, divided by N; the CSMS (this
process, a bare websockets server) is not counted. All stations run side by side and their
windows alternate (--rounds), so load changes on a shared machine hit every column alike;
the figure is the best window, the median beside it. Frozen binary: --frozen PATH, else build/firmware/unix/micropython
(make firmware BOARD=unix), else build/frozen-unix/micropython; a column whose binary is
missing says so. Goal (issue 9): <= 150 us per round trip with the C module.

    .venv/bin/python tools/bench/bench_cmod.py [--frozen PATH] [--n 1000] [--rounds 5] [--heap 1M]
"""
import argparse
import asyncio
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GETVARS = {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}
IDENTITY = "CS-BENCH-CMOD"


# ------------------------------------------------------------------ CPython ocpp station
def ocpp_station(url):
    """A minimal OCPP 2.0.1 station on the `ocpp` package (run with --ocpp-station URL)."""
    import websockets
    from ocpp.routing import on
    from ocpp.v201 import ChargePoint, call, call_result

    values = {("OCPPCommCtrlr", "HeartbeatInterval"): "3600", ("ChargingStation", "Model"): "FC-Py"}

    class Station(ChargePoint):
        @on("GetVariables")
        async def get_variables(self, get_variable_data, **kw):
            out = []
            for d in get_variable_data:
                key = (d["component"]["name"], d["variable"]["name"])
                v = values.get(key)
                r = {"attributeStatus": "Accepted" if v is not None else "UnknownVariable",
                     "component": d["component"], "variable": d["variable"]}
                if v is not None:
                    r["attributeValue"] = v
                out.append(r)
            return call_result.GetVariables(get_variable_result=out)

        @on("SetVariables")
        async def set_variables(self, set_variable_data, **kw):
            out = []
            for d in set_variable_data:
                values[(d["component"]["name"], d["variable"]["name"])] = d["attributeValue"]
                out.append({"attributeStatus": "Accepted", "component": d["component"], "variable": d["variable"]})
            return call_result.SetVariables(set_variable_result=out)

    async def main():
        async with websockets.connect(url + "/" + IDENTITY, subprotocols=["ocpp2.0.1"]) as ws:
            st = Station(IDENTITY, ws)
            task = asyncio.ensure_future(st.start())
            await st.call(call.BootNotification(charging_station={"model": "FC-Py", "vendor_name": "FlexCharge"},
                                                reason="PowerUp"))
            await st.call(call.StatusNotification(timestamp=_now(), connector_status="Available", evse_id=1,
                                                  connector_id=1))
            await task

    asyncio.run(main())


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ------------------------------------------------------------------ the CSMS side
class Csms:
    """Bare CSMS: answers every station CALL, then drives GetVariables one at a time."""

    def __init__(self):
        self.conn = asyncio.get_running_loop().create_future()
        self.pending = None
        self.booted = asyncio.Event()
        self.last_rx = time.monotonic()

    async def start(self):
        from websockets.asyncio.server import serve

        self.server = await serve(self.handler, "127.0.0.1", 0, subprotocols=["ocpp2.0.1"], max_size=2 ** 20,
                                  compression=None, ping_interval=None)
        self.url = "ws://127.0.0.1:%d/ocpp" % self.server.sockets[0].getsockname()[1]

    async def handler(self, ws):
        if not self.conn.done():
            self.conn.set_result(ws)
        async for raw in ws:
            self.last_rx = time.monotonic()
            msg = json.loads(raw)
            if msg[0] == 2:
                await ws.send(json.dumps([3, msg[1], self.answer(msg[2])]))
            elif self.pending is not None and not self.pending.done() and msg[1] == self.pending_id:
                self.pending.set_result(msg)

    def answer(self, action):
        if action == "BootNotification":
            self.booted.set()
            return {"currentTime": _now(), "interval": 3600, "status": "Accepted"}
        if action == "Heartbeat":
            return {"currentTime": _now()}
        return {}

    async def quiet(self, seconds=0.7, limit=15):
        t0 = time.monotonic()
        while time.monotonic() - self.last_rx < seconds and time.monotonic() - t0 < limit:
            await asyncio.sleep(0.1)

    async def get_variables(self, ws, i):
        self.pending_id = "b%d" % i
        self.pending = asyncio.get_running_loop().create_future()
        await ws.send('[2,"%s","GetVariables",%s]' % (self.pending_id, json.dumps(GETVARS, separators=(",", ":"))))
        return await asyncio.wait_for(self.pending, 10)


def cpu_ns(pid):
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


class Station:
    """One station process and the CSMS it is connected to."""

    def __init__(self, name, cmd, env, cwd):
        self.name, self.cmd, self.env, self.cwd = name, cmd, env, cwd
        self.p = None
        self.windows = []
        self.error = None
        self.seq = 0

    async def start(self):
        self.csms = Csms()
        await self.csms.start()
        url = self.csms.url
        cfg = os.path.join(self.cwd, "config.json")
        with open(cfg, "w") as f:
            json.dump({"identity": IDENTITY, "csms_url": url, "security_profile": 0,
                       "evses": [{"id": 1, "connectors": 1, "max_current": 32, "phases": 3, "voltage": 230}]}, f)
        state = os.path.join(self.cwd, "state")
        os.makedirs(state, exist_ok=True)
        cmd = [c.replace("{URL}", url).replace("{CONFIG}", cfg).replace("{STATE}", state) for c in self.cmd]
        self.err = open(os.path.join(self.cwd, "stderr.txt"), "w")
        self.p = subprocess.Popen(cmd, env=self.env, cwd=state, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=self.err)
        try:
            self.ws = await asyncio.wait_for(self.csms.conn, 20)
            await asyncio.wait_for(self.csms.booted.wait(), 20)
            await self.csms.quiet()  # boot traffic (StatusNotification, ...) over
            first = await self.round_trip()
            r = first[2]["getVariableResult"][0]
            if first[0] != 3 or r["attributeStatus"] != "Accepted":
                raise RuntimeError("GetVariables answered %r" % (first,))
        except Exception as e:
            self.fail(e)

    def fail(self, e):
        self.err.flush()
        with open(os.path.join(self.cwd, "stderr.txt")) as f:
            tail = f.read().strip().splitlines()[-3:]
        self.error = "%s: %s %s" % (type(e).__name__, e, " | ".join(tail))

    async def round_trip(self):
        self.seq += 1
        return await self.csms.get_variables(self.ws, self.seq)

    async def window(self, n, warm):
        if self.error:
            return
        try:
            for i in range(warm):
                await self.round_trip()
            c0 = cpu_ns(self.p.pid)
            t0 = time.perf_counter()
            for i in range(n):
                await self.round_trip()
            wall = time.perf_counter() - t0
            self.windows.append(((cpu_ns(self.p.pid) - c0) / n / 1000.0, wall / n * 1e6))
        except Exception as e:
            self.fail(e)

    def stop(self):
        if self.p is not None:
            self.p.kill()
            self.p.wait()
        self.csms.server.close()


async def run_all(cols, work, n, warm, rounds):
    """All stations run side by side; their measurement windows alternate, round by round,
    so a change in the machine's load hits every column alike. The figure is each column's
    best window (CPU time only grows with interference: the minimum is the least disturbed)."""
    stations = []
    for i, (name, cmd, env) in enumerate(cols):
        d = os.path.join(work, str(i))
        os.makedirs(d)
        st = Station(name, cmd, env, d)
        await st.start()
        stations.append(st)
    try:
        for r in range(rounds):
            for st in stations:
                await st.window(n, warm if r == 0 else warm // 5)
    finally:
        for st in stations:
            st.stop()
    return stations


def frozen_binary(arg):
    for c in ([arg] if arg else []) + [os.path.join(ROOT, "build", "firmware", "unix", "micropython"),
                                      os.path.join(ROOT, "build", "frozen-unix", "micropython")]:
        if c and os.path.isfile(c):
            return c
    return None


def has_cmod(exe):
    p = subprocess.run([exe, "-c", "import flexcharge_c"], env={"MICROPYPATH": ".frozen"}, capture_output=True)
    return p.returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frozen", help="frozen unix micropython (default: build/firmware/unix/micropython)")
    ap.add_argument("--n", type=int, default=1000, help="round trips per measurement window")
    ap.add_argument("--warm", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5, help="measurement windows per station (alternating)")
    ap.add_argument("--heap", default="1M", help="MicroPython heap (the launcher's default)")
    ap.add_argument("--ocpp-station", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.ocpp_station:
        return ocpp_station(a.ocpp_station)

    firmware = os.path.join(ROOT, "firmware")
    board = os.path.join(ROOT, "boards", "unix")
    src_path = ".frozen:%s:%s" % (firmware, board)
    frozen = frozen_binary(a.frozen)
    prebuilt = os.path.join(ROOT, ".venv", "bin", "micropython")
    entry = "-m", "main"  # the firmware's main.py: frozen where .frozen has it, else firmware/main.py
    cols = []
    if frozen and has_cmod(frozen):
        # .frozen first: the frozen firmware wins over the sources on the path
        cols.append(("frozen unix + C", [frozen, "-X", "heapsize=" + a.heap, *entry], src_path, {}))
        cols.append(("frozen unix, Python", [frozen, "-X", "heapsize=" + a.heap, *entry], src_path,
                     {"FLEXCHARGE_ACCEL": "python"}))
    elif frozen:
        cols.append(("frozen unix (no C)", [frozen, "-X", "heapsize=" + a.heap, *entry], src_path, {}))
    if os.path.isfile(prebuilt):
        cols.append(("prebuilt unix, .py", [prebuilt, "-X", "heapsize=" + a.heap, *entry], src_path, {}))
    cols.append(("CPython ocpp station", [sys.executable, os.path.abspath(__file__), "--ocpp-station", "{URL}"],
                 None, {}))

    work = tempfile.mkdtemp(prefix="fc-bench-cmod-")
    full = []
    for name, cmd, path, extra in cols:
        env = dict(os.environ)
        env.pop("FLEXCHARGE_ACCEL", None)
        env.update(extra)
        if path:
            env["MICROPYPATH"] = path
            cmd = cmd + ["--config", "{CONFIG}", "--state", "{STATE}"]
        full.append((name, cmd, env))
    try:
        stations = asyncio.run(run_all(full, work, a.n, a.warm, a.rounds))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("GetVariables round trip, station CPU time (one in flight, loopback ws, heap %s, best of %d windows of %d)"
          % (a.heap, a.rounds, a.n))
    if not frozen:
        print("  frozen unix build: not found (make firmware BOARD=unix, or --frozen PATH): not measured")
    w = 24
    print("%-*s%14s%14s%14s%12s" % (w, "", "CPU us/rt", "(median)", "wall us/rt", "vs first"))
    base = None
    ok = 0
    for st in stations:
        if st.error or not st.windows:
            print("%-*s  error: %s" % (w, st.name, st.error))
            continue
        ok += 1
        cpus = sorted(c for c, _ in st.windows)
        best = cpus[0]
        med = cpus[len(cpus) // 2]
        wall = min(x for _, x in st.windows)
        if base is None:
            base = best
        print("%-*s%14.1f%14.1f%14.1f%11.2fx" % (w, st.name, best, med, wall, best / base))
    first = stations[0] if stations else None
    if first is not None and first.name.endswith("+ C") and first.windows:
        c = min(x for x, _ in first.windows)
        print("goal <= 150 us with the C module: %s (%.1f us)" % ("met" if c <= 150 else "NOT met", c))
    return 0 if ok == len(stations) else 1


if __name__ == "__main__":
    sys.exit(main())
