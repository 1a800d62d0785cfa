"""A CSMS for development and integration tests (CPython only).

Built on `ocpp.v201.ChargePoint` (one per WebSocket connection) and `websockets.asyncio.server.serve`.
It records every frame in both directions with timestamps and checks every frame the station sends
against the OCA JSON schemas shipped in `ocpp/v201/schemas` and the OCPP-J framing rules of Part 4
(collected in `Csms.violations`).

The server runs its own asyncio loop in a background thread, so synchronous code (pytest tests, the
demo) can drive it: every public method without an `a` prefix is thread-safe and blocking; the
`a`-prefixed coroutines run inside the CSMS loop (for listeners and hooks).

    csms = Csms(heartbeat_interval=5, boot=[("Pending", 3), "Accepted"]).start()
    csms.url                           # ws://127.0.0.1:<port>/ocpp  (the station appends its identity)
    csms.wait_call("BootNotification", timeout=10)
    reply = csms.call("GetVariables", {...})   # -> Frame (CALLRESULT or CALLERROR)
    reply = csms.send_raw("[2, ")               # -> Frame the station answered with
    csms.drop("tcp"); csms.refuse(10)
    csms.assert_no_violations(); csms.stop()

The module also has `StationProcess`, which runs `tools/station` (the launcher contract of DESIGN.md)
with its stdin/stdout JSON lines wired up.
"""

import asyncio
import base64
import datetime
import json
import logging
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import unquote

import jsonschema
import ocpp
from ocpp.exceptions import OCPPError
from ocpp.messages import unpack, validate_payload
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

CALL, CALLRESULT, CALLERROR = 2, 3, 4
KIND_NAMES = {CALL: "CALL", CALLRESULT: "CALLRESULT", CALLERROR: "CALLERROR"}

# Part 4 §4.3 Table 8: the only error codes a CALLERROR may carry.
ERROR_CODES = frozenset((
    "FormatViolation", "GenericError", "InternalError", "MessageTypeNotSupported", "NotImplemented",
    "NotSupported", "OccurrenceConstraintViolation", "PropertyConstraintViolation", "ProtocolError",
    "RpcFrameworkError", "SecurityError", "TypeConstraintViolation",
))

SCHEMA_DIR = os.path.join(os.path.dirname(ocpp.__file__), "v201", "schemas")
SUBPROTOCOL = "ocpp2.0.1"
_UNSET = object()
NO_REPLY = object()  # a responder returning this leaves the station's CALL unanswered

_QUIET = logging.getLogger("flexcharge.csms")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False

# Minimal schema-valid answers to every request a station may send (CS -> CSMS in 2.0.1).
# BootNotification, Heartbeat and StatusNotification are answered by the @on handlers below.
DEFAULT_RESPONSES = {
    "Authorize": {"idTokenInfo": {"status": "Accepted"}},
    "ClearedChargingLimit": {},
    "DataTransfer": {"status": "UnknownVendorId"},
    "FirmwareStatusNotification": {},
    "Get15118EVCertificate": {"status": "Failed", "exiResponse": ""},
    "GetCertificateStatus": {"status": "Failed"},
    "LogStatusNotification": {},
    "MeterValues": {},
    "NotifyChargingLimit": {},
    "NotifyCustomerInformation": {},
    "NotifyDisplayMessages": {},
    "NotifyEVChargingNeeds": {"status": "Accepted"},
    "NotifyEVChargingSchedule": {"status": "Accepted"},
    "NotifyEvent": {},
    "NotifyMonitoringReport": {},
    "NotifyReport": {},
    "PublishFirmwareStatusNotification": {},
    "ReportChargingProfiles": {},
    "ReservationStatusUpdate": {},
    "SecurityEventNotification": {},
    "SignCertificate": {"status": "Accepted"},
    "TransactionEvent": {},
}


def iso_now():
    """Current UTC time as RFC 3339 with milliseconds and 'Z'."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Loose date-time forms real CSMS send (issue 8), in the order a "loose" CSMS cycles through them.
LOOSE_FORMS = (
    lambda n: n.strftime("%Y-%m-%dT%H:%M:%S.%f"),           # no offset, microseconds (a widely used CSMS)
    lambda n: n.strftime("%Y-%m-%dt%H:%M:%S.%fz"),          # lower-case t and z
    lambda n: n.strftime("%Y-%m-%d %H:%M:%SZ"),             # space instead of T
    lambda n: n.strftime("%Y-%m-%d %H:%M:%S"),              # both
    lambda n: n.strftime("%Y-%m-%dT%H:%M:%S.") + "%09d" % (n.microsecond * 1000),  # 9 digits, no offset
)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# Schema and framing checks
# ---------------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?"
    r"([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$")

_FORMATS = jsonschema.FormatChecker(formats=())


# What the station sends must be strict: RFC 3339 in UTC with an upper-case "T" and "Z" (issue 8).
_STRICT_UTC = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?Z$")


@_FORMATS.checks("date-time")
def _is_date_time(value):
    # jsonschema only checks date-time when an optional package is installed: check it ourselves.
    if not isinstance(value, str):
        return True
    return _RFC3339.match(value) is not None


_STATION_FORMATS = jsonschema.FormatChecker(formats=())


@_STATION_FORMATS.checks("date-time")
def _is_strict_utc(value):
    if not isinstance(value, str):
        return True
    return _RFC3339.match(value) is not None and _STRICT_UTC.match(value) is not None


class SchemaBook:
    """The OCA JSON schemas of OCPP 2.0.1, loaded lazily, with format checking of date-time."""

    def __init__(self, schema_dir=SCHEMA_DIR, formats=_FORMATS):
        self.dir = schema_dir
        self.formats = formats
        self._validators = {}

    def has(self, name):
        return name in self._validators or os.path.exists(os.path.join(self.dir, name + ".json"))

    def validator(self, name):
        v = self._validators.get(name)
        if v is None:
            with open(os.path.join(self.dir, name + ".json"), encoding="utf-8-sig") as f:
                schema = json.load(f)
            cls = jsonschema.validators.validator_for(schema)
            v = cls(schema, format_checker=self.formats)
            self._validators[name] = v
        return v

    def errors(self, name, payload):
        """Schema problems of `payload` against schema `name` (e.g. "BootNotificationRequest")."""
        if not self.has(name):
            return ["no schema %s" % name]
        out = []
        for e in sorted(self.validator(name).iter_errors(payload), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in e.absolute_path) or "(root)"
            out.append("%s: %s [%s]" % (where, e.message[:300], e.validator))
        return out


SCHEMAS = SchemaBook()
STATION_SCHEMAS = SchemaBook(formats=_STATION_FORMATS)  # what the station sends: strict UTC date-times


def check_station_frame(data, pending, schemas=STATION_SCHEMAS):
    """Parse and check one frame the station sent.

    data: str (text frame) or bytes (binary frame). pending: {messageId: action} of CALLs the CSMS sent
    and the station has not answered yet (an answered entry is removed). Returns (info, problems) where
    info = {"kind", "msg_id", "action", "payload", "error_code", "error_description", "error_details",
    "parsed"} and problems is a list of strings (empty when the frame is valid).
    """
    info = {"kind": None, "msg_id": None, "action": None, "payload": None, "error_code": None,
            "error_description": None, "error_details": None, "parsed": None}
    problems = []
    if isinstance(data, (bytes, bytearray)):
        problems.append("binary WebSocket frame (OCPP-J uses text frames)")
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return info, problems
    try:
        msg = json.loads(data)
    except ValueError as e:
        problems.append("not valid JSON: %s" % e)  # Part 4 §4.1.2
        return info, problems
    info["parsed"] = msg
    if not isinstance(msg, list) or not msg:
        problems.append("not a non-empty JSON array")
        return info, problems
    kind = msg[0]
    if type(kind) is not int or kind not in (CALL, CALLRESULT, CALLERROR):
        problems.append("unknown MessageTypeId %r" % (kind,))  # Part 4 §4.1.3
        return info, problems
    info["kind"] = kind
    expected_len = {CALL: 4, CALLRESULT: 3, CALLERROR: 5}[kind]
    if len(msg) != expected_len:
        problems.append("%s must have %d elements, has %d" % (KIND_NAMES[kind], expected_len, len(msg)))
    msg_id = msg[1] if len(msg) > 1 else None
    info["msg_id"] = msg_id
    if not isinstance(msg_id, str):
        problems.append("messageId is not a string: %r" % (msg_id,))
    elif len(msg_id) > 36 or not msg_id:  # Part 4 §4.1.4: string[36]
        problems.append("messageId length %d not in 1..36" % len(msg_id))

    if kind == CALL:
        action = msg[2] if len(msg) > 2 else None
        payload = msg[3] if len(msg) > 3 else None
        info["action"], info["payload"] = action, payload
        if not isinstance(action, str):
            problems.append("action is not a string: %r" % (action,))
        elif not schemas.has(action + "Request"):
            problems.append("unknown action %r (no %sRequest schema)" % (action, action))
        elif not isinstance(payload, dict):
            problems.append("payload is not an object")  # Part 4 §4.1.5
        else:
            problems.extend("%sRequest %s" % (action, p) for p in schemas.errors(action + "Request", payload))
    elif kind == CALLRESULT:
        payload = msg[2] if len(msg) > 2 else None
        info["payload"] = payload
        action = pending.pop(msg_id, None) if isinstance(msg_id, str) else None
        info["action"] = action or None
        if action is None:
            problems.append("CALLRESULT for messageId %r, which no outstanding CSMS CALL has" % (msg_id,))
        elif not isinstance(payload, dict):
            problems.append("payload is not an object")
        elif not action or not schemas.has(action + "Response"):
            problems.append("CALLRESULT to a frame that is not a CALL of a known action (%r)" % action)
        else:
            problems.extend("%sResponse %s" % (action, p) for p in schemas.errors(action + "Response", payload))
    else:
        code = msg[2] if len(msg) > 2 else None
        desc = msg[3] if len(msg) > 3 else None
        details = msg[4] if len(msg) > 4 else None
        info["error_code"], info["error_description"], info["error_details"] = code, desc, details
        action = pending.pop(msg_id, None) if isinstance(msg_id, str) else None
        info["action"] = action or None
        # "-1" answers a CALL whose messageId could not be read (Part 4 §4.2.3).
        if action is None and msg_id != "-1":
            problems.append("CALLERROR for messageId %r, which no outstanding CSMS CALL has" % (msg_id,))
        if code not in ERROR_CODES:
            problems.append("errorCode %r is not in Part 4 Table 8" % (code,))
        if not isinstance(desc, str):
            problems.append("errorDescription is not a string")
        elif len(desc) > 255:  # Part 4 Table 7: string[255]
            problems.append("errorDescription longer than 255 characters (%d)" % len(desc))
        if not isinstance(details, dict):
            problems.append("errorDetails is not a JSON object")
    return info, problems


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------

class Frame:
    """One WebSocket message. src is "station" or "csms"; kind is CALL/CALLRESULT/CALLERROR or None
    (unparseable or unknown type). For CALLRESULT/CALLERROR, action is the action of the answered CALL."""

    __slots__ = ("index", "t", "wall", "src", "conn", "identity", "text", "kind", "msg_id", "action",
                 "payload", "error_code", "error_description", "error_details", "parsed", "raw", "problems")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    @property
    def kind_name(self):
        return KIND_NAMES.get(self.kind, "?")

    def summary(self, width=300):
        arrow = "<-" if self.src == "station" else "->"
        if self.kind == CALLERROR:
            body = "%s %r %s" % (self.error_code, self.error_description, compact(self.error_details))
        elif self.kind in (CALL, CALLRESULT):
            body = compact(self.payload)
        else:
            body = self.text if isinstance(self.text, str) else repr(self.text)
        if len(body) > width:
            body = body[:width] + "...(%d chars)" % len(body)
        return "%8.3f c%s %s %-10s %-24s %s %s" % (
            self.t % 100000, self.conn, arrow, self.kind_name, self.action or "", self.msg_id, body)

    def __repr__(self):
        return "<Frame %s>" % self.summary(120)


class Violation:
    __slots__ = ("t", "identity", "conn", "frame", "problem", "text")

    def __init__(self, t, identity, conn, frame, problem, text):
        self.t, self.identity, self.conn, self.frame, self.problem, self.text = t, identity, conn, frame, problem, text

    def __repr__(self):
        text = self.text if isinstance(self.text, str) else repr(self.text)
        return "<Violation c%s frame#%s: %s | %s>" % (self.conn, self.frame, self.problem, text[:300])


class ConnRecord:
    """One connection attempt that reached the HTTP upgrade request."""

    __slots__ = ("index", "t", "identity", "path", "remote", "offered", "subprotocol", "authorization",
                 "auth_user", "client_cn", "client_serial", "outcome", "status", "reason", "t_open", "t_close", "close_code",
                 "close_reason", "closed_by")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    @property
    def accepted(self):
        return self.outcome == "accepted"

    def __repr__(self):
        return "<Conn c%d t=%.3f %s %s status=%s %s close=%s/%s by %s>" % (
            self.index, self.t, self.identity, self.outcome, self.status, self.reason or "",
            self.close_code, self.close_reason, self.closed_by)


# ---------------------------------------------------------------------------------------------
# One connection: an ocpp ChargePoint with recording, checking, raw frames and dropping
# ---------------------------------------------------------------------------------------------

class CsmsSession(ChargePoint):
    """The CSMS end of one WebSocket connection (ocpp.v201.ChargePoint, handler kwargs snake_case)."""

    def __init__(self, csms, ws, rec):
        ChargePoint.__init__(self, rec.identity, ws, response_timeout=csms.response_timeout, logger=_QUIET)
        self.csms = csms
        self.ws = ws
        self.rec = rec
        self.pending = {}        # CSMS CALL messageId -> action, until the station answers (for checking)
        self.sent_ids = set()    # every CALL messageId the CSMS sent on this connection
        self._cp_ids = set()     # ... of those, sent by ChargePoint.call() (answers go to its queue)
        self._sending_raw = False
        self.station_calls = {}  # station CALL messageId -> (action, payload) until answered
        self.outstanding = None  # (messageId, t) of the station CALL we have not answered yet
        self._waiters = {}       # messageId -> Future (acall / araw)
        self._raw_waiters = []   # Futures of raw frames: fall back to these for unmatched replies
        self._tasks = set()
        # messageId -> the responder in place when that CALL arrived: a test that sees the frame and then
        # swaps its responder must not change how the frame already received is answered.
        self._responder_at = {}
        self.dropped = False
        self.closed = asyncio.get_running_loop().create_future()

    @property
    def open(self):
        return not self.closed.done() and self.ws.state is State.OPEN

    # -- handlers (ocpp routing; kwargs are snake_case) --

    @on(Action.boot_notification)
    def _on_boot_notification(self, charging_station, reason, **_):
        status, interval = self.csms._next_boot()
        return call_result.BootNotification(current_time=self.csms.time_text(), interval=interval, status=status)

    @on(Action.heartbeat)
    def _on_heartbeat(self, **_):
        return call_result.Heartbeat(current_time=self.csms.time_text())

    @on(Action.status_notification)
    def _on_status_notification(self, **_):
        return call_result.StatusNotification()

    async def _handle_call(self, msg):
        fn = self._responder_at.pop(msg.unique_id, _UNSET)
        if fn is _UNSET:
            fn = self.csms.responders.get(msg.action)
        if fn is None and msg.action not in self.route_map:
            fn = _default_responder(msg.action)
        if fn is None:
            return await ChargePoint._handle_call(self, msg)
        await validate_payload(msg, self._ocpp_version)  # raises the OCPPError the package answers with
        result = fn(msg.payload, self)
        if asyncio.iscoroutine(result):
            result = await result
        if result is NO_REPLY:
            return None
        await self._send(msg.create_call_result(result).to_json())
        return result

    # -- reading --

    async def start(self):
        try:
            while True:
                data = await self.ws.recv()
                frame = self.csms._record_station_frame(self, data)
                if frame.kind == CALL and _callish(frame):
                    task = asyncio.ensure_future(self._route_call(data))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                elif frame.kind in (CALLRESULT, CALLERROR):
                    self._deliver(frame)
        except ConnectionClosed:
            pass

    async def _route_call(self, data):
        try:
            await self.route_message(data)
        except ConnectionClosed:
            pass
        except Exception as e:  # a bug here must not kill the connection silently
            self.csms._own_error("handling %r: %r" % (data[:200], e))

    def _deliver(self, frame):
        fut = self._waiters.pop(frame.msg_id, None) if isinstance(frame.msg_id, str) else None
        if fut is not None and not fut.done():
            if fut in self._raw_waiters:
                self._raw_waiters.remove(fut)
            fut.set_result(frame)
            return
        if isinstance(frame.msg_id, str) and frame.msg_id in self._cp_ids:
            # Answer to ChargePoint.call(): hand it to the ocpp package.
            self._cp_ids.discard(frame.msg_id)
            try:
                self._response_queue.put_nowait(unpack(frame.text))
            except OCPPError:
                pass
            return
        while self._raw_waiters:
            fut = self._raw_waiters.pop(0)
            if not fut.done():
                fut.set_result(frame)
                return

    # -- writing --

    async def _send(self, message):
        frame = self.csms._record_csms_frame(self, message)
        if frame.kind == CALL and isinstance(frame.msg_id, str) and not self._sending_raw \
                and frame.msg_id not in self._waiters:
            self._cp_ids.add(frame.msg_id)
        await self.ws.send(message)

    async def acall(self, action, payload, timeout=10, msg_id=None, validate=True):
        """Send a CALL and return the station's reply Frame (CALLRESULT or CALLERROR)."""
        if validate:
            errors = SCHEMAS.errors(action + "Request", payload)
            if self.csms.time_style == "loose":
                errors = [e for e in errors if not e.endswith("is not a 'date-time' [format]")]
            if errors:
                raise ValueError("CSMS request %s is not schema-valid: %s" % (action, errors))
        msg_id = msg_id or str(uuid.uuid4())
        text = compact([CALL, msg_id, action, payload])
        async with self._call_lock:  # Part 4: one outstanding CALL per direction
            fut = asyncio.get_running_loop().create_future()
            self._waiters[msg_id] = fut
            try:
                await self._send(text)
                return await asyncio.wait_for(fut, timeout)
            except asyncio.TimeoutError:
                raise TimeoutError("station did not answer %s %s within %ss" % (action, msg_id, timeout))
            except ConnectionClosed as e:
                raise ConnectionError("connection c%d closed: %s" % (self.rec.index, e))
            finally:
                self._waiters.pop(msg_id, None)

    async def araw(self, data, timeout=5, expect_reply=True):
        """Send `data` verbatim (str: text frame, bytes: binary frame). With expect_reply, return the
        station's next CALLRESULT/CALLERROR (matched by messageId when the frame has a readable one)."""
        if not expect_reply:
            try:
                await self._send_any(data)
            except ConnectionClosed as e:
                raise ConnectionError("connection c%d closed: %s" % (self.rec.index, e))
            return None
        msg_id = _readable_id(data)
        async with self._call_lock:
            fut = asyncio.get_running_loop().create_future()
            self._raw_waiters.append(fut)
            if msg_id is not None:
                self._waiters[msg_id] = fut
            try:
                await self._send_any(data)
                return await asyncio.wait_for(fut, timeout)
            except asyncio.TimeoutError:
                raise TimeoutError("station did not answer raw frame %r within %ss" % (_short(data), timeout))
            except ConnectionClosed as e:
                raise ConnectionError("connection c%d closed: %s" % (self.rec.index, e))
            finally:
                if fut in self._raw_waiters:
                    self._raw_waiters.remove(fut)
                if msg_id is not None and self._waiters.get(msg_id) is fut:
                    del self._waiters[msg_id]

    async def _send_any(self, data):
        if isinstance(data, str):
            self._sending_raw = True
            try:
                await self._send(data)
            finally:
                self._sending_raw = False
        else:
            self.csms._record_csms_frame(self, bytes(data))
            await self.ws.send(bytes(data))

    async def adrop(self, how="tcp", code=1001, reason=""):
        """End the connection: "tcp" aborts the TCP connection (no closing handshake), "close" sends a
        WebSocket close frame with `code`."""
        self.dropped = True
        if how == "tcp":
            self.ws.transport.abort()
        elif how == "close":
            await self.ws.close(code, reason)
        else:
            raise ValueError("how must be 'tcp' or 'close'")
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), 5)
        except asyncio.TimeoutError:
            pass

    def _fail_waiters(self):
        for fut in list(self._waiters.values()) + self._raw_waiters:
            if not fut.done():
                fut.set_exception(ConnectionError("connection c%d closed before the station answered" % self.rec.index))
        self._waiters.clear()
        self._raw_waiters[:] = []


_ID_PREFIX = re.compile(r'\s*\[\s*(-?[0-9]+)\s*,\s*"((?:[^"\\\x00-\x1f]|\\.)*)"')


def _callish(frame):
    # A CALL with schema problems is still routed so the ocpp package answers it with a CALLERROR,
    # but only when its framing is readable.
    return isinstance(frame.msg_id, str) and isinstance(frame.action, str)


def _readable_id(data):
    try:
        msg = json.loads(data)
    except (ValueError, TypeError, UnicodeDecodeError, RecursionError):
        m = _ID_PREFIX.match(data) if isinstance(data, str) else None
        try:
            return json.loads('"%s"' % m.group(2)) if m else None
        except ValueError:
            return None
    if isinstance(msg, list) and len(msg) > 1 and isinstance(msg[1], str):
        return msg[1]
    return None


def _short(data, n=80):
    s = data if isinstance(data, str) else repr(data)
    return s if len(s) <= n else s[:n] + "...(%d)" % len(s)


def data_transfer_answer(vendors, payload):
    """P02 on the CSMS side. vendors: {vendorId: {messageId (or None for any): response payload or
    callable(request payload) -> response payload}}. Unknown vendorId -> UnknownVendorId, a known
    vendor without that messageId -> UnknownMessageId (the mirror of P01.FR.05/06)."""
    msgs = vendors.get(payload.get("vendorId"))
    if msgs is None:
        return {"status": "UnknownVendorId"}
    r = msgs.get(payload.get("messageId"), msgs.get(None))
    if r is None:
        return {"status": "UnknownMessageId"}
    return dict(r(payload) if callable(r) else r)


def _default_responder(action):
    if action not in DEFAULT_RESPONSES:
        return None

    def respond(payload, session):
        if action == "TransactionEvent" and "idToken" in payload:
            return {"idTokenInfo": {"status": "Accepted"}}
        if action == "DataTransfer":
            return data_transfer_answer(session.csms.vendors, payload)
        return dict(DEFAULT_RESPONSES[action])
    return respond


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------

class Csms:
    """The CSMS. Construct, then `start()` (background thread) or `await astart()` (caller's loop).

    boot: the BootNotification answers, in order; the last one repeats. Each item is a status
    ("Accepted", "Pending", "Rejected"), a (status, interval) pair or {"status":..., "interval":...}.
    An Accepted answer without interval carries `heartbeat_interval`; Pending/Rejected default to
    `retry_interval`.
    basic_auth: None (no check; the header is only recorded), a password for every identity, or
    {identity: password}. A wrong or missing password gets HTTP 401 (security profiles 1 and 2).
    certfile/keyfile: serve wss:// (TLS 1.2+); client_ca: also require a client certificate signed
    by it (security profile 3).
    listeners: callables(kind, obj) run in the CSMS loop for "frame" (Frame), "violation",
    "attempt"/"open"/"close" (ConnRecord) and "own_error" (str).
    """

    def __init__(self, host="127.0.0.1", port=0, *, boot=("Accepted",), heartbeat_interval=60,
                 retry_interval=10, basic_auth=None, certfile=None, keyfile=None, client_ca=None,
                 url_host=None, subprotocols=(SUBPROTOCOL,), response_timeout=10, station_message_timeout=30,
                 ping_interval=20, max_size=2 ** 22, listeners=(), time_style="strict"):
        self.host = host
        self.time_style = time_style  # "strict" (RFC 3339 ...Z) or "loose" (cycles through LOOSE_FORMS)
        self.times_sent = []
        self.port = port
        self.url_host = url_host or host
        self.heartbeat_interval = heartbeat_interval
        self.retry_interval = retry_interval
        self.basic_auth = basic_auth
        self.certfile, self.keyfile, self.client_ca = certfile, keyfile, client_ca
        self.subprotocols = list(subprotocols)
        self.response_timeout = response_timeout
        self.station_message_timeout = station_message_timeout
        self.ping_interval = ping_interval
        self.max_size = max_size
        self.listeners = list(listeners)
        self.responders = {}   # action -> fn(payload dict, session) -> payload dict | NO_REPLY | coroutine
        self.after = {}        # action -> fn(session, request payload, response payload), run after answering
        self.vendors = {}      # DataTransfer from the station: see data_transfer_answer()
        self.frames = []
        self.violations = []
        self.own_errors = []
        self.connections = []
        self.tls_hellos = []   # (time.monotonic(), SNI server name or None) of every TLS ClientHello
        self.sessions = []
        self.boot_status = {}  # identity -> status of the last BootNotification answer
        self.station_ids = {}  # identity -> {messageId: (action, payload)} of every station CALL (uniqueness)
        self.set_boot(boot)
        self._refuse_until = 0.0
        self._refuse_status = 503
        self._refuse_mode = "http"
        self._cond = threading.Condition()
        self._loop = None
        self._thread = None
        self._server = None
        self._stopping = False

    def time_text(self):
        """currentTime for BootNotification/Heartbeat answers, in this CSMS's time style."""
        if self.time_style != "loose":
            text = iso_now()
        else:
            now = datetime.datetime.now(datetime.timezone.utc)
            text = LOOSE_FORMS[len(self.times_sent) % len(LOOSE_FORMS)](now)
        self.times_sent.append(text)
        return text

    # -- life cycle --

    @property
    def scheme(self):
        return "wss" if self.certfile else "ws"

    @property
    def url(self):
        """The csms_url for a station config (the station appends "/<identity>")."""
        return "%s://%s:%d/ocpp" % (self.scheme, self.url_host, self.port)

    def ssl_context(self):
        if not self.certfile:
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # Part 4: TLS 1.2 or above
        ctx.load_cert_chain(self.certfile, self.keyfile)
        if self.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.client_ca)
        ctx.sni_callback = self._on_client_hello
        return ctx

    def _on_client_hello(self, sslobj, server_name, ctx):
        # Called for every TLS ClientHello (server_name None without SNI): shows the station tried,
        # even when the handshake then fails (wrong CA, wrong host name).
        self.tls_hellos.append((time.monotonic(), server_name))
        self._notify()
        return None

    async def astart(self):
        self._loop = asyncio.get_running_loop()
        self._server = await serve(
            self._handler, self.host, self.port, subprotocols=self.subprotocols, compression=None,
            process_request=self._process_request, process_response=self._process_response,
            ssl=self.ssl_context(), ping_interval=self.ping_interval, max_size=self.max_size,
            logger=_QUIET)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def astop(self):
        self._stopping = True
        if self._server is not None:
            self._server.close()
            try:
                await asyncio.wait_for(self._server.wait_closed(), 5)
            except asyncio.TimeoutError:
                pass
            self._server = None

    def start(self):
        """Run in a background thread; returns self once listening."""
        started = threading.Event()
        failure = []

        def run():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.astart())
            except BaseException as e:
                failure.append(e)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="csms", daemon=True)
        self._thread.start()
        started.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self):
        if self._thread is None:
            return
        loop = self._loop
        try:
            asyncio.run_coroutine_threadsafe(self.astop(), loop).result(10)
        except Exception:
            pass
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- configuration at run time --

    def set_boot(self, seq):
        if isinstance(seq, (str, dict)) or (isinstance(seq, tuple) and len(seq) == 2 and isinstance(seq[1], int)):
            seq = [seq]
        self._boot_seq = list(seq)
        self._boot_i = 0

    def _next_boot(self):
        item = self._boot_seq[min(self._boot_i, len(self._boot_seq) - 1)]
        self._boot_i += 1
        if isinstance(item, str):
            status, interval = item, None
        elif isinstance(item, dict):
            status, interval = item["status"], item.get("interval")
        else:
            status, interval = item
        if interval is None:
            interval = self.heartbeat_interval if status == "Accepted" else self.retry_interval
        return status, interval

    def refuse(self, seconds=None, status=503, mode="http"):
        """Refuse connection attempts for `seconds` (None: until accept_connections()). mode "http"
        answers the upgrade request with `status`; "tcp" aborts the TCP connection instead. Each
        attempt is still recorded in `connections` (outcome "refused")."""
        self._refuse_until = float("inf") if seconds is None else time.monotonic() + seconds
        self._refuse_status = status
        self._refuse_mode = mode

    def accept_connections(self):
        self._refuse_until = 0.0

    # -- websockets callbacks (CSMS loop) --

    def _process_request(self, ws, request):
        path = request.path.split("?", 1)[0]
        identity = unquote(path.rstrip("/").rsplit("/", 1)[-1])
        offered = []
        for h in request.headers.get_all("Sec-WebSocket-Protocol"):
            offered.extend(p.strip() for p in h.split(",") if p.strip())
        auth = request.headers.get("Authorization")
        peer = ws.transport.get_extra_info("peercert") if ws.transport else None
        client_cn = None
        client_serial = peer.get("serialNumber") if peer else None  # which client certificate (A02 renewal tests)
        if peer:
            for rdn in peer.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        client_cn = v
        rec = ConnRecord(index=len(self.connections), t=time.monotonic(), identity=identity, path=path,
                         remote=ws.remote_address, offered=offered, authorization=auth, client_cn=client_cn,
                         client_serial=client_serial)
        ws.fc_rec = rec
        self.connections.append(rec)
        if time.monotonic() < self._refuse_until:
            rec.outcome, rec.reason = "refused", "CSMS refusing connections"
            if self._refuse_mode == "tcp":
                ws.transport.abort()
            return ws.respond(self._refuse_status, "refused by test CSMS\n")
        if self.basic_auth is not None:
            expected = self.basic_auth if isinstance(self.basic_auth, str) else self.basic_auth.get(identity)
            user, password = _parse_basic(auth)
            rec.auth_user = user
            if expected is None or user != identity or password != expected:
                # Part 4 §2.1 (security profile 1): username = identity, password = BasicAuthPassword
                rec.outcome = "rejected"
                rec.reason = "basic auth: %s" % ("no Authorization header" if auth is None else
                                                 "username %r != identity" % user if user != identity else
                                                 "wrong password")
                response = ws.respond(401, "Unauthorized\n")
                response.headers["WWW-Authenticate"] = 'Basic realm="ocpp", charset="UTF-8"'
                return response
        return None

    def _process_response(self, ws, request, response):
        rec = getattr(ws, "fc_rec", None)
        if rec is None:
            return None
        rec.status = response.status_code
        if response.status_code == 101:
            rec.outcome = "accepted"
            rec.subprotocol = response.headers.get("Sec-WebSocket-Protocol")
        elif rec.outcome is None:
            rec.outcome = "rejected"
            rec.reason = response.body.decode("utf-8", "replace").strip()[:200] if response.body else None
        self._emit("attempt", rec)
        return None

    async def _handler(self, ws):
        rec = ws.fc_rec
        rec.t_open = time.monotonic()
        session = CsmsSession(self, ws, rec)
        self.sessions.append(session)
        self._emit("open", rec)
        try:
            await session.start()
        finally:
            rec.t_close = time.monotonic()
            rec.close_code, rec.close_reason = ws.close_code, ws.close_reason
            rec.closed_by = "csms" if session.dropped or self._stopping else "station"
            session._fail_waiters()
            for task in list(session._tasks):
                task.cancel()
            if not session.closed.done():
                session.closed.set_result(None)
            self._emit("close", rec)

    # -- recording (CSMS loop) --

    def _record_station_frame(self, session, data):
        info, problems = check_station_frame(data, session.pending)
        rec = session.rec
        now = time.monotonic()
        frame = Frame(index=len(self.frames), t=now, wall=time.time(), src="station", conn=rec.index,
                      identity=rec.identity, text=data, problems=problems, **info)
        if frame.kind == CALL and isinstance(frame.msg_id, str):
            ids = self.station_ids.setdefault(rec.identity, {})
            if frame.msg_id in ids:
                # Part 4 §4.1.4: unique across connections, retries included.
                problems.append("CALL messageId %r reused (first used by %s)" % (frame.msg_id, ids[frame.msg_id]))
            else:
                ids[frame.msg_id] = frame.action
            if session.outstanding is not None and now - session.outstanding[1] < self.station_message_timeout:
                problems.append("CALL sent while CALL %s is still unanswered (Part 4: one at a time)"
                                % session.outstanding[0])
            session.outstanding = (frame.msg_id, now)
            if isinstance(frame.action, str):  # before any listener runs: see CsmsSession._responder_at
                session._responder_at[frame.msg_id] = self.responders.get(frame.action)
            session.station_calls[frame.msg_id] = (frame.action, frame.payload)
        self.frames.append(frame)
        for p in problems:
            v = Violation(now, rec.identity, rec.index, frame.index, p, data)
            self.violations.append(v)
            self._emit("violation", v)
        self._emit("frame", frame)
        return frame

    def _record_csms_frame(self, session, data):
        rec = session.rec
        frame = Frame(index=len(self.frames), t=time.monotonic(), wall=time.time(), src="csms",
                      conn=rec.index, identity=rec.identity, text=data, problems=[])
        try:
            msg = json.loads(data)
        except (ValueError, TypeError, UnicodeDecodeError, RecursionError):
            msg = None
        frame.parsed = msg
        if msg is None and isinstance(data, str):
            # Not valid JSON, but the messageId may be readable before the break: the station may
            # answer under that id (RpcFrameworkError).
            m = _ID_PREFIX.match(data)
            if m and m.group(1) not in ("3", "4"):
                try:
                    session.pending[json.loads('"%s"' % m.group(2))] = ""
                except ValueError:
                    pass
        if isinstance(msg, list) and len(msg) > 1 and isinstance(msg[1], str) and (
                msg[0] not in (CALL, CALLRESULT, CALLERROR) or type(msg[0]) is not int
                or (msg[0] == CALL and (len(msg) < 3 or not isinstance(msg[2], str)))):
            # A frame of unknown type (or a CALL without a readable action) with a readable messageId:
            # the station may answer it with a CALLERROR under that id (Part 4 §4.4).
            session.pending[msg[1]] = ""
        if isinstance(msg, list) and msg and type(msg[0]) is int and msg[0] in (CALL, CALLRESULT, CALLERROR):
            frame.kind = msg[0]
            frame.msg_id = msg[1] if len(msg) > 1 else None
            if frame.kind == CALL:
                frame.action = msg[2] if len(msg) > 2 else None
                frame.payload = msg[3] if len(msg) > 3 else None
                if isinstance(frame.msg_id, str):
                    session.sent_ids.add(frame.msg_id)
                    if isinstance(frame.action, str):
                        session.pending[frame.msg_id] = frame.action
            else:
                answered = session.station_calls.pop(frame.msg_id, None) if isinstance(frame.msg_id, str) else None
                if session.outstanding is not None and session.outstanding[0] == frame.msg_id:
                    session.outstanding = None
                if answered:
                    frame.action = answered[0]
                if frame.kind == CALLRESULT:
                    frame.payload = msg[2] if len(msg) > 2 else None
                    if answered:
                        self._after_answer(session, answered, frame.payload)
                else:
                    frame.error_code = msg[2] if len(msg) > 2 else None
                    frame.error_description = msg[3] if len(msg) > 3 else None
                    frame.error_details = msg[4] if len(msg) > 4 else None
        self.frames.append(frame)
        self._emit("frame", frame)
        return frame

    def _after_answer(self, session, answered, response):
        action, request = answered
        if action == "BootNotification" and isinstance(response, dict):
            self.boot_status[session.rec.identity] = response.get("status")
        if isinstance(response, dict):
            errors = SCHEMAS.errors(action + "Response", response)
            if self.time_style == "loose":
                # Loose date-times are what this CSMS variant is for; anything else is still its own bug.
                errors = [e for e in errors if not e.endswith("is not a 'date-time' [format]")]
            if errors:
                self._own_error("CSMS sent an invalid %sResponse: %s" % (action, errors))
        fn = self.after.get(action)
        if fn is not None:
            async def run():
                try:
                    r = fn(session, request, response)
                    if asyncio.iscoroutine(r):
                        await r
                except Exception as e:
                    self._own_error("after-hook for %s failed: %r" % (action, e))
            task = asyncio.ensure_future(run())
            session._tasks.add(task)
            task.add_done_callback(session._tasks.discard)

    def _own_error(self, text):
        self.own_errors.append(text)
        self._emit("own_error", text)

    def _emit(self, kind, obj):
        for fn in self.listeners:
            try:
                fn(kind, obj)
            except Exception as e:  # a broken listener must not break the CSMS
                sys.stderr.write("csms listener failed: %r\n" % (e,))
        self._notify()

    def _notify(self):
        with self._cond:
            self._cond.notify_all()

    # -- thread-safe blocking API --

    def _run(self, coro, timeout):
        if self._loop is None:
            raise RuntimeError("CSMS not started")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            coro.close()
            raise RuntimeError("blocking CSMS call from inside the CSMS loop: use the a-prefixed coroutine")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def wait_for(self, predicate, timeout=10, what="condition"):
        """Poll predicate() (in the caller's thread) until truthy; return its value or raise AssertionError."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out after %.1fs waiting for %s\n%s" % (timeout, what, self.format_log(40)))
                self._cond.wait(min(left, 0.1))

    def session(self, identity=None, timeout=10):
        """The newest open session (of `identity`), waiting up to timeout for one."""
        def find():
            for s in reversed(self.sessions):
                if s.open and (identity is None or s.rec.identity == identity):
                    return s
            return None
        return self.wait_for(find, timeout, "an open connection from %s" % (identity or "the station"))

    def call(self, action, payload, timeout=10, identity=None, validate=True, session=None):
        """Send a CALL on `session` (default: the newest open one); return the reply Frame (kind
        CALLRESULT or CALLERROR). Raises TimeoutError, or ConnectionError when the connection closes."""
        s = session or self.session(identity)
        return self._run(s.acall(action, payload, timeout=timeout, validate=validate), timeout + 5)

    def data_transfer(self, vendor_id, message_id=None, data=None, timeout=10, identity=None):
        """P01: send a DataTransferRequest to the station; returns the reply Frame."""
        p = {"vendorId": vendor_id}
        if message_id is not None:
            p["messageId"] = message_id
        if data is not None:
            p["data"] = data
        return self.call("DataTransfer", p, timeout=timeout, identity=identity)

    def ocpp_call(self, payload, identity=None, suppress=False):
        """Send an `ocpp.v201.call.*` dataclass through ChargePoint.call (returns the call_result dataclass;
        raises the OCPPError of a CALLERROR since suppress=False)."""
        s = self.session(identity)
        return self._run(s.call(payload, suppress=suppress), self.response_timeout + 5)

    def send_raw(self, data, timeout=5, expect_reply=True, identity=None, session=None):
        """Send a frame verbatim; return the station's reply Frame (or None without expect_reply)."""
        s = session or self.session(identity)
        return self._run(s.araw(data, timeout=timeout, expect_reply=expect_reply), timeout + 5)

    def drop(self, how="tcp", identity=None, code=1001, reason=""):
        s = self.session(identity)
        self._run(s.adrop(how, code, reason), 10)
        return s.rec

    # -- queries (any thread) --

    def mark(self):
        """A position in `frames`, for `since=` arguments."""
        return len(self.frames)

    def station_frames(self, since=0, identity=None):
        return [f for f in self.frames[since:] if f.src == "station" and (identity is None or f.identity == identity)]

    def calls(self, action=None, since=0, identity=None):
        """CALLs the station sent (of `action`)."""
        return [f for f in self.station_frames(since, identity) if f.kind == CALL and (action is None or f.action == action)]

    def wait_call(self, action, since=0, timeout=10, count=1, identity=None):
        """Wait for `count` station CALLs of `action` after `since`; return the last of them."""
        found = self.wait_for(lambda: len(self.calls(action, since, identity)) >= count and self.calls(action, since, identity),
                              timeout, "%d x %s from the station" % (count, action))
        return found[count - 1]

    def answer_to(self, frame):
        """The CSMS frame that answered station CALL `frame` (or None yet)."""
        for f in self.frames[frame.index + 1:]:
            if f.src == "csms" and f.kind in (CALLRESULT, CALLERROR) and f.msg_id == frame.msg_id and f.conn == frame.conn:
                return f
        return None

    def accepted(self, identity=None):
        return [c for c in self.connections if c.accepted and (identity is None or c.identity == identity)]

    def format_log(self, last=60):
        lines = ["--- CSMS: %d connection attempts, last %d of %d frames ---" % (
            len(self.connections), min(last, len(self.frames)), len(self.frames))]
        lines.extend(repr(c) for c in self.connections[-10:])
        lines.extend(f.summary() for f in self.frames[-last:])
        if self.violations:
            lines.append("--- %d violations ---" % len(self.violations))
            lines.extend(repr(v) for v in self.violations[:20])
        if self.own_errors:
            lines.append("--- CSMS own errors ---")
            lines.extend(self.own_errors[:20])
        return "\n".join(lines)

    def assert_no_violations(self):
        if self.violations or self.own_errors:
            raise AssertionError("station frames broke the schemas/framing rules:\n%s" % "\n".join(
                [repr(v) for v in self.violations[:30]] + ["CSMS error: " + e for e in self.own_errors[:10]]))


def _parse_basic(header):
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None, None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else (None, None)


# ---------------------------------------------------------------------------------------------
# Driving tools/station (DESIGN.md "station launcher" contract)
# ---------------------------------------------------------------------------------------------

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATION = os.path.join(REPO, "tools", "station")


def launcher_command(path=STATION, python=None):
    """argv prefix that runs the launcher: through this Python when it is a CPython script."""
    with open(path, "rb") as f:
        first = f.readline(200)
    if first.startswith(b"#!") and b"python" in first and b"micropython" not in first:
        return [python or sys.executable, path]
    return [path]


class StationProcess:
    """`tools/station --config FILE --state DIR` with stdout JSON-line events read in a thread."""

    def __init__(self, config, state_dir, config_path=None, launcher=STATION, stderr_path=None, env=None):
        self.config = config
        self.state_dir = state_dir
        self.config_path = config_path or os.path.join(os.path.dirname(os.path.abspath(state_dir)),
                                                       os.path.basename(state_dir) + ".config.json")
        self.stderr_path = stderr_path or self.config_path[:-len(".json")] + ".stderr.log"
        self.launcher = launcher
        self.env = env
        self.events = []      # dicts from stdout, each with "_t" (time.monotonic() when read)
        self.bad_lines = []   # stdout lines that are not JSON objects with "event" (the contract forbids them)
        self.proc = None
        self._cond = threading.Condition()
        self._reader = None
        self._stderr = None

    def start(self):
        if isinstance(self.config, (dict, list)):
            with open(self.config_path, "w") as f:
                json.dump(self.config, f, indent=1)
        else:  # raw text (for bad-config tests)
            with open(self.config_path, "w") as f:
                f.write(self.config)
        self._stderr = open(self.stderr_path, "wb")
        cmd = launcher_command(self.launcher) + ["--config", self.config_path, "--state", self.state_dir]
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                     env=self.env, cwd=os.path.dirname(self.config_path), start_new_session=True)
        self._reader = threading.Thread(target=self._read, name="station-stdout", daemon=True)
        self._reader.start()
        return self

    def _read(self):
        try:
            self._read_lines()
        except (ValueError, OSError):  # stdout closed under us (a reader that outlived kill()'s join)
            pass
        with self._cond:
            self._cond.notify_all()

    def _read_lines(self):
        for raw in iter(self.proc.stdout.readline, b""):
            t = time.monotonic()
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            try:
                ev = json.loads(line)
            except ValueError:
                ev = None
            with self._cond:
                if isinstance(ev, dict) and isinstance(ev.get("event"), str):
                    ev["_t"] = t
                    self.events.append(ev)
                else:
                    self.bad_lines.append(line)
                self._cond.notify_all()

    # -- commands --

    def send(self, cmd):
        line = cmd if isinstance(cmd, str) else json.dumps(cmd)
        self.proc.stdin.write(line.encode("utf-8") + b"\n")
        self.proc.stdin.flush()

    def shutdown(self, timeout=10):
        """Graceful {"cmd": "shutdown"}; returns the exit status."""
        self.send({"cmd": "shutdown"})
        return self.wait_exit(timeout)

    # -- observation --

    def mark(self):
        return len(self.events)

    def named(self, name, since=0):
        return [e for e in self.events[since:] if e.get("event") == name]

    def wait_event(self, name, pred=None, timeout=10, since=0):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for e in self.events[since:]:
                    if e.get("event") == name and (pred is None or pred(e)):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out after %.1fs waiting for station event %r; events: %s\nstderr tail:\n%s"
                                         % (timeout, name, [_ev_short(e) for e in self.events[-15:]], self.stderr_text(3000)))
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise AssertionError("station exited (status %s) while waiting for event %r\nstderr tail:\n%s"
                                         % (self.proc.returncode, name, self.stderr_text(4000)))
                self._cond.wait(min(left, 0.1))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout=10):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("station still running %.0fs later\nstderr tail:\n%s" % (timeout, self.stderr_text(3000)))

    def kill(self):
        """Power loss: SIGKILL the launcher's process group (launcher and firmware process)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        else:
            try:  # the firmware child may outlive a launcher that died
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.stdin.close()
        except Exception:
            pass
        # The reader sees EOF once the process group is gone; stdout is closed only after it stopped
        # (closing it under a blocked readline() raised in the reader thread).
        if self._reader is not None:
            self._reader.join(5)
        try:
            self.proc.stdout.close()
        except Exception:
            pass
        if self._stderr is not None:
            self._stderr.close()

    stop = kill

    def stderr_text(self, tail=20000):
        try:
            with open(self.stderr_path, "rb") as f:
                data = f.read()
        except OSError:
            return ""
        return data[-tail:].decode("utf-8", "replace")

    def output_text(self):
        return "\n".join([compact(e) for e in self.events] + self.bad_lines)


def _ev_short(e):
    return {k: v for k, v in e.items() if k != "_t"}
