# Metrics kept by the diagnostics layer: uptime, boot count and reset causes, reconnects, messages
# sent/received, CALLERRORs, queue depths, heap low-water mark, last fault per EVSE.
#
# Where they are reported: the OCPP 2.0.1 appendix has no standardized variable for any of them
# (no uptime, boot counter, message counters or heap figure in dm_components_vars.csv), so none is
# invented under a standardized component; they go to the log (one "metrics ..." record in the
# DiagnosticsLog ring every INTERVAL_S, at boot and before every GetLog of it, so an uploaded log
# carries the current figures) and are readable by the composition root (snapshot()).
#
# Reset causes: a small histogram {reason: count} persisted in boot.json next to the boot count.
import asyncio

from flexcharge.compat import ticks_ms, ticks_diff, mem_free

INTERVAL_S = 600
_HEAP_SAMPLE_S = 5


class Metrics:
    def __init__(self, log, boot_count, causes):
        self.log = log
        self.boot_count = boot_count
        self.causes = causes  # {boot reason: count}, persisted by the caller
        self._t0 = ticks_ms()
        self.reconnects = 0  # connections after the first of this boot
        self.connects = 0
        self.heap_low = None  # smallest free GC heap seen (bytes), None where the port has no figure
        # Set by the composition root: callables returning the live figures.
        self.rpc = None  # comm.rpc.Rpc (counts)
        self.queues = {}  # name -> callable() -> int
        self.faults = None  # diag.faults.FaultReporter

    def uptime_s(self):
        return ticks_diff(ticks_ms(), self._t0) // 1000

    def connected(self):
        self.connects += 1
        if self.connects > 1:
            self.reconnects += 1

    def sample_heap(self):
        f = mem_free()
        if f is not None and f >= 0 and (self.heap_low is None or f < self.heap_low):
            self.heap_low = f

    def snapshot(self):
        r = self.rpc.counts if self.rpc is not None else (0, 0, 0, 0)
        q = {}
        for name in self.queues:
            try:
                q[name] = self.queues[name]()
            except Exception:
                q[name] = -1
        last = {}
        if self.faults is not None:
            for evse in self.faults.last:
                last[evse] = self.faults.last[evse]
        return {
            "uptime": self.uptime_s(), "boots": self.boot_count, "causes": self.causes,
            "reconnects": self.reconnects, "sent": r[0], "received": r[1],
            "callerrors_sent": r[2], "callerrors_received": r[3], "queues": q,
            "heap_low": self.heap_low, "last_fault": last,
        }

    def line(self):
        s = self.snapshot()
        causes = ",".join("%s:%d" % (k, s["causes"][k]) for k in sorted(s["causes"]))
        qs = ",".join("%s:%d" % (k, s["queues"][k]) for k in sorted(s["queues"]))
        lf = ",".join("%d:%s@%d" % (e, s["last_fault"][e][1], s["last_fault"][e][0]) for e in sorted(s["last_fault"]))
        return ("metrics uptime=%ds boots=%d causes=%s reconnects=%d sent=%d received=%d callerrors_sent=%d "
                "callerrors_received=%d queues=%s heap_low=%s last_fault=%s" % (
                    s["uptime"], s["boots"], causes or "-", s["reconnects"], s["sent"], s["received"],
                    s["callerrors_sent"], s["callerrors_received"], qs or "-",
                    "-" if s["heap_low"] is None else str(s["heap_low"]), lf or "-"))

    def report(self):
        self.log.info(self.line())

    async def run(self):
        n = 0
        while True:
            self.sample_heap()
            await asyncio.sleep(_HEAP_SAMPLE_S)
            n += _HEAP_SAMPLE_S
            if n >= INTERVAL_S:
                n = 0
                self.report()
