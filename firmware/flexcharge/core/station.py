# The core's context object: what every functional block may use. Built by the
# composition root (lifecycle/boot.py), which also attaches the Rpc.
import asyncio

from binascii import hexlify

from flexcharge.compat import print_exception, urandom
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected, FORMAT_VIOLATION
from flexcharge.core import timefmt
from flexcharge.core.router import warn_loose

# Messages a station only sends because the CSMS asked for them, so they may go out
# while the registration is Pending (TC_B_02_CS steps 7-10: NotifyReport while Pending).
_SOLICITED = (
    "NotifyReport",
    "NotifyMonitoringReport",
    "NotifyCustomerInformation",
    "LogStatusNotification",
    "FirmwareStatusNotification",
    "PublishFirmwareStatusNotification",
    "NotifyDisplayMessages",
    "ReportChargingProfiles",
)

# Times a CSMS clock may plausibly give (2020-01-01, 2100-01-01): ints, never floats.
_MIN_EPOCH = 1577836800
_MAX_EPOCH = 4102444800

ACCEPTED = "Accepted"
PENDING = "Pending"
REJECTED = "Rejected"

class Connector:
    def __init__(self, evse_id, cid, hw):
        self.evse_id = evse_id
        self.id = cid
        self.hw = hw  # flexcharge.hal.ConnectorHw or None
        self.status = "Available"


class EVSE:
    def __init__(self, cfg, board):
        self.id = cfg["id"]
        self.max_current = cfg.get("max_current", 32)
        self.phases = cfg.get("phases", 3)
        self.voltage = cfg.get("voltage", 230)
        hw = getattr(board, "connectors", {}) if board is not None else {}
        self.connectors = tuple(
            Connector(self.id, c, hw.get((self.id, c))) for c in range(1, cfg.get("connectors", 1) + 1)
        )

    def connector(self, cid):
        for c in self.connectors:
            if c.id == cid:
                return c
        return None


class Station:
    def __init__(self, config, board, dm, profile, log, boot_count=0):
        self.config = config
        self.board = board
        self.dm = dm
        self.profile = profile
        self.log = log
        self.evses = tuple(EVSE(e, board) for e in config["evses"])
        self.registration = None
        self.online = False
        self.rpc = None
        # Boot counter + random salt: unique across reboots and across a wiped state directory.
        self._id_prefix = "%d.%s" % (boot_count, hexlify(urandom(3)).decode())
        self._msg_counter = 0
        self._accepted = asyncio.Event()
        self._tasks = []
        self.on_online = []  # callbacks(online: bool), in registration order
        self.on_ready = []  # callbacks(first: bool) once the link is up AND the registration Accepted
        self.triggered = None  # action allowed once while Pending (TriggerMessage, F06.FR.17)
        self.reset_hook = None  # callable(reason, evse=None), set by the composition root
        self._report_failures = 0
        self.on_clock = []  # callbacks(delta_s, source) after the CSMS set the clock (A04 SettingSystemTime)

    # -- addressing ----------------------------------------------------------
    def evse(self, evse_id):
        for e in self.evses:
            if e.id == evse_id:
                return e
        return None

    def connectors(self):
        for e in self.evses:
            for c in e.connectors:
                yield c

    # -- time ------------------------------------------------------------------
    def now(self):
        return self.board.clock.now()

    def isonow(self):
        return timefmt.iso(self.now())

    def adopt_time(self, value, source):
        """B01 / G02: take the CSMS's currentTime. Robust in what we accept: the schema has
        already checked the form; an absurd value (0001-01-01, year 2200) would wreck every
        later timestamp, so it is logged and ignored. Returns True if the clock was set."""
        r = timefmt.scan(value)
        if r is None:
            self.log.warn("%s currentTime %r ignored: not a date-time" % (source, value))
            return False
        if not (_MIN_EPOCH <= r[0] < _MAX_EPOCH):
            self.log.warn("%s currentTime %r ignored: outside 2020..2099" % (source, value[:40]))
            return False
        delta = r[0] - int(self.now())
        self.board.clock.set(r[0])
        for cb in self.on_clock:
            try:
                cb(delta, source)
            except Exception as e:
                self.log.error("clock callback failed: %r" % (e,))
        return True

    # -- ids: unique across reboots (Part 4 §4.1.3): the persisted boot counter prefixes them
    def next_id(self):
        self._msg_counter += 1
        return "%s.%d" % (self._id_prefix, self._msg_counter)

    # -- tasks ------------------------------------------------------------------
    def spawn(self, coro):
        t = asyncio.create_task(self._guard(coro))
        self._tasks.append(t)
        if len(self._tasks) > 16:
            self._tasks = [x for x in self._tasks if not x.done()]
        return t

    def cancel_tasks(self):
        # Shutdown: background jobs (report senders, delivery loops) end with the station, so
        # nothing keeps the station's objects alive in the event loop afterwards.
        for t in self._tasks:
            if not t.done():
                t.cancel()
        self._tasks = []

    async def _guard(self, coro):
        # A background job's failure is logged, never left to kill the loop silently.
        try:
            return await coro
        except asyncio.CancelledError:
            raise
        except (CallError, CallTimeout, NotConnected) as e:
            # A follow-up CALL (triggered message, report) the CSMS refused or did not answer:
            # expected in the field, one line in the log, no traceback.
            self.log.warn("background CALL failed: %r" % (e,))
        except Exception as e:
            self.log.error("task failed: %r" % (e,))
            print_exception(e)

    def report(self, event, fields):
        # A failing report sink (a display, the unix board's stdout with its reader gone) must
        # never stop the station: the caller is the connection loop or a transaction.
        try:
            self.board.indicator.report(event, fields)
        except Exception as e:
            self._report_failures += 1
            if self._report_failures == 1:
                self.log.error("report sink failed (%r): events dropped" % (e,))

    # -- registration -----------------------------------------------------------
    def set_registration(self, status):
        self.registration = status
        if status == ACCEPTED:
            self._accepted.set()
        elif self._accepted.is_set():
            self._accepted = asyncio.Event()  # callers of accepted() wait for the next Accepted

    async def accepted(self):
        await self._accepted.wait()

    def ready(self, first):
        # Called by the boot block: after the first Accepted of this boot (first=True) and
        # after every reconnect once Accepted (first=False, B04: no new BootNotification).
        for cb in self.on_ready:
            try:
                cb(first)
            except Exception as e:
                self.log.error("ready callback failed: %r" % (e,))

    def set_online(self, online):
        if online == self.online:
            return
        self.online = online
        for cb in self.on_online:
            try:
                cb(online)
            except Exception as e:
                self.log.error("online callback failed: %r" % (e,))

    # -- station -> CSMS ---------------------------------------------------------
    def may_send(self, action):
        """B02/B03: before Accepted only BootNotification, and while Pending what the CSMS asked for."""
        if self.registration == ACCEPTED:
            return True
        if action == "BootNotification":
            return True
        if self.registration == PENDING:
            return action in _SOLICITED or action == self.triggered
        return False

    async def call(self, action, payload, wait=False, on_result=None):
        """Send a CALL; returns the CALLRESULT payload, checked against the schema.

        Raises NotConnected when offline or when the registration state forbids the
        message now (wait=True instead waits until Accepted), CallError, CallTimeout."""
        if not self.may_send(action):
            if not wait:
                raise NotConnected("%s not allowed while %s" % (action, self.registration))
            await self.accepted()
        if self.rpc is None:
            raise NotConnected("no link")
        if action == self.triggered:
            self.triggered = None
        timeout = self.dm.get_int("OCPPCommCtrlr", "MessageTimeout", 30, var_instance="Default")
        verdict = []

        def checked(r):
            # Validated once, as the answer is read; on_result (state that gates the next CSMS
            # frame) only sees a valid answer.
            notes = []
            err = self.profile.validate(action + "Response", r, notes)
            verdict.append(err)
            warn_loose(self.log, action + "Response", notes)
            if err is None and on_result is not None:
                on_result(r)

        res = await self.rpc.call(action, payload, timeout, checked)
        err = verdict[0] if verdict else self.profile.validate(action + "Response", res)
        if err is not None:
            # Robust in what we accept, but a response we cannot read is not a success.
            self.log.warn("%sResponse rejected: %s %s" % (action, err[0], err[1]))
            raise CallError(FORMAT_VIOLATION, err[1])
        return res
