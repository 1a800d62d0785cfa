# N01 Retrieve Log Information (GetLog): DiagnosticsLog and SecurityLog uploaded to remoteLocation.
# Test cases TC_N_25_CS, TC_N_26_CS, TC_N_34_CS, TC_N_35_CS, TC_N_36_CS (Part 6 §2.15).
#
# The core does not know the diag layer: the composition root hands in `sources`, a dict
# logType -> callable(oldest, latest) returning an iterator of byte lines (oldest first); the
# upload goes through the shared HTTP/1.1 client comm/http.py (put, post_multipart). The file is streamed twice (once to count
# its bytes for Content-Length, once to send it): never built in RAM.
#
# How the URL asks for multipart (decision, README "Diagnostics: logs and GetLog"): remoteLocation with
# `upload=multipart` in its query string is POSTed as multipart/form-data (field "file",
# filename = the GetLogResponse filename); every other URL gets an HTTP PUT of the raw file,
# to the URL itself, or to URL + filename when the URL ends with "/".
import asyncio

from flexcharge.core import timefmt
from flexcharge.core.router import Block, on
from flexcharge.core.station import PENDING
from flexcharge.comm.errors import CallError, CallTimeout, NotConnected

DEFAULT_RETRIES = 1  # retries absent: one more try (N01: the number is the station's choice)
DEFAULT_RETRY_INTERVAL = 30  # s
MAX_RETRIES = 10  # a CSMS asking for more gets this many (one upload must not run for days)
CHUNK = 1024  # bytes handed to the socket at once


def _ts(p, name):
    v = p.get(name)
    if v is None:
        return None
    r = timefmt.scan(v)
    return r[0] if r else None


class Logs(Block):
    def __init__(self, station, sources, tls=None, timeout_ms=30000):
        Block.__init__(self, station)
        self.sources = sources  # {"DiagnosticsLog": fn(oldest, latest), "SecurityLog": fn(...)}
        self.timeout_ms = timeout_ms  # per attempt step (connect, send, answer): comm/http.py
        self.tls = tls  # callable() -> ssl context for https (CSMS roots), or None
        self.task = None
        self.request_id = None  # of the upload running now
        self.state = "Idle"  # what TriggerMessage(LogStatusNotification) reports (F06.FR.15)
        self.attempts = 0  # metric: upload attempts this boot
        self.before = None  # callable(logType) run before a log is read (the root logs its metrics)

    # -- N01 --------------------------------------------------------------------------------------
    @on("GetLog")
    def get_log(self, p):
        st = self.station
        src = self.sources.get(p["logType"])
        if src is None:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "UnsupportedParam"}}
        log = p["log"]
        if self.before is not None:
            self.before(p["logType"])
        oldest, latest = _ts(log, "oldestTimestamp"), _ts(log, "latestTimestamp")
        n, size = _measure(src(oldest, latest))
        if n == 0:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "NoLogs"}}  # N01.FR.05, TC_N_34_CS
        rid = p["requestId"]
        fname = "%s-%d.log" % (p["logType"], rid)
        retries = p.get("retries", DEFAULT_RETRIES)
        if retries > MAX_RETRIES:
            retries = MAX_RETRIES
        interval = p.get("retryInterval", DEFAULT_RETRY_INTERVAL)
        status = "Accepted"
        old = None
        if self.state == "Uploading" and self.task is not None and not self.task.done():
            # N01.FR.12, TC_N_36_CS: a new request cancels the running upload.
            self.task.cancel()
            old = self.request_id
            status = "AcceptedCanceled"
        self.request_id = rid
        self.state = "Uploading"
        job = self._run(rid, src, oldest, latest, n, log["remoteLocation"], fname, retries, interval, old)
        self.task = st.spawn(job)
        return {"status": status, "filename": fname}  # TC_N_25_CS: filename not empty

    async def _notify(self, status, rid):
        try:
            await self.station.call("LogStatusNotification", {"status": status, "requestId": rid})
        except (NotConnected, CallTimeout, CallError) as e:
            self.station.log.warn("LogStatusNotification %s %d not delivered: %r" % (status, rid, e))

    async def _run(self, rid, src, oldest, latest, n, url, fname, retries, interval, canceled):
        st = self.station
        try:
            await asyncio.sleep(0)  # the GetLogResponse goes out first
            if canceled is not None:
                await self._notify("AcceptedCanceled", canceled)  # TC_N_36_CS step 7
            await self._notify("Uploading", rid)  # N01.FR.07
            attempt = 0
            while True:
                attempt += 1
                self.attempts += 1
                try:
                    await self._upload_once(src, oldest, latest, n, url, fname)
                    st.log.info("GetLog %d uploaded to %s" % (rid, url[:80]))
                    self.state = "Idle"  # from here a new GetLog is no longer a cancel
                    await self._notify("Uploaded", rid)  # N01.FR.08
                    return
                except Exception as e:  # HttpError, OSError, ValueError, a TLS set-up error: all a failed attempt
                    st.log.warn("GetLog %d attempt %d failed: %s" % (rid, attempt, e))
                if attempt > retries:
                    break
                await asyncio.sleep(interval)  # N01.FR.10 retries / retryInterval
            self.state = "Idle"
            await self._notify("UploadFailure", rid)  # N01.FR.10, TC_N_26_CS
        finally:
            if self.request_id == rid:
                self.state = "Idle"

    async def _upload_once(self, src, oldest, latest, n, url, fname):
        from flexcharge.comm import http  # on the first upload: the HTTP client stays out of the idle heap

        # Counted again just before sending: the ring may have wrapped since the request.
        n2, size = _measure(_first(src(oldest, latest), n))
        body = _body(_first(src(oldest, latest), n2))
        ssl = self.tls() if (self.tls is not None and url[:6].lower() == "https:") else None
        if _wants_multipart(url):
            resp = await http.post_multipart(url, ssl, body, size, fname, content_type="text/plain",
                                             timeout_ms=self.timeout_ms)
        else:
            target = url + fname if _path_ends_with_slash(url) else url
            resp = await http.put(target, ssl, body, size, content_type="text/plain", timeout_ms=self.timeout_ms)
        try:
            if not 200 <= resp.status < 300:
                raise http.HttpError("server answered HTTP %d" % resp.status, resp.status)
        finally:
            resp.close()

    # -- F06 TriggerMessage(LogStatusNotification) -------------------------------------------------
    def trigger(self, p):
        st = self.station
        if st.registration == PENDING:
            st.triggered = "LogStatusNotification"
        payload = {"status": self.state}
        if self.state == "Uploading" and self.request_id is not None:
            payload["requestId"] = self.request_id  # requestId with a running upload only
        return st.call("LogStatusNotification", payload)


def _measure(lines):
    n = size = 0
    try:
        for line in lines:
            n += 1
            size += len(line)
    finally:
        lines.close()
    return n, size


def _first(lines, n):
    try:
        for line in lines:
            if n <= 0:
                return
            n -= 1
            yield line
    finally:
        lines.close()  # the source's file is closed now, not at the next GC


def _body(lines):
    # Lines gathered into CHUNK-sized writes: fewer socket calls, bounded memory.
    buf = []
    size = 0
    for line in lines:
        buf.append(line)
        size += len(line)
        if size >= CHUNK:
            yield b"".join(buf)
            buf = []
            size = 0
    if buf:
        yield b"".join(buf)


def _query(url):
    i = url.find("?")
    if i < 0:
        return ""
    q = url[i + 1:]
    j = q.find("#")
    return q[:j] if j >= 0 else q


def _wants_multipart(url):
    for kv in _query(url).split("&"):
        if kv.lower() == "upload=multipart":
            return True
    return False


def _path_ends_with_slash(url):
    q = url.find("?")
    base = url if q < 0 else url[:q]
    return base.endswith("/") and base.count("/") >= 3
