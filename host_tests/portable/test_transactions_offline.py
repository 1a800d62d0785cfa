# Offline queueing (E04, E11-E13) and power loss mid-transaction: every TransactionEvent is
# persisted before it is sent, delivered once and in seqNo order, and a transaction cut by
# a power loss is ended at the next boot -- never dropped.
from support import run, tmpdir
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected
from test_transactions import make, cmd, tag, deliver, queued, seq_ok, check_schema, setv, T0


def session(st, board, evse=1):
    cmd(board, cmd="plug", evse=evse, connector=1)
    tag(st, board, "AA", evse=evse)
    cmd(board, cmd="ev", evse=evse, state="C")
    cmd(board, cmd="load", evse=evse, watts=7000)


def test_whole_session_offline_then_delivered_once_in_order():
    # TC_E_43 / E12: transaction during an offline period; all events offline=true
    st, txs, board, auth = make(online=False)
    session(st, board)
    board.t[0] += 600000
    txs.tick(T0 + 60)  # TxUpdatedInterval 60: one periodic Updated
    tag(st, board, "AA", evse=1)
    cmd(board, cmd="unplug", evse=1, connector=1)
    assert st.sent() == [] and len(txs.queue) >= 4
    deliver(txs)  # still offline: nothing goes
    assert st.sent() == []
    st.online = True
    deliver(txs)
    sent = st.sent()
    check_schema(sent)
    by = seq_ok(sent)
    assert len(by) == 1 and all(p.get("offline") is True for p in sent)
    assert sent[0]["eventType"] == "Started" and sent[-1]["eventType"] == "Ended"
    assert "MeterValuePeriodic" in [p["triggerReason"] for p in sent]
    assert len(txs.queue) == 0 and queued(txs) == []
    deliver(txs)
    assert len(st.sent()) == len(sent)  # nothing twice


def test_connection_loss_during_transaction_marks_only_offline_events():
    # TC_E_40 / E11
    st, txs, board, auth = make()
    session(st, board)
    deliver(txs)
    n = len(st.sent())
    st.online = False
    txs.tick(T0 + 60)
    txs.tick(T0 + 120)
    st.online = True
    deliver(txs)
    later = st.sent()[n:]
    assert len(later) == 2 and all(p["offline"] and p["triggerReason"] == "MeterValuePeriodic" for p in later)
    assert all("offline" not in p for p in st.sent()[:n])
    seq_ok(st.sent())


def test_retry_until_message_attempts_then_drop_and_continue():
    # TC_E_41 / TC_E_50 (E13.FR.01-04): MessageAttempts transmissions, then the next message
    st, txs, board, auth = make()
    setv(st, "OCPPCommCtrlr", "MessageAttempts", "3", var_instance="TransactionEvent")
    setv(st, "OCPPCommCtrlr", "MessageAttemptInterval", "0", var_instance="TransactionEvent")
    tries = []

    def answer(a, p):
        if a != "TransactionEvent":
            return {}
        tries.append(p["seqNo"])
        if p["seqNo"] == 0:
            return CallError("InternalError", "boom") if len(tries) % 2 else CallTimeout("no answer")
        return {}

    st.answer = answer
    session(st, board)
    deliver(txs)
    assert tries[:3] == [0, 0, 0] and tries[3:] == [1]  # dropped after 3, then in order
    assert len(txs.queue) == 0


def test_retry_success_before_max_attempts():
    # TC_E_42 / TC_E_51
    st, txs, board, auth = make()
    setv(st, "OCPPCommCtrlr", "MessageAttemptInterval", "0", var_instance="TransactionEvent")
    tries = []

    def answer(a, p):
        if a != "TransactionEvent":
            return {}
        tries.append(p["seqNo"])
        return CallError("InternalError", "x") if len(tries) == 1 else {}

    st.answer = answer
    session(st, board)
    deliver(txs)
    assert tries == [0, 0, 1] and len(txs.queue) == 0


def test_link_lost_while_sending_keeps_the_event_without_counting_an_attempt():
    st, txs, board, auth = make()
    setv(st, "OCPPCommCtrlr", "MessageAttempts", "1", var_instance="TransactionEvent")
    drop = [True]

    def answer(a, p):
        if drop[0] and a == "TransactionEvent":
            drop[0] = False
            return NotConnected("connection lost")
        return {}

    st.answer = answer
    session(st, board)
    deliver(txs)
    assert st.sent() == [] and len(txs.queue) == 2  # kept; one attempt was not used up
    deliver(txs)
    assert [p["seqNo"] for p in st.sent()] == [0, 1]


def test_power_loss_ends_the_transaction_at_next_boot_with_next_seqno():
    state = tmpdir("pl")
    st, txs, board, auth = make(state=state, online=False)
    session(st, board)
    tid = txs.active(1).id
    n = len(queued(txs))
    # power cut: nothing more runs; same state directory at the next boot
    st2, txs2, board2, _ = make(state=state, online=False)
    assert txs2.active(1) is None  # ended, not resumed (OCPP 2.0.1 has no resumption)
    q = queued(txs2)
    assert len(q) == n + 1
    end = q[-1]
    assert end["eventType"] == "Ended" and end["transactionInfo"]["transactionId"] == tid
    assert end["seqNo"] == n and end["triggerReason"] == "AbnormalCondition"
    assert end["transactionInfo"]["stoppedReason"] == "PowerLoss"
    assert end["meterValue"][-1]["sampledValue"][0]["context"] == "Transaction.End"
    st2.online = True
    deliver(txs2)
    seq_ok(st2.sent())
    check_schema(st2.sent())
    # a third boot finds nothing to recover
    st3, txs3, _, _ = make(state=state, online=False)
    assert queued(txs3) == [] and txs3.all_active() == []


def test_reboot_cause_gives_stopped_reason_reboot():
    state = tmpdir("rb")
    st, txs, board, auth = make(state=state, online=False)
    session(st, board)
    board.storage.write("reset_cause", "watchdog")
    st2, txs2, _, _ = make(state=state, online=False)
    assert queued(txs2)[-1]["transactionInfo"]["stoppedReason"] == "Reboot"


def test_cut_between_queue_entry_and_record_reconciles_seqno():
    state = tmpdir("cut")
    st, txs, board, auth = make(state=state, online=False)
    session(st, board)
    txs.store.save = lambda tx: None  # the cut: queue entries written, record not updated
    txs.tick(T0 + 60)
    txs.tick(T0 + 120)
    st2, txs2, _, _ = make(state=state, online=False)
    seq_ok(queued(txs2))  # contiguous: no seqNo reused, none skipped
    assert queued(txs2)[-1]["eventType"] == "Ended"


def test_started_queued_but_record_never_written_is_still_ended():
    state = tmpdir("orph")
    st, txs, board, auth = make(state=state, online=False, start=True)
    txs.store.save = lambda tx: None
    session(st, board)
    board.storage.remove("tx.1")
    st2, txs2, _, _ = make(state=state, online=False)
    q = queued(txs2)
    seq_ok(q)
    assert q[0]["eventType"] == "Started" and q[-1]["eventType"] == "Ended"
    assert q[-1]["transactionInfo"]["stoppedReason"] == "PowerLoss"


def test_cut_after_ended_queued_does_not_end_twice():
    state = tmpdir("end2")
    st, txs, board, auth = make(state=state, online=False)
    session(st, board)
    txs.store.remove = lambda evse: None  # Ended queued, record removal lost
    tag(st, board, "AA", evse=1)
    assert board.storage.read("tx.1") is not None
    st2, txs2, _, _ = make(state=state, online=False)
    q = queued(txs2)
    assert [p["eventType"] for p in q].count("Ended") == 1
    assert board.storage.read("tx.1") is None


def test_full_queue_drops_periodic_meter_values_without_seqno_gaps():
    st, txs, board, auth = make(online=False)
    txs.queue.limit = 3
    session(st, board)  # Started + Updated(Charging)
    for i in range(1, 6):
        txs.tick(T0 + 60 * i)
    tag(st, board, "AA", evse=1)  # Ended is always queued
    q = queued(txs)
    seq_ok(q)
    assert [p["eventType"] for p in q] == ["Started", "Updated", "Updated", "Ended"]


def test_tx_before_accepted_enabled():
    st, txs, board, auth = make()
    st.registration = "Pending"
    cmd(board, cmd="plug", evse=1, connector=1)
    cmd(board, cmd="ev", evse=1, state="C")
    tag(st, board, "AA", evse=1)
    assert txs.active(1) is None and not board.contactors[1].is_closed()
    setv(st, "TxCtrlr", "TxBeforeAcceptedEnabled", "true")
    tag(st, board, "AA", evse=1)
    assert txs.active(1) is not None
