# Factory certificates (launcher config tls.ca, tls.manufacturer_ca, tls.cert/tls.key) versus what
# the CSMS installed. Rule (DESIGN.md, launcher contract): the factory files are the content of a
# part of the store until the CSMS changes that part (InstallCertificate / DeleteCertificate of that
# root type, CertificateSigned for the client certificate); from then on the store wins. So an
# installer who fixes a wrong tls.ca and restarts gets the fixed CA, and a CSMS-installed root is
# never overwritten by a factory file.
#
# LazyStore opens the store (and loads the X.509 reader with it) on first use: a station that never
# touches a certificate (profiles 0/1, no certificate message) does not hold ~40-60 KB of certificate
# code in the heap of a port that compiles source.
import json

_TOUCHED = "certs.touched"
CLIENT = "client"


def touched(storage):
    raw = storage.read(_TOUCHED)
    try:
        v = json.loads(raw) if raw is not None else []
    except ValueError:
        v = []
    return v if isinstance(v, list) else []


def touch(storage, part):
    """The CSMS changed `part` (a root type, or CLIENT): the factory file no longer applies."""
    t = touched(storage)
    if part not in t:
        t.append(part)
        storage.write(_TOUCHED, json.dumps(t))


def _read(path):
    with open(path, "rb") as f:
        return f.read()


class LazyStore:
    """A certstore.CertStore, opened and synced with the factory files on first attribute use."""

    def __init__(self, storage, factory, log=None):
        self._args = (storage, factory, log)
        self._store = None

    def __getattr__(self, name):
        s = self._store
        if s is None:
            from flexcharge.security.certstore import CertStore

            storage, factory, log = self._args
            s = CertStore(storage, factory, log)
            sync(s, factory, storage, log)
            self._store = s
        return getattr(s, name)


def sync(store, factory, storage, log=None):
    """Make the untouched parts of the store equal to the factory files (at boot)."""
    from flexcharge.security.der import CertError
    from flexcharge.security.pem import pem_to_der
    from flexcharge.security.x509 import pem_to_ders

    t = touched(storage)
    for kind in ("CSMSRootCertificate", "ManufacturerRootCertificate"):
        path = factory.get(kind)
        if kind in t or not path:
            continue
        try:
            ders = [bytes(d) for d in pem_to_ders(_read(path))]
        except (OSError, CertError) as e:
            if log is not None:
                log.error("factory %s %s unusable: %s" % (kind, path, e))
            continue
        if [bytes(d) for d in store.anchors_der(kind)] == ders:
            continue
        for e in store.installed([kind]):
            store.remove(e["certificateHashData"])
        for d in ders:
            store.add(kind, d)
        if log is not None:
            log.info("%s taken from the factory file %s" % (kind, path))
    cp, kp = factory.get("client_cert"), factory.get("client_key")
    if CLIENT in t or not cp or not kp:
        return
    try:
        chain = [bytes(d) for d in pem_to_ders(_read(cp))]
        key = bytes(pem_to_der(_read(kp), "PRIVATE KEY")[0])
    except (OSError, ValueError) as e:  # CertError is a ValueError
        if log is not None:
            log.error("factory client certificate %s / %s unusable: %s" % (cp, kp, e))
        return
    cur = store.client_chain_der()
    if [bytes(d) for d in cur] != chain or bytes(store.client_key_der() or b"") != key:
        store.set_client(chain, key)
