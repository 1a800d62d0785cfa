# Issue 10, M03/M04/M05 (core/blocks/m_certificates/certificates.py over security/certstore.py) against
# the `ocpp` CSMS over real TLS (security profile 2). Hash data is checked against `cryptography`.
import datetime
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pki import generate_successor_root

CALLRESULT = 3


def pem(path):
    with open(path) as f:
        return f.read()


def expected_hash(cert_path, issuer_path=None):
    c = x509.load_pem_x509_certificate(pem(cert_path).encode())
    i = x509.load_pem_x509_certificate(pem(issuer_path or cert_path).encode())
    key_bits = i.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint) \
        if isinstance(i.public_key(), ec.EllipticCurvePublicKey) else None
    if key_bits is None:
        # RSA: the subjectPublicKey BIT STRING content is the RSAPublicKey DER (PKCS#1)
        key_bits = i.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return {"hashAlgorithm": "SHA256",
            "issuerNameHash": hashlib.sha256(c.issuer.public_bytes()).hexdigest(),
            "issuerKeyHash": hashlib.sha256(key_bits).hexdigest(),
            "serialNumber": "%x" % c.serial_number}


def same(a, b):
    return all(str(a[k]).lower().lstrip("0") == str(b[k]).lower().lstrip("0") for k in
               ("hashAlgorithm", "issuerNameHash", "issuerKeyHash", "serialNumber"))


def installed(csms, types=None):
    p = {} if types is None else {"certificateType": types}
    r = csms.call("GetInstalledCertificateIds", p)
    assert r.kind == CALLRESULT, r
    return r.payload


def install(csms, kind, text):
    r = csms.call("InstallCertificate", {"certificateType": kind, "certificate": text})
    assert r.kind == CALLRESULT, r
    return r.payload


def delete(csms, hd):
    r = csms.call("DeleteCertificate", {"certificateHashData": hd})
    assert r.kind == CALLRESULT, r
    return r.payload["status"]


def ca_pem(tmp_path, name, days_from=-10, days_to=-1):
    key = ec.generate_private_key(ec.SECP256R1())
    subj = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subj).issuer_name(subj).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now + datetime.timedelta(days=days_from))
            .not_valid_after(now + datetime.timedelta(days=days_to))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def tls_csms(make_csms, kit, pki, **kw):
    return make_csms(certfile=pki["server_cert"], keyfile=pki["server_key"], url_host="127.0.0.1",
                     basic_auth={kit.IDENTITY: kit.PASSWORD}, heartbeat_interval=600, **kw)


def station(make_station, kit, csms, pki, extra_tls=None, device_model=(), state_dir=None):
    tls = {"ca": pki["ca"], "cert": pki["client_cert"], "key": pki["client_key"]}
    tls.update(extra_tls or {})
    return make_station(kit.station_config(csms.url, security_profile=2, basic_auth_password=kit.PASSWORD,
                                           tls=tls, device_model=list(device_model)), state_dir=state_dir)


def entries(kit, csms):
    return int(kit.get_variable(csms, "SecurityCtrlr", "CertificateEntries")["attributeValue"])


def test_retrieve_install_delete(make_csms, make_station, kit, pki_rsa, pki_ec, pki_other, tmp_path):
    csms = tls_csms(make_csms, kit, pki_rsa)
    st = station(make_station, kit, csms, pki_rsa, {"manufacturer_ca": pki_ec["ca"]})
    kit.wait_booted(csms, st)
    # TC_M_12_CS / TC_M_13_CS: each factory root, hash data as Part 2 defines it
    r = installed(csms, ["CSMSRootCertificate"])
    assert r["status"] == "Accepted" and len(r["certificateHashDataChain"]) == 1
    e = r["certificateHashDataChain"][0]
    assert e["certificateType"] == "CSMSRootCertificate" and same(e["certificateHashData"], expected_hash(pki_rsa["ca"]))
    r = installed(csms, ["ManufacturerRootCertificate"])
    assert same(r["certificateHashDataChain"][0]["certificateHashData"], expected_hash(pki_ec["ca"]))
    # TC_M_19_CS: nothing of that type -> NotFound without a chain
    assert installed(csms, ["MORootCertificate"]) == {"status": "NotFound"}
    assert installed(csms, ["V2GCertificateChain"]) == {"status": "NotFound"}
    n0 = entries(kit, csms)
    assert n0 == 3  # two roots and the station's own certificate

    # TC_M_03_CS / TC_M_04_CS / TC_M_14_CS / TC_M_16_CS: V2G and MO roots are stored and reported
    assert install(csms, "V2GRootCertificate", pem(pki_other["ca"]))["status"] == "Accepted"
    mo = ca_pem(tmp_path, "MO Root", -1, 300)
    assert install(csms, "MORootCertificate", mo)["status"] == "Accepted"
    r = installed(csms, ["V2GRootCertificate"])
    assert same(r["certificateHashDataChain"][0]["certificateHashData"], expected_hash(pki_other["ca"]))
    assert entries(kit, csms) == n0 + 2
    # TC_M_18_CS: certificateType omitted -> all of them
    kinds = sorted(x["certificateType"] for x in installed(csms)["certificateHashDataChain"])
    assert kinds == ["CSMSRootCertificate", "MORootCertificate", "ManufacturerRootCertificate", "V2GRootCertificate"]

    # TC_M_07_CS (M05.FR.07): expired, not a CA, not a certificate -> Rejected, nothing installed
    r = install(csms, "CSMSRootCertificate", ca_pem(tmp_path, "Expired Root"))
    assert r["status"] == "Rejected" and r["statusInfo"]["reasonCode"] == "InvalidCertificate", r
    assert install(csms, "CSMSRootCertificate", ca_pem(tmp_path, "Future Root", 5, 300))["status"] == "Rejected"
    assert install(csms, "CSMSRootCertificate", pem(pki_rsa["server_cert"]))["status"] == "Rejected"
    assert install(csms, "CSMSRootCertificate", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")[
        "status"] == "Rejected"
    assert len(installed(csms, ["CSMSRootCertificate"])["certificateHashDataChain"]) == 1

    # TC_M_22_CS: unknown -> NotFound; TC_M_23_CS: the station's own certificate -> Failed
    unknown = dict(expected_hash(pki_other["ca"]), serialNumber="1234")
    assert delete(csms, unknown) == "NotFound"
    assert delete(csms, expected_hash(pki_rsa["client_cert"], pki_rsa["ca"])) == "Failed"
    # TC_M_20_CS: delete the MO root
    mo_hd = installed(csms, ["MORootCertificate"])["certificateHashDataChain"][0]["certificateHashData"]
    assert delete(csms, mo_hd) == "Accepted"
    assert installed(csms, ["MORootCertificate"]) == {"status": "NotFound"}
    assert entries(kit, csms) == n0 + 1

    # persisted: a power loss keeps the V2G root, and the MO root stays deleted
    st.kill()
    n = len(csms.calls("BootNotification"))
    st.start()
    csms.wait_call("BootNotification", count=n + 1, timeout=20)
    assert installed(csms, ["MORootCertificate"]) == {"status": "NotFound"}
    assert installed(csms, ["V2GRootCertificate"])["status"] == "Accepted"


def test_installed_root_is_trusted_by_the_next_connection(make_csms, make_station, kit, pki_rsa, pki_ec):
    # TC_B_50_CS (B10, M05.FR.13): install the new CSMS's root, migrate to it (new URL, new root).
    csms1 = tls_csms(make_csms, kit, pki_rsa)
    csms2 = tls_csms(make_csms, kit, pki_ec)
    st = station(make_station, kit, csms1, pki_rsa)
    kit.wait_booted(csms1, st)
    assert install(csms1, "CSMSRootCertificate", pem(pki_ec["ca"]))["status"] == "Accepted"
    r = csms1.call("SetNetworkProfile", {"configurationSlot": 2, "connectionData": {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": csms2.url, "messageTimeout": 30,
        "securityProfile": 2, "ocppInterface": "Wired0"}})
    assert r.payload["status"] == "Accepted"
    r = csms1.call("SetVariables", {"setVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                   "variable": {"name": "NetworkConfigurationPriority"}, "attributeValue": "2,1"}]})
    assert r.payload["setVariableResult"][0]["attributeStatus"] == "RebootRequired"
    assert csms1.call("Reset", {"type": "OnIdle"}).payload["status"] == "Accepted"
    kit.wait_booted(csms2, st, timeout=20)
    # Deleting the old root works too, and the old CSMS is then no longer trusted.
    old = expected_hash(pki_rsa["ca"])
    assert delete(csms2, old) == "Accepted"
    assert len(installed(csms2, ["CSMSRootCertificate"])["certificateHashDataChain"]) == 1


def _restart_on_same_port(make_csms, kit, csms, pki):
    port = csms.port
    csms.stop()
    return make_csms(port=port, certfile=pki["server_cert"], keyfile=pki["server_key"], url_host="127.0.0.1",
                     basic_auth={kit.IDENTITY: kit.PASSWORD}, heartbeat_interval=600)


ARC = ("SecurityCtrlr", "AdditionalRootCertificateCheck", "true")


def test_additional_root_check_new_root_must_be_signed_by_the_old(make_csms, make_station, kit, pki_rsa,
                                                                   pki_other, tmp_path):
    # TC_M_09_CS (M05.FR.10/11) then TC_M_30_CS (M05.FR.13): the successor works, the old root goes.
    succ = generate_successor_root(pki_rsa, str(tmp_path / "succ"))
    csms = tls_csms(make_csms, kit, pki_rsa)
    st = station(make_station, kit, csms, pki_rsa, device_model=[kit.dm(*ARC)])
    kit.wait_booted(csms, st)
    r = install(csms, "CSMSRootCertificate", pem(pki_other["ca"]))
    assert r["status"] == "Rejected", r
    chain = installed(csms, ["CSMSRootCertificate"])["certificateHashDataChain"]
    assert len(chain) == 1 and same(chain[0]["certificateHashData"], expected_hash(pki_rsa["ca"]))
    assert install(csms, "CSMSRootCertificate", pem(succ["ca"]))["status"] == "Accepted"
    # the CSMS now presents a certificate under the new root: the next connection must trust it
    csms2 = _restart_on_same_port(make_csms, kit, csms, succ)
    csms2.wait_for(lambda: csms2.connections and csms2.connections[-1].accepted, 30, "a connection via the new root")
    kit.assert_responsive(csms2, st)
    chain = installed(csms2, ["CSMSRootCertificate"])["certificateHashDataChain"]
    assert len(chain) == 1, chain
    assert not same(chain[0]["certificateHashData"], expected_hash(pki_rsa["ca"]))  # old root removed


def test_additional_root_check_falls_back_to_the_old_root(make_csms, make_station, kit, pki_rsa, tmp_path):
    # TC_M_31_CS (M05.FR.14): after Reset the CSMS still presents the old root's certificate: the
    # attempt with the new root fails, the next one with the old root succeeds, the old root stays.
    succ = generate_successor_root(pki_rsa, str(tmp_path / "succ"))
    csms = tls_csms(make_csms, kit, pki_rsa)
    st = station(make_station, kit, csms, pki_rsa, device_model=[kit.dm(*ARC)])
    kit.wait_booted(csms, st)
    assert install(csms, "CSMSRootCertificate", pem(succ["ca"]))["status"] == "Accepted"
    n = len(csms.calls("BootNotification"))
    assert csms.call("Reset", {"type": "OnIdle"}).payload["status"] == "Accepted"
    csms.wait_call("BootNotification", count=n + 1, timeout=30)
    assert st.named("connect_failed"), "the first attempt (new root) should have failed"
    chain = installed(csms, ["CSMSRootCertificate"])["certificateHashDataChain"]
    assert len(chain) == 1 and same(chain[0]["certificateHashData"], expected_hash(pki_rsa["ca"])), chain


def test_b47_new_root_new_csms_unreachable_falls_back(make_csms, make_station, kit, pki_rsa, pki_ec):
    # TC_B_47_CS (B10.FR.07, M05.FR.15/16): new CSMS root installed, the new CSMS does not answer:
    # after NetworkProfileConnectionAttempts the station is back on the old CSMS, old root still there.
    csms1 = tls_csms(make_csms, kit, pki_rsa)
    csms2 = tls_csms(make_csms, kit, pki_ec)
    st = station(make_station, kit, csms1, pki_rsa,
                 device_model=[kit.dm("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", 1)])
    kit.wait_booted(csms1, st)
    assert install(csms1, "CSMSRootCertificate", pem(pki_ec["ca"]))["status"] == "Accepted"
    r = csms1.call("SetNetworkProfile", {"configurationSlot": 2, "connectionData": {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": csms2.url, "messageTimeout": 30,
        "securityProfile": 2, "ocppInterface": "Wired0"}})
    assert r.payload["status"] == "Accepted"
    csms2.refuse(None, mode="tcp")  # reached, but never accepts
    r = csms1.call("SetVariables", {"setVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                   "variable": {"name": "NetworkConfigurationPriority"}, "attributeValue": "2,1"}]})
    assert r.payload["setVariableResult"][0]["attributeStatus"] == "RebootRequired"
    n = len(csms1.calls("BootNotification"))
    assert csms1.call("Reset", {"type": "OnIdle"}).payload["status"] == "Accepted"
    csms1.wait_call("BootNotification", count=n + 1, timeout=30)
    assert csms2.connections and not any(c.accepted for c in csms2.connections)
    chain = installed(csms1, ["CSMSRootCertificate"])["certificateHashDataChain"]
    assert any(same(e["certificateHashData"], expected_hash(pki_rsa["ca"])) for e in chain), chain
