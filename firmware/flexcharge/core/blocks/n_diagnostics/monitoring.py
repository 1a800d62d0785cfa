# N02 Get Monitoring Report, N03 Set Monitoring Base, N04 Set Variable Monitoring,
# N05 Set Monitoring Level, N06 Clear/Remove Monitoring; N07/N08 events come from the engine.
# Test cases: TC_N_01..N_24, TC_N_37..N_56 (Part 6 §2.15).
from flexcharge.core.router import Block, Reply, on
from flexcharge.core.devicemodel import standard
from flexcharge.core.devicemodel.model import component_dict, cv_match, unkey, variable_dict
from flexcharge.core.blocks.b_provisioning.variables import check_limits, message_size
from flexcharge.core.blocks.n_diagnostics.engine import (
    MonitorEngine,
    TYPES,
    ID,
    KEY,
    TYPE,
    VALUE,
    SEV,
    TX,
    UPPER,
    LOWER,
    DELTA,
)
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected

REPORT_ITEMS = 8  # monitoringData per NotifyMonitoringReport
_CRITERIA = {
    "ThresholdMonitoring": (UPPER, LOWER),  # N02.FR.12
    "DeltaMonitoring": (DELTA,),  # N02.FR.13
    "PeriodicMonitoring": (3, 4),  # N02.FR.14: Periodic, PeriodicClockAligned
}


class Monitoring(Block):
    VARIABLES = standard.MONITORING_CTRLR

    def __init__(self, station):
        Block.__init__(self, station)
        # Hooked into the device model at once: blocks started earlier (G01 status) already
        # produce the boot-time AvailabilityState events (TC_B_02_CS step 17).
        self.engine = MonitorEngine(station)

    def start(self):
        self.engine.start()

    # -- N04 ----------------------------------------------------------------------------------
    @on("SetVariableMonitoring")
    def set_variable_monitoring(self, p):
        data = p["setMonitoringData"]
        size = message_size(self.station, p)
        check_limits(self.station.dm, "SetVariableMonitoring", len(data), size, "MonitoringCtrlr")  # N04.FR.09
        out = []
        for d in data:  # N04.FR.01/02: one result per element, same component/variable
            status, mid, info = self.engine.set_monitor(d)
            r = {
                "status": status,
                "type": d["type"],
                "severity": d["severity"],
                "component": d["component"],
                "variable": d["variable"],
            }
            if mid is not None:
                r["id"] = mid  # N04.FR.11
            if info is not None:
                r["statusInfo"] = info
            out.append(r)
        return {"setMonitoringResult": out}

    # -- N06 ----------------------------------------------------------------------------------
    @on("ClearVariableMonitoring")
    def clear_variable_monitoring(self, p):
        ids = p["id"]
        size = message_size(self.station, p)
        check_limits(self.station.dm, "ClearVariableMonitoring", len(ids), size, "MonitoringCtrlr")  # N06.FR.06/07
        out = []
        for mid in ids:  # N06.FR.05
            status, info = self.engine.clear(mid)
            r = {"status": status, "id": mid}
            if info is not None:
                r["statusInfo"] = info
            out.append(r)
        return {"clearMonitoringResult": out}

    # -- N03 / N05 ----------------------------------------------------------------------------
    @on("SetMonitoringBase")
    def set_monitoring_base(self, p):
        status = self.engine.set_base(p["monitoringBase"])
        if status == "NotSupported":
            return {"status": status, "statusInfo": {"reasonCode": "UnsupportedParam"}}
        return {"status": status}

    @on("SetMonitoringLevel")
    def set_monitoring_level(self, p):
        status, info = self.engine.set_level(p["severity"])
        r = {"status": status}
        if info is not None:
            r["statusInfo"] = info
        return r

    # -- N02 ----------------------------------------------------------------------------------
    @on("GetMonitoringReport")
    def get_monitoring_report(self, p):
        cvs = p.get("componentVariable")
        crit = p.get("monitoringCriteria")
        if cvs:
            check_limits(self.station.dm, "GetReport", len(cvs), message_size(self.station, p))  # N02.FR.07
        types = None
        if crit:
            types = []
            for c in crit:
                t = _CRITERIA.get(c)
                if t is None:
                    return {"status": "NotSupported", "statusInfo": {"reasonCode": "UnsupportedParam"}}  # N02.FR.02
                types.extend(t)
        sel = self.select(types, cvs)
        if not sel:
            return {"status": "EmptyResultSet", "statusInfo": {"reasonCode": "NotFound"}}  # N02.FR.10
        return Reply({"status": "Accepted"}, then=self.stream(p["requestId"], sel))  # N02.FR.01

    def select(self, types, cvs):
        """Matching monitors as a list of (key, monitor), sorted by key so that one
        component/variable's monitors travel together. Monitors are few (<= MAX_CUSTOM + tables)."""
        dm = self.station.dm
        out = []
        for m in self.engine.monitors():
            if types is not None and m[TYPE] not in types:
                continue
            if cvs:
                vidx, evse, conn, a = unkey(m[KEY])
                blk, row = dm.by_vidx(vidx)
                hit = False
                for cv in cvs:
                    if cv_match(cv, blk, evse, conn, row):
                        hit = True
                        break
                if not hit:
                    continue
            out.append((m[KEY], m))
        out.sort(key=lambda x: (x[0], x[1][ID]))
        return out

    async def stream(self, request_id, sel):
        st = self.station
        dm = st.dm
        seq = 0
        i = 0
        n = len(sel)
        while i < n:
            data = []
            while i < n and len(data) < REPORT_ITEMS:
                k = sel[i][0]
                vidx, evse, conn, a = unkey(k)
                blk, row = dm.by_vidx(vidx)
                vms = []
                while i < n and sel[i][0] == k:
                    m = sel[i][1]
                    vms.append({"id": m[ID], "transaction": m[TX], "value": m[VALUE], "type": TYPES[m[TYPE]], "severity": m[SEV]})
                    i += 1
                data.append({"component": component_dict(blk, evse, conn), "variable": variable_dict(row), "variableMonitoring": vms})
            payload = {
                "requestId": request_id,  # N02.FR.04
                "generatedAt": st.isonow(),
                "seqNo": seq,  # N02.FR.09
                "tbc": i < n,
                "monitor": data,
            }
            try:
                await st.call("NotifyMonitoringReport", payload)
            except (NotConnected, CallTimeout, CallError) as e:
                st.log.warn("NotifyMonitoringReport %d seqNo %d failed (%r): abandoned" % (request_id, seq, e))
                return seq
            seq += 1
        return seq
