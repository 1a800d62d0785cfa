# Feeds the board watchdog from the event loop. If anything blocks the loop (a
# synchronous hang) or the loop dies, feeding stops and the hardware resets us.
# It also watches the loops that matter (the connection session, the boot/registration
# loop, the heartbeat, the board's hardware loop): if one of them ends -- an exception
# escaped it, which is a bug -- the station can no longer do its job although the
# process lives on, so feeding stops and the watchdog resets the station.
import asyncio

from flexcharge.compat import print_exception

TIMEOUT_MS = 8000  # within every supported MCU's WDT range (RP2040 max ~8.3 s)


class Loops:
    """The station's vital loops, each run as a task; `dead` names the first that an exception
    ended (a loop that returns normally, like the board's stdin reader at EOF, is not dead)."""

    def __init__(self, log):
        self.log = log
        self.dead = None

    def start(self, name, coro):
        return asyncio.create_task(self._guard(name, coro))

    async def _guard(self, name, coro):
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if self.dead is None:
                self.dead = name
            self.log.error("loop %s died: %r" % (name, e))
            print_exception(e)


async def feeder(watchdog, log, timeout_ms=TIMEOUT_MS, loops=None):
    try:
        got = watchdog.start(timeout_ms)
    except Exception as e:
        log.warn("watchdog not started: %r" % (e,))
        return
    # Feed at a quarter of what the MCU actually set (RA tops out at ~2.7 s, RP2040 at ~8.3 s).
    if isinstance(got, int) and got > 0:
        timeout_ms = got
    period = timeout_ms // 4 / 1000
    while True:
        if loops is not None and loops.dead is not None:
            log.error("loop %s is dead: no longer feeding the watchdog (reset follows)" % loops.dead)
            return
        watchdog.feed()
        await asyncio.sleep(period)
