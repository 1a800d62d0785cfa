#!/usr/bin/env python3
"""Generate a test PKI for the TLS security profiles (2 and 3) with `cryptography`.

Files written into OUT_DIR (all PEM, keys unencrypted PKCS#8):
    ca.pem, ca.key            root CA (self-signed; the station's tls.ca and the CSMS's client CA)
    csms.pem, csms.key        CSMS server certificate (SAN: DNS localhost, IP 127.0.0.1 by default)
    station.pem, station.key  station client certificate (CN = station identity), signed by the CA

    python tools/pki.py OUT_DIR [--key rsa|ec] [--client-key rsa|ec] [--identity ID] [--server-host H ...]

    from pki import generate_pki
    paths = generate_pki(out_dir, key_type="ec", identity="FC-1")   # -> dict of the paths above
"""

import argparse
import datetime
import ipaddress
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_TYPES = ("rsa", "ec")


def new_key(key_type):
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError("key type must be 'rsa' or 'ec', not %r" % (key_type,))


def _name(cn, org):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _san(hosts):
    names = []
    for h in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            names.append(x509.DNSName(h))
    return x509.SubjectAlternativeName(names)


def _key_usage(key, ca=False):
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False,
        key_encipherment=is_rsa and not ca, data_encipherment=False,
        key_agreement=(not is_rsa) and not ca, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False)


def _build(subject, issuer, public_key, issuer_key, days, extensions):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(days=1))
         .not_valid_after(now + datetime.timedelta(days=days)))
    for ext, critical in extensions:
        b = b.add_extension(ext, critical=critical)
    return b.sign(issuer_key, hashes.SHA256())


def _write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def generate_pki(out_dir, key_type="rsa", identity="FC-TEST-1", server_hosts=("localhost", "127.0.0.1"),
                 client_key_type=None, server_key_type=None, org="FlexCharge Test", ca_name="FlexCharge Test Root CA",
                 days=365):
    """Write ca/csms/station certificates and keys into out_dir; return {"ca", "ca_key", "server_cert",
    "server_key", "client_cert", "client_key", "dir"} (absolute paths)."""
    os.makedirs(out_dir, exist_ok=True)
    out_dir = os.path.abspath(out_dir)
    ca_key = new_key(key_type)
    ca_subject = _name(ca_name, org)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = _build(ca_subject, ca_subject, ca_key.public_key(), ca_key, days * 2, [
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (_key_usage(ca_key, ca=True), True),
        (ca_ski, False),
    ])
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)

    server_key = new_key(server_key_type or key_type)
    server = _build(_name(server_hosts[0] if server_hosts else "csms", org), ca_subject, server_key.public_key(), ca_key, days, [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (_key_usage(server_key), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (_san(server_hosts), False),
        (x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), False),
        (aki, False),
    ])

    client_key = new_key(client_key_type or key_type)
    # Security profile 3: the station certificate names the station identity as Common Name.
    client = _build(_name(identity, org), ca_subject, client_key.public_key(), ca_key, days, [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (_key_usage(client_key), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
        (x509.SubjectKeyIdentifier.from_public_key(client_key.public_key()), False),
        (aki, False),
    ])

    paths = {
        "dir": out_dir,
        "ca": os.path.join(out_dir, "ca.pem"), "ca_key": os.path.join(out_dir, "ca.key"),
        "server_cert": os.path.join(out_dir, "csms.pem"), "server_key": os.path.join(out_dir, "csms.key"),
        "client_cert": os.path.join(out_dir, "station.pem"), "client_key": os.path.join(out_dir, "station.key"),
    }
    _write(paths["ca"], _cert_pem(ca))
    _write(paths["ca_key"], _key_pem(ca_key))
    _write(paths["server_cert"], _cert_pem(server))
    _write(paths["server_key"], _key_pem(server_key))
    _write(paths["client_cert"], _cert_pem(client))
    _write(paths["client_key"], _key_pem(client_key))
    return paths


def _load(path, key=False):
    with open(path, "rb") as f:
        data = f.read()
    return serialization.load_pem_private_key(data, None) if key else x509.load_pem_x509_certificate(data)


def generate_successor_root(pki, out_dir, name="FlexCharge Test Root CA 2", server_hosts=("localhost", "127.0.0.1"),
                            org="FlexCharge Test", days=365):
    """A new CSMS root signed by the old root of `pki` (M05 AdditionalRootCertificateCheck), and a CSMS
    server certificate under it. -> {"ca", "ca_key", "server_cert", "server_key"} (PEM paths)."""
    os.makedirs(out_dir, exist_ok=True)
    old = _load(pki["ca"])
    old_key = _load(pki["ca_key"], key=True)
    key = new_key("ec")
    subject = _name(name, org)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    root = _build(subject, old.subject, key.public_key(), old_key, days * 2, [
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (_key_usage(key, ca=True), True),
        (ski, False),
    ])
    server_key = new_key("ec")
    server = _build(_name(server_hosts[0], org), subject, server_key.public_key(), key, days, [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (_key_usage(server_key), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (_san(server_hosts), False),
        (x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False),
    ])
    paths = {k: os.path.join(os.path.abspath(out_dir), v) for k, v in (
        ("ca", "ca.pem"), ("ca_key", "ca.key"), ("server_cert", "csms.pem"), ("server_key", "csms.key"))}
    _write(paths["ca"], _cert_pem(root))
    _write(paths["ca_key"], _key_pem(key))
    _write(paths["server_cert"], _cert_pem(server))
    _write(paths["server_key"], _key_pem(server_key))
    return paths


def generate_firmware_pki(out_dir, key_type="ec", org="FlexCharge Maker", prefix="mfr"):
    """A manufacturer root CA and a firmware signing certificate it issued (L01: the station
    checks signingCertificate against its ManufacturerRootCertificates). Writes
    <prefix>_ca.pem/.key and <prefix>_signer.pem/.key; returns {"ca", "ca_key", "signer",
    "signer_key"} (absolute paths)."""
    os.makedirs(out_dir, exist_ok=True)
    out_dir = os.path.abspath(out_dir)
    ca_key = new_key(key_type)
    ca_subject = _name(org + " Firmware Root", org)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = _build(ca_subject, ca_subject, ca_key.public_key(), ca_key, 730, [
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (_key_usage(ca_key, ca=True), True),
        (ca_ski, False),
    ])
    key = new_key(key_type)
    signer = _build(_name(org + " Firmware Signing", org), ca_subject, key.public_key(), ca_key, 365, [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                       encipher_only=False, decipher_only=False), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False),
        (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        (x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False),
    ])
    paths = {k: os.path.join(out_dir, "%s_%s" % (prefix, f)) for k, f in
             (("ca", "ca.pem"), ("ca_key", "ca.key"), ("signer", "signer.pem"), ("signer_key", "signer.key"))}
    _write(paths["ca"], _cert_pem(ca))
    _write(paths["ca_key"], _key_pem(ca_key))
    _write(paths["signer"], _cert_pem(signer))
    _write(paths["signer_key"], _key_pem(key))
    return paths


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate a test PKI (root CA, CSMS server cert, station client cert).")
    ap.add_argument("out_dir")
    ap.add_argument("--key", choices=KEY_TYPES, default="rsa", help="key type of all three (default rsa: RSA-2048; ec: P-256)")
    ap.add_argument("--client-key", choices=KEY_TYPES, help="key type of the station certificate only")
    ap.add_argument("--server-key", choices=KEY_TYPES, help="key type of the CSMS certificate only")
    ap.add_argument("--identity", default="FC-TEST-1", help="station identity = client certificate CN")
    ap.add_argument("--server-host", action="append", dest="hosts",
                    help="SAN entry of the CSMS certificate (repeatable; default localhost and 127.0.0.1)")
    ap.add_argument("--days", type=int, default=365)
    args = ap.parse_args(argv)
    paths = generate_pki(args.out_dir, key_type=args.key, identity=args.identity,
                         server_hosts=tuple(args.hosts or ("localhost", "127.0.0.1")),
                         client_key_type=args.client_key, server_key_type=args.server_key, days=args.days)
    for k in ("ca", "server_cert", "server_key", "client_cert", "client_key"):
        print("%-12s %s" % (k, paths[k]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
