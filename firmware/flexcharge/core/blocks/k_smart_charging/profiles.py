# K Smart charging: K01 SetChargingProfile, K05 (profile of a RequestStartTransaction),
# K08 GetCompositeSchedule, K09 GetChargingProfiles / ReportChargingProfiles, K10
# ClearChargingProfile, and the limit the EVSE control applies (Transactions.current_limits).
#
# Control. Every second (and at once after a change) the limit of each EVSE is recomputed from
# the composite schedule (composite.py) and handed to Transactions, whose EvseControl drives
# the pilot: a new period takes effect within a second of its boundary. A change during a
# transaction is reported as TransactionEvent Updated / ChargingRateChanged (E/J), unless it is
# smaller than SmartChargingCtrlr.LimitChangeSignificance per cent.
#
# All profiles set by the CSMS have chargingLimitSource CSO (K09: no EMS/SO source on our boards;
# a board with an EMS input would add its limit through Transactions.current_limits as well).
from flexcharge.core.router import Block, Reply, on
from flexcharge.comm.errors import CallError, NOT_SUPPORTED
from flexcharge.core import timefmt
from flexcharge.core.blocks.k_smart_charging import composite as cmp
from flexcharge.core.blocks.k_smart_charging.store import ProfileStore, entry

_C = "SmartChargingCtrlr"
ACCEPTED = "Accepted"
REJECTED = "Rejected"
_PURPOSES = (cmp.MAXP, cmp.TXDEF, cmp.TX)
MAX_ENTRIES = 10  # SmartChargingCtrlr.Entries maxLimit: what our storage budget holds
_REPORT_CHUNK = 4  # profiles per ReportChargingProfiles (K09: split with tbc)
_SOURCE = "CSO"
_PENDING_S = 300  # a RequestStartTransaction profile waits this long for its transaction (K05)


def _reason(code, info=None):
    d = {"reasonCode": code}
    if info:
        d["additionalInfo"] = info[:512]
    return d


class SmartCharging(Block):
    POLL_S = 1

    def __init__(self, station, transactions):
        Block.__init__(self, station)
        self.tx = transactions
        self.store = ProfileStore(station.board.storage, station.log)
        self.limits = {}  # evse id -> amps per phase now (None: no profile applies)
        self.pending = {}  # evse id -> (profile, since): K05 profile waiting for its transaction
        transactions.current_limits.append(self.limit)
        # An EMS input of the board (hal.LimitInput) is one more limit, the lower one wins.
        inputs = getattr(station.board, "limit_inputs", None) or {}
        if inputs:
            transactions.current_limits.append(lambda evse_id: _external(inputs, evse_id))

    def start(self):
        try:
            self.station.dm.set_limits(_C, "Entries", 0, MAX_ENTRIES, var_instance="ChargingProfiles")
        except Exception as e:
            self.station.log.debug("Entries limits: %r" % (e,))
        self.expire()
        self._figures()
        self.refresh(report=False)
        self.station.spawn(self._run())

    async def _run(self):
        import asyncio

        while True:
            await asyncio.sleep(self.POLL_S)
            try:
                self.expire()
                self.refresh()
            except Exception as e:
                self.station.log.error("smart charging tick failed: %r" % (e,))

    # -- settings ---------------------------------------------------------------------------
    def _int(self, var, default):
        return self.station.dm.get_int(_C, var, default)

    def enabled(self):
        dm = self.station.dm
        return dm.get_bool(_C, "Available", True) and dm.get_bool(_C, "Enabled", True)

    def _gate(self):
        # K01.FR.29 / TC_K_15_CS: a station without smart charging (factory Available false) answers
        # CALLERROR NotSupported (Part 4: known action, not supported here).
        if not self.station.dm.get_bool(_C, "Available", True):
            raise CallError(NOT_SUPPORTED, "SmartChargingCtrlr.Available is false")

    def _figures(self):
        try:
            self.station.dm.set_internal(_C, "Entries", str(len(self.store.entries)), var_instance="ChargingProfiles")
        except Exception as e:
            self.station.log.debug("Entries: %r" % (e,))

    # -- K01 validation ---------------------------------------------------------------------
    def check(self, evse_id, p, remote=False):
        """None if the profile may be installed on evse_id, else (reasonCode, additionalInfo).
        Checks everything before anything changes: a rejected profile changes nothing."""
        st = self.station
        purpose = p["chargingProfilePurpose"]
        kind = p["chargingProfileKind"]
        if evse_id != 0 and st.evse(evse_id) is None:
            return ("UnknownEVSE", "evseId %d" % evse_id)  # K01.FR.28 / TC_K_14_CS
        if p["stackLevel"] > self._int("ProfileStackLevel", 10):
            return ("InvalidValue", "stackLevel above ProfileStackLevel")
        if purpose == cmp.MAXP:
            if evse_id != 0:
                return ("InvalidValue", "ChargingStationMaxProfile only on evseId 0")  # K01.FR.03
            if kind == "Relative":
                return ("InvalidValue", "ChargingStationMaxProfile may not be Relative")  # K01.FR.38
        if purpose == cmp.TX:
            if not remote:
                if evse_id == 0:
                    return ("InvalidValue", "TxProfile needs an EVSE")  # K01.FR.16 / TC_K_11_CS
                t = self.tx.active(evse_id)
                if t is None:
                    return ("TxNotFound", "no transaction on the EVSE")  # K01.FR.09 / TC_K_02_CS
                tid = p.get("transactionId")
                if tid is not None and tid != t.id:
                    return ("TxNotFound", "transactionId does not match")  # K01.FR.33 / TC_K_16_CS
            elif p.get("transactionId") is not None:
                return ("InvalidValue", "transactionId in a RequestStartTransaction profile")  # K05.FR.04
        elif p.get("transactionId") is not None:
            return ("InvalidValue", "transactionId only in a TxProfile")  # K01.FR.?: only TxProfile has one
        if kind == "Recurring" and not p.get("recurrencyKind"):
            return ("InvalidValue", "Recurring without recurrencyKind")
        if kind != "Recurring" and p.get("recurrencyKind"):
            return ("InvalidValue", "recurrencyKind only for Recurring")
        schedules = p["chargingSchedule"]
        if len(schedules) != 1:
            return ("InvalidSchedule", "one chargingSchedule (no ISO 15118 here)")
        units = self.station.dm.get_list(_C, "RateUnit", ("A", "W"))
        per_max = self._int("PeriodsPerSchedule", 24)
        phases3to1 = self.station.dm.get_bool(_C, "Phases3to1", False)
        for sch in schedules:
            if sch["chargingRateUnit"] not in units:
                return ("InvalidValue", "chargingRateUnit not supported")  # K01.FR.26 / TC_K_12_CS
            if kind in ("Absolute", "Recurring") and not sch.get("startSchedule"):
                return ("InvalidSchedule", "startSchedule missing")  # K01.FR.40
            periods = sch["chargingSchedulePeriod"]
            if len(periods) > per_max:
                return ("InvalidSchedule", "more periods than PeriodsPerSchedule")
            if periods[0]["startPeriod"] != 0:
                return ("InvalidSchedule", "first startPeriod must be 0")  # K01.FR.31
            prev = -1
            for pd in periods:
                if pd["startPeriod"] <= prev:
                    return ("InvalidSchedule", "startPeriod not ascending")  # K01.FR.35
                prev = pd["startPeriod"]
                if pd["limit"] < 0:
                    return ("InvalidValue", "negative limit")
                n = pd.get("numberPhases")
                if n is not None and not 1 <= n <= 3:
                    return ("InvalidValue", "numberPhases")
                if pd.get("phaseToUse") is not None:
                    # K01.FR.19/20: only with numberPhases 1 and a station that can switch phases
                    if n != 1 or not phases3to1:
                        return ("InvalidValue", "phaseToUse not supported")
            d = sch.get("duration")
            if d is not None and d <= 0:
                return ("InvalidSchedule", "duration")
            m = sch.get("minChargingRate")
            if m is not None and m < 0:
                return ("InvalidValue", "minChargingRate")
        try:
            e = entry(evse_id, p)
        except (ValueError, KeyError, IndexError) as err:
            return ("InvalidValue", "date-time: %r" % (err,))
        if e["vf"] is not None and e["vt"] is not None and e["vf"] >= e["vt"]:
            return ("InvalidValue", "validFrom not before validTo")
        if e["vt"] is not None and e["vt"] <= st.now():
            return ("InvalidValue", "validTo in the past")
        # K01.FR.39: same stackLevel and purpose on the same EVSE (same transaction) with another id
        # and overlapping validity is ambiguous: Rejected.
        for x in self.store.entries:
            q = x["p"]
            if q["id"] == p["id"] or x["evse"] != evse_id:
                continue
            if q["chargingProfilePurpose"] != purpose or q["stackLevel"] != p["stackLevel"]:
                continue
            if purpose == cmp.TX and q.get("transactionId") != p.get("transactionId", q.get("transactionId")):
                continue
            if _overlap(x, e):
                return ("DuplicateProfile", "stackLevel %d taken by profile %d" % (q["stackLevel"], q["id"]))
        n = len([x for x in self.store.entries if x["p"]["id"] != p["id"]])
        if n >= self._bound():
            return ("NoCapacity", "SmartChargingCtrlr.Entries full")
        return None

    def _bound(self):
        return MAX_ENTRIES

    def install(self, evse_id, p):
        if p["chargingProfilePurpose"] == cmp.TX and p.get("transactionId") is None:
            t = self.tx.active(evse_id)
            if t is not None:
                p = dict(p)
                p["transactionId"] = t.id  # K01: a TxProfile belongs to the running transaction
        self.store.put(entry(evse_id, p))  # persisted before the answer (atomic write)
        self._figures()

    # -- K01 SetChargingProfile ---------------------------------------------------------------
    @on("SetChargingProfile")
    def set_charging_profile(self, p):
        self._gate()
        if not self.enabled():
            return {"status": REJECTED, "statusInfo": _reason("NotEnabled")}
        evse_id = p["evseId"]
        prof = p["chargingProfile"]
        err = self.check(evse_id, prof)
        if err is not None:
            return {"status": REJECTED, "statusInfo": _reason(err[0], err[1])}
        self.install(evse_id, prof)
        self.refresh()
        return {"status": ACCEPTED}

    # -- K05 RequestStartTransaction with a chargingProfile -------------------------------------
    def check_remote(self, evse_id, p):
        if not self.enabled():
            return ("NotEnabled", None)
        return self.check(evse_id, p, remote=True)

    def remote_profile(self, evse_id, p):
        """K05.FR.02/03: the TxProfile of the transaction the RequestStartTransaction starts."""
        self.pending[evse_id] = (p, self.station.now())
        self._adopt_pending(evse_id)
        self.refresh()

    def _adopt_pending(self, evse_id):
        pend = self.pending.get(evse_id)
        if pend is None:
            return
        t = self.tx.active(evse_id)
        if t is not None and t.remote_start_id is not None:
            del self.pending[evse_id]
            p = dict(pend[0])
            p["transactionId"] = t.id
            self.store.remove(lambda x: x["p"]["id"] != p["id"])
            if len(self.store.entries) < self._bound():
                self.install(evse_id, p)
        elif self.station.now() - pend[1] > _PENDING_S:
            del self.pending[evse_id]

    # -- K09 GetChargingProfiles ------------------------------------------------------------------
    @on("GetChargingProfiles")
    def get_charging_profiles(self, p):
        self._gate()
        crit = p["chargingProfile"]
        evse_id = p.get("evseId")
        ids = crit.get("chargingProfileId")
        purpose = crit.get("chargingProfilePurpose")
        level = crit.get("stackLevel")
        sources = crit.get("chargingLimitSource")
        found = []
        if sources is None or _SOURCE in sources:
            for e in self.store.entries:
                q = e["p"]
                if evse_id is not None and e["evse"] != evse_id:
                    continue  # K09.FR.03: evseId 0 reports the station-wide profiles only
                if ids and q["id"] not in ids:
                    continue
                if purpose is not None and q["chargingProfilePurpose"] != purpose:
                    continue
                if level is not None and q["stackLevel"] != level:
                    continue
                found.append(e)
        if not found:
            return {"status": "NoProfiles"}  # K09.FR.04 (no report follows)
        return Reply({"status": ACCEPTED}, then=self._report(p["requestId"], found))

    async def _report(self, request_id, found):
        groups = {}
        for e in found:
            groups.setdefault(e["evse"], []).append(e["p"])
        msgs = []
        for evse_id in sorted(groups):
            ps = groups[evse_id]
            for i in range(0, len(ps), _REPORT_CHUNK):
                msgs.append((evse_id, ps[i:i + _REPORT_CHUNK]))
        for i in range(len(msgs)):
            evse_id, chunk = msgs[i]
            r = {"requestId": request_id, "chargingLimitSource": _SOURCE, "evseId": evse_id,
                 "chargingProfile": chunk}
            if i + 1 < len(msgs):
                r["tbc"] = True  # K09.FR.05: more ReportChargingProfiles follow
            await self.station.call("ReportChargingProfiles", r)

    # -- K10 ClearChargingProfile -------------------------------------------------------------------
    @on("ClearChargingProfile")
    def clear_charging_profile(self, p):
        self._gate()
        pid = p.get("chargingProfileId")
        crit = p.get("chargingProfileCriteria")
        if pid is None and crit is None:
            keep = lambda x: False  # K10.FR.?: no id, no criteria: all profiles
        elif pid is not None:
            keep = lambda x: x["p"]["id"] != pid  # K10.FR.01 (TC_K_05_CS): the criteria are not needed
        else:
            ev = crit.get("evseId")
            pur = crit.get("chargingProfilePurpose")
            lvl = crit.get("stackLevel")

            def keep(x):
                q = x["p"]
                return not ((ev is None or x["evse"] == ev) and (pur is None or q["chargingProfilePurpose"] == pur)
                            and (lvl is None or q["stackLevel"] == lvl))
        n = self.store.remove(keep)
        if not n:
            return {"status": "Unknown"}  # K10.FR.08 / TC_K_08_CS
        self._figures()
        self.refresh()
        return {"status": ACCEPTED}

    # -- K08 GetCompositeSchedule -----------------------------------------------------------------
    @on("GetCompositeSchedule")
    def get_composite_schedule(self, p):
        self._gate()
        st = self.station
        evse_id = p["evseId"]
        unit = p.get("chargingRateUnit") or "A"
        if evse_id != 0 and st.evse(evse_id) is None:
            return {"status": REJECTED, "statusInfo": _reason("UnknownEVSE")}  # K08.FR.05
        if unit not in st.dm.get_list(_C, "RateUnit", ("A", "W")):
            return {"status": REJECTED, "statusInfo": _reason("UnsupportedRateUnit")}  # K08.FR.07
        now = int(st.now())
        dur = p["duration"]
        mx, ph, volt, tx_start, tx_id = self._params(evse_id)
        # duration 0: still one period (chargingSchedulePeriod has minItems 1): the limit now
        comp = cmp.compose(self.store.entries + self._pending_entries(evse_id, now), evse_id, now, now + max(dur, 1),
                           mx, ph, volt, tx_start, tx_id)
        return {"status": ACCEPTED, "schedule": {
            "evseId": evse_id, "duration": dur, "scheduleStart": timefmt.iso(now), "chargingRateUnit": unit,
            "chargingSchedulePeriod": cmp.schedule_periods(comp, now, unit, volt)}}

    # -- the limit applied ------------------------------------------------------------------------------
    def _params(self, evse_id):
        st = self.station
        if evse_id == 0:
            evs = st.evses
            mx = 0
            for e in evs:
                mx += e.max_current
            ph = max([e.phases for e in evs] or [3])
            return mx, ph, (evs[0].voltage if evs else 230), None, None
        e = st.evse(evse_id)
        t = self.tx.active(evse_id)
        tx_start = int(getattr(t, "started_at", 0) or st.now()) if t is not None else None
        return e.max_current, e.phases, e.voltage, tx_start, (t.id if t is not None else None)

    def _pending_entries(self, evse_id, now):
        pend = self.pending.get(evse_id)
        if pend is None or self.tx.active(evse_id) is not None:
            return []
        # Before its transaction exists (TxStartPoint not reached yet) the K05 profile limits the
        # charging already: shown as the TxProfile of the transaction about to start.
        p = dict(pend[0])
        p["transactionId"] = "-pending-"
        e = entry(evse_id, p)
        return [e]

    def compute(self, evse_id, now=None):
        """Amps per phase evse_id may offer now; None when no profile applies (physical max)."""
        if now is None:
            now = int(self.station.now())
        mx, ph, volt, tx_start, tx_id = self._params(evse_id)
        extra = self._pending_entries(evse_id, now)
        if extra:
            tx_id = "-pending-"
            tx_start = now
        if not self.store.entries and not extra:
            return None
        return cmp.limit_now(self.store.entries + extra, evse_id, now, mx, ph, volt, tx_start, tx_id)[0]

    def limit(self, evse_id):
        """Transactions.current_limits hook (called on every EvseControl.apply)."""
        if evse_id in self.pending:
            self._adopt_pending(evse_id)
        if evse_id not in self.limits:
            self.limits[evse_id] = self.compute(evse_id)
        return self.limits[evse_id]

    def refresh(self, report=True):
        """Recompute every EVSE's limit; apply and report what changed."""
        sig = self.station.dm.get_int(_C, "LimitChangeSignificance", 10) if report else 0
        for e in self.station.evses:
            eid = e.id
            if eid in self.pending:
                self._adopt_pending(eid)
            new = self.compute(eid)
            old = self.limits.get(eid, "?")
            if old == new:
                continue
            self.limits[eid] = new
            if not report:
                continue
            a = e.max_current if old in (None, "?") else old
            b = e.max_current if new is None else new
            significant = a != b and (a == 0 or abs(b - a) * 100 >= sig * a or (a < 6) != (b < 6))
            self.tx.rate_changed(eid, significant)

    def expire(self):
        """Drop TxProfiles whose transaction is over (K01.FR.? / TC_K_60_CS: a TxProfile lives as long
        as its transaction) and profiles whose validTo has passed."""
        now = self.station.now()
        active = [t.id for t in self.tx.all_active()]

        def keep(x):
            if x["vt"] is not None and x["vt"] <= now:
                return False
            if x["p"]["chargingProfilePurpose"] == cmp.TX and x["p"].get("transactionId") not in active:
                return False
            return True

        if self.store.remove(keep):
            self._figures()


def _external(inputs, evse_id):
    li = inputs.get(evse_id)
    return li.amps() if li is not None else None


def _overlap(a, b):
    lo = a["vf"] if a["vf"] is not None else -1
    hi = a["vt"] if a["vt"] is not None else 1 << 40
    lo2 = b["vf"] if b["vf"] is not None else -1
    hi2 = b["vt"] if b["vt"] is not None else 1 << 40
    return lo < hi2 and lo2 < hi
