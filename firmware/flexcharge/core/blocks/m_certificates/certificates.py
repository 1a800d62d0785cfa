# M03 Retrieve list of available certificates, M04 Delete a specific certificate, M05 Install CA
# certificate, over security/certstore.py. Every change is persisted by the store (atomic index
# write) and takes effect for the next TLS connection (lifecycle/boot.py builds the TLS context from
# `tls_view()` at every connection attempt).
#
# InstallCertificate (M05.FR.01/02) accepts one PEM certificate of an InstallCertificateUse type that
# is a CA certificate (basicConstraints CA), valid at the station's clock, with a signature algorithm
# we verify, and -- when self-issued -- a valid self-signature; anything else is Rejected with
# reasonCode InvalidCertificate (M05.FR.07, TC_M_07_CS). SecurityCtrlr.CertificateEntries reports
# the certificates installed (roots and the client chain); its maxLimit is MAX_ENTRIES: past it an
# install is Failed, reasonCode OutOfStorage (decided: the certificate is fine, storing it failed).
#
# SecurityCtrlr.AdditionalRootCertificateCheck (factory setting, ReadOnly for the CSMS) true:
# a new CSMSRootCertificate must be signed by the installed one (M05.FR.10, else Rejected: M05.FR.11,
# TC_M_09_CS). The old root stays as fallback: connections use the new root first; once one
# succeeds the old root is deleted (M05.FR.13, TC_M_30_CS). A connection that fails with the new
# root makes the next attempt use the old one; if that succeeds the new root is dropped and the
# old one is the CSMS root again (M05.FR.14, TC_M_31_CS).
#
# GetInstalledCertificateIds (M03): filtered by certificateType, NotFound when nothing matches
# (M03.FR.02, TC_M_19_CS). childCertificateHashData belongs to V2GCertificateChain only (M03.FR.05);
# this station has no ISO 15118 stack and holds no V2G chain, so that type never matches. The
# station's own ChargingStationCertificate is not a GetCertificateIdUse type and is not listed.
# DeleteCertificate (M04): NotFound for an unknown hash (M04.FR.04, TC_M_22_CS); the station's own
# client certificate is Failed (M04.FR.06, TC_M_23_CS).
import json

from flexcharge.core.router import Block, on
from flexcharge.security import seed

# = security.certstore.ROOT_TYPES; the X.509 code is imported on use (see security/seed.py LazyStore).
ROOT_TYPES = ("CSMSRootCertificate", "ManufacturerRootCertificate", "V2GRootCertificate", "MORootCertificate")
MAX_ENTRIES = 12  # certificates on flash (~1-2 KB each): CertificateEntries maxLimit
CSMS_ROOT = "CSMSRootCertificate"
_FALLBACK = "certs.fallback"  # {"old": hashData, "new": hashData, "mode": "new"|"old"} while a root change is on trial


class Certificates(Block):
    def __init__(self, station, storage, store, events=None):
        Block.__init__(self, station)
        self.storage = storage
        self.store = store
        self.events = events

    def start(self):
        dm = self.station.dm
        dm.getter("SecurityCtrlr", "CertificateEntries", lambda: str(self.store.count()))
        dm.set_limits("SecurityCtrlr", "CertificateEntries", 0, MAX_ENTRIES)

    def _check_enabled(self):
        return self.station.dm.get_bool("SecurityCtrlr", "AdditionalRootCertificateCheck", False)

    # -- M03 -----------------------------------------------------------------------------------
    @on("GetInstalledCertificateIds")
    def get_installed(self, p):
        kinds = p.get("certificateType")
        if kinds is not None:
            kinds = [k for k in kinds if k in ROOT_TYPES]  # V2GCertificateChain: none held
        found = self.store.installed(kinds) if kinds is None or kinds else []
        if not found:
            return {"status": "NotFound"}  # M03.FR.02: certificateHashDataChain omitted
        return {"status": "Accepted", "certificateHashDataChain": found}

    # -- M04 -----------------------------------------------------------------------------------
    @on("DeleteCertificate")
    def delete(self, p):
        from flexcharge.security.x509 import same_hash_data

        hd = p["certificateHashData"]
        hit = self.store.find(hd)
        status = self.store.remove(hd)
        if status == "Accepted":
            seed.touch(self.storage, hit[0])
            fb = self._fallback()
            if fb is not None and (same_hash_data(fb["old"], hd) or same_hash_data(fb["new"], hd)):
                self.storage.remove(_FALLBACK)
            self._event("%s deleted" % hit[0])
        return {"status": status}

    # -- M05 -----------------------------------------------------------------------------------
    @on("InstallCertificate")
    def install(self, p):
        from flexcharge.security.certstore import StoreFull
        from flexcharge.security.der import CertError

        kind = p["certificateType"]
        try:
            cert = self._valid_root(p["certificate"])
        except CertError as e:
            return _rejected("InvalidCertificate", str(e))
        old = None
        if kind == CSMS_ROOT and self._check_enabled():
            old = self._signing_root(cert)
            if old is False:
                return _rejected("InvalidCertificate", "AdditionalRootCertificateCheck: not signed by the "
                                 "installed CSMSRootCertificate (M05.FR.11)")
        try:
            new_hd = self.store.add(kind, cert.der, MAX_ENTRIES)
        except StoreFull as e:
            return {"status": "Failed", "statusInfo": {"reasonCode": "OutOfStorage", "additionalInfo": str(e)[:500]}}
        except CertError as e:
            return _rejected("InvalidCertificate", str(e))
        seed.touch(self.storage, kind)
        if old is not None:
            prev = self._fallback()
            if prev is not None:
                # A second change before the first was tried: the older fallback goes.
                self.store.remove(prev["old"])
            old_hd = self._hash_of(old)
            self.storage.write(_FALLBACK, json.dumps({"old": old_hd, "new": new_hd, "mode": "new"}))
        self._event("%s installed" % kind)
        return {"status": "Accepted"}

    def _valid_root(self, pem):
        from flexcharge.security.verify import check_signed_by
        from flexcharge.security.der import CertError
        from flexcharge.security.x509 import Certificate, pem_to_ders

        ders = pem_to_ders(pem)
        if len(ders) != 1:
            raise CertError("one certificate expected, got %d" % len(ders))
        c = Certificate(ders[0])
        if not c.ca:
            raise CertError("%s is not a CA certificate (basicConstraints)" % c.subject)
        now = int(self.station.now())
        if now < c.not_before:
            raise CertError("%s is not yet valid" % c.subject)
        if now > c.not_after:
            raise CertError("%s has expired" % c.subject)
        if not c.sig_supported:
            raise CertError("unsupported signature algorithm %s" % c.sig_alg)
        if c.unknown_critical:
            raise CertError("unsupported critical extension %s" % c.unknown_critical[0])
        if c.is_self_issued():
            check_signed_by(c, c)
        return c

    def _signing_root(self, new):
        """The installed CSMS root that signed `new`; None if none is installed (nothing to
        check against: M05 first install), False if installed roots exist but none signed it."""
        from flexcharge.security.verify import check_signed_by
        from flexcharge.security.der import CertError

        roots = [c for c in self.store.certificates(CSMS_ROOT) if c.der != new.der]
        if not roots:
            return None
        for r in roots:
            try:
                check_signed_by(new, r)
                return r
            except CertError:
                pass
        return False

    def _hash_of(self, cert):
        from flexcharge.security.x509 import hash_data

        for e in self.store.installed([CSMS_ROOT]):
            hit = self.store.find(e["certificateHashData"])
            if hit is not None and hit[1] == cert.der:
                return e["certificateHashData"]
        return hash_data(cert, cert)

    def _event(self, text):
        if self.events is not None:
            self.events.notify("ReconfigurationOfSecurityParameters", text)

    # -- the TLS view: which CSMS roots the next connection trusts -------------------------------
    def _fallback(self):
        return self.storage.read_json(_FALLBACK)

    def tls_view(self):
        """What profiles.transport() reads: this block's anchors_der / client_chain_der / client_key_der."""
        return self

    def anchors_der(self, kind=CSMS_ROOT):
        ders = self.store.anchors_der(kind)
        fb = self._fallback() if kind == CSMS_ROOT else None
        if fb is None:
            return ders
        old = self.store.find(fb["old"])
        if old is None:
            return ders
        if fb["mode"] == "old":
            return [old[1]]
        return [d for d in ders if bytes(d) != bytes(old[1])]

    def client_chain_der(self):
        return self.store.client_chain_der()

    def client_key_der(self):
        return self.store.client_key_der()

    def connected(self, secure):
        """A connection succeeded; secure: it was TLS (profile 2/3), so the trial root decided."""
        fb = self._fallback()
        if fb is None or not secure:
            return
        if fb["mode"] == "new":
            self.store.remove(fb["old"])  # M05.FR.13: the new root works, the old one goes
            self._event("CSMSRootCertificate replaced: previous root removed")
        else:
            self.store.remove(fb["new"])  # M05.FR.14: only the old root works: back to it
            self._event("new CSMSRootCertificate failed: previous root kept")
        self.storage.remove(_FALLBACK)

    def connect_failed(self, secure):
        fb = self._fallback()
        if fb is None or not secure:
            return
        fb["mode"] = "old" if fb["mode"] == "new" else "new"  # alternate: never strand the station
        self.storage.write(_FALLBACK, json.dumps(fb))


def _rejected(code, info):
    return {"status": "Rejected", "statusInfo": {"reasonCode": code, "additionalInfo": info[:500]}}
