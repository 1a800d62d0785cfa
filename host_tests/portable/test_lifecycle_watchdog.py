import asyncio

from support import run
from flexcharge.lifecycle.watchdog import feeder


class FakeWdt:
    def __init__(self):
        self.timeout = None
        self.feeds = 0

    def start(self, t):
        self.timeout = t

    def feed(self):
        self.feeds += 1


class Log:
    def warn(self, m):
        self.last = m


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
