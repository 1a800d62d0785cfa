# OCPP-J RPC framing and error handling (Part 4 §4), driven through a fake WebSocket.
import json
import asyncio

from support import run, raises
from flexcharge.comm.rpc import Rpc
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected
from flexcharge.core.router import Router, Block, Reply, on
from flexcharge.core import v201


class FakeWS:
    def __init__(self):
        self.sent = []
        self.subprotocol = "ocpp2.0.1"

    async def send(self, text):
        self.sent.append(json.loads(text))


class Log:
    def __init__(self):
        self.lines = []

    def debug(self, m):
        pass

    info = debug

    def warn(self, m):
        self.lines.append(m)

    error = warn


class Echo(Block):
    def __init__(self):
        Block.__init__(self, None)
        self.followups = 0

    @on("GetVariables")
    def get_variables(self, p):
        return {"getVariableResult": []}

    @on("ClearCache")
    async def clear_cache(self, p):
        return Reply({"status": "Accepted"}, then=self._after())

    async def _after(self):
        self.followups += 1

    @on("Reset")
    def reset(self, p):
        raise ValueError("handler bug")


def make():
    log = Log()
    router = Router(v201, log)
    blk = router.add(Echo())
    ids = [0]

    def next_id():
        ids[0] += 1
        return "id-%d" % ids[0]

    tasks = []
    rpc = Rpc(router.dispatch, next_id, log, lambda c: tasks.append(asyncio.create_task(c)))
    ws = FakeWS()
    rpc.attach(ws)
    return rpc, ws, blk, log


def answer(text):
    rpc, ws, blk, log = make()

    async def go():
        await rpc.on_message(text)
        await asyncio.sleep(0)

    run(go())
    assert len(ws.sent) == 1, ws.sent
    return ws.sent[0]


def test_invalid_json_gets_rpc_framework_error():
    # The messageId was read before the JSON broke: the CALLERROR carries it.
    r = answer('[2, "abc", "Heartbeat", {')
    assert r[0] == 4 and r[1] == "abc" and r[2] == "RpcFrameworkError"
    assert r[4] == {}
    # Part 4 §4.2.3: no readable id -> "-1".
    r = answer('[2, "ab')
    assert r[:3] == [4, "-1", "RpcFrameworkError"]
    r = answer('[2 "abc", "Heartbeat", {}]')
    assert r[:3] == [4, "-1", "RpcFrameworkError"]


# Accepted by MicroPython's lenient json.loads; Part 4 §4.1.2 requires valid JSON.
LENIENT = [
    '[2, "j1", "ClearCache", {"a": 010}]',
    '[2, "j2", "ClearCache", {},]',
    '[2, "j3", "ClearCache", {"a": 1,}]',
    '[2, "j4", "ClearCache" {}]',
    '[2, "j5", "ClearCache", {"a" 1}]',
    '[2, "j6", "ClearCache", {"a": "\\x41"}]',
    '[2, "j7", "ClearCache", {"a": "x\x01y"}]',
    '[2, "j8", "ClearCache", {"a": "tab\there"}]',
]


def test_lenient_json_is_refused():
    for text in LENIENT:
        rpc, ws, blk, log = make()
        run(rpc.on_message(text))
        assert len(ws.sent) == 1, (text, ws.sent)
        r = ws.sent[0]
        assert r[0] == 4 and r[2] == "RpcFrameworkError", (text, r)
        assert r[1] == json.loads(text[4:8]), (text, r)


def test_bytes_prefix_and_rx_size():
    rpc, ws, blk, log = make()
    buf = bytearray(b'[2, "b1", "ClearCache", {}]' + b"\0" * 50)
    run(rpc.on_message(buf, 27))
    assert ws.sent[0][:2] == [3, "b1"]
    assert rpc.rx_size == 27


def test_deep_payload_gets_format_violation():
    deep = '[2, "d1", "GetVariables", {"customData": ' + '{"a": ' * 3000 + "1" + "}" * 3001 + "]"
    r = answer(deep)
    assert r[:3] == [4, "d1", "FormatViolation"], r
    # Too deep before the payload: the wrapper itself cannot be read.
    r = answer('[2, "d2", ' + "[" * 3000 + "]" * 3000 + ", {}]")
    assert r[:3] == [4, "d2", "RpcFrameworkError"], r
    r = answer("[" * 100000)
    assert r[:3] == [4, "-1", "RpcFrameworkError"], r


def test_unreadable_answer_fails_our_call_and_is_not_answered():
    rpc, ws, blk, log = make()

    async def go():
        t = asyncio.create_task(rpc.call("Heartbeat", {}, timeout_s=5))
        await asyncio.sleep(0)
        mid = ws.sent[0][1]
        await rpc.on_message('[3, "%s", {"currentTime": 010}]' % mid)
        try:
            await t
        except CallError as e:
            return e
    e = run(go())
    assert isinstance(e, CallError) and e.code == "FormatViolation"
    assert len(ws.sent) == 1  # only our CALL: no CALLERROR to an answer


def test_not_an_array():
    r = answer('{"a": 1}')
    assert r[:3] == [4, "-1", "RpcFrameworkError"]


def test_unreadable_message_id():
    r = answer('[2, 17, "Heartbeat", {}]')
    assert r[:3] == [4, "-1", "RpcFrameworkError"]
    r = answer('[2, "%s", "Heartbeat", {}]' % ("x" * 37))
    assert r[:3] == [4, "-1", "RpcFrameworkError"]


def test_unknown_message_type():
    r = answer('[7, "m1", "Heartbeat", {}]')
    assert r[:3] == [4, "m1", "MessageTypeNotSupported"]


def test_unknown_action_is_not_implemented():
    r = answer('[2, "m2", "FlyToTheMoon", {}]')
    assert r[:3] == [4, "m2", "NotImplemented"]


def test_known_but_unsupported_action_is_not_supported():
    r = answer('[2, "m3", "UpdateFirmware", {"requestId": 1, "firmware": {"location": "x", "retrieveDateTime": "2024-01-01T00:00:00Z"}}]')
    assert r[:3] == [4, "m3", "NotSupported"]


def test_payload_not_object_is_format_violation():
    r = answer('[2, "m4", "GetVariables", [1, 2]]')
    assert r[:3] == [4, "m4", "FormatViolation"]


def test_schema_violations_map_to_part4_codes():
    r = answer('[2, "m5", "GetVariables", {}]')
    assert r[2] == "OccurrenceConstraintViolation", r
    r = answer('[2, "m6", "GetVariables", {"getVariableData": "x"}]')
    assert r[2] == "TypeConstraintViolation", r
    r = answer('[2, "m7", "ClearCache", {"bogus": 1}]')
    assert r[2] == "FormatViolation", r


def test_call_with_wrong_arity_is_rpc_framework_error():
    r = answer('[2, "m8", "ClearCache"]')
    assert r[:3] == [4, "m8", "RpcFrameworkError"]


def test_valid_call_gets_callresult_and_followup_runs_after():
    rpc, ws, blk, log = make()

    async def go():
        await rpc.on_message('[2, "m9", "ClearCache", {}]')
        assert blk.followups == 0 or ws.sent  # reply is sent before the follow-up
        for _ in range(3):
            await asyncio.sleep(0)

    run(go())
    assert ws.sent == [[3, "m9", {"status": "Accepted"}]]
    assert blk.followups == 1


def test_handler_exception_is_internal_error_not_a_crash():
    r = answer('[2, "m10", "Reset", {"type": "Immediate"}]')
    assert r[:3] == [4, "m10", "InternalError"]


def test_call_result_and_call_error_and_timeout():
    rpc, ws, blk, log = make()

    async def go():
        t = asyncio.create_task(rpc.call("Heartbeat", {}, 5))
        await asyncio.sleep(0)
        mid = ws.sent[0][1]
        assert ws.sent[0] == [2, mid, "Heartbeat", {}]
        await rpc.on_message(json.dumps([3, mid, {"currentTime": "2024-01-01T00:00:00Z"}]))
        r = await t
        assert r == {"currentTime": "2024-01-01T00:00:00Z"}

        t = asyncio.create_task(rpc.call("Heartbeat", {}, 5))
        await asyncio.sleep(0)
        mid = ws.sent[1][1]
        await rpc.on_message(json.dumps([4, mid, "SecurityError", "no", {}]))
        with raises(CallError) as e:
            await t
        assert e.value.code == "SecurityError"

        with raises(CallTimeout):
            await rpc.call("Heartbeat", {}, 0.05)

    run(go())


def test_one_outstanding_call_at_a_time():
    rpc, ws, blk, log = make()

    async def go():
        t1 = asyncio.create_task(rpc.call("Heartbeat", {}, 5))
        t2 = asyncio.create_task(rpc.call("StatusNotification", {"x": 1}, 5))
        for _ in range(3):
            await asyncio.sleep(0)
        assert len(ws.sent) == 1  # the second waits for the first answer
        await rpc.on_message(json.dumps([3, ws.sent[0][1], {}]))
        await t1
        for _ in range(3):
            await asyncio.sleep(0)
        assert len(ws.sent) == 2 and ws.sent[1][2] == "StatusNotification"
        await rpc.on_message(json.dumps([3, ws.sent[1][1], {}]))
        await t2

    run(go())


async def sent_then_cancelled(rpc, ws, timeout_s=5):
    # A Heartbeat CALL that went out, whose caller was then cancelled (a GetLog cancelling its upload).
    t = asyncio.create_task(rpc.call("Heartbeat", {}, timeout_s))
    for _ in range(3):
        await asyncio.sleep(0)
    assert len(ws.sent) == 1
    t.cancel()


async def result_to(rpc, ws, i):
    await rpc.on_message(json.dumps([3, ws.sent[i][1], {}]))


def test_a_cancelled_caller_still_holds_the_next_call_until_the_answer():
    # Found by the schema-valid fuzz: a GetLog cancelling the running upload cancelled its
    # LogStatusNotification mid-CALL, and the next CALL went out before the CSMS had answered.
    rpc, ws, blk, log = make()

    async def go():
        await sent_then_cancelled(rpc, ws)
        t2 = asyncio.create_task(rpc.call("StatusNotification", {"x": 1}, 5))
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(ws.sent) == 1  # Part 4: still one outstanding CALL
        await result_to(rpc, ws, 0)  # the late answer
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(ws.sent) == 2 and ws.sent[1][2] == "StatusNotification"
        await result_to(rpc, ws, 1)
        assert await t2 == {}

    run(go())


def test_a_chain_of_cancelled_callers_never_opens_a_second_call():
    # Three GetLogs in a row: the second upload's task is cancelled while it waits for the first
    # upload's unanswered CALL. The third CALL must still wait for that answer (Part 4 §4.1.1).
    rpc, ws, blk, log = make()

    async def go():
        await sent_then_cancelled(rpc, ws)
        t2 = asyncio.create_task(rpc.call("LogStatusNotification", {"n": 2}, 5))
        await asyncio.sleep(0.02)
        assert not t2.done() and len(ws.sent) == 1  # t2 waits for t1's answer
        t2.cancel()
        t3 = asyncio.create_task(rpc.call("LogStatusNotification", {"n": 3}, 5))
        await asyncio.sleep(0.05)
        assert len(ws.sent) == 1
        await result_to(rpc, ws, 0)
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(ws.sent) == 2 and ws.sent[1][3] == {"n": 3}
        await result_to(rpc, ws, 1)
        assert await t3 == {}

    run(go())


def test_a_cancelled_callers_call_frees_the_link_at_its_timeout():
    rpc, ws, blk, log = make()

    async def go():
        await sent_then_cancelled(rpc, ws, 0.1)
        t2 = asyncio.create_task(rpc.call("StatusNotification", {"x": 1}, 5))
        await asyncio.sleep(0.03)
        assert len(ws.sent) == 1  # the cancelled CALL's own timeout has not passed
        await asyncio.sleep(0.15)
        assert len(ws.sent) == 2  # never answered: the link is free at its timeout
        await result_to(rpc, ws, 1)
        assert await t2 == {}

    run(go())


def test_unexpected_answer_id_is_dropped_and_detach_fails_pending():
    rpc, ws, blk, log = make()

    async def go():
        await rpc.on_message('[3, "nobody", {}]')
        assert ws.sent == []
        t = asyncio.create_task(rpc.call("Heartbeat", {}, 5))
        await asyncio.sleep(0)
        rpc.detach()
        with raises(NotConnected):
            await t
        with raises(NotConnected):
            await rpc.call("Heartbeat", {}, 5)

    run(go())
    assert any("unexpected id" in m for m in log.lines)


def test_csms_call_answered_while_our_call_outstanding():
    rpc, ws, blk, log = make()

    async def go():
        t = asyncio.create_task(rpc.call("Heartbeat", {}, 5))
        await asyncio.sleep(0)
        await rpc.on_message('[2, "c1", "GetVariables", {"getVariableData": [{"component": {"name": "X"}, "variable": {"name": "Y"}}]}]')
        assert ws.sent[1] == [3, "c1", {"getVariableResult": []}]
        await rpc.on_message(json.dumps([3, ws.sent[0][1], {"currentTime": "2024-01-01T00:00:00Z"}]))
        await t

    run(go())


def test_error_description_is_truncated_to_255():
    from flexcharge.comm.rpc import encode_error

    r = json.loads(encode_error("x", "GenericError", "d" * 1000))
    assert len(r[3]) == 255


def test_on_result_runs_before_the_next_frame_is_read():
    rpc, ws, blk, log = make()
    seen = []

    async def go():
        t = asyncio.create_task(rpc.call("BootNotification", {}, 5, on_result=lambda p: seen.append(p["status"])))
        await asyncio.sleep(0)
        await rpc.on_message(json.dumps([3, ws.sent[0][1], {"status": "Rejected"}]))
        assert seen == ["Rejected"]  # synchronously, before the caller resumed
        assert not t.done()
        await t

    run(go())
