#!/usr/bin/env python3
"""C user-module benchmark: station CPU time per GetVariables round trip (CSMS -> station,
one request in flight, loopback ws://, security profile 0), side by side in one run:

  * the frozen unix build (firmware, unix board and flexcharge_c frozen in) with the C module
    on the hot paths (tools/bench/cmod_main.py points them at flexcharge.accel),
  * the same binary with the pure-Python fallbacks (FLEXCHARGE_ACCEL=python, firmware as is),
  * the prebuilt unix port (.venv/bin/micropython, MicroPython 1.29) on the .py sources,
  * a minimal station on the `ocpp` package under CPython (Boot, Status, Get/SetVariables
    from a dict).

Station CPU time is the station process's own on-CPU time (/proc/<pid>/task/*/schedstat, ns)
over N round trips after a warm-up, divided by N; the CSMS (this process, a bare websockets
server) is not counted. Frozen binary: --frozen PATH, else build/firmware/unix/micropython
(make firmware BOARD=unix), else build/frozen-unix/micropython; a column whose binary is
missing says so. Goal (issue 9): <= 150 us per round trip with the C module.

    .venv/bin/python tools/bench/bench_cmod.py [--frozen PATH] [--n 2000]
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
HERE = os.path.join(ROOT, "tools", "bench")
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


async def measure(cmd, env, cwd, n, warm):
    csms = Csms()
    await csms.start()
    cmd = [c.replace("{URL}", csms.url) for c in cmd]
    cfg = os.path.join(cwd, "config.json")
    with open(cfg, "w") as f:
        json.dump({"identity": IDENTITY, "csms_url": csms.url, "security_profile": 0,
                   "evses": [{"id": 1, "connectors": 1, "max_current": 32, "phases": 3, "voltage": 230}]}, f)
    state = os.path.join(cwd, "state")
    os.makedirs(state, exist_ok=True)
    cmd = [c.replace("{CONFIG}", cfg).replace("{STATE}", state) for c in cmd]
    err = open(os.path.join(cwd, "stderr.txt"), "w")
    p = subprocess.Popen(cmd, env=env, cwd=state, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
    try:
        ws = await asyncio.wait_for(csms.conn, 20)
        await asyncio.wait_for(csms.booted.wait(), 20)
        await csms.quiet()  # boot traffic (StatusNotification, ...) over
        first = await csms.get_variables(ws, 0)
        r = first[2]["getVariableResult"][0]
        if first[0] != 3 or r["attributeStatus"] != "Accepted":
            raise RuntimeError("GetVariables answered %r" % (first,))
        for i in range(warm):
            await csms.get_variables(ws, i + 1)
        c0 = cpu_ns(p.pid)
        t0 = time.perf_counter()
        for i in range(n):
            await csms.get_variables(ws, warm + 1 + i)
        wall = time.perf_counter() - t0
        cpu = cpu_ns(p.pid) - c0
        return {"cpu_us": cpu / n / 1000.0, "wall_us": wall / n * 1e6}
    except Exception as e:
        err.flush()
        with open(os.path.join(cwd, "stderr.txt")) as f:
            tail = f.read().strip().splitlines()[-3:]
        return {"error": "%s: %s %s" % (type(e).__name__, e, " | ".join(tail))}
    finally:
        p.kill()
        p.wait()
        csms.server.close()


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
    ap.add_argument("--n", type=int, default=2000, help="measured round trips per station")
    ap.add_argument("--warm", type=int, default=300)
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
    entry = os.path.join(HERE, "cmod_main.py")
    cols = []
    if frozen and has_cmod(frozen):
        # .frozen first: the frozen firmware wins over the sources on the path
        cols.append(("frozen unix + C", [frozen, "-X", "heapsize=" + a.heap, entry], src_path, {}))
        cols.append(("frozen unix, Python", [frozen, "-X", "heapsize=" + a.heap, entry], src_path,
                     {"FLEXCHARGE_ACCEL": "python"}))
    elif frozen:
        cols.append(("frozen unix (no C)", [frozen, "-X", "heapsize=" + a.heap, entry], src_path, {}))
    if os.path.isfile(prebuilt):
        cols.append(("prebuilt unix, .py", [prebuilt, "-X", "heapsize=" + a.heap, entry], src_path, {}))
    cols.append(("CPython ocpp station", [sys.executable, os.path.abspath(__file__), "--ocpp-station", "{URL}"],
                 None, {}))

    results = []
    work = tempfile.mkdtemp(prefix="fc-bench-cmod-")
    try:
        for i, (name, cmd, path, extra) in enumerate(cols):
            env = dict(os.environ)
            env.pop("FLEXCHARGE_ACCEL", None)
            env.update(extra)
            if path:
                env["MICROPYPATH"] = path
            d = os.path.join(work, str(i))
            os.makedirs(d)
            cmd = cmd + (["--config", "{CONFIG}", "--state", "{STATE}"] if path else [])
            results.append((name, asyncio.run(measure(cmd, env, d, a.n, a.warm))))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("GetVariables round trip, station CPU time (one in flight, loopback ws, N=%d)" % a.n)
    if not frozen:
        print("  frozen unix build: not found (make firmware BOARD=unix, or --frozen PATH): not measured")
    w = 24
    print("%-*s%14s%14s%12s" % (w, "", "CPU us/rt", "wall us/rt", "vs first"))
    base = next((r["cpu_us"] for _, r in results if "cpu_us" in r), None)
    for name, r in results:
        if "error" in r:
            print("%-*s  error: %s" % (w, name, r["error"]))
            continue
        print("%-*s%14.1f%14.1f%11.2fx" % (w, name, r["cpu_us"], r["wall_us"], r["cpu_us"] / base))
    ok = [r for _, r in results if "cpu_us" in r]
    if results and "cpu_us" in results[0][1] and results[0][0].endswith("+ C"):
        c = results[0][1]["cpu_us"]
        print("goal <= 150 us with the C module: %s (%.1f us)" % ("met" if c <= 150 else "NOT met", c))
    return 0 if len(ok) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
