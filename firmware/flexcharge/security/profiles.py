# OCPP security profiles (Part 2 A00, Part 4 §"Security"): what the WebSocket transport
# needs for each -- an ssl context, the host name to verify, and extra HTTP headers.
#   0: ws://, no authentication (test set-ups only)
#   1: ws://  + HTTP Basic auth
#   2: wss:// + HTTP Basic auth, CSMS verified against our CA
#   3: wss:// + client certificate (mutual TLS), no Basic auth
import binascii

from flexcharge import compat
from flexcharge.security.pem import pem_to_der

# passwordString (Part 2 §2.1.4 as amended by errata 2025-01; TC_A_01_CS tool validations).
_PASSWORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-_=:+|@."
PASSWORD_MIN = 16  # A00.FR.205
PASSWORD_MAX = 64  # A00.FR.205 (errata 2025-01: maxLimit of BasicAuthPassword, at least 40, at most 64)
IDENTITY_MAX = 48  # Part 4 §3.1.1


class ConfigError(ValueError):
    pass


def check_basic_auth_password(password):
    """Raise ConfigError unless password is a valid BasicAuthPassword (A00.FR.205).

    Also the check for SetVariables on SecurityCtrlr.BasicAuthPassword: TC_A_10_CS
    (A01.FR.11, A01.FR.12) expects a password shorter than 16 characters Rejected.
    """
    if not isinstance(password, str) or not password:
        raise ConfigError("basic_auth_password is required for security profiles 1 and 2")
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ConfigError("basic_auth_password must have %d to %d characters (A00.FR.205), not %d"
                          % (PASSWORD_MIN, PASSWORD_MAX, len(password)))
    for c in password:
        if c not in _PASSWORD_CHARS:
            raise ConfigError("basic_auth_password may only contain letters, digits and *-_=:+|@. (passwordString)")


def check_identity(identity):
    if not isinstance(identity, str) or not identity:
        raise ConfigError("identity is required")
    if len(identity) > IDENTITY_MAX:
        raise ConfigError("identity longer than %d characters (Part 4 §3.1.1)" % IDENTITY_MAX)
    for c in identity:
        if ord(c) <= 0x20 or ord(c) >= 0x7F:
            raise ConfigError("identity contains a space, control or non-ASCII character")
    # Part 4 §3.1.1: ':' separates user and password in Basic auth.
    if ":" in identity:
        raise ConfigError("identity must not contain ':' (Part 4 §3.1.1)")


def basic_auth_header(identity, password):
    """("Authorization", "Basic base64(identity:password)"), password as UTF-8 (A00.FR.205)."""
    check_identity(identity)
    check_basic_auth_password(password)
    token = binascii.b2a_base64((identity + ":" + password).encode()).strip().decode()
    return ("Authorization", "Basic " + token)


def _scheme_host(url):
    # Just enough of the URL for the profile checks; the full parse is comm.url's (this
    # layer sits below comm). The tests check both agree.
    if not isinstance(url, str):
        raise ConfigError("csms_url must be a string")
    i = url.find("://")
    scheme = url[:i].lower() if i > 0 else ""
    if scheme not in ("ws", "wss"):
        raise ConfigError("csms_url must start with ws:// or wss://: %r" % url)
    rest = url[i + 3 :]
    for sep in "/?#":
        k = rest.find(sep)
        if k >= 0:
            rest = rest[:k]
    if rest.startswith("["):
        host = rest[1 : rest.find("]")] if "]" in rest else ""
    else:
        k = rest.find(":")
        host = rest[:k] if k >= 0 else rest
    if not host:
        raise ConfigError("csms_url has no host: %r" % url)
    return scheme == "wss", host


def _read(path, what):
    if not path:
        raise ConfigError("%s is required for this security profile" % what)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ConfigError("cannot read %s %s: %s" % (what, path, e))


def _der(path, what, label):
    try:
        return pem_to_der(_read(path, what), label)
    except ConfigError:
        raise
    except ValueError as e:
        raise ConfigError("%s %s: %s" % (what, path, e))


def check_url(profile, url):
    """The host of url, or ConfigError if url does not suit security profile `profile`."""
    secure, host = _scheme_host(url)
    if profile <= 1 and secure:
        raise ConfigError("security profile %d uses ws://; wss:// needs profile 2 or 3" % profile)
    if profile >= 2 and not secure:
        # A station configured for TLS never falls back to plain ws.
        raise ConfigError("security profile %d requires a wss:// csms_url" % profile)
    return host


def transport(profile, url, identity, password=None, ca=None, cert=None, key=None, store=None):
    """-> (ssl_context or None, server_hostname or None, headers tuple) for websocket.connect().

    ca, cert, key are PEM file paths. store (certstore.CertStore), when given, replaces them:
    every installed CSMSRootCertificate is a trust anchor and the client certificate chain and
    key are the store's (the one on trial after CertificateSigned, A02.FR.08). Raises
    ConfigError for any inconsistency, before a single byte goes on the wire.
    """
    if type(profile) is not int or not 0 <= profile <= 3:
        raise ConfigError("security_profile must be 0, 1, 2 or 3, not %r" % (profile,))
    host = check_url(profile, url)
    check_identity(identity)
    if profile == 0:
        return (None, None, ())
    headers = ()
    if profile <= 2:
        headers = (basic_auth_header(identity, password),)
    if profile == 1:
        return (None, None, headers)
    if store is not None:
        ca, cert, key = "(store)", None, None
        ca_ders = store.anchors_der("CSMSRootCertificate")
        if not ca_ders:
            raise ConfigError("security profile %d: no CSMSRootCertificate installed" % profile)
        if profile == 3:
            chain = store.client_chain_der()
            key_der = store.client_key_der()
            if not chain or key_der is None:
                raise ConfigError("security profile 3: no ChargingStationCertificate installed")
            cert_der = chain[0]
    else:
        ca_ders = _der(ca, "tls.ca", "CERTIFICATE")
        if profile == 3:
            cert_der = _der(cert, "tls.cert", "CERTIFICATE")[0]  # leaf first, as in any chain file
            key_der = _der(key, "tls.key", "PRIVATE KEY")[0]
    try:
        # MicroPython's default is CERT_NONE: the context verifies the CSMS explicitly. TC_A_05_CS
        # (A00.FR.309-311): an unknown, expired or wrongly named certificate ends the connection.
        ctx = compat.tls_client_context(ca_ders)
    except (ValueError, OSError) as e:
        raise ConfigError("tls.ca %s is not usable: %s" % (ca, e))
    if profile == 3:
        try:
            compat.ssl_load_cert_chain(ctx, cert, key, cert_der, key_der)
        except (ValueError, OSError) as e:
            raise ConfigError("tls.cert %s / tls.key %s are not usable: %s" % (cert, key, e))
    # The host name (or IP address) of the URL is always checked: MicroPython skips the
    # check when server_hostname is None.
    return (ctx, host, headers)


def verifying_context(ca_ders):
    """An ssl context that verifies the server against ca_ders (DER list): HTTPS downloads and
    uploads (L01, N01). The caller passes the host name (comm/http.py always does)."""
    if not ca_ders:
        raise ConfigError("no CA certificate to verify the server with")
    # compat: MicroPython's built-in `tls` (frozen builds have no micropython-lib `ssl` wrapper).
    return compat.tls_client_context(ca_ders)
