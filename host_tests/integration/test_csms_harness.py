# The test CSMS itself (tools/csms), driven by a bare WebSocket client instead of a station: what its
# tests rely on must hold regardless of thread timing.
import asyncio
import json

from websockets.asyncio.client import connect

from csms import NO_REPLY, Csms

OLD, NEW = "2026-01-01T00:00:00Z", "2030-01-01T00:00:00Z"


async def heartbeats(url, identity, count):
    async with connect(url + "/" + identity, subprotocols=["ocpp2.0.1"]) as ws:
        out = []
        for i in range(count):
            await ws.send(json.dumps([2, "%s-%d" % (identity, i), "Heartbeat", {}]))
            try:
                out.append(json.loads(await asyncio.wait_for(ws.recv(), 2.0)))
            except asyncio.TimeoutError:
                out.append(None)
        return out


def test_responder_in_place_when_a_call_arrives_answers_it():
    # A test sees a frame, then changes its responder (test_power_loss does: an Ended left unanswered,
    # then the responder removed before the cut). The frame already received is answered as it was
    # when it arrived, however soon the test thread runs; the next one by the new responder.
    swapped = []

    def swap(kind, frame):  # runs in the CSMS loop as the frame is recorded, before it is routed
        if kind == "frame" and frame.src == "station" and not swapped:
            swapped.append(frame.msg_id)
            csms.responders["Heartbeat"] = lambda p, s: {"currentTime": NEW}

    # station_message_timeout 1: the second CALL, 2 s after an unanswered one, is no violation.
    csms = Csms(listeners=(swap,), station_message_timeout=1).start()
    try:
        csms.responders["Heartbeat"] = lambda p, s: {"currentTime": OLD}
        first, second = asyncio.run(heartbeats(csms.url, "H1", 2))
        assert swapped == ["H1-0"]
        assert first == [3, "H1-0", {"currentTime": OLD}]
        assert second == [3, "H1-1", {"currentTime": NEW}]

        # The same for NO_REPLY: removed after the frame came, the CALL still goes unanswered.
        swapped.clear()
        csms.responders["Heartbeat"] = lambda p, s: NO_REPLY
        csms.listeners[:] = [lambda kind, frame: (kind == "frame" and frame.src == "station"
                                                  and csms.responders.pop("Heartbeat", None))]
        unanswered, answered = asyncio.run(heartbeats(csms.url, "H2", 2))
        assert unanswered is None
        assert answered[0:2] == [3, "H2-1"] and "currentTime" in answered[2]
    finally:
        csms.stop()
    csms.assert_no_violations()
