# H01–H04 reservations (core/blocks/h_reservation/reservation.py) with a fake Transactions
# block: every ReserveNow/CancelReservation status, expiry, removal, allows()/consume(),
# the Reserved status, persistence.
from fake_station import Handlers
from fake_tx import make
from flexcharge.core import timefmt
from flexcharge.core.blocks.g_availability.availability import Availability
from flexcharge.core.blocks.h_reservation.reservation import Reservation

TOK_A = {"idToken": "AAAA", "type": "ISO14443"}
TOK_B = {"idToken": "BBBB", "type": "ISO14443"}
GROUP = {"idToken": "G1", "type": "Central"}


def setup(path=None, non_evse_specific=True, evses=None, online=True):
    st, status, tx = make(path, evses=evses, online=online)
    av = Availability(st, status, tx)
    rs = Reservation(st, status, tx, av)
    if non_evse_specific:
        st.dm.set_internal("ReservationCtrlr", "NonEvseSpecific", "true")
    status.start()
    for cb in st.on_ready:
        cb(True)
    st.drain()
    st.calls[:] = []
    return st, status, tx, av, rs, Handlers(st, av, rs)


def reserve(st, h, rid, evse=None, token=TOK_A, group=None, ttl=60, ctype=None):
    p = {"id": rid, "expiryDateTime": timefmt.iso(st.t + ttl), "idToken": token}
    if evse is not None:
        p["evseId"] = evse
    if group is not None:
        p["groupIdToken"] = group
    if ctype is not None:
        p["connectorType"] = ctype
    return h("ReserveNow", p)["status"]


def updates(st):
    out = st.sent("ReservationStatusUpdate")
    return [(p["reservationId"], p["reservationUpdateStatus"]) for p in out]


def test_reserve_specific_evse_accepted_and_consumed_by_its_token():
    # TC_H_01_CS: Reserved, then the token's transaction makes it Available again
    st, status, tx, av, rs, h = setup()
    assert reserve(st, h, 7, evse=1) == "Accepted"
    st.drain()
    sent = sorted((p["evseId"], p["connectorId"], p["connectorStatus"]) for p in st.sent("StatusNotification"))
    assert sent == [(1, 1, "Reserved"), (1, 2, "Reserved")]
    assert st.status_of(2, 1) == "Available"
    assert rs.allows(1, TOK_A) and not rs.allows(1, TOK_B)  # TC_H_02_CS
    assert rs.allows(2, TOK_B)
    assert rs.reserved_evse(TOK_A) == 1
    assert rs.consume(1, TOK_B) is None
    assert rs.consume(1, TOK_A) == 7  # H03.FR.09, reservationId for the TransactionEvent
    assert st.status_of(1, 1) == "Available"
    assert rs.items == [] and rs.allows(1, TOK_B)


def test_plug_in_keeps_reserved():
    # G01.FR.09 (errata): a plug-in on a Reserved connector does not change its status
    st, status, tx, av, rs, h = setup()
    reserve(st, h, 1, evse=2)
    st.hw[(2, 1)].is_plugged = True
    status.refresh()
    assert st.status_of(2, 1) == "Reserved"


def test_occupied_when_reserved_or_in_use_unavailable_faulted():
    st, status, tx, av, rs, h = setup()
    assert reserve(st, h, 1, evse=1) == "Accepted"
    assert reserve(st, h, 2, evse=1, token=TOK_B) == "Occupied"  # TC_H_03_CS H01.FR.11
    tx.begin(2, 1)
    assert reserve(st, h, 3, evse=2) == "Occupied"  # TC_H_04_CS H01.FR.13
    tx.end(2)
    st.hw[(2, 1)].fault = "X"
    assert reserve(st, h, 4, evse=2) == "Faulted"
    st.hw[(2, 1)].fault = None
    h("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 2}})
    assert reserve(st, h, 5, evse=2) == "Unavailable"  # TC_H_06_CS H01.FR.14
    assert reserve(st, h, 6, evse=9) == "Rejected"
    assert [r["id"] for r in rs.items] == [1]


def test_replace_reservation_with_same_id():
    # TC_H_23_CS H01.FR.02
    st, status, tx, av, rs, h = setup()
    reserve(st, h, 5, evse=1)
    assert reserve(st, h, 5, evse=1, token=TOK_B) == "Accepted"
    assert len(rs.items) == 1 and rs.allows(1, TOK_B) and not rs.allows(1, TOK_A)


def test_disabled_or_past_expiry_rejected():
    # TC_H_22_CS H01.FR.01
    st, status, tx, av, rs, h = setup()
    st.dm.set_internal("ReservationCtrlr", "Enabled", "false")
    assert reserve(st, h, 1, evse=1) == "Rejected"
    st.dm.set_internal("ReservationCtrlr", "Enabled", "true")
    assert reserve(st, h, 1, evse=1, ttl=-5) == "Rejected"
    assert reserve(st, h, 1, evse=1) == "Accepted"


def test_unspecified_needs_non_evse_specific():
    # TC_H_13_CS H01.FR.19
    st, status, tx, av, rs, h = setup(non_evse_specific=False)
    assert reserve(st, h, 1) == "Rejected"


def test_unspecified_reservations_until_evses_run_out():
    # TC_H_08_CS, TC_H_14_CS H01.FR.20, TC_H_09_CS
    st, status, tx, av, rs, h = setup()
    assert reserve(st, h, 1) == "Accepted"
    assert st.statuses() == [(1, 1, "Available"), (1, 2, "Available"), (2, 1, "Available")]
    assert rs.allows(1, TOK_B)  # one EVSE still free for AAAA
    assert reserve(st, h, 2, token=TOK_B) == "Accepted"
    # as many reservations as EVSEs: all of them Reserved
    assert st.statuses() == [(1, 1, "Reserved"), (1, 2, "Reserved"), (2, 1, "Reserved")]
    assert reserve(st, h, 3, token={"idToken": "CCCC", "type": "ISO14443"}) == "Occupied"
    assert not rs.allows(1, {"idToken": "CCCC", "type": "ISO14443"})
    assert rs.allows(2, TOK_A) and rs.allows(1, TOK_B)
    assert rs.consume(2, TOK_A) == 1
    assert rs.consume(1, TOK_B) == 2


def test_unspecified_occupied_and_unavailable():
    # TC_H_10_CS (all in use), TC_H_12_CS (station Unavailable)
    st, status, tx, av, rs, h = setup()
    tx.begin(1, 1)
    tx.begin(2, 1)
    assert reserve(st, h, 1) == "Occupied"
    tx.end(1)
    tx.end(2)
    h("ChangeAvailability", {"operationalStatus": "Inoperative"})
    assert reserve(st, h, 1) == "Unavailable"
    for k in st.hw:
        st.hw[k].fault = "X"
    assert reserve(st, h, 1) == "Faulted"


def test_specific_cannot_take_the_last_evse_of_an_unspecified_one():
    st, status, tx, av, rs, h = setup()
    tx.begin(2, 1)
    assert reserve(st, h, 1) == "Accepted"
    assert reserve(st, h, 2, evse=1, token=TOK_B) == "Occupied"


def test_group_id_token():
    # TC_H_19_CS H03.FR.04, TC_H_24_CS H03.FR.06
    st, status, tx, av, rs, h = setup()
    reserve(st, h, 1, evse=1, group=GROUP)
    assert rs.allows(1, TOK_B, GROUP) and not rs.allows(1, TOK_B)
    assert rs.consume(1, TOK_B, "G1") == 1
    reserve(st, h, 2, group=GROUP)
    assert rs.consume(2, TOK_B, GROUP) == 2


def test_connector_type():
    # TC_H_15_CS: a type on the EVSE's other connector -> that connector Unavailable
    st, status, tx, av, rs, h = setup()
    st.dm.set_internal("Connector", "ConnectorType", "cCCS2", evse=1, connector=2)
    assert reserve(st, h, 1, evse=1, ctype="sType2") == "Accepted"
    assert st.status_of(1, 1) == "Reserved" and st.status_of(1, 2) == "Unavailable"
    assert reserve(st, h, 2, evse=2, ctype="cCCS2") == "Rejected"  # EVSE 2 has no CCS
    assert reserve(st, h, 3, ctype="cCCS2") == "Occupied"  # TC_H_16_CS: its only one is reserved


def test_cancel():
    # TC_H_17_CS H02.FR.02, TC_H_18_CS H02.FR.01
    st, status, tx, av, rs, h = setup()
    reserve(st, h, 4, evse=2)
    assert h("CancelReservation", {"reservationId": 1})["status"] == "Rejected"
    st.drain()
    st.calls[:] = []
    assert h("CancelReservation", {"reservationId": 4})["status"] == "Accepted"
    st.drain()
    assert [(p["evseId"], p["connectorStatus"]) for p in st.sent("StatusNotification")] == [(2, "Available")]
    assert updates(st) == []


def test_expiry_sends_expired():
    # TC_H_07_CS H04.FR.01..03
    st, status, tx, av, rs, h = setup()
    reserve(st, h, 8, evse=1, ttl=60)
    assert rs.check() == []
    st.t += 61
    assert rs.check() == [(8, "Expired")]
    st.drain()
    assert updates(st) == [(8, "Expired")]
    assert st.status_of(1, 1) == "Available"
    assert rs.outbox == []


def test_unavailable_removes_reservation():
    # TC_H_21_CS H01.FR.17
    st, status, tx, av, rs, h = setup()
    reserve(st, h, 9, evse=1)
    st.drain()
    st.calls[:] = []
    assert h("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}})["status"] == "Accepted"
    st.drain()
    assert st.status_of(1, 1) == "Unavailable"
    assert updates(st) == [(9, "Removed")]
    h("ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 1}})
    assert st.status_of(1, 1) == "Available"


def test_updates_kept_while_offline_and_across_reboot():
    st, status, tx, av, rs, h = setup()
    reserve(st, h, 3, evse=2, ttl=10)
    reserve(st, h, 4, evse=1, ttl=1000)
    st.online = False
    st.t += 11
    rs.check()
    st.drain()
    assert rs.outbox == [{"reservationId": 3, "reservationUpdateStatus": "Expired"}]
    # reboot: reservation 4 and the undelivered update survive (TC_B_24_CS)
    st2, status2, tx2, av2, rs2, h2 = setup(st.path, online=False)
    assert st2.status_of(1, 1) == "Reserved" and st2.status_of(2, 1) == "Available"
    assert [r["id"] for r in rs2.items] == [4]
    assert len(rs2.outbox) == 1
    st2.online = True
    st2.calls[:] = []
    for cb in st2.on_ready:
        cb(False)
    st2.drain()
    assert updates(st2) == [(3, "Expired")]
    assert rs2.outbox == []


def test_update_payload_shape():
    # ReservationStatusUpdateRequest: reservationId (integer) and reservationUpdateStatus, nothing else
    st, status, tx, av, rs, h = setup()
    reserve(st, h, 1, evse=1, ttl=1)
    st.t += 2
    rs.check()
    st.drain()
    p = st.sent("ReservationStatusUpdate")[0]
    assert sorted(p.keys()) == ["reservationId", "reservationUpdateStatus"]
    assert isinstance(p["reservationId"], int) and p["reservationUpdateStatus"] == "Expired"
