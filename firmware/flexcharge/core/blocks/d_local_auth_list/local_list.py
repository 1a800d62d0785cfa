# D01/D02 Local Authorization List management: SendLocalList (Full / Differential) and
# GetLocalListVersion. Test cases: TC_D_01_CS .. TC_D_08_CS, TC_D_10_CS.
#
# LocalList is the store (used for authorization by c_authorization, C13/C14); LocalListHandlers
# is the base class of the Authorization block that answers the two CSMS requests, so the
# composition root registers a single block for C and D.
#
# Store: key -> packed, or [packed, extra] when the entry has rare fields (see
# c_authorization/idtoken.py); equal packed strings are one shared object. Persisted as one JSON object {"v": version, "e": {...}} with an
# atomic write before the response is sent (D01.FR.10: kept across reboots, TC_D_07_CS).
# Bounded by LocalAuthListCtrlr.Entries maxLimit (MAX_ENTRIES) and LocalAuthListCtrlr.Storage
# maxLimit (MAX_BYTES, bytes of the persisted list); an update that would not fit is refused
# with Failed and changes nothing.
import json

from flexcharge.core.router import Block, on
from flexcharge.core.blocks.c_authorization import idtoken
from flexcharge.core.blocks.b_provisioning.variables import message_size
from flexcharge.comm.errors import CallError, FORMAT_VIOLATION, OCCURRENCE_CONSTRAINT_VIOLATION

FILE = "auth.list"
MAX_ENTRIES = 128
MAX_BYTES = 8192

ACCEPTED = "Accepted"
FAILED = "Failed"
VERSION_MISMATCH = "VersionMismatch"

_CTRLR = "LocalAuthListCtrlr"


class LocalList:
    def __init__(self, storage, log, max_entries=MAX_ENTRIES, max_bytes=MAX_BYTES):
        self.storage = storage
        self.log = log
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.version = 0  # 0: no list installed (D02)
        self.bytes = 0
        self._e = {}
        self.load()

    def load(self):
        self.version = 0
        self._e = {}
        raw = self.storage.read(FILE)
        if not raw:
            self.bytes = 0
            return
        self.bytes = len(raw)
        try:
            d = json.loads(raw)
            v = d["v"]
            e = d["e"]
            if not isinstance(v, int) or not isinstance(e, dict):
                raise ValueError("bad list")
            self.version = v
            raw = d = None
            self._e = _shared(e)
        except (ValueError, TypeError, KeyError):
            # The list is the CSMS's: report version 0 so that it sends a Full list again.
            self.log.error("local authorization list unreadable, dropped")
            self.version = 0
            self._e = {}

    def __len__(self):
        return len(self._e)

    def keys(self):
        return list(self._e)

    def get(self, k):
        """-> (packed, extra) or None."""
        v = self._e.get(k)
        if v is None:
            return None
        if isinstance(v, str):
            return v, None
        return v[0], v[1]

    def info(self, k):
        v = self.get(k)
        return None if v is None else idtoken.unpack(v[0], v[1])

    # -- updates -----------------------------------------------------------------------
    def apply(self, update_type, version, items):
        """One SendLocalListRequest -> SendLocalListStatusEnumType. Persists before returning."""
        if not isinstance(version, int) or version <= 0:
            return FAILED  # D01.FR.18: versionNumber > 0 (0 means "no list")
        full = update_type == "Full"
        if not full and version <= self.version:
            return VERSION_MISMATCH  # D01.FR.19 (TC_D_06_CS)
        seen = {}
        for it in items or ():
            k = idtoken.key(it["idToken"])
            if k in seen:
                return FAILED  # D01.FR.06: idTokens in the list are unique
            seen[k] = 1
            if full and "idTokenInfo" not in it:
                return FAILED  # a Full list gives every entry its idTokenInfo
        seen = None
        if full:
            new = {}  # D01.FR.04: an empty Full list empties it (TC_D_04_CS)
        elif not items:
            new = self._e  # D01.FR.05: empty Differential only sets the version (TC_D_05_CS)
        else:
            new = dict(self._e)
        for it in items or ():
            k = idtoken.key(it["idToken"])
            info = it.get("idTokenInfo")
            if info is None:
                new.pop(k, None)  # Differential without idTokenInfo: remove the entry
            else:
                packed, extra = idtoken.pack(info)
                new[k] = packed if extra is None else [packed, extra]
        if new is not self._e:
            _shared(new)
        if len(new) > self.max_entries:
            return FAILED  # LocalAuthListCtrlr.Entries maxLimit
        data = json.dumps({"v": version, "e": new}).encode()
        if len(data) > self.max_bytes:
            return FAILED  # LocalAuthListCtrlr.Storage maxLimit
        try:
            self.storage.write(FILE, data)  # D01.FR.10: persisted before we answer
        except OSError as e:
            self.log.error("local authorization list not saved: %r" % (e,))
            return FAILED
        self._e = new
        self.version = version  # D01.FR.15/16 (TC_D_01_CS, TC_D_02_CS)
        self.bytes = len(data)
        return ACCEPTED


def _shared(e):
    # Entries with the same status and group share one packed string (most of a list).
    same = {}
    for k in e:
        v = e[k]
        if isinstance(v, str):
            p = same.get(v)
            if p is None:
                same[v] = v
            elif p is not v:
                e[k] = p
    return e


class LocalListHandlers(Block):
    """Base of the Authorization block: the D01/D02 handlers over self.local_list."""

    local_list = None  # a LocalList, set by the subclass

    def local_list_enabled(self):
        return self.station.dm.get_bool(_CTRLR, "Enabled", True)

    def local_list_figures(self):
        # LocalAuthListCtrlr.Entries / Storage Actual values follow the list.
        dm = self.station.dm
        for var, val in (("Entries", len(self.local_list)), ("Storage", self.local_list.bytes)):
            try:
                dm.set_internal(_CTRLR, var, val)
            except Exception as e:  # a device model without the variable (tests, trimmed builds)
                self.station.log.debug("%s.%s: %r" % (_CTRLR, var, e))

    @on("SendLocalList")
    def send_local_list(self, p):
        dm = self.station.dm
        items = p.get("localAuthorizationList") or ()
        # The CSMS splits lists per ItemsPerMessage / BytesPerMessage (TC_D_02_CS note); a
        # larger message gets the CALLERRORs the B block uses for the same limits.
        n = dm.get_int(_CTRLR, "ItemsPerMessage", 0)
        if n > 0 and len(items) > n:
            raise CallError(OCCURRENCE_CONSTRAINT_VIOLATION, "more than ItemsPerMessage (%d)" % n)
        b = dm.get_int(_CTRLR, "BytesPerMessage", 0)
        if b > 0 and message_size(self.station, p) > b:  # the wire size: no second, recursive serialisation
            raise CallError(FORMAT_VIOLATION, "more than BytesPerMessage (%d)" % b)
        if not self.local_list_enabled():
            return {"status": FAILED}  # no list while LocalAuthListCtrlr.Enabled is false
        status = self.local_list.apply(p["updateType"], p["versionNumber"], items)
        if status == ACCEPTED:
            self.local_list_figures()
        return {"status": status}

    @on("GetLocalListVersion")
    def get_local_list_version(self, p):
        if not self.local_list_enabled():
            return {"versionNumber": 0}  # D02.FR.03 (TC_D_10_CS)
        return {"versionNumber": self.local_list.version}  # D02.FR.01/02 (TC_D_08_CS)
