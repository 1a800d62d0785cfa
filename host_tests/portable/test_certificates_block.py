# M03-M05 block (core/blocks/m_certificates/certificates.py) and the factory-file rule
# (security/seed.py) over a real CertStore, with the checked-in x509 vectors (NOW = 2026-01-01).
from support import tmpdir

import x509_vectors as V
from fake_station import FakeStation, Handlers
from flexcharge.hal.storage import FileStorage
from flexcharge.security import seed
from flexcharge.security.certstore import CertStore
from flexcharge.security.x509 import der_to_pem
from flexcharge.core.blocks.m_certificates.certificates import Certificates


def _write(d, name, ders):
    p = d + "/" + name
    with open(p, "w") as f:
        f.write("".join(der_to_pem(x) for x in ders))
    return p


def make(arc=False):
    d = tmpdir("mblk")
    storage = FileStorage(d + "/state")
    factory = {"CSMSRootCertificate": _write(d, "ca.pem", [V.RSA_ROOT])}
    store = CertStore(storage, factory)
    st = FakeStation()
    st.now = lambda: V.NOW
    if arc:
        st.dm.set_internal("SecurityCtrlr", "AdditionalRootCertificateCheck", "true")
    blk = Certificates(st, storage, store)
    blk.start()
    return st, storage, store, blk, Handlers(st, blk), d, factory


def test_install_checks():
    st, storage, store, blk, h, d, f = make()
    ok = h("InstallCertificate", {"certificateType": "V2GRootCertificate", "certificate": der_to_pem(V.EC_ROOT)})
    assert ok["status"] == "Accepted"
    for der in (V.EC_LEAF, V.EC_LEAF_EXPIRED):  # not a CA; expired
        r = h("InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": der_to_pem(der)})
        assert r["status"] == "Rejected" and r["statusInfo"]["reasonCode"] == "InvalidCertificate", r
    r = h("InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": "garbage"})
    assert r["status"] == "Rejected"
    assert st.dm.get("SecurityCtrlr", "CertificateEntries") == "2"
    assert h("GetInstalledCertificateIds", {"certificateType": ["MORootCertificate"]}) == {"status": "NotFound"}
    got = h("GetInstalledCertificateIds", {"certificateType": ["CSMSRootCertificate"]})["certificateHashDataChain"]
    assert got[0]["certificateHashData"] == V.RSA_ROOT_HASH
    assert h("DeleteCertificate", {"certificateHashData": dict(V.RSA_ROOT_HASH, serialNumber="01")})["status"] == "NotFound"


def test_additional_root_check_trial_and_fallback_view():
    st, storage, store, blk, h, d, f = make(arc=True)
    # not signed by the installed RSA root -> Rejected (M05.FR.11)
    r = h("InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": der_to_pem(V.EC_ROOT)})
    assert r["status"] == "Rejected"
    # the RSA sub-CA is signed by the installed root: accepted as the new root, the old one on standby
    r = h("InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": der_to_pem(V.RSA_INTER)})
    assert r["status"] == "Accepted", r
    assert [bytes(x) for x in blk.anchors_der()] == [V.RSA_INTER]  # the next connection trusts the new root only
    blk.connect_failed(True)
    assert [bytes(x) for x in blk.anchors_der()] == [V.RSA_ROOT]  # then the old one (M05.FR.14)
    blk.connected(True)  # the old one worked: the new root goes
    assert [bytes(x) for x in store.anchors_der()] == [V.RSA_ROOT]
    # again, and this time the new root works (M05.FR.13)
    h("InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": der_to_pem(V.RSA_INTER)})
    blk.connected(True)
    assert [bytes(x) for x in store.anchors_der()] == [V.RSA_INTER]


def test_factory_files_apply_until_the_csms_changes_that_part():
    st, storage, store, blk, h, d, factory = make()
    # the installer replaces tls.ca: an untouched part follows the file at the next boot
    factory["CSMSRootCertificate"] = _write(d, "ca2.pem", [V.EC_ROOT])
    seed.sync(store, factory, storage)
    assert [bytes(x) for x in store.anchors_der()] == [V.EC_ROOT]
    # the CSMS installs a root: from then on the store wins over the file
    h("InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": der_to_pem(V.RSA_ROOT)})
    seed.sync(store, {"CSMSRootCertificate": _write(d, "ca3.pem", [V.RSA_OTHER_ROOT])}, storage)
    assert sorted(bytes(x) for x in store.anchors_der()) == sorted([V.EC_ROOT, V.RSA_ROOT])
