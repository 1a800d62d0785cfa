# Bad input from the CSMS never crashes the station (Part 4 §4.1-4.4): each malformed frame gets the
# CALLERROR the specification names, and afterwards the station still answers a valid request.
import json
import os

import pytest

from csms import CALLERROR, Csms, StationProcess  # conftest puts tools/ on sys.path

DEEP = '{"customData": {"vendorId": "x", "n": ' + '{"a": ' * 3000 + "1" + "}" * 3001
GV = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


def call(msg_id, action, payload):
    return json.dumps([2, msg_id, action, payload])


def gv(**changes):
    """A GetVariables payload with one getVariableData entry changed."""
    entry = json.loads(json.dumps(GV))
    for k, v in changes.items():
        if k == "component_name":
            entry["component"]["name"] = v
        else:
            entry[k] = v
    return {"getVariableData": [entry]}


# (id, frame, errorCode, acceptable messageIds of the CALLERROR)
CASES = [
    ("invalid-json", '[2, "bad-json-1", "GetVariables", {"getVariableData": [', "RpcFrameworkError", {"bad-json-1"}),
    ("invalid-json-no-id", '[2, "bad-js', "RpcFrameworkError", {"-1"}),
    # Taken by MicroPython's lenient json.loads; Part 4 §4.1.2 requires valid JSON.
    ("leading-zero", '[2, "lz-1", "GetVariables", {"getVariableData": [{"component": {"name": "OCPPCommCtrlr", '
     '"evse": {"id": 01}}, "variable": {"name": "HeartbeatInterval"}}]}]', "RpcFrameworkError", {"lz-1"}),
    ("trailing-comma", '[2, "tc-1", "Heartbeat", {},]', "RpcFrameworkError", {"tc-1"}),
    ("trailing-comma-object", call("tc-2", "GetVariables", gv())[:-2] + ",}]", "RpcFrameworkError", {"tc-2"}),
    ("missing-comma", '[2, "mc-1", "Heartbeat" {}]', "RpcFrameworkError", {"mc-1"}),
    ("missing-colon", '[2, "mcol-1", "GetVariables", {"getVariableData" []}]', "RpcFrameworkError", {"mcol-1"}),
    ("invalid-escape", call("esc-1", "GetVariables", gv(component_name="OCPP@")).replace("@", "\\x41"),
     "RpcFrameworkError", {"esc-1"}),
    ("raw-control-char", call("ctl-1", "GetVariables", gv(component_name="OCPP@")).replace("@", "\x01"),
     "RpcFrameworkError", {"ctl-1"}),
    # customData is open in the schemas: depth 3000 used to overflow the recursive size check.
    ("deep-get-variables", call("deep-1", "GetVariables", gv()).replace(
        '{"getVariableData"', DEEP + ', "getVariableData"', 1), "FormatViolation", {"deep-1"}),
    ("deep-send-local-list", call("deep-2", "SendLocalList", {"versionNumber": 1, "updateType": "Full"}).replace(
        '{"versionNumber"', DEEP + ', "versionNumber"', 1), "FormatViolation", {"deep-2"}),
    ("deep-set-variable-monitoring", call("deep-3", "SetVariableMonitoring", {"setMonitoringData": [
        {"value": 1, "type": "Delta", "severity": 5, "component": {"name": "OCPPCommCtrlr"},
         "variable": {"name": "HeartbeatInterval"}}]}).replace(
        '{"setMonitoringData"', DEEP + ', "setMonitoringData"', 1), "FormatViolation", {"deep-3"}),
    # BytesPerMessageGetVariables (8192 by default) counts the message as it came over the wire
    # (B06.FR.17), whitespace included: it is measured there, not by serialising the payload again.
    ("bytes-per-message-wire-size", call("wire-1", "GetVariables", gv()).replace(
        '{"getVariableData"', "{" + " " * 9000 + '"getVariableData"', 1), "FormatViolation", {"wire-1"}),
    # A lone surrogate received as a JSON escape, echoed in the CALLERROR description: every text
    # frame the station sends must still be valid UTF-8 (RFC 6455 §8.1); the CSMS side fails the
    # connection with 1007 otherwise.
    ("lone-surrogate-echoed", '[2, "u8-1", "Tele\\ud800port", {}]', "NotImplemented", {"u8-1"}),
    ("surrogate-pair-echoed", '[2, "u8-2", "Tele\\ud83d\\ude00port", {}]', "NotImplemented", {"u8-2"}),
    ("deep-wrapper", '[2, "deep-4", ' + "[" * 3000 + "]" * 3000 + ", {}]", "RpcFrameworkError", {"deep-4"}),
    ("not-an-array", json.dumps({"messageTypeId": 2, "messageId": "obj-1"}), "RpcFrameworkError", {"-1"}),
    ("message-id-not-string", json.dumps([2, 12345, "GetVariables", gv()]), "RpcFrameworkError", {"-1"}),
    ("unknown-message-type", json.dumps([7, "type7-1", "GetVariables", gv()]), "MessageTypeNotSupported", {"type7-1", "-1"}),
    ("unknown-action", call("ua-1", "TeleportVehicle", {}), "NotImplemented", {"ua-1"}),
    # PublishFirmware is a 2.0.1 action for local controllers only: known, never supported by a station.
    ("unsupported-action", call("ns-1", "PublishFirmware", {
        "location": "https://example.com/fw.bin", "checksum": "0123456789abcdef0123456789abcdef", "requestId": 1}),
     "NotSupported", {"ns-1"}),
    ("type-error", call("type-1", "GetVariables", gv(component_name=123)), "TypeConstraintViolation", {"type-1"}),
    ("type-error-list", call("type-2", "GetVariables", {"getVariableData": "all"}), "TypeConstraintViolation", {"type-2"}),
    ("missing-required", call("occ-1", "GetVariables", {}), "OccurrenceConstraintViolation", {"occ-1"}),
    ("missing-required-nested", call("occ-2", "GetVariables", {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}}]}),
     "OccurrenceConstraintViolation", {"occ-2"}),
    ("enum-violation", call("prop-1", "GetVariables", gv(attributeType="Sideways")), "PropertyConstraintViolation", {"prop-1"}),
    ("length-violation", call("prop-2", "GetVariables", gv(component_name="C" * 51)), "PropertyConstraintViolation", {"prop-2"}),
    ("unknown-property", call("fmt-1", "GetVariables", dict(gv(), colour="blue")), "FormatViolation", {"fmt-1"}),
]


class _Env:
    """One CSMS + station shared by the module (a station boot costs ~1 s); restarted if a case killed it."""

    def __init__(self, tmp_dir, kit):
        self.tmp_dir = tmp_dir
        self.kit = kit
        self.csms = Csms(heartbeat_interval=60).start()
        self.stations = []
        self.start_station()

    def start_station(self):
        if not os.path.exists(self.kit.STATION):
            pytest.fail("station launcher %s does not exist yet" % self.kit.STATION)
        n = len(self.stations)
        st = StationProcess(self.kit.station_config(self.csms.url), str(self.tmp_dir / ("state%d" % n)),
                            config_path=str(self.tmp_dir / ("station%d.json" % n)),
                            launcher=self.kit.STATION)
        self.stations.append(st)
        st.start()
        self.kit.wait_booted(self.csms, st, since=self.csms.mark())
        return st

    @property
    def station(self):
        return self.stations[-1]

    def close(self):
        for st in self.stations:
            st.kill()
        self.csms.stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory, kit):
    env = _Env(tmp_path_factory.mktemp("rpc"), kit)
    yield env
    env.close()


@pytest.fixture
def env(shared, harness):
    if not shared.station.alive():
        shared.start_station()
    harness.csms.append(shared.csms)
    harness.stations.append(shared.station)
    seen = len(shared.csms.violations)
    yield shared
    new = shared.csms.violations[seen:]
    assert not new, "station frames broke the schemas/framing rules: %r" % new
    assert not shared.station.bad_lines, shared.station.bad_lines


@pytest.mark.parametrize("frame,code,ids", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_frame_gets_callerror(env, kit, frame, code, ids):
    mark = env.csms.mark()
    reply = env.csms.send_raw(frame, timeout=5)
    assert reply.kind == CALLERROR, "expected CALLERROR %s, got %r" % (code, reply)
    assert reply.error_code == code, reply
    assert reply.msg_id in ids, reply
    assert isinstance(reply.error_details, dict)
    kit.assert_responsive(env.csms, env.station)
    assert env.csms.calls("BootNotification", since=mark) == [], "the firmware restarted"


def test_oversized_message_station_survives(env, kit):
    mark = env.csms.mark()
    pad = "A" * (1024 * 1024 + 17)  # beyond any max message size of a small MCU build
    payload = {"getVariableData": [GV], "customData": {"vendorId": "com.flexcharge.test", "pad": pad}}
    try:
        env.csms.send_raw(call("big-1", "GetVariables", payload), timeout=10, expect_reply=False)
    except Exception:
        pass  # the station may close the connection while we are still writing
    kit.assert_responsive(env.csms, env.station, timeout=20)
    # It survived: no new BootNotification (the firmware was not restarted).
    assert env.csms.calls("BootNotification", since=mark) == []
