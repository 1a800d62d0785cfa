# Issue 8: factory values for ReadOnly variables (launcher `device_model`, DESIGN.md launcher section).
# The maker provisions what the CSMS may only read; a value the firmware cannot honour stops the
# launcher (exit 2) with a message naming the entry and the reason; accepted values take effect.
import pytest

CALLRESULT, CALLERROR = 3, 4

REFUSED = [
    ("bytes-above-max-message", ("DeviceDataCtrlr", "BytesPerMessage", "65537", "GetVariables"),
     ("device_model[", "DeviceDataCtrlr.BytesPerMessage[GetVariables]", "65536")),
    ("timeout-beyond-ticks", ("OCPPCommCtrlr", "MessageTimeout", "600000", "Default"),
     ("OCPPCommCtrlr.MessageTimeout[Default]", "536870")),
    ("items-beyond-heap", ("DeviceDataCtrlr", "ItemsPerMessage", "500", "GetVariables"),
     ("DeviceDataCtrlr.ItemsPerMessage[GetVariables]", "64")),
    # (A feature switched on that the firmware lacks is refused too -- flag U in tools/gen_dm.py -- but
    # since issues 10-12 every declared feature is implemented, so no variable carries that flag.)
    ("firmware-maintained", ("EVSE", "AvailabilityState", "Unavailable", None),
     ("EVSE", "AvailabilityState", "maintained by the firmware")),
]


@pytest.mark.parametrize("entry,needles", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_factory_value_the_firmware_cannot_honour_exits_2(make_csms, make_station, kit, entry, needles):
    csms = make_csms()
    comp, var, value, inst = entry
    e = kit.dm(comp, var, value, instance=inst, evse={"id": 1} if comp == "EVSE" else None)
    st = make_station(kit.station_config(csms.url, device_model=[e]))
    assert st.wait_exit(15) == 2, st.stderr_text(3000)
    message = st.stderr_text()
    for n in needles:
        assert n in message, (n, message[-2000:])
    assert csms.connections == []


def test_read_only_factory_values_are_accepted_and_take_effect(make_csms, make_station, kit):
    csms = make_csms()
    cfg = kit.station_config(csms.url, device_model=[
        kit.dm("DeviceDataCtrlr", "ItemsPerMessage", 2, instance="GetVariables"),
        kit.dm("DeviceDataCtrlr", "BytesPerMessage", 65536, instance="GetVariables"),
        kit.dm("OCPPCommCtrlr", "MessageTimeout", 45, instance="Default"),
        kit.dm("ReservationCtrlr", "Available", "false"),
        kit.dm("ReservationCtrlr", "NonEvseSpecific", "true"),
    ])
    st = make_station(cfg)
    kit.wait_booted(csms, st)

    def gv(c, v, i=None):
        d = {"component": {"name": c}, "variable": {"name": v}}
        if i:
            d["variable"]["instance"] = i
        return d

    r = csms.call("GetVariables", {"getVariableData": [gv("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
                                                       gv("OCPPCommCtrlr", "MessageTimeout", "Default")]})
    assert r.kind == CALLRESULT, r
    values = [x.get("attributeValue") for x in r.payload["getVariableResult"]]
    assert values == ["2", "45"], r.payload
    # ItemsPerMessageGetVariables = 2 limits GetVariables (B06.FR.16)
    three = [gv("OCPPCommCtrlr", "HeartbeatInterval")] * 3
    r = csms.call("GetVariables", {"getVariableData": three})
    assert r.kind == CALLERROR and r.error_code == "OccurrenceConstraintViolation", r
    # ReservationCtrlr.Available = false: ReserveNow is refused (H01)
    r = csms.call("ReserveNow", {"id": 5, "expiryDateTime": "2099-01-01T00:00:00Z",
                                 "idToken": {"idToken": "R1", "type": "ISO14443"}, "evseId": 1})
    assert r.kind == CALLRESULT and r.payload["status"] == "Rejected", r
    # and the CSMS still may not write them (B05.FR.09)
    r = csms.call("SetVariables", {"setVariableData": [dict(gv("OCPPCommCtrlr", "MessageTimeout", "Default"),
                                                            attributeValue="10")]})
    assert r.payload["setVariableResult"][0]["attributeStatus"] == "Rejected"
    assert st.alive()
