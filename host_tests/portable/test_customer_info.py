# N09/N10 (core/blocks/n_diagnostics/customer.py): chunking with tbc, queued TransactionEvents
# reported and their idToken removed (persistently), cache cleared.
from support import tmpdir
from fake_station import FakeStation, Handlers

from flexcharge.hal.storage import FileStorage
from flexcharge.core.blocks.c_authorization.cache import AuthCache
from flexcharge.core.blocks.c_authorization import idtoken
from flexcharge.core.blocks.d_local_auth_list.local_list import LocalList
from flexcharge.core.blocks.e_transactions.txqueue import TxQueue
from flexcharge.core.blocks.n_diagnostics.customer import CustomerInformation, MAX_DATA


class Auth:
    def __init__(self, storage, log):
        self.cache = AuthCache(storage, log)
        self.local_list = LocalList(storage, log)
        self._recent = []


class Tx:
    def __init__(self, storage, log):
        self.queue = TxQueue(storage, log)
        self.slots = ()


TOK = {"idToken": "AA11", "type": "ISO14443"}


def _setup():
    st = FakeStation()
    storage = FileStorage(tmpdir("cust"))
    auth, tx = Auth(storage, st.log), Tx(storage, st.log)
    return st, storage, auth, tx, Handlers(st, CustomerInformation(st, auth, tx))


def _event(tid, seq, tok=None):
    p = {"eventType": "Updated", "timestamp": "2026-11-18T10:00:00.000Z", "triggerReason": "MeterValuePeriodic",
         "seqNo": seq, "transactionInfo": {"transactionId": tid}}
    if tok:
        p["idToken"] = tok
    return p


def test_queued_events_reported_then_idtoken_removed_persistently():
    st, storage, auth, tx, h = _setup()
    auth.cache.put(idtoken.key(TOK), {"status": "Accepted"}, st.now())
    for i in range(30):  # enough lines for several 512-character messages
        tx.queue.push(_event("T%d" % i, 0, TOK))
    tx.queue.push(_event("OTHER", 0, {"idToken": "BB", "type": "ISO14443"}))
    r = h.reply("CustomerInformation", {"requestId": 5, "report": True, "clear": True, "idToken": TOK})
    assert r.payload == {"status": "Accepted"}
    h.then(r)
    parts = st.sent("NotifyCustomerInformation")
    assert len(parts) > 2
    assert [p["seqNo"] for p in parts] == list(range(len(parts)))
    assert [p["tbc"] for p in parts] == [True] * (len(parts) - 1) + [False]
    assert all(len(p["data"]) <= MAX_DATA for p in parts)
    text = "".join(p["data"] for p in parts)
    assert text.count("QueuedTransactionEvent") == 30 and "AuthorizationCache" in text and "OTHER" not in text
    # After the clear: the events are still queued (billing data), without the idToken; the other keeps its own.
    q2 = TxQueue(storage, st.log)
    assert len(q2) == 31
    toks = [q2.read(n).get("idToken") for n in storage.names("tq.")]
    assert toks.count(None) == 30 and {"idToken": "BB", "type": "ISO14443"} in toks
    assert AuthCache(storage, st.log).info(idtoken.key(TOK), st.now(), None) is None
    st.calls = []
    h.then(h.reply("CustomerInformation", {"requestId": 6, "report": True, "clear": False, "idToken": TOK}))
    assert [p["data"] for p in st.sent("NotifyCustomerInformation")] == [""]


def test_invalid_without_identifier_or_action():
    st, storage, auth, tx, h = _setup()
    assert h("CustomerInformation", {"requestId": 1, "report": True, "clear": False})["status"] == "Invalid"
    assert h("CustomerInformation", {"requestId": 1, "report": False, "clear": False, "idToken": TOK})["status"] == "Invalid"
