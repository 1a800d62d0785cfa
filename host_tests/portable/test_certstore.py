# security/certstore.py over a real FileStorage: seeding from factory PEM files, install /
# list / delete / replace by certificateHashData, entry limits, the client certificate
# renewal states (pending key -> new on trial -> confirmed or fallen back), persistence
# across reopen, and recovery from a torn or missing index.
from support import raises, tmpdir

import x509_vectors as V
from flexcharge.hal.storage import FileStorage
from flexcharge.security.certstore import CertStore, StoreFull, ROOT_TYPES, INDEX
from flexcharge.security.der import CertError
from flexcharge.security.p256 import P256Key
from flexcharge.security.x509 import der_to_pem, hash_data, Certificate


def _files(d):
    paths = {}
    for name, ders in (("ca.pem", [V.EC_ROOT, V.RSA_ROOT]), ("mf.pem", [V.RSA_INTER]),
                       ("cs.pem", [V.EC_LEAF, V.EC_INTER])):
        p = d + "/" + name
        with open(p, "w") as f:
            f.write("".join(der_to_pem(x) for x in ders))
        paths[name] = p
    p = d + "/cs.key"
    with open(p, "w") as f:
        f.write(der_to_pem(V.EC_KEY_PKCS8, "PRIVATE KEY"))
    paths["cs.key"] = p
    return paths


def _store(tag="cs"):
    d = tmpdir(tag)
    f = _files(d)
    st = FileStorage(d + "/state")
    factory = {"CSMSRootCertificate": f["ca.pem"], "ManufacturerRootCertificate": f["mf.pem"],
               "client_cert": f["cs.pem"], "client_key": f["cs.key"]}
    return CertStore(st, factory), st, factory


def test_seed_and_list():
    cs, st, factory = _store()
    assert cs.seed_errors == []
    assert cs.anchors_der("CSMSRootCertificate") == [V.EC_ROOT, V.RSA_ROOT]
    assert cs.anchors_der("ManufacturerRootCertificate") == [V.RSA_INTER]
    assert cs.anchors_der("V2GRootCertificate") == []
    ids = cs.installed()
    assert [i["certificateType"] for i in ids] == ["CSMSRootCertificate", "CSMSRootCertificate",
                                                    "ManufacturerRootCertificate"]
    assert ids[0]["certificateHashData"] == V.EC_ROOT_HASH
    assert ids[1]["certificateHashData"] == V.RSA_ROOT_HASH
    # a sub-CA whose issuer is installed gets its issuer's key hash
    assert ids[2]["certificateHashData"] == hash_data(Certificate(V.RSA_INTER), Certificate(V.RSA_ROOT))
    assert cs.installed(["ManufacturerRootCertificate"]) == ids[2:]
    assert cs.installed(["MORootCertificate"]) == []
    assert cs.client_state() == "current"
    assert cs.client_chain_der() == [V.EC_LEAF, V.EC_INTER]
    assert P256Key.from_der(cs.client_key_der()).d == V.EC_KEY_D
    assert cs.count() == 5
    # reopen: same content, factory files not read again (the store is no longer new)
    cs2 = CertStore(st, {"CSMSRootCertificate": "/nonexistent"})
    assert cs2.installed() == ids and cs2.seed_errors == []


def test_bad_factory_files_are_skipped():
    d = tmpdir("csbad")
    with open(d + "/junk.pem", "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    cs = CertStore(FileStorage(d + "/state"), {"CSMSRootCertificate": d + "/missing.pem",
                                                "ManufacturerRootCertificate": d + "/junk.pem"})
    assert len(cs.seed_errors) == 2
    assert cs.installed() == [] and cs.client_state() == "none"
    assert cs.client_chain_der() == [] and cs.client_key_der() is None


def test_add_find_remove_replace():
    cs, st, _ = _store()
    h = cs.add("V2GRootCertificate", V.RSA_LEAF)
    assert cs.add("V2GRootCertificate", V.RSA_LEAF) == h  # idempotent
    assert cs.count() == 6
    assert cs.find(h) == ("V2GRootCertificate", V.RSA_LEAF)
    with raises(CertError):
        cs.add("ChargingStationCertificate", V.RSA_ROOT)
    with raises(CertError):
        cs.add("MORootCertificate", V.RSA_ROOT[:-3])
    with raises(StoreFull):
        cs.add("MORootCertificate", V.EC_INTER, max_entries=6)
    assert cs.count() == 6
    assert cs.remove(h) == "Accepted"
    assert cs.remove(h) == "NotFound"
    assert cs.find(h) is None
    # the station's own certificate cannot be deleted (M04.FR.06)
    own = hash_data(Certificate(V.EC_LEAF), Certificate(V.EC_INTER))
    assert cs.find(own) == ("ChargingStationCertificate", V.EC_LEAF)
    assert cs.remove(own) == "Failed"
    # replace the EC CSMS root by another (AdditionalRootCertificateCheck flow)
    nh = cs.replace("CSMSRootCertificate", V.EC_ROOT_HASH, V.EC_OTHER_ROOT)
    assert cs.anchors_der("CSMSRootCertificate") == [V.EC_OTHER_ROOT, V.RSA_ROOT]
    assert cs.find(nh)[1] == V.EC_OTHER_ROOT
    with raises(CertError):
        cs.replace("CSMSRootCertificate", V.EC_ROOT_HASH, V.EC_ROOT)
    # persisted
    assert CertStore(st).anchors_der("CSMSRootCertificate") == [V.EC_OTHER_ROOT, V.RSA_ROOT]
    # case and leading zeros in the request do not matter
    hd = dict(V.RSA_ROOT_HASH)
    hd["issuerNameHash"] = hd["issuerNameHash"].upper()
    assert cs.remove(hd) == "Accepted"
    # no blob left behind for removed certificates
    assert len(st.names("cert.")) == cs.count() + 1  # + the client key


def test_client_renewal_confirm_and_fall_back():
    cs, st, _ = _store()
    assert cs.pending_key() is None
    with raises(CertError):
        cs.promote_pending([V.EC_LEAF])
    k1 = cs.new_pending_key()
    assert CertStore(st).pending_key().d == k1.d  # persisted
    # a certificate for another key is refused; the pending key stays
    with raises(CertError):
        cs.promote_pending([V.EC_LEAF, V.EC_INTER])
    assert cs.pending_key().d == k1.d
    # the store only compares the leaf's key with the pending one (verify_chain checks the rest)
    leaf = _cert_for(k1)
    cs.promote_pending([leaf, V.EC_INTER])
    assert cs.pending_key() is None
    assert cs.client_state() == "trial"
    assert cs.client_chain_der() == [leaf, V.EC_INTER]
    assert P256Key.from_der(cs.client_key_der()).d == k1.d
    cs.fall_back()
    assert cs.client_state() == "current" and cs.client_chain_der()[0] == V.EC_LEAF
    # again, and this time the connection works
    k2 = cs.new_pending_key()
    leaf2 = _cert_for(k2)
    cs.promote_pending([leaf2])
    cs2 = CertStore(st)  # the trial survives a reboot
    assert cs2.client_state() == "trial" and cs2.client_chain_der() == [leaf2]
    cs2.confirm_new()
    assert cs2.client_state() == "current"
    assert CertStore(st).client_chain_der() == [leaf2]
    assert P256Key.from_der(CertStore(st).client_key_der()).d == k2.d
    cs2.confirm_new()  # nothing on trial: no-op
    cs2.fall_back()
    assert cs2.client_chain_der() == [leaf2]


def _cert_for(key):
    # The EC leaf with its public key swapped for key's: parses, carries key (signature broken,
    # which the store does not check -- verify_chain does).
    old = Certificate(V.EC_LEAF).public_key_bits
    d = V.EC_LEAF.replace(old, key.public_bits())
    assert Certificate(d).public_key_bits == key.public_bits()
    return d


def test_torn_index_and_garbage_blobs():
    cs, st, factory = _store()
    st.write("cert.999", b"left over from a crash")
    cs = CertStore(st)
    assert "cert.999" not in st.names("cert.")
    st.write(INDEX, "{not json")
    cs = CertStore(st, factory)  # unreadable index: back to the factory content
    assert cs.anchors_der("CSMSRootCertificate") == [V.EC_ROOT, V.RSA_ROOT]
    for kind in ROOT_TYPES:
        cs.anchors_der(kind)
    with raises(CertError):
        cs.anchors_der("Nope")
