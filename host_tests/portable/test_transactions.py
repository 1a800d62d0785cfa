# E transactions through the real block, the real simulated board (pilot, contactor,
# meter) and the real device model; the CSMS is a scripted call(). Both interpreters.
# Test case ids: OCPP 2.0.1 Part 6 (TC_E_nn_CS, TC_J_nn_CS).
import io
import json

from support import run, tmpdir
from fake_station import make_dm, Handlers
from board import SimBoard
from flexcharge.comm.errors import NotConnected, CallError
from flexcharge.core import timefmt
from flexcharge.core.station import EVSE
from flexcharge.core.blocks.g_availability.status import Status
from flexcharge.core.blocks.e_transactions.transactions import Transactions

EVSES = [{"id": 1, "connectors": 1, "max_current": 32, "phases": 3, "voltage": 230},
         {"id": 2, "connectors": 1, "max_current": 16, "phases": 1, "voltage": 230}]
T0 = 1795000000  # an int: a float32 epoch moves in 128 s steps


class FakeAuth:
    """The Authorization block's API (issue 4 contract), scripted."""

    def __init__(self, valid=("AA", "BB"), groups=None, master=()):
        self.valid = valid
        self.groups = groups or {}
        self.master = master
        self.asked = []
        self.updates = []

    async def authorize(self, tok, evse_id=None):
        self.asked.append(tok["idToken"])
        if tok["idToken"] not in self.valid and tok["idToken"] not in self.master:
            return {"status": "Invalid"}
        info = {"status": "Accepted"}
        g = self.groups.get(tok["idToken"])
        if g:
            info["groupIdToken"] = {"idToken": g, "type": "Central"}
        return info

    def update(self, tok, info):
        self.updates.append((tok["idToken"], info["status"]))

    def is_master_pass(self, tok, info=None):  # the real one's signature (C16)
        return tok["idToken"] in self.master

    def may_stop(self, a, ai, b, bi):
        if a["idToken"] == b["idToken"] or b["idToken"] in self.master:
            return True
        ga = (ai or {}).get("groupIdToken")
        gb = (bi or {}).get("groupIdToken")
        return ga is not None and gb is not None and ga["idToken"] == gb["idToken"]


class Station:
    """What blocks use of core/station.py, with the real EVSE/connector objects on the board."""

    def __init__(self, board, dm, online=True):
        self.board = board
        self.dm = dm
        self.log = dm.log
        self.evses = tuple(EVSE(e, board) for e in EVSES)
        self.online = online
        self.registration = "Accepted"
        self.t = T0
        self.calls = []  # (action, payload) answered
        self.answer = None  # callable(action, payload) -> payload or exception
        self.events = []
        self.spawned = []
        self.on_ready = []
        self.on_online = []

    def connectors(self):
        for e in self.evses:
            for c in e.connectors:
                yield c

    def evse(self, eid):
        for e in self.evses:
            if e.id == eid:
                return e
        return None

    def now(self):
        return self.t

    def isonow(self):
        return timefmt.iso(self.t)

    def report(self, event, fields):
        self.events.append((event, fields))

    def spawn(self, coro):
        self.spawned.append(coro)
        return coro

    async def call(self, action, payload, wait=False, on_result=None):
        if not self.online:
            raise NotConnected("offline")
        r = self.answer(action, payload) if self.answer is not None else {}
        if isinstance(r, Exception):
            raise r
        self.calls.append((action, payload))
        if on_result is not None:
            on_result(r)  # as core/station.py does: while the answer is read
        return r

    def run_spawned(self):
        async def go():
            while self.spawned:
                await self.spawned.pop(0)

        run(go())

    def sent(self, action="TransactionEvent"):
        return [p for a, p in self.calls if a == action]

    def tx_events(self):
        return [f for e, f in self.events if e == "transaction"]


def make(state=None, online=True, dm=None, auth=None, start=True, **tx):
    state = state or tmpdir("tx")
    board = SimBoard({"evses": EVSES}, state, stdin=False, out=io.StringIO())
    t = [0]
    board.ms = lambda: t[0]
    board.t = t
    if dm is None:
        dm = make_dm(path=state + "/dm", evses=EVSES)
    st = Station(board, dm, online)
    status = Status(st)
    auth = auth or FakeAuth()
    txs = Transactions(st, status, auth)
    txs.background = False
    for k in tx:
        setattr(txs, k, tx[k])
    board.listener = txs.on_hw_event
    board.station = st
    tick = txs.tick

    def tick_and_run(now=None):
        tick(now)
        st.run_spawned()  # then what the loop runs next

    txs.tick = tick_and_run
    if start:
        status.start()
        txs.start()
    return st, txs, board, auth


def setv(st, comp, var, value, **kw):
    st.dm.set_internal(comp, var, value, **kw)


def cmd(board, **c):
    r = board.command(json.dumps(c))
    st = board.station
    if st.spawned:
        st.run_spawned()  # what the event loop would run next (StatusNotification senders...)
    return r


def tag(st, board, tid, evse=None):
    c = {"cmd": "tag", "id": tid}
    if evse is not None:
        c["evse"] = evse
    cmd(board, **c)
    st.run_spawned()


def deliver(txs):
    run(txs.deliver())


def queued(txs):
    out = []
    for n in txs.queue.storage.names("tq."):
        out.append(json.loads(txs.queue.storage.read(n)))
    return out


def check_schema(payloads, action="TransactionEventRequest"):
    """Strict in what we send: every payload validates against the OCA schema (CPython has
    jsonschema and the `ocpp` package's schemas; MicroPython checks the required fields)."""
    try:
        import jsonschema
        import ocpp.v201
        import os
    except ImportError:
        jsonschema = None
    for p in payloads:
        if jsonschema is not None:
            path = os.path.join(os.path.dirname(ocpp.v201.__file__), "schemas", action + ".json")
            with open(path) as f:
                schema = json.load(f)
            jsonschema.validate(p, schema)
        elif action == "TransactionEventRequest":
            for k in ("eventType", "timestamp", "triggerReason", "seqNo", "transactionInfo"):
                assert k in p, k
            assert p["eventType"] in ("Started", "Updated", "Ended")


def seq_ok(payloads):
    by = {}
    for p in payloads:
        by.setdefault(p["transactionInfo"]["transactionId"], []).append(p["seqNo"])
    for tid in by:
        assert by[tid] == list(range(len(by[tid]))), by[tid]
    return by


# -- E01/E02/E06/E07 default config: TxStartPoint PowerPathClosed, TxStopPoint EVConnected,Authorized ---
def test_default_session_plug_tag_charge_stop_with_same_tag():
    st, txs, board, auth = make()
    cmd(board, cmd="plug", evse=1, connector=1)
    assert txs.active(1) is None  # PowerPathClosed not reached yet (TC_E_01)
    assert st.dm.get("Connector", "AvailabilityState", evse=1, connector=1) == "Occupied"
    tag(st, board, "AA", evse=1)
    assert auth.asked == ["AA"] and txs.active(1) is None
    assert board.pilots[1].duty() == 32 / 0.6  # 53.3 %: offering 32 A (IEC 61851-1 Table A.8)
    assert not board.contactors[1].is_closed()  # EV still in B
    cmd(board, cmd="ev", evse=1, state="C")
    tx = txs.active(1)
    assert tx is not None and board.contactors[1].is_closed()
    cmd(board, cmd="load", evse=1, watts=11000)
    board.t[0] += 3600 * 1000  # one hour at 11 kW
    tag(st, board, "AA", evse=1)  # E07: the same token stops (TC_E_14 path)
    assert txs.active(1) is None and not board.contactors[1].is_closed()
    assert board.pilots[1].duty() == 100.0  # no offer any more
    q = queued(txs)
    check_schema(q)
    seq_ok(q)
    types = [(p["eventType"], p["triggerReason"], p["transactionInfo"].get("chargingState")) for p in q]
    assert types == [("Started", "ChargingStateChanged", "SuspendedEV"),
                     ("Updated", "ChargingStateChanged", "Charging"),
                     ("Ended", "StopAuthorized", "EVConnected")], types
    started, ended = q[0], q[-1]
    assert started["idToken"] == {"idToken": "AA", "type": "ISO14443"}  # first event after authorization
    assert started["evse"] == {"id": 1, "connectorId": 1}
    assert started["meterValue"][0]["sampledValue"][0]["context"] == "Transaction.Begin"  # TC_J_07
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert "evse" not in ended and "offline" not in ended
    end_mv = ended["meterValue"][-1]["sampledValue"][0]
    assert end_mv["context"] == "Transaction.End" and end_mv["measurand"] == "Energy.Active.Import.Register"
    assert abs(end_mv["value"] - 11000) < 1  # 1 h at 11 kW (3 x 32 A x 230 V caps at 22 kW)
    ev = st.tx_events()
    assert [e["type"] for e in ev] == ["Started", "Updated", "Ended"]
    assert abs(ev[-1]["energyWh"] - 11000) < 1
    # delivered in order, removed after each CALLRESULT
    deliver(txs)
    assert [p["seqNo"] for p in st.sent()] == [0, 1, 2] and len(txs.queue) == 0
    assert auth.updates == []  # responses without idTokenInfo update nothing


def test_ev_connected_start_and_ev_side_unplug():
    # TC_E_09 (start at EVConnected), TC_E_17/TC_E_20 (EVCommunicationLost, EVDisconnected, Idle)
    st, txs, board, auth = make()
    setv(st, "TxCtrlr", "TxStartPoint", "EVConnected")
    cmd(board, cmd="plug", evse=2, connector=1)
    tx = txs.active(2)
    assert tx is not None
    tag(st, board, "BB", evse=2)
    cmd(board, cmd="ev", evse=2, state="C")
    cmd(board, cmd="load", evse=2, watts=2000)
    cmd(board, cmd="unplug", evse=2, connector=1)
    q = queued(txs)
    check_schema(q)
    seq_ok(q)
    got = [(p["eventType"], p["triggerReason"], p["transactionInfo"]["chargingState"]) for p in q]
    assert got[0] == ("Started", "CablePluggedIn", "EVConnected")
    assert got[1] == ("Updated", "Authorized", "SuspendedEV") and q[1]["idToken"]["idToken"] == "BB"
    assert ("Updated", "ChargingStateChanged", "Charging") in got
    assert got[-1] == ("Ended", "EVCommunicationLost", "Idle")
    assert q[-1]["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    assert q[0]["evse"] == {"id": 2, "connectorId": 1} and "evse" not in q[1]


def test_authorized_start_and_ev_connection_timeout():
    # TC_E_10 (start at Authorized), TC_E_39 (EVConnectTimeout, Timeout)
    st, txs, board, auth = make()
    setv(st, "TxCtrlr", "TxStartPoint", "Authorized")
    setv(st, "TxCtrlr", "EVConnectionTimeOut", "30")
    tag(st, board, "AA", evse=1)
    tx = txs.active(1)
    assert tx is not None
    # Authorized before the cable: the connector shows Occupied (G01, Authorized state B step 5)
    assert st.dm.get("Connector", "AvailabilityState", evse=1, connector=1) == "Occupied"
    txs.tick(T0 + 29)
    assert txs.active(1) is not None
    txs.tick(T0 + 31)
    assert txs.active(1) is None
    q = queued(txs)
    check_schema(q)
    assert q[0]["eventType"] == "Started" and q[0]["triggerReason"] == "Authorized" and q[0]["evse"] == {"id": 1}
    assert q[-1]["eventType"] == "Ended" and q[-1]["triggerReason"] == "EVConnectTimeout"
    assert q[-1]["transactionInfo"]["stoppedReason"] == "Timeout"
    assert st.dm.get("Connector", "AvailabilityState", evse=1, connector=1) == "Available"
    # the cable after the authorization: the connector is reported in the next event
    tag(st, board, "AA", evse=1)
    cmd(board, cmd="plug", evse=1, connector=1)
    q = queued(txs)
    # EVConnectedPreSession: the plug-in event says EVConnected; TC_E_38_CS: "not ready" follows on its own
    assert q[-2]["triggerReason"] == "CablePluggedIn" and q[-2]["evse"] == {"id": 1, "connectorId": 1}
    assert q[-2]["transactionInfo"]["chargingState"] == "EVConnected"
    assert q[-1]["triggerReason"] == "ChargingStateChanged" and "evse" not in q[-1]
    assert q[-1]["transactionInfo"]["chargingState"] == "SuspendedEV"
    cmd(board, cmd="ev", evse=1, state="C")
    cmd(board, cmd="load", evse=1, watts=1000)
    q = queued(txs)
    assert q[-1]["transactionInfo"]["chargingState"] == "Charging" and "evse" not in q[-1]
    check_schema(queued(txs))


def test_fault_suspends_and_ground_fault_reason_only_when_it_ends():
    st, txs, board, auth = make()
    setv(st, "TxCtrlr", "TxStopPoint", "EVConnected,Authorized")
    cmd(board, cmd="plug", evse=1, connector=1)
    cmd(board, cmd="ev", evse=1, state="C")
    tag(st, board, "AA", evse=1)
    cmd(board, cmd="load", evse=1, watts=5000)
    cmd(board, cmd="fault", evse=1, code="GroundFailure")
    q = queued(txs)
    assert q[-1]["triggerReason"] == "AbnormalCondition" and q[-1]["transactionInfo"]["chargingState"] == "SuspendedEVSE"
    assert board.pilots[1].duty() == 0.0 and not board.contactors[1].is_closed()
    assert st.dm.get("Connector", "AvailabilityState", evse=1, connector=1) == "Faulted"
    cmd(board, cmd="clear_fault", evse=1)
    assert board.contactors[1].is_closed() and queued(txs)[-1]["transactionInfo"]["chargingState"] == "Charging"
    tag(st, board, "AA", evse=1)
    assert queued(txs)[-1]["transactionInfo"]["stoppedReason"] == "Local"  # the cleared fault is not the reason
    # with PowerPathClosed as stop point a ground fault ends it, stoppedReason GroundFault
    setv(st, "TxCtrlr", "TxStopPoint", "PowerPathClosed")
    tag(st, board, "AA", evse=1)
    cmd(board, cmd="fault", evse=1, code="GroundFailure")
    assert txs.active(1) is None and queued(txs)[-1]["transactionInfo"]["stoppedReason"] == "GroundFault"


def test_energy_transfer_start_point_and_power_path_stop_point():
    # TC_E_02: Started when energy flows, chargingState Charging; TxStopPoint PowerPathClosed ends
    # when the EV suspends (contactor opens), stoppedReason StoppedByEV.
    st, txs, board, auth = make()
    setv(st, "TxCtrlr", "TxStartPoint", "EnergyTransfer")
    setv(st, "TxCtrlr", "TxStopPoint", "PowerPathClosed")
    cmd(board, cmd="plug", evse=1, connector=1)
    tag(st, board, "AA", evse=1)
    cmd(board, cmd="ev", evse=1, state="C")
    assert txs.active(1) is None  # closed, but no power yet
    cmd(board, cmd="load", evse=1, watts=7000)
    q = queued(txs)
    assert len(q) == 1 and q[0]["eventType"] == "Started"
    assert q[0]["transactionInfo"]["chargingState"] == "Charging" and q[0]["idToken"]["idToken"] == "AA"
    cmd(board, cmd="ev", evse=1, state="B")
    q = queued(txs)
    assert q[-1]["eventType"] == "Ended" and q[-1]["transactionInfo"]["stoppedReason"] == "StoppedByEV"
    check_schema(q)


def test_stop_by_group_and_master_pass_and_foreign_tag_refused():
    auth = FakeAuth(valid=("AA", "BB", "CC"), groups={"AA": "G1", "BB": "G1"}, master=("MP",))
    st, txs, board, _ = make(auth=auth)
    cmd(board, cmd="plug", evse=1, connector=1)
    cmd(board, cmd="ev", evse=1, state="C")
    tag(st, board, "AA", evse=1)
    assert txs.active(1) is not None
    tag(st, board, "CC", evse=1)  # another group: may not stop (C01)
    assert txs.active(1) is not None
    assert ("authorize", {"evse": 1, "id": "CC", "status": "NotAllowedToStop"}) in st.events
    tag(st, board, "BB", evse=1)  # same groupIdToken (C09/TC_E_45)
    assert txs.active(1) is None
    assert queued(txs)[-1]["idToken"]["idToken"] == "BB"
    # master pass (C16) stops, without evse: every transaction it may stop
    tag(st, board, "AA", evse=1)
    assert txs.active(1) is not None
    tag(st, board, "MP")
    assert txs.active(1) is None
    assert queued(txs)[-1]["transactionInfo"]["stoppedReason"] == "MasterPass"
    tag(st, board, "MP", evse=1)  # a master pass does not start charging
    assert txs.active(1) is None and board.pilots[1].duty() == 100.0


def test_tag_without_evse_picks_plugged_evse_and_invalid_tag_does_nothing():
    st, txs, board, auth = make()
    cmd(board, cmd="plug", evse=2, connector=1)
    cmd(board, cmd="ev", evse=2, state="C")
    tag(st, board, "ZZ")
    assert txs.all_active() == [] and ("authorize", {"evse": 2, "id": "ZZ", "status": "Invalid"}) in st.events
    tag(st, board, "AA")
    assert txs.active(2) is not None and txs.active(1) is None
    assert board.pilots[2].duty() == 16 / 0.6  # EVSE 2 is rated 16 A


def test_remote_start_with_and_without_authorize_remote_start_and_remote_stop():
    st, txs, board, auth = make()
    setv(st, "TxCtrlr", "TxStartPoint", "Authorized")
    assert run(txs.remote_start(1, {"idToken": "AA", "type": "Central"}, 7)) == "Accepted"
    st.run_spawned()
    assert auth.asked == []  # AuthorizeRemoteStart false: trusted (F01)
    tx = txs.active(1)
    q = queued(txs)
    assert q[0]["triggerReason"] == "RemoteStart" and q[0]["transactionInfo"]["remoteStartId"] == 7
    assert run(txs.remote_start(1, {"idToken": "BB", "type": "Central"}, 8)) == "Rejected"  # busy
    assert run(txs.remote_stop("nope")) == "Rejected"
    assert run(txs.remote_stop(tx.id)) == "Accepted"
    q = queued(txs)
    assert q[-1]["triggerReason"] == "RemoteStop" and q[-1]["transactionInfo"]["stoppedReason"] == "Remote"
    # AuthorizeRemoteStart true: authorize first (TC_E_13); an invalid token starts nothing
    setv(st, "AuthCtrlr", "AuthorizeRemoteStart", "true")
    assert run(txs.remote_start(2, {"idToken": "XX", "type": "Central"}, 9)) == "Accepted"
    st.run_spawned()
    assert auth.asked == ["XX"] and txs.active(2) is None
    assert run(txs.remote_start(2, {"idToken": "BB", "type": "Central"}, 10)) == "Accepted"
    st.run_spawned()
    assert txs.active(2) is not None and queued(txs)[-1]["transactionInfo"]["remoteStartId"] == 10
    assert run(txs.remote_start(5, {"idToken": "BB", "type": "Central"}, 11)) == "Rejected"  # no EVSE 5
    check_schema(queued(txs))


def test_blocked_evse_refuses_and_stop_ends_now_and_idle_hooks():
    st, txs, board, auth = make()
    blocked = {2: True}
    txs.evse_blocked.append(lambda e: blocked.get(e, False))
    idle = []
    txs.on_idle.append(lambda: idle.append(1))
    assert run(txs.remote_start(2, {"idToken": "AA", "type": "Central"}, 1)) == "Rejected"
    cmd(board, cmd="plug", evse=1, connector=1)
    cmd(board, cmd="ev", evse=1, state="C")
    tag(st, board, "AA", evse=1)
    assert not txs.idle()
    run(txs.stop(1, "ImmediateReset", "ResetCommand"))
    assert txs.idle() and idle == [1]
    q = queued(txs)
    assert q[-1]["triggerReason"] == "ResetCommand" and q[-1]["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    assert not board.contactors[1].is_closed()


def test_invalid_id_in_response_deauthorizes_or_limits_energy():
    # TC_E_16: idTokenInfo Invalid in a TransactionEventResponse, StopTxOnInvalidId true
    st, txs, board, auth = make()
    cmd(board, cmd="plug", evse=1, connector=1)
    cmd(board, cmd="ev", evse=1, state="C")
    tag(st, board, "AA", evse=1)
    st.answer = lambda a, p: {"idTokenInfo": {"status": "Invalid"}} if "idToken" in p else {}
    deliver(txs)
    deliver(txs)
    assert ("AA", "Invalid") in auth.updates  # C10: the cache learns
    assert txs.active(1) is None
    last = st.sent()[-1]
    assert last["eventType"] == "Ended" and last["triggerReason"] == "Deauthorized"
    assert last["transactionInfo"]["stoppedReason"] == "DeAuthorized"
    # StopTxOnInvalidId false, MaxEnergyOnInvalidId 1000 Wh: charge on until 1 kWh, then SuspendedEVSE
    setv(st, "TxCtrlr", "StopTxOnInvalidId", "false")
    setv(st, "TxCtrlr", "MaxEnergyOnInvalidId", "1000")
    n0 = len(st.sent())
    tag(st, board, "AA", evse=1)
    cmd(board, cmd="load", evse=1, watts=10000)
    deliver(txs)
    assert txs.active(1) is not None and board.contactors[1].is_closed()
    # C12.FR.04 / TC_C_15_CS: not deauthorized meanwhile
    assert "Deauthorized" not in [p["triggerReason"] for p in st.sent()[n0:] + queued(txs)]
    board.t[0] += 6 * 60 * 1000  # 6 min at 10 kW = 1 kWh
    txs.tick(T0 + 400)
    assert not board.contactors[1].is_closed() and txs.active(1) is not None
    q = queued(txs)
    lim = [p for p in q if p["triggerReason"] == "EnergyLimitReached"]
    assert len(lim) == 1 and lim[0]["transactionInfo"]["chargingState"] == "SuspendedEVSE"
    assert "chargingState" not in q[-1]["transactionInfo"]  # periodic, state unchanged


def test_get_transaction_status():
    # TC_E_28 .. TC_E_34
    st, txs, board, auth = make(online=False)
    cmd(board, cmd="plug", evse=1, connector=1)
    cmd(board, cmd="ev", evse=1, state="C")
    tag(st, board, "AA", evse=1)
    tid = txs.active(1).id
    h = Handlers(st, txs)
    g = lambda p: h("GetTransactionStatus", p)
    assert g({"transactionId": "unknown"}) == {"ongoingIndicator": False, "messagesInQueue": False}
    assert g({"transactionId": tid}) == {"ongoingIndicator": True, "messagesInQueue": True}
    assert g({}) == {"messagesInQueue": True}
    st.online = True
    deliver(txs)
    assert g({"transactionId": tid}) == {"ongoingIndicator": True, "messagesInQueue": False}
    assert g({}) == {"messagesInQueue": False}
    tag(st, board, "AA", evse=1)
    assert g({"transactionId": tid}) == {"ongoingIndicator": False, "messagesInQueue": True}
    deliver(txs)
    assert g({"transactionId": tid}) == {"ongoingIndicator": False, "messagesInQueue": False}


def test_trigger_transaction_event_and_meter_values():
    st, txs, board, auth = make()
    assert txs.trigger_transaction_event(1) is None  # nothing running there
    assert txs.trigger_meter_values(9) is None
    cmd(board, cmd="plug", evse=1, connector=1)
    cmd(board, cmd="ev", evse=1, state="C")
    tag(st, board, "AA", evse=1)
    run(txs.trigger_transaction_event(1))
    q = queued(txs)
    assert q[-1]["triggerReason"] == "Trigger" and q[-1]["eventType"] == "Updated"
    assert q[-1]["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
    run(txs.trigger_meter_values(None))
    mv = st.sent("MeterValues")
    assert [p["evseId"] for p in mv] == [1, 2]
    assert mv[0]["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
    check_schema(mv, "MeterValuesRequest")
    check_schema(q)


def test_stdout_transaction_and_pilot_events():
    out = io.StringIO()
    state = tmpdir("txout")
    board = SimBoard({"evses": EVSES}, state, stdin=False, out=out)
    dm = make_dm(path=state + "/dm", evses=EVSES)
    from flexcharge.core.blocks.g_availability.status import Status as S

    class St(Station):
        def report(self, event, fields):
            Station.report(self, event, fields)
            board.indicator.report(event, fields)

    st = St(board, dm)
    board.station = st
    txs = Transactions(st, S(st), FakeAuth())
    txs.background = False
    board.listener = txs.on_hw_event
    txs.start()
    cmd(board, cmd="plug", evse=1, connector=1)
    cmd(board, cmd="ev", evse=1, state="C")
    tag(st, board, "AA", evse=1)
    lines = [json.loads(l) for l in out.getvalue().splitlines()]
    pil = [l for l in lines if l["event"] == "pilot"]
    assert {"event": "pilot", "evse": 1, "duty": 53.3, "contactor": True} in pil
    tr = [l for l in lines if l["event"] == "transaction"]
    assert tr[0]["type"] == "Started" and tr[0]["evse"] == 1 and tr[0]["seqNo"] == 0
    assert tr[0]["id"] == txs.active(1).id and tr[0]["triggerReason"] == "Authorized"


def test_ev_side_disconnect_unlock_on_ev_side_disconnect():
    # E09.FR.01/02/03 (TC_E_24_CS, TC_E_25_CS): the EV leaves (pilot A), the cable stays in the socket.
    for unlock in ("true", "false"):
        st, txs, board, auth = make()
        setv(st, "OCPPCommCtrlr", "UnlockOnEVSideDisconnect", unlock)
        hw = st.evses[0].connectors[0].hw
        cmd(board, cmd="plug", evse=1, connector=1)
        tag(st, board, "AA", evse=1)
        cmd(board, cmd="ev", evse=1, state="C")
        assert txs.active(1) is not None and hw.locked
        cmd(board, cmd="ev", evse=1, state="A")
        deliver(txs)
        end = st.sent()[-1]
        assert end["eventType"] == "Ended" and end["triggerReason"] == "EVCommunicationLost"
        assert end["transactionInfo"]["chargingState"] == "Idle"
        assert end["transactionInfo"]["stoppedReason"] == "EVDisconnected"
        assert hw.locked == (unlock == "false")  # E09.FR.02 unlock / E09.FR.03 keep locked
        if unlock == "false":
            tag(st, board, "CC", evse=1)  # someone else (not authorized): stays locked
            assert hw.locked
            tag(st, board, "AA", evse=1)  # the idToken that started it unlocks (E09.FR.03)
            assert not hw.locked and txs.active(1) is None
