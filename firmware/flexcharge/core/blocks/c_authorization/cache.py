# C10/C11 Authorization Cache: IdTokenInfo the CSMS sent in AuthorizeResponse or
# TransactionEventResponse, kept per idToken (C10.FR.01/04/05), persisted across reboots
# (C10.FR.02, TC_C_32_CS) with one atomic write per change, bounded in bytes
# (AuthCacheCtrlr.Storage maxLimit) with least-recently-used replacement (AuthCacheCtrlr.Policy LRU).
#
# Entry: key -> (packed, expiry, updated, used, extra)  (see idtoken.py for key/packed/extra)
#   expiry : cacheExpiryDateTime, 0 = none (C10.FR.13)
#   updated: when the CSMS last sent this IdTokenInfo; AuthCacheCtrlr.LifeTime counts from here
#            (C10.FR.10 as amended by errata 2025-01)
#   used   : last time the entry authorized someone (LRU order)
# Times are seconds since BASE, so they stay small ints (no boxed big int per field on a 32-bit
# port); one tuple per entry, and equal packed strings share one object (dedup at load).
import json

from flexcharge.core.blocks.c_authorization import idtoken

FILE = "auth.cache"
MAX_BYTES = 4096  # AuthCacheCtrlr.Storage maxLimit: bytes of the persisted cache
BASE = 1700000000  # 2023-11-14: epoch of the stored times


def _rel(t):
    return int(t) - BASE if t else 0


class AuthCache:
    def __init__(self, storage, log, max_bytes=MAX_BYTES):
        self.storage = storage
        self.log = log
        self.max_bytes = max_bytes
        self.bytes = 0  # AuthCacheCtrlr.Storage (Actual): bytes used now
        self._e = {}
        self.load()

    def load(self):
        self._e = {}
        raw = self.storage.read(FILE)
        if not raw:
            return
        self.bytes = len(raw)
        try:
            d = json.loads(raw)
            raw = None
            same = {}
            for k in d:
                v = d[k]
                if isinstance(k, str) and k and isinstance(v, list) and len(v) == 5 and isinstance(v[0], str) and v[0]:
                    p = same.get(v[0])
                    if p is None:
                        p = same[v[0]] = v[0]
                    self._e[k] = (p, v[1], v[2], v[3], v[4])
        except (ValueError, TypeError):
            # A cache is only an accelerator: unreadable means empty, never a failed boot.
            self.log.error("authorization cache unreadable, cleared")
            self._e = {}

    def __len__(self):
        return len(self._e)

    def keys(self):
        return list(self._e)

    def _fresh(self, k, v, now, lifetime):
        now = _rel(now)
        if v[1] and now > v[1]:
            return False  # C10.FR.13: past cacheExpiryDateTime
        if lifetime is not None and lifetime >= 0 and now - v[2] > lifetime:
            return False  # C10.FR.10: AuthCacheLifeTime since the info was last updated
        return True

    def get(self, k, now, lifetime):
        """-> entry list or None. An expired entry is removed (C10.FR.10/13)."""
        v = self._e.get(k)
        if v is None:
            return None
        if not self._fresh(k, v, now, lifetime):
            del self._e[k]
            self._save()
            return None
        return v

    def touch(self, k, now):
        # LRU bookkeeping only: kept in RAM, written with the next real change, so presenting a
        # card does not cost a flash write (after a reboot the order falls back to the last save).
        v = self._e.get(k)
        if v is not None:
            self._e[k] = (v[0], v[1], v[2], _rel(now), v[4])

    def info(self, k, now, lifetime):
        v = self.get(k, now, lifetime)
        return None if v is None else self.info_of(v)

    def info_of(self, v):
        """entry -> IdTokenInfoType dict"""
        return idtoken.unpack(v[0], v[4], v[1] + BASE if v[1] else 0)

    def put(self, k, info, now):
        """Store (or replace) the IdTokenInfo of one token (C10.FR.04/05). An info whose
        cacheExpiryDateTime has passed is not stored, and removes an existing entry (C10.FR.10 note)."""
        exp = idtoken.expiry_of(info)
        if exp and now > exp:
            if k in self._e:
                del self._e[k]
                self._save()
            return
        packed, extra = idtoken.pack(info)
        for v in self._e.values():
            if v[0] == packed:
                packed = v[0]  # share the string with an equal entry
                break
        n = _rel(now)
        self._e[k] = (packed, _rel(exp), n, n, extra)
        self._save(keep=k)

    def remove(self, k):
        if k in self._e:
            del self._e[k]
            self._save()

    def clear(self):
        """C11.FR.03: ClearCache."""
        self._e = {}
        self._save()

    def purge(self, now, lifetime):
        """Drop every expired entry (returns how many)."""
        old = [k for k in self._e if not self._fresh(k, self._e[k], now, lifetime)]
        for k in old:
            del self._e[k]
        if old:
            self._save()
        return len(old)

    def _save(self, keep=None):
        data = json.dumps(self._e).encode()
        if len(data) > self.max_bytes:
            data = self._evict(len(data), keep)
        try:
            self.storage.write(FILE, data)
        except OSError as e:
            self.log.error("authorization cache not saved: %r" % (e,))
        self.bytes = len(data)

    def _evict(self, size, keep):
        # LRU (AuthCacheCtrlr.Policy): least recently used first; the entry just stored stays.
        order = sorted((v[3], k) for k, v in self._e.items() if k != keep)
        for _, k in order:
            if size <= self.max_bytes:
                break
            v = self._e.pop(k)
            size -= len(json.dumps(k)) + len(json.dumps(v)) + 4  # '"k": [..], '
        data = json.dumps(self._e).encode()
        while len(data) > self.max_bytes and len(self._e) > (1 if keep in self._e else 0):
            # the estimate was short (separators): drop one more
            rest = sorted((v[3], k) for k, v in self._e.items() if k != keep)
            if not rest:
                break
            del self._e[rest[0][1]]
            data = json.dumps(self._e).encode()
        return data
