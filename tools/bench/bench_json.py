#!/usr/bin/env python3
"""Receive-path checks benchmark: the strict JSON check (comm/jsoncheck.py) and the UTF-8 check
(comm/wsframe.utf8_valid) against json.loads of the same message, side by side, in one run.

Run with CPython (`make bench` runs every tools/bench/bench_*.py): it runs this file in
`--measure` mode on the MicroPython unix port (the target) and on CPython, and prints, per
message, microseconds per call and the ratio check / json.loads. The check runs before every
json.loads of a CSMS message, so the ratio is what it adds to parsing.
"""
import sys

MESSAGES = [
    ("Heartbeat-size", '[2,"19223201","ClearCache",{}]'),
    ("GetVariables 10 items", None),  # built below
    ("SetChargingProfile", '[2,"b-2","SetChargingProfile",{"evseId":1,"chargingProfile":{"id":1,'
     '"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute",'
     '"chargingSchedule":[{"id":1,"startSchedule":"2025-01-01T00:00:00Z","chargingRateUnit":"A",'
     '"chargingSchedulePeriod":[{"startPeriod":0,"limit":16.0},{"startPeriod":3600,"limit":10.5},'
     '{"startPeriod":7200,"limit":32}]}]}}]'),
    ("DataTransfer 60 KB string", None),
    ("65 KB space-padded", None),
    ("UTF-8 text 2 KB", None),
]


def _messages():
    import json
    out = []
    for name, text in MESSAGES:
        if name.startswith("GetVariables"):
            item = {"component": {"name": "OCPPCommCtrlr", "evse": {"id": 1}}, "variable": {"name": "HeartbeatInterval"}}
            text = json.dumps([2, "b-1", "GetVariables", {"getVariableData": [item] * 10}])
        elif name.startswith("DataTransfer"):
            text = json.dumps([2, "b-3", "DataTransfer", {"vendorId": "v", "data": "x" * 60000}])
        elif name.startswith("65 KB"):
            text = '[2,"b-4","ClearCache",{}' + " " * 65000 + "]"
        elif name.startswith("UTF-8"):
            text = '[2,"b-5","DataTransfer",{"vendorId":"v","data":"' + "caf\u00e9 \u20ac " * 200 + '"}]'
        out.append((name, text.encode()))
    return out


def measure():
    import json
    import time
    from flexcharge.comm import jsoncheck, wsframe

    mp = sys.implementation.name == "micropython"

    def clock():
        return time.ticks_us() if mp else int(time.perf_counter() * 1e6)

    def diff(a, b):
        return time.ticks_diff(a, b) if mp else a - b

    def per_call(fn, arg, budget_us=300000):
        n = 0
        t0 = clock()
        while True:
            fn(arg)
            n += 1
            dt = diff(clock(), t0)
            if dt > budget_us or n >= 2000:
                return dt / n

    for name, b in _messages():
        assert jsoncheck.check(b)[0] == jsoncheck.OK, name
        t_loads = per_call(json.loads, b if mp else b.decode())
        t_check = per_call(jsoncheck.check, b)
        t_utf8 = per_call(wsframe.utf8_valid, b)
        print("RESULT %s|%d|%.1f|%.1f|%.1f" % (name, len(b), t_loads, t_check, t_utf8))


def _orchestrate():
    import os
    import shutil
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    firmware = os.path.join(root, "firmware")
    bindir = os.path.dirname(sys.executable)
    mp = shutil.which("micropython", path=bindir + os.pathsep + os.environ.get("PATH", ""))
    me = os.path.abspath(__file__)
    results = {}
    for tag, cmd in (("micropython", [mp, "-X", "heapsize=1M"] if mp else None), ("cpython", [sys.executable])):
        if cmd is None:
            print("%s: not found" % tag)
            continue
        env = dict(os.environ)
        env["MICROPYPATH"] = ".frozen:" + firmware
        env["PYTHONPATH"] = firmware
        p = subprocess.run(cmd + [me, "--measure"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=600)
        if p.returncode:
            print("%s failed:\n%s" % (tag, p.stderr[-2000:]))
            sys.exit(1)
        results[tag] = [line[7:].split("|") for line in p.stdout.splitlines() if line.startswith("RESULT ")]
    for tag, rows in results.items():
        print("-- %s: microseconds per call; ratio = strict check / json.loads" % tag)
        print("%-28s %7s %10s %10s %7s %10s" % ("message", "bytes", "json.loads", "jsoncheck", "ratio", "utf8_valid"))
        for name, size, loads, check, utf8 in rows:
            print("%-28s %7s %10s %10s %7.2f %10s" % (name, size, loads, check, float(check) / max(0.01, float(loads)),
                                                     utf8))


if __name__ == "__main__":
    if "--measure" in sys.argv:
        measure()
    else:
        _orchestrate()
