# B11/B12 Reset (core/blocks/b_provisioning/reset.py) with a fake Transactions block:
# TC_B_20..27/41_CS paths (station and EVSE, Immediate and OnIdle).
import asyncio

from support import run
from fake_station import Handlers
from fake_tx import make
from flexcharge.core.blocks.b_provisioning.reset import Reset


def setup():
    st, status, tx = make()
    rs = Reset(st, tx, status)
    status.start()
    return st, status, tx, rs, Handlers(st, rs)


def test_onidle_without_transaction_resets_after_the_response():
    # TC_B_20_CS B11.FR.01/03: Accepted, then reboot with RemoteReset
    st, status, tx, rs, h = setup()
    r = h.reply("Reset", {"type": "OnIdle"})
    assert r.payload == {"status": "Accepted"}
    assert st.resets == []  # not before the response is sent
    h.then(r)
    assert st.resets == ["RemoteReset"]


def test_immediate_ends_transactions_then_resets():
    # TC_B_22_CS B12.FR.02/04
    st, status, tx, rs, h = setup()
    tx.begin(1)
    tx.begin(2)
    r = h.reply("Reset", {"type": "Immediate"})
    assert r.payload == {"status": "Accepted"}
    assert tx.calls == []
    h.then(r)
    assert sorted(a for n, a in tx.calls) == [(1, "ImmediateReset", "ResetCommand"), (2, "ImmediateReset", "ResetCommand")]
    assert st.resets == ["RemoteReset"] and tx.idle()


def test_immediate_resets_even_if_a_stop_fails():
    st, status, tx, rs, h = setup()
    tx.begin(1)

    async def broken(evse_id, a, b):
        raise OSError("flash full")

    tx.stop = broken
    h.then(h.reply("Reset", {"type": "Immediate"}))
    assert st.resets == ["RemoteReset"]


def test_onidle_with_transactions_is_scheduled_until_idle():
    # TC_B_21_CS / TC_B_41_CS B12.FR.01/03: Scheduled, ScheduledReset once the last one ends
    st, status, tx, rs, h = setup()
    tx.begin(1)
    tx.begin(2)
    assert h("Reset", {"type": "OnIdle"}) == {"status": "Scheduled"}
    assert tx.blocked(1) and tx.blocked(2)  # no new sessions meanwhile
    tx.end(1)
    st.drain()
    assert st.resets == []
    tx.end(2)
    st.drain()
    assert st.resets == ["ScheduledReset"]


def test_immediate_overrides_a_scheduled_reset():
    st, status, tx, rs, h = setup()
    tx.begin(1)
    h("Reset", {"type": "OnIdle"})
    h.then(h.reply("Reset", {"type": "Immediate"}))
    st.drain()
    assert st.resets == ["RemoteReset"]  # once, not again from on_idle


def test_evse_reset_without_transaction():
    # TC_B_25_CS B11.FR.08: Accepted; the EVSE is re-initialised, the station keeps running
    st, status, tx, rs, h = setup()
    seen = []

    def reinit(evse_id):
        seen.append((evse_id, st.status_of(evse_id, 1)))

    rs.on_evse_reset.append(reinit)
    r = h.reply("Reset", {"type": "OnIdle", "evseId": 2})
    assert r.payload == {"status": "Accepted"}
    h.then(r)
    assert seen == [(2, "Unavailable")]
    assert st.status_of(2, 1) == "Available" and st.resets == []
    assert not tx.blocked(2)


def test_evse_reset_immediate_with_transaction():
    # TC_B_27_CS B12.FR.08
    st, status, tx, rs, h = setup()
    tx.begin(1)
    tx.begin(2)
    seen = []

    async def reinit(evse_id):
        seen.append(evse_id)

    rs.on_evse_reset.append(reinit)
    r = h.reply("Reset", {"type": "Immediate", "evseId": 1})
    assert r.payload == {"status": "Accepted"}
    h.then(r)
    assert tx.calls == [("stop", (1, "ImmediateReset", "ResetCommand"))]
    assert seen == [1] and tx.active(2) is not None and st.resets == []


def test_evse_reset_onidle_with_transaction_waits_for_it():
    # TC_B_26_CS B12.FR.07
    st, status, tx, rs, h = setup()
    rs.POLL_S = 0.01
    tx.begin(1)
    seen = []
    rs.on_evse_reset.append(seen.append)

    async def go():
        r = await h.router.dispatch("Reset", {"type": "OnIdle", "evseId": 1})
        assert r.payload == {"status": "Scheduled"}
        await r.then
        waiter = asyncio.create_task(st.pending.pop(0))
        await asyncio.sleep(0.05)
        assert seen == [] and tx.blocked(1)
        tx.end(1)
        await asyncio.wait_for(waiter, 1)

    run(go())
    assert seen == [1] and not tx.blocked(1) and st.resets == []


def test_unknown_evse_rejected():
    st, status, tx, rs, h = setup()
    assert h("Reset", {"type": "Immediate", "evseId": 5}) == {"status": "Rejected"}
    assert st.resets == []
