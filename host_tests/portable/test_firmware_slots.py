# A/B slots, the FCFW1 image, boot selection and the resumable download of lifecycle/update.py
# (issue 11, L01-L04), without a network: a fake http.get serves the image from memory.
import json

from support import raises, run, tmpdir

from flexcharge.hal.storage import FileStorage
from flexcharge.lifecycle import slots
from flexcharge.lifecycle.update import Updater


def image(version="2.0", files=(("main.py", b"print('hi')\n"), ("flexcharge/__init__.py", b"VERSION='x'\n"))):
    out = slots.MAGIC + json.dumps({"version": version, "board": "unix", "files": len(files)}).encode() + b"\n"
    for p, data in files:
        out += b"F %d %s\n" % (len(data), p.encode()) + data
    return out + b"END\n"


class Resp:
    def __init__(self, data, status=200, start=0, fail_after=None):
        self.status = status
        self.reason = "OK"
        self.range_start = start
        self.data = data
        self.fail_after = fail_after
        self.sent = 0

    async def read(self, n):
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise OSError("connection lost")
        d = self.data[:n]
        self.data = self.data[n:]
        self.sent += len(d)
        return d

    def close(self):
        pass


class Server:
    def __init__(self, data, honour_range=True):
        self.data = data
        self.honour_range = honour_range
        self.ranges = []
        self.fail_after = None

    async def get(self, url, ssl_ctx, range_from=None, timeout_ms=0):
        self.ranges.append(range_from)
        fa, self.fail_after = self.fail_after, None
        if range_from and self.honour_range:
            return Resp(self.data[range_from:], 206, range_from, fa)
        return Resp(self.data, 200, 0, fa)


def updater(state):
    return Updater(FileStorage(state), slots.open_slots(state))


JOB = {"requestId": 7, "location": "http://x/fw.img"}


def test_download_install_trial_confirm():
    state = tmpdir("slots")
    img = image("2.0")
    srv = Server(img)
    up = updater(state)
    import hashlib

    digest = run(up.download(JOB, srv.get, None))
    assert digest == hashlib.sha256(img).digest()
    assert up.install(JOB) == "2.0"
    assert slots.select(state) == ("trial", state + "/fw/b.d")
    with open(state + "/fw/b.d/flexcharge/__init__.py", "rb") as f:
        assert f.read() == b"VERSION='x'\n"
    up2 = updater(state)
    assert up2.on_trial
    up2.confirm()
    assert slots.select(state) == ("normal", state + "/fw/b.d")


def test_crash_on_trial_rolls_back_and_is_reported_once():
    state = tmpdir("slots")
    up = updater(state)
    run(up.download(JOB, Server(image("3.0")).get, None))
    up.install(JOB)
    assert slots.select(state)[0] == "trial"
    # the trial crashed: the next start boots the factory firmware (slot a has no tree)
    assert slots.select(state, crashed=True) == ("rollback", None)
    up2 = updater(state)
    assert not up2.on_trial and up2.failed_version == "3.0"
    assert updater(state).failed_version is None  # taken once


def test_power_cut_during_trial_gets_another_trial_then_rolls_back():
    state = tmpdir("slots")
    up = updater(state)
    run(up.download(JOB, Server(image("3.1")).get, None))
    up.install(JOB)
    modes = [slots.select(state)[0] for _ in range(slots.MAX_TRIES + 1)]
    assert modes == ["trial"] * slots.MAX_TRIES + ["rollback"]


def test_download_resumes_with_range_after_a_break():
    state = tmpdir("slots")
    img = image("4.0", (("main.py", b"x" * 5000),))
    srv = Server(img)
    srv.fail_after = 2048
    up = updater(state)
    with raises(OSError):
        run(up.download(JOB, srv.get, None))
    # a restart: a new Updater on the same state re-hashes the partial image and resumes
    up = updater(state)
    import hashlib

    assert run(up.download(JOB, srv.get, None)) == hashlib.sha256(img).digest()
    assert srv.ranges == [None, 2048]
    # a server that ignores the Range restarts from 0 and still gives the right image
    state2 = tmpdir("slots")
    srv2 = Server(img, honour_range=False)
    srv2.fail_after = 1024
    up = updater(state2)
    with raises(OSError):
        run(up.download(JOB, srv2.get, None))
    assert run(updater(state2).download(JOB, srv2.get, None)) == hashlib.sha256(img).digest()


def test_bad_images_are_refused_and_leave_no_switch():
    for bad in (b"not an image", image()[:-10], image().replace(b"F 12 main.py", b"F 12 ../x.py"),
                image(files=(("flexcharge/x.py", b"1"),))):
        state = tmpdir("slots")
        up = updater(state)
        run(up.download(JOB, Server(bad).get, None))
        with raises(ValueError):
            up.install(JOB)
        assert slots.select(state) == ("normal", None)


def test_half_unpacked_tree_is_cleaned_at_boot():
    state = tmpdir("slots")
    fs = slots.open_slots(state)
    from flexcharge.compat import makedirs, exists

    makedirs(fs.root + "/b.new/flexcharge")
    slots.select(state)
    assert not exists(fs.root + "/b.new")


def test_old_firmware_booted_despite_a_pending_slot_does_not_claim_the_update():
    # A bootloader that did not switch (a board without slot selection): the factory firmware
    # runs with a pending slot. It must not confirm it (no false Installed): it rolls back.
    state = tmpdir("slots")
    up = updater(state)
    run(up.download(JOB, Server(image("5.0")).get, None))
    up.install(JOB)
    up2 = Updater(FileStorage(state), slots.open_slots(state), running_version="factory")
    assert not up2.on_trial and up2.failed_version == "5.0"
    assert slots.open_slots(state).pending() is None
    # the image itself, booted for its trial, is on probation
    up = updater(state)
    run(up.download({"requestId": 8, "location": "x"}, Server(image("5.1")).get, None))
    up.install({"requestId": 8})
    assert Updater(FileStorage(state), slots.open_slots(state), running_version="5.1").on_trial
