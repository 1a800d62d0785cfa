# security/p256.py: ECDSA P-256 sign/verify, key encodings (vectors: RFC 6979 A.2.5, and
# x509_vectors.py generated with `cryptography`).
import hashlib

from support import raises

import x509_vectors as V
from flexcharge.security import p256
from flexcharge.security.der import CertError
from flexcharge.security.p256 import P256Key

# RFC 6979 A.2.5 (P-256, SHA-256, message "sample")
RFC_D = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
RFC_UX = 0x60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6
RFC_UY = 0x7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299
RFC_R = 0xEFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716
RFC_S = 0xF7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8


def test_rfc6979_vector():
    k = P256Key(RFC_D)
    assert k.point == (RFC_UX, RFC_UY)
    digest = hashlib.sha256(b"sample").digest()
    assert p256.sign_digest_rs(RFC_D, digest) == (RFC_R, RFC_S)
    assert p256.sig_from_der(k.sign(b"sample")) == (RFC_R, RFC_S)
    assert p256.verify_digest(k.point, digest, RFC_R, RFC_S)
    assert not p256.verify_digest(k.point, digest, RFC_R, RFC_S ^ 1)
    assert not p256.verify_digest(k.point, hashlib.sha256(b"samplf").digest(), RFC_R, RFC_S)


def test_verify_rejects_out_of_range():
    k = P256Key(RFC_D)
    digest = hashlib.sha256(b"sample").digest()
    for r, s in ((0, RFC_S), (RFC_R, 0), (p256.N, RFC_S), (RFC_R, p256.N + RFC_S)):
        assert not p256.verify_digest(k.point, digest, r, s)
    assert not p256.verify_digest((k.point[0], k.point[1] ^ 1), digest, RFC_R, RFC_S)  # not on the curve
    assert not p256.verify_digest(k.point, digest[:31], RFC_R, RFC_S)


def test_key_encodings_match_cryptography():
    k = P256Key.from_der(V.EC_KEY_SEC1)
    assert k.d == V.EC_KEY_D
    assert P256Key.from_der(V.EC_KEY_PKCS8).d == V.EC_KEY_D
    assert k.spki_der() == V.EC_KEY_SPKI
    assert P256Key.from_der(k.to_der()).d == k.d
    assert k.to_der() == V.EC_KEY_SEC1  # same RFC 5915 layout as OpenSSL's
    for bad in (b"", b"\x30\x00", V.EC_KEY_SEC1[:-1], V.EC_KEY_SEC1 + b"\x00", V.RSA_LEAF):
        with raises(CertError):
            P256Key.from_der(bad)
    t = bytearray(V.EC_KEY_SEC1)
    t[-1] ^= 1  # public key no longer matches
    with raises(CertError):
        P256Key.from_der(bytes(t))


def test_generate_sign_verify():
    k = P256Key()
    assert 0 < k.d < p256.N and p256.on_curve(k.point)
    assert P256Key().d != k.d
    sig = k.sign(b"hello")
    r, s = p256.sig_from_der(sig)
    assert p256.verify_digest(k.point, hashlib.sha256(b"hello").digest(), r, s)
    assert k.sign(b"hello") == sig  # RFC 6979: deterministic
    assert p256.sig_to_der(r, s) == sig


def test_sig_der_strict():
    good = p256.sig_to_der(RFC_R, RFC_S)
    for bad in (good + b"\x00", good[:-1], b"\x30\x03\x02\x01\x01", b"\x31" + good[1:],
                b"\x30\x06\x02\x01\x00\x02\x01\xff"):
        try:
            r, s = p256.sig_from_der(bad)
            assert 0 <= r and 0 <= s
        except CertError:
            continue
        raise AssertionError("accepted %r" % bad)
