# B09 Set new Network Connection Profile, B10 Migrate to new CSMS (with A05's rules on the
# security profile a connection profile may use).
#
# Slots 1..MAX_SLOTS hold NetworkConnectionProfiles (SetNetworkProfile, B09.FR.01), one file each
# (netprofile.<n>, atomic write). Slot 1's factory content is the launcher config (csms_url,
# security_profile); a profile the CSMS stores in slot 1 replaces it.
# OCPPCommCtrlr.NetworkConfigurationPriority orders the slots. It is read once per boot
# (SetVariables answers RebootRequired: the order of the running link does not change under it;
# TC_B_45_CS step 5 then resets the station).
# Connection attempts (Session -> App._connect -> attempt()): NetworkProfileConnectionAttempts
# failed attempts on one slot move to the next slot of the priority list, cycling through all of
# them for ever (B10.FR.03/04, B10.FR.08/09: a station never strands itself), the move itself
# without back-off (TC_B_49_CS step 9; the back-off applies within a slot, step 11).
# A successful connection makes its slot the active one (ActiveNetworkProfile) and its
# securityProfile the station's SecurityCtrlr.SecurityProfile. Once connected with a higher
# profile than before, the slots with a lower one leave the priority list (A05, TC_A_19_CS step
# 13) and ReconfigurationOfSecurityParameters is raised.
import json

from flexcharge.core.router import Block, on

MAX_SLOTS = 3  # configurationSlot 1..3 (TC_B_43_CS: 999 is Rejected)
_FILE = "netprofile."

ACCEPTED = "Accepted"
REJECTED = "Rejected"


class NetworkProfiles(Block):
    def __init__(self, station, storage, config, events=None, certs=None):
        Block.__init__(self, station)
        self.storage = storage
        self.config = config
        self.events = events  # SecurityEvents (ReconfigurationOfSecurityParameters)
        self.certs = certs  # security.certstore.CertStore (A05.FR.02/03), or None
        self._order = None  # priority list of this boot
        self._pos = 0
        self._failures = 0

    def start(self):
        dm = self.station.dm
        dm.veto("OCPPCommCtrlr", "NetworkConfigurationPriority", self._check_priority)

    # -- slots ---------------------------------------------------------------------------------
    def factory(self):
        cfg = self.config
        return {
            "ocppVersion": "OCPP20",
            "ocppTransport": "JSON",
            "ocppCsmsUrl": cfg["csms_url"],
            "messageTimeout": self.station.dm.get_int("OCPPCommCtrlr", "MessageTimeout", 30, var_instance="Default"),
            "securityProfile": cfg["security_profile"],
            "ocppInterface": "Wired0",
        }

    def slot(self, n):
        """connectionData of slot n, or None when the slot is empty."""
        raw = self.storage.read(_FILE + str(n))
        if raw is not None:
            try:
                return json.loads(raw)
            except ValueError:
                self.station.log.error("network profile %d unreadable: using none" % n)
        if n == 1:
            return self.factory()
        return None

    def priority(self):
        """The slots of NetworkConfigurationPriority that hold a profile, in order; [1] if none."""
        raw = self.station.dm.get("OCPPCommCtrlr", "NetworkConfigurationPriority") or ""
        out = []
        for part in raw.split(","):
            n = _slot_number(part.strip())
            if n is not None and n not in out and self.slot(n) is not None:
                out.append(n)
        return out or [1]

    def active_profile(self):
        return self.station.dm.get_int("SecurityCtrlr", "SecurityProfile", 0)

    # -- B09 -----------------------------------------------------------------------------------
    @on("SetNetworkProfile")
    def set_network_profile(self, p):
        n = p["configurationSlot"]
        data = p["connectionData"]
        why = self._check_profile(n, data)
        if why:
            self.station.log.warn("SetNetworkProfile slot %s rejected: %s" % (n, why))
            return {"status": REJECTED, "statusInfo": {"reasonCode": "InvalidValue", "additionalInfo": why[:500]}}
        self.storage.write(_FILE + str(n), json.dumps(data))  # B09.FR.01
        if self.events is not None:
            self.events.notify("ReconfigurationOfSecurityParameters",
                               "network profile slot %d set (security profile %d)" % (n, data["securityProfile"]))
        return {"status": ACCEPTED}

    def _check_profile(self, n, data):
        # The checks are loaded on use: they are needed for a SetNetworkProfile / priority write only.
        from flexcharge.core.blocks.b_provisioning import network_check

        return network_check.check_profile(self, n, data)

    def _check_priority(self, value):
        from flexcharge.core.blocks.b_provisioning import network_check

        return network_check.check_priority(self, value)

    def prerequisites(self, sp):
        """None if the station can connect with security profile sp now, else why not."""
        from flexcharge.core.blocks.b_provisioning import network_check

        return network_check.prerequisites(self, sp)

    # -- B10 connection attempts ---------------------------------------------------------------
    def _current_slot(self):
        order = self._order or [1]
        return order[self._pos % len(order)]

    def attempt(self):
        """(slot, connectionData) for this connection attempt."""
        if self._order is None:
            self._order = self.priority()
            self._pos = 0
            self._failures = 0
        n = self._current_slot()
        data = self.slot(n) or self.factory()
        return n, data

    def failed(self):
        """A connection attempt failed. True if the next attempt uses another slot (no back-off)."""
        self._failures += 1
        limit = self.station.dm.get_int("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", 3)
        if self._failures < max(1, limit) or len(self._order or ()) < 2:
            return False
        self._failures = 0
        self._pos = (self._pos + 1) % len(self._order)
        self.station.log.warn("network profile slot %d: trying slot %d next (B10)"
                              % (self._order[self._pos - 1], self._current_slot()))
        return True

    def connected(self):
        """A connection with the current slot succeeded."""
        self._failures = 0
        n, data = self.attempt()
        dm = self.station.dm
        sp = data.get("securityProfile", 0)
        old = self.active_profile()
        dm.set_internal("OCPPCommCtrlr", "ActiveNetworkProfile", str(n))
        if sp != old:
            dm.set_internal("SecurityCtrlr", "SecurityProfile", str(sp))
            if self.events is not None:
                self.events.notify("ReconfigurationOfSecurityParameters",
                                   "security profile %d -> %d (network profile slot %d)" % (old, sp, n))
        if sp > old:
            # A05: slots below the profile now in use are no longer candidates (TC_A_19_CS step 13).
            keep = [x for x in self.priority() if (self.slot(x) or {}).get("securityProfile", 0) >= sp]
            if n not in keep:
                keep.insert(0, n)
            dm.set_internal("OCPPCommCtrlr", "NetworkConfigurationPriority", ",".join([str(x) for x in keep]))


def _slot_number(text):
    if not text or not text.isdigit():
        return None
    return int(text)
