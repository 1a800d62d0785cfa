# OCPP-J RPC (Part 4 §4): CALL / CALLRESULT / CALLERROR framing over one WebSocket.
#
# - At most one outstanding CALL from the station (Part 4 §4.1.1): call() holds a lock
#   until the answer or MessageTimeout.
# - CSMS CALLs are answered in any state, also while our own CALL is outstanding.
# - Malformed input never raises out of on_message(): it is answered with the CALLERROR
#   Part 4 names, or dropped where the spec allows.
import json
import asyncio

from flexcharge.compat import const, print_exception, json_loads_buf, ticks_ms, ticks_diff, ticks_add
from flexcharge.comm import jsoncheck
from flexcharge.comm.errors import (
    CallError,
    CallTimeout,
    NotConnected,
    RPC_FRAMEWORK_ERROR,
    FORMAT_VIOLATION,
    MESSAGE_TYPE_NOT_SUPPORTED,
    INTERNAL_ERROR,
)

CALL = const(2)
CALLRESULT = const(3)
CALLERROR = const(4)
_MAX_ID = const(36)  # Part 4 Table 4: messageId string[36]
_MAX_DESC = const(255)  # Part 4 Table 7: errorDescription string[255]


def _desc(s):
    s = str(s)
    return s if len(s) <= _MAX_DESC else s[: _MAX_DESC - 3] + "..."


def encode_call(mid, action, payload):
    return json.dumps([CALL, mid, action, payload])


def encode_result(mid, payload):
    return json.dumps([CALLRESULT, mid, payload])


def encode_error(mid, code, description="", details=None):
    return json.dumps([CALLERROR, mid, code, _desc(description), details if details else {}])


class Rpc:
    """dispatch: async (action, payload) -> object with .payload and .then (core.router.Reply),
    raising CallError. ids: () -> new unique message id. spawn: (coro) -> task."""

    def __init__(self, dispatch, ids, log, spawn):
        self.dispatch = dispatch
        self.ids = ids
        self.log = log
        self.spawn = spawn
        self.ws = None
        self._lock = asyncio.Lock()
        self._pending = None  # our outstanding CALL: see call()
        self.on_other_type = None  # hook for message types a newer profile defines (2.1 SEND...)
        self.trace = None  # optional callable(direction, text) for diagnostics
        # Size in bytes of the CSMS message being handled: the BytesPerMessage checks (B06.FR.17,
        # B08.FR.18, N04.FR.09...) read it instead of serialising the payload again.
        self.rx_size = 0
        # Metrics (diag/metrics.py): messages sent, received, CALLERRORs sent, CALLERRORs received.
        self.counts = [0, 0, 0, 0]

    # -- link ---------------------------------------------------------------
    def attach(self, ws):
        self.ws = ws

    def detach(self):
        self.ws = None
        p = self._pending
        if p is not None:
            p[3] = NotConnected("connection lost")
            p[2].set()

    async def _send(self, text):
        ws = self.ws
        if ws is None:
            raise NotConnected("not connected")
        if self.trace is not None:
            self.trace(">", text)
        await ws.send(text)
        self.counts[0] += 1

    # -- station -> CSMS ----------------------------------------------------
    async def call(self, action, payload, timeout_s=30, on_result=None):
        """Send a CALL and wait for its answer. Returns the CALLRESULT payload.

        on_result(payload), if given, runs synchronously as the CALLRESULT is read, before the
        next frame is processed: state that gates the next CSMS message is set there (B03.FR.08).
        Raises CallError (CALLERROR received), CallTimeout, NotConnected."""
        async with self._lock:
            await self._drain()
            if self.ws is None:
                raise NotConnected("not connected")
            mid = self.ids()
            ev = asyncio.Event()
            # [id, action, answered, result, on_result, deadline]. The outstanding CALL is the
            # link's, not the caller's: it stays in _pending until answered, timed out or the link
            # drops, even if the calling task is cancelled meanwhile (Part 4 §4.1.1, one at a time).
            p = [mid, action, ev, None, on_result, ticks_add(ticks_ms(), int(timeout_s * 1000))]
            self._pending = p
            try:
                await self._send(encode_call(mid, action, payload))
            except asyncio.CancelledError:
                raise  # the frame may be out: the next CALL waits for it (_drain)
            except BaseException:
                self._pending = None  # not sent
                raise
            try:
                await asyncio.wait_for(ev.wait(), timeout_s)
            except asyncio.TimeoutError:
                if self._pending is p:
                    self._pending = None
                raise CallTimeout(action + " timed out")
            if self._pending is p:
                self._pending = None
            r = p[3]
            if isinstance(r, Exception):
                raise r
            return r

    async def _drain(self):
        # A caller that was cancelled (a GetLog cancelling the running upload, a stopped loop) left
        # its CALL outstanding: wait for that answer or that CALL's own timeout before sending. Each
        # waiter re-reads _pending, so a waiter cancelled here hands the wait on to the next one.
        p = self._pending
        while p is not None and not p[2].is_set():
            rem = ticks_diff(p[5], ticks_ms())
            if rem <= 0:
                break
            try:
                await asyncio.wait_for(p[2].wait(), rem / 1000)
            except asyncio.TimeoutError:
                break
        if self._pending is p:
            self._pending = None

    # -- CSMS -> station ----------------------------------------------------
    async def on_message(self, data, n=-1):
        """One received text message: str, or bytes/bytearray of UTF-8 (its first n bytes)."""
        b = data.encode() if isinstance(data, str) else data
        if n < 0:
            n = len(b)
        self.rx_size = n
        self.counts[1] += 1
        if self.trace is not None:
            self.trace("<", data if isinstance(data, str) else bytes(b[:n]).decode())
        # Part 4 §4.1.2: the message MUST be valid JSON; MicroPython's json.loads is lenient
        # and recursive consumers need a bounded depth, so check strictly first (one pass).
        chk = jsoncheck.check(b, n)
        if chk[0] != jsoncheck.OK:
            return await self._on_unreadable(b, chk)
        try:
            msg = json_loads_buf(b, n)
        except MemoryError:
            # Valid JSON, received whole, but its values need more contiguous heap than is free
            # (a 60 KB string after hours of traffic): answered under its messageId, not dropped.
            self.log.warn("no heap to parse a %d-byte message" % n)
            return await self._on_unreadable(b, chk, INTERNAL_ERROR, "Not enough memory for this message")
        except Exception:
            return await self._on_unreadable(b, chk, RPC_FRAMEWORK_ERROR, "Invalid JSON")
        if not isinstance(msg, list) or len(msg) < 3:
            return await self._reply_error("-1", RPC_FRAMEWORK_ERROR, "Not an OCPP-J message array")
        mtype, mid = msg[0], msg[1]
        if not isinstance(mid, str) or not mid or len(mid) > _MAX_ID:
            return await self._reply_error("-1", RPC_FRAMEWORK_ERROR, "MessageId could not be read")
        if isinstance(mtype, bool) or not isinstance(mtype, int):
            return await self._reply_error(mid, RPC_FRAMEWORK_ERROR, "MessageTypeId is not an integer")
        if mtype == CALL:
            return await self._on_call(msg, mid)
        if mtype == CALLRESULT or mtype == CALLERROR:
            return self._on_answer(msg, mtype, mid)
        if self.on_other_type is not None and await self.on_other_type(msg):
            return
        # Part 4 §4.4
        await self._reply_error(mid, MESSAGE_TYPE_NOT_SUPPORTED, "MessageTypeId %d is not supported" % mtype)

    async def _on_call(self, msg, mid):
        if len(msg) != 4 or not isinstance(msg[2], str):
            return await self._reply_error(mid, RPC_FRAMEWORK_ERROR, "A CALL has 4 elements: type, id, action, payload")
        action, payload = msg[2], msg[3]
        if not isinstance(payload, dict):
            return await self._reply_error(mid, FORMAT_VIOLATION, "Payload is not a JSON object")
        try:
            reply = await self.dispatch(action, payload)
        except CallError as e:
            return await self._reply_error(mid, e.code, e.description, e.details)
        except Exception as e:
            print_exception(e)
            return await self._reply_error(mid, INTERNAL_ERROR, str(e))
        try:
            await self._send(encode_result(mid, reply.payload))
        except Exception as e:  # link went down while answering: the CSMS will time out
            self.log.warn("reply to %s not sent: %r" % (action, e))
            return
        if reply.then is not None:
            self.spawn(reply.then)

    def _on_answer(self, msg, mtype, mid):
        p = self._pending
        if p is None or p[0] != mid:
            # Late answer to a CALL that timed out, or an id we never sent: drop (Part 4 §4.2).
            self.log.warn("dropping answer with unexpected id %s" % mid)
            return
        if mtype == CALLRESULT:
            payload = msg[2]
            if len(msg) != 3 or not isinstance(payload, dict):
                p[3] = CallError(FORMAT_VIOLATION, "malformed CALLRESULT")
            else:
                p[3] = payload
                if p[4] is not None:
                    try:
                        p[4](payload)
                    except Exception as e:
                        self.log.warn("on_result of %s failed: %r" % (p[1], e))
        else:
            code = msg[2] if isinstance(msg[2], str) else "GenericError"
            desc = msg[3] if len(msg) > 3 and isinstance(msg[3], str) else ""
            det = msg[4] if len(msg) > 4 and isinstance(msg[4], dict) else {}
            p[3] = CallError(code, desc, det)
            self.counts[3] += 1
        p[2].set()

    async def _on_unreadable(self, b, chk, code=RPC_FRAMEWORK_ERROR, why=None):
        status, where, ids, tys = chk
        mid = "-1"  # Part 4 §4.2.3: the MessageId could not be read
        if ids is not None and ids[1] - ids[0] <= 2 + 6 * _MAX_ID:  # 36 characters, escaped
            v = json_loads_buf(b[ids[0] : ids[1]], ids[1] - ids[0])
            if 0 < len(v) <= _MAX_ID:
                mid = v
        mtype = None
        if tys is not None and tys[1] - tys[0] < 20:
            mtype = json_loads_buf(b[tys[0] : tys[1]], tys[1] - tys[0])
        if why is None:
            why = "nested deeper than %d levels" % jsoncheck.MAX_DEPTH if status == jsoncheck.DEEP else "Invalid JSON"
        if mtype == CALLRESULT or mtype == CALLERROR:
            # An answer is never answered: fail our CALL it belongs to, or drop it.
            p = self._pending
            self.log.warn("unreadable answer (%s), id %s" % (why, mid))
            if p is not None and p[0] == mid:
                p[3] = CallError(FORMAT_VIOLATION, "malformed answer: " + why)
                p[2].set()
            return
        if status == jsoncheck.DEEP and where == 3 and mtype == CALL and mid != "-1":
            # The wrapper was read and only the payload is too deep: like a payload over
            # BytesPerMessage, a payload the station will not take (FormatViolation). A
            # wrapper that cannot be read is RpcFrameworkError, as for invalid JSON.
            return await self._reply_error(mid, FORMAT_VIOLATION, "Payload " + why)
        # Not valid JSON: not a valid RPC request (Part 4 §4.1.2, §4.3 RpcFrameworkError),
        # answered with its messageId when that much was readable.
        await self._reply_error(mid, code, why)

    async def _reply_error(self, mid, code, description, details=None):
        self.counts[2] += 1
        try:
            await self._send(encode_error(mid, code, description, details))
        except Exception as e:
            self.log.warn("CALLERROR not sent: %r" % (e,))
