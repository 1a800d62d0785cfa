# The persisted TransactionEvent queue: order, per-transaction bookkeeping, persistence,
# atomic entries, bounded RAM.
from support import tmpdir
from fake_station import FakeLog
from flexcharge.hal.storage import FileStorage
from flexcharge.core.blocks.e_transactions.txqueue import TxQueue, entry_name, parse_name


def ev(tid, seq, etype="Updated"):
    return {"eventType": etype, "timestamp": "2026-01-01T00:00:00.000Z", "triggerReason": "Trigger",
            "seqNo": seq, "transactionInfo": {"transactionId": tid}}


def test_names_round_trip_and_sort_in_order():
    n = entry_name(12, "abc", 3, "Ended")
    assert n == "tq.00000012.abc.3.E" and parse_name(n) == (12, "abc", 3, "E")
    assert parse_name("tx.1") is None and parse_name("tq.x.y.z.S") is None
    assert entry_name(9, "z", 0, "Started") < entry_name(10, "a", 0, "Started")


def test_fifo_order_and_removal_only_on_pop():
    st = FileStorage(tmpdir("q"))
    q = TxQueue(st, FakeLog())
    for i in range(150):  # more than one window of names
        q.push(ev("t%d" % (i % 3), i // 3))
    assert len(q) == 150
    seen = []
    while True:
        h = q.head()
        if h is None:
            break
        name, p = h
        assert q.head()[0] == name  # head is stable until popped
        seen.append((p["transactionInfo"]["transactionId"], p["seqNo"]))
        q.pop(name)
    assert seen == [("t%d" % (i % 3), i // 3) for i in range(150)]
    assert len(q) == 0 and st.names("tq.") == []


def test_persistence_and_per_transaction_counts():
    d = tmpdir("qp")
    q = TxQueue(FileStorage(d), FakeLog())
    q.push(ev("a", 0, "Started"))
    q.push(ev("b", 0, "Started"))
    q.push(ev("a", 1, "Ended"))
    q2 = TxQueue(FileStorage(d), FakeLog())  # reboot
    assert len(q2) == 3 and q2.has("a") and q2.has("b") and not q2.has("c")
    assert q2.summary()["a"][:2] == (1, "E") and q2.summary()["b"][:2] == (0, "S")
    name, p = q2.head()
    assert p["transactionInfo"]["transactionId"] == "a" and p["seqNo"] == 0
    q2.pop(name)
    q2.push(ev("b", 1))  # numbering continues after the highest entry
    order = [q2.head()]
    names = FileStorage(d).names("tq.")
    assert names[-1].endswith(".b.1.U") and len(names) == 3
    assert order[0][1]["transactionInfo"]["transactionId"] == "b"
    q2.pop(names[0])
    q2.pop(names[1])
    assert q2.has("b")
    q2.pop(names[2])
    assert not q2.has("b") and len(q2) == 0


def test_entry_is_compact_json_and_no_temp_files_left():
    d = tmpdir("qc")
    st = FileStorage(d)
    q = TxQueue(st, FakeLog())
    name = q.push(ev("a", 0))
    raw = st.read(name)
    assert b": " not in raw and b", " not in raw  # compact separators: fewer flash bytes
    import os
    assert [n for n in os.listdir(d) if n.endswith(".tmp")] == []


def test_unreadable_entry_is_dropped_not_fatal():
    d = tmpdir("qb")
    st = FileStorage(d)
    q = TxQueue(st, FakeLog())
    st.write(entry_name(1, "a", 0, "Started"), b"{not json")
    q = TxQueue(st, q.log)
    q.push(ev("a", 1))
    name, p = q.head()
    assert p["seqNo"] == 1 and len(q) == 1
    assert q.log.count("E") == 1


def test_full_flag():
    q = TxQueue(FileStorage(tmpdir("qf")), FakeLog(), limit=2)
    q.push(ev("a", 0))
    assert not q.full()
    q.push(ev("a", 1))
    assert q.full()
