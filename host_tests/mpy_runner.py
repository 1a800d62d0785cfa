# Runs host_tests/portable/test_*.py under the MicroPython unix port (pytest does not
# run there). Usage: micropython host_tests/mpy_runner.py [test_file_substring ...]
# Set MICROPYPATH=.frozen:<repo>/firmware:<repo>/boards/unix:<repo>/host_tests/portable
# (the Makefile does). Prints one line per failure and ends with "N passed, N failed".
import sys
import os
import gc

HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
PORTABLE = HERE + "/portable"


def main(filters):
    files = sorted(f for f in os.listdir(PORTABLE) if f.startswith("test_") and f.endswith(".py"))
    if filters:
        files = [f for f in files if any(s in f for s in filters)]
    passed = failed = 0
    for f in files:
        modname = f[:-3]
        try:
            mod = __import__(modname)
        except Exception as e:
            failed += 1
            print("FAIL", modname, "(import)", repr(e))
            sys.print_exception(e)
            continue
        names = sorted(n for n in dir(mod) if n.startswith("test_"))
        for n in names:
            fn = getattr(mod, n)
            if not callable(fn):
                continue
            try:
                fn()
                passed += 1
            except Exception as e:
                failed += 1
                print("FAIL", modname + "::" + n, repr(e))
                sys.print_exception(e)
            gc.collect()
        del sys.modules[modname]
        gc.collect()
    print("%d passed, %d failed" % (passed, failed))
    return failed


sys.exit(1 if main(sys.argv[1:]) else 0)
