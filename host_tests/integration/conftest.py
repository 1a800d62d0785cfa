# Integration harness: the real station process (tools/station on the MicroPython unix port) against the
# CSMS of tools/csms (ocpp + websockets, CPython) over real WebSockets/TLS. Every frame the station sends
# is checked against the OCA schemas; the `make_csms` teardown fails the test on any violation.
#
# FLEXCHARGE_STATION=/path/to/launcher runs the suite against another launcher with the same contract.
import copy
import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOLS = os.path.join(ROOT, "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

from csms import CALLERROR, CALLRESULT, Csms, StationProcess  # noqa: E402
from pki import generate_pki  # noqa: E402

STATION = os.environ.get("FLEXCHARGE_STATION") or os.path.join(TOOLS, "station")
IDENTITY = "FC-TEST-1"
PASSWORD = "flexcharge-test-pw-0123"  # BasicAuthPassword: 16..40 characters
EVSES = [{"id": 1, "connectors": 1}, {"id": 2, "connectors": 2}]
CONNECTORS = {(1, 1), (2, 1), (2, 2)}


def dm(component, variable, value, instance=None, evse=None):
    """A device_model entry, shaped like SetVariableData (attributeType defaults to Actual)."""
    var = {"name": variable}
    if instance is not None:
        var["instance"] = instance
    comp = {"name": component}
    if evse is not None:
        comp["evse"] = evse
    return {"component": comp, "variable": var, "attributeValue": str(value)}


# Short reconnect back-off for every test (Part 4 §5.3), so a dropped connection costs ~1 s.
FAST_BACKOFF = [
    dm("OCPPCommCtrlr", "RetryBackOffWaitMinimum", 1),
    dm("OCPPCommCtrlr", "RetryBackOffRandomRange", 0),
    dm("OCPPCommCtrlr", "RetryBackOffRepeatTimes", 1),
]


def _dm_key(entry):
    c, v = entry.get("component", {}), entry.get("variable", {})
    return (c.get("name"), c.get("instance"), str(c.get("evse")), v.get("name"), v.get("instance"),
            entry.get("attributeType", "Actual"))


def merge_device_model(base, overrides):
    """base entries, each replaced by an override for the same component/variable/attribute."""
    keys = set(_dm_key(e) for e in overrides)
    return [e for e in base if _dm_key(e) not in keys] + list(overrides)


def station_config(csms_url, security_profile=0, device_model=None, **extra):
    cfg = {
        "identity": IDENTITY,
        "csms_url": csms_url,
        "security_profile": security_profile,
        "vendor": "FlexCharge",
        "model": "FC-Sim-3",
        "serial_number": "SN-0001",
        "firmware_version": "0.1.0-test",
        "evses": copy.deepcopy(EVSES),
        "device_model": merge_device_model(FAST_BACKOFF, device_model or []),
    }
    cfg.update(extra)
    return cfg


GET_HEARTBEAT_INTERVAL = {"getVariableData": [
    {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}


def get_variable(csms, component, variable, timeout=5):
    """GetVariables for one variable; returns the getVariableResult entry (asserts a CALLRESULT)."""
    reply = csms.call("GetVariables", {"getVariableData": [
        {"component": {"name": component}, "variable": {"name": variable}}]}, timeout=timeout)
    assert reply.kind == CALLRESULT, "GetVariables answered with %r" % reply
    result = reply.payload["getVariableResult"]
    assert len(result) == 1
    return result[0]


def assert_responsive(csms, station, timeout=15):
    """The station process is up and answers a valid GetVariables (reconnecting first if it has to)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        assert station.alive(), "station exited with %s\n%s" % (station.proc.returncode, station.stderr_text(4000))
        try:
            reply = csms.call("GetVariables", GET_HEARTBEAT_INTERVAL, timeout=5)
            assert reply.kind == CALLRESULT, "valid GetVariables answered with %r" % reply
            return reply
        except (ConnectionError, TimeoutError, AssertionError) as e:
            last = e
            time.sleep(0.3)
    raise AssertionError("station did not answer a valid GetVariables within %ss: %s" % (timeout, last))


def status_notifications(csms, since=0):
    """{(evseId, connectorId): connectorStatus of the latest StatusNotification}."""
    out = {}
    for f in csms.calls("StatusNotification", since=since):
        out[(f.payload["evseId"], f.payload["connectorId"])] = f.payload["connectorStatus"]
    return out


def wait_booted(csms, station=None, timeout=15, since=0):
    """Wait for an Accepted BootNotification and a StatusNotification for every connector; returns
    (boot CALL frame, its answer)."""
    boot = csms.wait_call("BootNotification", since=since, timeout=timeout)
    answer = csms.wait_for(lambda: csms.answer_to(boot), 5, "the answer to BootNotification")
    assert answer.payload["status"] == "Accepted"
    csms.wait_for(lambda: set(status_notifications(csms, since=answer.index)) >= CONNECTORS, timeout,
                  "StatusNotification for every connector %s" % sorted(CONNECTORS))
    return boot, answer


class Kit:
    """The helpers above, as a fixture (test modules cannot import conftest reliably)."""
    STATION = STATION
    IDENTITY = IDENTITY
    PASSWORD = PASSWORD
    EVSES = EVSES
    CONNECTORS = CONNECTORS
    FAST_BACKOFF = FAST_BACKOFF
    GET_HEARTBEAT_INTERVAL = GET_HEARTBEAT_INTERVAL
    CALLRESULT = CALLRESULT
    CALLERROR = CALLERROR
    dm = staticmethod(dm)
    station_config = staticmethod(station_config)
    get_variable = staticmethod(get_variable)
    assert_responsive = staticmethod(assert_responsive)
    status_notifications = staticmethod(status_notifications)
    wait_booted = staticmethod(wait_booted)


@pytest.fixture(scope="session")
def kit():
    return Kit


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("pki")


@pytest.fixture(scope="session")
def pki_rsa(pki_dir):
    return generate_pki(str(pki_dir / "rsa"), key_type="rsa", identity=IDENTITY)


@pytest.fixture(scope="session")
def pki_ec(pki_dir):
    return generate_pki(str(pki_dir / "ec"), key_type="ec", identity=IDENTITY)


@pytest.fixture(scope="session")
def pki_rsa_ec_client(pki_dir):
    """RSA CA and server, EC P-256 station key."""
    return generate_pki(str(pki_dir / "rsa-ecclient"), key_type="rsa", client_key_type="ec", identity=IDENTITY)


@pytest.fixture(scope="session")
def pki_other(pki_dir):
    """An unrelated CA (wrong-CA tests)."""
    return generate_pki(str(pki_dir / "other"), key_type="rsa", identity=IDENTITY, ca_name="Some Other CA")


@pytest.fixture(scope="session")
def pki_wrong_host(pki_dir):
    """Server certificate valid only for wrong.example (host-name check tests)."""
    return generate_pki(str(pki_dir / "wronghost"), key_type="rsa", identity=IDENTITY, server_hosts=("wrong.example",))


class _Harness:
    def __init__(self):
        self.csms = []
        self.stations = []


@pytest.fixture
def harness(request):
    h = _Harness()
    request.node._fc_harness = h
    return h


@pytest.fixture
def make_csms(harness):
    """make_csms(**Csms kwargs) -> a started Csms on 127.0.0.1, port 0. At teardown: every frame any
    station sent during the test must be schema- and framing-valid."""
    def make(**kw):
        c = Csms(**kw).start()
        harness.csms.append(c)
        return c
    yield make
    for c in harness.csms:
        c.stop()
    for c in harness.csms:
        c.assert_no_violations()


@pytest.fixture
def make_station(harness, tmp_path):
    """make_station(config, state_dir=None) -> a started StationProcess (killed at teardown). At teardown:
    stdout carried JSON event lines only (launcher contract)."""
    count = [0]

    def make(config, state_dir=None):
        if not os.path.exists(STATION):
            pytest.fail("station launcher %s does not exist yet (set FLEXCHARGE_STATION to use another)" % STATION)
        count[0] += 1
        if state_dir is None:
            state_dir = str(tmp_path / ("state%d" % count[0]))
        st = StationProcess(config, state_dir, config_path=str(tmp_path / ("station%d.json" % count[0])),
                            launcher=STATION)
        harness.stations.append(st)
        return st.start()
    yield make
    for st in harness.stations:
        st.kill()
    bad = [line for st in harness.stations for line in st.bad_lines]
    assert not bad, "station stdout must carry only JSON event lines, got: %r" % bad[:10]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    h = getattr(item, "_fc_harness", None)
    if h is None or not report.failed:
        return
    for i, st in enumerate(h.stations):
        report.sections.append(("station %d stderr (tail)" % i, st.stderr_text(6000)))
        report.sections.append(("station %d events" % i, st.output_text()[-4000:]))
    for i, c in enumerate(h.csms):
        report.sections.append(("csms %d log" % i, c.format_log(80)))
