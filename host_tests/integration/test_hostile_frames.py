# A bounded hostile-frame run against the real station (issue 8): a few thousand seeded frames --
# invalid JSON in the forms MicroPython's json.loads lets through, wrong types, deep nesting, odd and
# huge sizes, fragmented messages, invalid UTF-8, control frames, unknown actions, bad MessageTypeIds --
# mixed with valid CALLs, over a few connections, from a raw server side (tools/csms/raw.py).
#
# Asserts: the station never crashes (process alive, reconnects); every CALL it can identify
# (valid JSON, MessageTypeId 2, a messageId of 1..36 characters) gets exactly one Part 4 answer
# (CALLRESULT or CALLERROR, same messageId), and nothing else gets more than one; every text frame it
# sends is valid UTF-8 and valid JSON and passes the schema checks of tools/csms; it never drops a
# connection on a frame that does not justify it, and a frame that does (RFC 6455) gets the close code
# RFC 6455 names; at the end it still answers a valid CALL.
#
# FLEXCHARGE_HOSTILE_FRAMES=N changes the frame count (default 3000); the seed is fixed.
import json
import os
import random
import time

import pytest

from csms import SchemaBook, StationProcess, check_station_frame
from csms.server import _ID_PREFIX
from csms.raw import RawCsms, frame, OP_TEXT, OP_BINARY, OP_CONT, OP_CLOSE, OP_PING, OP_PONG

SEED = 20268
FRAMES = int(os.environ.get("FLEXCHARGE_HOSTILE_FRAMES", "3000"))
CONNECTIONS = 5
LIMIT = 65536

GV = {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}
VALID = [
    ("ClearCache", {}),
    ("GetVariables", GV),
    ("GetLocalListVersion", {}),
    ("GetTransactionStatus", {}),
    ("DataTransfer", {"vendorId": "com.example.hostile", "messageId": "probe"}),
    ("TriggerMessage", {"requestedMessage": "Heartbeat"}),
    ("GetVariables", {"getVariableData": [{"component": {"name": "OCPPCommCtrlr", "evse": {"id": 1}},
                                           "variable": {"name": "OfflineThreshold"}, "attributeType": "Actual"}]}),
]
ONE, AT_MOST_ONE, ZERO = "one", "at-most-one", "zero"
NAMES = set(a for a, _ in VALID)


SCHEMAS = SchemaBook()


def _no_constant(name):
    raise ValueError(name)  # NaN, Infinity: not JSON (RFC 8259)


def classify(text, mid, must, force_one=False):
    """(messageId, how many answers, action) of a text message, decided on the CSMS side: a valid
    JSON CALL with a 1..36 character messageId must get exactly one answer, whatever the generator
    meant to break; a broken one at most one, under the messageId readable before the break."""
    try:
        msg = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        msg = None
    if msg is None:
        m = _ID_PREFIX.match(text)
        rid = None
        if m:
            try:
                rid = json.loads('"%s"' % m.group(2))
            except ValueError:
                pass
        if force_one:
            return rid or mid, ONE, "", False  # valid JSON, only too deep for CPython's parser
        return (rid, AT_MOST_ONE, "", True) if rid else (mid, must if must == ZERO else None, "", True)
    if isinstance(msg, list) and len(msg) > 1 and type(msg[0]) is int and msg[0] == 2 and \
            isinstance(msg[1], str) and 0 < len(msg[1]) <= 36:
        action = ""
        if len(msg) == 4 and isinstance(msg[2], str) and SCHEMAS.has(msg[2] + "Request") and \
                isinstance(msg[3], dict) and not SCHEMAS.errors(msg[2] + "Request", msg[3]):
            action = msg[2]
        return msg[1], ONE, action, False
    return mid, must, "", False


class Gen:
    """Frame factory. Each item: (bytes on the wire, messageId or None, how many answers it must get
    (ONE / AT_MOST_ONE / ZERO / None for no messageId), action when the frame is a valid CALL else "")."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.n = 0
        self.invalid = set()  # messageIds of frames that are not valid JSON

    def mid(self):
        self.n += 1
        return "h%d" % self.n

    def valid(self):
        action, payload = self.r.choice(VALID)
        return action, payload

    def text(self, s):
        return frame(OP_TEXT, s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s)

    def ret(self, text, mid, must, data=None, force_one=False):
        mid, must, action, bad = classify(text, mid, must, force_one)
        if bad and mid is not None:
            self.invalid.add(mid)
        return (data if data is not None else self.text(text)), mid, must, action

    # -- non-fatal frames (the connection must survive them) ------------------------------
    def one(self):
        r = self.r
        k = r.randrange(100)
        mid = self.mid()
        action, payload = self.valid()
        good = json.dumps([2, mid, action, payload])
        if k < 25:  # a valid CALL
            return self.ret(good, mid, ONE)
        if k < 45:  # invalid JSON, in the forms MicroPython's json.loads accepts, and worse
            forms = [
                good[:-2] + ",}]" if good.endswith("}]") and not good.endswith("{}]") else good[:-1] + ",]",
                good[:-1] + ",]",
                good.replace(", ", " ", 1),
                good.replace('": ', '" ', 1) if '": ' in good else good[:-3],
                good.replace("{}", '{"a": 010}') if "{}" in good else good.replace(": 1", ": 01"),
                good.replace("{}", '{"a": "\\x41"}') if "{}" in good else good.replace('"Actual"', '"\\x41"'),
                good.replace("{}", '{"a": "x\x01y"}') if "{}" in good else good.replace("Heartbeat", "Heart\tbeat"),
                good[: r.randrange(1, len(good))],
                good.replace("[2", "[02", 1),
                good.replace("[2", "[2.", 1),
                good + " x",
                good.replace("}", "", 1) if "}" in good else good + "}",
                "[2, '%s', '%s', {}]" % (mid, action),
                good.replace('"%s"' % mid, '"%s' % mid, 1),
                good.replace("{}", "{NaN: 1}"),
                good.replace("{}", '{"a": [1 2]}'),
            ]
            s = r.choice(forms)
            # The messageId may be readable before the break: at most one answer under it.
            return self.ret(s, mid, AT_MOST_ONE)
        if k < 55:  # wrong types, bad RPC wrappers
            forms = [
                ([2, mid, action, "payload"], ONE),
                ([2, mid, action, []], ONE),
                ([2, mid, action, None], ONE),
                ([2, mid, action], ONE),
                ([2, mid, action, payload, {}], ONE),
                ([2, mid, 17, payload], ONE),
                ([2, mid, "GetVariables", {"getVariableData": [{"component": {"name": 5}, "variable": {}}]}], ONE),
                ([2, mid, "GetVariables", {"getVariableData": [{"component": {"name": "X", "evse": {"id": 1.5}},
                                                              "variable": {"name": "Y"}}]}], ONE),
                ([2, mid, "GetVariables", {"getVariableData": [{"component": {"name": "X", "evse": {"id": 1E+00}},
                                                              "variable": {"name": "Y"}}]}], ONE),
                ([2, mid, "ClearCache", {"unknown": True}], ONE),
                ([r.choice([0, 1, 5, 7, -1, 99999999999]), mid, action, payload], AT_MOST_ONE),
                (["2", mid, action, payload], AT_MOST_ONE),
                ([True, mid, action, payload], AT_MOST_ONE),
                ([2.0, mid, action, payload], AT_MOST_ONE),
                ([2, 12345, action, payload], None),
                ([2, "", action, payload], None),
                ([2, "x" * 37, action, payload], None),
                ([2], None),
                ({"messageTypeId": 2}, None),
                ("just a string", None),
                ([3, mid, {}], ZERO),  # answers to CALLs the station never sent: dropped
                ([4, mid, "GenericError", "", {}], ZERO),
            ]
            msg, must = r.choice(forms)
            return self.ret(json.dumps(msg), mid, must)
        if k < 62:  # unknown actions, echoed text with lone surrogates and pairs
            act = r.choice(["TeleportVehicle", "Tele\\ud800port", "X\\udfff", "Emoji\\ud83d\\ude00", "",
                            "a" * 300, "Reset\\u0000", "Caf\\u00e9"])
            return self.ret('[2, "%s", "%s", {}]' % (mid, act), mid, ONE)
        if k < 68:  # deep nesting (customData is open in the schemas)
            depth = r.choice((31, 33, 100, 3000))
            deep = '{"vendorId": "x", "n": ' + '{"a": ' * depth + "1" + "}" * (depth + 1)
            if r.random() < 0.7:
                s = '[2, "%s", "ClearCache", {"customData": %s}]' % (mid, deep)
            else:
                s = '[2, "%s", %s1%s, {}]' % (mid, "[" * depth, "]" * depth)
            return self.ret(s, mid, ONE, force_one=True)
        if k < 74:  # sizes: empty, tiny, the 125/126 and 65535/65536 length encodings, padding
            size = r.choice((0, 1, 2, 125, 126, 127, 65535, 65536, 30000))
            if size < 40:
                return self.ret("[" * size, None, None)
            base = json.dumps([2, mid, "ClearCache", {"customData": {"vendorId": "x", "pad": ""}}])
            pad = size - len(base)
            if r.random() < 0.5:
                s = json.dumps([2, mid, "ClearCache", {"customData": {"vendorId": "x", "pad": "P" * pad}}])
            else:
                s = json.dumps([2, mid, "ClearCache", {}])
                s = s[:-1] + " " * (size - len(s)) + "]"
            return self.ret(s, mid, ONE)
        if k < 84:  # fragmented messages, with control frames in between
            b = good.encode()
            cuts = sorted(r.sample(range(1, len(b)), min(len(b) - 1, r.randrange(1, 5))))
            parts = [b[i:j] for i, j in zip([0] + cuts, cuts + [len(b)])]
            out = b""
            for i, p in enumerate(parts):
                out += frame(OP_TEXT if i == 0 else OP_CONT, p, fin=i == len(parts) - 1)
                if r.random() < 0.4:
                    out += frame(r.choice((OP_PING, OP_PONG)), os.urandom(r.randrange(0, 126)))
            return self.ret(good, mid, ONE, data=out)
        if k < 90:  # control frames
            return frame(r.choice((OP_PING, OP_PONG)), os.urandom(r.randrange(0, 126))), None, None, ""
        if k < 93:  # binary frames: OCPP-J ignores them
            return frame(OP_BINARY, os.urandom(r.randrange(0, 2000))), None, None, ""
        # valid JSON with non-ASCII text, and valid UTF-8 in odd places
        s = '[2, "%s", "DataTransfer", {"vendorId": "caf\u00e9 \u20ac \U0001F600", "data": "\u00e9\u00e8"}]' % mid
        return self.ret(s, mid, ONE)

    # -- fatal frames (RFC 6455 fails the connection; expected close code) ----------------------
    def fatal(self):
        r = self.r
        mid = self.mid()
        forms = [
            (frame(OP_TEXT, b'[2, "%s", "ClearCache", {"a": "\xed\xa0\x80"}]' % mid.encode()), 1007),
            (frame(OP_TEXT, b"\xc0\xaf"), 1007),
            (frame(OP_TEXT, b"caf\xc3"), 1007),
            (frame(OP_TEXT, b"x", rsv=4), 1002),
            (frame(3, b"reserved"), 1002),
            (frame(OP_CONT, b"orphan"), 1002),
            (frame(OP_TEXT, b"[2,", fin=False) + frame(OP_TEXT, b"again"), 1002),
            (frame(OP_PING, b"p" * 126), 1002),
            (frame(OP_PING, b"p", fin=False), 1002),
            (frame(OP_TEXT, b"masked", mask=b"\x01\x02\x03\x04"), 1002),
            (frame(OP_CLOSE, b"\x03"), 1002),
            (frame(OP_TEXT, b"A" * (LIMIT + 1)), 1009),
            (frame(OP_TEXT, b"[" * 40000, fin=False) + frame(OP_CONT, b"]" * 40000), 1009),
            (frame(OP_CLOSE, b"\x03\xe8bye"), 1000),  # the CSMS closes: the station echoes 1000
        ]
        return r.choice(forms)


def start_station(kit, csms, tmp, n):
    if not os.path.exists(kit.STATION):
        pytest.fail("station launcher %s does not exist yet" % kit.STATION)
    st = StationProcess(kit.station_config(csms.url), str(tmp / "state"), config_path=str(tmp / "station.json"),
                        launcher=kit.STATION)
    return st.start()


def check_conn(conn, sent, invalid=()):
    """Problems with what the station sent on one connection: UTF-8, JSON, schemas, answers."""
    problems = []
    if conn.bad_utf8:
        problems.append("c%d: %d text frames not valid UTF-8, e.g. %r" % (conn.index, len(conn.bad_utf8),
                                                                          conn.bad_utf8[0][:200]))
    if conn.bad_json:
        problems.append("c%d: %d text frames not valid JSON, e.g. %r" % (conn.index, len(conn.bad_json),
                                                                         conn.bad_json[0][:200]))
    # The CSMS's view for the schema checks: valid CALLs by action, every other id "" (a CALLERROR
    # under it is fine, a CALLRESULT is not). check_station_frame pops what is answered.
    pending = {mid: action for mid, (must, action) in sent.items()}
    for msg in conn.messages:
        _, probs = check_station_frame(json.dumps(msg), pending)
        problems.extend("c%d: %s | %s" % (conn.index, p, json.dumps(msg)[:200]) for p in probs)
    for mid, (must, action) in sent.items():
        n = len(conn.answers.get(mid, ()))
        if (must == ONE and n != 1) or (must == ZERO and n) or n > 1:
            problems.append("c%d: frame %s (%s) got %d answers, expected %s" % (conn.index, mid, action, n, must))
        if mid in invalid:
            # Part 4 §4.1.2: not valid JSON, so not a valid RPC request.
            for a in conn.answers.get(mid, ()):
                if a[0] != 4 or a[2] != "RpcFrameworkError":
                    problems.append("c%d: invalid JSON frame %s answered %s" % (conn.index, mid, json.dumps(a)[:150]))
    return problems


def test_hostile_frames(kit, tmp_path):
    t0 = time.monotonic()
    gen = Gen(SEED)
    csms = RawCsms().start()
    st = start_station(kit, csms, tmp_path, 0)
    problems = []
    total = 0
    try:
        per_conn = FRAMES // CONNECTIONS
        for ci in range(CONNECTIONS):
            conn = csms.connection(timeout=20)
            if ci == 0:
                assert conn.wait(lambda: len(conn.calls) >= 4, 15), "the station did not boot: %r" % conn.calls
            conn.wait(lambda: False, 0.3)
            sent = {}  # messageId -> (must, action) of the frames of this connection
            batch = []
            for i in range(per_conn):
                data, mid, must, action = gen.one()
                if mid is not None:
                    sent[mid] = (must, action)
                seg = gen.r.choice((None, None, None, 1, 7, 100, 1400)) if len(data) < 2000 else \
                    gen.r.choice((None, None, 7, 1400, 4096)) if len(data) < 20000 else gen.r.choice((None, 1400, 4096))
                conn.send_bytes(data, segment=seg)
                total += 1
                if must == ONE:
                    batch.append(mid)
                if len(batch) >= 40 or i == per_conn - 1:
                    # Keep the station's backlog bounded: wait for this batch's answers.
                    ok = conn.wait(lambda: all(m in conn.answers for m in batch) or conn.eof, 10)
                    if conn.eof:
                        problems.append("c%d: the station dropped the connection after frame %d (close %r %r)"
                                        % (conn.index, i, conn.close_code, conn.close_reason))
                        break
                    if not ok:
                        missing = [m for m in batch if m not in conn.answers]
                        problems.append("c%d: no answer to %s" % (conn.index, missing[:10]))
                    batch = []
            conn.wait(lambda: False, 0.5)  # late duplicates would show now
            problems.extend(check_conn(conn, sent, gen.invalid))
            assert st.alive(), "the station process died"
            if conn.eof:
                continue
            # End this connection with a frame that justifies a close.
            data, code = gen.fatal()
            conn.send_bytes(data)
            total += 1
            if not conn.wait_closed(15):
                problems.append("c%d: no close after a fatal frame (expected %d)" % (conn.index, code))
                conn.abort()
            elif conn.close_code != code:
                problems.append("c%d: close code %r %r, expected %d" % (conn.index, conn.close_code,
                                                                         conn.close_reason, code))
            assert st.alive(), "the station process died"
        # The station still answers a valid CALL.
        conn = csms.connection(timeout=20)
        conn.wait(lambda: False, 0.3)
        conn.send_text(json.dumps([2, "final-1", "GetVariables", GV]))
        a = conn.answer("final-1", 10)
        assert a is not None and a[0] == 3, a
        assert st.alive()
    finally:
        st.kill()
        csms.stop()
    stderr = open(st.stderr_path, "rb").read().decode("utf-8", "replace")
    assert not problems, "%d problems (%d frames, %.0f s):\n%s\n--- station stderr (tail) ---\n%s" % (
        len(problems), total, time.monotonic() - t0, "\n".join(problems[:40]), stderr[-4000:])
    assert "Traceback" not in stderr, stderr[-4000:]
    assert not st.bad_lines, st.bad_lines[:5]
