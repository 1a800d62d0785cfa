import asyncio

from support import run
from flexcharge.lifecycle.watchdog import feeder, Loops


class FakeWdt:
    def __init__(self):
        self.timeout = None
        self.feeds = 0

    def start(self, t):
        self.timeout = t

    def feed(self):
        self.feeds += 1


class Log:
    def __init__(self):
        self.errors = []

    def warn(self, m):
        self.last = m

    def error(self, m):
        self.errors.append(m)


def test_feeder_arms_and_feeds_four_times_per_timeout():
    w = FakeWdt()

    async def go():
        t = asyncio.create_task(feeder(w, Log(), timeout_ms=400))
        await asyncio.sleep(0.45)
        t.cancel()

    run(go())
    assert w.timeout == 400
    assert 4 <= w.feeds <= 6


def test_feeder_survives_a_board_without_watchdog():
    class NoWdt:
        def start(self, t):
            raise OSError("no WDT")

    log = Log()
    run(feeder(NoWdt(), log, 400))
    assert "not started" in log.last


def test_feeder_stops_when_a_vital_loop_dies():
    # Issue 8: the session loop died (EPIPE from the event sink), the process lived on and the
    # watchdog was still fed. Now a dead vital loop stops the feeding, so the watchdog resets.
    w = FakeWdt()
    log = Log()

    async def dies():
        await asyncio.sleep(0.1)
        raise OSError(32, "EPIPE")

    async def returns():
        return  # the board's stdin reader at EOF: a normal end, not a death

    async def go():
        loops = Loops(log)
        loops.start("board", returns())
        loops.start("session", dies())
        f = asyncio.create_task(feeder(w, log, timeout_ms=200, loops=loops))
        await asyncio.sleep(0.05)
        assert loops.dead is None and w.feeds >= 1
        await asyncio.sleep(0.3)
        assert loops.dead == "session"
        return f

    f = run(go())
    n = w.feeds
    assert f.done()  # the feeder has returned: no more feeds
    assert any("session" in e for e in log.errors), log.errors
    assert n <= 4
