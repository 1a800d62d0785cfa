# K08 composite schedule: pure functions over installed profiles, integer epoch seconds.
#
# An installed profile is an "entry" dict: {"evse": int, "p": ChargingProfileType dict,
# "vf": validFrom s|None, "vt": validTo s|None, "ss": startSchedule s|None} (times parsed once,
# at installation, so no date parsing happens on the 1 s control path).
#
# Rules (K08.FR.02-.06, Part 2 3.x "Combining charging profile purposes"):
#   - per purpose, the profile with the highest stackLevel that has a period at that instant
#     wins (a lower level shows through where a higher one has no period: stacking);
#     for TxDefaultProfile an EVSE-specific profile wins over an evseId 0 one at the same level;
#   - TxProfile overrides TxDefaultProfile;
#   - the result is the minimum of that, the ChargingStationMaxProfile and the EVSE's
#     physical maximum (max_current);
#   - limits are compared in A per phase: W -> A with the EVSE's voltage and the period's
#     numberPhases (default 3, capped to the EVSE's phases), and back for a W answer.
# Decision (documented in README "Smart charging"): the ChargingStationMaxProfile caps each EVSE
# in full; with several EVSEs charging at once it is not shared out between them.
DAY = 86400
WEEK = 604800

TX = "TxProfile"
TXDEF = "TxDefaultProfile"
MAXP = "ChargingStationMaxProfile"

_FAR = 1 << 40  # "no end": beyond any window we are asked for (ints: no float epochs)


def segments(entry, t0, t1, tx_start=None):
    """[(start, end, limit, numberPhases|None, unit)] of a profile within [t0, t1), clipped to validFrom/validTo.

    tx_start: start of the transaction a Relative profile counts from; None: from t0 (K08:
    a Relative profile without a transaction is shown as if it started now)."""
    p = entry["p"]
    a = t0
    b = t1
    vf = entry.get("vf")
    vt = entry.get("vt")
    if vf is not None and vf > a:
        a = vf
    if vt is not None and vt < b:
        b = vt
    if a >= b:
        return []
    sch = p["chargingSchedule"][0]
    unit = sch["chargingRateUnit"]
    periods = sch["chargingSchedulePeriod"]
    dur = sch.get("duration")
    kind = p["chargingProfileKind"]
    per = 0
    if kind == "Relative":
        starts = (tx_start if tx_start is not None else t0,)
    elif kind == "Recurring":
        per = WEEK if p.get("recurrencyKind") == "Weekly" else DAY
        ss = entry.get("ss") or 0
        k = (a - ss) // per
        if k < 0:
            k = 0  # not before its first startSchedule
        starts = []
        s = ss + k * per
        while s < b:
            starts.append(s)
            s += per
    else:
        starts = (entry.get("ss") if entry.get("ss") is not None else t0,)
    out = []
    n = len(periods)
    for s in starts:
        end = s + dur if dur else (s + per if per else _FAR)
        if per and end > s + per:
            end = s + per  # a recurrence never runs into the next one
        if end <= a:
            continue
        for i in range(n):
            pd = periods[i]
            ps = s + pd["startPeriod"]
            if ps >= b or ps >= end:
                break
            pe = s + periods[i + 1]["startPeriod"] if i + 1 < n else end
            if pe > end:
                pe = end
            lo = ps if ps > a else a
            hi = pe if pe < b else b
            if lo < hi:
                out.append((lo, hi, pd["limit"], pd.get("numberPhases"), unit))
    return out


def to_amps(limit, unit, phases, voltage):
    if unit == "W":
        return limit / (voltage * phases)
    return limit


def _phases(n, max_phases):
    if n is None:
        n = 3  # ChargingSchedulePeriodType: numberPhases absent means 3
    return n if n < max_phases else max_phases


def _candidates(entries, evse_id, purpose):
    """Entries of one purpose applying to evse_id, in precedence order (best first)."""
    c = []
    for e in entries:
        p = e["p"]
        if p["chargingProfilePurpose"] != purpose:
            continue
        if e["evse"] != evse_id and e["evse"] != 0:
            continue
        c.append(e)
    # stackLevel descending; at equal level the EVSE-specific one first (evse != 0)
    c.sort(key=lambda e: (-e["p"]["stackLevel"], 0 if e["evse"] else 1))
    return c


def compose(entries, evse_id, t0, t1, max_current, phases, voltage, tx_start=None, tx_id=None):
    """Composite schedule of evse_id (0: the station) over [t0, t1).

    Returns [(start, end, amps_per_phase, numberPhases)], merged where equal; amps are floats
    rounded down to 0.1 A. tx_id: the running transaction (TxProfiles of others do not apply)."""
    layers = []  # per purpose rank: list of segment lists, best first
    for purpose in ((MAXP,) if evse_id == 0 else (TX, TXDEF, MAXP)):
        segs = []
        for e in _candidates(entries, evse_id, purpose):
            if purpose == TX and (e["evse"] != evse_id or tx_id is None or e["p"].get("transactionId") != tx_id):
                continue
            s = segments(e, t0, t1, tx_start if purpose != MAXP else None)
            if s:
                segs.append(s)
        layers.append(segs)
    cuts = {t0: 1, t1: 1}
    for segs in layers:
        for s in segs:
            for seg in s:
                lo = seg[0]
                hi = seg[1]
                cuts[lo] = 1
                cuts[hi] = 1
    pts = sorted(cuts)
    out = []
    for i in range(len(pts) - 1):
        x = pts[i]
        amps = float(max_current)
        nph = phases
        tx_seen = False
        for li in range(len(layers)):
            seg = _at(layers[li], x)
            if seg is None:
                continue
            if evse_id != 0 and li == 1 and tx_seen:
                continue  # TxProfile overrides TxDefaultProfile
            if li == 0:
                tx_seen = True
            n = _phases(seg[3], phases)
            a = to_amps(seg[2], seg[4], n, voltage)
            if a < amps:
                amps = a
            if li < 2 or evse_id == 0:
                nph = n
        # rounded down to 0.1 A: the composite never exceeds a limit by rounding (hypothesis property)
        amps = int(amps * 10 + 1e-6) / 10 if amps > 0 else 0.0
        if out and out[-1][2] == amps and out[-1][3] == nph:
            out[-1] = (out[-1][0], pts[i + 1], amps, nph)
        else:
            out.append((x, pts[i + 1], amps, nph))
    return out


def _at(seg_lists, x):
    for segs in seg_lists:
        for seg in segs:
            if seg[0] <= x < seg[1]:
                return seg
    return None


def limit_now(entries, evse_id, now, max_current, phases, voltage, tx_start=None, tx_id=None):
    """(amps per phase, numberPhases) the EVSE may offer now."""
    r = compose(entries, evse_id, now, now + 1, max_current, phases, voltage, tx_start, tx_id)
    return r[0][2], r[0][3]


def schedule_periods(comp, t0, unit, voltage):
    """GetCompositeSchedule's chargingSchedulePeriod list from compose() output."""
    out = []
    for lo, _, amps, n in comp:
        lim = amps if unit == "A" else int(amps * voltage * n + 1e-6)
        out.append({"startPeriod": lo - t0, "limit": float(lim), "numberPhases": n})
    return out
