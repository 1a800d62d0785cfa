# The one place where CPython and MicroPython differ. Everything else in firmware/
# imports these names instead of probing the interpreter itself.
import sys
import time
import os
import gc

IS_MICROPYTHON = sys.implementation.name == "micropython"

if IS_MICROPYTHON:
    from micropython import const  # noqa: F401

    ticks_ms = time.ticks_ms
    ticks_diff = time.ticks_diff
    ticks_add = time.ticks_add

    def print_exception(exc, file=sys.stderr):
        sys.print_exception(exc, file)

    def mem_alloc():
        return gc.mem_alloc()

    def mem_free():
        return gc.mem_free()

else:

    def const(x):
        return x

    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b

    def ticks_add(a, b):
        return a + b

    def print_exception(exc, file=sys.stderr):
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=file)

    def mem_alloc():
        # CPython has no GC heap figure comparable to MicroPython's; callers
        # print "n/a" for None rather than inventing a number.
        return None

    def mem_free():
        return None


# Seconds between the Unix epoch and this port's time.time() epoch (2000 on most MCUs).
EPOCH_OFFSET = 0 if time.gmtime(0)[0] == 1970 else 946684800


def unix_time():
    # Whole seconds, an int: MCU ports' time.time() is one; the unix port's and CPython's are
    # floats, and a float32 epoch moves in 128 s steps.
    return int(time.time()) + EPOCH_OFFSET


def gmtime(unix_seconds):
    return time.gmtime(int(unix_seconds) - EPOCH_OFFSET)


def timegm(tm6):
    # time.mktime is UTC on MicroPython; CPython needs calendar.timegm.
    if IS_MICROPYTHON:
        return time.mktime(tuple(tm6) + (0, 0)) + EPOCH_OFFSET
    import calendar

    return calendar.timegm(tuple(tm6) + (0, 0, 0))


def sync_file(f):
    # os.fsync is missing on MicroPython; flush() reaches the VFS there.
    f.flush()
    fsync = getattr(os, "fsync", None)
    if fsync is not None:
        fsync(f.fileno())


if hasattr(os, "urandom"):

    def urandom(n):
        return os.urandom(n)

else:
    # Ports without a TRNG binding (qemu): `random`, seeded by the port at boot. Only used
    # where unpredictability is not security (WebSocket masks/keys, message ids).

    def urandom(n):
        import random

        return bytes(random.getrandbits(8) for _ in range(n))


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def isdir(path):
    try:
        return os.stat(path)[0] & 0x4000 != 0
    except OSError:
        return False


def makedirs(path):
    part = ""
    for seg in path.split("/"):
        part = part + "/" + seg if part or path.startswith("/") else seg
        if part and not isdir(part):
            try:
                os.mkdir(part)
            except OSError:
                if not isdir(part):
                    raise


def sleep_ms(ms):
    import asyncio

    return asyncio.sleep(ms / 1000)


# --- Byte streams and TLS (for comm/websocket.py and security/profiles.py) ---------
#
# open_stream(host, port, ssl=None, server_hostname=None, nodelay=True) -> stream with
#   async read(n) -> up to n bytes, b"" at end of stream
#   write(data); async drain(); close()
#
# Why MicroPython needs its own: asyncio.Stream waits on the SSLSocket object, which has
# no file descriptor, and select.poll on the unix port then loops poll(..., 1 ms) for
# every scheduler pass -- even when data is already there (extmod/modselect.c,
# MICROPY_PY_SELECT_IOCTL_CALL_PERIOD_MS). Measured: ~1.1 ms per wait, and every other
# task slows down while such a wait is pending. Here we try the TLS read first (mbedTLS
# may hold decrypted bytes) and only wait on the raw socket's fd when it would block.
# Writes (and the TLS handshake they drive) keep asyncio's own path: it only waits when
# the kernel buffer is full, and then the SSL object knows which direction it needs.

if IS_MICROPYTHON:

    def _wait_readable(sock):
        import asyncio

        yield asyncio.core._io_queue.queue_read(sock)

    def _wait_writable(sock):
        import asyncio

        yield asyncio.core._io_queue.queue_write(sock)

    class _Stream:
        def __init__(self, sock, raw):
            import asyncio

            self._s = sock
            self._raw = raw
            self._w = asyncio.StreamWriter(sock)

        async def read(self, n):
            s = self._s
            while True:
                d = s.read(n)
                if d is not None:
                    return d
                await _wait_readable(self._raw)

        async def readinto(self, buf):
            # Into a caller's buffer: no allocation per read (comm/websocket.py's receive buffer).
            s = self._s
            while True:
                n = s.readinto(buf)
                if n is not None:
                    return n
                await _wait_readable(self._raw)

        def write(self, data):
            self._w.write(data)

        async def drain(self):
            await self._w.drain()

        def close(self):
            self._s.close()

    async def open_stream(host, port, ssl=None, server_hostname=None, nodelay=True):
        import socket

        ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
        raw = socket.socket(ai[0], ai[1], ai[2])
        try:
            raw.setblocking(False)
            if nodelay:
                try:
                    raw.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY (not exported here)
                except OSError:
                    pass
            try:
                raw.connect(ai[-1])
            except OSError as e:
                if e.errno != 115:  # EINPROGRESS
                    raise
            await _wait_writable(raw)
            s = raw
            if ssl is not None:
                s = ssl.wrap_socket(raw, server_hostname=server_hostname, do_handshake_on_connect=False)
                s.setblocking(False)
            # A refused connect shows only on the first write/read of the stream.
            return _Stream(s, raw)
        except BaseException:
            raw.close()
            raise

else:

    class _Stream:
        def __init__(self, reader, writer):
            self._r = reader
            self._w = writer

        def read(self, n):
            return self._r.read(n)

        async def readinto(self, buf):
            d = await self._r.read(len(buf))
            buf[: len(d)] = d
            return len(d)

        def write(self, data):
            self._w.write(data)

        def drain(self):
            return self._w.drain()

        def close(self):
            # abort: everything that matters was drained already, and a dead peer must
            # not keep a TLS shutdown pending.
            self._w.transport.abort()

    async def open_stream(host, port, ssl=None, server_hostname=None, nodelay=True):
        import asyncio
        import socket

        if ssl is None:
            r, w = await asyncio.open_connection(host, port)
        else:
            r, w = await asyncio.open_connection(host, port, ssl=ssl, server_hostname=server_hostname)
        sock = w.get_extra_info("socket")
        if sock is not None:
            # asyncio turns Nagle off by default; honour an explicit nodelay=False.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1 if nodelay else 0)
        return _Stream(r, w)


def ssl_module():
    # MicroPython: the built-in `tls` module. micropython-lib's `ssl` is only a wrapper
    # over it, and frozen builds (and most MCU images) do not have it. CPython: ssl.
    if IS_MICROPYTHON:
        import tls

        return tls
    import ssl

    return ssl


def tls_client_context(ca_ders):
    """A TLS client context that verifies the peer against the DER CA certificates."""
    ssl = ssl_module()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = ssl.CERT_REQUIRED
    for der in ca_ders:
        if IS_MICROPYTHON:
            ctx.load_verify_locations(der)  # tls takes the DER bytes positionally only
        else:
            ctx.load_verify_locations(cadata=der)
    return ctx


def ssl_load_cert_chain(ctx, cert_path, key_path, cert_der, key_der):
    # Client certificate for mutual TLS: MicroPython's ssl takes DER bytes (leaf
    # certificate only), CPython's takes PEM file paths.
    if IS_MICROPYTHON:
        ctx.load_cert_chain(cert_der, key_der)
    else:
        ctx.load_cert_chain(cert_path, key_path)


def tls_error_types():
    # Exception types a TLS handshake failure surfaces as. MicroPython reports a bad
    # certificate (name mismatch, unknown CA) as ValueError and mbedTLS alerts as
    # OSError with a negative errno; CPython has ssl.SSLError (an OSError).
    if IS_MICROPYTHON:
        return (ValueError,)
    import ssl

    return (ssl.SSLError, ssl.CertificateError)


def heap_in_use():
    """GC heap in use after a collection (MicroPython), None on CPython."""
    gc.collect()
    return mem_alloc()


# --- JSON over a received buffer (comm/rpc.py) ---------------------------------------
# json_loads_buf(buf, n) parses buf[:n]. MicroPython's json.loads takes any buffer, so a
# memoryview of the receive buffer is parsed in place (no 64 KB copy); CPython's takes no
# memoryview, and the heap there is no budget.
if IS_MICROPYTHON:

    def json_loads_buf(buf, n):
        import json

        return json.loads(buf if n == len(buf) else memoryview(buf)[:n])

else:

    def json_loads_buf(buf, n):
        import json

        return json.loads(bytes(buf[:n]))
