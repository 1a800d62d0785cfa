# The persisted, ordered queue of TransactionEvent requests (E04, E11, E12, E13).
#
# Every TransactionEvent is written here BEFORE it is sent (DESIGN.md: nothing lost on
# power loss) and removed only after its CALLRESULT. One file per event, written with
# FileStorage.write (temp file + flush + rename), so a power cut leaves the entry either
# complete or absent, never half-written.
#
# Why one file per event rather than an append-only log: removal after a CALLRESULT is a
# single unlink (no rewrite of a segment that still holds unsent events), and the name
# alone carries what boot recovery and GetTransactionStatus need:
#     tq.<order:8 digits>.<transactionId>.<seqNo>.<S|U|E>
# so neither needs to open a file. The content is the compact JSON payload (~200-400 B).
# On littlefs (most MCU ports) such small files are inlined in the directory's metadata
# pair instead of taking a block each; on FAT each takes a cluster (see the benchmark).
#
# RAM: no per-entry objects. We keep the count, a count per transaction id and a short
# window of the oldest names (refilled with one directory listing per _WINDOW sends).
import json

from flexcharge.compat import const

PREFIX = "tq."
_WINDOW = const(64)
_SEP = (",", ":")


def entry_name(order, tx_id, seq_no, event_type):
    return "%s%08d.%s.%d.%s" % (PREFIX, order, tx_id, seq_no, event_type[0])


def parse_name(name):
    """-> (order, tx_id, seq_no, type letter) or None for a foreign name."""
    p = name.split(".")
    if len(p) != 5 or p[0] + "." != PREFIX:
        return None
    try:
        return int(p[1]), p[2], int(p[3]), p[4]
    except ValueError:
        return None


class TxQueue:
    def __init__(self, storage, log, limit=5000):
        self.storage = storage
        self.log = log
        self.limit = limit  # entries; beyond it periodic meter-value Updates are not queued
        self._per_tx = {}  # transactionId -> entries queued
        self._count = 0
        self._next = 1
        self._window = []
        self._scan()

    def _scan(self):
        n = 0
        per = {}
        last = 0
        for name in self.storage.names(PREFIX):
            p = parse_name(name)
            if p is None:
                continue
            n += 1
            per[p[1]] = per.get(p[1], 0) + 1
            if p[0] > last:
                last = p[0]
        self._count = n
        self._per_tx = per
        self._next = last + 1
        self._window = []

    def __len__(self):
        return self._count

    def full(self):
        return self._count >= self.limit

    def has(self, tx_id):
        return self._per_tx.get(tx_id, 0) > 0

    def push(self, payload):
        """Persist one TransactionEventRequest payload; returns its entry name."""
        ti = payload["transactionInfo"]
        tx_id = ti["transactionId"]
        name = entry_name(self._next, tx_id, payload["seqNo"], payload["eventType"])
        self.storage.write(name, json.dumps(payload, separators=_SEP))
        self._next += 1
        self._count += 1
        self._per_tx[tx_id] = self._per_tx.get(tx_id, 0) + 1
        return name

    def head(self):
        """(name, payload) of the oldest entry, or None when empty. An unreadable entry
        (cannot happen by construction; defensive) is dropped with a log line."""
        while self._count > 0:
            if not self._window:
                self._window = self.storage.names(PREFIX)[:_WINDOW]
                if not self._window:
                    self._scan()  # counts disagree with the directory: trust the directory
                    return None
            name = self._window[0]
            raw = self.storage.read(name)
            payload = None
            if raw is not None:
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = None
            if isinstance(payload, dict):
                return name, payload
            self.log.error("txqueue: dropping unreadable entry %s" % name)
            self.pop(name)
        return None

    def pop(self, name):
        """Remove an entry (after its CALLRESULT, or when given up per E13)."""
        self.storage.remove(name)
        if self._window and self._window[0] == name:
            self._window.pop(0)
        elif name in self._window:
            self._window.remove(name)
        p = parse_name(name)
        if p is not None:
            c = self._per_tx.get(p[1], 0) - 1
            if c > 0:
                self._per_tx[p[1]] = c
            elif p[1] in self._per_tx:
                del self._per_tx[p[1]]
        self._count = self._count - 1 if self._count > 0 else 0
        if self._count == 0:
            self._next = 1  # numbering restarts once drained: names stay 8 digits

    def summary(self):
        """Boot recovery: {transactionId: (highest seqNo queued, its type letter, entry name)}."""
        out = {}
        for name in self.storage.names(PREFIX):
            p = parse_name(name)
            if p is None:
                continue
            cur = out.get(p[1])
            if cur is None or p[2] >= cur[0]:
                out[p[1]] = (p[2], p[3], name)
        return out

    def read(self, name):
        raw = self.storage.read(name)
        try:
            return json.loads(raw) if raw is not None else None
        except ValueError:
            return None
