# WebSocket client (RFC 6455) for OCPP-J (Part 4 §3). One connection per object:
# connect() does the opening handshake and returns a WebSocket; recv() must be called
# from one task at a time, send()/ping()/close() from any number of tasks.
import asyncio
import binascii
import hashlib

from flexcharge import compat
from flexcharge.comm import wsframe
from flexcharge.comm.url import parse_ws_url

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
_AHEAD = 4096  # read-ahead buffer: one TLS record, and small enough for an MCU heap
_MAX_HEAD = 8192  # bytes of HTTP response header we accept before giving up
CLOSE_TIMEOUT_MS = 2000  # how long close() waits for the server's close frame
_OURS = ("host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
         "sec-websocket-protocol", "sec-websocket-extensions")
_TOKEN = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class WebSocketError(Exception):
    pass


class HandshakeError(WebSocketError):
    """The server did not complete the opening handshake as we require.

    .status is the HTTP status code when the server answered something other than
    101 (e.g. 401 for a rejected Basic auth password, 404 for an unknown identity),
    else None.
    """

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class TLSError(WebSocketError):
    """The TLS handshake failed (certificate not trusted, wrong host name, alert...).

    The session layer reports it as security event InvalidCsmsCertificate (A00).
    """


class ProtocolError(WebSocketError):
    pass


class MessageTooBig(ProtocolError):
    pass


class ConnectionClosed(WebSocketError):
    def __init__(self, code, reason=""):
        super().__init__("connection closed (%d%s)" % (code, (" " + reason) if reason else ""))
        self.code = code
        self.reason = reason


class _EOF(Exception):
    pass


def _is_tls_error(e):
    if isinstance(e, compat.tls_error_types()):
        return True
    # mbedTLS errors reach MicroPython as OSError with a negative code.
    a = getattr(e, "args", ())
    return isinstance(e, OSError) and len(a) > 0 and isinstance(a[0], int) and a[0] < 0


def _check_header(name, value):
    if not name or any(c not in _TOKEN for c in name):
        raise ValueError("bad header name %r" % (name,))
    if name.lower() in _OURS:
        raise ValueError("header %s is set by the WebSocket client" % name)
    for c in value:
        if c in "\r\n\0":
            raise ValueError("bad character in header %s" % name)


def _utf8(text):
    # RFC 6455 §5.6, §8.1: a text frame is valid UTF-8, whatever the text went through (e.g. a
    # lone surrogate received as a JSON escape and echoed in a CALLERROR description).
    try:
        b = text.encode()
    except UnicodeError:  # CPython: a lone surrogate does not encode
        b = text.encode("utf-8", "surrogatepass")
    if len(b) != len(text) and not wsframe.utf8_valid(b):
        b = wsframe.utf8_repair(b)
    return b


def _accept_for(key):
    return binascii.b2a_base64(hashlib.sha1(key + _GUID).digest()).strip()


class RxBuffer:
    """Receive buffers, allocated once (at boot) and reused by every connection, so that the
    largest allowed message stays receivable whatever the heap went through: a 64 KB block
    found free at boot may not exist any more after hours of traffic. msg holds one whole
    message (max_message bytes: fragments are assembled there, payloads read straight into
    it); ahead holds the bytes read ahead (frame headers, control frames, small messages)."""

    def __init__(self, max_message, ahead=_AHEAD):
        self.msg = bytearray(max_message)
        self.ahead = bytearray(ahead)


async def connect(url, subprotocols, headers=(), ssl=None, server_hostname=None, max_message=65536,
                  timeout_ms=10000, rx=None):
    """Open a WebSocket to url offering subprotocols (in order of preference).

    rx: an RxBuffer of at least max_message bytes to receive into (one is allocated if None).

    Raises ValueError for bad arguments, OSError for network failures, TLSError,
    HandshakeError (.status) when the server refuses or answers wrongly, and
    WebSocketError when the whole opening takes longer than timeout_ms.
    """
    secure, host, port, path = parse_ws_url(url)
    if secure and ssl is None:
        # MicroPython's default context verifies nothing: never connect wss without ours.
        raise ValueError("wss:// needs an ssl context (security.profiles.transport)")
    if not secure and ssl is not None:
        raise ValueError("ssl context given for a ws:// URL")
    if isinstance(subprotocols, str):
        subprotocols = (subprotocols,)
    offered = tuple(subprotocols)
    if not offered:
        raise ValueError("no subprotocol offered")  # OCPP-J Part 4 §3.1.2: MUST be specified
    for p in offered:
        if not p or any(c not in _TOKEN for c in p):
            raise ValueError("bad subprotocol name %r" % (p,))
    for name, value in headers:
        _check_header(name, value)
    if secure and not server_hostname:
        server_hostname = host  # always check the name, IP addresses included
    hosthdr = ("[%s]" % host) if ":" in host else host
    if port != (443 if secure else 80):
        hosthdr += ":%d" % port
    key = binascii.b2a_base64(compat.urandom(16)).strip()
    lines = [
        "GET %s HTTP/1.1" % path,
        "Host: " + hosthdr,
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: " + key.decode(),
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: " + ", ".join(offered),
    ]
    for name, value in headers:
        lines.append("%s: %s" % (name, value))
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    try:
        return await asyncio.wait_for(
            _open(host, port, ssl, server_hostname, request, _accept_for(key), offered, max_message, rx),
            timeout_ms / 1000,
        )
    except asyncio.TimeoutError:
        # (CPython 3.11: asyncio.TimeoutError is the builtin, an OSError; catch it first.)
        raise WebSocketError("opening handshake with %s:%d took longer than %d ms" % (host, port, timeout_ms))


async def _open(host, port, ssl, server_hostname, request, accept, offered, max_message, rx):
    try:
        stream = await compat.open_stream(host, port, ssl, server_hostname)
    except Exception as e:
        if ssl is not None and _is_tls_error(e):
            raise TLSError("TLS with %s failed: %s" % (server_hostname, str(e).strip()))
        raise
    ws = WebSocket(stream, max_message, rx)
    try:
        try:
            stream.write(request)
            await stream.drain()
            head = await ws._read_head()
        except _EOF:
            raise HandshakeError("connection closed during the opening handshake")
        except WebSocketError:
            raise
        except Exception as e:
            if ssl is not None and _is_tls_error(e):
                raise TLSError("TLS with %s failed: %s" % (server_hostname, str(e).strip()))
            raise
        got = _check_response(head, accept)
        # OCPP-J Part 4 §3.2: a CSMS that agrees to none of our versions answers without
        # the header; the station must not go on without a negotiated OCPP version.
        if not got:
            await ws._fail(wsframe.CLOSE_NORMAL, "no OCPP version agreed")
            raise HandshakeError("CSMS accepted none of the offered subprotocols (%s)" % ", ".join(offered))
        if len(got) > 1 or "," in got[0] or got[0] not in offered:
            # RFC 6455 §4.1 step 6: a subprotocol we did not offer fails the connection.
            await ws._fail(wsframe.CLOSE_PROTOCOL_ERROR, "subprotocol not offered")
            raise HandshakeError("CSMS selected subprotocol %s, not one of those offered (%s)"
                                 % (", ".join(got), ", ".join(offered)))
        ws.subprotocol = got[0]
    except BaseException:
        stream.close()
        raise
    ws.last_rx_ms = compat.ticks_ms()
    return ws


def _check_response(head, accept):
    """Validate the HTTP response head (bytes before the blank line).

    Returns the list of Sec-WebSocket-Protocol values the server sent (maybe empty).
    """
    try:
        text = head.decode()
    except UnicodeError:
        raise HandshakeError("response header is not text")
    lines = text.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or len(parts[1]) != 3 or not parts[1].isdigit():
        raise HandshakeError("not an HTTP response: %r" % lines[0][:60])
    status = int(parts[1])
    if status != 101:
        why = parts[2] if len(parts) > 2 else ""
        raise HandshakeError("server answered HTTP %d %s" % (status, why), status)
    hdrs = {}
    for line in lines[1:]:
        i = line.find(":")
        if i <= 0 or line[0] in " \t":
            raise HandshakeError("bad response header line %r" % line[:60])
        name = line[:i].strip().lower()
        hdrs.setdefault(name, []).append(line[i + 1 :].strip())

    def one(name):
        v = hdrs.get(name)
        if not v:
            raise HandshakeError("101 response without %s header" % name)
        if len(v) > 1:
            raise HandshakeError("101 response repeats %s header" % name)
        return v[0]

    # RFC 6455 §4.1, client steps 2-6.
    if one("upgrade").lower() != "websocket":
        raise HandshakeError("101 response does not upgrade to websocket")
    if "upgrade" not in [t.strip().lower() for t in ",".join(hdrs.get("connection", ())).split(",")]:
        raise HandshakeError("101 response without Connection: Upgrade")
    if one("sec-websocket-accept").encode() != accept:
        raise HandshakeError("wrong Sec-WebSocket-Accept")
    if "sec-websocket-extensions" in hdrs:
        raise HandshakeError("server chose an extension we did not offer")
    return hdrs.get("sec-websocket-protocol", [])


class WebSocket:
    """An open connection. Created by connect()."""

    def __init__(self, stream, max_message=65536, rx=None):
        self._s = stream
        self.max_message = max_message
        self.subprotocol = None
        self.closed = False
        self.close_code = None  # RFC 6455 §7.1.5: the code of the close frame received (1005/1006 if none)
        self.close_reason = ""
        self.sent_close_code = None  # the code of the close frame we sent, if any
        self.last_rx_ms = compat.ticks_ms()
        self.last_pong_ms = None
        if rx is None or len(rx.msg) < max_message:
            # No buffer planned by the caller (tools, tests): start small and grow on demand.
            rx = RxBuffer(max_message if max_message < _AHEAD else _AHEAD)
        self.rx = rx.msg  # the last message recv_message() returned is rx[:n]
        self._mmv = memoryview(rx.msg)
        self._mlen = 0  # bytes of the message being assembled
        self._rmv = memoryview(rx.ahead)
        self._rs = 0  # rx.ahead[_rs:_re]: read, not yet parsed
        self._re = 0
        self._left = 0  # payload bytes of the current data frame still to read
        self._infr = False  # inside a data frame's payload
        self._fin = False
        self._lock = asyncio.Lock()
        self._done = asyncio.Event()  # set once closed
        self._close_sent = False
        self._reading = False
        self._msg_op = None  # opcode of the message being reassembled

    # -- buffered reading (cancel-safe: every byte read is accounted for in self at once) ---
    async def _more(self):
        # At least one more byte into the read-ahead buffer. It is full only when the unparsed
        # tail is a partial header or control frame (< 140 bytes, far from the start): move it
        # to the front, no overlap.
        r = self._rmv
        if self._re == len(r):
            k = self._re - self._rs
            r[0:k] = bytes(r[self._rs : self._re])
            self._rs = 0
            self._re = k
        n = await self._s.readinto(r[self._re :])
        if not n:
            raise _EOF()
        self._re += n
        self.last_rx_ms = compat.ticks_ms()  # any byte is a sign of life (keep-alive)

    def _consume(self, n):
        self._rs += n
        if self._rs >= self._re:
            self._rs = self._re = 0

    async def _read_head(self):
        # Handshake only: allocating reads are fine here. Reads of at most len(ahead) bytes,
        # so whatever follows the head fits the read-ahead buffer.
        buf = b""
        r = self._rmv
        while True:
            d = await self._s.read(len(r))
            if not d:
                raise _EOF()
            start = len(buf) - 3 if len(buf) > 3 else 0
            buf += d
            i = buf.find(b"\r\n\r\n", start)
            if i >= 0:
                rest = buf[i + 4 :]
                r[0 : len(rest)] = rest
                self._rs = 0
                self._re = len(rest)
                return buf[:i]
            if len(buf) > _MAX_HEAD:
                raise HandshakeError("response header longer than %d bytes" % _MAX_HEAD)

    def _grow(self, need):
        # Only a buffer the caller did not plan (RxBuffer at boot is never too small).
        size = len(self.rx) * 2
        size = need if size < need else size
        size = self.max_message if size > self.max_message else size
        b = bytearray(size)
        b[: self._mlen] = self._mmv[: self._mlen]
        self.rx = b
        self._mmv = memoryview(b)

    async def _read_frame(self):
        """One frame: (fin, op, payload) for a control frame; (fin, op, None) for a data frame,
        whose payload went into the message buffer. Data frames arrive in any segmentation and
        cost no allocation: payload bytes are copied from the read-ahead or read in place."""
        if not self._infr:
            while True:
                h = wsframe.parse_header(self._rmv[self._rs : self._re])
                if h is not None:
                    break
                await self._more()
            fin, op, masked, n, key, hl = h
            if masked:
                raise wsframe.ProtocolError("server frames must not be masked")  # RFC 6455 §5.1
            if op >= 8:
                while self._re - self._rs < hl + n:
                    await self._more()
                i = self._rs + hl
                payload = bytes(self._rmv[i : i + n])
                self._consume(hl + n)
                return fin, op, payload
            if op == wsframe.OP_CONT:
                if self._msg_op is None:
                    raise wsframe.ProtocolError("continuation frame without a message")
            elif self._msg_op is not None:
                raise wsframe.ProtocolError("new message before the previous one ended")
            if self._mlen + n > self.max_message:
                raise MessageTooBig("message larger than %d bytes" % self.max_message)
            if self._mlen + n > len(self.rx):
                self._grow(self._mlen + n)
            self._consume(hl)
            if op != wsframe.OP_CONT:
                self._msg_op = op
                self._mlen = 0
            self._fin = fin
            self._left = n
            self._infr = True
        while self._left > 0:
            m = self._mlen
            k = self._re - self._rs
            if k > 0:
                if k > self._left:
                    k = self._left
                self._mmv[m : m + k] = self._rmv[self._rs : self._rs + k]
                self._consume(k)
            else:
                k = await self._s.readinto(self._mmv[m : m + self._left])
                if not k:
                    raise _EOF()
                self.last_rx_ms = compat.ticks_ms()
            self._mlen = m + k
            self._left -= k
        self._infr = False
        return self._fin, self._msg_op, None

    # -- receiving -----------------------------------------------------------------
    def _closed_error(self):
        return ConnectionClosed(self.close_code if self.close_code is not None else 1006, self.close_reason)

    async def recv(self):
        """Next message: str for text, bytes for binary. Raises ConnectionClosed at the end."""
        op, n = await self.recv_message()
        data = bytes(self._mmv[:n])
        return data.decode() if op == wsframe.OP_TEXT else data

    async def recv_message(self):
        """Next message, without a copy: returns (opcode, n); the message is self.rx[:n]
        (UTF-8 checked for a text message), valid until the next call. Raises
        ConnectionClosed at the end, ProtocolError/MessageTooBig (after failing the
        connection with the RFC 6455 close code) for a peer that breaks the protocol."""
        if self.closed:
            raise self._closed_error()
        self._reading = True
        try:
            while True:
                try:
                    fin, op, payload = await self._read_frame()
                except MessageTooBig:
                    await self._fail(wsframe.CLOSE_TOO_BIG, "message too big")
                    raise
                except wsframe.ProtocolError as e:
                    await self._fail(wsframe.CLOSE_PROTOCOL_ERROR, "protocol error")
                    raise ProtocolError(e.args[0] if e.args else "protocol error")
                except (_EOF, OSError) as e:
                    if not self.closed:
                        self._shutdown(wsframe.CLOSE_ABNORMAL, "connection lost" if isinstance(e, _EOF) else str(e))
                    raise self._closed_error()
                if payload is not None:
                    await self._control(op, payload)
                    continue
                if not fin:
                    continue
                self._msg_op = None
                n = self._mlen
                self._mlen = 0
                if self._close_sent:
                    continue  # closing: the application no longer wants messages
                if op == wsframe.OP_TEXT and not wsframe.utf8_valid(self.rx, n):
                    await self._fail(wsframe.CLOSE_INVALID_DATA, "invalid UTF-8")  # RFC 6455 §8.1
                    raise ProtocolError("text message is not valid UTF-8")
                return op, n
        finally:
            self._reading = False

    async def _control(self, op, payload):
        if op == wsframe.OP_PING:
            if not self._close_sent:
                try:
                    await self._write(wsframe.OP_PONG, payload)  # RFC 6455 §5.5.2
                except ConnectionClosed:
                    pass
        elif op == wsframe.OP_PONG:
            self.last_pong_ms = self.last_rx_ms
        else:
            try:
                code, reason = wsframe.parse_close(payload)
            except wsframe.ProtocolError as e:
                await self._fail(wsframe.CLOSE_PROTOCOL_ERROR, "bad close frame")
                raise ProtocolError(e.args[0])
            if not self._close_sent:
                # §5.5.1: answer with a close frame echoing the code.
                self._close_sent = True
                self.sent_close_code = code
                try:
                    await self._write(wsframe.OP_CLOSE, wsframe.close_payload(code), True)
                except ConnectionClosed:
                    pass
            self._shutdown(code if code is not None else wsframe.CLOSE_NO_STATUS, reason)
            raise self._closed_error()

    # -- sending -------------------------------------------------------------------
    async def _write(self, op, payload, closing=False):
        if self.closed or (self._close_sent and not closing):
            raise self._closed_error()
        # Client frames are always masked with a fresh key (RFC 6455 §5.3).
        frame = wsframe.encode(op, payload, compat.urandom(4))
        async with self._lock:  # one frame at a time, whatever the number of senders
            if self.closed:
                raise self._closed_error()
            try:
                self._s.write(frame)
                await self._s.drain()
            except OSError as e:
                self._shutdown(wsframe.CLOSE_ABNORMAL, str(e))
                raise self._closed_error()

    async def send(self, data):
        """Send a text (str) or binary (bytes) message as one frame."""
        if isinstance(data, str):
            await self._write(wsframe.OP_TEXT, _utf8(data))
        else:
            await self._write(wsframe.OP_BINARY, bytes(data))

    async def ping(self, payload=b""):
        if len(payload) > 125:
            raise ValueError("ping payload > 125 bytes")
        await self._write(wsframe.OP_PING, bytes(payload))

    # -- closing -------------------------------------------------------------------
    def _shutdown(self, code, reason):
        if not self.closed:
            self.closed = True
            self.close_code = code
            self.close_reason = reason
            try:
                self._s.close()
            except Exception:
                pass
        self._done.set()

    async def _fail(self, code, reason):
        # "Fail the WebSocket connection" (RFC 6455 §7.1.7): tell the peer why, drop TCP.
        if not self._close_sent and not self.closed:
            self._close_sent = True
            self.sent_close_code = code
            try:
                await asyncio.wait_for(self._write(wsframe.OP_CLOSE, wsframe.close_payload(code, reason), True), 1)
            except Exception:
                pass
        self._shutdown(code, reason)

    async def close(self, code=1000, reason=""):
        """Closing handshake; returns within about CLOSE_TIMEOUT_MS. Safe to call again."""
        if self.closed:
            return
        if not self._close_sent:
            self._close_sent = True
            self.sent_close_code = code
            try:
                await self._write(wsframe.OP_CLOSE, wsframe.close_payload(code, reason), True)
            except ConnectionClosed:
                return
        try:
            if self._reading:
                # Another task is in recv(): it will see the server's close frame.
                await asyncio.wait_for(self._done.wait(), CLOSE_TIMEOUT_MS / 1000)
            else:
                await asyncio.wait_for(self._await_close(), CLOSE_TIMEOUT_MS / 1000)
        except asyncio.TimeoutError:
            pass
        self._shutdown(code, reason)

    async def _await_close(self):
        try:
            while True:
                await self.recv()
        except WebSocketError:
            pass
