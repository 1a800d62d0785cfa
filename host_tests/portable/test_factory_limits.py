# Issue 8: factory values (launcher `device_model`) for ReadOnly variables, and the limits the
# firmware can honour. The factory file is not the CSMS: the maker may provision ReadOnly
# variables flagged F (ItemsPerMessage, BytesPerMessage, MessageTimeout, ReservationCtrlr...);
# values the firmware maintains, features it lacks and values beyond its limits are refused,
# naming the entry and the reason.
import gc
import json

from support import raises, tmpdir
from fake_station import FakeStation, Handlers, make_dm
from flexcharge.core.devicemodel import DeviceModelError, standard
from flexcharge.core.blocks.b_provisioning.variables import Variables
from flexcharge.comm.errors import CallError


def e(comp, var, value, inst=None, evse=None):
    d = {"component": {"name": comp}, "variable": {"name": var}, "attributeValue": value}
    if inst:
        d["variable"]["instance"] = inst
    if evse:
        d["component"]["evse"] = {"id": evse}
    return d


TABLES = standard.TABLES + (standard.MONITORING_CTRLR,)


def refused(entry, *needles):
    dm = make_dm(tmpdir("fl"), tables=TABLES)
    with raises(DeviceModelError) as r:
        dm.apply_factory([entry])
    msg = str(r.value)
    assert msg.startswith("device_model[0] "), msg
    for n in needles:
        assert n in msg, (n, msg)
    assert dm.is_new()


def test_read_only_variables_the_maker_provisions_are_accepted():
    d = tmpdir("fa")
    dm = make_dm(d, tables=TABLES)
    dm.apply_factory([
        e("DeviceDataCtrlr", "ItemsPerMessage", "4", "GetVariables"),
        e("DeviceDataCtrlr", "BytesPerMessage", "65536", "GetVariables"),
        e("OCPPCommCtrlr", "MessageTimeout", "536870", "Default"),
        e("ReservationCtrlr", "Available", "false"),
        e("ReservationCtrlr", "NonEvseSpecific", "true"),
        e("MonitoringCtrlr", "ItemsPerMessage", "64", "SetVariableMonitoring"),
        e("SmartChargingCtrlr", "Available", "false"),  # a station sold without smart charging (issue 12)
    ])
    dm = make_dm(d, tables=TABLES)  # a reboot keeps them
    assert dm.get_int("DeviceDataCtrlr", "ItemsPerMessage", var_instance="GetVariables") == 4
    assert dm.get_int("DeviceDataCtrlr", "BytesPerMessage", var_instance="GetVariables") == 65536
    assert dm.get_int("OCPPCommCtrlr", "MessageTimeout", var_instance="Default") == 536870
    assert dm.get_bool("ReservationCtrlr", "Available") is False
    assert dm.get_bool("ReservationCtrlr", "NonEvseSpecific") is True


def test_additional_root_certificate_check_is_the_makers_choice():
    # Issue 10 (M05): implemented, ReadOnly for the CSMS, set by the factory file.
    dm = make_dm(tmpdir("arc"), tables=TABLES)
    dm.apply_factory([e("SecurityCtrlr", "AdditionalRootCertificateCheck", "true")])
    assert dm.get_bool("SecurityCtrlr", "AdditionalRootCertificateCheck") is True


def test_values_the_firmware_cannot_honour_are_refused_with_the_reason():
    refused(e("DeviceDataCtrlr", "BytesPerMessage", "65537", "GetVariables"),
            "DeviceDataCtrlr.BytesPerMessage[GetVariables]", "65537", "..65536")
    refused(e("OCPPCommCtrlr", "MessageTimeout", "536871", "Default"), "MessageTimeout[Default]", "..536870")
    refused(e("DeviceDataCtrlr", "ItemsPerMessage", "65", "GetVariables"), "ItemsPerMessage[GetVariables]", "..64")
    refused(e("DeviceDataCtrlr", "ItemsPerMessage", "0", "SetVariables"), "ItemsPerMessage[SetVariables]", "1..")
    refused(e("LocalAuthListCtrlr", "ItemsPerMessage", "1000"), "LocalAuthListCtrlr.ItemsPerMessage", "..64")
    # maintained by the firmware
    refused(e("EVSE", "AvailabilityState", "Unavailable", evse=1), "EVSE@1.AvailabilityState", "maintained by the firmware")
    refused(e("LocalAuthListCtrlr", "Entries", "3"), "maintained by the firmware")
    refused(e("ChargingStation", "SupplyPhases", "1"), "maintained by the firmware")
    refused(e("SampledDataCtrlr", "Available", "false"), "maintained by the firmware")  # E block reads Enabled only


def test_byte_and_timeout_limits_match_the_firmware():
    from flexcharge.lifecycle.boot import MAX_MESSAGE
    dm = make_dm(tables=TABLES)
    for blk, row, vidx in dm.rows():
        if row[0] == "BytesPerMessage":
            assert row[6] == MAX_MESSAGE, (blk[0], row)
        if row[0] == "ItemsPerMessage":
            assert row[5] == 1 and row[6] == 64, (blk[0], row)
    f = dm.find("OCPPCommCtrlr", None, None, None, "MessageTimeout", "Default")
    assert f[1][6] == (1 << 29) // 1000  # ticks_diff is valid within half of a 30-bit ticks period


def test_items_per_message_from_the_factory_limits_get_variables():
    dm = make_dm(tmpdir("fi"))
    dm.apply_factory([e("DeviceDataCtrlr", "ItemsPerMessage", "2", "GetVariables")])
    st = FakeStation(dm=dm)
    h = Handlers(st, Variables(st))
    one = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    assert len(h("GetVariables", {"getVariableData": [one, one]})["getVariableResult"]) == 2
    with raises(CallError) as r:
        h("GetVariables", {"getVariableData": [one, one, one]})
    assert r.value.args[0] == "OccurrenceConstraintViolation"


def test_heap_per_get_variables_item_fits_the_items_bound():
    # MAX_ITEMS (tools/gen_dm.py) = 64 rests on ~370 B per item at the peak of one GetVariables;
    # this keeps the figure honest where gc.mem_alloc exists (MicroPython).
    if not hasattr(gc, "mem_alloc"):
        return
    dm = make_dm()
    dm.set_internal("DeviceDataCtrlr", "ItemsPerMessage", "64", var_instance="GetVariables")
    dm.set_internal("DeviceDataCtrlr", "BytesPerMessage", "65536", var_instance="GetVariables")
    st = FakeStation(dm=dm)
    b = Variables(st)
    names = (("OCPPCommCtrlr", "HeartbeatInterval"), ("TxCtrlr", "TxStopPoint"), ("ClockCtrlr", "TimeZone"))
    items = [{"component": {"name": names[i % 3][0]}, "variable": {"name": names[i % 3][1]}} for i in range(64)]
    text = json.dumps({"getVariableData": items})
    items = None
    gc.collect()
    before = gc.mem_alloc()
    p = json.loads(text)
    r = Variables.get_variables.fn(b, p)
    out = json.dumps([3, "1", r])
    gc.collect()
    used = gc.mem_alloc() - before
    assert len(out) > 0
    assert used < 32 * 1024, used  # 64 items within the 32 KB budget of one request
