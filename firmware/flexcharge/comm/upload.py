# A minimal HTTP/1.1 uploader for GetLog (N01): one request (PUT, or POST of a multipart/form-data
# body) per call, the body streamed from an iterator of byte chunks with a Content-Length known in
# advance, so no file is ever built in RAM. Same socket and TLS code as the WebSocket
# (compat.open_stream). The shared download client (comm/http.py, issue 11 L01) was not on this
# branch when GetLog was built; this file stays PUT/POST-only and small on purpose.
import asyncio

from flexcharge import compat

_MAX_HEAD = 4096


class UploadError(Exception):
    """Why an upload failed; `status` is the HTTP status when the server answered."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def parse_http_url(url):
    """-> (secure, host, port, path) for http:// and https:// URLs."""
    if not isinstance(url, str):
        raise UploadError("URL must be a string")
    for ch in url:
        if ord(ch) <= 0x20 or ord(ch) >= 0x7F:
            raise UploadError("bad URL %r: unencoded space, control or non-ASCII character" % url[:80])
    i = url.find("://")
    scheme = url[:i].lower() if i > 0 else ""
    if scheme == "http":
        secure, port = False, 80
    elif scheme == "https":
        secure, port = True, 443
    else:
        raise UploadError("unsupported scheme in %r (http or https)" % url[:80])
    rest = url[i + 3:]
    k = rest.find("#")
    if k >= 0:
        rest = rest[:k]
    j = len(rest)
    for sep in "/?":
        x = rest.find(sep)
        if 0 <= x < j:
            j = x
    auth, path = rest[:j], rest[j:] or "/"
    if path[0] == "?":
        path = "/" + path
    if "@" in auth:
        raise UploadError("credentials in the URL are not supported")
    if auth.startswith("["):
        e = auth.find("]")
        if e < 0:
            raise UploadError("bad IPv6 host in %r" % url[:80])
        host, tail = auth[1:e], auth[e + 1:]
    else:
        c = auth.rfind(":")
        host, tail = (auth[:c], auth[c:]) if c >= 0 else (auth, "")
    if tail:
        if tail[0] != ":" or not tail[1:].isdigit():
            raise UploadError("bad port in %r" % url[:80])
        port = int(tail[1:])
        if not 0 < port < 65536:
            raise UploadError("bad port in %r" % url[:80])
    if not host:
        raise UploadError("no host in %r" % url[:80])
    return secure, host, port, path


async def send(method, url, chunks, length, content_type="application/octet-stream", ssl=None, timeout=30):
    """Send `length` bytes from the iterator `chunks`; returns the 2xx status, raises UploadError."""
    secure, host, port, path = parse_http_url(url)
    if secure and ssl is None:
        raise UploadError("https:// needs the CSMS root certificates (none installed)")
    try:
        return await asyncio.wait_for(_send(method, host, port, path, chunks, length, content_type,
                                            ssl if secure else None), timeout)
    except asyncio.TimeoutError:
        raise UploadError("no answer within %d s" % timeout)
    except OSError as e:
        raise UploadError("%s:%d: %r" % (host, port, e))


async def _send(method, host, port, path, chunks, length, content_type, ssl):
    stream = await compat.open_stream(host, port, ssl, host if ssl is not None else None, nodelay=False)
    try:
        hp = host if ":" not in host else "[" + host + "]"
        if port not in (80, 443):
            hp += ":%d" % port
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
            method, path, hp, content_type, length)
        stream.write(head.encode())
        await stream.drain()
        sent = 0
        for c in chunks:
            if c:
                sent += len(c)
                if sent > length:
                    raise UploadError("body grew while it was sent")
                stream.write(c)
                await stream.drain()
        if sent != length:
            raise UploadError("body shrank while it was sent (%d of %d bytes)" % (sent, length))
        status = await _read_status(stream)
        if not 200 <= status < 300:
            raise UploadError("server answered HTTP %d" % status, status)
        return status
    finally:
        try:
            stream.close()
        except Exception:
            pass


async def _read_status(stream):
    buf = b""
    while b"\r\n" not in buf:
        d = await stream.read(256)
        if not d:
            raise UploadError("connection closed before an HTTP status line")
        buf += d
        if len(buf) > _MAX_HEAD:
            raise UploadError("HTTP status line too long")
    line = buf[:buf.find(b"\r\n")].decode()
    parts = line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise UploadError("not an HTTP response: %r" % line[:60])
    return int(parts[1])
