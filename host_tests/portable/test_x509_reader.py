# security/der.py, x509.py and verify.py on fixed vectors (x509_vectors.py, generated once with
# `cryptography` by tools/gen_x509_vectors.py), so the same checks run on MicroPython.
# The differential tests against cryptography itself are host_tests/unit/test_x509_differential.py.
import hashlib

from support import raises

import x509_vectors as V
from flexcharge.security import der, verify
from flexcharge.security.der import CertError
from flexcharge.security.x509 import (
    Certificate, hash_data, same_hash_data, pem_to_ders, der_to_pem, KU_DIGITAL_SIGNATURE, KU_KEY_CERT_SIGN,
    SIG_RSA_SHA256, SIG_ECDSA_SHA256,
)

KINDS = ("RSA", "EC")


def _v(k, name):
    return getattr(V, k + "_" + name)


def test_fields_match_cryptography():
    for k in KINDS:
        c = Certificate(_v(k, "LEAF"))
        info = _v(k, "LEAF_INFO")
        assert c.serial == info["serial"]
        assert c.not_before == info["not_before"] and c.not_after == info["not_after"]
        assert c.subject == info["subject"], c.subject
        assert c.issuer == info["issuer"]
        assert c.version == 3
        assert not c.ca and c.path_len is None
        assert c.key_usage == KU_DIGITAL_SIGNATURE
        assert c.unknown_critical == []
        if k == "RSA":
            assert c.key_type == "rsa" and c.rsa_n == V.RSA_LEAF_N and c.rsa_e == 65537
            assert c.sig_alg == SIG_RSA_SHA256
        else:
            assert c.key_type == "ec" and c.ec_point == V.EC_LEAF_XY
            assert c.sig_alg == SIG_ECDSA_SHA256
        assert c.sig_supported
        inter = Certificate(_v(k, "INTER"))
        assert inter.ca and inter.path_len == 0 and inter.key_usage & KU_KEY_CERT_SIGN
        root = Certificate(_v(k, "ROOT"))
        assert root.is_self_issued() and not inter.is_self_issued()
        assert c.issuer_der == inter.subject_der
        assert c.der == _v(k, "LEAF")
        # tbs and signature are the certificate's bytes
        assert c.tbs in c.der and c.der.endswith(c.signature)


def test_hash_data_matches_ocsp_certid():
    for k in KINDS:
        leaf, inter, root = Certificate(_v(k, "LEAF")), Certificate(_v(k, "INTER")), Certificate(_v(k, "ROOT"))
        assert hash_data(leaf, inter) == _v(k, "LEAF_HASH")
        assert hash_data(root, root) == _v(k, "ROOT_HASH")
        h = hash_data(leaf, inter)
        assert h["issuerNameHash"] == h["issuerNameHash"].lower() and len(h["issuerKeyHash"]) == 64
        assert not h["serialNumber"].startswith("0")
        up = dict(h)
        up["issuerKeyHash"] = up["issuerKeyHash"].upper()
        up["serialNumber"] = "00" + up["serialNumber"]
        assert same_hash_data(h, up)
        up["serialNumber"] = "1" + h["serialNumber"]
        assert not same_hash_data(h, up)
        assert not same_hash_data(h, {"hashAlgorithm": "SHA256"})


def test_pem_round_trip():
    text = der_to_pem(V.RSA_LEAF) + der_to_pem(V.EC_LEAF)
    assert pem_to_ders(text) == [V.RSA_LEAF, V.EC_LEAF]
    assert pem_to_ders(text.encode()) == [V.RSA_LEAF, V.EC_LEAF]
    for line in text.split("\n"):
        assert len(line) <= 64
    for bad in ("", "garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n", b"\xff\xfe"):
        with raises(CertError):
            pem_to_ders(bad)


def test_valid_chains():
    for k in KINDS:
        verify.verify_chain([_v(k, "LEAF"), _v(k, "INTER")], [_v(k, "ROOT")], V.NOW)
        # the peer may send the root too; and Certificate objects are accepted
        verify.verify_chain([Certificate(_v(k, "LEAF")), _v(k, "INTER"), _v(k, "ROOT")], [_v(k, "ROOT")], V.NOW)
        # anchor among several, including a same-name impostor
        verify.verify_chain([_v(k, "LEAF"), _v(k, "INTER")], [_v(k, "OTHER_ROOT"), _v(k, "ROOT")], V.NOW)
        # no anchors: only the links inside the chain
        verify.verify_chain([_v(k, "LEAF"), _v(k, "INTER"), _v(k, "ROOT")], None, V.NOW)
        # now=None: validity periods not checked
        verify.verify_chain([_v(k, "LEAF_EXPIRED"), _v(k, "INTER")], [_v(k, "ROOT")], None)


def _rejects(chain, anchors, now, words):
    with raises(CertError) as r:
        verify.verify_chain(chain, anchors, now)
    assert words in str(r.value), str(r.value)


def test_bad_chains():
    for k in KINDS:
        leaf, inter, root = _v(k, "LEAF"), _v(k, "INTER"), _v(k, "ROOT")
        _rejects([_v(k, "LEAF_EXPIRED"), inter], [root], V.NOW, "expired")
        _rejects([_v(k, "LEAF_FUTURE"), inter], [root], V.NOW, "not yet valid")
        _rejects([leaf, inter], [root], V.NOW + 10 * 365 * 86400, "expired")
        _rejects([leaf, inter], [_v(k, "OTHER_ROOT")], V.NOW, "does not verify")
        _rejects([_v(k, "LEAF_BY_NONCA"), leaf, inter], [root], V.NOW, "not a CA")
        _rejects([leaf], [root], V.NOW, "no trust anchor")
        _rejects([inter, leaf], [root], V.NOW, "out of order")
        _rejects([leaf, inter], [], V.NOW, "no trust anchor")
        _rejects([], [root], V.NOW, "empty")
        # tampered signature (last byte) and tampered tbs (a byte of the subject)
        t = bytearray(leaf)
        t[-1] ^= 1
        _rejects([bytes(t), inter], [root], V.NOW, "does not verify")
        t = bytearray(leaf)
        i = t.find(b"CS001")
        t[i] = ord("X")
        _rejects([bytes(t), inter], [root], V.NOW, "does not verify")
    # mixed algorithms: RSA leaf under the EC intermediate's name does not chain
    _rejects([V.RSA_LEAF, V.EC_INTER], [V.EC_ROOT], V.NOW, "out of order")


def test_verify_signature():
    for k in KINDS:
        leaf = _v(k, "LEAF")
        sig = _v(k, "SIG")
        verify.verify_signature(leaf, V.DATA, sig)
        verify.verify_signature(Certificate(leaf), None, sig, digest=hashlib.sha256(V.DATA).digest())
        with raises(CertError):
            verify.verify_signature(leaf, V.DATA + b"x", sig)
        t = bytearray(sig)
        t[-1] ^= 0x40
        with raises(CertError):
            verify.verify_signature(leaf, V.DATA, bytes(t))
        with raises(CertError):
            verify.verify_signature(leaf, V.DATA, b"")
    with raises(CertError):  # an RSA signature against an EC key
        verify.verify_signature(V.EC_LEAF, V.DATA, V.RSA_SIG)


def test_truncated_and_trailing():
    d = V.EC_LEAF
    for n in range(len(d)):
        with raises(CertError):
            Certificate(d[:n])
    with raises(CertError):
        Certificate(d + b"\x00")
    with raises(CertError):
        Certificate(memoryview(d)[:50])
    assert Certificate(memoryview(d)).der == d
    with raises(CertError):
        Certificate("not bytes")


def test_der_reader_rejects_non_der():
    for bad in (b"\x30\x80\x00\x00",  # indefinite length
                b"\x30\x81\x05\x00\x00\x00\x00\x00",  # non-minimal length
                b"\x30\x84\x7f\xff\xff\xff",  # absurd length
                b"\x1f\x01\x00",  # high tag number
                b"\x30\x05\x00"):  # truncated
        with raises(CertError):
            der.read_tlv(bad, 0)
    with raises(CertError):
        der.read_int(b"\x00\x01", 0, 2)  # non-minimal INTEGER
    assert der.read_int(b"\xff\x7f", 0, 2) == -129
    assert der.read_int(b"\x00\x80", 0, 2) == 128
    assert der.read_oid(b"\x2a\x86\x48\xce\x3d\x02\x01", 0, 7) == "1.2.840.10045.2.1"
    assert der.read_time(b"500101000000Z", der.TAG_UTCTIME, 0, 13) == -631152000
    assert der.read_time(b"20240229120000Z", der.TAG_GENTIME, 0, 15) == 1709208000
    for bad in (b"20230229120000Z", b"20241301000000Z", b"2024010100000Z", b"20240101000000+", b"2024010100000aZ"):
        with raises(CertError):
            der.read_time(bad, der.TAG_GENTIME, 0, len(bad))


def test_tampered_fields():
    # Change single header bytes of a valid certificate: never anything but CertError (or a
    # certificate that still parses).
    d = V.RSA_LEAF
    for i in range(0, 120):
        for delta in (1, 0x80):
            t = bytearray(d)
            t[i] = (t[i] + delta) & 0xFF
            try:
                Certificate(bytes(t))
            except CertError:
                pass


def test_bit_length():
    for n in (0, 1, 2, 3, 255, 256, 2 ** 255 - 19, 2 ** 2048 - 1):
        assert der.bit_length(n) == len(bin(n)) - 2 - (n == 0), n
