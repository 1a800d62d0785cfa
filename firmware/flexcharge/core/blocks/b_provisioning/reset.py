# B11/B12 Reset: the whole station or one EVSE, Immediate or OnIdle.
#
# Station: Immediate ends every transaction (triggerReason ResetCommand, stoppedReason
# ImmediateReset; B12.FR.04) and then reboots through station.reset_hook; the next
# BootNotification says RemoteReset (TC_B_22_CS). OnIdle without transactions reboots at once
# (RemoteReset, TC_B_20/23/24_CS); with transactions it answers Scheduled and reboots when
# Transactions reports idle, with reason ScheduledReset (B12.FR.01/03, TC_B_21/41_CS). No new
# transaction starts while that reset waits (otherwise a busy station never gets there).
#
# EVSE (TC_B_25..27_CS, supported): the firmware has no separate EVSE processor to reboot, so
# an EVSE reset ends its transaction (Immediate, B12.FR.08), then takes the EVSE out of service
# for a moment (Unavailable) and lets the `on_evse_reset` callbacks (the EVSE controller)
# re-initialise it; the station process keeps running. OnIdle waits for the EVSE's own
# transaction (B12.FR.07).
#
# The response always goes first (Reply.then).
import asyncio

from flexcharge.core.router import Block, Reply, on
from flexcharge.core.blocks.g_availability.status import UNAVAILABLE

ACCEPTED = "Accepted"
REJECTED = "Rejected"
SCHEDULED = "Scheduled"


class Reset(Block):
    POLL_S = 1  # how often a Scheduled EVSE reset looks at its transaction

    def __init__(self, station, transactions, status=None):
        Block.__init__(self, station)
        self.tx = transactions
        self.status = status
        self.scheduled = False  # a station OnIdle reset waits for idle
        self.resetting = set()  # EVSE ids in the middle of an EVSE reset
        self.waiting = set()  # EVSE ids with a Scheduled EVSE reset
        self.on_evse_reset = []  # callbacks(evse_id): re-initialise the EVSE's hardware/controller
        transactions.on_idle.append(self._on_idle)
        transactions.evse_blocked.append(self._blocked)
        if status is not None:
            status.overrides.append(self._override)

    def _blocked(self, evse_id):
        return self.scheduled or evse_id in self.resetting or evse_id in self.waiting

    def _override(self, c):
        return UNAVAILABLE if c.evse_id in self.resetting else None

    @on("Reset")
    def reset(self, p):
        kind = p["type"]
        evse_id = p.get("evseId")
        if evse_id is not None and evse_id != 0:
            return self._evse(kind, evse_id)
        if kind == "Immediate":
            self.scheduled = False
            return Reply({"status": ACCEPTED}, then=self._immediate())
        if self.tx.idle():
            return Reply({"status": ACCEPTED}, then=self._reboot("RemoteReset"))
        self.scheduled = True  # B12.FR.01
        return {"status": SCHEDULED}

    async def _immediate(self):
        for t in list(self.tx.all_active()):
            try:
                await self.tx.stop(t.evse_id, "ImmediateReset", "ResetCommand")  # B12.FR.04
            except Exception as e:  # B12.FR.04 says "attempt": a failure does not stop the reset
                self.station.log.error("stop before reset failed: %r" % (e,))
        # TC_B_22_CS: the Ended events reach the CSMS before the new BootNotification (bounded wait).
        drained = getattr(self.tx, "drained", None)
        if drained is not None:
            await drained(5)
        await self._reboot("RemoteReset")

    async def _reboot(self, reason):
        await asyncio.sleep(0)  # let the ResetResponse leave first
        hook = self.station.reset_hook
        if hook is None:
            self.station.log.error("Reset: no reset hook")
            return
        hook(reason)

    def _on_idle(self):
        if self.scheduled:
            self.scheduled = False
            self.station.spawn(self._reboot("ScheduledReset"))  # TC_B_21_CS step 7

    # -- one EVSE ------------------------------------------------------------------------------
    def _evse(self, kind, evse_id):
        if self.station.evse(evse_id) is None:
            return {"status": REJECTED}
        t = self.tx.active(evse_id)
        if t is None:
            return Reply({"status": ACCEPTED}, then=self._reset_evse(evse_id))
        if kind == "Immediate":
            return Reply({"status": ACCEPTED}, then=self._immediate_evse(evse_id))  # B12.FR.08
        self.waiting.add(evse_id)  # B12.FR.07
        return Reply({"status": SCHEDULED}, then=self._when_idle(evse_id))

    async def _immediate_evse(self, evse_id):
        try:
            await self.tx.stop(evse_id, "ImmediateReset", "ResetCommand")
        except Exception as e:
            self.station.log.error("stop before EVSE reset failed: %r" % (e,))
        await self._reset_evse(evse_id)

    async def _when_idle(self, evse_id):
        # Spawned so the handler is not held; ends with the EVSE's transaction.
        self.station.spawn(self._wait_evse(evse_id))

    async def _wait_evse(self, evse_id):
        while self.tx.active(evse_id) is not None:
            await asyncio.sleep(self.POLL_S)
        self.waiting.discard(evse_id)
        await self._reset_evse(evse_id)

    async def _reset_evse(self, evse_id):
        self.resetting.add(evse_id)
        self._refresh(evse_id)
        try:
            for cb in self.on_evse_reset:
                try:
                    r = cb(evse_id)
                    if r is not None and (hasattr(r, "send") or hasattr(r, "__await__")):
                        await r
                except Exception as e:
                    self.station.log.error("EVSE reset callback failed: %r" % (e,))
            await asyncio.sleep(0)
        finally:
            self.resetting.discard(evse_id)
            self._refresh(evse_id)

    def _refresh(self, evse_id):
        if self.status is not None:
            self.status.refresh(evse_id)
