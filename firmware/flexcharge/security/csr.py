# PKCS#10 certification request (RFC 2986) for A02/A03 certificate renewal: subject
# CN = the station identity, O = SecurityCtrlr.OrganizationName (A02.FR.04 / A03.FR.04 ask
# for this subject), signed ecdsa-with-SHA256 with the on-device P-256 key.
#
# API (stable):
#   build_csr(key, common_name, organization=None) -> PEM text ("CERTIFICATE REQUEST"),
#                                                     the `csr` field of SignCertificateRequest
#   build_csr_der(key, common_name, organization=None) -> DER bytes
#   name_der(common_name, organization=None)       -> DER of the Name (O first, then CN: "CN=..,O=..")
from flexcharge.security.der import CertError, enc, enc_int, enc_oid, enc_seq, enc_bits, TAG_SET, TAG_UTF8
from flexcharge.security.p256 import OID_ECDSA_SHA256
from flexcharge.security.x509 import der_to_pem

OID_CN = "2.5.4.3"
OID_O = "2.5.4.10"
_UB_CN = 64  # RFC 5280 Appendix A ub-common-name / ub-organization-name


def _rdn(oid, value):
    if not isinstance(value, str) or not value or len(value) > _UB_CN:
        raise CertError("subject attribute %s must be 1..%d characters" % (oid, _UB_CN))
    return enc(TAG_SET, enc_seq(enc_oid(oid), enc(TAG_UTF8, value.encode())))


def name_der(common_name, organization=None):
    rdns = []
    if organization:
        rdns.append(_rdn(OID_O, organization))
    rdns.append(_rdn(OID_CN, common_name))
    return enc_seq(*rdns)


def build_csr_der(key, common_name, organization=None):
    info = enc_seq(enc_int(0), name_der(common_name, organization), key.spki_der(), enc(0xA0, b""))
    # RFC 5758 §3.2: ecdsa-with-SHA256 AlgorithmIdentifier without parameters.
    return enc_seq(info, enc_seq(enc_oid(OID_ECDSA_SHA256)), enc_bits(key.sign(info)))


def build_csr(key, common_name, organization=None):
    return der_to_pem(build_csr_der(key, common_name, organization), "CERTIFICATE REQUEST")
