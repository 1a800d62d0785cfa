# G02 Heartbeat: tells the CSMS we are alive and keeps the clock in step.
# Sent every HeartbeatInterval seconds while Accepted and online; a change of
# HeartbeatInterval (BootNotification or SetVariables) takes effect at once.
import asyncio

from flexcharge.core.router import Block
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected


class Heartbeat(Block):
    def __init__(self, station):
        Block.__init__(self, station)
        self._wake = asyncio.Event()

    def start(self):
        st = self.station
        st.on_ready.append(lambda first: self._wake.set())
        st.dm.watch("OCPPCommCtrlr", "HeartbeatInterval", self._changed)

    def _changed(self, *args):
        self._wake.set()

    async def beat(self):
        st = self.station
        res = await st.call("Heartbeat", {})
        st.adopt_time(res["currentTime"], "Heartbeat")
        return res

    async def run(self):
        st = self.station
        while True:
            iv = st.dm.get_int("OCPPCommCtrlr", "HeartbeatInterval", 0)
            if iv <= 0:
                iv = 86400  # 0 would mean never; still beat daily to keep the clock (Part 4 §5.2)
            try:
                await asyncio.wait_for(self._wake.wait(), iv)
                self._wake.clear()
                continue  # interval changed or link just became ready: restart the timer
            except asyncio.TimeoutError:
                pass
            if not st.online or st.registration != "Accepted":
                continue
            try:
                await self.beat()
            except (NotConnected, CallTimeout, CallError) as e:
                st.log.warn("Heartbeat failed: %r" % (e,))
