# G03/G04 ChangeAvailability (core/blocks/g_availability/availability.py) with a fake
# Transactions block: TC_G_03..19/21_CS status paths, Scheduled, persistence across reboot.
from fake_station import Handlers
from fake_tx import make
from flexcharge.core.blocks.g_availability.availability import Availability


def setup(path=None):
    st, status, tx = make(path)
    av = Availability(st, status, tx)
    status.start()
    for cb in st.on_ready:
        cb(True)  # what Station.ready() does after the boot: reports every connector
    st.drain()
    st.calls[:] = []
    return st, status, tx, av, Handlers(st, av)


def ca(h, op, evse=None, conn=None):
    p = {"operationalStatus": op}
    if evse is not None:
        p["evse"] = {"id": evse}
        if conn is not None:
            p["evse"]["connectorId"] = conn
    return h("ChangeAvailability", p)["status"]


def sn(st):
    return sorted((p["evseId"], p["connectorId"], p["connectorStatus"]) for p in st.sent("StatusNotification"))


def test_station_inoperative_then_operative():
    # TC_G_05_CS / TC_G_06_CS
    st, status, tx, av, h = setup()
    assert ca(h, "Inoperative") == "Accepted"
    st.drain()
    assert sn(st) == [(1, 1, "Unavailable"), (1, 2, "Unavailable"), (2, 1, "Unavailable")]
    assert tx.blocked(1) and tx.blocked(2)
    assert st.dm.get("ChargingStation", "AvailabilityState") == "Unavailable"
    st.calls[:] = []
    assert ca(h, "Operative") == "Accepted"
    st.drain()
    assert sn(st) == [(1, 1, "Available"), (1, 2, "Available"), (2, 1, "Available")]
    assert not tx.blocked(1) and not tx.blocked(2)


def test_evse_inoperative_only_that_evse():
    # TC_G_03_CS / TC_G_04_CS
    st, status, tx, av, h = setup()
    assert ca(h, "Inoperative", 1) == "Accepted"
    st.drain()
    assert sn(st) == [(1, 1, "Unavailable"), (1, 2, "Unavailable")]
    assert st.status_of(2, 1) == "Available"
    assert tx.blocked(1) and not tx.blocked(2)
    assert st.dm.get("EVSE", "AvailabilityState", evse=1) == "Unavailable"
    st.calls[:] = []
    assert ca(h, "Operative", 1) == "Accepted"
    st.drain()
    assert sn(st) == [(1, 1, "Available"), (1, 2, "Available")]


def test_connector_inoperative_leaves_the_evse_usable():
    # TC_G_07_CS / TC_G_08_CS
    st, status, tx, av, h = setup()
    assert ca(h, "Inoperative", 1, 2) == "Accepted"
    st.drain()
    assert sn(st) == [(1, 2, "Unavailable")]
    assert st.dm.get("Connector", "AvailabilityState", evse=1, connector=2) == "Unavailable"
    assert not tx.blocked(1)  # connector 1 still takes a car
    assert ca(h, "Inoperative", 2, 1) == "Accepted"
    assert tx.blocked(2)  # its only connector is off
    st.drain()
    st.calls[:] = []
    assert ca(h, "Operative", 1, 2) == "Accepted"
    st.drain()
    assert sn(st) == [(1, 2, "Available")]


def test_same_state_is_accepted_without_messages():
    # TC_G_09/10/12/13/15/16_CS
    st, status, tx, av, h = setup()
    assert ca(h, "Operative", 1) == "Accepted"
    assert ca(h, "Operative") == "Accepted"
    assert ca(h, "Operative", 1, 1) == "Accepted"
    st.drain()
    assert sn(st) == []
    ca(h, "Inoperative", 1)
    st.drain()
    st.calls[:] = []
    assert ca(h, "Inoperative", 1) == "Accepted"
    st.drain()
    assert sn(st) == []
    assert st.status_of(1, 1) == "Unavailable"


def test_unknown_evse_or_connector_rejected():
    st, status, tx, av, h = setup()
    assert ca(h, "Inoperative", 9) == "Rejected"
    assert ca(h, "Inoperative", 1, 9) == "Rejected"
    assert ca(h, "Operative", 9) == "Rejected"
    assert av.off == set()


def test_scheduled_while_transaction_then_applied_when_it_ends():
    # TC_G_11_CS: Scheduled; the connector stays Occupied until the transaction ends
    st, status, tx, av, h = setup()
    st.hw[(1, 1)].is_plugged = True
    tx.begin(1, 1)
    status.refresh()
    assert ca(h, "Inoperative", 1) == "Scheduled"
    assert st.status_of(1, 1) == "Occupied"
    assert st.status_of(1, 2) == "Unavailable"  # not the transaction's connector
    assert not tx.blocked(1)  # the running transaction goes on
    st.drain()
    st.calls[:] = []
    tx.end(1)  # last transaction: on_idle refreshes
    st.drain()
    assert (1, 1, "Unavailable") in sn(st)  # cable still in, still Unavailable (step 7)
    assert tx.blocked(1)


def test_station_scheduled_applies_to_idle_evses_at_once():
    # TC_G_14_CS step 3: EVSEs without a transaction become Unavailable at once
    st, status, tx, av, h = setup()
    tx.begin(1, 1)
    assert ca(h, "Inoperative") == "Scheduled"
    assert st.status_of(2, 1) == "Unavailable"
    assert st.status_of(1, 1) != "Unavailable"
    tx.end(1)
    assert st.status_of(1, 1) == "Unavailable"


def test_connector_scheduled_only_for_the_transaction_connector():
    # TC_G_17_CS
    st, status, tx, av, h = setup()
    tx.begin(1, 1)
    assert ca(h, "Inoperative", 1, 1) == "Scheduled"
    assert ca(h, "Inoperative", 1, 2) == "Accepted"


def test_persists_across_reboot():
    # TC_G_18_CS / TC_G_19_CS / TC_G_21_CS
    st, status, tx, av, h = setup()
    ca(h, "Inoperative", 1)
    ca(h, "Inoperative", 2, 1)
    st2, status2, tx2, av2, h2 = setup(st.path)
    assert st2.statuses() == [(1, 1, "Unavailable"), (1, 2, "Unavailable"), (2, 1, "Unavailable")]
    ca(h2, "Operative", 2, 1)
    st3, status3, tx3, av3, h3 = setup(st.path)
    assert st3.statuses() == [(1, 1, "Unavailable"), (1, 2, "Unavailable"), (2, 1, "Available")]


def test_levels_are_separate_settings():
    # Issue 8 (G03/G04 nesting): station, EVSE and connector settings are independent;
    # effective = all operative. Operative on one level leaves the others as they were.
    st, status, tx, av, h = setup()
    ca(h, "Inoperative", 1, 1)
    ca(h, "Inoperative")
    assert ca(h, "Operative", 1) == "Accepted"
    assert st.status_of(1, 1) == "Unavailable"  # the station is still off
    assert ca(h, "Operative") == "Accepted"
    # the connector-level Inoperative set first is still in force
    assert st.statuses() == [(1, 1, "Unavailable"), (1, 2, "Available"), (2, 1, "Available")]
    assert ca(h, "Operative", 1, 1) == "Accepted"
    assert st.statuses() == [(1, 1, "Available"), (1, 2, "Available"), (2, 1, "Available")]


def test_evse_operative_keeps_an_earlier_connector_inoperative():
    st, status, tx, av, h = setup()
    assert ca(h, "Inoperative", 1, 2) == "Accepted"
    assert ca(h, "Inoperative", 1) == "Accepted"
    assert st.statuses() == [(1, 1, "Unavailable"), (1, 2, "Unavailable"), (2, 1, "Available")]
    assert ca(h, "Operative", 1) == "Accepted"
    assert st.statuses() == [(1, 1, "Available"), (1, 2, "Unavailable"), (2, 1, "Available")]
    assert tx.blocked(1) is False  # connector 1 is usable
    # and after a reboot (persisted as separate settings)
    st2, status2, tx2, av2, h2 = setup(st.path)
    assert st2.statuses() == [(1, 1, "Available"), (1, 2, "Unavailable"), (2, 1, "Available")]


def test_change_callbacks_and_fault_precedence():
    st, status, tx, av, h = setup()
    seen = []
    av.on_change.append(lambda: seen.append(1))
    st.hw[(2, 1)].fault = "GroundFailure"
    ca(h, "Inoperative")
    assert seen == [1]
    assert st.status_of(2, 1) == "Faulted"  # a fault outranks availability
    ca(h, "Inoperative")
    assert seen == [1]  # no change, no callback
