# Issue 10, A04 Security Event Notification (core/blocks/a_security/events.py): the real station
# against the `ocpp` CSMS. Critical events (appendices security_events.csv) are sent as
# SecurityEventNotification, persisted and delivered in order after a reconnect or a power loss;
# every event goes to the security log (<state>/seclog.0).
import datetime
import os
import time

CALLRESULT = 3


def sen(csms, since=0):
    return [(f.payload["type"], f.payload.get("techInfo")) for f in csms.calls("SecurityEventNotification", since=since)]


def test_startup_and_reset_are_reported(make_csms, make_station, kit):
    csms = make_csms(heartbeat_interval=600)
    st = make_station(kit.station_config(csms.url))
    kit.wait_booted(csms, st)
    csms.wait_for(lambda: sen(csms), 10, "SecurityEventNotification")
    assert sen(csms) == [("StartupOfTheDevice", "boot reason PowerUp")]
    m = csms.mark()
    r = csms.call("Reset", {"type": "Immediate"})
    assert r.kind == CALLRESULT and r.payload["status"] == "Accepted"
    csms.wait_for(lambda: len(sen(csms, m)) >= 2, 20, "two events after the reset")
    assert sen(csms, m) == [("StartupOfTheDevice", "boot reason RemoteReset"), ("ResetOrReboot", "RemoteReset")]
    with open(os.path.join(st.state_dir, "seclog.0")) as f:
        log = f.read()
    assert log.count("StartupOfTheDevice") == 2 and "ResetOrReboot RemoteReset" in log


def test_invalid_csms_certificate_is_kept_until_a_connection_succeeds(make_csms, make_station, kit, pki_rsa,
                                                                        pki_other, tmp_path):
    csms = make_csms(certfile=pki_rsa["server_cert"], keyfile=pki_rsa["server_key"], url_host="127.0.0.1",
                     basic_auth={kit.IDENTITY: kit.PASSWORD}, heartbeat_interval=600)
    state = str(tmp_path / "cs")
    bad = kit.station_config(csms.url, security_profile=2, basic_auth_password=kit.PASSWORD, tls={"ca": pki_other["ca"]})
    st = make_station(bad, state_dir=state)
    csms.wait_for(lambda: len(csms.tls_hellos) >= 3, 15, "three TLS attempts")
    assert csms.frames == []
    st.kill()  # a power loss, with the events queued on flash
    names = sorted(os.listdir(state))
    assert len([n for n in names if n.startswith("se.")]) == 2, names
    # The installer fixes the CA: the queued events go out, in the order they happened.
    good = dict(bad, tls={"ca": pki_rsa["ca"]})
    make_station(good, state_dir=state)
    kit.wait_booted(csms)
    csms.wait_for(lambda: len(sen(csms)) >= 3, 15, "three SecurityEventNotifications")
    got = sen(csms)
    assert [t for t, _ in got] == ["StartupOfTheDevice", "InvalidCsmsCertificate", "StartupOfTheDevice"], got
    assert "X509" in got[1][1] or "ertificate" in got[1][1] or "VERIFY" in got[1][1].upper(), got[1]
    time.sleep(1)
    assert len(sen(csms)) == 3  # one InvalidCsmsCertificate for all the retries, each event once


def test_setting_system_time_beyond_the_threshold(make_csms, make_station, kit):
    csms = make_csms(heartbeat_interval=600)
    later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
    csms.responders["Heartbeat"] = lambda p, s: {"currentTime": later}
    st = make_station(kit.station_config(csms.url))
    kit.wait_booted(csms, st)
    m = csms.mark()
    r = csms.call("TriggerMessage", {"requestedMessage": "Heartbeat"})
    assert r.payload["status"] == "Accepted"
    csms.wait_for(lambda: [e for e in sen(csms, m) if e[0] == "SettingSystemTime"], 10, "SettingSystemTime")
    e = [x for x in sen(csms, m) if x[0] == "SettingSystemTime"][0]
    assert "Heartbeat" in e[1] and "3599" in e[1] or "3600" in e[1], e
