# WebSocket client (firmware/flexcharge/comm/websocket.py) against a scripted in-process
# server built on asyncio.start_server (works on CPython and MicroPython alike). The
# server side frames bytes by hand, independently of wsframe.py.
import asyncio
import binascii
import hashlib

from support import raises, run as _run

from flexcharge import compat
from flexcharge.comm import websocket
from flexcharge.comm import wsframe
from flexcharge.comm.websocket import (ConnectionClosed, HandshakeError, MessageTooBig, ProtocolError,
                                       WebSocketError)

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def run(coro):
    # A client that forgets to answer must fail the test, not hang the suite.
    return _run(asyncio.wait_for(coro, 10))


# -- scripted server ------------------------------------------------------------------
async def start(handler, ssl=None):
    """Start a server on a free-looking port running handler(reader, writer, log)."""
    log = {"errors": [], "frames": [], "request": None, "writers": [], "closed": []}

    async def cb(reader, writer):
        log["writers"].append(writer)
        try:
            await handler(reader, writer, log)
        except Exception as e:  # surfaces in the test through log["errors"]
            log["errors"].append(repr(e))
        await close_once(writer, log)

    for _ in range(30):
        port = 20000 + int.from_bytes(compat.urandom(2), "big") % 30000
        try:
            if ssl is None:
                srv = await asyncio.start_server(cb, "127.0.0.1", port)
            else:
                srv = await asyncio.start_server(cb, "127.0.0.1", port, ssl=ssl)
            srv.log = log
            return srv, port, log
        except OSError:
            pass
    raise OSError("no free port")


async def close_once(writer, log):
    # Each server stream is closed once: MicroPython 1.25's unix port closes the fd number
    # again on a second close(), by when it may belong to a later connection (EBADF).
    if any(w is writer for w in log["closed"]):
        return
    log["closed"].append(writer)
    try:
        writer.close()
        await writer.wait_closed()
    except Exception:
        pass


async def stop(srv):
    srv.close()
    await srv.wait_closed()
    for w in srv.log["writers"]:  # handlers still running: end their connections too
        await close_once(w, srv.log)
    await asyncio.sleep(0)


async def read_request(reader):
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            raise EOFError("client went away during handshake")
        line = line.decode().rstrip("\r\n")
        if not line:
            break
        lines.append(line)
    hdrs = {}
    for line in lines[1:]:
        i = line.find(":")
        hdrs[line[:i].strip().lower()] = line[i + 1:].strip()
    return lines[0], hdrs


def accept_of(key):
    return binascii.b2a_base64(hashlib.sha1(key.encode() + GUID).digest()).decode().strip()


async def handshake(reader, writer, log, protocol="ocpp2.0.1", extra="", accept=None, then=b""):
    line, hdrs = await read_request(reader)
    log["request"] = (line, hdrs)
    resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    resp += "Sec-WebSocket-Accept: %s\r\n" % (accept or accept_of(hdrs["sec-websocket-key"]))
    if protocol:
        resp += "Sec-WebSocket-Protocol: %s\r\n" % protocol
    writer.write(resp.encode() + extra.encode() + b"\r\n" + then)
    await writer.drain()


def sframe(op, payload=b"", fin=True, rsv=0, key=None):
    """A server frame, built by hand."""
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    mbit = 0x80 if key else 0
    if n < 126:
        h = bytes([b0, mbit | n])
    elif n < 65536:
        h = bytes([b0, mbit | 126, n >> 8, n & 255])
    else:
        h = bytes([b0, mbit | 127]) + n.to_bytes(8, "big")
    if key:
        return h + key + bytes([payload[i] ^ key[i % 4] for i in range(n)])
    return h + payload


async def read_cframe(reader):
    """(fin, opcode, payload) of one client frame; checks that it is masked."""
    b = await reader.readexactly(2)
    if not b[1] & 0x80:
        raise AssertionError("client frame not masked")
    n = b[1] & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await reader.readexactly(8), "big")
    key = await reader.readexactly(4)
    data = await reader.readexactly(n) if n else b""
    return (b[0] & 0x80 != 0, b[0] & 0x0F, bytes([data[i] ^ key[i % 4] for i in range(n)]), key)


async def expect_close(reader, log):
    """Read client frames until a close frame; log its code and reason."""
    while True:
        fin, op, data, key = await read_cframe(reader)
        if op == 8:
            code = (data[0] << 8) | data[1] if len(data) >= 2 else None
            log["close"] = (code, data[2:].decode())
            return code


def url(port, path="/ocpp/CS1"):
    return "ws://127.0.0.1:%d%s" % (port, path)


def scenario(handler, client, **kw):
    """Run client(ws, log) against handler; re-raise server-side assertion failures."""

    async def main():
        srv, port, log = await start(handler)
        try:
            ws = await websocket.connect(url(port), kw.get("protocols", ("ocpp2.0.1",)),
                                         max_message=kw.get("max_message", 65536), rx=kw.get("rx"))
            try:
                await client(ws, log)
            finally:
                await ws.close()
            await asyncio.sleep(0.02)
        finally:
            await stop(srv)
        return log

    log = run(main())
    assert not log["errors"], log["errors"]
    return log


def connect_error(handler, exc, protocols=("ocpp2.0.1", "ocpp1.6"), headers=(), timeout_ms=3000):
    async def main():
        srv, port, log = await start(handler)
        try:
            with raises(exc) as r:
                await websocket.connect(url(port), protocols, headers, timeout_ms=timeout_ms)
        finally:
            await stop(srv)
        return r.value, log

    e, log = run(main())
    assert not log["errors"], log["errors"]
    return e, log


# -- opening handshake ------------------------------------------------------------------
def test_accept_key_rfc_vector():
    assert websocket._accept_for(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_handshake_request_and_echo():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log, protocol="ocpp1.6")
        for _ in range(2):
            fin, op, data, key = await read_cframe(reader)
            log["frames"].append((op, data, key))
            writer.write(sframe(op, data))
            await writer.drain()
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def main():
        srv, port, log = await start(handler)
        ws = await websocket.connect(url(port, "/ocpp/CS%2001?a=1"), ["ocpp2.0.1", "ocpp1.6"],
                                     (("Authorization", "Basic eDp5"), ("X-Extra", "1")))
        assert ws.subprotocol == "ocpp1.6"
        assert not ws.closed and ws.last_pong_ms is None
        await ws.send("[2,\"1\",\"Heartbeat\",{}]")
        assert await ws.recv() == "[2,\"1\",\"Heartbeat\",{}]"
        await ws.send(b"\x00\x01\xff")
        assert await ws.recv() == b"\x00\x01\xff"
        await ws.close()
        assert ws.closed
        await stop(srv)
        return log, port

    log, port = run(main())
    assert not log["errors"], log["errors"]
    line, h = log["request"]
    assert line == "GET /ocpp/CS%2001?a=1 HTTP/1.1"
    assert h["host"] == "127.0.0.1:%d" % port
    assert h["upgrade"].lower() == "websocket"
    assert "upgrade" in h["connection"].lower()
    assert h["sec-websocket-version"] == "13"
    assert len(binascii.a2b_base64(h["sec-websocket-key"])) == 16
    assert h["sec-websocket-protocol"] == "ocpp2.0.1, ocpp1.6"
    assert h["authorization"] == "Basic eDp5" and h["x-extra"] == "1"
    assert log["frames"][0][:2] == (1, b"[2,\"1\",\"Heartbeat\",{}]")
    assert log["frames"][1][:2] == (2, b"\x00\x01\xff")
    assert log["frames"][0][2] != log["frames"][1][2]  # fresh mask key per frame
    assert log["close"] == (1000, "")


def test_fresh_key_per_connection():
    keys = []

    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        keys.append(log["request"][1]["sec-websocket-key"])
        await expect_close(reader, log)

    async def main():
        srv, port, log = await start(handler)
        for _ in range(2):
            ws = await websocket.connect(url(port), ("ocpp2.0.1",))
            websocket.CLOSE_TIMEOUT_MS, old = 200, websocket.CLOSE_TIMEOUT_MS
            try:
                await ws.close()
            finally:
                websocket.CLOSE_TIMEOUT_MS = old
        await stop(srv)

    run(main())
    assert len(keys) == 2 and keys[0] != keys[1]


def test_subprotocol_none_is_refused():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log, protocol=None)
        await expect_close(reader, log)

    e, log = connect_error(handler, HandshakeError)
    assert "none of the offered" in str(e) and "ocpp2.0.1, ocpp1.6" in str(e)
    assert e.status is None
    assert log["close"][0] == 1000  # the link is closed, not just dropped


def test_subprotocol_not_offered_is_refused():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log, protocol="ocpp2.1")
        await expect_close(reader, log)

    e, log = connect_error(handler, HandshakeError)
    assert "ocpp2.1" in str(e) and "not one of those offered" in str(e)
    assert log["close"][0] == 1002


def test_subprotocol_several_is_refused():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log, protocol="ocpp2.0.1, ocpp1.6")
        await expect_close(reader, log)

    e, log = connect_error(handler, HandshakeError)
    assert "ocpp2.0.1, ocpp1.6" in str(e)
    assert log["close"][0] == 1002


def test_http_401_has_status():
    async def handler(reader, writer, log):
        await read_request(reader)
        writer.write(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    e, log = connect_error(handler, HandshakeError)
    assert e.status == 401 and "401" in str(e)


def test_http_404_has_status():
    async def handler(reader, writer, log):
        await read_request(reader)
        writer.write(b"HTTP/1.1 404 Not Found\r\n\r\n")
        await writer.drain()

    e, log = connect_error(handler, HandshakeError)
    assert e.status == 404


def test_bad_accept_and_headers():
    cases = (
        dict(accept="s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        dict(extra="Sec-WebSocket-Extensions: permessage-deflate\r\n"),
    )
    for kw in cases:
        async def handler(reader, writer, log, kw=kw):
            await handshake(reader, writer, log, **kw)
            await asyncio.sleep(0.3)

        connect_error(handler, HandshakeError)

    async def no_upgrade(reader, writer, log):
        await read_request(reader)
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.3)

    connect_error(no_upgrade, HandshakeError)

    async def garbage(reader, writer, log):
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()

    connect_error(garbage, HandshakeError)


def test_server_closes_during_handshake():
    async def handler(reader, writer, log):
        await read_request(reader)

    e, log = connect_error(handler, HandshakeError)
    assert e.status is None


def test_connect_timeout_is_bounded():
    async def handler(reader, writer, log):
        await read_request(reader)
        await asyncio.sleep(2)

    t0 = compat.ticks_ms()
    e, log = connect_error(handler, WebSocketError, timeout_ms=300)
    dt = compat.ticks_diff(compat.ticks_ms(), t0)
    assert "300 ms" in str(e)
    assert dt < 1500, dt


def test_connection_refused_is_oserror():
    async def main():
        # Bind a server to learn a free port, then close it so nothing listens there.
        srv, port, log = await start(None)
        await stop(srv)
        await asyncio.sleep(0.05)
        t0 = compat.ticks_ms()
        with raises(OSError):
            await websocket.connect(url(port), ("ocpp2.0.1",), timeout_ms=2000)
        return compat.ticks_diff(compat.ticks_ms(), t0)

    assert run(main()) < 1900


def test_bad_arguments():
    async def main():
        for args, kw in (
            (("wss://127.0.0.1:1/x", ("ocpp2.0.1",)), {}),  # wss without a verified context
            (("ws://127.0.0.1:1/x", ()), {}),
            (("ws://127.0.0.1:1/x", ("ocpp 2",)), {}),
            (("ws://127.0.0.1:1/x", ("ocpp2.0.1",), (("X-A", "1\r\nEvil: 1"),)), {}),
            (("ws://127.0.0.1:1/x", ("ocpp2.0.1",), (("Host", "x"),)), {}),
            (("ws://127.0.0.1:1/x", ("ocpp2.0.1",), (("Bad Name", "x"),)), {}),
            (("http://127.0.0.1:1/x", ("ocpp2.0.1",)), {}),
            (("ws://127.0.0.1:1/x", ("ocpp2.0.1",)), {"ssl": object()}),
        ):
            with raises(ValueError):
                await websocket.connect(*args, **kw)

    run(main())


def test_frame_right_after_101():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log, then=sframe(1, b"early") + sframe(9, b"p") + sframe(1, b"second"))
        fin, op, data, key = await read_cframe(reader)
        log["frames"].append((op, data))
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        assert await ws.recv() == "early"
        assert await ws.recv() == "second"

    log = scenario(handler, client)
    assert log["frames"] == [(10, b"p")]


# -- control frames ---------------------------------------------------------------------
def test_ping_pong_both_ways():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        writer.write(sframe(9, b"hb-1") + sframe(1, b"after"))
        await writer.drain()
        fin, op, data, key = await read_cframe(reader)
        log["frames"].append((op, data))  # automatic pong
        fin, op, data, key = await read_cframe(reader)
        log["frames"].append((op, data))  # client's ping
        writer.write(sframe(10, data))
        await writer.drain()
        fin, op, data, key = await read_cframe(reader)
        log["frames"].append((op, data))
        writer.write(sframe(1, b"done"))
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        t0 = ws.last_rx_ms
        assert await ws.recv() == "after"
        assert compat.ticks_diff(ws.last_rx_ms, t0) >= 0
        assert ws.last_pong_ms is None
        await ws.ping(b"k")
        await ws.send("x")
        assert await ws.recv() == "done"
        assert ws.last_pong_ms is not None
        assert compat.ticks_diff(ws.last_rx_ms, ws.last_pong_ms) >= 0

    log = scenario(handler, client)
    assert log["frames"] == [(10, b"hb-1"), (9, b"k"), (1, b"x")]


def test_ping_payload_limit():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        with raises(ValueError):
            await ws.ping(bytes(126))

    scenario(handler, client)


# -- fragmentation --------------------------------------------------------------------------
def test_fragmented_messages_with_interleaved_control():
    big = bytes(range(256)) * 40  # 10240 bytes, 16-bit length frames

    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        writer.write(sframe(1, b"[2,\"a", fin=False) + sframe(9, b"mid") + sframe(0, b"bc\",", fin=False)
                     + sframe(0, "\u00e9\"]".encode()))
        writer.write(sframe(2, big[:5000], fin=False) + sframe(0, big[5000:], fin=True))
        # A character split across two fragments is fine once reassembled.
        e = "\u20ac".encode()
        writer.write(sframe(1, e[:1], fin=False) + sframe(0, e[1:]))
        await writer.drain()
        fin, op, data, key = await read_cframe(reader)
        log["frames"].append((op, data))
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        assert await ws.recv() == "[2,\"abc\",\u00e9\"]"
        assert await ws.recv() == big
        assert await ws.recv() == "\u20ac"

    log = scenario(handler, client)
    assert log["frames"] == [(10, b"mid")]


def test_large_messages_both_ways():
    big = bytes(range(256)) * 256  # 65536 bytes: 64-bit length encoding

    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        fin, op, data, key = await read_cframe(reader)
        log["frames"].append((op, len(data), data == big))
        writer.write(sframe(2, data))
        await writer.drain()
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        await ws.send(big)
        assert await ws.recv() == big

    log = scenario(handler, client, max_message=70000)
    assert log["frames"] == [(2, 65536, True)]


def test_concurrent_senders_do_not_interleave():
    msgs = ["m%d-" % i + "x" * (3000 + 997 * i) for i in range(8)]

    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        for _ in msgs:
            fin, op, data, key = await read_cframe(reader)
            log["frames"].append(data.decode())
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        tasks = [asyncio.create_task(ws.send(m)) for m in msgs]
        for t in tasks:
            await t

    log = scenario(handler, client)
    assert sorted(log["frames"]) == sorted(msgs)


# -- closing --------------------------------------------------------------------------------
def test_server_initiated_close():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        writer.write(sframe(8, b"\x03\xe9bye"))
        await writer.drain()
        log["reply"] = await expect_close(reader, log)

    async def client(ws, log):
        with raises(ConnectionClosed) as r:
            await ws.recv()
        assert (r.value.code, r.value.reason) == (1001, "bye")
        assert ws.closed
        with raises(ConnectionClosed):
            await ws.recv()
        with raises(ConnectionClosed):
            await ws.send("late")
        with raises(ConnectionClosed):
            await ws.ping()
        await ws.close()  # idempotent

    log = scenario(handler, client)
    assert log["close"] == (1001, "")  # echoed code (RFC 6455 §5.5.1)


def test_server_close_without_code():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        writer.write(sframe(8))
        await writer.drain()
        fin, op, data, key = await read_cframe(reader)
        log["frames"].append((op, data))

    async def client(ws, log):
        with raises(ConnectionClosed) as r:
            await ws.recv()
        assert r.value.code == 1005

    log = scenario(handler, client)
    assert log["frames"] == [(8, b"")]


def test_client_close_handshake():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        writer.write(sframe(1, b"ignored while closing"))
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))
        await writer.drain()

    async def main():
        srv, port, log = await start(handler)
        ws = await websocket.connect(url(port), ("ocpp2.0.1",))
        t0 = compat.ticks_ms()
        await ws.close(4000, "going")
        dt = compat.ticks_diff(compat.ticks_ms(), t0)
        # RFC 6455 §7.1.5: the close code is the one in the close frame received.
        assert ws.closed and ws.close_code == 1000
        await ws.close()
        with raises(ConnectionClosed):
            await ws.send("x")
        await stop(srv)
        return log, dt

    log, dt = run(main())
    assert log["close"] == (4000, "going")
    assert dt < websocket.CLOSE_TIMEOUT_MS  # the reply ended the wait, not the timer


def test_close_wait_is_bounded():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        await expect_close(reader, log)
        await asyncio.sleep(2)  # never answers

    async def main():
        srv, port, log = await start(handler)
        ws = await websocket.connect(url(port), ("ocpp2.0.1",))
        old = websocket.CLOSE_TIMEOUT_MS
        websocket.CLOSE_TIMEOUT_MS = 250
        try:
            t0 = compat.ticks_ms()
            await ws.close()
            dt = compat.ticks_diff(compat.ticks_ms(), t0)
        finally:
            websocket.CLOSE_TIMEOUT_MS = old
        await stop(srv)
        return log, dt

    log, dt = run(main())
    assert log["close"] == (1000, "")
    assert 200 <= dt < 1200, dt


def test_close_while_another_task_reads():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe9"))
        await writer.drain()

    async def main():
        srv, port, log = await start(handler)
        ws = await websocket.connect(url(port), ("ocpp2.0.1",))
        got = []

        async def reader_task():
            try:
                await ws.recv()
            except ConnectionClosed as e:
                got.append(e.code)

        t = asyncio.create_task(reader_task())
        await asyncio.sleep(0.05)
        t0 = compat.ticks_ms()
        await ws.close(1001, "ping timeout")
        dt = compat.ticks_diff(compat.ticks_ms(), t0)
        await t
        await stop(srv)
        return log, got, dt

    log, got, dt = run(main())
    assert log["close"] == (1001, "ping timeout")
    assert got == [1001]
    assert dt < websocket.CLOSE_TIMEOUT_MS


def test_connection_lost_without_close():
    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        writer.write(sframe(1, b"last"))
        await writer.drain()

    async def client(ws, log):
        assert await ws.recv() == "last"
        with raises(ConnectionClosed) as r:
            await ws.recv()
        assert r.value.code == 1006
        assert ws.closed

    scenario(handler, client)


# -- limits and bad input ---------------------------------------------------------------
def _failing(frames, exc, code, max_message=65536):
    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        writer.write(frames)
        await writer.drain()
        await expect_close(reader, log)

    async def client(ws, log):
        with raises(exc) as r:
            await ws.recv()
        assert ws.closed and ws.close_code == code
        with raises(ConnectionClosed) as r2:
            await ws.recv()
        assert r2.value.code == code
        log["msg"] = str(r.value)

    log = scenario(handler, client, max_message=max_message)
    assert log["close"][0] == code, log
    return log


def test_message_too_big():
    log = _failing(sframe(1, b"x" * 1001), MessageTooBig, 1009, max_message=1000)
    assert "1000" in log["msg"]
    # Exactly at the limit is fine; the limit counts the whole fragmented message.
    _failing(sframe(2, b"x" * 600, fin=False) + sframe(0, b"x" * 401), MessageTooBig, 1009, max_message=1000)

    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        writer.write(sframe(2, b"y" * 1000))
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        assert await ws.recv() == b"y" * 1000

    scenario(handler, client, max_message=1000)


def test_message_too_big_is_protocol_error():
    assert issubclass(MessageTooBig, ProtocolError) and issubclass(ProtocolError, WebSocketError)
    assert issubclass(HandshakeError, WebSocketError) and issubclass(ConnectionClosed, WebSocketError)


def test_bad_frames_close_1002():
    bad = (
        sframe(1, b"x", rsv=0x40),  # RSV1 without an extension
        sframe(3, b""),  # reserved opcode
        sframe(0xB, b""),
        bytes([0x89, 0x7E, 0x00, 0x80]) + b"p" * 128,  # ping > 125 bytes
        sframe(9, b"p", fin=False),  # fragmented ping
        sframe(1, b"masked", key=b"\x01\x02\x03\x04"),  # server frames must not be masked
        sframe(0, b"orphan continuation"),
        sframe(1, b"a", fin=False) + sframe(1, b"b"),  # new message inside a fragmented one
        sframe(8, b"\x03"),  # 1-byte close payload
        sframe(8, b"\x03\xed"),  # close code 1005 on the wire
    )
    for f in bad:
        _failing(f, ProtocolError, 1002)


def test_invalid_utf8_closes_1007():
    log = _failing(sframe(1, b"\xc0\xaf"), ProtocolError, 1007)
    assert "UTF-8" in log["msg"]
    _failing(sframe(1, b"ok\xed\xa0\x80"), ProtocolError, 1007)  # surrogate
    # Invalid binary is just bytes.

    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        writer.write(sframe(2, b"\xc0\xaf"))
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        assert await ws.recv() == b"\xc0\xaf"

    scenario(handler, client)


def test_byte_by_byte_delivery():
    # TCP may split anything anywhere: feed the server's bytes one at a time.
    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        data = sframe(1, b"x" * 300) + sframe(9, b"") + sframe(2, b"\x01" * 70000) + sframe(1, b"end")
        i = 0
        while i < len(data):
            n = 1 if i < 400 else 9000
            writer.write(data[i:i + n])
            await writer.drain()
            i += n
            if i < 400:
                await asyncio.sleep(0)
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        assert await ws.recv() == "x" * 300
        assert await ws.recv() == b"\x01" * 70000
        assert await ws.recv() == "end"

    scenario(handler, client, max_message=70000)


def test_recv_is_cancel_safe():
    # A recv() cancelled half-way (e.g. by wait_for) must not lose buffered bytes.
    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        f = sframe(1, b"z" * 500)
        writer.write(f[:100])
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.write(f[100:])
        await writer.drain()
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        with raises(asyncio.TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.1)
        assert await ws.recv() == "z" * 500

    scenario(handler, client)


def test_close_timeout_releases_a_blocked_reader():
    # Dead peer: no close reply. close() gives up after CLOSE_TIMEOUT_MS and the task
    # blocked in recv() must end too, not hang on a closed socket.
    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        await expect_close(reader, log)
        await asyncio.sleep(2)

    async def main():
        srv, port, log = await start(handler)
        ws = await websocket.connect(url(port), ("ocpp2.0.1",))
        got = []

        async def reader_task():
            try:
                await ws.recv()
            except ConnectionClosed as e:
                got.append(e.code)

        t = asyncio.create_task(reader_task())
        await asyncio.sleep(0.05)
        old = websocket.CLOSE_TIMEOUT_MS
        websocket.CLOSE_TIMEOUT_MS = 200
        try:
            await ws.close(1001)
        finally:
            websocket.CLOSE_TIMEOUT_MS = old
        t0 = compat.ticks_ms()
        await asyncio.wait_for(t, 1)
        dt = compat.ticks_diff(compat.ticks_ms(), t0)
        await stop(srv)
        return got, dt

    got, dt = run(main())
    assert got == [1001] and dt < 500, (got, dt)


# -- issue 8: receive buffer, segmentation, UTF-8 out --------------------------------------
def test_recv_message_uses_the_given_buffer_without_copy():
    rx = websocket.RxBuffer(70000)

    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        writer.write(sframe(1, b"[1]") + sframe(1, b"y" * 65536, fin=False) + sframe(9, b"p") + sframe(0, b"z"))
        await writer.drain()
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        assert ws.rx is rx.msg
        op, n = await ws.recv_message()
        assert (op, n, bytes(ws.rx[:n])) == (1, 3, b"[1]")
        op, n = await ws.recv_message()
        assert (op, n) == (1, 65537) and ws.rx[65535:65537] == b"yz"

    scenario(handler, client, max_message=70000, rx=rx)
    # The same buffer serves the next connection.
    scenario(handler, client, max_message=70000, rx=rx)


def test_large_message_in_tiny_segments_and_liveness():
    # 20,000 bytes in 7-byte segments: assembled right, and every segment counts as traffic for
    # the keep-alive (last_rx_ms moves before the frame is complete).
    msg = bytes(range(32, 127)) * 210 + b"!" * 50

    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        await asyncio.sleep(0.05)
        f = sframe(1, msg)
        for i in range(0, len(f), 7):
            writer.write(f[i:i + 7])
            await writer.drain()
            if i == 7000:
                await asyncio.sleep(0.3)
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        t0 = ws.last_rx_ms
        task = asyncio.create_task(ws.recv())
        await asyncio.sleep(0.2)
        assert not task.done()
        assert compat.ticks_diff(ws.last_rx_ms, t0) > 0  # bytes seen, no frame yet
        assert await task == msg.decode()

    scenario(handler, client)


def test_text_sent_is_always_utf8():
    import json
    pair = json.loads('"\\ud83d\\ude00"')  # MicroPython: two 3-byte surrogates; CPython: one str char
    texts = ["a" + chr(0xD800) + "b", "x" + pair + "y", "caf\u00e9", "plain"]
    want = ["a\ufffdb", "x\U0001f600y", "caf\u00e9", "plain"]

    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        for _ in texts:
            fin, op, data, key = await read_cframe(reader)
            log["frames"].append(data)
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))

    async def client(ws, log):
        for t in texts:
            await ws.send(t)

    log = scenario(handler, client)
    got = [bytes(f).decode() for f in log["frames"]]  # CPython's decode is strict
    for g, w, raw in zip(got, want, log["frames"]):
        assert g == w, (g, w)
        assert wsframe.utf8_valid(raw), raw
