# Security profiles 0-3 (firmware/flexcharge/security/profiles.py) and PEM->DER
# (security/pem.py), plus real TLS loopback connections through our WebSocket client on
# both interpreters (asyncio TLS server in-process).
import asyncio

from support import raises, run, tmpdir

from flexcharge import compat
from flexcharge.comm import websocket
from flexcharge.comm.url import parse_ws_url
from flexcharge.security import profiles
from flexcharge.security.pem import pem_blocks, pem_to_der
from flexcharge.security.profiles import ConfigError, transport

# Test-only material (EC P-256, valid 2024-2099): a CA, a station certificate "CS001" and
# a server certificate for localhost / 127.0.0.1, all signed by the CA.
CA_PEM = """\
-----BEGIN CERTIFICATE-----
MIIBLTCB1KADAgECAgEBMAoGCCqGSM49BAMCMBUxEzARBgNVBAMMCkZDIFRlc3Qg
Q0EwIBcNMjQwMTAxMDAwMDAwWhgPMjA5OTAxMDEwMDAwMDBaMBUxEzARBgNVBAMM
CkZDIFRlc3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARRs1y1VL0McFyj
A6fpLcOo/uojjuAqJtOmyNO9M9m9nNpMTJFmBBHnPSFDwoFw+hffpTBk4MGDd2y5
20J3WEDPoxMwETAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQC/
Ov9APfSTzyt/1/BkQU/F31u37hxgV7H1GzWTb7kMBQIgKbtzvsKY8i8wzTnFwF3S
vpAhOZDutu0GLCPjzs0UYVU=
-----END CERTIFICATE-----
"""

CLIENT_CERT_PEM = """\
-----BEGIN CERTIFICATE-----
MIIBEzCBuqADAgECAgECMAoGCCqGSM49BAMCMBUxEzARBgNVBAMMCkZDIFRlc3Qg
Q0EwIBcNMjQwMTAxMDAwMDAwWhgPMjA5OTAxMDEwMDAwMDBaMBAxDjAMBgNVBAMM
BUNTMDAxMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEOq0uhr6nK3s2PObBLax
LCxvP0FSN9PGV0/6h+et0ouruFO4GdV9KzjkF3KZ+RbcGnWsZluzsizL5J/tBOzr
jzAKBggqhkjOPQQDAgNIADBFAiA8lcEF8W/I1//YhQm1M1IznP3bq4WS2wq5v664
ZRnasQIhAJT6kh2KtzMk0hQnGXg+tZx+iRi402Swn4233odwixId
-----END CERTIFICATE-----
"""

CLIENT_KEY_PEM = """\
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIL3SQi8R5WLJ+kgJeN60uvHfb8cvMO8bCrcCMt7RFCe0oAoGCCqGSM49
AwEHoUQDQgAEEOq0uhr6nK3s2PObBLaxLCxvP0FSN9PGV0/6h+et0ouruFO4GdV9
KzjkF3KZ+RbcGnWsZluzsizL5J/tBOzrjw==
-----END EC PRIVATE KEY-----
"""

SERVER_CERT_PEM = """\
-----BEGIN CERTIFICATE-----
MIIBODCB3qADAgECAgEDMAoGCCqGSM49BAMCMBUxEzARBgNVBAMMCkZDIFRlc3Qg
Q0EwIBcNMjQwMTAxMDAwMDAwWhgPMjA5OTAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNmSg2l94LJofTx9
jK3dx3NSVlgCaUOy8tWq1g12ZEHsE6dXbum/e1twWrNR6X56Ps9fczxFP6j39PLm
etBLriGjHjAcMBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAKBggqhkjOPQQD
AgNJADBGAiEAy3JH8bzWLuc0mnWQqjvm/IxW6vNhSJ/JOqm5JLcbukkCIQDocQdx
64LD/THuib3lco7IALqQ7fBX9fVzAch+CFuJMw==
-----END CERTIFICATE-----
"""

SERVER_KEY_PEM = """\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgo9OH2f/rEoNUXvyV
XKzqPhZPoADL8Ps78XTYsqyHyjqhRANCAATZkoNpfeCyaH08fYyt3cdzUlZYAmlD
svLVqtYNdmRB7BOnV27pv3tbcFqzUel+ej7PX3M8RT+o9/Ty5nrQS64h
-----END PRIVATE KEY-----
"""

PASSWORD = "0123456789abcdef"


def _files(d=None):
    d = d or tmpdir("prof")
    paths = {}
    for name, text in (("ca", CA_PEM), ("cert", CLIENT_CERT_PEM), ("key", CLIENT_KEY_PEM),
                       ("scert", SERVER_CERT_PEM), ("skey", SERVER_KEY_PEM), ("junk", "not a pem\n")):
        p = d + "/" + name + ".pem"
        with open(p, "w") as f:
            f.write(text)
        paths[name] = p
    return paths


def _der_len(der):
    # Total length from the outer ASN.1 SEQUENCE header must match the bytes we got.
    assert der[0] == 0x30
    n = der[1]
    if n < 0x80:
        return 2 + n
    k = n & 0x7F
    return 2 + k + int.from_bytes(der[2:2 + k], "big")


# -- PEM ----------------------------------------------------------------------------------
def test_pem_to_der_blocks_and_labels():
    both = CA_PEM + "\n" + CLIENT_CERT_PEM + CLIENT_KEY_PEM
    ders = pem_to_der(both)
    assert len(ders) == 3
    for d in ders:
        assert _der_len(d) == len(d)
    assert pem_to_der(both, "CERTIFICATE") == ders[:2]
    assert pem_to_der(both, "PRIVATE KEY") == ders[2:]
    assert pem_to_der(SERVER_KEY_PEM, "PRIVATE KEY")[0][0] == 0x30  # PKCS#8 label
    assert pem_to_der(both.encode()) == ders
    assert pem_to_der(CA_PEM.replace("\n", "\r\n")) == ders[:1]
    assert [lab for lab, der in pem_blocks(both)] == ["CERTIFICATE", "CERTIFICATE", "EC PRIVATE KEY"]


def test_pem_errors():
    for bad in ("", "hello", CA_PEM.replace("-----END CERTIFICATE-----", ""),
                CA_PEM.replace("END CERTIFICATE", "END X509 CRL"),
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----\n",
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
                b"\xff\xfe"):
        with raises(ValueError):
            pem_to_der(bad)
    with raises(ValueError):
        pem_to_der(CA_PEM, "PRIVATE KEY")


# -- profile rules --------------------------------------------------------------------------
def test_profile_0():
    assert transport(0, "ws://csms.example.com/ocpp/CS001", "CS001") == (None, None, ())
    assert transport(0, "ws://h/ocpp/CS001", "CS001", PASSWORD) == (None, None, ())  # no auth header
    with raises(ConfigError):
        transport(0, "wss://h/ocpp/CS001", "CS001")


def test_profile_1_basic_auth():
    ctx, host, headers = transport(1, "ws://h:9000/ocpp/CS001", "CS001", PASSWORD)
    assert ctx is None and host is None
    assert headers == (("Authorization", "Basic Q1MwMDE6MDEyMzQ1Njc4OWFiY2RlZg=="),)
    # Every kind of passwordString character (30 characters).
    h = transport(1, "ws://h/", "CS-7", "AZaz09*-_=:+|@.AZaz09*-_=:+|@.")[2]
    assert h[0][1] == "Basic Q1MtNzpBWmF6MDkqLV89Oit8QC5BWmF6MDkqLV89Oit8QC4="
    assert transport(1, "ws://h/", "CS001", "a" * 64)[2][0][0] == "Authorization"
    for bad_pw in (None, "", "a" * 15, "a" * 65, "0123456789abcde#", "0123456789abcdef ", "0123456789abcd\u00e9f"):
        with raises(ConfigError):
            transport(1, "ws://h/", "CS001", bad_pw)
    for bad_id in ("", "CS:001", "CS 001", "x" * 49, None):
        with raises(ConfigError):
            transport(1, "ws://h/", bad_id, PASSWORD)
    with raises(ConfigError):
        transport(1, "wss://h/", "CS001", PASSWORD)


def test_password_rules_cited():
    profiles.check_basic_auth_password("a" * 16)
    profiles.check_basic_auth_password("a" * 40)
    with raises(ConfigError) as r:
        profiles.check_basic_auth_password("a" * 15)
    assert "A00.FR.205" in str(r.value)


def test_profile_2_context_and_host():
    p = _files()
    for url, host in (("wss://csms.example.com/ocpp/CS001", "csms.example.com"),
                      ("wss://127.0.0.1:8443/ocpp/CS001", "127.0.0.1"),
                      ("wss://[::1]:8443/ocpp/CS001", "::1")):
        ctx, h, headers = transport(2, url, "CS001", PASSWORD, p["ca"])
        assert ctx is not None
        assert h == host == parse_ws_url(url)[1]
        assert headers == (("Authorization", "Basic Q1MwMDE6MDEyMzQ1Njc4OWFiY2RlZg=="),)
    assert ctx.verify_mode == compat.ssl_module().CERT_REQUIRED
    # Several CAs in one file are all loaded.
    d = tmpdir("ca2")
    with open(d + "/cas.pem", "w") as f:
        f.write(CA_PEM + SERVER_CERT_PEM)
    assert transport(2, "wss://h/", "CS001", PASSWORD, d + "/cas.pem")[0] is not None


def test_profile_2_errors():
    p = _files()
    cases = (
        ("ws://h/ocpp/CS001", PASSWORD, p["ca"]),  # never plain ws for profile 2
        ("wss://h/ocpp/CS001", None, p["ca"]),
        ("wss://h/ocpp/CS001", PASSWORD, None),
        ("wss://h/ocpp/CS001", PASSWORD, "/nonexistent/ca.pem"),
        ("wss://h/ocpp/CS001", PASSWORD, p["junk"]),
        ("wss://h/ocpp/CS001", PASSWORD, p["key"]),  # a key is no CA certificate
    )
    for url, pw, ca in cases:
        with raises(ConfigError) as r:
            transport(2, url, "CS001", pw, ca)
        assert str(r.value)


def test_profile_3_mutual_tls():
    p = _files()
    ctx, host, headers = transport(3, "wss://127.0.0.1:1/ocpp/CS001", "CS001", PASSWORD, p["ca"], p["cert"], p["key"])
    assert ctx is not None and host == "127.0.0.1"
    assert headers == ()  # no Basic auth with client certificates
    for args in ((p["ca"], None, p["key"]), (p["ca"], p["cert"], None), (None, p["cert"], p["key"]),
                 (p["ca"], p["junk"], p["key"]), (p["ca"], p["cert"], p["cert"]), (p["ca"], p["key"], p["key"])):
        with raises(ConfigError):
            transport(3, "wss://h/", "CS001", None, *args)
    with raises(ConfigError):
        transport(3, "ws://h/", "CS001", None, p["ca"], p["cert"], p["key"])


def test_bad_profiles_and_urls():
    for prof in (4, -1, "2", None, True, 2.0):
        with raises(ConfigError):
            transport(prof, "ws://h/", "CS001", PASSWORD)
    for url in ("http://h/", "h/x", "", None, "wss:///x"):
        with raises(ConfigError):
            transport(0, url, "CS001")
    assert issubclass(ConfigError, ValueError)


def test_host_extraction_agrees_with_url_parser():
    for url in ("ws://a.b/c", "wss://A.example:444/x?y", "ws://10.0.0.1", "wss://[fe80::1]:9/p",
                "ws://h?q", "wss://[::1]"):
        assert profiles._scheme_host(url) == parse_ws_url(url)[:2]


# -- real TLS on this interpreter -------------------------------------------------------------
def _server_ctx(p, require_client_cert=False):
    ssl = compat.ssl_module()  # frozen builds have no micropython-lib ssl wrapper
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    compat.ssl_load_cert_chain(ctx, p["scert"], p["skey"], pem_to_der(SERVER_CERT_PEM)[0],
                               pem_to_der(SERVER_KEY_PEM)[0])
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ca = pem_to_der(CA_PEM)[0]
        if compat.IS_MICROPYTHON:
            ctx.load_verify_locations(ca)
        else:
            ctx.load_verify_locations(cadata=ca)
    return ctx


def _tls_session(profile, p, require_client_cert=False, server_hostname=None):
    from test_websocket import expect_close, handshake, read_cframe, sframe, start, stop

    async def handler(reader, writer, log):
        await handshake(reader, writer, log)
        fin, op, data, key = await read_cframe(reader)
        writer.write(sframe(1, data))
        await writer.drain()
        await expect_close(reader, log)
        writer.write(sframe(8, b"\x03\xe8"))
        await writer.drain()

    async def main():
        srv, port, log = await start(handler, _server_ctx(p, require_client_cert))
        url = "wss://127.0.0.1:%d/ocpp/CS001" % port
        ctx, host, headers = transport(profile, url, "CS001", PASSWORD, p["ca"], p["cert"], p["key"])
        try:
            ws = await websocket.connect(url, ("ocpp2.0.1",), headers, ssl=ctx,
                                         server_hostname=server_hostname or host, timeout_ms=5000)
            await ws.send("over tls")
            got = await ws.recv()
            await ws.close()
            return got, log
        finally:
            await stop(srv)

    return run(asyncio.wait_for(main(), 20))


def test_tls_profile_2_loopback():
    p = _files()
    got, log = _tls_session(2, p)
    assert got == "over tls"
    assert log["request"][1]["authorization"] == "Basic Q1MwMDE6MDEyMzQ1Njc4OWFiY2RlZg=="
    assert log["close"] == (1000, "")


def test_tls_wrong_host_name_fails():
    p = _files()
    with raises(websocket.TLSError):
        _tls_session(2, p, server_hostname="csms.example.com")


def test_tls_profile_3_loopback():
    p = _files()
    got, log = _tls_session(3, p, require_client_cert=True)
    assert got == "over tls"
    assert "authorization" not in log["request"][1]


def test_tls_client_certificate_required():
    p = _files()
    with raises(Exception) as r:
        _tls_session(2, p, require_client_cert=True)
    assert isinstance(r.value, (websocket.WebSocketError, OSError)), repr(r.value)
