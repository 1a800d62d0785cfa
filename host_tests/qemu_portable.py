# Tier 4 of `make test`: the portable tests on the qemu Cortex-M3 image (boards/qemu), run
# by tools/qemu_run.py with host_tests/ and boards/unix/ on the board's RAM disk:
#   tools/qemu_run.py --tree host_tests=/host_tests --tree boards/unix=/boards/unix host_tests/qemu_portable.py
# Test files that need a socket (qemu has no network) are left out: SOCKET_TESTS.
import os
import sys

SOCKET_TESTS = ("test_websocket.py", "test_security_profiles.py", "test_session.py", "test_http.py")

# The tests of the simulated board import boards/unix's `board`, not the qemu one.
sys.modules.pop("board", None)
sys.path[:0] = ["/host_tests/portable", "/boards/unix"]
try:
    os.mkdir("/tmp")
except OSError:
    pass
only = [a for a in sys.argv[1:]]
files = sorted(f for f in os.listdir("/host_tests/portable") if f.startswith("test_") and f.endswith(".py"))
files = [f for f in files if f not in SOCKET_TESTS and (not only or any(s in f for s in only))]
print("qemu: %d test files (left out, need a socket: %s)" % (len(files), ", ".join(SOCKET_TESTS)))
sys.argv[:] = ["mpy_runner"] + files  # sys.argv is not assignable here
exec(open("/host_tests/mpy_runner.py").read(), {"__name__": "__main__", "__file__": "/host_tests/mpy_runner.py"})
