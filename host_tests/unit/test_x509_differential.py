# Differential tests of the security layer against `cryptography`, over chains generated
# here (tools/gen_x509_vectors.py): the X.509 reader (every field), certificateHashData
# (against cryptography's OCSP CertID), chain verification (against cryptography's own
# verifier, x509.verification), signatures, the CSR; and hypothesis fuzzing of the DER
# reader / certificate parser / key and signature parsers: only CertError may come out.
import datetime
import hashlib
import os
import sys

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.verification import PolicyBuilder, Store

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import gen_x509_vectors as G  # noqa: E402

from flexcharge.security import der as fder, verify, p256  # noqa: E402
from flexcharge.security.csr import build_csr  # noqa: E402
from flexcharge.security.der import CertError  # noqa: E402
from flexcharge.security.p256 import P256Key  # noqa: E402
from flexcharge.security.x509 import Certificate, hash_data, pem_to_ders, der_to_pem  # noqa: E402

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 1, 1, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
KINDS = [("rsa", None), ("ec", None), ("rsa", "ec"), ("ec", "rsa")]
_chains = {}


def chain(kind, leaf_kind=None):
    k = (kind, leaf_kind)
    if k not in _chains:
        _chains[k] = G.make_chain(kind, leaf_kind, webpki=True)
    return _chains[k]


def oracle(leaf, inters, roots, now=NOW):
    """True when cryptography's verifier accepts leaf + intermediates up to one of roots."""
    try:
        v = PolicyBuilder().store(Store(roots)).time(now).build_client_verifier()
        v.verify(leaf, inters)
        return True
    except Exception:
        return False


def ours(leaf, inters, roots, now=NOW_S):
    try:
        verify.verify_chain([G.der(leaf)] + [G.der(c) for c in inters], [G.der(r) for r in roots], now)
        return True
    except CertError:
        return False


def _ku_bits(c):
    try:
        ku = c.extensions.get_extension_for_class(cx509.KeyUsage).value
    except cx509.ExtensionNotFound:
        return None
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign")
    return sum(1 << i for i, n in enumerate(names) if getattr(ku, n))


@pytest.mark.parametrize("kind,leaf_kind", KINDS)
def test_reader_fields_equal_cryptography(kind, leaf_kind):
    ch = chain(kind, leaf_kind)
    for c in (ch["root"], ch["inter"], ch["leaf"]):
        ours_ = Certificate(G.der(c))
        assert ours_.serial == c.serial_number
        assert ours_.subject == c.subject.rfc4514_string()
        assert ours_.issuer == c.issuer.rfc4514_string()
        assert ours_.subject_der == c.subject.public_bytes()
        assert ours_.issuer_der == c.issuer.public_bytes()
        assert ours_.not_before == int(c.not_valid_before_utc.timestamp())
        assert ours_.not_after == int(c.not_valid_after_utc.timestamp())
        assert ours_.tbs == c.tbs_certificate_bytes
        assert ours_.signature == c.signature
        assert ours_.sig_alg_der and c.signature_algorithm_oid.dotted_string in ("1.2.840.113549.1.1.11",
                                                                                 "1.2.840.10045.4.3.2")
        bc = c.extensions.get_extension_for_class(cx509.BasicConstraints).value
        assert ours_.ca == bc.ca and ours_.path_len == bc.path_length
        assert ours_.key_usage == _ku_bits(c)
        assert ours_.spki_der == c.public_key().public_bytes(serialization.Encoding.DER,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo)
        pub = c.public_key()
        if isinstance(pub, rsa.RSAPublicKey):
            assert (ours_.rsa_n, ours_.rsa_e) == (pub.public_numbers().n, pub.public_numbers().e)
        else:
            assert ours_.ec_point == (pub.public_numbers().x, pub.public_numbers().y)
            assert ours_.public_key_bits == pub.public_bytes(serialization.Encoding.X962,
                                                             serialization.PublicFormat.UncompressedPoint)


@pytest.mark.parametrize("kind,leaf_kind", KINDS)
def test_hash_data_equals_ocsp_certid(kind, leaf_kind):
    ch = chain(kind, leaf_kind)
    for c, issuer in ((ch["leaf"], ch["inter"]), (ch["inter"], ch["root"]), (ch["root"], ch["root"])):
        assert hash_data(Certificate(G.der(c)), Certificate(G.der(issuer))) == G.ocsp_hash_data(c, issuer)


def test_hash_data_serial_forms():
    k = ec.generate_private_key(ec.SECP256R1())
    for serial in (1, 0x7F, 0x80, 0xFF00, 2 ** 159 - 1, 0x00ABCDEF):
        c = G.cert(G.name("S"), G.name("S"), k.public_key(), k, ca=True, serial=serial)
        h = hash_data(Certificate(G.der(c)), Certificate(G.der(c)))
        assert h == G.ocsp_hash_data(c, c)
        assert h["serialNumber"] == "%x" % serial  # lower case, no leading zeros, no 0x


@pytest.mark.parametrize("kind,leaf_kind", KINDS)
def test_chain_verdicts_equal_cryptography(kind, leaf_kind):
    ch = chain(kind, leaf_kind)
    root, inter, leaf = ch["root"], ch["inter"], ch["leaf"]
    lk = G.new_key(leaf_kind or kind)
    other_key = G.new_key(kind)
    other_root = G.cert(root.subject, root.subject, other_key.public_key(), other_key, ca=True, webpki=True)
    cases = {
        "valid": (leaf, [inter], [root], NOW, True),
        "valid, root sent too": (leaf, [inter, root], [root], NOW, True),
        "expired": (G.cert(leaf.subject, inter.subject, lk.public_key(), ch["inter_key"],
                           t0=datetime.datetime(2020, 1, 1, tzinfo=UTC), t1=datetime.datetime(2025, 6, 1, tzinfo=UTC),
                           webpki=True), [inter], [root], NOW, False),
        "not yet valid": (G.cert(leaf.subject, inter.subject, lk.public_key(), ch["inter_key"],
                                 t0=datetime.datetime(2027, 1, 1, tzinfo=UTC), webpki=True), [inter], [root], NOW, False),
        "chain expired at now": (leaf, [inter], [root], datetime.datetime(2031, 1, 1, tzinfo=UTC), False),
        "wrong issuer (same-name root, other key)": (leaf, [inter], [other_root], NOW, False),
        "missing intermediate": (leaf, [], [root], NOW, False),
        "non-CA issuer": (G.cert(G.name("CS002"), leaf.subject, G.new_key(kind).public_key(), ch["leaf_key"],
                                 webpki=True), [leaf, inter], [root], NOW, False),
        "intermediate without CA flag": None,
    }
    bad_inter = G.cert(inter.subject, root.subject, ch["inter_key"].public_key(), ch["root_key"], ca=False,
                       webpki=True)
    cases["intermediate without CA flag"] = (leaf, [bad_inter], [root], NOW, False)
    # tampered signature: flip one bit in the last octet (stays well-formed DER)
    t = bytearray(G.der(leaf))
    t[-1] ^= 1
    cases["tampered signature"] = (cx509.load_der_x509_certificate(bytes(t)), [inter], [root], NOW, False)
    # tampered tbs: the subject's CN
    t = bytearray(G.der(leaf))
    i = t.find(b"CS001")
    t[i] = ord("X")
    cases["tampered tbs"] = (cx509.load_der_x509_certificate(bytes(t)), [inter], [root], NOW, False)
    for what, (l, inters, roots, now, expect) in cases.items():
        o = oracle(l, inters, roots, now)
        m = ours(l, inters, roots, int(now.timestamp()))
        assert o == expect, (what, "cryptography", o)
        assert m == expect, (what, "ours", m)


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_signatures_equal_cryptography(kind):
    ch = chain(kind)
    data = os.urandom(1000)
    sig = G.sign(ch["leaf_key"], data)
    verify.verify_signature(G.der(ch["leaf"]), data, sig)
    verify.verify_signature(G.der(ch["leaf"]), None, sig, digest=hashlib.sha256(data).digest())
    for i in range(0, len(sig), max(1, len(sig) // 16)):
        t = bytearray(sig)
        t[i] ^= 0x10
        with pytest.raises(CertError):
            verify.verify_signature(G.der(ch["leaf"]), data, bytes(t))


def test_our_ecdsa_signatures_verify_in_cryptography():
    for _ in range(5):
        k = P256Key()
        data = os.urandom(64)
        sig = k.sign(data)
        pub = serialization.load_der_public_key(k.spki_der())
        pub.verify(sig, data, ec.ECDSA(hashes.SHA256()))
        priv = serialization.load_der_private_key(k.to_der(), None)
        assert priv.private_numbers().private_value == k.d


def test_csr_accepted_by_cryptography():
    k = P256Key()
    pem = build_csr(k, "CS001", "FlexCharge Operator BV")
    csr = cx509.load_pem_x509_csr(pem.encode())
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == "CN=CS001,O=FlexCharge Operator BV"
    assert csr.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo) == k.spki_der()
    assert len(pem) <= 5500  # SignCertificateRequest.csr maxLength
    # without organization; UTF-8 names
    csr = cx509.load_pem_x509_csr(build_csr(k, "Ladesäule-7").encode())
    assert csr.is_signature_valid and csr.subject.rfc4514_string() == "CN=Ladesäule-7"
    with pytest.raises(CertError):
        build_csr(k, "")


def test_pem_matches_cryptography():
    ch = chain("ec")
    text = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in (ch["leaf"], ch["inter"]))
    assert pem_to_ders(text) == ch["ders"]
    assert der_to_pem(ch["ders"][0]) == ch["leaf"].public_bytes(serialization.Encoding.PEM).decode()


# --- fuzzing: only CertError may come out ------------------------------------------------

_SEEDS = None


def _seeds():
    global _SEEDS
    if _SEEDS is None:
        ch, cr = chain("ec"), chain("rsa")
        _SEEDS = [G.der(ch["leaf"]), G.der(ch["root"]), G.der(cr["leaf"]), G.der(cr["inter"])]
    return _SEEDS


def _parse_all(data):
    for fn in (Certificate, P256Key.from_der, p256.sig_from_der):
        try:
            fn(data)
        except CertError:
            pass
    try:
        fder.read_tlv(data, 0)
    except CertError:
        pass


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_fuzz_random_bytes(data):
    _parse_all(data)
    _parse_all(b"\x30" + data)
    _parse_all(b"\x30\x82" + data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 3), st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), min_size=1, max_size=6),
       st.integers(0, 2000), st.integers(0, 40))
def test_fuzz_mutated_certificates(which, edits, cut, ins):
    d = bytearray(_seeds()[which])
    for pos, val in edits:
        d[pos % len(d)] = val
    if cut % 5 == 0:
        d = d[: cut % len(d)]
    if ins % 7 == 0:
        p = ins % (len(d) + 1)
        d[p:p] = b"\x30\x84\xff\xff\xff\xff"
    data = bytes(d)
    try:
        c = Certificate(data)
    except CertError:
        return
    # parsed: chain verification and hash data must also only raise CertError
    roots = [_seeds()[1], _seeds()[3]]
    try:
        verify.verify_chain([c], roots, NOW_S)
    except CertError:
        pass
    hash_data(c, c)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_pem_text(text):
    for t in (text, "-----BEGIN CERTIFICATE-----\n" + text + "\n-----END CERTIFICATE-----\n"):
        try:
            pem_to_ders(t)
        except CertError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_fuzz_signatures(sig):
    for c in _seeds()[:1] + _seeds()[2:3]:
        with pytest.raises(CertError):
            verify.verify_signature(c, b"data", sig)
