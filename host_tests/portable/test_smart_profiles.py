# Issue 12: K01 validation, replacement, persistence, expiry and K10 clear of the smart-charging block
# (both interpreters), against a fake station and fake transactions.
from fake_tx import OpsStation, FakeTx
from flexcharge.core import timefmt
from flexcharge.core.blocks.k_smart_charging.profiles import SmartCharging
from flexcharge.core.blocks.k_smart_charging.store import FILE
from flexcharge.comm.errors import CallError

TXD = "TxDefaultProfile"
TXP = "TxProfile"
MAXP = "ChargingStationMaxProfile"


def make(path=None):
    st = OpsStation(path)
    for e, mx, ph in zip(st.evses, (32, 16), (3, 1)):
        e.max_current = mx
        e.phases = ph
        e.voltage = 230
    tx = FakeTx()
    tx.current_limits = []
    tx.changes = []
    tx.rate_changed = lambda evse_id, report=True: tx.changes.append((evse_id, report))
    sc = SmartCharging(st, tx)
    return st, tx, sc


def prof(pid, purpose, periods=((0, 16),), kind="Absolute", level=0, unit="A", **kw):
    sch = {"id": pid, "chargingRateUnit": unit,
           "chargingSchedulePeriod": [{"startPeriod": s, "limit": l} for s, l in periods]}
    if kind != "Relative":
        sch["startSchedule"] = "2026-11-18T00:00:00Z"
    p = {"id": pid, "stackLevel": level, "chargingProfilePurpose": purpose, "chargingProfileKind": kind,
         "chargingSchedule": [sch]}
    p.update(kw)
    return p


def h(sc, name, p):
    # handlers are @on-wrapped (router._Handler): call the function as the router does
    return SmartCharging.__dict__[name].fn(sc, p)


def setp(sc, evse, p):
    return h(sc, "set_charging_profile", {"evseId": evse, "chargingProfile": p})


def test_accepted_kinds_and_purposes():
    st, tx, sc = make()
    assert setp(sc, 1, prof(1, TXD))["status"] == "Accepted"
    assert setp(sc, 0, prof(2, MAXP, level=1))["status"] == "Accepted"
    assert setp(sc, 0, prof(3, TXD, kind="Recurring", recurrencyKind="Weekly", level=2))["status"] == "Accepted"
    assert setp(sc, 2, prof(4, TXD, kind="Relative", level=3, unit="W"))["status"] == "Accepted"
    t = tx.begin(1)
    assert setp(sc, 1, prof(5, TXP, transactionId=t.id))["status"] == "Accepted"
    # a TxProfile without transactionId belongs to the running transaction
    assert setp(sc, 1, prof(6, TXP, level=1))["status"] == "Accepted"
    assert sc.store.find(6)["p"]["transactionId"] == t.id
    assert st.dm.get_int("SmartChargingCtrlr", "Entries", var_instance="ChargingProfiles") == 6


def test_rejections_change_nothing():
    st, tx, sc = make()
    assert setp(sc, 1, prof(1, TXD))["status"] == "Accepted"
    before = st.board.storage.read(FILE)
    bad = [
        (1, prof(10, TXP)),  # no transaction (K01.FR.09)
        (0, prof(11, TXP)),  # TxProfile on EVSE 0 (K01.FR.16)
        (9, prof(12, TXD)),  # unknown EVSE (K01.FR.28)
        (0, prof(13, MAXP, kind="Relative")),  # K01.FR.38
        (2, prof(14, MAXP)),
        (1, prof(15, TXD, periods=((10, 6),))),  # K01.FR.31
        (1, prof(16, TXD, periods=((0, 6), (20, 8), (20, 9)))),  # not ascending
        (1, prof(17, TXD, level=99)),
        (1, prof(18, TXD, kind="Recurring")),
        (1, prof(19, TXD, periods=[(i * 10, 6) for i in range(25)])),
        (1, prof(20, TXD, validFrom="2026-11-20T00:00:00Z", validTo="2026-11-19T00:00:00Z")),
        (1, prof(21, TXD, validTo="2020-01-01T00:00:00Z")),
        (1, prof(22, TXD)),  # same level/purpose/EVSE as profile 1 (K01.FR.39)
        (1, prof(23, TXD, level=1, transactionId="x")),
        (1, prof(24, TXD, level=1, periods=((0, -1),))),
    ]
    t = tx.begin(2)
    bad.append((2, prof(25, TXP, transactionId="other")))  # K01.FR.33
    for evse, p in bad:
        r = setp(sc, evse, p)
        assert r["status"] == "Rejected", (p["id"], r)
    assert st.board.storage.read(FILE) == before
    assert [e["p"]["id"] for e in sc.store.entries] == [1]


def test_replacement_by_id_and_capacity():
    st, tx, sc = make()
    assert setp(sc, 1, prof(1, TXD))["status"] == "Accepted"
    assert setp(sc, 2, prof(1, TXD, periods=((0, 8),)))["status"] == "Accepted"  # K01.FR.05: replaces
    assert len(sc.store.entries) == 1 and sc.store.entries[0]["evse"] == 2
    for i in range(2, 11):
        assert setp(sc, 1, prof(i, TXD, level=i - 1))["status"] == "Accepted"
    r = setp(sc, 1, prof(11, TXD, level=10))
    assert r["status"] == "Rejected" and r["statusInfo"]["reasonCode"] == "NoCapacity"
    assert setp(sc, 1, prof(10, TXD, level=10))["status"] == "Accepted"  # replacing fits


def test_persistence_across_a_reboot_and_expiry():
    st, tx, sc = make()
    assert setp(sc, 0, prof(1, MAXP, validTo=timefmt.iso(int(st.t) + 3600)))["status"] == "Accepted"
    t = tx.begin(1)
    assert setp(sc, 1, prof(2, TXP))["status"] == "Accepted"
    st2 = OpsStation(st.path)
    for e in st2.evses:
        e.max_current, e.phases, e.voltage = 32, 3, 230
    sc2 = SmartCharging(st2, tx)
    assert sorted(e["p"]["id"] for e in sc2.store.entries) == [1, 2]
    # the transaction ends: its TxProfile goes; validTo passes: the profile goes
    tx.end(1)
    sc2.expire()
    assert [e["p"]["id"] for e in sc2.store.entries] == [1]
    st2.t = st.t + 3600
    sc2.expire()
    assert sc2.store.entries == []


def test_limit_and_refresh_report_changes():
    st, tx, sc = make()
    assert sc.compute(1) is None
    setp(sc, 0, prof(1, MAXP, periods=((0, 20),)))
    assert sc.compute(1) == 20.0
    assert sc.compute(2) == 16.0  # the EVSE's own maximum is lower
    assert (1, True) in tx.changes
    setp(sc, 1, prof(2, TXD, unit="W", periods=((0, 6900),)))
    assert sc.limit(1) == 10.0


def test_clear_by_id_criteria_and_unknown():
    st, tx, sc = make()
    setp(sc, 1, prof(1, TXD))
    setp(sc, 0, prof(2, MAXP))
    setp(sc, 2, prof(3, TXD, level=2))
    assert h(sc, "clear_charging_profile", {"chargingProfileId": 9})["status"] == "Unknown"
    assert h(sc, "clear_charging_profile", {"chargingProfileId": 1})["status"] == "Accepted"
    assert h(sc, "clear_charging_profile", {"chargingProfileCriteria": {"evseId": 2, "stackLevel": 1}})["status"] == "Unknown"
    assert h(sc, "clear_charging_profile", {"chargingProfileCriteria": {"evseId": 2, "stackLevel": 2}})["status"] == "Accepted"
    assert [e["p"]["id"] for e in sc.store.entries] == [2]


def test_not_supported_when_not_available():
    st, tx, sc = make()
    st.dm.set_internal("SmartChargingCtrlr", "Available", "false")
    try:
        setp(sc, 1, prof(1, TXD))
        assert False, "no CallError"
    except CallError as e:
        assert e.code == "NotSupported"


def test_board_limit_input_is_one_more_limit():
    class Ems:
        def amps(self):
            return 12

    st = OpsStation()
    for e in st.evses:
        e.max_current, e.phases, e.voltage = 32, 3, 230
    st.board.limit_inputs = {1: Ems()}
    tx = FakeTx()
    tx.current_limits = []
    tx.rate_changed = lambda evse_id, report=True: None
    SmartCharging(st, tx)
    assert len(tx.current_limits) == 2
    assert tx.current_limits[1](1) == 12 and tx.current_limits[1](2) is None
