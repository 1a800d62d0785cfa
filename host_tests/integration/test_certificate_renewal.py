# Issue 10, A02/A03 station certificate renewal (core/blocks/a_security/renewal.py): an on-device P-256
# key and CSR, signed here with the test CA (`cryptography`), and a real reconnect under security profile
# 3 where the CSMS checks which client certificate it receives (ConnRecord.client_serial).
import datetime
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CALLRESULT = 3
ORG = "FlexCharge Test CSO"


def load(path, key=False):
    with open(path, "rb") as f:
        data = f.read()
    return serialization.load_pem_private_key(data, None) if key else x509.load_pem_x509_certificate(data)


def sign_csr(csr_pem, pki, days=365):
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    assert csr.is_signature_valid
    ca, ca_key = load(pki["ca"]), load(pki["ca_key"], key=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca.subject).public_key(csr.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert


def pem_of(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def serial_text(cert):
    return "%X" % cert.serial_number


def norm(s):
    return (s or "").upper().lstrip("0")


class Signer:
    """The CSMS side of A02: answers SignCertificate, then sends CertificateSigned with a certificate
    made from the CSR (unless `auto` is off)."""

    def __init__(self, csms, pki, auto=True):
        self.csms, self.pki, self.auto = csms, pki, auto
        self.csrs = []
        self.certs = []
        self.answers = []
        csms.after["SignCertificate"] = self.after

    async def after(self, session, request, response):
        self.csrs.append(request["csr"])
        if not self.auto:
            return
        cert = sign_csr(request["csr"], self.pki)
        self.certs.append(cert)
        r = await session.acall("CertificateSigned", {"certificateChain": pem_of(cert),
                                                      "certificateType": "ChargingStationCertificate"})
        self.answers.append(r)


def profile3(make_csms, make_station, kit, pki, device_model=()):
    csms = make_csms(certfile=pki["server_cert"], keyfile=pki["server_key"], url_host="127.0.0.1",
                     client_ca=pki["ca"], heartbeat_interval=600)
    dmv = [kit.dm("SecurityCtrlr", "OrganizationName", ORG)] + list(device_model)
    st = make_station(kit.station_config(csms.url, security_profile=3, device_model=dmv, tls={
        "ca": pki["ca"], "cert": pki["client_cert"], "key": pki["client_key"]}))
    kit.wait_booted(csms, st)
    return csms, st


def check_csr(csr_pem, kit):
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == kit.IDENTITY
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == ORG  # A02.FR.04
    assert isinstance(csr.public_key(), ec.EllipticCurvePublicKey) and csr.public_key().curve.name == "secp256r1"


def trigger(csms):
    r = csms.call("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})
    assert r.kind == CALLRESULT and r.payload["status"] == "Accepted", r


def test_a02_renewal_and_reconnect_with_the_new_certificate(make_csms, make_station, kit, pki_rsa):
    # TC_A_11_CS: TriggerMessage -> SignCertificate -> CertificateSigned Accepted -> reconnect with it.
    csms, st = profile3(make_csms, make_station, kit, pki_rsa)
    old = norm(serial_text(load(pki_rsa["client_cert"])))
    assert norm(csms.connections[0].client_serial) == old
    signer = Signer(csms, pki_rsa)
    trigger(csms)
    csms.wait_for(lambda: signer.answers, 15, "the CertificateSignedResponse")
    assert signer.answers[0].payload["status"] == "Accepted", signer.answers
    check_csr(signer.csrs[0], kit)
    new = norm(serial_text(signer.certs[0]))
    csms.wait_for(lambda: [c for c in csms.connections if c.accepted and norm(c.client_serial) == new], 15,
                  "a connection with the renewed certificate")
    kit.assert_responsive(csms, st)
    # confirmed: after a power loss the station still presents the new certificate (A02.FR.10)
    st.kill()
    n = len(csms.connections)
    st.start()
    csms.wait_for(lambda: len(csms.connections) > n and csms.connections[-1].accepted, 20, "reconnect after power loss")
    assert all(norm(c.client_serial) == new for c in csms.connections[n:]), csms.connections[n:]


def test_a02_invalid_certificates_rejected(make_csms, make_station, kit, pki_rsa, pki_other):
    # TC_A_14_CS (A02.FR.07): Rejected and InvalidChargingStationCertificate; the old certificate stays.
    csms, st = profile3(make_csms, make_station, kit, pki_rsa)
    signer = Signer(csms, pki_rsa, auto=False)
    trigger(csms)
    csms.wait_for(lambda: signer.csrs, 10, "SignCertificate")
    bad = (
        pem_of(load(pki_rsa["client_cert"])),  # valid chain, but not the key of the CSR
        pem_of(sign_csr(signer.csrs[0], pki_other)),  # the right key, an unknown CA
        "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n",
    )
    m = csms.mark()
    for text in bad:
        r = csms.call("CertificateSigned", {"certificateChain": text, "certificateType": "ChargingStationCertificate"})
        assert r.kind == CALLRESULT and r.payload["status"] == "Rejected", r
    csms.wait_for(lambda: len([f for f in csms.calls("SecurityEventNotification", since=m)
                               if f.payload["type"] == "InvalidChargingStationCertificate"]) == 3, 10,
                  "InvalidChargingStationCertificate x3")
    # the right one is still accepted afterwards
    r = csms.call("CertificateSigned", {"certificateChain": pem_of(sign_csr(signer.csrs[0], pki_rsa))})
    assert r.payload["status"] == "Accepted"


def test_a02_sign_certificate_rejected_ends_the_round(make_csms, make_station, kit, pki_rsa):
    # TC_A_15_CS
    csms, st = profile3(make_csms, make_station, kit, pki_rsa,
                        [kit.dm("SecurityCtrlr", "CertSigningWaitMinimum", 1)])
    csms.responders["SignCertificate"] = lambda p, s: {"status": "Rejected"}
    trigger(csms)
    csms.wait_call("SignCertificate", timeout=10)
    time.sleep(3)
    assert len(csms.calls("SignCertificate")) == 1


def test_a02_sign_certificate_repeated_with_doubling_wait(make_csms, make_station, kit, pki_rsa):
    # TC_A_23_CS (A02.FR.17/18): no CertificateSigned -> the CSR again after 1 s, then after 2 s; a
    # certificate from the first CSR is still accepted (the same key throughout the round).
    csms, st = profile3(make_csms, make_station, kit, pki_rsa, [
        kit.dm("SecurityCtrlr", "CertSigningWaitMinimum", 1), kit.dm("SecurityCtrlr", "CertSigningRepeatTimes", 2)])
    signer = Signer(csms, pki_rsa, auto=False)
    trigger(csms)
    csms.wait_call("SignCertificate", count=3, timeout=15)
    t = [f.t for f in csms.calls("SignCertificate")]
    assert t[1] - t[0] >= 0.9 and t[2] - t[1] >= 1.9, t
    csrs = [f.payload["csr"] for f in csms.calls("SignCertificate")]
    assert csrs[0] == csrs[2]
    time.sleep(4.5)
    assert len(csms.calls("SignCertificate")) == 3  # CertSigningRepeatTimes resends at most
    r = csms.call("CertificateSigned", {"certificateChain": pem_of(sign_csr(csrs[0], pki_rsa))})
    assert r.payload["status"] == "Accepted"


def test_a02_fall_back_when_the_new_certificate_is_refused(make_csms, make_station, kit, pki_rsa, pki_other):
    # A02.FR.28/29 (errata 2025-01): the CSMS refuses the renewed certificate in the TLS handshake: the
    # station goes back to the old one and reports DiscardedRenewedClientCertificate.
    csms, st = profile3(make_csms, make_station, kit, pki_rsa,
                        [kit.dm("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", 1)])
    with open(pki_other["ca"]) as f:
        r = csms.call("InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": f.read()})
    assert r.payload["status"] == "Accepted"
    signer = Signer(csms, pki_other)  # signed by a CA the station trusts but the CSMS does not
    trigger(csms)
    csms.wait_for(lambda: signer.answers, 15, "the CertificateSignedResponse")
    assert signer.answers[0].payload["status"] == "Accepted"
    old = norm(serial_text(load(pki_rsa["client_cert"])))
    n = len(csms.connections)
    csms.wait_for(lambda: len(csms.connections) > n and csms.connections[-1].accepted, 20,
                  "a connection again after the refused certificate")
    assert norm(csms.connections[-1].client_serial) == old
    csms.wait_for(lambda: [f for f in csms.calls("SecurityEventNotification")
                           if f.payload["type"] == "DiscardedRenewedClientCertificate"], 10,
                  "DiscardedRenewedClientCertificate")


def test_a03_station_renews_before_expiry(make_csms, make_station, kit, pki_rsa):
    # A03: the client certificate (365 days) expires within CertificateRenewalLeadTime (400 days): the
    # station starts the renewal itself, without a TriggerMessage.
    lead = kit.dm("SecurityCtrlr", "CertificateRenewalLeadTime", 400 * 86400)
    csms = make_csms(certfile=pki_rsa["server_cert"], keyfile=pki_rsa["server_key"], url_host="127.0.0.1",
                     client_ca=pki_rsa["ca"], heartbeat_interval=600)
    signer = Signer(csms, pki_rsa)
    st = make_station(kit.station_config(csms.url, security_profile=3, device_model=[
        lead, kit.dm("SecurityCtrlr", "OrganizationName", ORG)], tls={
        "ca": pki_rsa["ca"], "cert": pki_rsa["client_cert"], "key": pki_rsa["client_key"]}))
    csms.wait_for(lambda: signer.answers, 20, "a SignCertificate round the station started")
    assert not csms.calls("TriggerMessage")
    check_csr(signer.csrs[0], kit)
    new = norm(serial_text(signer.certs[0]))
    csms.wait_for(lambda: [c for c in csms.connections if c.accepted and norm(c.client_serial) == new], 15,
                  "a connection with the renewed certificate")
    kit.assert_responsive(csms, st)


def test_a02_not_under_profile_0(make_csms, make_station, kit):
    # Decided: security profile 0 (no authentication, test set-ups) has no client certificate to renew.
    csms = make_csms(heartbeat_interval=600)
    st = make_station(kit.station_config(csms.url))
    kit.wait_booted(csms, st)
    r = csms.call("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})
    assert r.kind == CALLRESULT and r.payload["status"] == "Rejected", r
    time.sleep(1)
    assert not csms.calls("SignCertificate")
