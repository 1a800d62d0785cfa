# Compact forms of IdTokenType / IdTokenInfoType for the authorization cache and the local
# authorization list: one short string per token and per info, so each stored entry costs a
# couple of small strings on the heap instead of nested dicts.
#
#   token key: one digit for idToken.type (index in TYPES) + idToken.idToken. Tokens are equal
#              when idToken and type are equal (C01.FR.25, errata 2025-01): equal keys.
#   packed   : one letter for idTokenInfo.status (index in STATUSES) + the key of groupIdToken
#              ("" when absent). Rare fields (evseId, chargingPriority, language1/2,
#              personalMessage) travel beside it as a small dict ("extra") or None.
from flexcharge.core import timefmt

TYPES = ("Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress", "NoAuthorization")
STATUSES = (
    "Accepted",
    "Blocked",
    "ConcurrentTx",
    "Expired",
    "Invalid",
    "NoCredit",
    "NotAllowedTypeEVSE",
    "NotAtThisTime",
    "Unknown",
)
ACCEPTED = "Accepted"
_EXTRA = ("chargingPriority", "language1", "language2", "evseId", "personalMessage")


def key(id_token):
    """IdTokenType dict -> key string (additionalInfo is not compared, C01.FR.25)."""
    t = id_token.get("type")
    tok = id_token.get("idToken", "")
    for i in range(len(TYPES)):
        if TYPES[i] == t:
            return str(i) + tok
    # Not an OCPP 2.0.1 type (only internal callers can produce one): kept distinct.
    return "~" + str(t) + "|" + tok


def token(k):
    """key string -> IdTokenType dict."""
    if k[0] == "~":
        i = k.index("|")
        return {"idToken": k[i + 1 :], "type": k[1:i]}
    return {"idToken": k[1:], "type": TYPES[int(k[0])]}


def pack(info):
    """IdTokenInfoType dict -> (packed, extra or None). cacheExpiryDateTime is not packed
    (the cache keeps it as a number)."""
    s = info.get("status")
    c = "I"  # an unknown status reads as Invalid: never as Accepted
    for i in range(len(STATUSES)):
        if STATUSES[i] == s:
            c = chr(65 + i)
            break
    g = info.get("groupIdToken")
    packed = c + (key(g) if g else "")
    extra = None
    for f in _EXTRA:
        if f in info:
            if extra is None:
                extra = {}
            extra[f] = info[f]
    return packed, extra


def status_of(packed):
    i = ord(packed[0]) - 65
    return STATUSES[i] if 0 <= i < len(STATUSES) else "Invalid"


def accepted(packed):
    return packed[0] == "A"


def group_key(packed):
    return packed[1:] or None


def unpack(packed, extra=None, expiry=None):
    """-> IdTokenInfoType dict (a new one: callers may keep or change it)."""
    info = {"status": status_of(packed)}
    if len(packed) > 1:
        info["groupIdToken"] = token(packed[1:])
    if expiry:
        info["cacheExpiryDateTime"] = timefmt.iso(expiry)
    if extra:
        for f in extra:
            info[f] = extra[f]
    return info


def expiry_of(info):
    """cacheExpiryDateTime as Unix seconds (int), 0 when absent or unreadable."""
    s = info.get("cacheExpiryDateTime")
    if not s:
        return 0
    try:
        return int(timefmt.parse(s))
    except ValueError:
        return 0
