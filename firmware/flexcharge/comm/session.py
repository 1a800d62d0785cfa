# Connection management: connect, read loop, keep-alive ping, reconnect with back-off.
#
# The session knows nothing of OCPP messages: it moves text frames between the
# WebSocket and the Rpc, and tells its listener when the link comes and goes.
import asyncio
import gc
import random

from flexcharge.compat import ticks_ms, ticks_diff, print_exception
from flexcharge.comm.websocket import WebSocketError
from flexcharge.comm.wsframe import OP_TEXT


_BIG = 16384


def backoff_s(attempt, wait_min, random_range, repeat_times, rnd=random.random):
    """Part 4 §5.3: first retry after WaitMinimum (+ random up to RandomRange), doubling
    after every failed attempt up to RepeatTimes doublings, then constant."""
    n = attempt if attempt < repeat_times else repeat_times
    if n < 0:
        n = 0
    base = wait_min * (1 << n)
    return base + (rnd() * random_range if random_range > 0 else 0)


class Session:
    """connect: async () -> WebSocket. rpc: comm.rpc.Rpc. setting: (name) -> int, read each
    time so device model changes take effect on the next use. listener: object with
    on_connected(ws), on_disconnected(), on_connect_failed(exc)."""

    def __init__(self, connect, rpc, setting, listener, log):
        self.connect = connect
        self.rpc = rpc
        self.setting = setting
        self.listener = listener
        self.log = log
        self.ws = None
        self._stop = False
        self._wake = asyncio.Event()
        self.attempt = 0
        self._skip_backoff = False

    def backoff(self):
        return backoff_s(
            self.attempt,
            self.setting("RetryBackOffWaitMinimum"),
            self.setting("RetryBackOffRandomRange"),
            self.setting("RetryBackOffRepeatTimes"),
        )

    async def run(self):
        first = True
        while not self._stop:
            if not first:
                delay = 0 if self._skip_backoff else self.backoff()
                self._skip_backoff = False
                self.log.info("reconnecting in %.1f s (attempt %d)" % (delay, self.attempt + 1))
                await self._sleep(delay)
                if self._stop:
                    break
                self.attempt += 1
            first = False
            try:
                ws = await self.connect()
            except Exception as e:
                self.log.warn("connect failed: %s" % (e,))
                self.listener.on_connect_failed(e)
                continue
            self.attempt = 0
            await self._serve(ws)

    async def _serve(self, ws):
        self.ws = ws
        self.rpc.attach(ws)
        pinger = asyncio.create_task(self._keepalive(ws))
        try:
            self.listener.on_connected(ws)
            while True:
                # The message stays in the WebSocket's receive buffer: no copy (recv_message).
                op, n = await ws.recv_message()
                if op == OP_TEXT:
                    await self.rpc.on_message(ws.rx, n)
                    if n > _BIG:
                        # Free a large message's objects at once, while their blocks still lie
                        # together: the next large one then finds contiguous heap.
                        gc.collect()
                else:
                    # OCPP-J uses text frames only (Part 4 §3): ignore binary.
                    self.log.warn("ignoring binary frame")
        except Exception as e:
            # Every disconnection has its reason on stderr, and one the station decides goes with
            # the RFC 6455 close code that justifies it: 1002/1007/1009 (websocket.py fails the
            # connection for a peer that breaks the protocol), 1001 (ping timeout, shutdown), 1011
            # here (a bug of ours: the link is not at fault, but the state may be).
            if not ws.closed and not _expected(e):
                try:
                    await ws.close(1011, "internal error")
                except Exception:
                    pass
            self.log.info("connection ended: %s (close sent %s, received %s)" % (e, ws.sent_close_code, ws.close_code))
            if not _expected(e):
                print_exception(e)
        finally:
            pinger.cancel()
            self.rpc.detach()
            self.ws = None
            try:
                await ws.close(1001, "going away")  # a no-op when already closed
            except Exception:
                pass
            self.listener.on_disconnected()

    async def _keepalive(self, ws):
        # OCPPCommCtrlr.WebSocketPingInterval: 0 disables. No pong within the interval
        # after a ping means the link is dead even if TCP has not noticed yet.
        try:
            while True:
                iv = self.setting("WebSocketPingInterval")
                if iv <= 0:
                    await asyncio.sleep(5)
                    continue
                await asyncio.sleep(iv)
                if ticks_diff(ticks_ms(), ws.last_rx_ms) < iv * 1000:
                    continue  # traffic seen recently: the link is alive
                sent = ticks_ms()
                await ws.ping()
                await asyncio.sleep(iv)
                if ticks_diff(ws.last_rx_ms, sent) < 0:
                    self.log.warn("no pong within %d s: dropping the connection" % iv)
                    await ws.close(1001, "ping timeout")
                    return
        except asyncio.CancelledError:
            pass
        except Exception as e:
            self.log.warn("keep-alive stopped: %s" % (e,))

    async def _sleep(self, s):
        self._wake = asyncio.Event()
        try:
            await asyncio.wait_for(self._wake.wait(), s)
        except asyncio.TimeoutError:
            pass

    def restart(self, reason):
        """Close the link now (1000, `reason`) and reconnect without back-off: new credentials
        (A01) or a new network profile take effect on the next connection."""
        self._skip_backoff = True
        self.log.info("closing the connection: %s" % reason)
        ws = self.ws
        if ws is not None:
            asyncio.create_task(ws.close(1000, reason[:100]))
        else:
            self._wake.set()

    def reconnect_now(self):
        # Cut the back-off short (e.g. after a network profile change).
        self._wake.set()

    async def stop(self):
        self._stop = True
        self._wake.set()
        ws = self.ws
        if ws is not None:
            await ws.close(1001, "shutdown")  # RFC 6455 §7.4.1: the endpoint is going away


def _expected(e):
    # Link failures are routine; anything else is a bug worth a traceback on stderr.
    return isinstance(e, (WebSocketError, OSError, asyncio.CancelledError))
