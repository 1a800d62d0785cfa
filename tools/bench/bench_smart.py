#!/usr/bin/env python3
"""Smart charging benchmark (issue 12): K08 composite schedule with 8 profiles of 24 periods each.

Run with CPython (`make bench` runs every tools/bench/bench_*.py): it runs this file in `--measure` mode on
the MicroPython unix port (the .py sources) and on CPython, and prints side by side:
  * heap of the composite module once imported and of the 8 installed profiles (MicroPython GC heap),
  * GetCompositeSchedule for 24 h (86400 s) on an EVSE: time per computation and bytes allocated by one,
  * the 1 s control path (limit_now, a 1 s window): time and bytes allocated per call.
Profiles: 1 ChargingStationMaxProfile, 3 TxDefaultProfiles (one Recurring Daily, one W), 4 TxProfiles of
the running transaction, stack levels 0..3, 24 periods each, hourly (the schedule spans the whole day).
"""
import sys

N_PROFILES = 8
N_PERIODS = 24
T0 = 1767225600  # 2026-01-01T00:00:00Z


def profiles():
    from flexcharge.core.blocks.k_smart_charging.store import entry
    from flexcharge.core import timefmt

    out = []
    purposes = ("ChargingStationMaxProfile", "TxDefaultProfile", "TxDefaultProfile", "TxDefaultProfile",
                "TxProfile", "TxProfile", "TxProfile", "TxProfile")
    for i in range(N_PROFILES):
        purpose = purposes[i]
        unit = "W" if i == 2 else "A"
        periods = []
        for k in range(N_PERIODS):
            lim = 6 + (k * 7 + i * 3) % 26
            periods.append({"startPeriod": k * 3600 + i * 60, "limit": float(lim * 690 if unit == "W" else lim)})
        periods[0]["startPeriod"] = 0
        sch = {"id": i, "chargingRateUnit": unit, "chargingSchedulePeriod": periods,
               "startSchedule": timefmt.iso(T0 - 600 * i)}
        p = {"id": i + 1, "stackLevel": i % 4, "chargingProfilePurpose": purpose,
             "chargingProfileKind": "Recurring" if i == 1 else "Absolute", "chargingSchedule": [sch]}
        if i == 1:
            p["recurrencyKind"] = "Daily"
        if purpose == "TxProfile":
            p["transactionId"] = "TX-1"
        out.append(entry(0 if purpose == "ChargingStationMaxProfile" else 1, p))
    return out


def measure(iterations):
    import gc
    import json
    from flexcharge import compat

    try:
        from time import ticks_us, ticks_diff
    except ImportError:
        import time

        def ticks_us():
            return int(time.perf_counter() * 1000000)

        def ticks_diff(a, b):
            return a - b

    def mem():
        gc.collect()
        return compat.mem_alloc()

    res = {"impl": sys.implementation.name}
    m0 = mem()
    from flexcharge.core.blocks.k_smart_charging import composite as cmp

    m1 = mem()
    res["code_bytes"] = None if m0 is None else m1 - m0
    entries = profiles()
    m2 = mem()
    res["profiles_bytes"] = None if m0 is None else m2 - m1
    t = T0 + 3 * 3600

    def one_day():
        return cmp.compose(entries, 1, t, t + 86400, 32, 3, 230, T0, "TX-1")

    def control():
        return cmp.limit_now(entries, 1, t, 32, 3, 230, T0, "TX-1")

    for name, fn, n in (("composite_24h", one_day, iterations), ("limit_now", control, iterations * 4)):
        r = fn()
        if name == "composite_24h":
            res["periods_out"] = len(r)
        gc.collect()
        if hasattr(gc, "disable") and m0 is not None:
            gc.disable()
            a = compat.mem_alloc()
            fn()
            b = compat.mem_alloc()
            gc.enable()
            res[name + "_alloc_bytes"] = b - a
        else:
            res[name + "_alloc_bytes"] = None
        s = ticks_us()
        for _ in range(n):
            fn()
        res[name + "_ms"] = ticks_diff(ticks_us(), s) / 1000.0 / n
    print(json.dumps(res))


def _orchestrate():
    import json
    import os
    import shutil
    import subprocess

    here = os.path.dirname(os.path.realpath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    firmware = os.path.join(repo, "firmware")
    bindir = os.path.dirname(sys.executable)
    mp = shutil.which("micropython", path=bindir + os.pathsep + os.environ.get("PATH", ""))
    me = os.path.realpath(__file__)
    rows = []
    if mp:
        env = dict(os.environ)
        env["MICROPYPATH"] = ".frozen:" + firmware
        p = subprocess.run([mp, "-X", "heapsize=512K", me, "--measure", "20"], env=env, capture_output=True,
                           text=True, timeout=600)
        if p.returncode != 0:
            sys.stderr.write(p.stdout + p.stderr)
            return 1
        rows.append(("MicroPython unix (.py)", json.loads(p.stdout.strip().splitlines()[-1])))
    env = dict(os.environ)
    env["PYTHONPATH"] = firmware
    p = subprocess.run([sys.executable, me, "--measure", "50"], env=env, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        return 1
    rows.append(("CPython %d.%d" % sys.version_info[:2], json.loads(p.stdout.strip().splitlines()[-1])))

    def f(v, fmt):
        return "-" if v is None else fmt % v

    print("K08 composite schedule, %d profiles x %d periods (1 max, 3 default incl. recurring + W, 4 TxProfiles)"
          % (N_PROFILES, N_PERIODS))
    print("%-24s %10s %10s %12s %12s %10s %12s %7s" % ("", "code B", "profiles B", "24h ms", "24h alloc B",
                                                       "1s ms", "1s alloc B", "periods"))
    for name, r in rows:
        print("%-24s %10s %10s %12s %12s %10s %12s %7s" % (
            name, f(r.get("code_bytes"), "%d"), f(r.get("profiles_bytes"), "%d"), f(r["composite_24h_ms"], "%.2f"),
            f(r.get("composite_24h_alloc_bytes"), "%d"), f(r["limit_now_ms"], "%.3f"),
            f(r.get("limit_now_alloc_bytes"), "%d"), r.get("periods_out")))
    if len(rows) == 2:
        print("MicroPython / CPython time: 24h %.1fx, 1s %.1fx" % (
            rows[0][1]["composite_24h_ms"] / rows[1][1]["composite_24h_ms"],
            rows[0][1]["limit_now_ms"] / rows[1][1]["limit_now_ms"]))
    return 0


if __name__ == "__main__":
    if "--measure" in sys.argv:
        measure(int(sys.argv[sys.argv.index("--measure") + 1]))
    else:
        sys.exit(_orchestrate())
