# The station configuration file (DESIGN.md, launcher contract). Checked completely
# before anything connects: a bad file stops the station with a message naming the entry.
import json


class ConfigError(Exception):
    pass


_KEYS = (
    "identity", "csms_url", "security_profile", "basic_auth_password", "tls", "ocpp_versions",
    "vendor", "model", "serial_number", "firmware_version", "evses", "device_model", "firmware_probation_s",
)
_EVSE_KEYS = ("id", "connectors", "max_current", "phases", "voltage")
_TLS_KEYS = ("ca", "cert", "key", "manufacturer_ca")  # manufacturer_ca: factory ManufacturerRootCertificate(s)
# Lengths from BootNotificationRequest's ChargingStationType (strict in what we send).
_MAXLEN = (("vendor", 50), ("model", 20), ("serial_number", 25), ("firmware_version", 50))
SUPPORTED_VERSIONS = ("ocpp2.0.1",)


def load(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise ConfigError("cannot read config %s: %s" % (path, e))
    try:
        cfg = json.loads(text)
    except ValueError as e:
        raise ConfigError("config %s is not valid JSON: %s" % (path, e))
    return check(cfg)


def _int(cfg, key, where, lo, hi):
    v = cfg.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or v > hi:
        raise ConfigError("%s%s must be an integer %d..%d, got %r" % (where, key, lo, hi, v))
    return v


def check(cfg):
    if not isinstance(cfg, dict):
        raise ConfigError("config must be a JSON object")
    for k in cfg:
        if k not in _KEYS:
            raise ConfigError("unknown config key %r (known: %s)" % (k, ", ".join(_KEYS)))
    for k in ("identity", "csms_url", "evses"):
        if k not in cfg:
            raise ConfigError("missing mandatory config key %r" % k)
    ident = cfg["identity"]
    # Part 4 §3.1.1: the identity is a URL path segment; keep it to unreserved characters.
    if not isinstance(ident, str) or not ident or len(ident) > 48:
        raise ConfigError("identity must be a non-empty string of at most 48 characters")
    for ch in ident:
        if not (ch.isalpha() or ch.isdigit() or ch in "-_.~*|:@"):
            raise ConfigError("identity %r has a character not allowed in a URL path segment: %r" % (ident, ch))
    url = cfg["csms_url"]
    if not isinstance(url, str) or not (url.startswith("ws://") or url.startswith("wss://")):
        raise ConfigError("csms_url must start with ws:// or wss://, got %r" % (url,))
    prof = cfg.setdefault("security_profile", 0)
    _int(cfg, "security_profile", "", 0, 3)
    tls = cfg.get("tls", {})
    if not isinstance(tls, dict):
        raise ConfigError("tls must be an object with ca, cert, key, manufacturer_ca")
    for k in tls:
        if k not in _TLS_KEYS:
            raise ConfigError("unknown tls key %r (known: ca, cert, key, manufacturer_ca)" % (k,))
        if not isinstance(tls[k], str):
            raise ConfigError("tls.%s must be a file path" % k)
    cfg["tls"] = tls
    pw = cfg.get("basic_auth_password")
    if prof in (1, 2):
        if not isinstance(pw, str) or not pw:
            raise ConfigError("security_profile %d needs basic_auth_password" % prof)
    if prof == 2 and "ca" not in tls:
        raise ConfigError("security_profile 2 needs tls.ca")
    if prof == 3:
        for k in ("ca", "cert", "key"):
            if k not in tls:
                raise ConfigError("security_profile 3 needs tls.%s" % k)
    if prof >= 2 and not url.startswith("wss://"):
        raise ConfigError("security_profile %d needs a wss:// csms_url (no fallback to plain ws)" % prof)
    if prof <= 1 and url.startswith("wss://"):
        raise ConfigError("security_profile %d is plain ws://; use profile 2 or 3 for wss://" % prof)
    vers = cfg.setdefault("ocpp_versions", ["ocpp2.0.1"])
    if not isinstance(vers, list) or not vers:
        raise ConfigError("ocpp_versions must be a non-empty list")
    for v in vers:
        if v not in SUPPORTED_VERSIONS:
            raise ConfigError("ocpp_versions: %r is not supported (supported: %s)" % (v, ", ".join(SUPPORTED_VERSIONS)))
    for k, n in _MAXLEN:
        v = cfg.get(k)
        if v is not None and (not isinstance(v, str) or len(v) > n):
            raise ConfigError("%s must be a string of at most %d characters" % (k, n))
    evses = cfg["evses"]
    if not isinstance(evses, list) or not evses:
        raise ConfigError("evses must be a non-empty list")
    seen = []
    for i, e in enumerate(evses):
        where = "evses[%d]." % i
        if not isinstance(e, dict):
            raise ConfigError("evses[%d] must be an object" % i)
        for k in e:
            if k not in _EVSE_KEYS:
                raise ConfigError("unknown key %s%s (known: %s)" % (where, k, ", ".join(_EVSE_KEYS)))
        eid = _int(e, "id", where, 1, 255)
        if eid in seen:
            raise ConfigError("%sid %d is used twice" % (where, eid))
        seen.append(eid)
        e.setdefault("connectors", 1)
        _int(e, "connectors", where, 1, 8)
        for k, lo, hi, d in (("max_current", 6, 1000, 32), ("phases", 1, 3, 3), ("voltage", 100, 1000, 230)):
            e.setdefault(k, d)
            _int(e, k, where, lo, hi)
    # EVSE ids are numbered 1..n without gaps (Part 1 §"EVSE").
    if sorted(seen) != list(range(1, len(seen) + 1)):
        raise ConfigError("evses ids must be 1..%d without gaps" % len(seen))
    # L01/L04: a new firmware image not Accepted by the CSMS within this many seconds rolls back.
    cfg.setdefault("firmware_probation_s", 180)
    _int(cfg, "firmware_probation_s", "", 5, 86400)
    dm = cfg.setdefault("device_model", [])
    if not isinstance(dm, list):
        raise ConfigError("device_model must be a list of SetVariableData entries")
    return cfg
