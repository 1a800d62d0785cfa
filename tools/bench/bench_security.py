#!/usr/bin/env python3
"""Security-layer benchmark (issue 10): the pure-Python certificate code on the MicroPython
unix port, side by side with the same code on CPython and with CPython's `cryptography`
(OpenSSL) doing the same job.

Measured, per operation:
  * keygen      P-256 key pair from os.urandom (security/p256.py P256Key())
  * csr         PKCS#10 CSR for CN/O signed with that key (security/csr.py build_csr)
  * chain-rsa   verify a three-certificate RSA-2048 chain (leaf, intermediate, root anchor):
                parse all three, two signatures, validity, CA flags (verify.verify_chain)
  * chain-ec    the same for P-256 / ECDSA
Time: median of several runs (ms). Heap (MicroPython only):
  * alloc       bytes allocated by one operation with the GC disabled (gc.mem_alloc delta):
                everything it allocates, an upper bound of its peak
  * peak        the least free heap (1 KB steps) in which the operation still runs with the
                GC on (the rest of the heap filled with ballast): what it really
                needs at its peak (live data + fragmentation)
MicroPython times are taken with an MCU-sized heap (MP_HEAP), so they include the GC passes.
The vectors are host_tests/portable/x509_vectors.py (generated with `cryptography`).

Run with CPython (`make bench`).
"""
import sys

OPS = ("keygen", "csr", "chain-rsa", "chain-ec")
RUNS = {"keygen": 9, "csr": 9, "chain-rsa": 15, "chain-ec": 9}
MP_HEAP = "256K"


def _ours(op):
    import x509_vectors as V
    from flexcharge.security import verify
    from flexcharge.security.p256 import P256Key
    from flexcharge.security.csr import build_csr

    if op == "keygen":
        return lambda: P256Key()
    if op == "csr":
        key = P256Key(V.EC_KEY_D)
        return lambda: build_csr(key, "CS001", "FlexCharge Operator")
    k = "RSA" if op == "chain-rsa" else "EC"
    chain = [getattr(V, k + "_LEAF"), getattr(V, k + "_INTER")]
    anchors = [getattr(V, k + "_ROOT")]
    return lambda: verify.verify_chain(chain, anchors, V.NOW)


def _cryptography(op):
    import datetime
    import x509_vectors as V
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    if op == "keygen":
        return lambda: ec.generate_private_key(ec.SECP256R1())
    if op == "csr":
        key = ec.derive_private_key(V.EC_KEY_D, ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "FlexCharge Operator"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "CS001")])
        return lambda: x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    k = "RSA" if op == "chain-rsa" else "EC"
    ders = [getattr(V, k + "_LEAF"), getattr(V, k + "_INTER"), getattr(V, k + "_ROOT")]
    now = datetime.datetime.fromtimestamp(V.NOW, datetime.timezone.utc)

    def run():
        # the same work as verify_chain: parse three, check two signatures, validity, CA flags
        leaf, inter, root = [x509.load_der_x509_certificate(d) for d in ders]
        for c in (leaf, inter, root):
            if not c.not_valid_before_utc <= now <= c.not_valid_after_utc:
                raise ValueError("validity")
        for c in (inter, root):
            if not c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                raise ValueError("not a CA")
        leaf.verify_directly_issued_by(inter)
        inter.verify_directly_issued_by(root)

    return run


def measure(impl, op):
    import gc
    import json
    import time
    from flexcharge import compat

    fn = (_ours if impl == "ours" else _cryptography)(op)
    fn()  # warm-up (imports, first-call allocations)
    times = []
    for _ in range(RUNS[op]):
        gc.collect()
        if compat.IS_MICROPYTHON:
            t0 = time.ticks_us()
            fn()
            times.append(time.ticks_diff(time.ticks_us(), t0) / 1000.0)
        else:
            c0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - c0) * 1000.0)
    times.sort()
    print("RESULT " + json.dumps({"ms": times[len(times) // 2]}))


def heap(mode, op):
    # MicroPython: bytes one run allocates (GC off: the total churn), and the peak it needs
    # with the GC on: the least free heap (1 KB steps) in which it still runs, found by
    # filling the rest of the heap with ballast.
    import gc
    import json

    fn = _ours(op)
    fn()
    if mode == "alloc":
        gc.collect()
        gc.disable()
        m0 = gc.mem_alloc()
        fn()
        alloc = gc.mem_alloc() - m0
        gc.enable()
        print("RESULT " + json.dumps({"alloc": alloc}))
        return

    def fits(kb):
        # Ballast in blocks (the free heap is fragmented: one big block may not exist).
        gc.collect()
        target = kb * 1024
        ballast = [None] * 4096
        i = 0
        for size in (16384, 1024, 64):
            while gc.mem_free() > target + size + 64 and i < len(ballast):
                try:
                    ballast[i] = bytearray(size)
                except MemoryError:
                    break  # no free run this long left: go on with smaller blocks
                i += 1
        try:
            fn()
            return True
        except MemoryError:
            return False
        finally:
            ballast = None  # noqa: F841

    lo, hi = 0, 256
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            hi = mid
        else:
            lo = mid
    print("RESULT " + json.dumps({"peak_kb": hi}))


def _orchestrate():
    import json
    import os
    import shutil
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    fw, portable = os.path.join(root, "firmware"), os.path.join(root, "host_tests", "portable")
    bindir = os.path.dirname(sys.executable)
    mp = shutil.which("micropython", path=bindir + os.pathsep + os.environ.get("PATH", ""))
    me = os.path.abspath(__file__)
    env = dict(os.environ)
    env["MICROPYPATH"] = ".frozen:" + fw + ":" + portable
    env["PYTHONPATH"] = fw + os.pathsep + portable

    def run(cmd, *args):
        p = subprocess.run(list(cmd) + [me] + list(args), env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=600)
        for line in p.stdout.splitlines():
            if line.startswith("RESULT "):
                return json.loads(line[7:])
        return {"error": (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]}

    table = {}
    for op in OPS:
        row = {}
        if mp:
            row["mp"] = run([mp, "-X", "heapsize=%s" % MP_HEAP], "--measure", "ours", op)
            for mode, size in (("alloc", "32M"), ("peak", "1M")):
                r = run([mp, "-X", "heapsize=" + size], "--heap", mode, op)
                if "error" in r:
                    r = {"error": mode + ": " + r["error"]}
                row["mp"].update(r)
        row["cpy"] = run([sys.executable], "--measure", "ours", op)
        row["crypto"] = run([sys.executable], "--measure", "cryptography", op)
        table[op] = row

    def ms(r):
        if "error" in r:
            return "error: " + r["error"][:40]
        return "%.2f" % r["ms"] if r["ms"] < 10 else "%.1f" % r["ms"]

    print("Security layer: pure-Python X.509 / P-256 / RSA (ms, median) vs CPython cryptography (OpenSSL)")
    hdr = ("", "MicroPython", "CPython (ours)", "CPython crypto", "MP/crypto", "MP/CPy", "alloc (MP)", "peak (MP)")
    print("%-10s%13s%16s%16s%11s%9s%12s%15s" % hdr)
    bad = []
    for op in OPS:
        r = table[op]
        a, b, c = r.get("mp", {"error": "no micropython"}), r["cpy"], r["crypto"]
        ok = all("error" not in x for x in (a, b, c))
        if not ok:
            bad.append(op)
        ratio1 = "%.0fx" % (a["ms"] / c["ms"]) if ok and c["ms"] else "n/a"
        ratio2 = "%.1fx" % (a["ms"] / b["ms"]) if ok and b["ms"] else "n/a"
        alloc = "%d B" % a["alloc"] if "alloc" in a else "n/a"
        mh = "%d KB" % a["peak_kb"] if "peak_kb" in a else "n/a"
        print("%-10s%13s%16s%16s%11s%9s%12s%15s" % (op, ms(a), ms(b), ms(c), ratio1, ratio2, alloc, mh))
    print("notes: chain = leaf + intermediate verified up to the root anchor (3 certificates, 2 signatures).")
    print("       MicroPython times with -X heapsize=%s (an MCU-sized heap: they include the GC passes" % MP_HEAP)
    print("       the big-integer garbage causes). alloc = all bytes one operation allocates with the GC")
    print("       off; peak = least free heap it runs in with the GC on (1 KB steps).")
    print("       keygen = one P-256 scalar multiplication; csr = one ECDSA signature (a scalar")
    print("       multiplication, an inversion, RFC 6979 HMACs) + DER; ECDSA verify = a double scalar")
    print("       multiplication (Shamir); RSA verify = one modexp with e = 65537.")
    if bad:
        print("FAILED: " + ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--measure":
        measure(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 3 and sys.argv[1] == "--heap":
        heap(sys.argv[2], sys.argv[3])
    else:
        sys.exit(_orchestrate())
