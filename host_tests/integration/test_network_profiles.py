# Issue 10, B09/B10 network connection profiles (core/blocks/b_provisioning/network.py) against two
# `ocpp` CSMS instances: migrate to a new CSMS, fall back when the new one is unreachable, TC_B_43_CS.
import socket

CALLRESULT = 3


def profile(url, sp=1, timeout=30):
    return {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url, "messageTimeout": timeout,
            "securityProfile": sp, "ocppInterface": "Wired0"}


def set_network_profile(csms, slot, data):
    r = csms.call("SetNetworkProfile", {"configurationSlot": slot, "connectionData": data})
    assert r.kind == CALLRESULT, r
    return r.payload


def set_var(csms, comp, var, value):
    r = csms.call("SetVariables", {"setVariableData": [{"component": {"name": comp}, "variable": {"name": var},
                                                         "attributeValue": value}]})
    assert r.kind == CALLRESULT, r
    return r.payload["setVariableResult"][0]


def reset(csms):
    r = csms.call("Reset", {"type": "OnIdle"})
    assert r.kind == CALLRESULT and r.payload["status"] == "Accepted", r


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def booted(make_csms, make_station, kit, extra_dm=()):
    csms1 = make_csms(basic_auth={kit.IDENTITY: kit.PASSWORD}, heartbeat_interval=600)
    st = make_station(kit.station_config(csms1.url, security_profile=1, basic_auth_password=kit.PASSWORD,
                                         device_model=list(extra_dm)))
    kit.wait_booted(csms1, st)
    return csms1, st


def test_b43_invalid_profiles_rejected(make_csms, make_station, kit):
    # TC_B_43_CS (B09.FR.02): slot 999; and what this station cannot use.
    csms, st = booted(make_csms, make_station, kit)
    assert set_network_profile(csms, 999, profile(csms.url))["status"] == "Rejected"
    bad = (
        dict(profile(csms.url), ocppVersion="OCPP16"),
        dict(profile(csms.url), ocppTransport="SOAP"),
        dict(profile("wss://127.0.0.1:1/ocpp", sp=1)),  # profile 1 is ws://
        dict(profile("ws://127.0.0.1:1/ocpp", sp=2)),  # profile 2 is wss://
        dict(profile(csms.url, sp=0)),  # TC_A_22_CS: lower than the active profile 1 (B09.FR.04)
        dict(profile(csms.url), vpn={"server": "x", "user": "u", "password": "p", "key": "k", "type": "IPSec"}),
    )
    for data in bad:
        assert set_network_profile(csms, 2, data)["status"] == "Rejected", data
    # the slot in use cannot be overwritten (no known-good profile would be left)
    assert set_network_profile(csms, 1, profile(csms.url))["status"] == "Rejected"
    # a priority naming an empty or unknown slot is refused
    assert set_var(csms, "OCPPCommCtrlr", "NetworkConfigurationPriority", "2,1")["attributeStatus"] == "Rejected"
    assert set_var(csms, "OCPPCommCtrlr", "NetworkConfigurationPriority", "1,7")["attributeStatus"] == "Rejected"
    assert kit.get_variable(csms, "OCPPCommCtrlr", "NetworkConfigurationPriority")["attributeValue"] == "1"
    kit.assert_responsive(csms, st)


def test_migrate_to_a_new_csms(make_csms, make_station, kit):
    # TC_B_45_CS (B09.FR.01, B10.FR.01/04/06): slot 2 = a second CSMS, priority 2,1, Reset -> it connects there.
    csms1, st = booted(make_csms, make_station, kit)
    csms2 = make_csms(basic_auth={kit.IDENTITY: kit.PASSWORD}, heartbeat_interval=600)
    assert set_network_profile(csms1, 2, profile(csms2.url))["status"] == "Accepted"
    res = set_var(csms1, "OCPPCommCtrlr", "NetworkConfigurationPriority", "2,1")
    assert res["attributeStatus"] == "RebootRequired"
    reset(csms1)
    kit.wait_booted(csms2, st, timeout=20)
    assert kit.get_variable(csms2, "OCPPCommCtrlr", "ActiveNetworkProfile")["attributeValue"] == "2"
    assert kit.get_variable(csms2, "OCPPCommCtrlr", "NetworkConfigurationPriority")["attributeValue"] == "2,1"
    # the profile is persisted: a power loss and a new start connect to the new CSMS again
    n = len(csms2.calls("BootNotification"))
    st.kill()
    st.start()
    csms2.wait_call("BootNotification", count=n + 1, timeout=20)


def test_fallback_when_the_new_csms_is_unreachable(make_csms, make_station, kit):
    # TC_B_46_CS / TC_B_49_CS (B10.FR.03/04/07): NetworkProfileConnectionAttempts failed attempts on
    # slot 2 (nothing listens there), then the station falls back to slot 1.
    attempts = kit.dm("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", 2)
    csms1, st = booted(make_csms, make_station, kit, [attempts])
    dead = "ws://127.0.0.1:%d/ocpp" % free_port()
    assert set_network_profile(csms1, 2, profile(dead))["status"] == "Accepted"
    assert set_var(csms1, "OCPPCommCtrlr", "NetworkConfigurationPriority", "2,1")["attributeStatus"] == "RebootRequired"
    mark = st.mark()
    n = len(csms1.calls("BootNotification"))
    reset(csms1)
    csms1.wait_call("BootNotification", count=n + 1, timeout=30)
    failed = st.named("connect_failed", since=mark)
    assert len(failed) == 2, failed  # exactly NetworkProfileConnectionAttempts on slot 2
    kit.assert_responsive(csms1, st)
    assert kit.get_variable(csms1, "OCPPCommCtrlr", "ActiveNetworkProfile")["attributeValue"] == "1"


def test_fallback_when_the_new_csms_refuses(make_csms, make_station, kit):
    # TC_B_49_CS: the new CSMS answers but refuses the connection (HTTP 503): same fallback.
    attempts = kit.dm("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", 1)
    csms1, st = booted(make_csms, make_station, kit, [attempts])
    csms2 = make_csms(basic_auth={kit.IDENTITY: kit.PASSWORD})
    csms2.refuse(None)
    assert set_network_profile(csms1, 3, profile(csms2.url))["status"] == "Accepted"
    assert set_var(csms1, "OCPPCommCtrlr", "NetworkConfigurationPriority", "3,1")["attributeStatus"] == "RebootRequired"
    n = len(csms1.calls("BootNotification"))
    reset(csms1)
    csms1.wait_call("BootNotification", count=n + 1, timeout=30)
    assert [c.outcome for c in csms2.connections] == ["refused"]
    kit.assert_responsive(csms1, st)
