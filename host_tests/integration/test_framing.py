# WebSocket framing at the size limit (RFC 6455, Part 4 §3), against the real station with a raw
# server side (tools/csms/raw.py) that chooses the TCP segmentation. The station's limit is 65,536
# bytes per message (lifecycle/boot.py MAX_MESSAGE): anything up to it must be received at any
# segmentation and after any history; beyond it the station closes with 1009.
import json
import os
import random

import pytest

from csms import StationProcess
from csms.raw import RawCsms, frame, OP_TEXT, OP_CONT, OP_PING

LIMIT = 65536


def clear_cache(mid, size, pad_with="A"):
    """A valid ClearCache CALL of exactly `size` bytes (customData is open in the schema)."""
    base = json.dumps([2, mid, "ClearCache", {"customData": {"vendorId": "x", "pad": ""}}])
    return json.dumps([2, mid, "ClearCache", {"customData": {"vendorId": "x", "pad": pad_with * (size - len(base))}}])


def space_padded(mid, size):
    m = json.dumps([2, mid, "ClearCache", {}])
    return m[:-1] + " " * (size - len(m)) + "]"


class Env:
    def __init__(self, tmp, kit):
        self.csms = RawCsms().start()
        self.tmp = tmp
        self.kit = kit
        self.n = 0
        self.station = None
        self.start()

    def start(self):
        if not os.path.exists(self.kit.STATION):
            pytest.fail("station launcher %s does not exist yet" % self.kit.STATION)
        self.n += 1
        st = StationProcess(self.kit.station_config(self.csms.url), str(self.tmp / ("state%d" % self.n)),
                            config_path=str(self.tmp / ("station%d.json" % self.n)), launcher=self.kit.STATION)
        self.station = st.start()
        self.conn = self.booted()

    def booted(self, timeout=15, boot=True):
        c = self.csms.connection(timeout=timeout)
        if boot:
            # BootNotification and a StatusNotification per connector, all answered.
            assert c.wait(lambda: len(c.calls) >= 4, timeout), c.calls
        c.wait(lambda: False, 0.5)
        return c

    def close(self):
        if self.station:
            self.station.kill()
        self.csms.stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory, kit):
    e = Env(tmp_path_factory.mktemp("framing"), kit)
    yield e
    e.close()


@pytest.fixture
def env(shared):
    # One station for the module; a test that lost the connection leaves the next one a fresh one.
    if not shared.station.alive():
        shared.start()
    elif shared.conn.eof:
        shared.conn = shared.booted(boot=False)
    yield shared
    assert not shared.conn.bad_utf8 and not shared.conn.bad_json


def assert_answered(conn, mid, timeout=30):
    a = conn.answer(mid, timeout)
    assert a is not None, "no answer to %s (connection ended: %s, close %s %r)" % (
        mid, conn.eof, conn.close_code, conn.close_reason)
    assert a[0] == 3 and a[2] == {"status": "Accepted"}, a
    assert len(conn.answers[mid]) == 1
    return a


def test_large_call_in_7_byte_segments(env):
    # A 50,000-byte CALL trickling in 7-byte TCP segments: answered, the link stays up.
    c = env.conn
    m = clear_cache("seg7-1", 50000)
    assert len(m) == 50000
    c.send_bytes(frame(OP_TEXT, m), segment=7, pause=0.0002)
    assert_answered(c, "seg7-1")
    assert not c.eof and env.station.alive()


def hostile_history(c, count, seed=8):
    # Traffic that fragments a heap: odd sizes, odd segments, fragmented messages with pings in between.
    rnd = random.Random(seed)
    for i in range(count):
        size = rnd.choice((200, 1000, 3000, 9000, 20000, 40000)) + rnd.randrange(500) if i % 10 else 300
        m = clear_cache("h%d-%d" % (seed, i), size).encode()
        if i % 3 == 0:
            cut = rnd.randrange(1, len(m))
            data = frame(OP_TEXT, m[:cut], fin=False) + frame(OP_PING, b"p") + frame(OP_CONT, m[cut:])
        else:
            data = frame(OP_TEXT, m)
        c.send_bytes(data, segment=rnd.choice((1, 3, 7, 100, 1500, 4096, None)) if i % 10 else 1)
        assert_answered(c, "h%d-%d" % (seed, i))


def test_largest_message_after_hostile_history(env):
    # ... after which the largest message under the limit must still be received.
    c = env.conn
    hostile_history(c, 60)
    m = clear_cache("max-1", LIMIT - 1)
    c.send_bytes(frame(OP_TEXT, m), segment=1000)
    assert_answered(c, "max-1")
    m = clear_cache("max-2", LIMIT)  # exactly at the limit
    c.send_bytes(frame(OP_TEXT, m))
    assert_answered(c, "max-2")
    assert not c.eof and env.station.alive()


def test_space_padded_call_at_the_limit(env):
    c = env.conn
    hostile_history(c, 60, seed=9)
    m = space_padded("pad-1", LIMIT - 1)
    assert len(m) == LIMIT - 1
    c.send_text(m)
    assert_answered(c, "pad-1")
    m = space_padded("pad-2", LIMIT - 1)
    c.send_text(m, segment=4096)
    assert_answered(c, "pad-2")
    assert not c.eof and env.station.alive()
    assert b"Traceback" not in open(env.station.stderr_path, "rb").read()


def test_one_byte_over_the_limit_closes_1009(env):
    c = env.conn
    m = clear_cache("over-1", LIMIT + 1)
    c.send_text(m)
    assert c.wait_closed(10)
    assert c.close_code == 1009, (c.close_code, c.close_reason)
    assert c.answers.get("over-1") is None
    # The station reconnects and carries on.
    env.conn = c2 = env.booted(boot=False)
    c2.send_text(clear_cache("after-1", 100))
    assert_answered(c2, "after-1")


def test_invalid_utf8_text_closes_1007(env):
    # RFC 6455 §8.1: a text message that is not UTF-8 fails the connection with 1007.
    c = env.conn
    c.send_bytes(frame(OP_TEXT, b'[2, "u-1", "ClearCache", {"customData": {"vendorId": "\xed\xa0\x80"}}]'))
    assert c.wait_closed(10)
    assert c.close_code == 1007, (c.close_code, c.close_reason)
    env.conn = c2 = env.booted(boot=False)
    c2.send_text(clear_cache("after-2", 100))
    assert_answered(c2, "after-2")


def test_shutdown_closes_1001(env):
    # Every disconnection the station decides carries its RFC 6455 code: a shutdown is 1001
    # (going away), logged with its reason.
    c = env.conn
    assert env.station.shutdown(timeout=15) == 0
    assert c.wait_closed(10)
    assert (c.close_code, c.close_reason) == (1001, "shutdown")
    err = open(env.station.stderr_path, "rb").read().decode("utf-8", "replace")
    assert "connection ended" in err and "sent 1001" in err, err[-2000:]
