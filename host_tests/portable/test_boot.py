# B01–B04 and G01/G02 through the real composition root (lifecycle.boot.App) with an
# in-process fake CSMS: the whole firmware, no sockets, on both interpreters.
import io
import json
import asyncio

from support import run, tmpdir
from fake_csms import FakeCsms, accept, boot_then_accept, wait_for
from board import SimBoard
from flexcharge.lifecycle.boot import App, EXIT_RESET
from flexcharge.lifecycle.config import check
from flexcharge.core import timefmt


class QuietLog:
    def __init__(self):
        self.lines = []

    def debug(self, m):
        pass

    def info(self, m):
        self.lines.append(m)

    warn = error = info


def make(answer, state=None, dm=None, **cfg):
    c = {"identity": "CS1", "csms_url": "ws://x/ocpp", "vendor": "Acme", "model": "M1",
         "evses": [{"id": 1, "connectors": 1}, {"id": 2, "connectors": 2}]}
    if dm:
        c["device_model"] = dm
    c.update(cfg)
    c = check(c)
    out = io.StringIO()
    board = SimBoard(c, state or tmpdir("boot"), stdin=False, out=out)
    app = App(board, c, QuietLog())
    csms = FakeCsms(answer)
    app.session.connect = csms.connect
    return app, csms, out


def events(out):
    return [json.loads(l) for l in out.getvalue().splitlines()]


FAST = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "RetryBackOffWaitMinimum"}, "attributeValue": "1"},
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "RetryBackOffRandomRange"}, "attributeValue": "0"}]


def test_accepted_boot_sets_clock_interval_and_reports_all_connectors():
    app, csms, out = make(accept(interval=7))

    async def go():
        t = asyncio.create_task(app.run())
        await wait_for(lambda: csms.actions().count("StatusNotification") == 3)
        app.shutdown(0)
        assert await t == 0

    run(go())
    assert csms.actions()[0] == "BootNotification"
    boot = csms.calls[0][1]
    assert boot == {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "Acme"}}
    sn = [p for a, p in csms.calls if a == "StatusNotification"]
    assert sorted((p["evseId"], p["connectorId"]) for p in sn) == [(1, 1), (2, 1), (2, 2)]
    assert all(p["connectorStatus"] == "Available" for p in sn)
    assert app.dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 7
    assert abs(app.board.clock.now() - timefmt.parse("2026-01-01T00:00:00Z")) < 5
    ev = [e["event"] for e in events(out)]
    assert "connected" in ev and "registration" in ev and ev.count("status") == 3


def test_pending_sends_only_bootnotification_and_answers_csms():
    app, csms, out = make(boot_then_accept("Pending", 1))

    async def go():
        t = asyncio.create_task(app.run())
        await wait_for(lambda: app.station.registration == "Pending")
        csms.send_call("g1", "GetVariables", {"getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}]})
        await wait_for(lambda: csms.reply_to("g1") is not None)
        # a plug-in while Pending changes the status locally but sends nothing (B02)
        app.board.command('{"cmd": "plug", "evse": 1, "connector": 1}')
        await asyncio.sleep(0.2)
        assert csms.actions() == ["BootNotification"]
        await wait_for(lambda: app.station.registration == "Accepted", 4)
        await wait_for(lambda: csms.actions().count("StatusNotification") == 3)
        app.shutdown(0)
        await t

    run(go())
    r = csms.reply_to("g1")
    assert r[0] == 3 and r[2]["getVariableResult"][0]["attributeStatus"] == "Accepted"
    assert csms.actions()[:2] == ["BootNotification", "BootNotification"]
    # the retry came after the Pending interval (1 s), not at once
    boots = [t for t, m in csms.frames if m[0] == 2 and m[2] == "BootNotification"]
    assert boots[1] - boots[0] >= 0.9
    occ = [p for a, p in csms.calls if a == "StatusNotification" and p["evseId"] == 1]
    assert occ[0]["connectorStatus"] == "Occupied"


def test_trigger_bootnotification_while_pending_resends_at_once():
    app, csms, out = make(boot_then_accept("Pending", 30))

    async def go():
        t = asyncio.create_task(app.run())
        await wait_for(lambda: app.station.registration == "Pending")
        csms.send_call("t1", "TriggerMessage", {"requestedMessage": "BootNotification"})
        await wait_for(lambda: app.station.registration == "Accepted", 3)
        csms.send_call("t2", "TriggerMessage", {"requestedMessage": "BootNotification"})
        await wait_for(lambda: csms.reply_to("t2") is not None)
        app.shutdown(0)
        await t

    run(go())
    assert csms.reply_to("t1")[2] == {"status": "Accepted"}
    assert csms.calls[1] == ("BootNotification", {"reason": "Triggered", "chargingStation": {"model": "M1", "vendorName": "Acme"}})
    assert csms.reply_to("t2")[2] == {"status": "Rejected"}  # F06.FR.17


def test_rejected_is_silent_and_refuses_csms_calls():
    app, csms, out = make(boot_then_accept("Rejected", 1))

    async def go():
        t = asyncio.create_task(app.run())
        await wait_for(lambda: app.station.registration == "Rejected")
        csms.send_call("r1", "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
        await wait_for(lambda: csms.reply_to("r1") is not None)
        await wait_for(lambda: app.station.registration == "Accepted", 4)
        app.shutdown(0)
        await t

    run(go())
    r = csms.reply_to("r1")
    assert r[0] == 4 and r[2] == "SecurityError"  # B03.FR.08
    boots = [t for t, m in csms.frames if m[0] == 2 and m[2] == "BootNotification"]
    assert boots[1] - boots[0] >= 0.9
    between = [m for t, m in csms.frames if m[0] == 2 and boots[0] < t < boots[1]]
    assert between == []


def test_reconnect_does_not_boot_again_and_reports_changes_b04():
    app, csms, out = make(accept(), dm=FAST)

    async def go():
        t = asyncio.create_task(app.run())
        await wait_for(lambda: csms.actions().count("StatusNotification") == 3)
        csms.refuse = True
        await csms.link.close()
        await wait_for(lambda: not app.station.online)
        app.board.command('{"cmd": "plug", "evse": 2, "connector": 2}')
        csms.refuse = False
        n = len(csms.calls)
        await wait_for(lambda: app.station.online, 5)
        await wait_for(lambda: len(csms.calls) > n)
        await asyncio.sleep(0.2)
        app.shutdown(0)
        await t
        return n

    n = run(go())
    after = csms.calls[n:]
    assert "BootNotification" not in [a for a, p in after]  # Part 4 §5.3
    sn = [p for a, p in after if a == "StatusNotification"]
    # offline shorter than OfflineThreshold: only the changed connector (B04.FR.02)
    assert [(p["evseId"], p["connectorId"], p["connectorStatus"]) for p in sn] == [(2, 2, "Occupied")]


def test_reset_request_records_reason_for_next_boot():
    st = tmpdir("reset")
    app, csms, out = make(accept(), state=st)

    async def go():
        t = asyncio.create_task(app.run())
        await wait_for(lambda: app.station.registration == "Accepted")
        app.request_reset("RemoteReset")
        return await t

    assert run(go()) == EXIT_RESET
    app2, csms2, out2 = make(accept(), state=st)

    async def go2():
        t = asyncio.create_task(app2.run())
        await wait_for(lambda: app2.station.registration == "Accepted")
        app2.shutdown(0)
        await t

    run(go2())
    assert csms2.calls[0][1]["reason"] == "RemoteReset"
    # message ids stay unique across reboots (Part 4): the boot counter prefixes them
    ids1 = [m[1] for t, m in csms.frames if m[0] == 2]
    ids2 = [m[1] for t, m in csms2.frames if m[0] == 2]
    assert not set(ids1) & set(ids2)


def test_evse_and_station_availability_mirror_their_connectors():
    from flexcharge.core.blocks.g_availability.status import aggregate

    assert aggregate(["Available", "Occupied"]) == "Occupied"
    assert aggregate(["Faulted", "Faulted"]) == "Faulted"
    assert aggregate(["Faulted", "Available"]) == "Available"
    assert aggregate(["Unavailable", "Faulted"]) == "Unavailable"
    app, csms, out = make(accept(), model="M2", serial_number="SN9")

    async def go():
        t = asyncio.create_task(app.run())
        await wait_for(lambda: csms.actions().count("StatusNotification") == 3)
        app.board.command('{"cmd": "plug", "evse": 2, "connector": 2}')
        app.board.command('{"cmd": "fault", "evse": 1, "code": "GroundFailure"}')
        await wait_for(lambda: csms.actions().count("StatusNotification") == 5)
        app.shutdown(0)
        await t

    run(go())
    dm = app.dm
    assert dm.get("EVSE", "AvailabilityState", evse=2) == "Occupied"
    assert dm.get("EVSE", "AvailabilityState", evse=1) == "Faulted"
    assert dm.get("ChargingStation", "AvailabilityState") == "Occupied"
    assert dm.get("ChargingStation", "Model") == "M2" and dm.get("ChargingStation", "SerialNumber") == "SN9"
    sn = [p for a, p in csms.calls if a == "StatusNotification"][3:]
    assert sorted((p["evseId"], p["connectorStatus"]) for p in sn) == [(1, "Faulted"), (2, "Occupied")]


def test_call_right_behind_a_rejected_answer_gets_security_error():
    # B03.FR.08: the frame after a Rejected BootNotificationResponse is judged by the new state,
    # even when it arrives in the same read burst, before the boot task resumes.
    app, csms, out = make(boot_then_accept("Rejected", 1))
    sent = []

    def followup(action):
        if action == "BootNotification" and not sent:
            sent.append(1)
            return ('[2, "fast1", "GetBaseReport", {"requestId": 5, "reportBase": "FullInventory"}]',)
        return ()

    csms.followup = followup

    async def go():
        t = asyncio.create_task(app.run())
        await wait_for(lambda: csms.reply_to("fast1") is not None)
        await wait_for(lambda: app.station.registration == "Accepted", 4)
        app.shutdown(0)
        await t

    run(go())
    r = csms.reply_to("fast1")
    assert r[0] == 4 and r[2] == "SecurityError", r
    assert "NotifyReport" not in csms.actions()


def test_trigger_log_and_firmware_status_report_idle():
    # TC_F_15_CS, TC_F_17_CS, TC_F_18_CS: nothing uploading or updating -> status Idle; an evse is not relevant.
    app, csms, out = make(accept())

    async def go():
        t = asyncio.create_task(app.run())
        await wait_for(lambda: csms.actions().count("StatusNotification") == 3)
        csms.send_call("l1", "TriggerMessage", {"requestedMessage": "LogStatusNotification"})
        csms.send_call("f1", "TriggerMessage", {"requestedMessage": "FirmwareStatusNotification", "evse": {"id": 1}})
        csms.send_call("s1", "TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})
        await wait_for(lambda: "FirmwareStatusNotification" in csms.actions() and csms.reply_to("s1") is not None)
        app.shutdown(0)
        await t

    run(go())
    assert csms.reply_to("l1")[2] == {"status": "Accepted"}
    assert csms.reply_to("f1")[2] == {"status": "Accepted"}
    assert csms.reply_to("s1")[2] == {"status": "Rejected"}  # A02 (issue 10): not under security profile 0
    sent = dict(csms.calls)
    assert sent["LogStatusNotification"] == {"status": "Idle"}
    assert sent["FirmwareStatusNotification"] == {"status": "Idle"}


def test_transaction_monitors_see_the_running_transaction():
    # N07/N08: the monitor engine learns from the E block whether an EVSE has a transaction.
    app, csms, out = make(accept())
    lookup = app.monitoring.engine.tx_lookup

    async def go():
        t = asyncio.create_task(app.run())
        await wait_for(lambda: csms.actions().count("StatusNotification") == 3)
        assert lookup(1) is None
        for c in ('{"cmd": "plug", "evse": 1, "connector": 1}', '{"cmd": "tag", "id": "AABB", "evse": 1}',
                  '{"cmd": "ev", "evse": 1, "state": "C"}', '{"cmd": "load", "evse": 1, "watts": 3000}'):
            app.board.command(c)
        await wait_for(lambda: app.tx.active(1) is not None)
        assert lookup(1) == app.tx.active(1).id and lookup(2) is None
        app.shutdown(0)
        await t

    run(go())
