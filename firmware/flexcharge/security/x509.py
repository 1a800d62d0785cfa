# X.509 v3 certificate reader (RFC 5280) and OCPP certificateHashData.
# Pure Python over security/der.py; every malformed input raises der.CertError only.
#
# API (stable):
#   pem_to_ders(text)            -> [der, ...] of every CERTIFICATE block, file order (CertError if none)
#   der_to_pem(der, label)       -> PEM text of one DER blob ("CERTIFICATE" unless told)
#   Certificate(der)             parses at construction; attributes:
#     .der                         the certificate bytes
#     .tbs, .signature             bytes signed, and the signature (BIT STRING contents)
#     .sig_alg                     "sha256WithRSAEncryption", "ecdsa-with-SHA256", another known
#                                  name ("sha1WithRSAEncryption", ...) or the dotted OID
#     .sig_supported               True for the two algorithms verify.py checks
#     .version                     1..3
#     .serial, .serial_bytes       int, and the INTEGER's content bytes
#     .issuer_der, .subject_der    DER of the Name (tag and length included)
#     .issuer, .subject            readable, RFC 4514 order: "CN=CS001,O=FlexCharge"
#     .not_before, .not_after      int Unix epoch
#     .key_type                    "rsa", "ec" (P-256 only) or the key algorithm's dotted OID
#     .rsa_n, .rsa_e               RSA public key (ints), else None
#     .ec_point                    (x, y) ints of the P-256 public key, else None
#     .spki_der                    DER of the SubjectPublicKeyInfo
#     .public_key_bits             subjectPublicKey BIT STRING value, no unused-bits byte
#     .ca, .path_len               basicConstraints (False / None when absent)
#     .key_usage                   None when absent, else int: bit i set = KeyUsage bit i (RFC 5280
#                                  numbering: KU_DIGITAL_SIGNATURE = 1<<0 ... KU_KEY_CERT_SIGN = 1<<5)
#     .unknown_critical            dotted OIDs of critical extensions this reader does not handle
#     .is_self_issued()            subject == issuer (DER)
#   hash_data(cert, issuer)      -> OCPP CertificateHashDataType dict (issuer: Certificate; the cert
#                                   itself for a self-signed root)
#   same_hash_data(a, b)         compares two CertificateHashDataType dicts (case/leading zeros)
import binascii
import hashlib

from flexcharge.security.der import (
    CertError, read_tlv, expect, children, read_int, read_oid, read_bits, read_time,
    TAG_SEQ, TAG_SET, TAG_INT, TAG_OID, TAG_BITS, TAG_OCTETS, TAG_BOOL, TAG_NULL,
    TAG_UTF8, TAG_PRINTABLE, TAG_T61, TAG_IA5, TAG_BMP,
)

OID_RSA = "1.2.840.113549.1.1.1"
OID_EC = "1.2.840.10045.2.1"
OID_P256 = "1.2.840.10045.3.1.7"
SIG_RSA_SHA256 = "sha256WithRSAEncryption"
SIG_ECDSA_SHA256 = "ecdsa-with-SHA256"

_SIG_ALGS = {
    "1.2.840.113549.1.1.11": SIG_RSA_SHA256,
    "1.2.840.10045.4.3.2": SIG_ECDSA_SHA256,
    # recognised, not verified here (reported as unsupported):
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}

_NAMES = {
    "2.5.4.3": "CN", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C", "2.5.4.8": "ST",
    "2.5.4.7": "L", "2.5.4.5": "serialNumber", "2.5.4.9": "STREET",
    "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
    "1.2.840.113549.1.9.1": "emailAddress",
}

KU_DIGITAL_SIGNATURE = 1 << 0
KU_NON_REPUDIATION = 1 << 1
KU_KEY_ENCIPHERMENT = 1 << 2
KU_DATA_ENCIPHERMENT = 1 << 3
KU_KEY_AGREEMENT = 1 << 4
KU_KEY_CERT_SIGN = 1 << 5
KU_CRL_SIGN = 1 << 6

_EXT_BC = "2.5.29.19"
_EXT_KU = "2.5.29.15"
# Extensions a verifier may ignore even when critical (they restrict uses this station has no
# part in: names are checked by the TLS stack, EKU by the peer's role).
_EXT_HARMLESS = ("2.5.29.17", "2.5.29.37", "2.5.29.14", "2.5.29.35", "2.5.29.32")

_PEM_LINE = 64


def pem_to_ders(text):
    from flexcharge.security.pem import pem_blocks

    try:
        blocks = pem_blocks(text)
    except ValueError as e:
        raise CertError(str(e))
    out = [der for label, der in blocks if label == "CERTIFICATE"]
    if not out:
        raise CertError("no PEM CERTIFICATE block found")
    return out


def der_to_pem(der, label="CERTIFICATE"):
    b64 = binascii.b2a_base64(bytes(der)).strip().decode()
    lines = ["-----BEGIN %s-----" % label]
    for i in range(0, len(b64), _PEM_LINE):
        lines.append(b64[i : i + _PEM_LINE])
    lines.append("-----END %s-----" % label)
    return "\n".join(lines) + "\n"


def _text(buf, tag, s, e):
    raw = bytes(buf[s:e])
    try:
        if tag == TAG_BMP:
            if len(raw) % 2:
                raise CertError("odd BMPString")
            return "".join(chr((raw[i] << 8) | raw[i + 1]) for i in range(0, len(raw), 2))
        if tag == TAG_T61:
            return "".join(chr(c) for c in raw)  # read as Latin-1
        return raw.decode()
    except (UnicodeError, ValueError):
        return "#" + binascii.hexlify(raw).decode()


def _escape(v):
    # RFC 4514 §2.4, just enough that "," and "=" in values cannot fake another attribute.
    out = []
    for i, c in enumerate(v):
        if c in ',+"\\<>;=' or (c == "#" and i == 0) or (c == " " and (i == 0 or i == len(v) - 1)):
            out.append("\\")
        out.append(c)
    return "".join(out)


def _name(buf, s, e):
    rdns = []
    for t, rs, re_ in children(buf, s, e):
        if t != TAG_SET:
            raise CertError("Name: RDN is not a SET")
        atvs = []
        for t2, as_, ae in children(buf, rs, re_, 8):
            if t2 != TAG_SEQ:
                raise CertError("Name: attribute is not a SEQUENCE")
            parts = children(buf, as_, ae, 2)
            if len(parts) != 2 or parts[0][0] != TAG_OID:
                raise CertError("Name: bad AttributeTypeAndValue")
            oid = read_oid(buf, parts[0][1], parts[0][2])
            vt, vs, ve = parts[1]
            if vt not in (TAG_UTF8, TAG_PRINTABLE, TAG_T61, TAG_IA5, TAG_BMP, 0x1C, 0x12, 0x1A):
                raise CertError("Name: attribute value tag 0x%02x is not a string" % vt)
            atvs.append(_NAMES.get(oid, oid) + "=" + _escape(_text(buf, vt, vs, ve)))
        if not atvs:
            raise CertError("Name: empty RDN")
        rdns.append("+".join(atvs))
    rdns.reverse()  # RFC 4514 §2.1: last RDN of the SEQUENCE first
    return ",".join(rdns)


def _alg(buf, s, e):
    parts = children(buf, s, e, 2)
    if not parts or parts[0][0] != TAG_OID:
        raise CertError("AlgorithmIdentifier without OID")
    return read_oid(buf, parts[0][1], parts[0][2]), (parts[1] if len(parts) > 1 else None)


def _alg_of(der_ai):
    t, s, e = read_tlv(der_ai, 0)
    return _alg(der_ai, s, e)


class Certificate:
    def __init__(self, der):
        if not isinstance(der, (bytes, bytearray, memoryview)):
            raise CertError("certificate must be DER bytes")
        b = bytes(der)
        self.der = b
        t, s, e = read_tlv(b, 0)
        if t != TAG_SEQ:
            raise CertError("certificate is not a DER SEQUENCE")
        if e != len(b):
            raise CertError("trailing bytes after the certificate")
        top = children(b, s, e, 3)
        if len(top) != 3 or top[0][0] != TAG_SEQ or top[1][0] != TAG_SEQ or top[2][0] != TAG_BITS:
            raise CertError("certificate is not SEQUENCE {tbsCertificate, signatureAlgorithm, signature}")
        ts, te = top[0][1], top[0][2]
        self.tbs = b[ts - _hdr(b, ts, te) : te]
        oid, params = _alg(b, top[1][1], top[1][2])
        self.sig_alg_der = b[top[1][1] - _hdr(b, top[1][1], top[1][2]) : top[1][2]]
        self.sig_alg = _SIG_ALGS.get(oid, oid)
        self.sig_supported = self.sig_alg in (SIG_RSA_SHA256, SIG_ECDSA_SHA256)
        if self.sig_supported:
            # RFC 4055 §5: NULL parameters for RSA; RFC 5758 §3.2: none for ECDSA.
            if self.sig_alg == SIG_RSA_SHA256 and params is not None and (params[0] != TAG_NULL or params[1] != params[2]):
                raise CertError("sha256WithRSAEncryption parameters must be NULL")
            if self.sig_alg == SIG_ECDSA_SHA256 and params is not None:
                raise CertError("ecdsa-with-SHA256 must have no parameters")
        unused, bs, be = read_bits(b, top[2][1], top[2][2])
        if unused:
            raise CertError("signature BIT STRING has unused bits")
        self.signature = b[bs:be]
        self._tbs(b, ts, te)

    def _tbs(self, b, s, e):
        f = children(b, s, e, 10)
        i = 0
        self.version = 1
        if i < len(f) and f[i][0] == 0xA0:
            vs, ve = expect(b, f[i][1], TAG_INT, f[i][2])
            if ve != f[i][2]:
                raise CertError("bad version field")
            v = read_int(b, vs, ve)
            if v not in (0, 1, 2):
                raise CertError("unknown certificate version %d" % (v + 1))
            self.version = v + 1
            i += 1
        if len(f) < i + 6:
            raise CertError("tbsCertificate has too few fields")
        t, ss, se = f[i]
        if t != TAG_INT:
            raise CertError("serialNumber is not an INTEGER")
        if se - ss > 20:
            # RFC 5280 §4.1.2.2: at most 20 octets; OCPP's serialNumber has maxLength 40 (hex).
            raise CertError("serialNumber longer than 20 octets")
        self.serial = read_int(b, ss, se)
        self.serial_bytes = b[ss:se]
        t, as_, ae = f[i + 1]
        if t != TAG_SEQ:
            raise CertError("tbsCertificate signature is not an AlgorithmIdentifier")
        if b[as_ - _hdr(b, as_, ae) : ae] != self.sig_alg_der:
            raise CertError("signature algorithm differs inside and outside tbsCertificate (RFC 5280 §4.1.1.2)")
        t, ns, ne = f[i + 2]
        if t != TAG_SEQ:
            raise CertError("issuer is not a Name")
        self.issuer_der = b[ns - _hdr(b, ns, ne) : ne]
        self.issuer = _name(b, ns, ne)
        t, vs, ve = f[i + 3]
        if t != TAG_SEQ:
            raise CertError("validity is not a SEQUENCE")
        v = children(b, vs, ve, 2)
        if len(v) != 2:
            raise CertError("validity must hold notBefore and notAfter")
        self.not_before = read_time(b, v[0][0], v[0][1], v[0][2])
        self.not_after = read_time(b, v[1][0], v[1][1], v[1][2])
        t, ns, ne = f[i + 4]
        if t != TAG_SEQ:
            raise CertError("subject is not a Name")
        self.subject_der = b[ns - _hdr(b, ns, ne) : ne]
        self.subject = _name(b, ns, ne)
        t, ks, ke = f[i + 5]
        if t != TAG_SEQ:
            raise CertError("subjectPublicKeyInfo is not a SEQUENCE")
        self.spki_der = b[ks - _hdr(b, ks, ke) : ke]
        self._spki(b, ks, ke)
        self.ca = False
        self.path_len = None
        self.key_usage = None
        self.unknown_critical = []
        j = i + 6
        if j < len(f) and f[j][0] == 0x81:
            j += 1
        if j < len(f) and f[j][0] == 0x82:
            j += 1
        if j < len(f) and f[j][0] == 0xA3:
            if self.version != 3:
                raise CertError("extensions in a version %d certificate" % self.version)
            xs, xe = expect(b, f[j][1], TAG_SEQ, f[j][2])
            if xe != f[j][2]:
                raise CertError("trailing bytes after extensions")
            self._extensions(b, xs, xe)
            j += 1
        if j != len(f):
            raise CertError("unexpected fields at the end of tbsCertificate")

    def _spki(self, b, s, e):
        p = children(b, s, e, 2)
        if len(p) != 2 or p[0][0] != TAG_SEQ or p[1][0] != TAG_BITS:
            raise CertError("bad subjectPublicKeyInfo")
        oid, params = _alg(b, p[0][1], p[0][2])
        unused, bs, be = read_bits(b, p[1][1], p[1][2])
        if unused:
            raise CertError("subjectPublicKey has unused bits")
        self.public_key_bits = b[bs:be]
        self.rsa_n = self.rsa_e = self.ec_point = None
        if oid == OID_RSA:
            self.key_type = "rsa"
            rs, re_ = expect(b, bs, TAG_SEQ, be)
            if re_ != be:
                raise CertError("trailing bytes after RSAPublicKey")
            k = children(b, rs, re_, 2)
            if len(k) != 2 or k[0][0] != TAG_INT or k[1][0] != TAG_INT:
                raise CertError("bad RSAPublicKey")
            self.rsa_n = read_int(b, k[0][1], k[0][2])
            self.rsa_e = read_int(b, k[1][1], k[1][2])
            if self.rsa_n <= 0 or self.rsa_e <= 0:
                raise CertError("RSA key with a non-positive modulus or exponent")
        elif oid == OID_EC:
            if params is None or params[0] != TAG_OID:
                raise CertError("EC key without a named curve")
            curve = read_oid(b, params[1], params[2])
            if curve != OID_P256:
                self.key_type = "ec:" + curve  # recognised, unsupported curve
                return
            self.key_type = "ec"
            self.ec_point = decode_point(self.public_key_bits)
        else:
            self.key_type = oid

    def _extensions(self, b, s, e):
        seen = []
        for t, es, ee in children(b, s, e, 32):
            if t != TAG_SEQ:
                raise CertError("extension is not a SEQUENCE")
            p = children(b, es, ee, 3)
            if len(p) < 2 or p[0][0] != TAG_OID:
                raise CertError("bad extension")
            oid = read_oid(b, p[0][1], p[0][2])
            if oid in seen:
                raise CertError("extension %s appears twice (RFC 5280 §4.2)" % oid)
            seen.append(oid)
            critical = False
            k = 1
            if p[k][0] == TAG_BOOL:
                if p[k][2] - p[k][1] != 1 or b[p[k][1]] not in (0, 0xFF):
                    raise CertError("bad BOOLEAN")
                critical = b[p[k][1]] == 0xFF
                k += 1
            if k != len(p) - 1 or p[k][0] != TAG_OCTETS:
                raise CertError("extension value is not an OCTET STRING")
            vs, ve = p[k][1], p[k][2]
            if oid == _EXT_BC:
                bs, be = expect(b, vs, TAG_SEQ, ve)
                if be != ve:
                    raise CertError("trailing bytes in basicConstraints")
                q = children(b, bs, be, 2)
                m = 0
                if m < len(q) and q[m][0] == TAG_BOOL:
                    if q[m][2] - q[m][1] != 1 or b[q[m][1]] not in (0, 0xFF):
                        raise CertError("bad BOOLEAN")
                    self.ca = b[q[m][1]] == 0xFF
                    m += 1
                if m < len(q) and q[m][0] == TAG_INT:
                    self.path_len = read_int(b, q[m][1], q[m][2])
                    if self.path_len < 0:
                        raise CertError("negative pathLenConstraint")
                    m += 1
                if m != len(q):
                    raise CertError("bad basicConstraints")
            elif oid == _EXT_KU:
                bs, be = expect(b, vs, TAG_BITS, ve)
                if be != ve:
                    raise CertError("trailing bytes in keyUsage")
                unused, bs, be = read_bits(b, bs, be)
                ku = 0
                bit = 0
                for i in range(bs, min(be, bs + 2)):
                    byte = b[i]
                    for j in range(8):
                        if byte & (0x80 >> j):
                            ku |= 1 << bit
                        bit += 1
                self.key_usage = ku
            elif critical and oid not in _EXT_HARMLESS:
                self.unknown_critical.append(oid)

    def is_self_issued(self):
        return self.subject_der == self.issuer_der

    def __repr__(self):
        return "<Certificate %s serial %x>" % (self.subject, self.serial)


def _hdr(b, s, e):
    # Length of the tag+length header of the TLV whose content is b[s:e].
    n = e - s
    if n < 0x80:
        return 2
    k = 1
    while n >> (8 * k):
        k += 1
    return 2 + k


# P-256 field prime and curve constant b, for point validation (SEC 1 §3.2.2).
P256_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B


def decode_point(bits):
    """(x, y) of an uncompressed or compressed P-256 point; must lie on the curve."""
    p = P256_P
    if len(bits) == 65 and bits[0] == 4:
        x = int.from_bytes(bits[1:33], "big")
        y = int.from_bytes(bits[33:65], "big")
    elif len(bits) == 33 and bits[0] in (2, 3):
        x = int.from_bytes(bits[1:33], "big")
        if x >= p:
            raise CertError("EC point x out of range")
        y2 = (x * x * x - 3 * x + P256_B) % p
        y = pow(y2, (p + 1) // 4, p)  # p = 3 mod 4
        if y * y % p != y2:
            raise CertError("compressed EC point is not on P-256")
        if (y & 1) != (bits[0] & 1):
            y = p - y
    else:
        raise CertError("EC public key is not a P-256 point encoding")
    if x >= p or y >= p or (y * y - (x * x * x - 3 * x + P256_B)) % p:
        raise CertError("EC public key is not on P-256")
    return (x, y)


def _hex(data):
    return binascii.hexlify(bytes(data)).decode()


def serial_hex(cert):
    # OCPP 2.1 CertificateHashDataType (clarifying 2.0.1): "hexadecimal value of the serial
    # number without the prefix 0x and without leading zeroes". Lower case, as hexlify writes.
    h = _hex(cert.serial_bytes).lstrip("0")
    return h or "0"


def hash_data(cert, issuer):
    """OCPP CertificateHashDataType of cert, issued by `issuer` (both Certificate).

    issuerNameHash: SHA-256 over the DER of cert's issuer Name; issuerKeyHash: SHA-256 over
    the issuer's subjectPublicKey BIT STRING value, without tag, length and unused-bits octet
    (RFC 6960 §4.1.1 CertID, as OCPP 2.1 spells out for CertificateHashDataType).
    """
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": _hex(hashlib.sha256(cert.issuer_der).digest()),
        "issuerKeyHash": _hex(hashlib.sha256(issuer.public_key_bits).digest()),
        "serialNumber": serial_hex(cert),
    }


def same_hash_data(a, b):
    """True when two CertificateHashDataType dicts name the same certificate (hex compared
    case-insensitively, serialNumber also without leading zeros)."""
    try:
        if a["hashAlgorithm"] != b["hashAlgorithm"]:
            return False
        for k in ("issuerNameHash", "issuerKeyHash"):
            if a[k].lower() != b[k].lower():
                return False
        return (a["serialNumber"].lower().lstrip("0") or "0") == (b["serialNumber"].lower().lstrip("0") or "0")
    except (KeyError, TypeError, AttributeError):
        return False
