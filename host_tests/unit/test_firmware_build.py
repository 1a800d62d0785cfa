# make firmware BOARD=unix|qemu from the Debian source tree (tools/deploy.py, mk/firmware.mk).
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import deploy  # noqa: E402


@pytest.fixture
def tree(tmp_path, monkeypatch):
    t = tmp_path / "micropython-1.25.0"
    for p in ("ports/unix", "ports/qemu", "mpy-cross"):
        (t / p).mkdir(parents=True)
    (t / ".flexcharge-unpacked").write_text("1.25.0+ds-1 3.6.6\n")
    monkeypatch.setattr(deploy, "MPBUILD", str(tmp_path))
    return str(t)


def test_unix_from_the_debian_tree(tree):
    cmds, env = deploy.firmware_commands("unix", None)
    assert env["FLEXCHARGE_BOARD"] == "unix" and env["FLEXCHARGE_PORT_MANIFEST"] == "$(MPY_DIR)/extmod/asyncio"
    assert [c[2] for c in cmds] == [os.path.join(tree, "mpy-cross"), os.path.join(tree, "ports", "unix")]
    last = cmds[-1]
    for a in ("MPY_CROSS_FLAGS=-march=x64", "MICROPY_PY_BTREE=0", "MICROPY_PY_FFI=0", "PROG=micropython",
              "MICROPY_MPYCROSS=" + os.path.join(tree, "mpy-cross", "build", "mpy-cross"),
              "BUILD=" + os.path.join(ROOT, "build", "firmware", "unix"),
              "FROZEN_MANIFEST=" + os.path.join(ROOT, "manifest.py")):
        assert a in last, a
    assert any(a.startswith("MPY_LIB_DIR=") for a in last)
    assert not any(a.startswith("BOARD=") for a in last)


def test_qemu_overlay_linker_script_and_board_c_module(tree):
    cmds, env = deploy.firmware_commands("qemu", None)
    last = cmds[-1]
    assert "BOARD=MPS2_AN385" in last and "MICROPY_VFS_LFS2=1" in last
    cf = [a for a in last if a.startswith("CFLAGS_EXTRA=")][0]
    assert "-I" + os.path.join(ROOT, "boards", "qemu") in cf and "MP_CONFIGFILE='\"mpconfigport_flexcharge.h\"'" in cf
    assert "LDSCRIPT=" + os.path.join(ROOT, "boards", "qemu", "mps2_flexcharge.ld") in last
    um = [a for a in last if a.startswith("USER_C_MODULES=")][0].split("=", 1)[1]
    assert os.path.isfile(os.path.join(um, "fcqemu", "micropython.mk"))  # the farm of module links
    if os.path.isdir(os.path.join(ROOT, "firmware", "cmodules", "flexcharge_c")):
        assert os.path.isfile(os.path.join(um, "flexcharge_c", "micropython.mk"))


def test_mcu_boards_still_need_their_checkout(tree, tmp_path):
    with pytest.raises(deploy.DeployError, match="MPY_DIR"):
        deploy.firmware_commands("rp2", None)
    (tmp_path / "full" / "ports" / "rp2").mkdir(parents=True)
    cmds, env = deploy.firmware_commands("rp2", str(tmp_path / "full"))
    assert cmds[1][-1] == "submodules" and "BOARD=RPI_PICO_W" in cmds[-1]
    assert not any(a.startswith("BUILD=") for a in cmds[-1])


def test_no_source_tree_says_make_setup(tmp_path, monkeypatch):
    monkeypatch.setattr(deploy, "MPBUILD", str(tmp_path / "none"))
    with pytest.raises(deploy.DeployError, match="make setup"):
        deploy.firmware_commands("unix", None)


def test_build_dir_starts_afresh_when_the_arguments_change(tmp_path):
    d = tmp_path / "fw"
    (d / "x").mkdir(parents=True)
    deploy.fresh_build_dir(["make", "BUILD=%s" % d, "A=1", "-j2"])
    assert (d / "x").is_dir()  # first stamp: kept
    deploy.fresh_build_dir(["make", "BUILD=%s" % d, "A=1", "-j4"])
    assert (d / "x").is_dir()  # -j is no build argument
    deploy.fresh_build_dir(["make", "BUILD=%s" % d, "A=2"])
    assert not d.exists()
