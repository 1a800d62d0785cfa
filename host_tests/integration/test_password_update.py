# Issue 10, A01 Update Charging Station Password for HTTP Basic Authentication
# (core/blocks/a_security/password.py), security profile 1 against the `ocpp` CSMS.
import os
import time

CALLRESULT = 3
NEW = "new-password-0123456789"


def set_password(csms, value):
    r = csms.call("SetVariables", {"setVariableData": [{"component": {"name": "SecurityCtrlr"},
                  "variable": {"name": "BasicAuthPassword"}, "attributeValue": value}]})
    assert r.kind == CALLRESULT, r
    return r.payload["setVariableResult"][0]


def booted_profile1(make_csms, make_station, kit):
    csms = make_csms(basic_auth={kit.IDENTITY: kit.PASSWORD}, heartbeat_interval=600)
    st = make_station(kit.station_config(csms.url, security_profile=1, basic_auth_password=kit.PASSWORD))
    kit.wait_booted(csms, st)
    return csms, st


def test_new_password_accepted_and_used_at_once(make_csms, make_station, kit):
    # TC_A_09_CS: Accepted, then the next HTTP upgrade carries identity:<new password> (A01.FR.01).
    csms, st = booted_profile1(make_csms, make_station, kit)
    csms.basic_auth = {kit.IDENTITY: NEW}  # the CSMS stored the new password with its request
    n = len(csms.connections)
    assert set_password(csms, NEW)["attributeStatus"] == "Accepted"
    csms.wait_for(lambda: len(csms.connections) > n and csms.connections[-1].accepted, 10,
                  "a connection with the new password")
    first_close = csms.connections[n - 1]
    assert first_close.close_code == 1000, first_close  # the station closed it, cleanly
    assert csms.connections[-1].status == 101
    kit.assert_responsive(csms, st)
    # Not a new boot (B04: a reconnect sends no BootNotification), and A01.FR.11/12: logged, not disclosed.
    assert len(csms.calls("BootNotification")) == 1
    with open(os.path.join(st.state_dir, "seclog.0")) as f:
        log = f.read()
    assert "ReconfigurationOfSecurityParameters BasicAuthPassword changed" in log
    assert NEW not in log and NEW not in st.stderr_text(100000)
    # Write-only: GetVariables never discloses it.
    r = csms.call("GetVariables", {"getVariableData": [{"component": {"name": "SecurityCtrlr"},
                                                        "variable": {"name": "BasicAuthPassword"}}]})
    assert r.payload["getVariableResult"][0]["attributeStatus"] == "Rejected"


def test_invalid_password_rejected_old_one_kept(make_csms, make_station, kit):
    # TC_A_10_CS: shorter than 16 characters -> Rejected; and a character outside passwordString.
    csms, st = booted_profile1(make_csms, make_station, kit)
    n = len(csms.connections)
    assert set_password(csms, "short-pw")["attributeStatus"] == "Rejected"
    res = set_password(csms, "has a space in it 0123456")
    assert res["attributeStatus"] == "Rejected" and res["attributeStatusInfo"]["reasonCode"] == "InvalidValue"
    time.sleep(1.5)
    assert len(csms.connections) == n  # nothing changed: no reconnect
    kit.assert_responsive(csms, st)
    csms.drop("tcp")  # the next connection still uses the configured password
    csms.wait_for(lambda: len(csms.connections) > n and csms.connections[-1].accepted, 15, "reconnect")
    assert csms.connections[-1].status == 101


def test_new_password_refused_by_the_csms_falls_back_to_the_old_one(make_csms, make_station, kit):
    # The CSMS answered Accepted but did not store the new password: the handshake with it gets
    # HTTP 401. The station goes back to the password that worked instead of locking itself out.
    csms, st = booted_profile1(make_csms, make_station, kit)
    n = len(csms.connections)
    assert set_password(csms, NEW)["attributeStatus"] == "Accepted"
    csms.wait_for(lambda: [c for c in csms.connections[n:] if c.status == 401], 10, "the refused attempt")
    csms.wait_for(lambda: csms.connections[-1].accepted and len(csms.connections) > n + 1, 15,
                  "a connection with the old password")
    kit.assert_responsive(csms, st)
    with open(os.path.join(st.state_dir, "seclog.0")) as f:
        log = f.read()
    assert "FailedToAuthenticateAtCsms new BasicAuthPassword refused" in log
    # and it stays on the old one: a later drop reconnects at once with it
    m = len(csms.connections)
    csms.drop("tcp")
    csms.wait_for(lambda: len(csms.connections) > m and csms.connections[-1].accepted, 15, "reconnect")
    assert all(c.status == 101 for c in csms.connections[m:])
