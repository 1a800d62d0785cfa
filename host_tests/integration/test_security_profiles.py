# Security profiles 1-3 (Part 4 §2): Basic auth over ws, Basic auth over TLS, mutual TLS.
import time

import pytest


def _booted_over(csms, kit, st):
    boot, answer = kit.wait_booted(csms, st)
    conn = csms.connections[boot.conn]
    assert conn.accepted
    return conn


def test_profile1_basic_auth_accepted(make_csms, make_station, kit):
    csms = make_csms(basic_auth={kit.IDENTITY: kit.PASSWORD})
    st = make_station(kit.station_config(csms.url, security_profile=1, basic_auth_password=kit.PASSWORD))
    conn = _booted_over(csms, kit, st)
    assert conn.auth_user == kit.IDENTITY  # username = identity
    assert all(c.accepted for c in csms.connections), csms.connections


def test_profile1_wrong_password_rejected_and_retried(make_csms, make_station, kit):
    csms = make_csms(basic_auth={kit.IDENTITY: kit.PASSWORD})
    st = make_station(kit.station_config(csms.url, security_profile=1,
                                         basic_auth_password="not-the-right-password-42"))
    csms.wait_for(lambda: len(csms.connections) >= 2, 12, "a second connection attempt after HTTP 401")
    assert all(c.status == 401 and not c.accepted for c in csms.connections), csms.connections
    assert csms.connections[0].auth_user == kit.IDENTITY  # it did send credentials, just the wrong ones
    assert csms.frames == []
    assert st.alive()
    assert st.named("connected") == []


def _tls_csms(make_csms, pki, host, **kw):
    return make_csms(certfile=pki["server_cert"], keyfile=pki["server_key"], url_host=host, **kw)


@pytest.mark.parametrize("pki_name,host", [("pki_rsa", "localhost"), ("pki_ec", "127.0.0.1")])
def test_profile2_tls_basic_auth(make_csms, make_station, kit, request, pki_name, host):
    pki = request.getfixturevalue(pki_name)
    csms = _tls_csms(make_csms, pki, host, basic_auth={kit.IDENTITY: kit.PASSWORD})
    assert csms.url.startswith("wss://%s:" % host)
    st = make_station(kit.station_config(csms.url, security_profile=2, basic_auth_password=kit.PASSWORD,
                                         tls={"ca": pki["ca"]}))
    conn = _booted_over(csms, kit, st)
    assert conn.auth_user == kit.IDENTITY
    assert csms.tls_hellos, "no TLS ClientHello recorded"


@pytest.mark.parametrize("pki_name", ["pki_rsa", "pki_rsa_ec_client", "pki_ec"])
def test_profile3_mutual_tls(make_csms, make_station, kit, request, pki_name):
    pki = request.getfixturevalue(pki_name)
    csms = _tls_csms(make_csms, pki, "127.0.0.1", client_ca=pki["ca"])
    st = make_station(kit.station_config(csms.url, security_profile=3, tls={
        "ca": pki["ca"], "cert": pki["client_cert"], "key": pki["client_key"]}))
    conn = _booted_over(csms, kit, st)
    assert conn.client_cn == kit.IDENTITY  # the CSMS verified the client certificate
    assert conn.authorization is None  # profile 3 authenticates by certificate only


def _assert_never_connects(csms, st):
    # Two TLS handshakes attempted (so it retried), yet no HTTP upgrade request ever got through.
    csms.wait_for(lambda: len(csms.tls_hellos) >= 2, 12, "two TLS handshake attempts")
    time.sleep(0.5)
    assert csms.connections == [], "TLS must fail before the HTTP upgrade: %r" % csms.connections
    assert csms.frames == []
    assert st.alive()
    assert st.named("connected") == []


@pytest.mark.parametrize("profile", [2, 3])
def test_tls_wrong_ca_no_connection(make_csms, make_station, kit, pki_rsa, pki_other, profile):
    tls = {"ca": pki_other["ca"]}  # trusts some other CA only
    if profile == 3:
        csms = _tls_csms(make_csms, pki_rsa, "127.0.0.1", client_ca=pki_rsa["ca"])
        tls.update(cert=pki_rsa["client_cert"], key=pki_rsa["client_key"])
        cfg = kit.station_config(csms.url, security_profile=3, tls=tls)
    else:
        csms = _tls_csms(make_csms, pki_rsa, "127.0.0.1", basic_auth={kit.IDENTITY: kit.PASSWORD})
        cfg = kit.station_config(csms.url, security_profile=2, basic_auth_password=kit.PASSWORD, tls=tls)
    st = make_station(cfg)
    _assert_never_connects(csms, st)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tls_wrong_host_name_no_connection(make_csms, make_station, kit, pki_wrong_host, host):
    # The certificate chains to the trusted CA but names wrong.example only.
    csms = _tls_csms(make_csms, pki_wrong_host, host, basic_auth={kit.IDENTITY: kit.PASSWORD})
    st = make_station(kit.station_config(csms.url, security_profile=2, basic_auth_password=kit.PASSWORD,
                                         tls={"ca": pki_wrong_host["ca"]}))
    _assert_never_connects(csms, st)
