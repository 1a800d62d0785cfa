# Device model store: addressing, typed values, checks, persistence, factory values, watchers.
import os

from support import raises, tmpdir
from fake_station import make_dm, EVSES
from flexcharge.hal.storage import FileStorage
from flexcharge.core.devicemodel import DeviceModel, DeviceModelError, standard
from flexcharge.core.devicemodel import model, check

# A table with every dataType and the extra attribute types, for the checks below.
TEST_TABLE = (
    ("TestCtrlr", None, 0, (
        ("Int", None, "RWPM", "integer", "s", 0, 100, None, "5"),
        ("Dec", None, "RWPM", "decimal", "Percent", -1, 50, None, "0.5"),
        ("Bool", None, "RWM", "boolean", None, None, None, None, "false"),
        ("When", None, "RWP", "dateTime", None, None, None, None, ""),
        ("Opt", None, "RWP", "OptionList", None, None, None, ("Red", "Green", "Blue"), "Red"),
        ("Members", None, "RWP", "MemberList", None, None, 12, ("A", "B", "C", "D"), "A,B"),
        ("Seq", None, "RWP", "SequenceList", None, None, None, ("X", "Y", "Z"), "X"),
        ("Text", None, "RWP", "string", None, 2, 8, None, "hello"),
        ("Limit", None, "RWPTNX", "decimal", "A", 0, 32, None, ("16", "10", "6", "32")),
        ("Secret", None, "WOP", "string", None, None, 64, None, "s3cret"),
        ("Volatile", None, "RW", "integer", None, None, None, None, "1"),
        ("Fixed", None, "ROC", "string", None, None, None, None, "x"),
        ("Item", "One", "RWP", "integer", None, None, None, None, "1"),
        ("Item", "Two", "RWP", "integer", None, None, None, None, "2"),
    )),
    ("TestCtrlr", "Second", 0, (
        ("Int", None, "RW", "integer", None, None, None, None, "7"),
    )),
)


def dm_with_test_table(path=None):
    return make_dm(path, tables=standard.TABLES + (TEST_TABLE,))


def sv(comp, var, value, **kw):
    d = {"component": {"name": comp}, "variable": {"name": var}, "attributeValue": value}
    if "ci" in kw:
        d["component"]["instance"] = kw["ci"]
    if "vi" in kw:
        d["variable"]["instance"] = kw["vi"]
    if "evse" in kw:
        d["component"]["evse"] = kw["evse"]
    if "attr" in kw:
        d["attributeType"] = kw["attr"]
    return d


def test_key_round_trip():
    for vidx, e, c, a in ((0, None, None, 0), (511, 63, 7, 3), (37, 2, None, 1), (1, 1, 1, 2)):
        assert model.unkey(model.key(vidx, e, c, a)) == (vidx, e, c, a)


def test_standard_values_and_addressing():
    dm = make_dm()
    assert dm.is_new()
    assert dm.get("OCPPCommCtrlr", "OfflineThreshold") == "300"
    assert dm.get_int("OCPPCommCtrlr", "MessageTimeout", 0, var_instance="Default") == 30
    # station.py passes the variable instance as `instance`: tolerated
    assert dm.get_int("OCPPCommCtrlr", "MessageTimeout", 0, instance="Default") == 30
    assert dm.get_int("OCPPCommCtrlr", "NoSuchThing", 42) == 42
    assert dm.get_bool("OCPPCommCtrlr", "UnlockOnEVSideDisconnect") is True
    assert dm.get_list("OCPPCommCtrlr", "FileTransferProtocols") == ("HTTP", "HTTPS")  # UpdateFirmware (L01), GetLog (N01)
    assert dm.get("EVSE", "AvailabilityState", evse=1) == "Available"
    assert dm.get("EVSE", "AvailabilityState") is None  # EVSE needs its evse id
    assert dm.get("EVSE", "AvailabilityState", evse=3) is None
    assert dm.get("Connector", "AvailabilityState", evse=1, connector=2) == "Available"
    assert dm.get("Connector", "AvailabilityState", evse=2, connector=2) is None
    # derived from the config's evses
    assert dm.get_int("EVSE", "SupplyPhases", evse=2) == 1
    assert dm.get_int("Connector", "SupplyPhases", evse=1, connector=1) == 3
    assert dm.get_int("ChargingStation", "SupplyPhases") == 3
    f = dm.find("EVSE", None, 1, None, "Power", None)
    assert dm.limits(f[1], f[2], 1, None) == (0, 32 * 230 * 3)
    assert dm.limits(f[1], f[2], 2, None) == (0, 16 * 230)


def test_find_status_and_case_insensitive_names():
    dm = make_dm()
    assert dm.find("NoSuchCtrlr", None, None, None, "X", None) == 0
    assert dm.find("OCPPCommCtrlr", None, None, None, "NoSuch", None) == 1
    assert dm.find("OCPPCommCtrlr", None, 1, None, "OfflineThreshold", None) == 0  # not an EVSE component
    f = dm.find("ocppcommctrlr", None, None, None, "OFFLINETHRESHOLD", None)
    assert isinstance(f, tuple) and f[1][0] == "OfflineThreshold"
    # an instance-only variable needs its instance (B06.FR.15)
    assert dm.find("OCPPCommCtrlr", None, None, None, "MessageTimeout", None) == 1


def test_set_variable_statuses():
    dm = dm_with_test_table()
    assert dm.set_variable(sv("TestCtrlr", "Int", "42")) == ("Accepted", None)
    assert dm.get_int("TestCtrlr", "Int") == 42
    assert dm.set_variable(sv("Nope", "Int", "1"))[0] == "UnknownComponent"
    assert dm.set_variable(sv("TestCtrlr", "Nope", "1"))[0] == "UnknownVariable"
    assert dm.set_variable(sv("TestCtrlr", "Int", "1", attr="Target"))[0] == "NotSupportedAttributeType"
    assert dm.set_variable(sv("TestCtrlr", "Fixed", "y")) == ("Rejected", {"reasonCode": "ReadOnly"})
    assert dm.set_variable(sv("SecurityCtrlr", "Identity", "CS-002")) == ("RebootRequired", None)
    assert dm.get("SecurityCtrlr", "Identity") == "CS-002"
    # component instances are distinct components
    assert dm.set_variable(sv("TestCtrlr", "Int", "9", ci="Second"))[0] == "Accepted"
    assert dm.get_int("TestCtrlr", "Int", instance="Second") == 9 and dm.get_int("TestCtrlr", "Int") == 42
    assert dm.set_variable(sv("TestCtrlr", "Int", "9", ci="Third"))[0] == "UnknownComponent"
    # variable instances
    assert dm.set_variable(sv("TestCtrlr", "Item", "11", vi="Two"))[0] == "Accepted"
    assert dm.get_int("TestCtrlr", "Item", var_instance="Two") == 11
    assert dm.get_int("TestCtrlr", "Item", var_instance="One") == 1
    assert dm.set_variable(sv("TestCtrlr", "Item", "3"))[0] == "UnknownVariable"


def rejected(dm, var, value):
    s, info = dm.set_variable(sv("TestCtrlr", var, value))
    return s == "Rejected" and info["reasonCode"]


def test_value_checks_per_data_type():
    dm = dm_with_test_table()
    # integer: strict digits, limits (TC_B_11_CS: "300.1", "true", a date, "abc")
    for bad in ("300.1", "true", "2026-11-21T10:00:00Z", "abc", "", " 5", "1_0", "+"):
        assert rejected(dm, "Int", bad) == "InvalidValue", bad
    assert rejected(dm, "Int", "101") == "ValueOutOfRange"
    assert rejected(dm, "Int", "-1") == "ValueOutOfRange"
    assert dm.set_variable(sv("TestCtrlr", "Int", "+100"))[0] == "Accepted" and dm.get("TestCtrlr", "Int") == "100"
    # decimal
    for bad in ("abc", "true", "nan", "inf", "1.", ".", "1e", "--1"):
        if bad == "1.":
            continue  # "1." is a valid decimal literal
        assert rejected(dm, "Dec", bad) == "InvalidValue", bad
    assert rejected(dm, "Dec", "50.01") == "ValueOutOfRange"
    for ok in ("1.", "-0.5", "3", "2.5e1", ".5"):
        assert dm.set_variable(sv("TestCtrlr", "Dec", ok))[0] == "Accepted", ok
    # boolean
    assert rejected(dm, "Bool", "yes") == "InvalidValue"
    assert rejected(dm, "Bool", "1") == "InvalidValue"
    assert dm.set_variable(sv("TestCtrlr", "Bool", "TRUE"))[0] == "Accepted"
    assert dm.get("TestCtrlr", "Bool") == "true" and dm.get_bool("TestCtrlr", "Bool") is True
    # dateTime
    assert rejected(dm, "When", "abc") == "InvalidValue"
    assert rejected(dm, "When", "300") == "InvalidValue"
    assert rejected(dm, "When", "2026-13-01T00:00:00Z") == "InvalidValue"
    assert dm.set_variable(sv("TestCtrlr", "When", "2026-11-21T10:00:00.000Z"))[0] == "Accepted"
    # OptionList: valuesList membership, canonical spelling kept
    assert rejected(dm, "Opt", "Purple") == "InvalidValue"
    assert rejected(dm, "Opt", "Red,Green") == "InvalidValue"
    assert dm.set_variable(sv("TestCtrlr", "Opt", "green"))[0] == "Accepted" and dm.get("TestCtrlr", "Opt") == "Green"
    # MemberList: subset, no duplicates, maxLimit is the CSV length
    assert rejected(dm, "Members", "A,E") == "InvalidValue"
    assert rejected(dm, "Members", "A,A") == "InvalidValue"
    assert dm.set_variable(sv("TestCtrlr", "Members", "D, b"))[0] == "Accepted" and dm.get("TestCtrlr", "Members") == "D,B"
    assert dm.set_variable(sv("TestCtrlr", "Members", ""))[0] == "Accepted"
    assert rejected(dm, "Members", "A,B,C,D,") == "InvalidValue"
    # SequenceList keeps the order
    assert dm.set_variable(sv("TestCtrlr", "Seq", "Z,X"))[0] == "Accepted" and dm.get_list("TestCtrlr", "Seq") == ("Z", "X")
    assert rejected(dm, "Seq", "X,W") == "InvalidValue"
    # string: min/max length
    assert rejected(dm, "Text", "a") == "ValueOutOfRange"
    assert rejected(dm, "Text", "abcdefghi") == "ValueOutOfRange"
    assert dm.set_variable(sv("TestCtrlr", "Text", "abcdefgh"))[0] == "Accepted"


def test_configuration_value_size_applies():
    dm = dm_with_test_table()
    dm.set_internal("DeviceDataCtrlr", "ConfigurationValueSize", "4")  # read-only for the CSMS, not for us
    s, info = dm.set_variable(sv("TestCtrlr", "Text", "abcde"))
    assert s == "Rejected" and info["reasonCode"] == "TooLargeElement"
    dm.set_internal("DeviceDataCtrlr", "ReportingValueSize", "3")
    s, v, info = dm.get_variable(sv("TestCtrlr", "Text", None))
    assert (s, v) == ("Accepted", "hel")


def test_attribute_types():
    dm = dm_with_test_table()
    for attr, want in (("Actual", "16"), ("Target", "10"), ("MinSet", "6"), ("MaxSet", "32")):
        assert dm.get("TestCtrlr", "Limit", attr=attr) == want
        assert dm.get_variable(sv("TestCtrlr", "Limit", None, attr=attr)) == ("Accepted", want, None)
    assert dm.set_variable(sv("TestCtrlr", "Limit", "12.5", attr="Target"))[0] == "Accepted"
    assert dm.get("TestCtrlr", "Limit", attr="Target") == "12.5" and dm.get("TestCtrlr", "Limit") == "16"
    assert dm.set_variable(sv("TestCtrlr", "Limit", "40", attr="MaxSet"))[0] == "Rejected"
    # a supported attribute that was never set reads as "" (B06.FR.13)
    assert dm.get_variable(sv("TestCtrlr", "Int", None, attr="Target"))[0] == "NotSupportedAttributeType"


def test_write_only_is_readable_by_firmware_only():
    dm = dm_with_test_table()
    assert dm.get_variable(sv("TestCtrlr", "Secret", None)) == ("Rejected", None, {"reasonCode": "WriteOnly"})
    assert dm.get("TestCtrlr", "Secret") == "s3cret"
    assert dm.set_variable(sv("TestCtrlr", "Secret", "n3w-secret"))[0] == "Accepted"
    assert dm.get("TestCtrlr", "Secret") == "n3w-secret"


def test_persistence_survives_reboot_and_volatile_values_reset():
    d = tmpdir("dmp")
    dm = dm_with_test_table(d)
    assert dm.set_variable(sv("TestCtrlr", "Int", "77"))[0] == "Accepted"
    assert dm.set_variable(sv("TestCtrlr", "Volatile", "99"))[0] == "Accepted"
    dm.set_internal("TestCtrlr", "Opt", "Blue")
    assert dm.set_variable(sv("TestCtrlr", "Limit", "8", attr="MinSet"))[0] == "Accepted"
    dm.set_internal("EVSE", "AvailabilityState", "Faulted", evse=2)  # not persistent
    # reboot = a new model over the same directory
    dm2 = dm_with_test_table(d)
    assert dm2.is_new()  # no factory file yet: still "new" until apply_factory ran
    assert dm2.get_int("TestCtrlr", "Int") == 77
    assert dm2.get("TestCtrlr", "Opt") == "Blue"
    assert dm2.get("TestCtrlr", "Limit", attr="MinSet") == "8"
    assert dm2.get_int("TestCtrlr", "Volatile") == 1
    assert dm2.get("EVSE", "AvailabilityState", evse=2) == "Available"


def test_atomic_write_leftover_tmp_ignored():
    d = tmpdir("dma")
    dm = dm_with_test_table(d)
    dm.set_variable(sv("TestCtrlr", "Int", "12"))
    # a power cut between writing the temp file and the rename leaves the old file intact
    with open(d + "/dm.values.tmp", "w") as f:
        f.write('["TestCtrlr", "", 0, 0, "Int", "", 0, "13"')
    dm2 = dm_with_test_table(d)
    assert dm2.get_int("TestCtrlr", "Int") == 12
    assert "dm.values.tmp" not in os.listdir(d)


def test_corrupt_or_stale_lines_are_dropped():
    d = tmpdir("dmc")
    st = FileStorage(d)
    st.write("dm.values", "\n".join((
        '["TestCtrlr", "", 0, 0, "Int", "", 0, "12"]',
        "not json",
        '["GoneCtrlr", "", 0, 0, "X", "", 0, "1"]',
        '["TestCtrlr", "", 0, 0, "Int", "", 1, "3"]',  # attribute it does not have
        '["TestCtrlr", "", 0, 0, "Opt", "", 0, "Purple"]',
    )))
    dm = dm_with_test_table(d)
    assert dm.get_int("TestCtrlr", "Int") == 12
    assert dm.get("TestCtrlr", "Opt") == "Red"
    assert dm.log.count("W") == 4


def test_factory_values_and_errors():
    d = tmpdir("dmf")
    dm = dm_with_test_table(d)
    assert dm.is_new()
    entries = [
        {"component": {"name": "TxCtrlr"}, "variable": {"name": "TxStartPoint"}, "attributeValue": "EVConnected"},
        {"component": {"name": "TestCtrlr"}, "variable": {"name": "Volatile"}, "attributeValue": "5"},
        {"component": {"name": "TestCtrlr"}, "variable": {"name": "Limit"}, "attributeType": "Target", "attributeValue": "20"},
    ]
    dm.apply_factory(entries)
    assert dm.get("TxCtrlr", "TxStartPoint") == "EVConnected" and dm.get_int("TestCtrlr", "Volatile") == 5
    dm2 = dm_with_test_table(d)
    assert not dm2.is_new()
    # a non-persistent variable returns to its factory value at boot, not to the table default
    assert dm2.get_int("TestCtrlr", "Volatile") == 5
    assert dm2.get("TestCtrlr", "Limit", attr="Target") == "20"
    cases = (
        ({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "Foo"}, "attributeValue": "1"},
         "device_model[1] OCPPCommCtrlr.Foo: unknown variable"),
        ({"component": {"name": "FooCtrlr"}, "variable": {"name": "Foo"}, "attributeValue": "1"}, "unknown component"),
        ({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}, "attributeValue": "soon"},
         "invalid value"),
        ({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "MessageTimeout", "instance": "Default"},
          "attributeValue": "0"}, "OCPPCommCtrlr.MessageTimeout[Default]: invalid value '0' (ValueOutOfRange"),
        ({"component": {"name": "LocalAuthListCtrlr"}, "variable": {"name": "Entries"}, "attributeValue": "1"},
         "LocalAuthListCtrlr.Entries: read-only, maintained by the firmware"),
        ({"component": {"name": "EVSE", "evse": {"id": 9}}, "variable": {"name": "Power"}, "attributeValue": "1"},
         "EVSE@9.Power: unknown component"),
        ({"component": {"name": "TestCtrlr"}, "variable": {"name": "Int"}, "attributeValue": 5}, "must be a string"),
        ({"variable": {"name": "Int"}, "attributeValue": "5"}, "needs component.name"),
    )
    good = {"component": {"name": "TestCtrlr"}, "variable": {"name": "Int"}, "attributeValue": "66"}
    for bad, msg in cases:
        dm3 = dm_with_test_table(tmpdir("dmf3"))
        with raises(DeviceModelError) as e:
            dm3.apply_factory([good, bad])
        assert msg in str(e.value), (msg, str(e.value))
        assert dm3.get_int("TestCtrlr", "Int") == 5  # nothing applied
        assert dm3.is_new()


def test_new_until_factory_applied():
    d = tmpdir("dmn")
    dm = make_dm(d)
    dm.set_internal("SecurityCtrlr", "Identity", "CS1")  # the root does this before apply_factory
    assert make_dm(d).is_new()  # apply_factory never ran (e.g. bad entry): still new next boot
    dm.apply_factory([])
    assert not make_dm(d).is_new()
    assert make_dm(d).get("SecurityCtrlr", "Identity") == "CS1"


def test_watchers_and_first_write_after_boot():
    dm = make_dm()
    seen = []
    dm.watch("OCPPCommCtrlr", "HeartbeatInterval", lambda *a: seen.append(a))
    dm.watch("Connector", "AvailabilityState", lambda *a: seen.append(a))
    assert dm.set_variable(sv("OCPPCommCtrlr", "HeartbeatInterval", "60"))[0] == "Accepted"
    assert seen[-1] == ("OCPPCommCtrlr", "HeartbeatInterval", "60", None, None)
    dm.set_variable(sv("OCPPCommCtrlr", "HeartbeatInterval", "60"))
    assert len(seen) == 1  # unchanged: no callback
    dm.set_variable(sv("OCPPCommCtrlr", "HeartbeatInterval", "0"))  # rejected: minLimit 1
    assert len(seen) == 1
    # first write after boot counts even when equal to the default (the state was unknown)
    dm.set_internal("Connector", "AvailabilityState", "Available", evse=1, connector=2)
    assert seen[-1] == ("Connector", "AvailabilityState", "Available", 1, 2)
    dm.set_internal("Connector", "AvailabilityState", "Available", evse=1, connector=2)
    assert len(seen) == 2
    dm.set_internal("Connector", "AvailabilityState", "Available", evse=1, connector=2, force=True)
    assert len(seen) == 3
    # a failing watcher is logged, not raised
    dm.watch("OCPPCommCtrlr", "OfflineThreshold", lambda *a: 1 / 0)
    assert dm.set_variable(sv("OCPPCommCtrlr", "OfflineThreshold", "5"))[0] == "Accepted"
    assert dm.log.count("E") == 1


def test_set_internal_checks_type_not_limits():
    dm = make_dm()
    dm.set_internal("OCPPCommCtrlr", "HeartbeatInterval", "0")  # below minLimit: firmware decides
    assert dm.get_int("OCPPCommCtrlr", "HeartbeatInterval") == 0
    dm.set_internal("ChargingStation", "Available", False)
    assert dm.get("ChargingStation", "Available") == "false"
    with raises(DeviceModelError):
        dm.set_internal("OCPPCommCtrlr", "HeartbeatInterval", "soon")
    with raises(DeviceModelError):
        dm.set_internal("EVSE", "AvailabilityState", "Exploded", evse=1)
    with raises(DeviceModelError) as e:
        dm.set_internal("OCPPCommCtrlr", "Nope", "1")
    assert "unknown variable" in str(e.value)


def test_add_table_twice_and_bad_evses():
    dm = DeviceModel(FileStorage(tmpdir("dmt")), None)
    dm.add_table(standard.EVSE)
    dm.add_table(standard.EVSE)
    dm.add_table(())
    assert dm._n == len(standard.EVSE[0][3])
    with raises(DeviceModelError):
        dm.add_evses([{"id": 0}])
    with raises(DeviceModelError):
        dm.add_evses([{"id": 1, "connectors": 9}])


def test_components_iteration_counts_instances():
    dm = make_dm()
    n_conn = sum(e["connectors"] for e in EVSES)
    comps = list(dm.components())
    assert len([c for c in comps if c[0][0] == "Connector"]) == n_conn
    assert len([c for c in comps if c[0][0] == "EVSE"]) == len(EVSES)
    assert len([c for c in comps if c[0][0] == "OCPPCommCtrlr"]) == 1


def test_check_helpers():
    row = ("X", None, "RW", "integer", None, None, None, None, "1")
    assert check.parse(row, 7, None, None, True) == (7, None)
    assert check.parse(row, True, None, None, True) == (None, "InvalidValue")
    assert check.text(True) == "true" and check.text(12) == "12" and check.text("a") == "a"
    assert check.number("2.5") == 2.5 and check.number(False) is None and check.number("Available") is None
