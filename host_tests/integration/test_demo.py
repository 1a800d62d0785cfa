# `make run` (tools/demo.py): a complete charging session against the dev CSMS, run as the user runs it.
# The demo checks the session itself (steps, schemas, seqNo order, energy); here we check that it
# passes on its own, prints the summary a user reads, and that its numbers hang together.
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tools", "demo.py")


def run_demo(kit, tmp_path, *args, timeout=120):
    # TMPDIR: the demo keeps its files after a failure; keep them in the test's own directory.
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.run([sys.executable, DEMO, "--station", kit.STATION] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout, env=env)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def field(out, label, pattern):
    m = re.search(r"^%s\s+%s" % (re.escape(label), pattern), out, re.M)
    assert m, "no %r line matching %r in the demo output:\n%s" % (label, pattern, out[-4000:])
    return m.groups()


def test_demo_runs_a_complete_session(kit, tmp_path):
    rc, out = run_demo(kit, tmp_path)
    assert rc == 0, "demo exited %s:\n%s" % (rc, out[-6000:])
    assert "demo OK" in out.splitlines()[-1], out[-3000:]
    assert "DEMO FAILED" not in out

    # Energy: from the meter values, from the Ended event, and from watts x time.
    metered, begin, end = map(float, field(out, "energy (meter)", r"([\d.]+) Wh .*Register ([\d.]+) -> ([\d.]+) Wh")[:3])
    reported = float(field(out, "energy (Ended)", r"([\d.]+) Wh")[0])
    expected = float(field(out, "energy (check)", r"([\d.]+) Wh expected")[0])
    assert metered > 5 and abs(metered - (end - begin)) <= 0.11
    assert abs(reported - metered) <= 0.2
    assert abs(expected - metered) <= max(0.5, 0.05 * expected)
    readings = [float(x) for x in field(out, "meter values", r"([\d. >-]+) Wh")[0].split("->")]
    assert len(readings) >= 5 and all(b > a for a, b in zip(readings, readings[1:])), readings

    # Duration in whole seconds (Ended event) vs the TransactionEvent timestamps.
    duration, span = field(out, "duration", r"(\d+) s \(Ended event\), ([\d.]+) s between")
    assert int(duration) >= 4 and abs(int(duration) - float(span)) <= 1.05

    assert field(out, "stopped", r"(\w+) \(trigger (\w+)\)") == ("EVDisconnected", "EVCommunicationLost")
    count, last = field(out, "TransactionEvents", r"(\d+), seqNo 0\.\.(\d+) in order")
    assert int(count) == int(last) + 1 >= 7  # Started, >= 4 periodic, SuspendedEV, Ended

    # Frames by type: every station CALL answered, rows add up to the total.
    total, from_station, from_csms = map(int, field(out, "frames exchanged", r"(\d+): (\d+) from the station .*?, (\d+) from the CSMS")[:3])
    assert total == from_station + from_csms
    rows = re.findall(r"^  (\w+)\s+(\d+) CALL station -> CSMS,\s+(\d+) CALLRESULT$", out, re.M)
    actions = dict((a, (int(c), int(r))) for a, c, r in rows)
    for action in ("BootNotification", "StatusNotification", "Authorize", "TransactionEvent"):
        assert action in actions, (action, rows)
    assert actions["TransactionEvent"][0] == int(count)
    assert all(c == r for c, r in actions.values()), rows
    # CALLs the CSMS sent (issue 12: SetChargingProfile of the smart-charging step), each answered
    csms_rows = re.findall(r"^  (\w+)\s+(\d+) CALL CSMS -> station,\s+(\d+) answers$", out, re.M)
    assert ("SetChargingProfile", "1", "1") in csms_rows, csms_rows
    assert sum(c + r for c, r in actions.values()) + sum(int(c) + int(r) for _, c, r in csms_rows) == total, (
        rows, csms_rows, total)
    # issue 12: the EV followed the TxProfile (ChargingRateChanged twice) and the plot was written
    assert "2 x Updated(ChargingRateChanged)" in out or out.count("Updated(ChargingRateChanged)") >= 2, out[-3000:]
    png = field(out, "session plot", r"(\S+\.png)")[0]
    assert os.path.getsize(png) > 10000


def test_demo_fails_clearly_when_a_step_does_not_happen(kit, tmp_path):
    # The dev CSMS answers Authorize with Invalid: no charging, so the demo must stop with a message.
    rc, out = run_demo(kit, tmp_path, "--tag-status", "Invalid", timeout=30)
    assert rc == 1, "demo exited %s:\n%s" % (rc, out[-4000:])
    last = out.strip().splitlines()[-1]
    assert last.startswith("DEMO FAILED: Authorize -> Invalid"), last
    assert "session summary" not in out
    assert str(tmp_path) in last  # where the files were kept, for a look at the station's state
