# B05 Set Variables, B06 Get Variables, B07 Get Base Report, B08 Get Custom Report.
# Test cases: TC_B_06/07/32/33/34 (get), TC_B_09/10/11/35/36/37/39 (set), TC_B_12/13/14/15
# (base reports), TC_B_16/17/18/19 (custom reports).
#
# Reports are answered first and then streamed as NotifyReport messages (seqNo from 0, tbc on
# all but the last) from a generator over the device model: at most REPORT_ITEMS entries
# exist at a time, whatever the size of the model.
import json

from flexcharge.core.router import Block, Reply, on
from flexcharge.core.devicemodel.model import (
    ATTRS,
    component_dict,
    cv_match,
    has_attr,
    mutability,
    variable_dict,
)
from flexcharge.comm.errors import (
    CallError,
    CallTimeout,
    NotConnected,
    FORMAT_VIOLATION,
    OCCURRENCE_CONSTRAINT_VIOLATION,
)

REPORT_ITEMS = 8  # reportData per NotifyReport: bounds the heap a report needs
REPORT_BYTES = 4000  # ...and, roughly, the size of one message

BASES = ("ConfigurationInventory", "FullInventory", "SummaryInventory")
CRITERIA = ("Active", "Available", "Enabled", "Problem")
_SUMMARY_COMPONENTS = ("ChargingStation", "EVSE", "Connector")
_ABNORMAL = ("Problem", "Tripped", "Overload", "Fallback")


def message_size(station, payload):
    """Bytes of the CSMS message being handled: the size the Rpc read off the wire, so the payload
    is not serialised again (json.dumps recurses: a deep customData overflowed it, and a second
    copy of a large message costs heap). A handler called without an Rpc (tests) measures the payload."""
    rpc = getattr(station, "rpc", None)
    n = getattr(rpc, "rx_size", 0) if rpc is not None else 0
    return n if n > 0 else len(json.dumps(payload))


def check_limits(dm, instance, items, payload, component="DeviceDataCtrlr"):
    """ItemsPerMessage<instance> / BytesPerMessage<instance>: B06.FR.16/17, B08.FR.17/18 (and the
    same for SetVariables, SetVariableMonitoring, ClearVariableMonitoring). payload: the message
    size in bytes (message_size()), or the payload itself."""
    n = dm.get_int(component, "ItemsPerMessage", 0, var_instance=instance)
    if n > 0 and items > n:
        raise CallError(OCCURRENCE_CONSTRAINT_VIOLATION, "more than ItemsPerMessage%s (%d)" % (instance, n))
    b = dm.get_int(component, "BytesPerMessage", 0, var_instance=instance)
    if b > 0 and (payload if isinstance(payload, int) else len(json.dumps(payload))) > b:
        raise CallError(FORMAT_VIOLATION, "more than BytesPerMessage%s (%d)" % (instance, b))


def _true(v):
    return v is True or v == "true"  # a typed value, or a table default string


def next_or_none(gen):
    try:
        return next(gen)
    except StopIteration:
        return None


def report_data(dm, blk, row, vidx, evse, conn, lim):
    """One ReportDataType (B07/B08): WriteOnly values omitted (errata 2.9, B07.FR.03)."""
    flags = row[2]
    mut = mutability(row)
    attrs = []
    for a in range(4):
        if not has_attr(row, a):
            continue
        va = {"type": ATTRS[a], "mutability": mut, "persistent": "P" in flags, "constant": "C" in flags}
        if mut != "WriteOnly":
            v = dm.read(row, vidx, evse, conn, a)
            va["value"] = v[:lim] if lim and len(v) > lim else v
        attrs.append(va)
    ch = {"dataType": row[3], "supportsMonitoring": "M" in flags}
    if row[4]:
        ch["unit"] = row[4]
    mn, mx = dm.limits(row, vidx, evse, conn)
    if mn is not None:
        ch["minLimit"] = mn
    if mx is not None:
        ch["maxLimit"] = mx
    if row[7]:
        ch["valuesList"] = ",".join(row[7])  # TC_B_12/13_CS: present for the list types
    return {
        "component": component_dict(blk, evse, conn),
        "variable": variable_dict(row),
        "variableAttribute": attrs,
        "variableCharacteristics": ch,
    }


class Variables(Block):
    VARIABLES = ()  # DeviceDataCtrlr is in standard.TABLES

    def start(self):
        st = self.station
        st.dm.getter("ClockCtrlr", "DateTime", st.isonow)

    # -- B06 ------------------------------------------------------------------------------
    @on("GetVariables")
    def get_variables(self, p):
        dm = self.station.dm
        data = p["getVariableData"]
        check_limits(dm, "GetVariables", len(data), message_size(self.station, p))
        out = []
        for d in data:  # B06.FR.01: one result per request element, in order
            status, value, info = dm.get_variable(d)
            r = {
                "attributeStatus": status,
                "attributeType": d.get("attributeType", "Actual"),  # B06.FR.03/11
                "component": d["component"],  # B06.FR.02
                "variable": d["variable"],
            }
            if value is not None:
                r["attributeValue"] = value  # B06.FR.04/10
            if info is not None:
                r["attributeStatusInfo"] = info
            out.append(r)
        return {"getVariableResult": out}

    # -- B05 ------------------------------------------------------------------------------
    @on("SetVariables")
    def set_variables(self, p):
        dm = self.station.dm
        data = p["setVariableData"]
        check_limits(dm, "SetVariables", len(data), message_size(self.station, p))
        out = []
        dm.hold()  # one atomic write, done before the response goes out
        try:
            for d in data:
                status, info = dm.set_variable(d)
                r = {
                    "attributeStatus": status,
                    "attributeType": d.get("attributeType", "Actual"),
                    "component": d["component"],
                    "variable": d["variable"],
                }
                if info is not None:
                    r["attributeStatusInfo"] = info
                out.append(r)
        finally:
            dm.release()
        return {"setVariableResult": out}

    # -- B07 ------------------------------------------------------------------------------
    @on("GetBaseReport")
    def get_base_report(self, p):
        base = p["reportBase"]
        if base not in BASES:
            return {"status": "NotSupported", "statusInfo": {"reasonCode": "UnsupportedParam"}}  # B07.FR.02
        gen = self.select(base, None, None)
        first = next_or_none(gen)
        if first is None:
            return {"status": "EmptyResultSet"}
        return Reply({"status": "Accepted"}, then=self.stream(p["requestId"], gen, first))  # B07.FR.01

    # -- B08 ------------------------------------------------------------------------------
    @on("GetReport")
    def get_report(self, p):
        cvs = p.get("componentVariable")
        crit = p.get("componentCriteria")
        if cvs:
            check_limits(self.station.dm, "GetReport", len(cvs), message_size(self.station, p))
        for c in crit or ():
            if c not in CRITERIA:
                return {"status": "NotSupported", "statusInfo": {"reasonCode": "UnsupportedParam"}}  # B08.FR.02
        gen = self.select(None, crit, cvs)
        first = next_or_none(gen)
        if first is None:
            return {"status": "EmptyResultSet", "statusInfo": {"reasonCode": "NotFound"}}  # TC_B_18_CS step 6
        return Reply({"status": "Accepted"}, then=self.stream(p["requestId"], gen, first))

    # -- selection ------------------------------------------------------------------------
    def _criteria_ok(self, blk, evse, conn, crit):
        # B08.FR.07-10: a component matches a criterion when its variable of that name is
        # true; lacking Active/Available/Enabled also matches, lacking Problem does not.
        dm = self.station.dm
        for c in crit:
            f = dm.find(blk[0], blk[1], evse, conn, c, None)
            if isinstance(f, tuple):
                if _true(dm.value(f[1], f[2], evse, conn)):
                    return True
            elif c != "Problem":
                return True
        return False

    def select(self, base, crit, cvs):
        """Generator of (blk, row, vidx, evse, conn) for a base report or a custom report."""
        dm = self.station.dm
        for blk, i, evse, conn in dm.components():
            if cvs:
                hit = False
                for cv in cvs:
                    if cv_match(cv, blk, evse, conn):
                        hit = True
                        break
                if not hit or (crit and not self._criteria_ok(blk, evse, conn, crit)):
                    continue
            for row in blk[3]:
                vidx = i
                i += 1
                if cvs:
                    hit = False
                    for cv in cvs:
                        if cv_match(cv, blk, evse, conn, row):
                            hit = True
                            break
                    if not hit:
                        continue
                elif crit:
                    # Criteria alone report the criterion variables that are true (TC_B_16_CS).
                    if row[1] or row[0] not in crit or not _true(dm.value(row, vidx, evse, conn)):
                        continue
                if base == "ConfigurationInventory":
                    if row[2][:2] == "RO":  # B07.FR.07: writable variables only
                        continue
                elif base == "SummaryInventory":
                    if row[0] == "AvailabilityState":
                        if blk[0] not in _SUMMARY_COMPONENTS:
                            continue
                    elif row[0] not in _ABNORMAL or not _true(dm.value(row, vidx, evse, conn)):
                        continue
                yield blk, row, vidx, evse, conn

    # -- streaming -----------------------------------------------------------------------
    async def stream(self, request_id, gen, item):
        st = self.station
        dm = st.dm
        lim = dm.value_limit()
        seq = 0
        while item is not None:
            chunk = []
            size = 0
            while item is not None and len(chunk) < REPORT_ITEMS and size < REPORT_BYTES:
                e = report_data(dm, item[0], item[1], item[2], item[3], item[4], lim)
                chunk.append(e)
                v = e["variableAttribute"][0].get("value")
                size += 200 + (len(v) if v else 0)
                item = next_or_none(gen)
            payload = {
                "requestId": request_id,  # B07.FR.04
                "generatedAt": st.isonow(),
                "seqNo": seq,  # B07.FR.10/B08.FR.12: 0, 1, 2 ...
                "tbc": item is not None,
                "reportData": chunk,
            }
            chunk = None
            try:
                await st.call("NotifyReport", payload)
            except (NotConnected, CallTimeout, CallError) as e:
                st.log.warn("NotifyReport %d seqNo %d failed (%r): report abandoned" % (request_id, seq, e))
                return seq
            payload = None
            seq += 1
        return seq
