# Feeds the board watchdog from the event loop. If anything blocks the loop (a
# synchronous hang) or the loop dies, feeding stops and the hardware resets us.
import asyncio

TIMEOUT_MS = 8000  # within every supported MCU's WDT range (RP2040 max ~8.3 s)


async def feeder(watchdog, log, timeout_ms=TIMEOUT_MS):
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
        watchdog.feed()
        await asyncio.sleep(period)
