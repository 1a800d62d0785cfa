# A small HTTP/1.1 client for firmware download (L01) and log upload (N01), over the
# same byte streams and TLS as the WebSocket (compat.open_stream). Nothing is held
# whole in RAM: bodies are read and sent in caller-sized chunks.
#
#   resp = await get(url, ssl_ctx=None, headers=(), range_from=None, timeout_ms=30000)
#   resp.status, resp.reason, resp.headers (dict, lower-case names), resp.length (the
#   body's length if known, else None), resp.range_start (first byte of the body within
#   the resource: 0, or range_from if the server answered 206)
#   chunk = await resp.read(n)      -> up to n bytes, b"" at the end of the body
#   resp.close()
#
#   resp = await put(url, ssl_ctx, body, length, headers=(), content_type=...)
#   resp = await post_multipart(url, ssl_ctx, body, length, filename, field="file")
#       body: an iterable of bytes chunks (streamed, never joined; e.g. a generator that reads
#       a file 1 KB at a time -- MicroPython has no async generators, and flash reads do
#       not block for long), length: its total size in bytes
#
# Redirects (301, 302, 303, 307, 308) are followed for GET, at most max_redirects
# times; an https:// URL needs ssl_ctx (the caller's verifying context: MicroPython's
# default verifies nothing). Every wait is bounded by timeout_ms (connect, the head,
# each read). Errors: ValueError (bad URL/arguments), HttpError (protocol, status,
# timeout, too many redirects; .status when the server answered), OSError (network).
import asyncio
import binascii

from flexcharge import compat
from flexcharge.comm.url import parse_http_url

_MAX_HEAD = 8192  # bytes of status line + headers we accept
_READ = 1024


class HttpError(Exception):
    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


async def _timed(aw, timeout_ms, what):
    try:
        return await asyncio.wait_for(aw, timeout_ms / 1000)
    except asyncio.TimeoutError:
        # (CPython 3.11: asyncio.TimeoutError is an OSError; caught before anyone else.)
        raise HttpError("%s: no answer within %d ms" % (what, timeout_ms))


class Response:
    def __init__(self, stream, timeout_ms):
        self._s = stream
        self._t = timeout_ms
        self._buf = b""
        self._eof = False
        self.status = 0
        self.reason = ""
        self.headers = {}
        self.length = None
        self.range_start = 0
        self._left = None  # bytes left of the body (Content-Length) or of the current chunk
        self._chunked = False
        self._done = False

    async def _more(self):
        if self._eof:
            return False
        d = await _timed(self._s.read(_READ), self._t, "HTTP read")
        if not d:
            self._eof = True
            return False
        self._buf += d
        return True

    async def _line(self):
        while True:
            i = self._buf.find(b"\r\n")
            if i >= 0:
                line = self._buf[:i]
                self._buf = self._buf[i + 2 :]
                return line
            if len(self._buf) > _MAX_HEAD:
                raise HttpError("HTTP header line too long")
            if not await self._more():
                raise HttpError("connection closed in the HTTP head")

    async def _head(self):
        line = await self._line()
        parts = line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise HttpError("not an HTTP/1.x response: %r" % (line[:60],))
        self.status = int(parts[1])
        self.reason = parts[2].decode() if len(parts) > 2 else ""
        total = len(line)
        while True:
            line = await self._line()
            total += len(line) + 2
            if total > _MAX_HEAD:
                raise HttpError("HTTP head larger than %d bytes" % _MAX_HEAD)
            if not line:
                break
            k = line.find(b":")
            if k <= 0:
                raise HttpError("bad HTTP header line %r" % (line[:60],))
            self.headers[line[:k].decode().strip().lower()] = line[k + 1 :].decode().strip()
        te = self.headers.get("transfer-encoding", "").lower()
        if "chunked" in te:
            self._chunked = True
            self._left = 0
        elif "content-length" in self.headers:
            try:
                self.length = self._left = int(self.headers["content-length"])
            except ValueError:
                raise HttpError("bad Content-Length %r" % self.headers["content-length"])
        if self.status in (204, 304) or self.status < 200:
            self._left = 0
            self._chunked = False
            self.length = 0
        if self.status == 206:
            # "bytes a-b/total": the body starts at a within the whole resource.
            cr = self.headers.get("content-range", "")
            try:
                self.range_start = int(cr.split(" ", 1)[1].split("-", 1)[0])
            except (IndexError, ValueError):
                raise HttpError("206 without a usable Content-Range: %r" % cr)

    async def read(self, n=_READ):
        """Up to n bytes of the body; b"" at its end. Chunked bodies are decoded."""
        if self._done:
            return b""
        if self._chunked:
            if self._left == 0:
                size = await self._line()
                if not size:
                    size = await self._line()  # the CRLF that ends the previous chunk
                try:
                    self._left = int(size.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise HttpError("bad chunk size %r" % (size[:20],))
                if self._left == 0:
                    while await self._line():  # trailers, up to the empty line
                        pass
                    self._done = True
                    return b""
        elif self._left == 0:
            self._done = True
            return b""
        if not self._buf and not await self._more():
            if self._left is None:  # body delimited by the end of the connection
                self._done = True
                return b""
            raise HttpError("connection closed %d bytes before the end of the body" % self._left)
        k = n if self._left is None else min(n, self._left)
        d = self._buf[:k]
        self._buf = self._buf[k:]
        if self._left is not None:
            self._left -= len(d)
        return d

    def close(self):
        try:
            self._s.close()
        except Exception:
            pass


async def _send(method, url, ssl_ctx, headers, body, length, timeout_ms):
    secure, host, port, path = parse_http_url(url)
    if secure and ssl_ctx is None:
        raise ValueError("https:// needs an ssl context (a verifying one)")
    hosthdr = ("[%s]" % host) if ":" in host else host
    if port != (443 if secure else 80):
        hosthdr += ":%d" % port
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: " + hosthdr, "Connection: close",
             "User-Agent: FlexCharge"]
    if length is not None:
        lines.append("Content-Length: %d" % length)
    for name, value in headers:
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise ValueError("bad header %r" % name)
        lines.append("%s: %s" % (name, value))
    req = ("\r\n".join(lines) + "\r\n\r\n").encode()
    try:
        stream = await _timed(compat.open_stream(host, port, ssl_ctx if secure else None, host if secure else None),
                              timeout_ms, "connect to %s:%d" % (host, port))
    except HttpError:
        raise
    resp = Response(stream, timeout_ms)
    try:
        stream.write(req)
        await _timed(stream.drain(), timeout_ms, "HTTP send")
        if body is not None:
            sent = 0
            for chunk in body:
                if chunk:
                    sent += len(chunk)
                    stream.write(chunk)
                    await _timed(stream.drain(), timeout_ms, "HTTP send")
            if length is not None and sent != length:
                raise ValueError("body was %d bytes, Content-Length said %d" % (sent, length))
        await resp._head()
    except BaseException:
        resp.close()
        raise
    return resp


_REDIRECTS = (301, 302, 303, 307, 308)


def _join(base, location):
    if "://" in location:
        return location
    secure, host, port, _ = parse_http_url(base)
    hosthdr = ("[%s]" % host) if ":" in host else host
    scheme = "https" if secure else "http"
    if location.startswith("/"):
        return "%s://%s:%d%s" % (scheme, hosthdr, port, location)
    raise HttpError("unsupported relative redirect %r" % location)


async def get(url, ssl_ctx=None, headers=(), range_from=None, timeout_ms=30000, max_redirects=5):
    """GET url; range_from asks for the bytes from that offset on (RFC 9110 §14.2). A server
    that ignores the Range answers 200 with the whole body: see resp.range_start."""
    hdrs = list(headers)
    if range_from:
        hdrs.append(("Range", "bytes=%d-" % range_from))
    for _ in range(max_redirects + 1):
        resp = await _send("GET", url, ssl_ctx, hdrs, None, None, timeout_ms)
        if resp.status not in _REDIRECTS:
            return resp
        loc = resp.headers.get("location")
        resp.close()
        if not loc:
            raise HttpError("redirect %d without Location" % resp.status, resp.status)
        url = _join(url, loc)
    raise HttpError("more than %d redirects" % max_redirects)


async def put(url, ssl_ctx, body, length, headers=(), content_type="application/octet-stream", timeout_ms=30000):
    """PUT the iterable body (length bytes). Redirects are not followed (the body
    cannot be replayed): a 3xx comes back as the response."""
    hdrs = [("Content-Type", content_type)] + list(headers)
    return await _send("PUT", url, ssl_ctx, hdrs, body, length, timeout_ms)


async def post_multipart(url, ssl_ctx, body, length, filename, field="file", headers=(),
                         content_type="application/octet-stream", timeout_ms=30000):
    """POST body as the one file part of a multipart/form-data form (RFC 7578)."""
    boundary = "flexcharge" + binascii.hexlify(compat.urandom(8)).decode()
    pre = ('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: %s\r\n\r\n'
           % (boundary, field, filename, content_type)).encode()
    post = ("\r\n--%s--\r\n" % boundary).encode()

    def parts():
        yield pre
        for c in body:
            yield c
        yield post

    hdrs = [("Content-Type", "multipart/form-data; boundary=" + boundary)] + list(headers)
    return await _send("POST", url, ssl_ctx, hdrs, parts(), len(pre) + length + len(post), timeout_ms)
