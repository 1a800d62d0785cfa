# Tier 5 of `make test`: a scripted station run on the qemu Cortex-M3 image (boards/qemu).
# The full firmware (lifecycle.boot.App: composition root, every block) over an in-memory
# transport (host_tests/portable/fake_csms.py) against a scripted CSMS:
#   boot -> Accepted -> a charging session with meter values -> a FullInventory report.
# It asserts the messages and prints the GC heap in use after gc.collect(): at boot, once
# Accepted, and the peaks during the session and the FullInventory report (sampled at each
# frame the station sends and every 20 ms). Last line: "HEAP {json}" for tools/bench.
#
#   tools/qemu_run.py --tree host_tests/portable=/host_tests/portable host_tests/qemu_station.py
# Also runs on the unix port (MICROPYPATH=.frozen:<repo>/host_tests/portable with the frozen
# build), where `board` is then the unix one.
import sys
import gc
import json
import asyncio

sys.path[:0] = ["/host_tests/portable"]
import board as _board  # noqa: E402  (qemu: the frozen qemu board, littlefs on the RAM disk)

gc.collect()
heap = {"start": gc.mem_alloc()}
phase = ["boot"]


def sample(name=None):
    gc.collect()
    a = gc.mem_alloc()
    k = name or phase[0]
    if a > heap.get(k, 0):
        heap[k] = a
    return a


import fake_csms  # noqa: E402
from fake_csms import FakeCsms, accept, wait_for  # noqa: E402
from flexcharge.lifecycle.boot import App  # noqa: E402
from flexcharge.lifecycle.config import check  # noqa: E402

heap["imported"] = sample("imported")  # the whole firmware imported (frozen: code in flash)

_send = fake_csms.FakeLink.send


async def _sampling_send(self, text):
    sample()  # the frame is built: a high point of its phase
    await _send(self, text)
    # The harness keeps only what the asserts need, so the heap figures are the station's.
    c = self.csms
    c.frames.clear()
    if c.calls and c.calls[-1][0] == "NotifyReport":
        p = c.calls[-1][1]
        c.calls[-1] = ("NotifyReport", {"requestId": p["requestId"], "seqNo": p["seqNo"],
                                        "tbc": p.get("tbc", False), "n": len(p.get("reportData", ()))})


fake_csms.FakeLink.send = _sampling_send


class Log:
    def __init__(self):
        self.lines = []

    def debug(self, m):
        pass

    def info(self, m):
        pass

    def warn(self, m):
        self.lines.append(m)

    error = warn


def dmv(comp, var, val):
    return {"component": {"name": comp}, "variable": {"name": var}, "attributeValue": str(val)}


def main():
    cfg = check({
        "identity": "QEMU1", "csms_url": "ws://csms.invalid/ocpp", "vendor": "FlexCharge", "model": "qemu",
        "serial_number": "Q-0001", "firmware_version": "qemu-test",
        "evses": [{"id": 1, "connectors": 1, "max_current": 32, "phases": 3, "voltage": 230}],
        "device_model": [dmv("SampledDataCtrlr", "TxUpdatedInterval", 1)],
    })
    state = getattr(_board, "STORAGE_ROOT", "/data")
    if not state.startswith("/") or state == "--state DIR":  # the unix board: a temp folder
        from support import tmpdir

        state = tmpdir("qemu-station")
    board = _board.make_board(cfg, state)
    answer = accept(interval=300)
    csms = FakeCsms(answer)
    app = App(board, cfg, Log())
    app.session.connect = csms.connect
    sample("boot")
    # The board-sized WebSocket receive buffer (hal.MCU_MAX_MESSAGE on qemu), reserved at boot.
    heap["rx"] = len(app.rx.msg) + len(app.rx.ahead)
    assert len(app.rx.msg) == getattr(board, "max_message", 0), len(app.rx.msg)

    def sent(action):
        return [p for a, p in csms.calls if a == action]

    async def go():
        t = asyncio.create_task(app.run())

        async def sampler():
            while True:
                sample()
                await asyncio.sleep_ms(20)

        s = asyncio.create_task(sampler())

        # -- boot -> Accepted -------------------------------------------------------------
        await wait_for(lambda: len(sent("StatusNotification")) >= 1, 20)
        boot = sent("BootNotification")
        assert len(boot) == 1 and boot[0]["chargingStation"]["model"] == "qemu", boot
        assert boot[0]["reason"] == "PowerUp", boot
        st = sent("StatusNotification")[0]
        assert st["evseId"] == 1 and st["connectorStatus"] == "Available", st
        phase[0] = "idle"
        await asyncio.sleep_ms(300)
        heap["accepted"] = sample("accepted")

        # -- a charging session -------------------------------------------------------------
        phase[0] = "session"
        for c in ('{"cmd": "plug", "evse": 1, "connector": 1}', '{"cmd": "tag", "id": "AABBCCDD", "evse": 1}',
                  '{"cmd": "ev", "evse": 1, "state": "C"}', '{"cmd": "load", "evse": 1, "watts": 7400}'):
            board.command(c)
        await wait_for(lambda: any(p["eventType"] == "Started" for p in sent("TransactionEvent")), 20)
        await wait_for(lambda: len([p for p in sent("TransactionEvent")
                                    if p["triggerReason"] == "MeterValuePeriodic"]) >= 3, 30)
        board.command('{"cmd": "unplug", "evse": 1, "connector": 1}')
        await wait_for(lambda: any(p["eventType"] == "Ended" for p in sent("TransactionEvent")), 20)
        tev = sent("TransactionEvent")
        assert tev[0]["eventType"] == "Started", tev[0]
        tid = tev[0]["transactionInfo"]["transactionId"]
        assert all(p["transactionInfo"]["transactionId"] == tid for p in tev)
        assert [p["seqNo"] for p in tev] == list(range(len(tev))), [p["seqNo"] for p in tev]
        assert sent("Authorize")[0]["idToken"]["idToken"] == "AABBCCDD"
        energy = []
        for p in tev:
            for mv in p.get("meterValue", ()):
                for sv in mv["sampledValue"]:
                    if sv.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register":
                        energy.append(sv["value"])
        assert energy and energy[-1] > 0, energy
        assert energy == sorted(energy), energy  # the register never runs backwards
        ended = [p for p in tev if p["eventType"] == "Ended"][0]
        print("session: %d TransactionEvents, %s Wh at the end, stopped: %s" % (
            len(tev), energy[-1], ended["transactionInfo"].get("stoppedReason")))
        await asyncio.sleep_ms(300)

        # -- FullInventory ------------------------------------------------------------------
        phase[0] = "inventory"
        n0 = len(sent("NotifyReport"))
        csms.send_call("inv-1", "GetBaseReport", {"requestId": 7, "reportBase": "FullInventory"})
        await wait_for(lambda: csms.reply_to("inv-1") is not None, 20)
        r = csms.reply_to("inv-1")
        assert r[0] == 3 and r[2]["status"] == "Accepted", r
        await wait_for(lambda: any(not p.get("tbc", False) for p in sent("NotifyReport")[n0:]), 60)
        parts = sent("NotifyReport")[n0:]
        assert all(p["requestId"] == 7 for p in parts)
        assert [p["seqNo"] for p in parts] == list(range(len(parts)))
        nvar = sum(p["n"] for p in parts)
        assert nvar > 50, nvar
        print("FullInventory: %d NotifyReport parts, %d variables" % (len(parts), nvar))
        phase[0] = "end"
        s.cancel()
        app.shutdown(0)
        code = await t
        assert code == 0, code

    asyncio.run(go())
    bad = [f for f in csms.replies if f[0] == 4]
    assert not bad, bad  # no CALLERROR to the CSMS's calls
    print("messages: %s" % ", ".join("%s x%d" % (a, n) for a, n in sorted(_count(csms.actions()).items())))
    print("heap in use after gc.collect() (bytes): harness %d, firmware imported %d, boot %d, Accepted %d, "
          "peak session %d, peak FullInventory %d"
          % (heap["start"], heap["imported"], heap["boot"], heap["accepted"], heap["session"], heap["inventory"]))
    print("HEAP " + json.dumps({"start": heap["start"], "imported": heap["imported"], "boot": heap["boot"], "accepted": heap["accepted"], "session_peak": heap["session"],
                                "inventory_peak": heap["inventory"], "rx_buffer": heap["rx"],
                                "platform": sys.platform}))


def _count(xs):
    d = {}
    for x in xs:
        d[x] = d.get(x, 0) + 1
    return d


main()
