# An in-process CSMS on a fake WebSocket, for driving the whole firmware (lifecycle.boot.App)
# without sockets on both interpreters. `answer(action, payload) -> payload` scripts it.
import json
import asyncio

from flexcharge.compat import ticks_ms


class Closed(OSError):
    pass


class FakeLink:
    def __init__(self, csms):
        self.csms = csms
        self.subprotocol = "ocpp2.0.1"
        self.inbox = []
        self.ev = asyncio.Event()
        self.closed = False
        self.last_rx_ms = ticks_ms()
        self.sent_close_code = None  # as comm/websocket.py WebSocket
        self.close_code = None

    async def send(self, text):
        if self.closed:
            raise Closed("closed")
        msg = json.loads(text)
        self.csms.frames.append((self.csms.clock(), msg))
        if msg[0] == 2:
            self.csms.calls.append((msg[2], msg[3]))
            r = self.csms.answer(msg[2], msg[3])
            if r is not None:
                self.push(json.dumps([3, msg[1], r]))
                for text in self.csms.followup(msg[2]):
                    self.push(text)  # in the same read burst, right behind the answer
        else:
            self.csms.replies.append(msg)

    def push(self, text):
        self.inbox.append(text)
        self.ev.set()

    async def recv(self):
        while not self.inbox:
            if self.closed:
                raise Closed("closed")
            self.ev = asyncio.Event()
            await self.ev.wait()
        self.last_rx_ms = ticks_ms()
        return self.inbox.pop(0)

    async def recv_message(self):
        # The WebSocket's zero-copy read (comm/websocket.py): (opcode, n), message in self.rx[:n].
        text = await self.recv()
        self.rx = bytearray(text.encode())
        return 1, len(self.rx)

    async def ping(self, payload=b""):
        pass

    async def close(self, code=1000, reason=""):
        if not self.closed:
            self.sent_close_code = code
        self.closed = True
        self.ev.set()


class FakeCsms:
    def __init__(self, answer):
        self.answer = answer
        self.calls = []  # (action, payload) the station sent
        self.replies = []  # CALLRESULT/CALLERROR frames the station sent
        self.frames = []
        self.link = None
        self.refuse = False
        self.attempts = 0
        self.t0 = ticks_ms()
        self.followup = lambda action: ()

    def clock(self):
        from flexcharge.compat import ticks_diff

        return ticks_diff(ticks_ms(), self.t0) / 1000

    async def connect(self):
        self.attempts += 1
        if self.refuse:
            raise OSError("connection refused")
        self.link = FakeLink(self)
        return self.link

    def actions(self):
        return [a for a, p in self.calls]

    def send_call(self, mid, action, payload):
        self.link.push(json.dumps([2, mid, action, payload]))

    def reply_to(self, mid):
        for r in self.replies:
            if r[1] == mid:
                return r
        return None


def accept(interval=60):
    def answer(action, payload):
        if action == "BootNotification":
            return {"currentTime": "2026-01-01T00:00:00Z", "interval": interval, "status": "Accepted"}
        if action == "Heartbeat":
            return {"currentTime": "2026-01-01T00:00:00Z"}
        if action == "Authorize":
            return {"idTokenInfo": {"status": "Accepted"}}
        if action == "TransactionEvent":
            return {}
        if action in ("StatusNotification", "NotifyEvent", "NotifyReport", "NotifyMonitoringReport", "SecurityEventNotification",
                      "LogStatusNotification", "FirmwareStatusNotification"):
            return {}
        return None

    return answer


def boot_then_accept(first_status, interval):
    """Answer the first BootNotification with first_status, every later one with Accepted."""
    state = {"n": 0}
    rest = accept()

    def answer(action, payload):
        if action == "BootNotification":
            state["n"] += 1
            st = first_status if state["n"] == 1 else "Accepted"
            return {"currentTime": "2026-01-01T00:00:00Z", "interval": interval, "status": st}
        return rest(action, payload)

    return answer


async def wait_for(cond, timeout=5.0):
    t = ticks_ms()
    from flexcharge.compat import ticks_diff

    while not cond():
        if ticks_diff(ticks_ms(), t) > timeout * 1000:
            raise AssertionError("condition not met in %.1f s" % timeout)
        await asyncio.sleep(0.01)
