# Our WebSocket client + security profiles against a real `websockets` server, over ws
# and TLS: the MicroPython unix port (subprocess) and CPython (in-process) run the same
# client script. The PKI is generated here with `cryptography`.
import asyncio
import base64
import datetime
import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import serve

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORD = "Abcdefgh12345678*-_=:+|@."
IDENTITY = "CS001"

# The client side, run unchanged by both interpreters.
CLIENT = r'''
import asyncio
from flexcharge.comm import websocket
from flexcharge.security import profiles


async def session(a):
    try:
        ctx, host, headers = profiles.transport(a["profile"], a["url"], a["identity"], a.get("password"),
                                                a.get("ca"), a.get("cert"), a.get("key"))
        ws = await websocket.connect(a["url"], a.get("protocols", ["ocpp2.0.1"]), headers, ssl=ctx,
                                     server_hostname=host, timeout_ms=5000)
    except Exception as e:
        return {"error": type(e).__name__, "msg": str(e), "status": getattr(e, "status", None)}
    out = {"subprotocol": ws.subprotocol}
    await ws.send("hello \u00e9")
    out["echo"] = await ws.recv()
    if a.get("full"):
        await ws.send("ping-me")  # the server pings us and reports whether our pong came
        out["server_ping"] = await ws.recv()
        await ws.ping(b"cp")
        await ws.send("x")
        out["x"] = await ws.recv()
        out["pong"] = ws.last_pong_ms is not None
        await ws.send("frag-me")
        m = await ws.recv()
        out["frag"] = len(m) if m == "ab" * 2500 else -1
        await ws.send(bytes(range(256)) * 240)
        m = await ws.recv()
        out["bin"] = len(m) if m == bytes(range(256)) * 240 else -1
    await ws.close(1000, "bye")
    out["closed"] = ws.closed
    return out
'''


# -- PKI -------------------------------------------------------------------------------------
def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.timezone.utc)
    day = datetime.timedelta(days=1)
    pem = serialization.Encoding.PEM
    out = {}

    def ca(tag):
        k = ec.generate_private_key(ec.SECP256R1())
        c = (x509.CertificateBuilder().subject_name(_name(tag)).issuer_name(_name(tag)).public_key(k.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(now - day).not_valid_after(now + 30 * day)
             .add_extension(x509.BasicConstraints(ca=True, path_length=None), True).sign(k, hashes.SHA256()))
        out[tag] = _write(d / (tag + ".pem"), c.public_bytes(pem))
        return c, k

    def leaf(tag, issuer, cn, san=None, before=None, after=None):
        ic, ik = issuer
        k = ec.generate_private_key(ec.SECP256R1())
        b = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ic.subject).public_key(k.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(before or now - day)
             .not_valid_after(after or now + 30 * day))
        if san:
            b = b.add_extension(x509.SubjectAlternativeName(san), False)
        c = b.sign(ik, hashes.SHA256())
        out[tag] = _write(d / (tag + ".pem"), c.public_bytes(pem))
        out[tag + "_key"] = _write(d / (tag + ".key"), k.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    root = ca("ca")
    ca("other_ca")
    ip = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    leaf("server", root, "csms", [x509.DNSName("localhost"), ip])
    leaf("server_noip", root, "csms", [x509.DNSName("csms.flexcharge.test")])
    leaf("server_expired", root, "csms", [x509.DNSName("localhost"), ip], now - 10 * day, now - day)
    leaf("client", root, IDENTITY)
    return out


# -- websockets server in a thread -------------------------------------------------------------
class Csms:
    def __init__(self, tls=None, require_client_cert=None, subprotocols=("ocpp2.0.1",), password=None):
        self.tls = tls
        self.require_client_cert = require_client_cert
        self.subprotocols = list(subprotocols)
        self.password = password
        self.requests = []
        self.closes = []
        self.port = None
        self._ready = threading.Event()

    def _ssl(self):
        if not self.tls:
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self.tls)
        if self.require_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.require_client_cert)
        return ctx

    def _check(self, connection, request):
        self.requests.append((request.path, {k.lower(): v for k, v in request.headers.raw_items()}))
        if self.password is not None:
            want = "Basic " + base64.b64encode((IDENTITY + ":" + self.password).encode()).decode()
            if request.headers.get("Authorization") != want:
                return connection.respond(401, "bad credentials\n")
        return None

    async def _handler(self, ws):
        async for msg in ws:
            if msg == "ping-me":
                waiter = await ws.ping(b"sp")
                try:
                    await asyncio.wait_for(waiter, 3)
                    await ws.send("pong-ok")
                except asyncio.TimeoutError:
                    await ws.send("no-pong")
            elif msg == "frag-me":
                await ws.send(["ab" * 500 for _ in range(5)])  # five fragments
            else:
                await ws.send(msg)
        self.closes.append((ws.close_code, ws.close_reason))

    async def _main(self):
        async with serve(self._handler, "127.0.0.1", 0, ssl=self._ssl(), subprotocols=self.subprotocols,
                         process_request=self._check, ping_interval=None) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._stop = asyncio.get_running_loop().create_future()
            self._loop = asyncio.get_running_loop()
            self._ready.set()
            await self._stop

    def __enter__(self):
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc):
        self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)

    def wait_close(self):
        t = time.time() + 3
        while not self.closes and time.time() < t:
            time.sleep(0.01)
        return self.closes[-1] if self.closes else None


# -- the two clients ------------------------------------------------------------------------------
def _micropython():
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    return exe if os.path.exists(exe) else shutil.which("micropython")


def run_mpy(args, tmp_path):
    script = tmp_path / "client.py"
    script.write_text(CLIENT + "\nimport sys, json\nwith open(sys.argv[1]) as f:\n    a = json.load(f)\n"
                      "print(json.dumps(asyncio.run(session(a))))\n")
    # Arguments go through a file: this micropython build dies ("FATAL: uncaught NLR") on
    # any command-line argument of 256 characters or more.
    argfile = tmp_path / "args.json"
    argfile.write_text(json.dumps(args))
    env = dict(os.environ)
    env["MICROPYPATH"] = ".frozen:%s/firmware:%s/boards/unix" % (ROOT, ROOT)
    mp = _micropython()
    assert mp, "the micropython unix port is part of the test set-up (requirements.txt)"
    r = subprocess.run([mp, str(script), str(argfile)], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_cpython(args, tmp_path):
    ns = {}
    exec(compile(CLIENT, "client", "exec"), ns)
    return asyncio.run(ns["session"](args))


CLIENTS = {"micropython": run_mpy, "cpython": run_cpython}


@pytest.fixture(params=sorted(CLIENTS))
def client(request, tmp_path):
    fn = CLIENTS[request.param]
    return lambda args: fn(args, tmp_path)


def _args(port, profile, scheme=None, host="127.0.0.1", **kw):
    scheme = scheme or ("wss" if profile >= 2 else "ws")
    a = {"url": "%s://%s:%d/ocpp/%s" % (scheme, host, port, IDENTITY), "profile": profile, "identity": IDENTITY,
         "password": PASSWORD}
    a.update(kw)
    return a


# -- tests -----------------------------------------------------------------------------------------
def test_plain_ws_profile_0_full_session(client):
    with Csms() as csms:
        out = client(_args(csms.port, 0, full=True))
        closed = csms.wait_close()
    assert out == {"subprotocol": "ocpp2.0.1", "echo": "hello \u00e9", "server_ping": "pong-ok", "x": "x",
                   "pong": True, "frag": 5000, "bin": 61440, "closed": True}
    path, headers = csms.requests[0]
    assert path == "/ocpp/CS001"
    assert "authorization" not in headers
    assert headers["sec-websocket-protocol"] == "ocpp2.0.1"
    assert closed == (1000, "bye")


def test_basic_auth_profile_1(client):
    with Csms(password=PASSWORD) as csms:
        out = client(_args(csms.port, 1))
    assert out["echo"] == "hello \u00e9"
    want = "Basic " + base64.b64encode(("CS001:" + PASSWORD).encode()).decode()
    assert csms.requests[0][1]["authorization"] == want


def test_wrong_password_gives_401(client):
    with Csms(password=PASSWORD + "x") as csms:
        out = client(_args(csms.port, 1))
    assert out["error"] == "HandshakeError" and out["status"] == 401


def test_subprotocol_negotiation(client):
    with Csms(subprotocols=("ocpp1.6",)) as csms:
        out = client(_args(csms.port, 0, protocols=["ocpp2.0.1", "ocpp1.6"]))
        assert out["subprotocol"] == "ocpp1.6"
        assert csms.requests[0][1]["sec-websocket-protocol"] == "ocpp2.0.1, ocpp1.6"
        out = client(_args(csms.port, 0, protocols=["ocpp2.0.1"]))
    assert out["error"] == "HandshakeError"  # no common version: never go on without one


def test_tls_profile_2_good_ca_by_ip_and_name(client, pki):
    with Csms(tls=(pki["server"], pki["server_key"]), password=PASSWORD) as csms:
        out = client(_args(csms.port, 2, ca=pki["ca"], full=True))
        assert out.get("error") is None, out
        assert out["server_ping"] == "pong-ok" and out["frag"] == 5000 and out["bin"] == 61440
        assert csms.wait_close() == (1000, "bye")
        out = client(_args(csms.port, 2, host="localhost", ca=pki["ca"]))
        assert out["echo"] == "hello \u00e9"
    want = "Basic " + base64.b64encode(("CS001:" + PASSWORD).encode()).decode()
    assert [h["authorization"] for p, h in csms.requests] == [want, want]


def test_tls_wrong_ca_fails(client, pki):
    with Csms(tls=(pki["server"], pki["server_key"])) as csms:
        out = client(_args(csms.port, 2, ca=pki["other_ca"]))
    assert out["error"] == "TLSError", out
    assert not csms.requests  # nothing was sent to an unverified server


def test_tls_wrong_host_name_fails(client, pki):
    # The certificate names csms.flexcharge.test only: neither the IP nor "localhost" match.
    with Csms(tls=(pki["server_noip"], pki["server_noip_key"])) as csms:
        for host in ("127.0.0.1", "localhost"):
            out = client(_args(csms.port, 2, host=host, ca=pki["ca"]))
            assert out["error"] == "TLSError", (host, out)
    assert not csms.requests


def test_tls_expired_certificate_fails(client, pki):
    with Csms(tls=(pki["server_expired"], pki["server_expired_key"])) as csms:
        out = client(_args(csms.port, 2, ca=pki["ca"]))
    assert out["error"] == "TLSError", out


def test_mutual_tls_profile_3(client, pki):
    with Csms(tls=(pki["server"], pki["server_key"]), require_client_cert=pki["ca"]) as csms:
        out = client(_args(csms.port, 3, ca=pki["ca"], cert=pki["client"], key=pki["client_key"]))
        assert out.get("error") is None, out
        assert out["echo"] == "hello \u00e9"
        assert "authorization" not in csms.requests[0][1]
        # Without a client certificate the server refuses the TLS session. Under TLS 1.3 the client's
        # handshake completes before the server checks the certificate, so the refusal may arrive as a reset.
        out = client(_args(csms.port, 2, ca=pki["ca"]))
    assert out["error"] in ("TLSError", "HandshakeError", "OSError", "ConnectionClosed",
                            "ConnectionResetError"), out
    assert len(csms.requests) == 1


def test_profile_mismatch_never_connects(client, pki):
    with Csms(tls=(pki["server"], pki["server_key"])) as csms:
        out = client(_args(csms.port, 2, scheme="ws", ca=pki["ca"]))
        assert out["error"] == "ConfigError"
        out = client(_args(csms.port, 1, scheme="wss"))
        assert out["error"] == "ConfigError"
    assert not csms.requests
