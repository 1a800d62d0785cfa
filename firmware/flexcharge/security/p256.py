# NIST P-256 (secp256r1) in Python integers: ECDSA verify and sign with SHA-256, key
# generation from os.urandom, SEC1 / SubjectPublicKeyInfo encoders. Runs on MicroPython
# (big ints, hashlib.sha256) and CPython.
#
# API (stable):
#   verify_digest(point, digest, r, s) -> bool       ECDSA verify of a 32-byte SHA-256 digest
#   sig_from_der(der) -> (r, s)                      strict ECDSA-Sig-Value parse (CertError)
#   sig_to_der(r, s) -> bytes
#   mul_base(k) -> (x, y)                            k*G
#   P256Key(d=None)                                  private key; None: a new one from urandom
#     .d, .point                                     ints; (x, y)
#     .public_bits()                                 04||X||Y (65 bytes)
#     .spki_der()                                    SubjectPublicKeyInfo DER
#     .to_der()                                      SEC1 ECPrivateKey DER (RFC 5915), with public key
#     .sign(data) / .sign_digest(digest)             DER ECDSA signature, k per RFC 6979
#     P256Key.from_der(der)                          SEC1 ECPrivateKey or PKCS#8 (unencrypted)
#
# Points are affine (x, y) tuples outside; scalar multiplication uses Jacobian coordinates
# (one field inversion at the end) and loops, never recursion. Not constant-time: Python
# integers cannot be. The private key only signs CSRs, on the device, at renewal time.
import hashlib

from flexcharge import compat
from flexcharge.security.der import (
    CertError, read_tlv, expect, children, read_uint, read_oid, read_bits, bit_length,
    enc, enc_int, enc_oid, enc_seq, enc_bits, TAG_SEQ, TAG_INT, TAG_OCTETS, TAG_OID, TAG_BITS,
)

P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
G = (GX, GY)

OID_EC = "1.2.840.10045.2.1"
OID_P256 = "1.2.840.10045.3.1.7"
OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"


def _double(X1, Y1, Z1):
    # dbl-2001-b (a = -3), Jacobian.
    p = P
    if Z1 == 0 or Y1 == 0:
        return 0, 1, 0
    delta = Z1 * Z1 % p
    gamma = Y1 * Y1 % p
    beta = X1 * gamma % p
    alpha = 3 * (X1 - delta) * (X1 + delta) % p
    X3 = (alpha * alpha - 8 * beta) % p
    Z3 = ((Y1 + Z1) * (Y1 + Z1) - gamma - delta) % p
    Y3 = (alpha * (4 * beta - X3) - 8 * gamma * gamma) % p
    return X3, Y3, Z3


def _madd(X1, Y1, Z1, x2, y2):
    # Jacobian + affine (madd-2004-hmv style), with the doubling and infinity cases.
    p = P
    if Z1 == 0:
        return x2, y2, 1
    Z1Z1 = Z1 * Z1 % p
    H = (x2 * Z1Z1 - X1) % p
    r = (y2 * Z1 * Z1Z1 - Y1) % p
    if H == 0:
        if r == 0:
            return _double(X1, Y1, Z1)
        return 0, 1, 0
    HH = H * H % p
    HHH = H * HH % p
    V = X1 * HH % p
    X3 = (r * r - HHH - 2 * V) % p
    Y3 = (r * (V - X3) - Y1 * HHH) % p
    Z3 = Z1 * H % p
    return X3, Y3, Z3


def _affine(X, Y, Z):
    if Z == 0:
        return None
    p = P
    zi = pow(Z, p - 2, p)
    zi2 = zi * zi % p
    return (X * zi2 % p, Y * zi2 * zi % p)


def _add_affine(a, b):
    # Affine a + b (None = infinity); one inversion.
    if a is None:
        return b
    if b is None:
        return a
    X, Y, Z = _madd(a[0], a[1], 1, b[0], b[1])
    return _affine(X, Y, Z)


def _mul2(k1, P1, k2, P2):
    # k1*P1 + k2*P2 (Shamir's trick); P2 may be None. Affine result or None.
    t3 = _add_affine(P1, P2) if P2 is not None else None
    X, Y, Z = 0, 1, 0
    n = max(bit_length(k1), bit_length(k2))
    for i in range(n - 1, -1, -1):
        X, Y, Z = _double(X, Y, Z)
        b1 = (k1 >> i) & 1
        b2 = (k2 >> i) & 1
        if b1 and b2:
            if t3 is not None:
                X, Y, Z = _madd(X, Y, Z, t3[0], t3[1])
        elif b1:
            X, Y, Z = _madd(X, Y, Z, P1[0], P1[1])
        elif b2:
            X, Y, Z = _madd(X, Y, Z, P2[0], P2[1])
    return _affine(X, Y, Z)


def mul_base(k):
    return _mul2(k % N, G, 0, None)


def on_curve(pt):
    x, y = pt
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x - 3 * x + B)) % P == 0


def verify_digest(point, digest, r, s):
    """ECDSA (SEC 1 §4.1.4) of a SHA-256 digest (32 bytes) under the public point (x, y)."""
    n = N
    if not (0 < r < n and 0 < s < n) or len(digest) != 32:
        return False
    if not on_curve(point):
        return False
    e = int.from_bytes(bytes(digest), "big")
    w = pow(s, n - 2, n)
    R = _mul2(e * w % n, G, r * w % n, point)
    if R is None:
        return False
    return R[0] % n == r


def sig_from_der(der):
    """(r, s) of a DER ECDSA-Sig-Value; CertError for anything else (RFC 3279 §2.2.3)."""
    der = bytes(der)
    t, s, e = read_tlv(der, 0)
    if t != TAG_SEQ or e != len(der):
        raise CertError("ECDSA signature is not one DER SEQUENCE")
    p = children(der, s, e, 2)
    if len(p) != 2 or p[0][0] != TAG_INT or p[1][0] != TAG_INT:
        raise CertError("ECDSA signature is not SEQUENCE {r, s}")
    return read_uint(der, p[0][1], p[0][2]), read_uint(der, p[1][1], p[1][2])


def sig_to_der(r, s):
    return enc_seq(enc_int(r), enc_int(s))


def _hmac(key, msg):
    # HMAC-SHA256 (RFC 2104); MicroPython ports do not all have hmac.
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key + b"\x00" * (64 - len(key))
    inner = hashlib.sha256(bytes(c ^ 0x36 for c in key) + msg).digest()
    return hashlib.sha256(bytes(c ^ 0x5C for c in key) + inner).digest()


def _rfc6979_k(d, digest):
    # RFC 6979 §3.2 with HMAC-SHA256; qlen = hlen = 256, so bits2int is a plain conversion.
    x = d.to_bytes(32, "big")
    h1 = (int.from_bytes(bytes(digest), "big") % N).to_bytes(32, "big")
    V = b"\x01" * 32
    K = b"\x00" * 32
    K = _hmac(K, V + b"\x00" + x + h1)
    V = _hmac(K, V)
    K = _hmac(K, V + b"\x01" + x + h1)
    V = _hmac(K, V)
    while True:
        V = _hmac(K, V)
        k = int.from_bytes(V, "big")
        if 0 < k < N:
            yield k
        K = _hmac(K, V + b"\x00")
        V = _hmac(K, V)


def sign_digest_rs(d, digest):
    """(r, s) ECDSA signature of a 32-byte digest with private scalar d, k per RFC 6979."""
    n = N
    e = int.from_bytes(bytes(digest), "big")
    for k in _rfc6979_k(d, digest):
        R = mul_base(k)
        r = R[0] % n
        if r == 0:
            continue
        s = pow(k, n - 2, n) * (e + r * d) % n
        if s:
            return r, s


def _random_scalar():
    # Rejection sampling: uniform in [1, N-1] (FIPS 186-5 A.2.2 style, no modulo bias).
    while True:
        d = int.from_bytes(compat.urandom(32), "big")
        if 0 < d < N:
            return d


class P256Key:
    def __init__(self, d=None):
        if d is None:
            d = _random_scalar()
        if not 0 < d < N:
            raise CertError("P-256 private key out of range")
        self.d = d
        self.point = mul_base(d)

    def public_bits(self):
        return b"\x04" + self.point[0].to_bytes(32, "big") + self.point[1].to_bytes(32, "big")

    def spki_der(self):
        return enc_seq(enc_seq(enc_oid(OID_EC), enc_oid(OID_P256)), enc_bits(self.public_bits()))

    def to_der(self):
        # RFC 5915 ECPrivateKey; mbedTLS and OpenSSL both load it.
        return enc_seq(enc_int(1), enc(TAG_OCTETS, self.d.to_bytes(32, "big")),
                       enc(0xA0, enc_oid(OID_P256)), enc(0xA1, enc_bits(self.public_bits())))

    def sign_digest(self, digest):
        r, s = sign_digest_rs(self.d, digest)
        return sig_to_der(r, s)

    def sign(self, data):
        return self.sign_digest(hashlib.sha256(bytes(data)).digest())

    @staticmethod
    def from_der(der):
        der = bytes(der)
        t, s, e = read_tlv(der, 0)
        if t != TAG_SEQ or e != len(der):
            raise CertError("private key is not one DER SEQUENCE")
        p = children(der, s, e, 4)
        if len(p) == 3 and p[0][0] == TAG_INT and p[1][0] == TAG_SEQ and p[2][0] == TAG_OCTETS:
            # PKCS#8 PrivateKeyInfo (RFC 5208) around an ECPrivateKey
            a = children(der, p[1][1], p[1][2], 2)
            if len(a) != 2 or a[0][0] != TAG_OID or a[1][0] != TAG_OID:
                raise CertError("PKCS#8 key is not an EC key with a named curve")
            if read_oid(der, a[0][1], a[0][2]) != OID_EC or read_oid(der, a[1][1], a[1][2]) != OID_P256:
                raise CertError("private key is not a P-256 key")
            return P256Key.from_der(der[p[2][1] : p[2][2]])
        if len(p) < 2 or p[0][0] != TAG_INT or read_uint(der, p[0][1], p[0][2]) != 1 or p[1][0] != TAG_OCTETS:
            raise CertError("not an ECPrivateKey (RFC 5915)")
        if p[1][2] - p[1][1] != 32:
            raise CertError("P-256 private key must be 32 octets")
        for t2, s2, e2 in p[2:]:
            if t2 == 0xA0:
                cs, ce = expect(der, s2, TAG_OID, e2)
                if read_oid(der, cs, ce) != OID_P256:
                    raise CertError("private key is not a P-256 key")
        key = P256Key(int.from_bytes(der[p[1][1] : p[1][2]], "big"))
        for t2, s2, e2 in p[2:]:
            if t2 == 0xA1:
                bs, be = expect(der, s2, TAG_BITS, e2)
                unused, bs, be = read_bits(der, bs, be)
                if der[bs:be] != key.public_bits():
                    raise CertError("ECPrivateKey public key does not match its private key")
        return key
