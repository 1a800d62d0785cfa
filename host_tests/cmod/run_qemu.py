#!/usr/bin/env python3
"""Boot a qemu mps2-an385 image that has qemu_accel frozen in (mk/cmod.mk test-cmod-qemu),
run it from the REPL and pass its verdict on: exit 0 when every test passed.

    run_qemu.py build/qemu-cmod/firmware.elf
"""
import re
import subprocess
import sys
import time


def main(elf, timeout=120):
    p = subprocess.Popen(["qemu-system-arm", "-machine", "mps2-an385", "-nographic", "-semihosting", "-serial",
                          "stdio", "-monitor", "none", "-kernel", elf],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b""
    t0 = time.time()
    try:
        while b">>> " not in out:
            out += p.stdout.read1(4096)
            if time.time() - t0 > 30:
                raise SystemExit("qemu: no REPL prompt\n" + out.decode(errors="replace"))
        p.stdin.write(b"import qemu_accel\r\n")
        p.stdin.flush()
        while True:
            chunk = p.stdout.read1(4096)
            if not chunk:
                break
            out += chunk
            m = re.search(rb"qemu accel \((\w+), ([^)]*)\): (\d+) passed, (\d+) failed", out)
            if m or time.time() - t0 > timeout:
                break
    finally:
        p.kill()
        p.wait()
    text = out.decode(errors="replace")
    print("\n".join(l for l in text.splitlines() if l.startswith(("FAIL", "  File", "qemu accel", "Traceback"))
                    or "Error" in l))
    if not m:
        print(text[-2000:])
        return 1
    if m.group(1) != b"c":
        print("the image has no flexcharge_c")
        return 1
    return 1 if int(m.group(4)) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
