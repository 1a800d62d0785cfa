"""Charging profiles for the dev CSMS and the demo (K01/K10): build a SetChargingProfile payload, find the
running transaction of an EVSE from the frames the CSMS has seen."""
import datetime


def iso_now(offset_s=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_limit(text):
    """'10A' -> (10.0, 'A'), '6900W' -> (6900.0, 'W'), '16' -> (16.0, 'A')."""
    t = text.strip().upper()
    unit = "A"
    if t.endswith("W") or t.endswith("A"):
        unit = t[-1]
        t = t[:-1]
    return float(t), unit


def profile(pid, purpose, periods, unit="A", level=0, transaction_id=None, start_offset=0, duration=None):
    """periods: [(startPeriod s, limit)]; Absolute from now (+start_offset)."""
    sch = {"id": pid, "chargingRateUnit": unit, "startSchedule": iso_now(start_offset),
           "chargingSchedulePeriod": [{"startPeriod": int(s), "limit": float(l)} for s, l in periods]}
    if duration:
        sch["duration"] = int(duration)
    p = {"id": pid, "stackLevel": level, "chargingProfilePurpose": purpose, "chargingProfileKind": "Absolute",
         "chargingSchedule": [sch]}
    if transaction_id is not None:
        p["transactionId"] = transaction_id
    return p


def running_transaction(csms, evse_id):
    """transactionId of the latest transaction the CSMS saw start on evse_id and not end, or None."""
    live = {}
    for f in csms.calls("TransactionEvent"):
        p = f.payload or {}
        tid = p.get("transactionInfo", {}).get("transactionId")
        if p.get("eventType") == "Ended":
            live.pop(tid, None)
        elif p.get("evse", {}).get("id") is not None:
            live[tid] = p["evse"]["id"]
        elif tid not in live and p.get("eventType") == "Started":
            live[tid] = None
    for tid, e in reversed(list(live.items())):
        if e == evse_id:
            return tid
    return None
