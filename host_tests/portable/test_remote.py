# F01–F03/F05 (core/blocks/f_remote_control/remote.py) with a fake Transactions block:
# RequestStartTransaction, RequestStopTransaction, UnlockConnector status paths.
from fake_station import Handlers
from fake_tx import make
from flexcharge.core import timefmt
from flexcharge.core.blocks.g_availability.availability import Availability
from flexcharge.core.blocks.h_reservation.reservation import Reservation
from flexcharge.core.blocks.f_remote_control.remote import Remote

TOK = {"idToken": "AAAA", "type": "ISO14443"}
OTHER = {"idToken": "BBBB", "type": "ISO14443"}


def setup(registration="Accepted"):
    st, status, tx = make(registration=registration)
    av = Availability(st, status, tx)
    res = Reservation(st, status, tx, av)
    rem = Remote(st, tx, res)
    status.start()
    return st, tx, res, rem, Handlers(st, av, res, rem)


def start(h, evse=None, token=TOK, rid=11, profile=None):
    p = {"idToken": token, "remoteStartId": rid}
    if evse is not None:
        p["evseId"] = evse
    if profile is not None:
        p["chargingProfile"] = profile
    return h("RequestStartTransaction", p)


def profile(purpose):
    return {"id": 1, "stackLevel": 0, "chargingProfilePurpose": purpose, "chargingProfileKind": "Relative",
            "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                                  "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}]}]}


def test_remote_start_accepted_delegates():
    # TC_F_02_CS / TC_F_03_CS: Transactions does the start (AuthorizeRemoteStart is its job)
    st, tx, res, rem, h = setup()
    assert start(h, 1) == {"status": "Accepted"}  # nothing ran before: no transactionId
    assert tx.calls == [("remote_start", (1, TOK, 11, None))]
    assert tx.active(1).remote_start_id == 11


def test_remote_start_returns_id_of_transaction_started_before():
    # TC_F_01_CS / TC_K_38_CS: cable plugged first (TxStartPoint EVConnected): its transactionId
    st, tx, res, rem, h = setup()
    t = tx.begin(2)
    r = start(h, 2, profile=profile("TxProfile"))
    assert r == {"status": "Accepted", "transactionId": t.id}
    assert tx.calls[0][1][3]["chargingProfilePurpose"] == "TxProfile"


def test_remote_start_rejected_by_transactions():
    st, tx, res, rem, h = setup()
    tx.begin(1, id_token=OTHER)
    tx.start_result = "Rejected"
    assert start(h, 1) == {"status": "Rejected"}


def test_remote_start_rejected_while_pending():
    # TC_B_02_CS step 12
    st, tx, res, rem, h = setup(registration="Pending")
    assert start(h, 1) == {"status": "Rejected"}
    assert tx.calls == []


def test_remote_start_rejects_other_profile_purposes():
    st, tx, res, rem, h = setup()
    assert start(h, 1, profile=profile("TxDefaultProfile")) == {"status": "Rejected"}
    assert tx.calls == []


def test_remote_start_unknown_or_unavailable_evse():
    st, tx, res, rem, h = setup()
    assert start(h, 7) == {"status": "Rejected"}
    h("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}})
    assert start(h, 1) == {"status": "Rejected"}
    assert tx.calls == []


def test_remote_start_on_evse_reserved_for_another_token():
    # TC_H_02_CS main B, F01.FR.22
    st, tx, res, rem, h = setup()
    exp = timefmt.iso(st.t + 600)
    assert h("ReserveNow", {"id": 1, "evseId": 1, "idToken": TOK, "expiryDateTime": exp})["status"] == "Accepted"
    assert start(h, 1, token=OTHER) == {"status": "Rejected"}
    assert start(h, 1, token=TOK)["status"] == "Accepted"


def test_remote_start_without_evse_picks_one():
    st, tx, res, rem, h = setup()
    # the reserved one for this token first
    exp = timefmt.iso(st.t + 600)
    h("ReserveNow", {"id": 1, "evseId": 2, "idToken": TOK, "expiryDateTime": exp})
    assert start(h, None)["status"] == "Accepted"
    assert tx.calls[-1][1][0] == 2
    # else where a cable waits
    st.hw[(1, 2)].is_plugged = True
    start(h, None, token=OTHER, rid=12)
    assert tx.calls[-1][1][0] == 1


def test_remote_start_without_evse_none_free():
    st, tx, res, rem, h = setup()
    tx.begin(1, id_token=OTHER)
    tx.begin(2, id_token=OTHER)
    assert start(h, None) == {"status": "Rejected"}
    assert tx.calls == []


def test_remote_stop():
    # TC_F_08_CS / TC_F_09_CS F03.FR.08
    st, tx, res, rem, h = setup()
    t = tx.begin(1, id_token=TOK)
    assert h("RequestStopTransaction", {"transactionId": "nope"}) == {"status": "Rejected"}
    assert h("RequestStopTransaction", {"transactionId": t.id}) == {"status": "Accepted"}
    assert tx.active(1) is None


def test_unlock_paths():
    st, tx, res, rem, h = setup()

    def unlock(e, c):
        return h("UnlockConnector", {"evseId": e, "connectorId": c})["status"]

    assert unlock(1, 999) == "UnknownConnector"  # TC_F_10_CS F05.FR.03
    assert unlock(9, 1) == "UnknownConnector"
    assert unlock(1, 1) == "Unlocked"  # TC_F_07_CS: no cable, still Unlocked
    assert st.hw[(1, 1)].lock_calls == [False] and st.hw[(1, 1)].locked is False
    tx.begin(2, 1, id_token=TOK)
    assert unlock(2, 1) == "OngoingAuthorizedTransaction"  # TC_F_05_CS F05.FR.02
    assert st.hw[(2, 1)].lock_calls == []
    tx.end(2)
    tx.begin(2, 1)  # a transaction without idToken (EVConnected start) is not authorized
    assert unlock(2, 1) == "Unlocked"  # TC_F_06_CS F05.FR.04
    st.hw[(1, 2)].lock_ok = False
    assert unlock(1, 2) == "UnlockFailed"
    st.hw[(1, 2)].lock_ok = None  # the lock driver raises
    assert unlock(1, 2) == "UnlockFailed"
    st.evse(1).connector(1).hw = None
    assert unlock(1, 1) == "UnlockFailed"  # no lock to drive
