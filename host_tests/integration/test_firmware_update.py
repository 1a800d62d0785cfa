# Issue 11, L01-L04 secure firmware update with A/B slots and rollback: the station (tools/station,
# MicroPython unix port) against the ocpp CSMS plus a local HTTP(S) file server (http.server in a
# thread). Images come from tools/firmware-image, signatures from tools/sign-firmware, the
# manufacturer CA and signing certificate from tools/pki.py generate_firmware_pki.
import datetime
import functools
import http.server
import os
import signal
import ssl
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)
from pki import generate_firmware_pki  # noqa: E402

FAILED = ("DownloadFailed", "InvalidSignature", "InstallVerificationFailed", "InstallationFailed")


class FileServer:
    """Serves a directory; fail_next: how many GETs answer 503 first; slow: seconds per 16 KB sent
    (so a download can be caught in flight). Honours Range (bytes=N-)."""

    def __init__(self, root, tls=None):
        self.root = root
        self.fail_next = 0
        self.cut_next = None  # bytes after which the next body is cut (connection closed), once
        self.slow = 0.0
        self.requests = []
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                srv.requests.append((self.path, self.headers.get("Range")))
                if srv.fail_next > 0:
                    srv.fail_next -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                p = os.path.join(srv.root, self.path.lstrip("/").split("?")[0])
                if not os.path.isfile(p):
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with open(p, "rb") as f:
                    data = f.read()
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                    self.send_response(206)
                    self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if srv.cut_next is not None:
                    n, srv.cut_next = srv.cut_next, None
                    self.wfile.write(body[:n])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                try:
                    for i in range(0, len(body), 16384):
                        self.wfile.write(body[i:i + 16384])
                        if srv.slow:
                            time.sleep(srv.slow)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(tls["server_cert"], tls["server_key"])
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name):
        return "%s://127.0.0.1:%d/%s" % (self.scheme, self.httpd.server_address[1], name)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def fwpki(tmp_path_factory):
    d = tmp_path_factory.mktemp("fwpki")
    good = generate_firmware_pki(str(d), key_type="ec", prefix="mfr")
    rsa = generate_firmware_pki(str(d), key_type="rsa", prefix="mfrrsa")
    other = generate_firmware_pki(str(d), key_type="ec", org="Somebody Else", prefix="other")
    # The station trusts both makers' roots it was built with: mfr (EC) and mfrrsa (RSA).
    both = str(d / "roots.pem")
    with open(both, "w") as f:
        f.write(open(good["ca"]).read() + open(rsa["ca"]).read())
    return {"good": good, "rsa": rsa, "other": other, "roots": both, "dir": str(d)}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("images")

    def build(version, broken=False, hang=False):
        out = str(d / ("fw-%s%s%s.img" % (version, "-broken" if broken else "", "-hang" if hang else "")))
        cmd = [sys.executable, os.path.join(TOOLS, "firmware-image"), "--version", version, "--out", out]
        if broken:
            cmd.append("--broken")
        if hang:
            cmd.append("--hang")
        subprocess.run(cmd, check=True, capture_output=True)
        return out

    return {"dir": str(d), "build": build}


@pytest.fixture
def files(images):
    s = FileServer(images["dir"])
    yield s
    s.stop()


def sign(key, image):
    r = subprocess.run([sys.executable, os.path.join(TOOLS, "sign-firmware"), "--key", key, image],
                       check=True, capture_output=True, text=True)
    return r.stdout.strip()


def ago(hours=2):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def request(url, image, signer, request_id=1, **extra):
    fw = {"location": url, "retrieveDateTime": ago(), "signingCertificate": open(signer["signer"]).read(),
          "signature": sign(signer["signer_key"], image)}
    fw.update(extra.pop("firmware", {}))
    p = {"requestId": request_id, "firmware": fw}
    p.update(extra)
    return p


def statuses(csms, since=0, request_id=None):
    return [f.payload["status"] for f in csms.calls("FirmwareStatusNotification", since=since)
            if request_id is None or f.payload.get("requestId") == request_id]


def wait_status(csms, status, since=0, timeout=60):
    return csms.wait_for(lambda: status in statuses(csms, since), timeout,
                         "FirmwareStatusNotification %s (got %s)" % (status, statuses(csms, since)))


def security_events(csms, since=0):
    return [f.payload["type"] for f in csms.calls("SecurityEventNotification", since=since)]


def boot_versions(csms, since=0):
    return [f.payload["chargingStation"].get("firmwareVersion") for f in csms.calls("BootNotification", since=since)]


@pytest.fixture
def rig(make_csms, make_station, kit, fwpki):
    class Rig:
        def __init__(self):
            self.csms = make_csms(heartbeat_interval=600)
            self.cfg = kit.station_config(self.csms.url, tls={"manufacturer_ca": fwpki["roots"]})
            self.st = make_station(self.cfg)
            kit.wait_booted(self.csms, self.st, timeout=20)

        def restart(self):
            mark = self.csms.mark()
            self.st = make_station(self.cfg, state_dir=self.st.state_dir)
            return mark

        def power_cut(self):
            os.killpg(self.st.proc.pid, signal.SIGKILL)
            self.st.proc.wait(10)

    return Rig()


def update(rig, payload, expect="Accepted"):
    r = rig.csms.call("UpdateFirmware", payload, timeout=10)
    assert r.kind == 3, r
    assert r.payload["status"] == expect, r.payload
    return r


IN_ORDER = ["Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting", "Installed"]


def test_full_update_to_a_new_version(rig, files, images, fwpki, kit):
    """TC_L_01_CS: every status in order, the reboot, BootNotification with the new version,
    Installed and FirmwareUpdated; the EVSEs went Unavailable for the installation."""
    img = images["build"]("2.0.0")
    mark = rig.csms.mark()
    update(rig, request(files.url(os.path.basename(img)), img, fwpki["good"], request_id=11))
    wait_status(rig.csms, "Installed", mark, timeout=90)
    assert statuses(rig.csms, mark) == IN_ORDER
    assert all(f.payload.get("requestId") == 11 for f in rig.csms.calls("FirmwareStatusNotification", since=mark))
    boots = rig.csms.calls("BootNotification", since=mark)
    assert boots and boots[-1].payload["chargingStation"]["firmwareVersion"] == "2.0.0"
    assert boots[-1].payload["reason"] == "FirmwareUpdate"
    rig.csms.wait_for(lambda: "FirmwareUpdated" in security_events(rig.csms, mark), 20, "FirmwareUpdated")
    unavailable = [f for f in rig.csms.calls("StatusNotification", since=mark)
                   if f.payload["connectorStatus"] == "Unavailable"]
    assert len(unavailable) >= 3
    # Trigger reports the real status now: Idle after the update ended.
    r = rig.csms.call("TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})
    assert r.payload["status"] == "Accepted"
    # A second reboot stays on the new version (the slot is confirmed).
    mark = rig.restart()
    kit.wait_booted(rig.csms, rig.st, timeout=20, since=mark)
    assert boot_versions(rig.csms, mark)[-1] == "2.0.0"


def test_rsa_signed_update_over_https(make_csms, make_station, kit, fwpki, images, pki_rsa):
    """https:// download verified against the CSMS root (tls.ca), RSA-2048 signature."""
    files = FileServer(images["dir"], tls=pki_rsa)
    try:
        csms = make_csms(heartbeat_interval=600)
        cfg = kit.station_config(csms.url, tls={"manufacturer_ca": fwpki["roots"], "ca": pki_rsa["ca"]})
        st = make_station(cfg)
        kit.wait_booted(csms, st, timeout=20)
        img = images["build"]("2.1.0")
        mark = csms.mark()
        r = csms.call("UpdateFirmware", request(files.url(os.path.basename(img)), img, fwpki["rsa"], request_id=5))
        assert r.payload["status"] == "Accepted"
        csms.wait_for(lambda: "Installed" in statuses(csms, mark), 90, "Installed")
        assert statuses(csms, mark) == IN_ORDER
        assert boot_versions(csms, mark)[-1] == "2.1.0"
    finally:
        files.stop()


def test_bad_signature(rig, files, images, fwpki):
    """TC_L_06_CS: Downloading, Downloaded, InvalidSignature + InvalidFirmwareSignature; no reboot."""
    img = images["build"]("3.0.0")
    other_img = images["build"]("3.0.1")
    p = request(files.url(os.path.basename(img)), img, fwpki["good"], request_id=2)
    p["firmware"]["signature"] = sign(fwpki["good"]["signer_key"], other_img)  # a real signature, other bytes
    mark = rig.csms.mark()
    update(rig, p)
    wait_status(rig.csms, "InvalidSignature", mark)
    assert statuses(rig.csms, mark) == ["Downloading", "Downloaded", "InvalidSignature"]
    rig.csms.wait_for(lambda: "InvalidFirmwareSignature" in security_events(rig.csms, mark), 20, "event")
    time.sleep(1)
    assert rig.csms.calls("BootNotification", since=mark) == []


def test_untrusted_signing_certificate(rig, files, images, fwpki):
    """TC_L_05_CS: InvalidCertificate + InvalidFirmwareSigningCertificate, nothing downloaded."""
    img = images["build"]("3.1.0")
    mark = rig.csms.mark()
    update(rig, request(files.url(os.path.basename(img)), img, fwpki["other"], request_id=3),
           expect="InvalidCertificate")
    rig.csms.wait_for(lambda: "InvalidFirmwareSigningCertificate" in security_events(rig.csms, mark), 20, "event")
    assert files.requests == [] and statuses(rig.csms, mark) == []


def test_missing_signature_is_rejected(rig, files, images, fwpki):
    """TC_L_18_CS: without signingCertificate and signature the secure update refuses."""
    r = rig.csms.call("UpdateFirmware", {"requestId": 4, "firmware": {"location": files.url("x"),
                                                                       "retrieveDateTime": ago()}})
    assert r.payload["status"] == "Rejected"


def test_download_failing_twice_then_succeeding(rig, files, images, fwpki):
    """retries/retryInterval (TC_L_07_CS flavour): two 503s, then the download goes through."""
    img = images["build"]("4.0.0")
    files.fail_next = 2
    mark = rig.csms.mark()
    update(rig, request(files.url(os.path.basename(img)), img, fwpki["good"], request_id=7, retries=3,
                        retryInterval=1))
    wait_status(rig.csms, "Installed", mark, timeout=90)
    got = statuses(rig.csms, mark)
    assert got[:3] == ["Downloading"] * 3 and got[3:] == IN_ORDER[1:], got
    assert len([r for r in files.requests if r[0].endswith(".img")]) == 3


def test_broken_download_pauses_and_resumes_with_range(rig, files, images, fwpki):
    """DownloadPaused: the connection breaks after 100 KB; after retryInterval the download goes on
    from there with a Range request and the image verifies."""
    img = images["build"]("4.2.0")
    files.cut_next = 100000
    mark = rig.csms.mark()
    update(rig, request(files.url(os.path.basename(img)), img, fwpki["good"], request_id=9, retries=2,
                        retryInterval=1))
    wait_status(rig.csms, "Installed", mark, timeout=90)
    assert statuses(rig.csms, mark) == ["Downloading", "DownloadPaused", "Downloading"] + IN_ORDER[1:]
    ranges = [r[1] for r in files.requests if r[0].endswith("4.2.0.img")]
    assert ranges[0] is None and ranges[1].startswith("bytes=") and int(ranges[1][6:-1]) > 0, ranges


def test_download_failed(rig, files, images, fwpki):
    """TC_L_07_CS: a location that does not exist gives DownloadFailed after the retries."""
    img = images["build"]("4.1.0")
    mark = rig.csms.mark()
    update(rig, request(files.url("does_not_exist.img"), img, fwpki["good"], request_id=8, retries=1,
                        retryInterval=1))
    wait_status(rig.csms, "DownloadFailed", mark)
    assert statuses(rig.csms, mark) == ["Downloading", "Downloading", "DownloadFailed"]


def test_second_update_cancels_the_first(rig, files, images, fwpki):
    """TC_L_10_CS: a second UpdateFirmware during the download answers AcceptedCanceled and the
    second one completes."""
    slow = images["build"]("5.0.0")
    img = images["build"]("5.0.1")
    files.slow = 0.3
    mark = rig.csms.mark()
    update(rig, request(files.url(os.path.basename(slow)), slow, fwpki["good"], request_id=20))
    wait_status(rig.csms, "Downloading", mark)
    time.sleep(0.5)
    update(rig, request(files.url(os.path.basename(img)), img, fwpki["good"], request_id=21),
           expect="AcceptedCanceled")
    files.slow = 0.0
    rig.csms.wait_for(lambda: "Installed" in statuses(rig.csms, mark, 21), 90, "Installed for 21")
    assert statuses(rig.csms, mark, 21) == IN_ORDER
    assert "Installed" not in statuses(rig.csms, mark, 20)
    assert boot_versions(rig.csms, mark)[-1] == "5.0.1"


def test_installation_waits_for_the_transaction(rig, files, images, fwpki):
    """L01.FR.06 / TC_L_13_CS flavour: InstallScheduled while a transaction runs, Installing only
    after it ended."""
    st = rig.st
    st.send({"cmd": "plug", "evse": 1, "connector": 1})
    st.send({"cmd": "tag", "id": "AABBCCDD", "type": "ISO14443", "evse": 1})
    st.send({"cmd": "ev", "evse": 1, "state": "C"})  # TxStartPoint PowerPathClosed
    rig.csms.wait_for(lambda: any(f.payload["eventType"] == "Started"
                                  for f in rig.csms.calls("TransactionEvent")), 20, "transaction started")
    img = images["build"]("6.0.0")
    mark = rig.csms.mark()
    update(rig, request(files.url(os.path.basename(img)), img, fwpki["good"], request_id=30))
    wait_status(rig.csms, "InstallScheduled", mark)
    time.sleep(2)
    assert "Installing" not in statuses(rig.csms, mark)
    # F06 TriggerMessage: the real status of the running update, with its requestId.
    m2 = rig.csms.mark()
    r = rig.csms.call("TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})
    assert r.payload["status"] == "Accepted"
    trig = rig.csms.wait_call("FirmwareStatusNotification", since=m2, timeout=5)
    assert trig.payload == {"status": "InstallScheduled", "requestId": 30}, trig.payload
    st.send({"cmd": "unplug", "evse": 1, "connector": 1})
    wait_status(rig.csms, "Installed", mark, timeout=90)
    ended = [f.index for f in rig.csms.calls("TransactionEvent", since=mark) if f.payload["eventType"] == "Ended"]
    installing = [f.index for f in rig.csms.calls("FirmwareStatusNotification", since=mark)
                  if f.payload["status"] == "Installing"]
    assert ended and installing and ended[0] < installing[0]
    assert statuses(rig.csms, mark) == ["Downloading", "Downloaded", "SignatureVerified", "InstallScheduled",
                                        "InstallScheduled", "Installing", "InstallRebooting", "Installed"]


def test_broken_image_rolls_back(rig, files, images, fwpki, kit):
    """L01/L04 rollback: an image that cannot boot; the next start runs the previous version and
    reports InstallationFailed once online."""
    img = images["build"]("7.0.0", broken=True)
    mark = rig.csms.mark()
    update(rig, request(files.url(os.path.basename(img)), img, fwpki["good"], request_id=40))
    wait_status(rig.csms, "InstallationFailed", mark, timeout=90)
    assert statuses(rig.csms, mark) == IN_ORDER[:5] + ["InstallationFailed"]
    assert boot_versions(rig.csms, mark)[-1] == "0.1.0-test"
    kit.assert_responsive(rig.csms, rig.st)


def test_hanging_image_rolls_back_after_the_watchdog(rig, files, images, fwpki, kit):
    """L01/L04: a new image that hangs (watchdog reset) is rolled back like a crash."""
    img = images["build"]("7.1.0", hang=True)
    mark = rig.csms.mark()
    update(rig, request(files.url(os.path.basename(img)), img, fwpki["good"], request_id=41))
    wait_status(rig.csms, "InstallationFailed", mark, timeout=90)
    assert boot_versions(rig.csms, mark)[-1] == "0.1.0-test"
    assert "watchdog expired" in rig.st.stderr_text()
    kit.assert_responsive(rig.csms, rig.st)


def test_image_not_accepted_in_time_rolls_back(make_csms, make_station, kit, fwpki, images, files):
    """L01/L04: a new image that boots but is never Accepted by the CSMS (here: every BootNotification
    of version 7.2.0 is Rejected) rolls back after firmware_probation_s; the previous version
    registers and reports InstallationFailed."""
    csms = make_csms(heartbeat_interval=600)

    def boot(p, s):
        rejected = p["chargingStation"].get("firmwareVersion") == "7.2.0"
        return {"currentTime": csms.time_text(), "interval": 2 if rejected else 600,
                "status": "Rejected" if rejected else "Accepted"}

    csms.responders["BootNotification"] = boot
    cfg = kit.station_config(csms.url, tls={"manufacturer_ca": fwpki["roots"]}, firmware_probation_s=8)
    st = make_station(cfg)
    kit.wait_booted(csms, st, timeout=20)
    img = images["build"]("7.2.0")
    mark = csms.mark()
    r = csms.call("UpdateFirmware", request(files.url(os.path.basename(img)), img, fwpki["good"], request_id=42))
    assert r.payload["status"] == "Accepted", r.payload
    wait_status(csms, "InstallationFailed", mark, timeout=90)
    versions = boot_versions(csms, mark)
    assert "7.2.0" in versions and versions[-1] == "0.1.0-test", versions
    assert statuses(csms, mark) == IN_ORDER[:5] + ["InstallationFailed"]
    assert "not accepted within 8 s" in st.stderr_text()
    # The rollback is for good: the next start boots the previous version again.
    mark = csms.mark()
    st = make_station(cfg, state_dir=st.state_dir)
    kit.wait_booted(csms, st, timeout=20, since=mark)
    assert boot_versions(csms, mark) == ["0.1.0-test"]


def test_power_loss_during_download_resumes(rig, files, images, fwpki, kit):
    """SIGKILL while downloading: the old firmware boots and the download goes on with Range."""
    img = images["build"]("8.0.0")
    files.slow = 0.2
    mark = rig.csms.mark()
    update(rig, request(files.url(os.path.basename(img)), img, fwpki["good"], request_id=50))
    wait_status(rig.csms, "Downloading", mark)
    time.sleep(2.5)
    rig.power_cut()
    files.slow = 0.0
    rig.restart()
    wait_status(rig.csms, "Installed", mark, timeout=120)
    assert boot_versions(rig.csms, mark)[0] == "0.1.0-test"  # the old firmware came back first
    assert boot_versions(rig.csms, mark)[-1] == "8.0.0"
    ranges = [r[1] for r in files.requests if r[0].endswith("8.0.0.img")]
    assert len(ranges) == 2 and ranges[0] is None and ranges[1] and ranges[1].startswith("bytes="), ranges


@pytest.mark.parametrize("delay", [0.0, 0.15, 0.4])
def test_power_loss_around_the_slot_switch(rig, files, images, fwpki, kit, delay):
    """SIGKILL while Installing / at the switch: the station boots (old or new version) and the
    update ends Installed."""
    img = images["build"]("9.0.0")
    mark = rig.csms.mark()
    update(rig, request(files.url(os.path.basename(img)), img, fwpki["good"], request_id=60))
    wait_status(rig.csms, "Installing", mark, timeout=60)
    time.sleep(delay)
    rig.power_cut()
    m2 = rig.restart()
    kit.wait_booted(rig.csms, rig.st, timeout=30, since=m2)
    wait_status(rig.csms, "Installed", mark, timeout=90)
    assert boot_versions(rig.csms, mark)[-1] == "9.0.0"


def later(seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_download_and_install_scheduled(rig, files, images, fwpki):
    """TC_L_03_CS DownloadScheduled (retrieveDateTime ahead) and TC_L_02_CS InstallScheduled
    (installDateTime ahead): nothing is fetched or installed before its time."""
    img = images["build"]("10.0.0")
    mark = rig.csms.mark()
    t0 = time.monotonic()
    update(rig, request(files.url(os.path.basename(img)), img, fwpki["good"], request_id=70,
                        firmware={"retrieveDateTime": later(3), "installDateTime": later(7)}))
    wait_status(rig.csms, "DownloadScheduled", mark)
    assert files.requests == []
    wait_status(rig.csms, "InstallScheduled", mark, timeout=30)
    assert time.monotonic() - t0 >= 2
    assert "Installing" not in statuses(rig.csms, mark)
    wait_status(rig.csms, "Installed", mark, timeout=60)
    assert statuses(rig.csms, mark) == ["DownloadScheduled", "Downloading", "Downloaded", "SignatureVerified",
                                        "InstallScheduled", "Installing", "InstallRebooting", "Installed"]
    installing = [f for f in rig.csms.calls("FirmwareStatusNotification", since=mark) if f.payload["status"] == "Installing"]
    assert time.monotonic() - t0 >= 5 and installing
