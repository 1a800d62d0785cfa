# Fakes for the remote-control, availability, reset and reservation tests: the Transactions
# API of the issue-4 contract (active/find/all_active/remote_start/remote_stop/stop/idle,
# on_idle, evse_blocked), connector hardware with a lock, and a station context with what
# Status and those blocks use (board.storage, connectors(), report(), on_ready, reset_hook).
from support import tmpdir
from fake_station import FakeStation, make_dm, EVSES
from flexcharge.hal.storage import FileStorage
from flexcharge.core.blocks.g_availability.status import Status


class FakeHw:
    def __init__(self):
        self.is_plugged = False
        self.fault = None
        self.locked = True
        self.lock_ok = True
        self.lock_calls = []

    def plugged(self):
        return self.is_plugged

    def faulted(self):
        return self.fault

    def lock(self, locked):
        self.lock_calls.append(locked)
        if self.lock_ok is None:
            raise OSError("lock motor stuck")
        if not self.lock_ok:
            return False
        self.locked = locked


class Tx:
    def __init__(self, tid, evse_id, connector_id=1, id_token=None):
        self.id = tid
        self.evse_id = evse_id
        self.connector_id = connector_id
        self.id_token = id_token
        self.seq_no = 0
        self.remote_start_id = None
        self.charging_state = "Charging"


class FakeTx:
    def __init__(self):
        self.txs = {}  # evse_id -> Tx
        self.on_idle = []
        self.evse_blocked = []
        self.calls = []  # (name, args) of every remote_start/remote_stop/stop
        self.start_result = "Accepted"
        self._n = 0

    def begin(self, evse_id, connector_id=1, id_token=None):
        self._n += 1
        t = Tx("tx-%d" % self._n, evse_id, connector_id, id_token)
        self.txs[evse_id] = t
        return t

    def end(self, evse_id):
        del self.txs[evse_id]
        if not self.txs:
            for cb in self.on_idle:
                cb()

    def active(self, evse_id):
        return self.txs.get(evse_id)

    def find(self, tid):
        for t in self.txs.values():
            if t.id == tid:
                return t
        return None

    def all_active(self):
        return list(self.txs.values())

    def idle(self):
        return not self.txs

    def blocked(self, evse_id):
        return any(f(evse_id) for f in self.evse_blocked)

    async def remote_start(self, evse_id, id_token, remote_start_id, charging_profile=None, group=None):
        self.calls.append(("remote_start", (evse_id, id_token, remote_start_id, charging_profile)))
        if self.start_result == "Accepted":
            t = self.txs.get(evse_id)
            if t is None:
                t = self.begin(evse_id)
            t.id_token = id_token
            t.remote_start_id = remote_start_id
        return self.start_result

    async def remote_stop(self, tid):
        self.calls.append(("remote_stop", (tid,)))
        t = self.find(tid)
        if t is None:
            return "Rejected"
        self.end(t.evse_id)
        return "Accepted"

    async def stop(self, evse_id, stopped_reason, trigger_reason):
        self.calls.append(("stop", (evse_id, stopped_reason, trigger_reason)))
        if evse_id in self.txs:
            self.end(evse_id)


class Board:
    def __init__(self, path):
        self.storage = FileStorage(path)
        self.events = []


class OpsStation(FakeStation):
    """FakeStation plus what Status and the ops blocks use. Same `path` = the same state dir (a reboot)."""

    def __init__(self, path=None, evses=None, **kw):
        self.path = path or tmpdir("ops")
        FakeStation.__init__(self, dm=make_dm(self.path + "/dm", evses=evses), evses=evses, **kw)
        self.board = Board(self.path + "/st")
        self.on_ready = []
        self.on_online = []
        self.resets = []
        self.reset_hook = lambda reason, evse=None: self.resets.append(reason)
        self.hw = {}
        for e in self.evses:
            for c in e.connectors:
                c.hw = FakeHw()
                self.hw[(e.id, c.id)] = c.hw

    def evse(self, evse_id):
        for e in self.evses:
            if e.id == evse_id:
                return e
        return None

    def connectors(self):
        for e in self.evses:
            for c in e.connectors:
                yield c

    def report(self, event, fields):
        self.board.events.append((event, fields))

    def status_of(self, evse_id, cid):
        return self.evse(evse_id).connector(cid).status

    def statuses(self):
        return [(c.evse_id, c.id, c.status) for c in self.connectors()]


def add_connector_lookup(st):
    # fake_station's EVSE has no connector(); the blocks use it.
    for e in st.evses:
        e.connector = _finder(e)


def _finder(e):
    def connector(cid):
        for c in e.connectors:
            if c.id == cid:
                return c
        return None

    return connector


def make(path=None, evses=None, **kw):
    """(station, status, tx): Status built and started, connectors given FakeHw."""
    st = OpsStation(path, evses=evses, **kw)
    add_connector_lookup(st)
    status = Status(st)
    return st, status, FakeTx()


__all__ = ("FakeHw", "FakeTx", "OpsStation", "make", "EVSES")
