"""A bare RFC 6455 server side for hostile-frame tests.

tools/csms/server.py is built on the `ocpp` and `websockets` packages, which refuse to send what a
hostile CSMS sends (broken frames, invalid UTF-8, odd segmentation). This one does the opening
handshake by hand and then writes whatever bytes it is told to, in whatever TCP segments. It answers
the station's own CALLs with minimal valid responses so that the station boots and stays registered,
and it records every frame the station sends.

    csms = RawCsms().start()
    conn = csms.connection(timeout=10)          # the station's next accepted connection
    conn.send_text('[2, "m1", "Heartbeat", {}]')
    conn.answer("m1")                           # -> the station's CALLRESULT/CALLERROR, parsed
    conn.send_bytes(frame(OP_TEXT, b"..."), segment=7)
    csms.stop()
"""
import asyncio
import base64
import datetime
import hashlib
import json
import socket
import struct
import threading
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def frame(opcode, payload=b"", fin=True, rsv=0, mask=None, length=None):
    """One server frame (unmasked unless mask is given); length overrides the encoded length."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogatepass")
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    m = 0x80 if mask is not None else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if mask is not None:
        payload = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        head += bytes(mask)
    return head + bytes(payload)


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def default_response(action):
    if action == "BootNotification":
        return {"currentTime": now_iso(), "interval": 300, "status": "Accepted"}
    if action == "Heartbeat":
        return {"currentTime": now_iso()}
    if action == "Authorize":
        return {"idTokenInfo": {"status": "Accepted"}}
    if action == "TransactionEvent":
        return {}
    return {}


def utf8_ok(b):
    try:
        b.decode("utf-8")  # CPython's decoder is strict: no surrogates, overlongs, > U+10FFFF
        return True
    except UnicodeDecodeError:
        return False


class RawConn:
    """One station connection. Its methods are called from the test thread."""

    def __init__(self, csms, index, reader, writer, path, subprotocol):
        self.csms = csms
        self.index = index
        self._r = reader
        self._w = writer
        self.path = path
        self.subprotocol = subprotocol
        self.frames = []  # (opcode, payload bytes) of every frame the station sent, in order
        self.messages = []  # parsed JSON of every text frame the station sent
        self.bad_utf8 = []  # text frames that were not valid UTF-8
        self.bad_json = []  # text frames that were not valid JSON
        self.answers = {}  # messageId -> [station CALLRESULT/CALLERROR...] (a list: duplicates show)
        self.calls = []  # station CALLs
        self.close_code = None  # code of the station's close frame (None: none seen)
        self.close_reason = None
        self.eof = False
        self.t_open = time.monotonic()
        self.t_end = None
        self.auto_answer = True
        self._wlock = None
        self._cond = threading.Condition()

    # -- reading (in the loop thread) ----------------------------------------------------
    async def _read_loop(self):
        r = self._r
        frags = []
        try:
            while True:
                h = await r.readexactly(2)
                fin, op, n = h[0] & 0x80, h[0] & 0x0F, h[1] & 0x7F
                if n == 126:
                    n = struct.unpack("!H", await r.readexactly(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", await r.readexactly(8))[0]
                key = await r.readexactly(4) if h[1] & 0x80 else b"\0\0\0\0"
                data = await r.readexactly(n)
                if n:
                    x = int.from_bytes(data, "big") ^ int.from_bytes((key * (n // 4 + 1))[:n], "big")
                    data = x.to_bytes(n, "big")
                with self._cond:
                    self.frames.append((op, data))
                    self._cond.notify_all()
                if op == OP_CLOSE:
                    with self._cond:
                        self.close_code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                        self.close_reason = data[2:].decode("utf-8", "replace")
                    try:
                        await self._write(frame(OP_CLOSE, data[:2]))
                    except Exception:
                        pass
                    break
                if op >= 8:
                    if op == OP_PING:
                        asyncio.ensure_future(self._write(frame(OP_PONG, data)))
                    continue
                frags.append(data)
                if not fin:
                    continue
                msg = b"".join(frags)
                frags = []
                self._on_text(msg)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            with self._cond:
                self.eof = True
                self.t_end = time.monotonic()
                self._cond.notify_all()
            try:
                self._w.close()
            except Exception:
                pass

    def _on_text(self, raw):
        if not utf8_ok(raw):
            with self._cond:
                self.bad_utf8.append(raw)
            return
        try:
            msg = json.loads(raw.decode("utf-8"))
        except ValueError:
            with self._cond:
                self.bad_json.append(raw)
            return
        with self._cond:
            self.messages.append(msg)
            if isinstance(msg, list) and len(msg) >= 3 and msg[0] in (3, 4) and isinstance(msg[1], str):
                self.answers.setdefault(msg[1], []).append(msg)
            elif isinstance(msg, list) and len(msg) == 4 and msg[0] == 2:
                self.calls.append(msg)
                if self.auto_answer:
                    asyncio.ensure_future(self._write(frame(OP_TEXT, json.dumps([3, msg[1], default_response(msg[2])]))))
            self._cond.notify_all()

    async def _write(self, data, segment=None, pause=0.0):
        # One writer at a time: an auto-answer never lands inside a segmented frame.
        if self._wlock is None:
            self._wlock = asyncio.Lock()
        async with self._wlock:
            if not segment:
                self._w.write(data)
                await self._w.drain()
                return
            for i in range(0, len(data), segment):
                self._w.write(data[i:i + segment])
                await self._w.drain()
                if pause:
                    await asyncio.sleep(pause)
                elif i % (segment * 64) == 0:
                    await asyncio.sleep(0)

    # -- test side ------------------------------------------------------------------------
    def _run(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self.csms.loop).result(timeout)

    def send_bytes(self, data, segment=None, pause=0.0):
        """Write raw bytes; with segment=k, in k-byte TCP segments (TCP_NODELAY, a drain after each)."""
        try:
            self._run(self._write(data, segment, pause), timeout=120)
        except (ConnectionError, OSError):
            pass

    def send_frame(self, opcode, payload=b"", **kw):
        self.send_bytes(frame(opcode, payload, **kw))

    def send_text(self, text, segment=None):
        self.send_bytes(frame(OP_TEXT, text), segment=segment)

    def abort(self):
        def go():
            self._w.transport.abort()
        self.csms.loop.call_soon_threadsafe(go)

    def wait(self, predicate, timeout=10):
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                v = predicate()
                if v:
                    return v
                left = end - time.monotonic()
                if left <= 0:
                    return v
                self._cond.wait(left)

    def answer(self, msg_id, timeout=10):
        """The station's first CALLRESULT/CALLERROR with msg_id, or None after timeout."""
        got = self.wait(lambda: self.answers.get(msg_id) or self.eof, timeout)
        a = self.answers.get(msg_id)
        return a[0] if a else None

    def wait_closed(self, timeout=10):
        return self.wait(lambda: self.eof, timeout)


class RawCsms:
    def __init__(self, host="127.0.0.1", subprotocol="ocpp2.0.1"):
        self.host = host
        self.port = None
        self.subprotocol = subprotocol
        self.loop = None
        self.conns = []
        self._server = None
        self._thread = None
        self._cond = threading.Condition()

    @property
    def url(self):
        return "ws://%s:%d/ocpp" % (self.host, self.port)

    def start(self):
        started = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)

            async def up():
                self._server = await asyncio.start_server(self._handle, self.host, 0, limit=1 << 22)
                self.port = self._server.sockets[0].getsockname()[1]

            self.loop.run_until_complete(up())
            started.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=run, name="raw-csms", daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def stop(self):
        if self.loop is None:
            return

        async def down():
            self._server.close()
            for c in self.conns:
                try:
                    c._w.transport.abort()
                except Exception:
                    pass

        try:
            asyncio.run_coroutine_threadsafe(down(), self.loop).result(5)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    async def _handle(self, reader, writer):
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except Exception:
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else ""
        hdrs = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
        key = hdrs.get("sec-websocket-key", "").encode()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: %s\r\n\r\n"
                      % (accept, self.subprotocol)).encode())
        await writer.drain()
        with self._cond:
            conn = RawConn(self, len(self.conns), reader, writer, path, self.subprotocol)
            self.conns.append(conn)
            self._cond.notify_all()
        await conn._read_loop()

    def connection(self, after=None, timeout=15):
        """The first connection with index > after (default: the next one not handed out yet)."""
        if after is None:
            after = getattr(self, "_handed", -1)
        end = time.monotonic() + timeout
        with self._cond:
            while len(self.conns) <= after + 1:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the station did not connect within %ss" % timeout)
                self._cond.wait(left)
            c = self.conns[after + 1]
        self._handed = c.index
        return c
