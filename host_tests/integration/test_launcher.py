# The station launcher contract (DESIGN.md): bad configuration stops it with status 2 before it
# connects; bad stdin lines get an `error` event and the station carries on.
import pytest

# A ReadOnly variable the firmware maintains itself: no factory value for it (ReadOnly variables
# the maker provisions, e.g. ItemsPerMessage, are accepted: test_factory_values.py).
READ_ONLY = ("LocalAuthListCtrlr", "Entries", None)


def _drop(key):
    def mutate(cfg, kit):
        del cfg[key]
    return mutate


def _set(key, value):
    def mutate(cfg, kit):
        cfg[key] = value
    return mutate


def _add_dm(component, variable, value, instance=None):
    def mutate(cfg, kit):
        cfg["device_model"].append(kit.dm(component, variable, value, instance=instance))
    return mutate


BAD_CONFIGS = [
    ("missing-identity", _drop("identity"), "identity"),
    ("missing-csms_url", _drop("csms_url"), "csms_url"),
    ("missing-evses", _drop("evses"), "evses"),
    ("unknown-key", _set("colour", "blue"), "colour"),
    ("unknown-dm-variable", _add_dm("OCPPCommCtrlr", "NoSuchVariable", 1), "NoSuchVariable"),
    ("unknown-dm-component", _add_dm("NoSuchCtrlr", "HeartbeatInterval", 1), "NoSuchCtrlr"),
    ("invalid-dm-value", _add_dm("OCPPCommCtrlr", "RetryBackOffWaitMinimum", "soon"), "RetryBackOffWaitMinimum"),
    ("read-only-dm-variable", _add_dm(READ_ONLY[0], READ_ONLY[1], 7, instance=READ_ONLY[2]), READ_ONLY[1]),
    ("profile1-without-password", _set("security_profile", 1), "basic_auth_password"),
]


@pytest.mark.parametrize("mutate,needle", [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_exits_2_naming_the_entry(make_csms, make_station, kit, mutate, needle):
    csms = make_csms()
    cfg = kit.station_config(csms.url)
    mutate(cfg, kit)
    st = make_station(cfg)
    status = st.wait_exit(15)
    assert status == 2, "exit status %s\n%s" % (status, st.stderr_text(3000))
    message = st.stderr_text() + st.output_text()
    assert needle in message, "the message does not name %r:\n%s" % (needle, message[-2000:])
    assert csms.connections == [], "it connected before checking its configuration"


def test_config_not_json_exits_2(make_csms, make_station):
    make_csms()
    st = make_station('{"identity": "FC-TEST-1", ')
    assert st.wait_exit(15) == 2


BAD_LINES = [
    "this is not json",
    "[1, 2, 3]",
    '{"cmd": "teleport"}',
    '{"cmd": "plug", "evse": 9, "connector": 1}',
    '{"cmd": "plug", "evse": 1, "connector": 2}',
    '{"cmd": "unplug", "evse": 2, "connector": 5}',
]


def test_invalid_stdin_lines_get_error_events(make_csms, make_station, kit):
    csms = make_csms(heartbeat_interval=60)
    st = make_station(kit.station_config(csms.url))
    kit.wait_booted(csms, st)
    mark = csms.mark()
    for line in BAD_LINES:
        ev_mark = st.mark()
        st.send(line)
        st.wait_event("error", since=ev_mark, timeout=5)
        assert st.alive(), "station exited after %r" % line
    kit.assert_responsive(csms, st)
    # Ignored otherwise: no connector changed state, no reboot.
    assert csms.calls("StatusNotification", since=mark) == []
    assert csms.calls("BootNotification", since=mark) == []
