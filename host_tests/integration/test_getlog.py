# Issue 11, N01 GetLog (core/blocks/n_diagnostics/logs.py, diag/ring.py, comm/upload.py): the real
# station uploads its DiagnosticsLog and SecurityLog to a local HTTP server (http.server in a thread)
# by PUT, or multipart POST when the URL has upload=multipart. TC_N_25/26/34/35/36_CS.
import datetime
import http.server
import threading
import time

import pytest

CALLRESULT = 3


class Uploads:
    """A local HTTP server: records every PUT/POST (method, path, headers, body); `fail` answers 500
    to that many requests first, and always to paths under /fail; `delay` holds every answer."""

    def __init__(self, tls=None):
        self.got = []
        self.fail = 0
        self.delay = 0
        self.requests = 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def _body(self):
                n = int(self.headers.get("Content-Length", "0"))
                return self.rfile.read(n)

            def _handle(self):
                body = self._body()
                outer.requests += 1
                if outer.delay:
                    time.sleep(outer.delay)
                if outer.fail > 0 or self.path.startswith("/fail"):
                    outer.fail -= 1
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                outer.got.append((self.command, self.path, dict(self.headers), body))
                self.send_response(201 if self.command == "PUT" else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PUT = do_POST = _handle

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        scheme = "http"
        if tls is not None:  # (certfile, keyfile): an https:// server
            import ssl

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls[0], tls[1])
            self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
            scheme = "https"
        self.url = "%s://127.0.0.1:%d" % (scheme, self.srv.server_address[1])
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()


@pytest.fixture
def uploads():
    u = Uploads()
    yield u
    u.stop()


def statuses(csms, since=0):
    return [(f.payload["status"], f.payload.get("requestId")) for f in csms.calls("LogStatusNotification", since=since)]


def iso(dt):
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def booted(make_csms, make_station, kit):
    csms = make_csms(heartbeat_interval=600)
    st = make_station(kit.station_config(csms.url))
    kit.wait_booted(csms, st)
    return csms, st


def test_diagnostics_log_put_uploaded(make_csms, make_station, kit, uploads):
    csms, st = booted(make_csms, make_station, kit)
    m = csms.mark()
    r = csms.call("GetLog", {"logType": "DiagnosticsLog", "requestId": 7,
                             "log": {"remoteLocation": uploads.url + "/logs/"}})
    assert r.kind == CALLRESULT and r.payload["status"] == "Accepted", r
    fname = r.payload["filename"]
    assert fname  # TC_N_25_CS
    csms.wait_for(lambda: ("Uploaded", 7) in statuses(csms, m), 15, "LogStatusNotification Uploaded")
    assert statuses(csms, m) == [("Uploading", 7), ("Uploaded", 7)]
    method, path, headers, body = uploads.got[0]
    assert method == "PUT" and path == "/logs/" + fname
    text = body.decode()
    assert int(headers["Content-Length"]) == len(body)
    # Records from the boot are there: time level source message, one per line.
    assert "BootNotification" in text or "boot" in text.lower(), text[:500]
    first = text.splitlines()[0].split(" ")
    assert first[0].endswith("Z") and first[1] in "DIWE", first
    # diag/metrics.py: the figures are logged at boot and just before the upload.
    last = [x for x in text.splitlines() if " metrics " in x][-1]
    assert "boots=1 causes=PowerUp:1" in last and "reconnects=0" in last, last
    assert "sent=" in last and "queues=" in last and "heap_low=" in last, last


def test_security_log_multipart_and_time_filter(make_csms, make_station, kit, uploads):
    csms, st = booted(make_csms, make_station, kit)
    csms.wait_for(lambda: csms.calls("SecurityEventNotification"), 10, "StartupOfTheDevice")
    m = csms.mark()
    now = datetime.datetime.now(datetime.timezone.utc)
    r = csms.call("GetLog", {"logType": "SecurityLog", "requestId": 8,
                             "log": {"remoteLocation": uploads.url + "/up?upload=multipart",
                                     "oldestTimestamp": iso(now - datetime.timedelta(minutes=5))}})
    assert r.payload["status"] == "Accepted"
    csms.wait_for(lambda: ("Uploaded", 8) in statuses(csms, m), 15, "Uploaded")
    method, path, headers, body = uploads.got[0]
    assert method == "POST" and path == "/up?upload=multipart"
    assert headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="' + r.payload["filename"].encode() in body
    assert b"StartupOfTheDevice" in body  # TC_N_35_CS
    # Nothing in the future: Rejected (N01.FR.05, TC_N_34_CS).
    r = csms.call("GetLog", {"logType": "SecurityLog", "requestId": 9,
                             "log": {"remoteLocation": uploads.url + "/x",
                                     "oldestTimestamp": iso(now + datetime.timedelta(days=1))}})
    assert r.payload["status"] == "Rejected"


def test_retries_then_success_and_failure(make_csms, make_station, kit, uploads):
    csms, st = booted(make_csms, make_station, kit)
    uploads.fail = 2
    m = csms.mark()
    r = csms.call("GetLog", {"logType": "DiagnosticsLog", "requestId": 10, "retries": 3, "retryInterval": 1,
                             "log": {"remoteLocation": uploads.url + "/a.log"}})
    assert r.payload["status"] == "Accepted"
    csms.wait_for(lambda: ("Uploaded", 10) in statuses(csms, m), 20, "Uploaded after two failures")
    assert uploads.requests == 3
    # TC_N_26_CS: retries 2 against a server that always fails -> 3 attempts, then UploadFailure.
    uploads.fail = 100
    uploads.requests = 0
    m = csms.mark()
    t0 = time.monotonic()
    r = csms.call("GetLog", {"logType": "DiagnosticsLog", "requestId": 11, "retries": 2, "retryInterval": 1,
                             "log": {"remoteLocation": uploads.url + "/a.log"}})
    csms.wait_for(lambda: ("UploadFailure", 11) in statuses(csms, m), 20, "UploadFailure")
    assert uploads.requests == 3 and time.monotonic() - t0 >= 2
    assert statuses(csms, m) == [("Uploading", 11), ("UploadFailure", 11)]


def test_second_getlog_cancels_the_first(make_csms, make_station, kit, uploads):
    csms, st = booted(make_csms, make_station, kit)
    m = csms.mark()
    r = csms.call("GetLog", {"logType": "DiagnosticsLog", "requestId": 20, "retries": 5, "retryInterval": 30,
                             "log": {"remoteLocation": uploads.url + "/fail/first"}})  # fails, then waits 30 s
    assert r.payload["status"] == "Accepted"
    csms.wait_for(lambda: ("Uploading", 20) in statuses(csms, m), 10, "Uploading")
    # While uploading, TriggerMessage reports it (F06.FR.15).
    m2 = csms.mark()
    assert csms.call("TriggerMessage", {"requestedMessage": "LogStatusNotification"}).payload["status"] == "Accepted"
    csms.wait_for(lambda: statuses(csms, m2), 10, "triggered LogStatusNotification")
    assert statuses(csms, m2)[0] == ("Uploading", 20)
    r = csms.call("GetLog", {"logType": "SecurityLog", "requestId": 21,
                             "log": {"remoteLocation": uploads.url + "/second"}})
    assert r.payload["status"] == "AcceptedCanceled"  # TC_N_36_CS
    csms.wait_for(lambda: ("Uploaded", 21) in statuses(csms, m), 15, "second Uploaded")
    after = statuses(csms, m2)
    assert after[1:] == [("AcceptedCanceled", 20), ("Uploading", 21), ("Uploaded", 21)], after
    assert [g[1] for g in uploads.got] == ["/second"]
    m3 = csms.mark()
    csms.call("TriggerMessage", {"requestedMessage": "LogStatusNotification"})
    csms.wait_for(lambda: statuses(csms, m3), 10, "idle LogStatusNotification")
    assert statuses(csms, m3) == [("Idle", None)]


def test_https_upload_verified_against_the_csms_roots(make_csms, make_station, kit, pki_rsa, pki_other):
    # FileTransferProtocols declares HTTPS: the upload server is verified against tls.ca (the CSMS roots).
    up = Uploads(tls=(pki_rsa["server_cert"], pki_rsa["server_key"]))
    try:
        csms = make_csms(heartbeat_interval=600)
        st = make_station(kit.station_config(csms.url, tls={"ca": pki_rsa["ca"]}))
        kit.wait_booted(csms, st)
        m = csms.mark()
        r = csms.call("GetLog", {"logType": "SecurityLog", "requestId": 30,
                                 "log": {"remoteLocation": up.url + "/s.log"}})
        assert r.payload["status"] == "Accepted"
        csms.wait_for(lambda: ("Uploaded", 30) in statuses(csms, m), 20, "Uploaded over https")
        assert b"StartupOfTheDevice" in up.got[0][3]
    finally:
        up.stop()
    # A server whose certificate does not chain to the roots: UploadFailure, nothing sent.
    bad = Uploads(tls=(pki_other["server_cert"], pki_other["server_key"]))
    try:
        m = csms.mark()
        csms.call("GetLog", {"logType": "SecurityLog", "requestId": 31, "retries": 0,
                             "log": {"remoteLocation": bad.url + "/s.log"}})
        csms.wait_for(lambda: ("UploadFailure", 31) in statuses(csms, m), 20, "UploadFailure")
        assert bad.got == []
    finally:
        bad.stop()
