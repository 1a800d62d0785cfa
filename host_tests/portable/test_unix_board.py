# The simulated board: stdin commands, world persistence, events (DESIGN.md launcher contract).
import io
import json

from support import tmpdir
from board import SimBoard

CFG = {"evses": [{"id": 1, "connectors": 1}, {"id": 2, "connectors": 2}]}


def make(state=None):
    out = io.StringIO()
    b = SimBoard(CFG, state or tmpdir("board"), out=out)
    seen = []
    b.listener = lambda kind, data: seen.append((kind, data))
    return b, out, seen


def events(out):
    return [json.loads(l) for l in out.getvalue().splitlines() if l]


def test_plug_unplug_and_idempotence():
    b, out, seen = make()
    assert b.command('{"cmd": "plug", "evse": 2, "connector": 2}') == "plug"
    assert b.connectors[(2, 2)].plugged() and not b.connectors[(2, 1)].plugged()
    assert b.ev_state(2) == "B"  # cable in, EV in state B
    assert b.command('{"cmd": "plug", "evse": 2, "connector": 2}') is None  # same state: nothing
    assert b.command('{"cmd": "unplug", "evse": 2, "connector": 2}') == "unplug"
    assert b.ev_state(2) == "A"
    assert [k for k, d in seen] == ["plug", "unplug"]
    assert events(out) == []


def test_bad_lines_give_error_events():
    b, out, seen = make()
    for line in ("not json", '{"cmd": "dance"}', '{"cmd": "plug", "evse": 9, "connector": 1}',
                 '{"cmd": "plug", "evse": 1, "connector": 2}', '[1,2]', '{"cmd": "ev", "evse": 1, "state": "Z"}',
                 '{"cmd": "load", "evse": 1, "watts": -5}', '{"cmd": "tag"}', '{"cmd": "fault", "evse": 1}'):
        assert b.command(line) is None
    ev = events(out)
    assert len(ev) == 9 and all(e["event"] == "error" and e["message"] for e in ev)
    assert seen == []


def test_world_survives_restart():
    st = tmpdir("world")
    b, out, seen = make(st)
    b.command('{"cmd": "plug", "evse": 1, "connector": 1}')
    b.command('{"cmd": "ev", "evse": 1, "state": "C"}')
    b.command('{"cmd": "load", "evse": 1, "watts": 7400}')
    b.command('{"cmd": "fault", "evse": 2, "code": "GroundFailure"}')
    b2, out2, seen2 = make(st)  # a reboot / power loss: the world is unchanged
    assert b2.connectors[(1, 1)].plugged()
    assert b2.ev_state(1) == "C" and b2.load_w(1) == 7400
    assert b2.connectors[(2, 1)].faulted() == "GroundFailure"
    assert b2.command('{"cmd": "clear_fault", "evse": 2}') == "clear_fault"
    assert b2.connectors[(2, 1)].faulted() is None


def test_tag_and_shutdown_reach_the_core():
    b, out, seen = make()
    assert b.command('{"cmd": "tag", "id": "AABBCCDD", "type": "ISO14443", "evse": 1}') == "tag"
    assert b.command('{"cmd": "shutdown"}') == "shutdown"
    assert seen[0] == ("tag", {"id": "AABBCCDD", "type": "ISO14443", "evse": 1})
    assert seen[1][0] == "shutdown"


def test_reset_cause_is_read_once():
    st = tmpdir("cause")
    b, out, seen = make(st)
    b.storage.write("reset_cause", "watchdog")
    b2, _, _ = make(st)
    assert b2.reset.cause() == "watchdog"
    b3, _, _ = make(st)
    assert b3.reset.cause() == "power"


def test_clock_follows_set():
    b, out, seen = make()
    b.clock.set(1700000000)
    assert abs(b.clock.now() - 1700000000) < 2
