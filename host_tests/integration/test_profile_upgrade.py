# Issue 10, A05 Upgrade Charging Station Security Profile (core/blocks/b_provisioning/network.py with
# the certificate store) against the `ocpp` CSMS over real TLS: 1 -> 2 -> 3 with Reset between
# (TC_A_19_CS), a refused downgrade (TC_A_22_CS), no CSMS root (TC_A_20_CS), no client certificate
# (TC_A_21_CS).
import os

CALLRESULT = 3


def profile(url, sp):
    return {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url, "messageTimeout": 30,
            "securityProfile": sp, "ocppInterface": "Wired0"}


def set_network_profile(csms, slot, data):
    r = csms.call("SetNetworkProfile", {"configurationSlot": slot, "connectionData": data})
    assert r.kind == CALLRESULT, r
    return r.payload["status"]


def set_priority(csms, value):
    r = csms.call("SetVariables", {"setVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                  "variable": {"name": "NetworkConfigurationPriority"}, "attributeValue": value}]})
    assert r.kind == CALLRESULT, r
    return r.payload["setVariableResult"][0]["attributeStatus"]


def reset(csms):
    r = csms.call("Reset", {"type": "OnIdle"})
    assert r.kind == CALLRESULT and r.payload["status"] == "Accepted", r


def value(kit, csms, comp, var):
    return kit.get_variable(csms, comp, var)["attributeValue"]


def seclog(st):
    with open(os.path.join(st.state_dir, "seclog.0")) as f:
        return f.read()


def test_upgrade_1_to_2_to_3_with_reset_and_no_downgrade(make_csms, make_station, kit, pki_rsa):
    auth = {kit.IDENTITY: kit.PASSWORD}
    tls = dict(certfile=pki_rsa["server_cert"], keyfile=pki_rsa["server_key"], url_host="127.0.0.1",
               heartbeat_interval=600)
    csms1 = make_csms(basic_auth=auth, heartbeat_interval=600)
    csms2 = make_csms(basic_auth=auth, **tls)
    csms3 = make_csms(client_ca=pki_rsa["ca"], **tls)
    st = make_station(kit.station_config(csms1.url, security_profile=1, basic_auth_password=kit.PASSWORD, tls={
        "ca": pki_rsa["ca"], "cert": pki_rsa["client_cert"], "key": pki_rsa["client_key"]}))
    kit.wait_booted(csms1, st)
    assert value(kit, csms1, "SecurityCtrlr", "SecurityProfile") == "1"

    # 1 -> 2 (TC_A_19_CS from profile 1)
    assert set_network_profile(csms1, 2, profile(csms2.url, 2)) == "Accepted"
    assert set_priority(csms1, "2,1") == "RebootRequired"
    reset(csms1)
    boot, _ = kit.wait_booted(csms2, st, timeout=20)
    conn = csms2.connections[boot.conn]
    assert conn.auth_user == kit.IDENTITY and csms2.tls_hellos
    assert value(kit, csms2, "SecurityCtrlr", "SecurityProfile") == "2"
    assert value(kit, csms2, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "2"  # step 13: slot 1 gone
    # ReconfigurationOfSecurityParameters is not critical (security_events.csv): security log only.
    assert "ReconfigurationOfSecurityParameters security profile 1 -> 2" in seclog(st)

    # TC_A_22_CS: back to profile 1 is refused (B09.FR.04), in any free slot
    assert set_network_profile(csms2, 1, profile(csms1.url, 1)) == "Rejected"
    assert set_network_profile(csms2, 3, profile(csms1.url, 1)) == "Rejected"

    # 2 -> 3 (TC_A_19_CS from profile 2): mutual TLS with the client certificate of the store
    assert set_network_profile(csms2, 3, profile(csms3.url, 3)) == "Accepted"
    assert set_priority(csms2, "3,2") == "RebootRequired"
    reset(csms2)
    boot, _ = kit.wait_booted(csms3, st, timeout=20)
    conn = csms3.connections[boot.conn]
    assert conn.client_cn == kit.IDENTITY and conn.authorization is None
    assert value(kit, csms3, "SecurityCtrlr", "SecurityProfile") == "3"
    assert value(kit, csms3, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "3"
    # and 2 is now a downgrade too
    assert set_network_profile(csms3, 2, profile(csms2.url, 2)) == "Rejected"
    assert "ReconfigurationOfSecurityParameters security profile 2 -> 3" in seclog(st)


def test_no_csms_root_no_upgrade(make_csms, make_station, kit):
    # TC_A_20_CS (A05.FR.02): the profile is stored, but it cannot become first in the priority list.
    csms = make_csms(basic_auth={kit.IDENTITY: kit.PASSWORD}, heartbeat_interval=600)
    st = make_station(kit.station_config(csms.url, security_profile=1, basic_auth_password=kit.PASSWORD))
    kit.wait_booted(csms, st)
    assert set_network_profile(csms, 2, profile("wss://127.0.0.1:1/ocpp", 2)) == "Accepted"
    assert set_priority(csms, "2,1") == "Rejected"
    assert value(kit, csms, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "1"


def test_no_client_certificate_no_profile_3(make_csms, make_station, kit, pki_rsa):
    # TC_A_21_CS (A05.FR.03): a CSMS root, but no ChargingStationCertificate.
    csms = make_csms(basic_auth={kit.IDENTITY: kit.PASSWORD}, heartbeat_interval=600)
    st = make_station(kit.station_config(csms.url, security_profile=1, basic_auth_password=kit.PASSWORD,
                                         tls={"ca": pki_rsa["ca"]}))
    kit.wait_booted(csms, st)
    assert set_network_profile(csms, 2, profile("wss://127.0.0.1:1/ocpp", 3)) == "Accepted"
    assert set_priority(csms, "2,1") == "Rejected"
    assert set_network_profile(csms, 3, profile("wss://127.0.0.1:1/ocpp", 2)) == "Accepted"
    assert set_priority(csms, "3,1") == "RebootRequired"  # profile 2 has what it needs
