# Issue 8, robustness: "a broken event sink". When the reader of the station's stdout event stream
# goes away, the next event write raises EPIPE. That used to happen inside the connection loop: the
# loop died, the process lived on, the watchdog was still fed, and the station never reconnected. A
# failing report sink must never stop the station (core/station.py report, boards/unix StdoutIndicator),
# and the watchdog watches the vital loops, not just the process (lifecycle/watchdog.py Loops).
import json
import os
import subprocess
import time

from csms import launcher_command


def test_station_carries_on_when_its_event_reader_goes_away(make_csms, kit, tmp_path):
    csms = make_csms(heartbeat_interval=600)
    cfg_path = str(tmp_path / "station.json")
    with open(cfg_path, "w") as f:
        json.dump(kit.station_config(csms.url), f)
    err_path = str(tmp_path / "stderr.log")
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(launcher_command(kit.STATION) + ["--config", cfg_path, "--state", str(tmp_path / "s")],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, start_new_session=True)
    try:
        # Read events until the station is connected, then the reader goes away for good.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if b'"connected"' in line:
                break
        else:
            raise AssertionError("no connected event")
        kit.wait_booted(csms)
        proc.stdout.close()

        # Every event from now on hits a closed pipe: the cable (status event) ...
        m = csms.mark()
        proc.stdin.write(b'{"cmd": "plug", "evse": 1, "connector": 1}\n')
        proc.stdin.flush()
        sn = csms.wait_call("StatusNotification", since=m, timeout=10)
        assert sn.payload["connectorStatus"] == "Occupied"
        # ... and a dropped connection (disconnected / connected events): the station must reconnect.
        n_conn = len(csms.connections)
        csms.drop("tcp")
        csms.wait_for(lambda: len(csms.connections) > n_conn and csms.connections[-1].t_open, 15,
                      "the station reconnecting after the drop")
        reply = csms.call("GetVariables", kit.GET_HEARTBEAT_INTERVAL, timeout=5)
        assert reply.kind == 3, reply
        # Still charging-capable: a tag on the plugged EVSE is authorized over the new connection.
        m = csms.mark()
        proc.stdin.write(b'{"cmd": "tag", "id": "AABBCCDD", "evse": 1}\n')
        proc.stdin.flush()
        csms.wait_call("Authorize", since=m, timeout=10)
        assert proc.poll() is None, "the station process ended"
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()
    with open(err_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    assert "event stream closed" in text, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
