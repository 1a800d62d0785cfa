# Fault reporting: a hardware fault becomes (1) the connector status Faulted, (2) a NotifyEvent on
# the component's Problem variable through its hard-wired Delta monitor (N07; rows with HW_PROBLEM
# in tools/gen_dm.py), (3) a log record (the DiagnosticsLog ring), and the last fault per EVSE is
# kept as a metric.
#
# Sources: the board's "fault"/"clear_fault" events (RCD trip, lock, pilot faults; the unix board's
# `fault` command) and the charging controller's own findings (EvseControl.on_fault: welded or
# non-closing contactor, a meter that stops answering), which the board does not see.
FAULTED = "Faulted"

# fault code -> (component, extra boolean variable set with Problem, scope) ; scope 1 EVSE, 2 connector
_COMPONENT = {
    "GroundFailure": ("RCD", "Tripped", 1),
    "ContactorWelded": ("PowerContactor", None, 1),
    "ContactorNotClosed": ("PowerContactor", None, 1),
    "ContactorFeedbackFailure": ("PowerContactor", None, 1),
    "MeterFailure": ("ControlMetering", None, 1),
    "LockFailure": ("ConnectorPlugRetentionLock", None, 2),
}


class FaultReporter:
    def __init__(self, station, status=None):
        self.station = station
        self.status = status  # g_availability Status: refreshed after a controller fault
        self.active = {}  # evse id -> {code: connector or None}
        self.controller = {}  # evse id -> {code} found by the controller (not visible in hw.faulted())
        self.last = {}  # evse id -> (unix time, code): metric "last fault per EVSE"
        self.count = 0  # faults seen this boot

    # -- status override (G01: Faulted outranks every other status) ------------------------------
    def override(self, connector):
        return FAULTED if self.controller.get(connector.evse_id) else None

    # -- inputs ---------------------------------------------------------------------------------
    def on_board_event(self, kind, data):
        evse = data.get("evse")
        if not isinstance(evse, int):
            return
        if kind == "fault":
            self.fault(evse, data.get("code") or "Unknown", data.get("connector"))
        elif kind == "clear_fault":
            self.clear(evse)

    def on_control_fault(self, evse, code, active=True):
        """From EvseControl: a fault the board cannot see (welding, meter silence)."""
        c = self.controller.setdefault(evse, set())
        if active:
            if code in c:
                return
            c.add(code)
            self.fault(evse, code, None)
        else:
            if code not in c:
                return
            c.discard(code)
            self._clear_code(evse, code)
        if self.status is not None:
            self.status.refresh(evse)

    def fault(self, evse, code, connector=None):
        a = self.active.setdefault(evse, {})
        if code in a:
            return  # the same fault reported twice (board event and controller): one report
        a[code] = connector
        st = self.station
        self.count += 1
        self.last[evse] = (int(st.now()), code)
        st.log.error("fault on EVSE %d%s: %s" % (evse, "" if connector is None else " connector %d" % connector, code))
        self._problem(evse, code, connector, "true")

    def clear(self, evse):
        for code in list(self.active.get(evse, {})):
            if code not in self.controller.get(evse, ()):
                self._clear_code(evse, code)

    def _clear_code(self, evse, code):
        a = self.active.get(evse, {})
        if code not in a:
            return
        connector = a.pop(code)
        self.station.log.info("fault cleared on EVSE %d: %s" % (evse, code))
        self._problem(evse, code, connector, "false")

    def _problem(self, evse, code, connector, value):
        m = _COMPONENT.get(code)
        if m is None:
            return  # no component of its own: Faulted status and the log record only
        comp, extra, scope = m
        conn = (connector or 1) if scope == 2 else None
        dm = self.station.dm
        try:
            # The hard-wired Delta monitor on Problem turns this change into a NotifyEvent (N07).
            if extra is not None:
                dm.set_internal(comp, extra, value, evse=evse, connector=conn)
            dm.set_internal(comp, "Problem", value, evse=evse, connector=conn)
        except Exception as e:
            self.station.log.warn("%s.Problem not set on EVSE %d: %r" % (comp, evse, e))

    def last_fault(self, evse):
        return self.last.get(evse)
