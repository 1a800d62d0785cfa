# Signature and certificate chain verification: RSA PKCS#1 v1.5 and ECDSA P-256, both with
# SHA-256 (the two algorithms OCPP 2.0.1 Part 2 A00.FR.3xx / A00.FR.4xx name), in Python
# integers and hashlib. Every failure raises der.CertError with the reason.
#
# API (stable):
#   verify_chain(chain, anchors, now)     chain: DER or Certificate, leaf first; anchors: the trust
#                                         anchors (DER or Certificate); now: Unix epoch int, or None
#                                         to skip validity periods. -> None, or raises CertError.
#                                         anchors=None checks only the links inside the chain.
#   check_signed_by(cert, issuer)         signature of cert (Certificate) by issuer's key; raises
#   verify_signature(cert, data, sig, digest=None)
#                                         firmware signatures: sig is the DER ECDSA-Sig-Value (EC key)
#                                         or the raw RSA signature; pass digest (SHA-256 of data,
#                                         computed while streaming) with data=None. Raises CertError.
#   verify_rsa(n, e, digest, sig) -> bool / verify_ecdsa(point, digest, sig_der) -> bool
#
# Sizes accepted: RSA moduli of 2048..4096 bits (A00.FR.4xx: RSA keys >= 2048 bits), P-256 keys.
import hashlib

from flexcharge.security.der import CertError, bit_length
from flexcharge.security import p256
from flexcharge.security.x509 import Certificate, SIG_RSA_SHA256, SIG_ECDSA_SHA256, KU_KEY_CERT_SIGN

RSA_MIN_BITS = 2048
RSA_MAX_BITS = 4096
MAX_CHAIN = 6  # OCPP childCertificateHashData holds at most 4 certificates below a root

# DigestInfo for SHA-256 (RFC 8017 §9.2 note 1), with and without the NULL parameters
# (RFC 8017 §9.2 note 2 asks verifiers to accept both).
_DI_SHA256 = b"\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20"
_DI_SHA256_NO_NULL = b"\x30\x2f\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x04\x20"


def verify_rsa(n, e, digest, sig):
    """RSASSA-PKCS1-v1_5 verify (RFC 8017 §8.2.2) of a SHA-256 digest."""
    nbits = bit_length(n)
    if not RSA_MIN_BITS <= nbits <= RSA_MAX_BITS:
        raise CertError("RSA key of %d bits (2048..4096 supported)" % nbits)
    if e < 3 or not e & 1 or bit_length(e) > 256:
        # > 256 bits: no real key has one, and a huge exponent would make pow() a DoS.
        raise CertError("bad RSA public exponent")
    k = (nbits + 7) // 8
    if len(sig) != k or len(digest) != 32:
        return False
    s = int.from_bytes(bytes(sig), "big")
    if s >= n:
        return False
    em = pow(s, e, n).to_bytes(k, "big")
    # The whole encoded message is rebuilt and compared: no parsing of attacker-chosen padding
    # (the Bleichenbacher 2006 signature-forgery class).
    for di in (_DI_SHA256, _DI_SHA256_NO_NULL):
        pad = k - 3 - len(di) - 32
        if em == b"\x00\x01" + b"\xff" * pad + b"\x00" + di + bytes(digest):
            return True
    return False


def verify_ecdsa(point, digest, sig_der):
    r, s = p256.sig_from_der(sig_der)
    return p256.verify_digest(point, digest, r, s)


def _verify_with_key(key_cert, alg, digest, sig):
    # alg: the signature algorithm name; key_cert: the Certificate holding the public key.
    if alg == SIG_RSA_SHA256:
        if key_cert.key_type != "rsa":
            raise CertError("sha256WithRSAEncryption signature but the key of %s is %s" % (key_cert.subject, key_cert.key_type))
        return verify_rsa(key_cert.rsa_n, key_cert.rsa_e, digest, sig)
    if alg == SIG_ECDSA_SHA256:
        if key_cert.key_type != "ec":
            raise CertError("ecdsa-with-SHA256 signature but the key of %s is %s" % (key_cert.subject, key_cert.key_type))
        return verify_ecdsa(key_cert.ec_point, digest, sig)
    raise CertError("unsupported signature algorithm %s" % alg)


def _cert(c):
    return c if isinstance(c, Certificate) else Certificate(c)


def check_signed_by(cert, issuer):
    """Raise CertError unless issuer's key made cert's signature."""
    if not cert.sig_supported:
        raise CertError("unsupported signature algorithm %s on %s" % (cert.sig_alg, cert.subject))
    if cert.issuer_der != issuer.subject_der:
        raise CertError("issuer of %s is %s, not %s" % (cert.subject, cert.issuer, issuer.subject))
    digest = hashlib.sha256(cert.tbs).digest()
    if not _verify_with_key(issuer, cert.sig_alg, digest, cert.signature):
        raise CertError("signature of %s does not verify with the key of %s" % (cert.subject, issuer.subject))


def verify_signature(cert, data, sig, digest=None):
    """Firmware signature (issue 11): SHA-256 over data (or the given digest) signed by cert's key."""
    cert = _cert(cert)
    if digest is None:
        digest = hashlib.sha256(bytes(data)).digest()
    if cert.key_type == "ec":
        ok = verify_ecdsa(cert.ec_point, digest, sig)
    elif cert.key_type == "rsa":
        ok = verify_rsa(cert.rsa_n, cert.rsa_e, digest, sig)
    else:
        raise CertError("unsupported key type %s for signatures" % cert.key_type)
    if not ok:
        raise CertError("signature does not verify with the key of %s" % cert.subject)


def _check_time(c, now):
    if now is None:
        return
    if now < c.not_before:
        raise CertError("certificate %s is not yet valid" % c.subject)
    if now > c.not_after:
        raise CertError("certificate %s has expired" % c.subject)


def _check_issuer(c, below, anchor=False):
    # c issues certificates; `below` = CA certificates between c and the leaf (RFC 5280 §6.1.4).
    # Only a trust anchor may be a v1 certificate without basicConstraints (old roots).
    if not c.ca and not (anchor and c.version < 3):
        raise CertError("issuer %s is not a CA (basicConstraints)" % c.subject)
    if c.key_usage is not None and not c.key_usage & KU_KEY_CERT_SIGN:
        raise CertError("issuer %s may not sign certificates (keyUsage without keyCertSign)" % c.subject)
    if c.path_len is not None and below > c.path_len:
        raise CertError("path length constraint of %s exceeded" % c.subject)


def _same(a, b):
    return a.subject_der == b.subject_der and a.spki_der == b.spki_der


def verify_chain(chain, anchors, now):
    """Raise CertError unless chain (leaf first) leads to one of anchors, valid at now."""
    if not chain:
        raise CertError("empty certificate chain")
    if len(chain) > MAX_CHAIN:
        raise CertError("certificate chain longer than %d" % MAX_CHAIN)
    certs = [_cert(c) for c in chain]
    roots = None if anchors is None else [_cert(a) for a in anchors]
    for i in range(len(certs)):
        c = certs[i]
        _check_time(c, now)
        if c.unknown_critical:
            raise CertError("certificate %s has an unsupported critical extension %s" % (c.subject, c.unknown_critical[0]))
        if roots is not None:
            for a in roots:
                if _same(c, a):
                    # Reached a trust anchor (also when the chain carries the root itself).
                    _check_time(a, now)
                    return
        if i + 1 < len(certs):
            up = certs[i + 1]
            if c.issuer_der != up.subject_der:
                raise CertError("chain out of order: %s is not issued by %s" % (c.subject, up.subject))
            _check_issuer(up, i)
            check_signed_by(c, up)
    if roots is None:
        return
    last = certs[-1]
    why = "no trust anchor for %s (issuer %s)" % (last.subject, last.issuer)
    for a in roots:
        if a.subject_der != last.issuer_der:
            continue
        try:
            _check_time(a, now)
            _check_issuer(a, len(certs) - 1, True)
            check_signed_by(last, a)
            return
        except CertError as e:
            why = str(e)  # another anchor of the same name may still fit (root renewal)
    raise CertError(why)
