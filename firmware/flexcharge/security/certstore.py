# Persistent certificate store (OCPP 2.0.1 A02-A05, M03-M05): the root certificates by
# InstallCertificateUse type, the station's client certificate chain and key, and the
# pending key pair of a SignCertificate round. Lives in a Storage (hal/storage.py
# FileStorage in the state directory): each certificate or key is one blob "cert.<id>",
# and the index "certs.json" names them. Blobs are written first and the index last (one
# atomic write), so a power cut leaves the old store or the new one; blobs no index names
# are removed when the store opens.
#
# API (stable; the a_security / m_certificates blocks and TLS set-up use it):
#   ROOT_TYPES                            the four InstallCertificateUseEnumType values
#   CertStore(storage, factory=None, log=None)
#       factory: {"CSMSRootCertificate": pem_path, "ManufacturerRootCertificate": pem_path,
#                 "client_cert": pem_path, "client_key": pem_path}, read only when the store is
#                 new (no index yet): config tls.ca, tls.manufacturer_ca, tls.cert, tls.key.
#                 Unreadable factory files are skipped; the reasons are in .seed_errors.
#   .certificates(kind)     -> [Certificate] installed for one root type, install order
#   .anchors_der(kind="CSMSRootCertificate") -> [DER]: trust anchors for TLS / verify_chain
#   .installed(kinds=None)  -> [{"certificateType": kind, "certificateHashData": {...}}] per
#                              GetInstalledCertificateIds (M03), kinds: a list of root types or None
#   .count()                -> certificates installed (roots + the client chain): CertificateEntries
#   .add(kind, der, max_entries=None) -> certificateHashData of the added (or already present)
#                              root; CertError if unparsable / unknown type, StoreFull past max_entries
#   .find(hash_data)        -> (kind, der) or None; kind "ChargingStationCertificate" for the
#                              client chain
#   .remove(hash_data)      -> "Accepted" | "NotFound" | "Failed" (DeleteCertificateStatusEnumType;
#                              Failed for the station's own client certificate, M04.FR.06)
#   .replace(kind, old_hash_data, der) -> certificateHashData of the new one; one atomic step
#                              (AdditionalRootCertificateCheck: the new root replaces the old, M05)
#   client certificate (A02/A03): current = confirmed; new = stored from CertificateSigned and
#   used from the next connection until confirm_new() or fall_back():
#   .client_chain_der()     -> [DER] leaf first: the new chain while one is on trial, else the
#                              current one, else []
#   .client_key_der()       -> key DER of that chain, or None
#   .client_state()         -> "none" | "current" | "trial"
#   .new_pending_key()      -> P256Key: generated now and persisted, replaces any older pending key
#   .pending_key()          -> P256Key or None
#   .promote_pending(chain_ders) CertificateSigned: leaf must carry the pending key (CertError if
#                              not, or if no key is pending); the chain becomes "new"; the pending
#                              key is consumed. Check the chain with verify.verify_chain first.
#   .confirm_new()          a connection with the new chain succeeded: it becomes current
#   .fall_back()            it failed: drop the new chain, keep the current one
#   .set_client(chain_ders, key_der)  install a client chain and key as current directly
import json

from flexcharge.security.der import CertError
from flexcharge.security.x509 import Certificate, hash_data, same_hash_data, pem_to_ders
# security.p256 is imported on use (new_pending_key / pending_key): it is not needed to boot.

ROOT_TYPES = ("CSMSRootCertificate", "ManufacturerRootCertificate", "V2GRootCertificate", "MORootCertificate")
CLIENT = "ChargingStationCertificate"
INDEX = "certs.json"
PREFIX = "cert."


class StoreFull(CertError):
    pass


def _pem_file(path, label=None):
    from flexcharge.security.pem import pem_to_der

    with open(path, "rb") as f:
        text = f.read()
    if label is None:
        return pem_to_ders(text)
    try:
        return pem_to_der(text, label)
    except ValueError as e:
        raise CertError(str(e))


class CertStore:
    def __init__(self, storage, factory=None, log=None):
        self.storage = storage
        self.log = log
        self.seed_errors = []
        raw = storage.read(INDEX)
        idx = None
        if raw is not None:
            try:
                idx = json.loads(raw)
                if not isinstance(idx, dict) or idx.get("v") != 1:
                    idx = None
            except ValueError:
                idx = None
            if idx is None and log is not None:
                log.error("certificate store index unreadable: starting from the factory certificates")
        if idx is None:
            self._idx = {"v": 1, "n": 0, "roots": {}, "cur": None, "new": None, "pend": None}
            self._seed(factory or {})
            self._commit()
        else:
            self._idx = idx
            self._gc()

    # --- persistence -------------------------------------------------------------------

    def _put(self, data):
        self._idx["n"] += 1
        name = PREFIX + str(self._idx["n"])
        self.storage.write(name, bytes(data))
        return name

    def _get(self, name):
        d = self.storage.read(name)
        if d is None:
            raise CertError("certificate store blob %s is missing" % name)
        return d

    def _referenced(self):
        i = self._idx
        names = []
        for lst in i["roots"].values():
            names.extend(lst)
        for slot in (i["cur"], i["new"]):
            if slot:
                names.extend(slot["chain"])
                names.append(slot["key"])
        if i["pend"]:
            names.append(i["pend"])
        return names

    def _gc(self):
        keep = self._referenced()
        for n in self.storage.names(PREFIX):
            if n not in keep:
                self.storage.remove(n)

    def _commit(self):
        self.storage.write(INDEX, json.dumps(self._idx))
        self._gc()

    def _seed(self, factory):
        for kind in ROOT_TYPES:
            path = factory.get(kind)
            if not path:
                continue
            try:
                for der in _pem_file(path):
                    self._add(kind, der, None)
            except (OSError, CertError) as e:
                self.seed_errors.append("%s %s: %s" % (kind, path, e))
        cp, kp = factory.get("client_cert"), factory.get("client_key")
        if cp and kp:
            try:
                self._set_client(_pem_file(cp), _pem_file(kp, "PRIVATE KEY")[0])
            except (OSError, CertError) as e:
                self.seed_errors.append("client certificate %s / %s: %s" % (cp, kp, e))
        if self.log is not None:
            for e in self.seed_errors:
                self.log.error("factory certificate skipped: " + e)

    # --- roots ---------------------------------------------------------------------------

    def _kind(self, kind):
        if kind not in ROOT_TYPES:
            raise CertError("unknown certificate type %r" % (kind,))
        return kind

    def certificates(self, kind):
        return [Certificate(self._get(n)) for n in self._idx["roots"].get(self._kind(kind), ())]

    def anchors_der(self, kind="CSMSRootCertificate"):
        return [self._get(n) for n in self._idx["roots"].get(self._kind(kind), ())]

    def _issuer_of(self, cert, pool):
        # A root is its own issuer. An installed sub-CA names its issuer if that one is installed
        # too; otherwise its own key stands in (the issuer's key is not known on the station).
        if cert.is_self_issued():
            return cert
        for c in pool:
            if c.subject_der == cert.issuer_der:
                return c
        return cert

    def _all(self):
        out = []
        for kind in ROOT_TYPES:
            for n in self._idx["roots"].get(kind, ()):
                out.append((kind, n, Certificate(self._get(n))))
        return out

    def installed(self, kinds=None):
        allc = self._all()
        pool = [c for _, _, c in allc]
        out = []
        for kind, _, c in allc:
            if kinds is None or kind in kinds:
                out.append({"certificateType": kind, "certificateHashData": hash_data(c, self._issuer_of(c, pool))})
        return out

    def count(self):
        n = 0
        for lst in self._idx["roots"].values():
            n += len(lst)
        if self._idx["cur"]:
            n += len(self._idx["cur"]["chain"])
        return n

    def _add(self, kind, der, max_entries):
        cert = Certificate(der)
        lst = self._idx["roots"].setdefault(self._kind(kind), [])
        for n in lst:
            if self._get(n) == cert.der:
                return cert  # already installed: nothing to do
        if max_entries is not None and self.count() >= max_entries:
            raise StoreFull("certificate store full (%d entries)" % max_entries)
        lst.append(self._put(cert.der))
        return cert

    def _hash_of(self, cert):
        return hash_data(cert, self._issuer_of(cert, [c for _, _, c in self._all()]))

    def add(self, kind, der, max_entries=None):
        cert = self._add(kind, der, max_entries)
        self._commit()
        return self._hash_of(cert)

    def _locate(self, hd):
        allc = self._all()
        pool = [c for _, _, c in allc]
        for kind, n, c in allc:
            if same_hash_data(hash_data(c, self._issuer_of(c, pool)), hd):
                return kind, n, c
        return None

    def _client_hashes(self):
        out = []
        for slot in (self._idx["cur"], self._idx["new"]):
            if not slot:
                continue
            chain = [Certificate(self._get(n)) for n in slot["chain"]]
            for i in range(len(chain)):
                issuer = chain[i + 1] if i + 1 < len(chain) else self._issuer_of(chain[i], [c for _, _, c in self._all()])
                out.append((chain[i], hash_data(chain[i], issuer)))
        return out

    def find(self, hd):
        hit = self._locate(hd)
        if hit is not None:
            return hit[0], hit[2].der
        for c, h in self._client_hashes():
            if same_hash_data(h, hd):
                return CLIENT, c.der
        return None

    def remove(self, hd):
        hit = self._locate(hd)
        if hit is None:
            for c, h in self._client_hashes():
                if same_hash_data(h, hd):
                    return "Failed"  # M04.FR.06: never delete the station's own certificate
            return "NotFound"
        kind, n, _ = hit
        self._idx["roots"][kind].remove(n)
        self._commit()
        return "Accepted"

    def replace(self, kind, old_hd, der):
        hit = self._locate(old_hd)
        if hit is None or hit[0] != kind:
            raise CertError("no %s with that hash data to replace" % kind)
        cert = Certificate(der)
        lst = self._idx["roots"][kind]
        lst[lst.index(hit[1])] = self._put(cert.der)
        self._commit()
        return self._hash_of(cert)

    # --- client certificate ------------------------------------------------------------

    def _slot(self):
        return self._idx["new"] or self._idx["cur"]

    def client_state(self):
        if self._idx["new"]:
            return "trial"
        return "current" if self._idx["cur"] else "none"

    def client_chain_der(self):
        s = self._slot()
        return [self._get(n) for n in s["chain"]] if s else []

    def client_key_der(self):
        s = self._slot()
        return self._get(s["key"]) if s else None

    def new_pending_key(self):
        from flexcharge.security.p256 import P256Key

        key = P256Key()
        self._idx["pend"] = self._put(key.to_der())
        self._commit()
        return key

    def pending_key(self):
        from flexcharge.security.p256 import P256Key

        n = self._idx["pend"]
        return P256Key.from_der(self._get(n)) if n else None

    def promote_pending(self, chain_ders):
        key = self.pending_key()
        if key is None:
            raise CertError("no key pair is waiting for a certificate")
        if not chain_ders:
            raise CertError("empty certificate chain")
        leaf = Certificate(chain_ders[0])
        for d in chain_ders[1:]:
            Certificate(d)
        if leaf.key_type != "ec" or leaf.public_key_bits != key.public_bits():
            raise CertError("certificate %s does not carry the key of the last CSR" % leaf.subject)
        self._idx["new"] = {"chain": [self._put(d) for d in chain_ders], "key": self._idx["pend"]}
        self._idx["pend"] = None
        self._commit()

    def confirm_new(self):
        if self._idx["new"]:
            self._idx["cur"] = self._idx["new"]
            self._idx["new"] = None
            self._commit()

    def fall_back(self):
        if self._idx["new"]:
            self._idx["new"] = None
            self._commit()

    def _set_client(self, chain_ders, key_der):
        if not chain_ders:
            raise CertError("empty certificate chain")
        for d in chain_ders:
            Certificate(d)
        self._idx["cur"] = {"chain": [self._put(d) for d in chain_ders], "key": self._put(key_der)}

    def set_client(self, chain_ders, key_der):
        self._set_client(chain_ders, key_der)
        self._idx["new"] = None
        self._commit()
