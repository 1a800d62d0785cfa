# B09/B10/A05 checks of network.py, loaded on the first SetNetworkProfile or
# NetworkConfigurationPriority write (heap: not needed to boot and connect). `self` is the
# NetworkProfiles block.
from flexcharge.core.blocks.b_provisioning.network import MAX_SLOTS, _slot_number
from flexcharge.security.profiles import ConfigError, check_url

_INTERFACES = ("Wired0", "Wired1", "Wired2", "Wired3", "Wireless0", "Wireless1", "Wireless2", "Wireless3")


def check_profile(self, n, data):
    # B09.FR.02: anything this station cannot use is Rejected.
    if not 1 <= n <= MAX_SLOTS:
        return "configurationSlot must be 1..%d" % MAX_SLOTS
    if self._order is not None and n == self._current_slot() and self.station.online:
        # Overwriting the slot of the running link would leave no known-good profile to fall back to.
        return "slot %d is in use; set another slot, then change NetworkConfigurationPriority" % n
    if data.get("ocppVersion") != "OCPP20":
        return "ocppVersion must be OCPP20 (this station speaks OCPP 2.0.1)"
    if data.get("ocppTransport") != "JSON":
        return "ocppTransport must be JSON"
    if data.get("ocppInterface") not in _INTERFACES:
        return "unknown ocppInterface"
    if "apn" in data:
        return "no cellular modem: apn not supported"
    if "vpn" in data:
        return "no VPN client: vpn not supported"
    sp = data.get("securityProfile")
    if type(sp) is not int or not 0 <= sp <= 3:
        return "securityProfile must be 0..3"
    active = self.active_profile()
    if sp < active:
        # B09.FR.04 / A00.FR.005 (errata 2025-01; no AllowSecurityProfileDowngrade): TC_A_22_CS.
        return "securityProfile %d is lower than the active security profile %d" % (sp, active)
    if sp == 0 and active != 0:
        return "security profile 0 (no authentication) is for test set-ups only"
    try:
        check_url(sp, data.get("ocppCsmsUrl"))
    except ConfigError as e:
        return str(e)
    if type(data.get("messageTimeout")) is not int or data["messageTimeout"] < 1:
        return "messageTimeout must be a positive integer"
    return None

# -- NetworkConfigurationPriority ----------------------------------------------------------
def check_priority(self, value):
    parts = [x.strip() for x in value.split(",")]
    seen = []
    active = self.active_profile()
    for part in parts:
        n = _slot_number(part)
        if n is None or not 1 <= n <= MAX_SLOTS:
            return "%r is not a configuration slot 1..%d" % (part, MAX_SLOTS)
        if n in seen:
            return "slot %d listed twice" % n
        seen.append(n)
        data = self.slot(n)
        if data is None:
            return "slot %d holds no network connection profile" % n
        sp = data.get("securityProfile", 0)
        if sp < active:
            return "slot %d has security profile %d, lower than the active %d (A05.FR.10)" % (n, sp, active)
        why = self.prerequisites(sp)
        if why:
            return "slot %d: %s" % (n, why)
    return None

def prerequisites(self, sp):
    """None if the station can connect with security profile sp now, else why not."""
    certs = self.certs
    if certs is not None:
        now = int(self.station.now())
        if sp >= 2 and not [c for c in certs.certificates("CSMSRootCertificate") if _valid(c, now)]:
            return "security profile %d needs a valid CSMSRootCertificate (A05.FR.02)" % sp
        if sp == 3 and not _client_valid(certs, now):
            return "security profile 3 needs a valid ChargingStationCertificate (A05.FR.03)"
    if sp in (1, 2) and not self.station.dm.get("SecurityCtrlr", "BasicAuthPassword") \
            and not self.config.get("basic_auth_password"):
        return "security profile %d needs a BasicAuthPassword" % sp
    return None


def _valid(cert, now):
    return cert.not_before <= now <= cert.not_after


def _client_valid(certs, now):
    from flexcharge.security.x509 import Certificate
    from flexcharge.security.der import CertError

    chain = certs.client_chain_der()
    if not chain or certs.client_key_der() is None:
        return False
    try:
        return _valid(Certificate(chain[0]), now)
    except CertError:
        return False
