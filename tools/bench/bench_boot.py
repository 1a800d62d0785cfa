#!/usr/bin/env python3
"""Boot-to-Accepted time and heap in use once Accepted, measured side by side for
security profiles 0 (ws), 2 (wss + Basic auth) and 3 (mutual TLS, EC and RSA client keys),
on the MicroPython unix port through tools/station against the ocpp-based CSMS.

Heap figures come from the station's own events (gc.mem_alloc() after gc.collect()):
`boot` is taken once every module is imported, `registration` once Accepted; on the unix
port the loaded bytecode sits in the heap (frozen builds keep it in flash), so the
difference between the two is the run-time data of a connected, registered station.
"""
import os
import statistics
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from csms.server import Csms, StationProcess  # noqa: E402
from pki import generate_pki  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
PASSWORD = "flexcharge-bench-pw-0001"


def one(csms, cfg, tmp, n):
    state = os.path.join(tmp, "state-%s-%d" % (cfg["identity"], n))
    st = StationProcess(cfg, state).start()
    try:
        boot = st.wait_event("boot", timeout=20)
        reg = st.wait_event("registration", lambda e: e.get("status") == "Accepted", timeout=20)
        return reg["_t"] - st.t_start, boot.get("heap"), reg.get("heap")
    finally:
        st.shutdown()


def main():
    tmp = tempfile.mkdtemp(prefix="fc-bench-boot-")
    ec_pki = generate_pki(os.path.join(tmp, "pki-ec"), key_type="ec", identity="BENCH-3EC")
    rsa_pki = generate_pki(os.path.join(tmp, "pki-rsa"), key_type="rsa", identity="BENCH-3RSA")
    cases = (
        ("profile 0 ws", dict(), {"security_profile": 0}, "BENCH-0"),
        ("profile 2 wss+basic", dict(basic_auth=PASSWORD, certfile=ec_pki["server_cert"], keyfile=ec_pki["server_key"]),
         {"security_profile": 2, "basic_auth_password": PASSWORD, "tls": {"ca": ec_pki["ca"]}}, "BENCH-2"),
        ("profile 3 mTLS (EC)", dict(certfile=ec_pki["server_cert"], keyfile=ec_pki["server_key"], client_ca=ec_pki["ca"]),
         {"security_profile": 3, "tls": {"ca": ec_pki["ca"], "cert": ec_pki["client_cert"], "key": ec_pki["client_key"]}},
         "BENCH-3EC"),
        ("profile 3 mTLS (RSA)", dict(certfile=rsa_pki["server_cert"], keyfile=rsa_pki["server_key"], client_ca=rsa_pki["ca"]),
         {"security_profile": 3, "tls": {"ca": rsa_pki["ca"], "cert": rsa_pki["client_cert"], "key": rsa_pki["client_key"]}},
         "BENCH-3RSA"),
    )
    rows = []
    for name, server_kw, station_kw, ident in cases:
        with Csms(heartbeat_interval=300, **server_kw) as csms:
            cfg = {"identity": ident, "csms_url": csms.url,
                   "evses": [{"id": 1, "connectors": 1}, {"id": 2, "connectors": 2}]}
            cfg.update(station_kw)
            res = [one(csms, cfg, tmp, i) for i in range(RUNS)]
            csms.assert_no_violations()
        times = [r[0] for r in res]
        rows.append((name, statistics.median(times), min(times), max(times), res[-1][1], res[-1][2]))
    base = rows[0][1]
    print("boot-to-Accepted on the MicroPython unix port (%d runs each, launcher start -> registration Accepted)" % RUNS)
    print("%-22s %9s %9s %9s %7s %12s %12s %10s" % ("case", "median ms", "min ms", "max ms", "x ws", "heap@boot", "heap@Accept", "run-time"))
    for name, med, lo, hi, hb, ha in rows:
        print("%-22s %9.0f %9.0f %9.0f %7.2f %12s %12s %10s" % (
            name, med * 1000, lo * 1000, hi * 1000, med / base, hb, ha, (ha - hb) if hb and ha else "n/a"))


if __name__ == "__main__":
    main()
