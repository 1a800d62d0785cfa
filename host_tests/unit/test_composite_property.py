# Issue 12: hypothesis property of the K08 composite schedule: at every instant it never exceeds any
# valid applicable limit (the winning TxProfile/TxDefaultProfile layer, every ChargingStationMaxProfile
# period in force, the EVSE maximum), and it covers the whole window without gaps.
from hypothesis import given, settings, strategies as st, HealthCheck

from flexcharge.core.blocks.k_smart_charging import composite as cmp
from flexcharge.core.blocks.k_smart_charging.store import entry
from flexcharge.core import timefmt

T0 = 1767225600


@st.composite
def profiles(draw):
    out = []
    n = draw(st.integers(1, 6))
    for i in range(n):
        purpose = draw(st.sampled_from((cmp.TX, cmp.TXDEF, cmp.MAXP)))
        kind = draw(st.sampled_from(("Absolute", "Relative", "Recurring")))
        if purpose == cmp.MAXP and kind == "Relative":
            kind = "Absolute"
        unit = draw(st.sampled_from(("A", "W")))
        starts = sorted(set(draw(st.lists(st.integers(1, 5000), max_size=5))))
        periods = [{"startPeriod": s, "limit": float(draw(st.integers(0, 60 if unit == "A" else 40000))),
                    "numberPhases": draw(st.sampled_from((1, 2, 3)))} for s in [0] + starts]
        sch = {"id": i, "chargingRateUnit": unit, "chargingSchedulePeriod": periods}
        if kind != "Relative":
            sch["startSchedule"] = timefmt.iso(T0 + draw(st.integers(-3000, 3000)))
        if draw(st.booleans()):
            sch["duration"] = draw(st.integers(1, 8000))
        # unique stack levels: K01.FR.39 rejects two profiles of one purpose/EVSE on the same level
        p = {"id": i, "stackLevel": i, "chargingProfilePurpose": purpose,
             "chargingProfileKind": kind, "chargingSchedule": [sch]}
        if kind == "Recurring":
            p["recurrencyKind"] = draw(st.sampled_from(("Daily", "Weekly")))
        if purpose == cmp.TX:
            p["transactionId"] = "T1"
        if draw(st.booleans()):
            p["validFrom"] = timefmt.iso(T0 + draw(st.integers(-2000, 4000)))
        if draw(st.booleans()):
            p["validTo"] = timefmt.iso(T0 + draw(st.integers(0, 9000)))
        out.append(entry(0 if purpose == cmp.MAXP else 1, p))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles(), st.integers(0, 6000), st.integers(1, 9000))
def test_composite_never_exceeds_an_applicable_limit(entries, off, dur):
    t0 = T0 + off
    t1 = t0 + dur
    res = cmp.compose(entries, 1, t0, t1, 32, 3, 230, tx_start=T0, tx_id="T1")
    assert res[0][0] == t0 and res[-1][1] == t1
    for a, b in zip(res, res[1:]):
        assert a[1] == b[0]
    for lo, hi, amps, _ in res:
        for x in (lo, (lo + hi) // 2, hi - 1):
            assert amps <= 32.0
            # the station maximum in force: the highest-level ChargingStationMaxProfile with a period at x
            for e in cmp._candidates(entries, 1, cmp.MAXP):
                s = cmp.segments(e, x, x + 1)
                if s:
                    n = min(s[0][3] or 3, 3)
                    assert amps <= round(cmp.to_amps(s[0][2], s[0][4], n, 230), 1) + 0.05, (x, amps, s)
                    break
            # the transaction layer: the best TxProfile if any covers x, else the best TxDefaultProfile
            for purpose in (cmp.TX, cmp.TXDEF):
                best = None
                for e in cmp._candidates(entries, 1, purpose):
                    s = cmp.segments(e, x, x + 1, T0)
                    if s:
                        best = s[0]
                        break
                if best is not None:
                    n = min(best[3] or 3, 3)
                    assert amps <= round(cmp.to_amps(best[2], best[4], n, 230), 1) + 0.05
                    break
