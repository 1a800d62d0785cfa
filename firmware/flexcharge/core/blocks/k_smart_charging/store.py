# Installed charging profiles, persisted as one JSON file with an atomic write (hal Storage:
# temp file, flush, rename) before SetChargingProfile is answered (K01.FR.26-style: a profile
# the CSMS was told Accepted survives a power loss, TC_K_13_CS).
import json

from flexcharge.core import timefmt

FILE = "charging_profiles.json"


def _t(s):
    if s is None:
        return None
    return timefmt.parse(s)


def entry(evse_id, profile):
    """An installed profile with its times parsed once (ints). Raises ValueError on a bad time."""
    sch = profile["chargingSchedule"][0]
    return {"evse": evse_id, "p": profile, "vf": _t(profile.get("validFrom")), "vt": _t(profile.get("validTo")),
            "ss": _t(sch.get("startSchedule"))}


class ProfileStore:
    def __init__(self, storage, log):
        self.storage = storage
        self.log = log
        self.entries = []
        raw = storage.read(FILE)
        if raw:
            try:
                self.entries = [e for e in json.loads(raw) if isinstance(e, dict) and "p" in e]
            except (ValueError, TypeError) as e:
                log.warn("charging profiles file ignored: %r" % (e,))

    def save(self):
        self.storage.write(FILE, json.dumps(self.entries))

    def find(self, pid):
        for e in self.entries:
            if e["p"]["id"] == pid:
                return e
        return None

    def put(self, e):
        """Install, replacing a profile with the same id (K01.FR.05), and persist."""
        pid = e["p"]["id"]
        self.entries = [x for x in self.entries if x["p"]["id"] != pid]
        self.entries.append(e)
        self.save()

    def remove(self, keep):
        """Drop the entries for which keep(entry) is False; persist if any went. Returns the count."""
        before = len(self.entries)
        self.entries = [x for x in self.entries if keep(x)]
        n = before - len(self.entries)
        if n:
            self.save()
        return n
