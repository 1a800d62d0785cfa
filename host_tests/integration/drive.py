# Shared steps of the integration tests that drive a session: the simulated hardware commands
# (DESIGN.md, launcher stdin), the CSMS's idToken database, and TransactionEvent lookups.
import time

CALLRESULT = 3
OFFER = 53.3  # % duty offering the EVSE's 32 A (IEC 61851-1 Table A.8: 32 / 0.6)


class Tokens:
    """The CSMS's idToken database: {idToken: status or (status, groupIdToken)}; unknown ids are Unknown.
    Answers AuthorizeRequest and the idTokenInfo of a TransactionEventRequest that carries an idToken
    (C01, C10.FR.05 / C12.FR.06: the station updates its cache from both). tx_table (optional) answers
    TransactionEvent differently from Authorize."""

    def __init__(self, table, tx_table=None):
        self.table = dict(table)
        self.tx_table = dict(tx_table) if tx_table is not None else None

    @staticmethod
    def _info(table, t):
        v = table.get(t["idToken"])
        if v is None:
            return {"status": "Unknown"}
        if isinstance(v, str):
            return {"status": v}
        return {"status": v[0], "groupIdToken": {"idToken": v[1], "type": "Central"}}

    def info(self, t):
        return self._info(self.table, t)

    def install(self, csms):
        tx = self.tx_table if self.tx_table is not None else self.table
        csms.responders["Authorize"] = lambda p, s: {"idTokenInfo": self._info(self.table, p["idToken"])}
        csms.responders["TransactionEvent"] = lambda p, s: (
            {"idTokenInfo": self._info(tx, p["idToken"])} if "idToken" in p else {})
        return self


def ok(csms, action, payload, timeout=5):
    reply = csms.call(action, payload, timeout=timeout)
    assert reply.kind == CALLRESULT, "%s answered with %r" % (action, reply)
    return reply.payload


def set_var(csms, component, variable, value):
    res = ok(csms, "SetVariables", {"setVariableData": [
        {"component": {"name": component}, "variable": {"name": variable}, "attributeValue": str(value)}]})
    assert res["setVariableResult"][0]["attributeStatus"] == "Accepted", res


def tok(id_token, type_="ISO14443"):
    return {"idToken": id_token, "type": type_}


def tag(st, id_token, evse=None):
    cmd = {"cmd": "tag", "id": id_token}
    if evse is not None:
        cmd["evse"] = evse
    st.send(cmd)


def plug(st, evse, connector=1):
    st.send({"cmd": "plug", "evse": evse, "connector": connector})


def unplug(st, evse, connector=1):
    st.send({"cmd": "unplug", "evse": evse, "connector": connector})


def ev(st, evse, state):
    st.send({"cmd": "ev", "evse": evse, "state": state})


def load(st, evse, watts):
    st.send({"cmd": "load", "evse": evse, "watts": watts})


def authorized(st, id_token, since, timeout=10):
    """The station's `authorize` event for id_token after `since` (its decision: status)."""
    return st.wait_event("authorize", lambda e: e.get("id") == id_token, since=since, timeout=timeout)


def tx_calls(csms, since=0, tid=None, etype=None):
    return [f for f in csms.calls("TransactionEvent", since=since)
            if (tid is None or f.payload["transactionInfo"]["transactionId"] == tid)
            and (etype is None or f.payload["eventType"] == etype)]


def wait_tx(csms, etype, since=0, tid=None, timeout=10, pred=None, count=1):
    """The count-th TransactionEvent of eventType etype after `since` (of transaction tid, matching pred)."""
    def find():
        fs = [f for f in tx_calls(csms, since, tid, etype) if pred is None or pred(f.payload)]
        return fs[count - 1] if len(fs) >= count else None
    return csms.wait_for(find, timeout, "TransactionEvent %s (tid %s)" % (etype, tid))


def tid_of(frame):
    return frame.payload["transactionInfo"]["transactionId"]


def charge(st, evse, since, timeout=10):
    """After an Accepted authorization on a plugged EVSE: the pilot offers current, the EV closes the
    power path (TxStartPoint PowerPathClosed, the default) -> the station's `transaction` Started event."""
    st.wait_event("pilot", lambda e: e["evse"] == evse and e["duty"] == OFFER, since=since, timeout=timeout)
    ev(st, evse, "C")
    load(st, evse, 7000)
    st.wait_event("pilot", lambda e: e["evse"] == evse and e["contactor"], since=since, timeout=timeout)
    return st.wait_event("transaction", lambda e: e["evse"] == evse and e["type"] == "Started", since=since,
                         timeout=timeout)


def drained(csms, timeout=10):
    """Every queued TransactionEvent delivered and its answer applied: the station pops a queue entry and
    applies its response (idTokenInfo -> cache) in one step, so messagesInQueue false means both happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not ok(csms, "GetTransactionStatus", {})["messagesInQueue"]:
            return
        time.sleep(0.1)
    raise AssertionError("TransactionEvents still queued after %ss" % timeout)
