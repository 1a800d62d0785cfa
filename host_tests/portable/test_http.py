# HTTP/1.1 client (firmware/flexcharge/comm/http.py) against a scripted in-process server
# on asyncio.start_server (CPython and MicroPython alike).
import asyncio

from support import raises, run as _run

from flexcharge import compat
from flexcharge.comm import http


def run(coro):
    return _run(asyncio.wait_for(coro, 10))


async def start(handler):
    log = {"requests": [], "errors": []}

    async def cb(reader, writer):
        try:
            head = []
            while True:
                line = await reader.readline()
                if not line or line in (b"\r\n", b"\n"):
                    break
                head.append(line.decode().rstrip("\r\n"))
            hdrs = {}
            for h in head[1:]:
                k, v = h.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
            body = b""
            n = int(hdrs.get("content-length", "0"))
            while len(body) < n:
                d = await reader.read(n - len(body))
                if not d:
                    break
                body += d
            req = {"line": head[0] if head else "", "headers": hdrs, "body": body}
            log["requests"].append(req)
            await handler(req, writer)
            await writer.drain()
        except Exception as e:
            log["errors"].append(repr(e))
        try:
            writer.close()
            await writer.wait_closed()
        except Exception:
            pass

    for _ in range(30):
        port = 20000 + int.from_bytes(compat.urandom(2), "big") % 30000
        try:
            srv = await asyncio.start_server(cb, "127.0.0.1", port)
            return srv, port, log
        except OSError:
            pass
    raise OSError("no free port")


async def stop(srv):
    srv.close()
    await srv.wait_closed()


async def read_all(resp, n=100):
    out = b""
    while True:
        d = await resp.read(n)
        if not d:
            return out
        out += d


BODY = bytes(range(256)) * 20  # 5120 bytes


def test_get_content_length():
    async def h(req, w):
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)

    async def main():
        srv, port, log = await start(h)
        try:
            r = await http.get("http://127.0.0.1:%d/fw.bin?x=1#frag" % port)
            assert r.status == 200 and r.length == len(BODY) and r.range_start == 0
            got = await read_all(r, 333)
            r.close()
            assert got == BODY
            assert log["requests"][0]["line"] == "GET /fw.bin?x=1 HTTP/1.1", log
            assert log["requests"][0]["headers"]["host"] == "127.0.0.1:%d" % port
        finally:
            await stop(srv)

    run(main())


def test_get_chunked():
    async def h(req, w):
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        i = 0
        for size in (1, 700, 3000, 1419):
            w.write(b"%x;ext=1\r\n" % size + BODY[i : i + size] + b"\r\n")
            i += size
            await w.drain()
        w.write(b"0\r\nX-Trailer: y\r\n\r\n")

    async def main():
        srv, port, log = await start(h)
        try:
            r = await http.get("http://127.0.0.1:%d/" % port)
            assert r.length is None
            assert await read_all(r, 512) == BODY
            assert await r.read(10) == b""
            r.close()
        finally:
            await stop(srv)

    run(main())


def test_range_request():
    async def h(req, w):
        rng = req["headers"].get("range")
        if rng:
            a = int(rng.split("=")[1].rstrip("-"))
            part = BODY[a:]
            w.write(b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n"
                    % (a, len(BODY) - 1, len(BODY), len(part)) + part)
        else:
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)

    async def main():
        srv, port, log = await start(h)
        try:
            r = await http.get("http://127.0.0.1:%d/" % port, range_from=1000)
            assert r.status == 206 and r.range_start == 1000
            assert await read_all(r) == BODY[1000:]
            r.close()
            assert log["requests"][0]["headers"]["range"] == "bytes=1000-"
        finally:
            await stop(srv)

    run(main())


def test_redirects_bounded():
    async def h(req, w):
        path = req["line"].split(" ")[1]
        if path == "/loop":
            w.write(b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n")
        elif path == "/a":
            w.write(b"HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n")
        else:
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    async def main():
        srv, port, log = await start(h)
        try:
            r = await http.get("http://127.0.0.1:%d/a" % port)
            assert r.status == 200 and await read_all(r) == b"ok"
            r.close()
            with raises(http.HttpError) as e:
                await http.get("http://127.0.0.1:%d/loop" % port, max_redirects=3)
            assert "redirects" in str(e.value)
            assert len(log["requests"]) == 2 + 4
        finally:
            await stop(srv)

    run(main())


def test_status_and_truncated_body():
    async def h(req, w):
        if "/missing" in req["line"]:
            w.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        else:
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")

    async def main():
        srv, port, log = await start(h)
        try:
            r = await http.get("http://127.0.0.1:%d/missing" % port)
            assert r.status == 404 and r.reason == "Not Found"
            r.close()
            r = await http.get("http://127.0.0.1:%d/x" % port)
            with raises(http.HttpError) as e:
                await read_all(r)
            assert "before the end" in str(e.value)
            r.close()
        finally:
            await stop(srv)

    run(main())


def test_timeout_and_errors():
    async def h(req, w):
        await asyncio.sleep(2)

    async def main():
        srv, port, log = await start(h)
        try:
            with raises(http.HttpError) as e:
                await http.get("http://127.0.0.1:%d/" % port, timeout_ms=300)
            assert "300 ms" in str(e.value)
        finally:
            await stop(srv)
        with raises(ValueError):
            await http.get("ftp://example.com/x")
        with raises(ValueError):
            await http.get("https://127.0.0.1/x")  # no verifying context: refused
        with raises(OSError):
            await http.get("http://127.0.0.1:%d/" % port, timeout_ms=2000)  # nobody listens now

    run(main())


def chunks(data, n):
    for i in range(0, len(data), n):
        yield data[i : i + n]


def test_put_and_multipart():
    async def h(req, w):
        w.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")

    async def main():
        srv, port, log = await start(h)
        try:
            r = await http.put("http://127.0.0.1:%d/up/log.txt" % port, None, chunks(BODY, 1000), len(BODY))
            assert r.status == 201
            r.close()
            req = log["requests"][0]
            assert req["line"].startswith("PUT /up/log.txt ") and req["body"] == BODY
            r = await http.post_multipart("http://127.0.0.1:%d/post" % port, None, chunks(BODY, 700), len(BODY),
                                          "diag.log")
            r.close()
            req = log["requests"][1]
            ct = req["headers"]["content-type"]
            assert ct.startswith("multipart/form-data; boundary=")
            b = ct.split("boundary=")[1].encode()
            body = req["body"]
            assert body.startswith(b"--" + b + b"\r\n")
            assert b'filename="diag.log"' in body
            assert body.endswith(b"\r\n--" + b + b"--\r\n")
            assert BODY in body
            with raises(ValueError):
                await http.put("http://127.0.0.1:%d/x" % port, None, chunks(BODY, 1000), len(BODY) + 1)
        finally:
            await stop(srv)

    run(main())
