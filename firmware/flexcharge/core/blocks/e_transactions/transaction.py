# A transaction (E01-E15) and its persistence: one small JSON file per active
# transaction ("tx.<evseId>"), rewritten atomically (FileStorage.write) whenever its
# state changes, so a reboot finds every transaction that was running.
import json
from binascii import hexlify

from flexcharge.compat import urandom

PREFIX = "tx."
_SEP = (",", ":")
ENDED_MAX = 24  # meterValue entries kept for the Ended event (TxEndedInterval samples)


def new_id():
    # 16 hex digits: unique across reboots and wiped state without a counter to persist.
    return hexlify(urandom(8)).decode()


class Transaction:
    """Fields named after TransactionEventRequest where one exists."""

    def __init__(self, tx_id, evse_id, connector_id=None):
        self.id = tx_id
        self.evse_id = evse_id
        self.connector_id = connector_id
        self.id_token = None  # idToken dict of the authorization, or None
        self.token_sent = True  # False: the next event reports id_token (first after authorization)
        self.seq_no = 0  # seqNo of the NEXT event (first is 0)
        self.remote_start_id = None
        self.rsid_sent = True
        self.evse_sent = 0  # 0 nothing, 1 evse.id, 2 evse.id+connectorId reported
        self.begin_sent = False  # Transaction.Begin meter values reported
        self.charging_state = None  # last reported chargingState
        self.seen = 0  # TxStopPoint conditions true at some time during the transaction
        self.started_at = 0  # Unix seconds, an int (a float32 epoch moves in 128 s steps)
        self.last_t = 0  # latest timestamp put in an event (boot recovery when the clock is not set)
        self.start_mwh = None  # the meter's import register at the start: an int, mWh
        self.stopped_reason = None  # pending stoppedReason (set at deauthorization)
        self.ended_values = []  # meterValue dicts collected for the Ended event (J02/J01 TxEnded*)
        self.limit_wh = None  # MaxEnergyOnInvalidId: energy allowed after a non-Accepted idTokenInfo
        self.next_updated = None  # time of the next TxUpdatedInterval sample
        self.next_ended = None  # time of the next TxEndedInterval sample
        self.reservation_id = None  # H01: reservation this transaction consumed, reported once
        self.evse_hidden = False  # EVSE not known yet (authorized before any cable): evse left out

    def add_ended(self, mv):
        if len(self.ended_values) >= ENDED_MAX:
            # Bounded size: halve the resolution, keeping the whole span (first and latest).
            self.ended_values = self.ended_values[::2]
        self.ended_values.append(mv)

    def to_json(self):
        return json.dumps(
            {"id": self.id, "e": self.evse_id, "c": self.connector_id, "tok": self.id_token,
             "ts": self.token_sent, "seq": self.seq_no, "rsid": self.remote_start_id, "rs": self.rsid_sent,
             "es": self.evse_sent, "bs": self.begin_sent, "cs": self.charging_state, "seen": self.seen,
             "t0": self.started_at, "lt": self.last_t, "mwh0": self.start_mwh, "stop": self.stopped_reason,
             "ev": self.ended_values, "lim": self.limit_wh, "rid": self.reservation_id,
             "eh": self.evse_hidden},
            separators=_SEP,
        )

    @staticmethod
    def from_dict(d):
        t = Transaction(d["id"], d["e"], d.get("c"))
        t.id_token = d.get("tok")
        t.token_sent = d.get("ts", True)
        t.seq_no = d.get("seq", 0)
        t.remote_start_id = d.get("rsid")
        t.rsid_sent = d.get("rs", True)
        t.evse_sent = d.get("es", 0)
        t.begin_sent = d.get("bs", False)
        t.charging_state = d.get("cs")
        t.seen = d.get("seen", 0)
        t.started_at = int(d.get("t0", 0))
        t.last_t = int(d.get("lt", 0))
        t.start_mwh = d.get("mwh0")
        if t.start_mwh is None and d.get("wh0") is not None:
            t.start_mwh = int(d["wh0"] * 1000 + 0.5)  # saved by a firmware before the mWh register
        t.stopped_reason = d.get("stop")
        t.ended_values = d.get("ev") or []
        t.limit_wh = d.get("lim")
        t.reservation_id = d.get("rid")
        t.evse_hidden = d.get("eh", False)
        return t


class TxStore:
    def __init__(self, storage, log):
        self.storage = storage
        self.log = log

    def save(self, tx):
        self.storage.write("%s%d" % (PREFIX, tx.evse_id), tx.to_json())

    def remove(self, evse_id):
        self.storage.remove("%s%d" % (PREFIX, evse_id))

    def load_all(self):
        out = []
        for name in self.storage.names(PREFIX):
            raw = self.storage.read(name)
            try:
                d = json.loads(raw)
                out.append(Transaction.from_dict(d))
            except (ValueError, KeyError, TypeError) as e:
                # Atomic writes make this impossible short of media corruption; keep going.
                self.log.error("transaction record %s unreadable: %r" % (name, e))
                self.storage.remove(name)
        return out
