# Declarative message routing: each functional block is a class whose methods are
# marked with @on("Action"); the Router collects them. Modelled on the `ocpp`
# package's @on, but MicroPython functions take no attributes, so the decorator
# wraps the function in a small _Handler object that Router.add() finds in the
# class dict.
from flexcharge.comm.errors import (
    CallError,
    NOT_IMPLEMENTED,
    NOT_SUPPORTED,
    FORMAT_VIOLATION,
    INTERNAL_ERROR,
)
from flexcharge.compat import print_exception
from flexcharge.core.timefmt import scan, loose_reason


class _Handler:
    def __init__(self, action, fn):
        self.action = action
        self.fn = fn


def on(action):
    def deco(fn):
        return _Handler(action, fn)

    return deco


class Reply:
    """A handler result that also asks for work to start once the reply is sent
    (e.g. NotifyReport after GetBaseReportResponse, BootNotification after TriggerMessage)."""

    def __init__(self, payload, then=None):
        self.payload = payload
        self.then = then


class Block:
    """Base of a functional block. `station` is the core context (see core/station.py).

    VARIABLES: device model definitions this block contributes (see core/devicemodel).
    """

    VARIABLES = ()

    def __init__(self, station):
        self.station = station

    def start(self):
        # Called once after all blocks are registered; start background tasks here.
        pass


def warn_loose(log, message, notes):
    # Robust in what we accept: a date-time without offset (read as UTC) or with a space
    # for "T" is taken, never rejected, but logged so the operator can tell the CSMS's maker.
    for v in notes:
        r = scan(v)
        log.warn("%s: date-time %r accepted: %s" % (message, v[:40], loose_reason(r[2])))


def _is_awaitable(r):
    return hasattr(r, "send") or hasattr(r, "__await__")


class Router:
    def __init__(self, profile, log):
        self.profile = profile
        self.log = log
        self._handlers = {}
        self.gate = None  # callable(action) -> CallError or None, set by the station (B03.FR.08)

    def add(self, block):
        for cls in _mro(type(block)):
            for name, h in cls.__dict__.items():
                if isinstance(h, _Handler) and h.action not in self._handlers:
                    self._handlers[h.action] = (block, h.fn)
        return block

    def handles(self, action):
        return action in self._handlers

    async def dispatch(self, action, payload):
        """Answer one CSMS CALL. Returns a Reply; raises CallError for a CALLERROR."""
        if not self.profile.is_request(action):
            raise CallError(NOT_IMPLEMENTED, "Unknown action " + action[:50])
        if self.gate is not None:
            err = self.gate(action)
            if err is not None:
                raise err
        entry = self._handlers.get(action)
        if entry is None:
            raise CallError(NOT_SUPPORTED, action + " is not supported")
        if not isinstance(payload, dict):
            raise CallError(FORMAT_VIOLATION, "payload must be a JSON object")
        notes = []
        err = self.profile.validate(action + "Request", payload, notes)
        if err is not None:
            raise CallError(err[0], err[1])
        warn_loose(self.log, action + "Request", notes)
        block, fn = entry
        try:
            r = fn(block, payload)
            if _is_awaitable(r):
                r = await r
        except CallError:
            raise
        except Exception as e:  # a handler bug must not take the station down
            print_exception(e)
            raise CallError(INTERNAL_ERROR, "handler failed: " + str(e)[:100])
        if not isinstance(r, Reply):
            r = Reply(r)
        return r


def _mro(cls):
    out = []
    while cls is not None and cls is not object:
        out.append(cls)
        b = getattr(cls, "__bases__", ())
        cls = b[0] if b else None
    return out
