# A fake station context for driving functional blocks in the portable tests: the subset of
# core/station.py blocks may use (dm, log, evses, now, isonow, call, spawn, online,
# registration), with every CALL recorded and answered from a script.
import asyncio

from support import tmpdir
from flexcharge.core import timefmt
from flexcharge.comm.errors import NotConnected
from flexcharge.hal.storage import FileStorage
from flexcharge.core.devicemodel import DeviceModel
from flexcharge.core.devicemodel import standard
from flexcharge.core.router import Router
from flexcharge.core import v201

EVSES = [
    {"id": 1, "connectors": 2, "max_current": 32, "phases": 3, "voltage": 230},
    {"id": 2, "connectors": 1, "max_current": 16, "phases": 1, "voltage": 230},
]


class FakeLog:
    def __init__(self):
        self.lines = []

    def _w(self, lvl, msg):
        self.lines.append((lvl, msg))

    def debug(self, msg):
        self._w("D", msg)

    def info(self, msg):
        self._w("I", msg)

    def warn(self, msg):
        self._w("W", msg)

    def error(self, msg):
        self._w("E", msg)

    def count(self, lvl):
        return len([x for x in self.lines if x[0] == lvl])


class Connector:
    def __init__(self, evse_id, cid):
        self.evse_id = evse_id
        self.id = cid
        self.status = "Available"


class EVSE:
    def __init__(self, cfg):
        self.id = cfg["id"]
        self.connectors = tuple(Connector(self.id, c) for c in range(1, cfg.get("connectors", 1) + 1))


def make_dm(path=None, evses=None, tables=None, load=True):
    """A DeviceModel over a FileStorage in a fresh (or the given) directory."""
    log = FakeLog()
    dm = DeviceModel(FileStorage(path or tmpdir("dm")), log)
    for t in standard.TABLES if tables is None else tables:
        dm.add_table(t)
    dm.add_evses(EVSES if evses is None else evses)
    if load:
        dm.load()
    return dm


class FakeStation:
    def __init__(self, dm=None, evses=None, online=True, registration="Accepted"):
        self.dm = dm if dm is not None else make_dm(evses=evses)
        self.log = self.dm.log
        self.evses = tuple(EVSE(e) for e in (EVSES if evses is None else evses))
        self.online = online
        self.registration = registration
        self.t = 1795000000  # 2026-11-18 (an int: a float32 epoch moves in 128 s steps)
        self.calls = []  # (action, payload) of every CALL the blocks made, answered or not
        self.responses = {}  # action -> payload, exception instance, or callable(payload)
        self.pending = []  # coroutines handed to spawn(), run by drain()

    def now(self):
        return self.t

    def isonow(self):
        return timefmt.iso(self.t)

    async def call(self, action, payload, wait=False, on_result=None):
        self.calls.append((action, payload))
        if not self.online:
            raise NotConnected("offline")
        r = self.responses.get(action, {})
        if callable(r):
            r = r(payload)
        if isinstance(r, Exception):
            raise r
        if on_result is not None:
            on_result(r)  # as core/station.py does: while the answer is read
        await asyncio.sleep(0)
        return r

    def spawn(self, coro):
        # Kept, not scheduled: a test decides when background work runs (drain()).
        self.pending.append(coro)
        return coro

    def drain(self):
        """Run the spawned coroutines (and what they spawn) to completion, in order."""

        async def go():
            while self.pending:
                await self.pending.pop(0)

        support_run(go())

    def sent(self, action):
        return [p for a, p in self.calls if a == action]




class Handlers:
    """Drive blocks the way the RPC layer does: Router.dispatch (schema-validated requests,
    CallError for a CALLERROR) -> Reply; then() awaits the follow-up work (NotifyReport...)."""

    def __init__(self, st, *blocks):
        self.st = st
        self.router = Router(v201, st.log)
        for b in blocks:
            self.router.add(b)

    def reply(self, action, payload):
        return support_run(self.router.dispatch(action, payload))

    def __call__(self, action, payload):
        return self.reply(action, payload).payload

    def then(self, r):
        if r.then is not None:
            support_run(r.then)
        return r.payload


def support_run(coro):
    from support import run

    return run(coro)
