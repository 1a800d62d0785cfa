# Issue 12: K08 composite schedule (pure logic, both interpreters): stacking, recurring schedules across
# midnight and across the week, relative profiles, A<->W, expiry, the station maximum, mixed units.
from flexcharge.core.blocks.k_smart_charging import composite as cmp
from flexcharge.core.blocks.k_smart_charging.store import entry
from flexcharge.core import timefmt

T0 = 1767225600  # 2026-01-01T00:00:00Z, a Thursday
DAY = 86400


def prof(pid, purpose, periods, unit="A", kind="Absolute", level=0, start=T0, evse=1, **kw):
    sch = {"id": pid, "chargingRateUnit": unit,
           "chargingSchedulePeriod": [{"startPeriod": s, "limit": l} for s, l in periods]}
    if start is not None:
        sch["startSchedule"] = timefmt.iso(start)
    for k in ("duration",):
        if k in kw:
            sch[k] = kw.pop(k)
    p = {"id": pid, "stackLevel": level, "chargingProfilePurpose": purpose, "chargingProfileKind": kind,
         "chargingSchedule": [sch]}
    p.update(kw)
    return entry(evse, p)


def comp(entries, t0, t1, evse=1, mx=32, ph=3, v=230, tx_start=None, tx_id=None):
    return [(a - t0, b - t0, amps, n) for a, b, amps, n in cmp.compose(entries, evse, t0, t1, mx, ph, v, tx_start, tx_id)]


def test_nothing_installed_gives_the_evse_maximum():
    assert comp([], T0, T0 + 100) == [(0, 100, 32.0, 3)]


def test_stacking_higher_level_wins_and_lower_shows_through():
    low = prof(1, cmp.TXDEF, [(0, 20)])
    high = prof(2, cmp.TXDEF, [(0, 10)], level=1, duration=60)
    assert comp([low, high], T0, T0 + 120) == [(0, 60, 10.0, 3), (60, 120, 20.0, 3)]


def test_evse_specific_default_beats_evse_zero_at_same_level():
    a = prof(1, cmp.TXDEF, [(0, 20)], evse=0)
    b = prof(2, cmp.TXDEF, [(0, 12)], evse=1)
    assert comp([a, b], T0, T0 + 10) == [(0, 10, 12.0, 3)]
    assert comp([a, b], T0, T0 + 10, evse=2) == [(0, 10, 20.0, 3)]


def test_tx_profile_overrides_default_only_for_its_transaction():
    d = prof(1, cmp.TXDEF, [(0, 10)])
    t = prof(2, cmp.TX, [(0, 25)], transactionId="T1")
    assert comp([d, t], T0, T0 + 10, tx_id="T1") == [(0, 10, 25.0, 3)]
    assert comp([d, t], T0, T0 + 10, tx_id="T2") == [(0, 10, 10.0, 3)]
    assert comp([d, t], T0, T0 + 10) == [(0, 10, 10.0, 3)]


def test_station_maximum_caps_a_larger_tx_profile():
    m = prof(1, cmp.MAXP, [(0, 16)], evse=0)
    t = prof(2, cmp.TX, [(0, 30), (30, 8)], transactionId="T1")
    assert comp([m, t], T0, T0 + 60, tx_id="T1") == [(0, 30, 16.0, 3), (30, 60, 8.0, 3)]
    # the station's own composite: the maximum, against the sum of the EVSEs' maxima
    assert comp([m, t], T0, T0 + 60, evse=0, mx=64) == [(0, 60, 16.0, 3)]


def test_physical_maximum_caps_everything():
    t = prof(2, cmp.TXDEF, [(0, 63)])
    assert comp([t], T0, T0 + 5, mx=16) == [(0, 5, 16.0, 3)]


def test_watts_to_amps_with_phases_and_voltage():
    w = prof(1, cmp.TXDEF, [(0, 11040)], unit="W")  # 11040 / (230 * 3) = 16 A
    assert comp([w], T0, T0 + 5) == [(0, 5, 16.0, 3)]
    w1 = prof(1, cmp.TXDEF, [(0, 3680)], unit="W")
    w1["p"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["numberPhases"] = 1
    assert comp([w1], T0, T0 + 5) == [(0, 5, 16.0, 1)]
    # a single-phase EVSE: numberPhases 3 is capped to 1
    assert comp([w], T0, T0 + 5, ph=1) == [(0, 5, 32.0, 1)]  # 11040 / 230 = 48 A, capped to 32
    periods = cmp.schedule_periods(cmp.compose([w], 1, T0, T0 + 5, 32, 3, 230), T0, "W", 230)
    assert periods == [{"startPeriod": 0, "limit": 11040.0, "numberPhases": 3}]


def test_mixed_units_take_the_lower_limit():
    a = prof(1, cmp.MAXP, [(0, 6900)], unit="W", evse=0)  # 10 A
    b = prof(2, cmp.TXDEF, [(0, 12), (10, 8)])
    assert comp([a, b], T0, T0 + 20) == [(0, 10, 10.0, 3), (10, 20, 8.0, 3)]


def test_recurring_daily_across_midnight():
    # 22:00 -> 06:00 at 10 A, else 32 A, every day
    r = prof(1, cmp.TXDEF, [(0, 10), (8 * 3600, 32)], kind="Recurring", recurrencyKind="Daily",
             start=T0 - 2 * 3600)
    t = T0 + DAY - 3 * 3600  # 21:00 on day 1
    assert comp([r], t, t + 10 * 3600) == [(0, 3600, 32.0, 3), (3600, 9 * 3600, 10.0, 3),
                                           (9 * 3600, 10 * 3600, 32.0, 3)]


def test_recurring_weekly_across_the_week():
    r = prof(1, cmp.TXDEF, [(0, 6), (DAY, 16)], kind="Recurring", recurrencyKind="Weekly", start=T0)
    t = T0 + 7 * DAY - 3600  # an hour before the next week begins
    assert comp([r], t, t + 7200) == [(0, 3600, 16.0, 3), (3600, 7200, 6.0, 3)]


def test_recurring_with_duration_leaves_a_gap():
    r = prof(1, cmp.TXDEF, [(0, 8)], kind="Recurring", recurrencyKind="Daily", start=T0, duration=3600)
    assert comp([r], T0 + DAY - 10, T0 + DAY + 3610) == [(0, 10, 32.0, 3), (10, 3610, 8.0, 3), (3610, 3620, 32.0, 3)]


def test_relative_counts_from_the_transaction_start():
    r = prof(1, cmp.TXDEF, [(0, 10), (100, 20)], kind="Relative", start=None)
    assert comp([r], T0 + 50, T0 + 200, tx_start=T0) == [(0, 50, 10.0, 3), (50, 150, 20.0, 3)]
    # without a transaction: as if it started now
    assert comp([r], T0 + 50, T0 + 200) == [(0, 100, 10.0, 3), (100, 150, 20.0, 3)]


def test_valid_from_and_expiry():
    p = prof(1, cmp.TXDEF, [(0, 8)], validFrom=timefmt.iso(T0 + 100), validTo=timefmt.iso(T0 + 200))
    assert comp([p], T0, T0 + 300) == [(0, 100, 32.0, 3), (100, 200, 8.0, 3), (200, 300, 32.0, 3)]


def test_absolute_with_duration_then_falls_back():
    p = prof(1, cmp.TXDEF, [(0, 8), (60, 12)], start=T0 + 30, duration=120)
    assert comp([p], T0, T0 + 200) == [(0, 30, 32.0, 3), (30, 90, 8.0, 3), (90, 150, 12.0, 3), (150, 200, 32.0, 3)]


def test_limit_now_under_six_amps_is_reported_as_is():
    p = prof(1, cmp.TXDEF, [(0, 3)])
    assert cmp.limit_now([p], 1, T0 + 5, 32, 3, 230) == (3.0, 3)
