# comm/session.py: every disconnection the station decides carries the RFC 6455 close code that
# justifies it, and its reason is logged (issue 8).
import asyncio

from flexcharge.comm import websocket
from flexcharge.comm.session import Session
from test_websocket import start, stop, handshake, sframe, expect_close, url, run


class Log:
    def __init__(self):
        self.lines = []

    def debug(self, m):
        self.lines.append(m)

    info = warn = error = debug


class Rpc:
    def __init__(self, fail=False):
        self.fail = fail
        self.got = []

    def attach(self, ws):
        pass

    def detach(self):
        pass

    async def on_message(self, data, n):
        self.got.append(bytes(data[:n]))
        if self.fail:
            raise RuntimeError("a bug in a handler")


class Listener:
    def __init__(self, session_box):
        self.box = session_box

    def on_connected(self, ws):
        pass

    def on_disconnected(self):
        self.box[0]._stop = True  # one connection per test

    def on_connect_failed(self, exc):
        self.box[0]._stop = True


def settings(name):
    return {"RetryBackOffWaitMinimum": 0, "RetryBackOffRandomRange": 0, "RetryBackOffRepeatTimes": 0,
            "WebSocketPingInterval": 0}[name]


def session_against(handler, rpc, stop_after=None):
    async def main():
        srv, port, log = await start(handler)
        box = [None]
        slog = Log()
        s = Session(lambda: websocket.connect(url(port), ("ocpp2.0.1",)), rpc, settings, Listener(box), slog)
        box[0] = s
        try:
            if stop_after is None:
                await asyncio.wait_for(s.run(), 5)
            else:
                t = asyncio.create_task(s.run())
                await asyncio.sleep(stop_after)
                await s.stop()
                await asyncio.wait_for(t, 5)
        finally:
            await stop(srv)
        return log, slog

    return run(main())


def _closing_server(then=b""):
    async def handler(reader, writer, log):
        await handshake(reader, writer, log, then=then)
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))
        await writer.drain()
    return handler


def test_internal_error_closes_1011_with_reason_logged():
    rpc = Rpc(fail=True)
    log, slog = session_against(_closing_server(sframe(1, b'[2, "a", "ClearCache", {}]')), rpc)
    assert rpc.got == [b'[2, "a", "ClearCache", {}]']
    assert log["close"][0] == 1011, log
    assert any("connection ended" in m and "a bug in a handler" in m and "sent 1011" in m for m in slog.lines), slog.lines


def test_protocol_error_closes_1002_with_reason_logged():
    log, slog = session_against(_closing_server(sframe(0, b"orphan")), Rpc())
    assert log["close"][0] == 1002, log
    assert any("connection ended" in m and "continuation" in m and "sent 1002" in m for m in slog.lines), slog.lines


def test_shutdown_closes_1001():
    log, slog = session_against(_closing_server(), Rpc(), stop_after=0.2)
    assert log["close"] == (1001, "shutdown"), log
