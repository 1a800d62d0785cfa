# The WebSocket receive buffer is the board's (hal.Board.max_message): 64 KB on the unix board,
# 16 KB on the MCU boards (hal.MCU_MAX_MESSAGE), where a 64 KB block would take a third of the heap.
# Every BytesPerMessage the station declares is bounded by it: reported as maxLimit (B06/B07
# characteristics), checked for factory values (refused with the reason, exit 2 in the launcher),
# so the CSMS is never invited to send a message the station cannot receive.
import io

from support import raises, run, tmpdir
from fake_csms import FakeCsms, accept, wait_for
from board import SimBoard
from flexcharge.hal import MCU_MAX_MESSAGE, Board
from flexcharge.hal.mcu import McuBoard
from flexcharge.lifecycle.boot import App, MAX_MESSAGE
from flexcharge.lifecycle.config import check, ConfigError

import asyncio


# Every BytesPerMessage<instance> the station declares.
BYTES_PER_MESSAGE = (("DeviceDataCtrlr", "GetReport"), ("DeviceDataCtrlr", "GetVariables"),
                     ("DeviceDataCtrlr", "SetVariables"), ("MonitoringCtrlr", "SetVariableMonitoring"),
                     ("MonitoringCtrlr", "ClearVariableMonitoring"), ("LocalAuthListCtrlr", None))


class QuietLog:
    def debug(self, m):
        pass

    info = warn = error = debug


def config(dm=None):
    c = {"identity": "CS1", "csms_url": "ws://x/ocpp", "evses": [{"id": 1, "connectors": 1}]}
    if dm:
        c["device_model"] = dm
    return check(c)


def app_on(max_message, dm=None):
    c = config(dm)
    board = SimBoard(c, tmpdir("bms"), stdin=False, out=io.StringIO())
    if max_message is not None:
        board.max_message = max_message
    return App(board, c, QuietLog())


def bpm(comp, inst, value):
    d = {"component": {"name": comp}, "variable": {"name": "BytesPerMessage"}, "attributeValue": str(value)}
    if inst:
        d["variable"]["instance"] = inst
    return d


def max_limit(app, comp, inst):
    f = app.dm.find(comp, None, None, None, "BytesPerMessage", inst)
    return app.dm.limits(f[1], f[2], None, None)[1]


def test_board_sizes():
    assert Board.max_message == MAX_MESSAGE == 65536  # the unix board keeps the whole 64 KB
    assert McuBoard.max_message == MCU_MAX_MESSAGE == 16384
    # The largest message the CSMS sends at the declared defaults: CertificateSigned's chain.
    assert MCU_MAX_MESSAGE > 10000 + 200


def test_receive_buffer_and_every_bytes_per_message_follow_the_board():
    app = app_on(MCU_MAX_MESSAGE)
    assert len(app.rx.msg) == MCU_MAX_MESSAGE and app.max_message == MCU_MAX_MESSAGE
    assert len(BYTES_PER_MESSAGE) == 6
    for comp, inst in BYTES_PER_MESSAGE:
        assert max_limit(app, comp, inst) == MCU_MAX_MESSAGE, (comp, inst)
    # The declared defaults stay within it (B06.FR.17 and friends compare against them).
    assert app.dm.get_int("DeviceDataCtrlr", "BytesPerMessage", var_instance="SetVariables") <= MCU_MAX_MESSAGE
    # Every BytesPerMessage of the device model is in the list: none escapes the bound.
    seen = set()
    for blk, row, vidx in app.dm.rows():
        if row[0] == "BytesPerMessage":
            seen.add((blk[0], row[1]))
    assert seen == set(BYTES_PER_MESSAGE), seen


def test_unix_board_keeps_64_kb():
    app = app_on(None)
    assert len(app.rx.msg) == MAX_MESSAGE
    assert max_limit(app, "DeviceDataCtrlr", "GetVariables") == MAX_MESSAGE


def test_factory_value_above_the_board_buffer_is_refused_with_the_reason():
    with raises(ConfigError) as r:
        app_on(MCU_MAX_MESSAGE, [bpm("DeviceDataCtrlr", "SetVariables", MCU_MAX_MESSAGE + 1)])
    msg = str(r.value)
    assert "BytesPerMessage[SetVariables]" in msg and "..16384" in msg, msg
    app = app_on(MCU_MAX_MESSAGE, [bpm("LocalAuthListCtrlr", None, MCU_MAX_MESSAGE)])
    assert app.dm.get_int("LocalAuthListCtrlr", "BytesPerMessage") == MCU_MAX_MESSAGE
    # The same value is fine on the unix board.
    app = app_on(None, [bpm("DeviceDataCtrlr", "SetVariables", MCU_MAX_MESSAGE + 1)])
    assert app.dm.get_int("DeviceDataCtrlr", "BytesPerMessage", var_instance="SetVariables") == MCU_MAX_MESSAGE + 1


def test_get_report_declares_the_board_bound():
    app = app_on(MCU_MAX_MESSAGE)
    csms = FakeCsms(accept(interval=300))
    app.session.connect = csms.connect

    async def go():
        t = asyncio.create_task(app.run())
        await wait_for(lambda: "StatusNotification" in csms.actions())
        csms.send_call("r1", "GetReport", {"requestId": 3, "componentVariable": [
            {"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "BytesPerMessage", "instance": "GetVariables"}}]})
        await wait_for(lambda: any(a == "NotifyReport" for a in csms.actions()))
        app.shutdown(0)
        assert await t == 0

    run(go())
    rep = [p for a, p in csms.calls if a == "NotifyReport"][0]["reportData"]
    assert len(rep) == 1, rep
    assert rep[0]["variableCharacteristics"]["maxLimit"] == MCU_MAX_MESSAGE, rep
