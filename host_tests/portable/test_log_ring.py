# diag/ring.py: the DiagnosticsLog ring -- wrap-around, a torn record after a power cut, the time filter.
from support import tmpdir

from flexcharge.hal.storage import FileStorage
from flexcharge.diag.ring import LogRing, parse
from flexcharge.diag.log import Logger


class Clock:
    def __init__(self, t=1700000000):
        self.t = t

    def __call__(self):
        return self.t


def _ring(path=None, seg=512, n=3):
    d = path or tmpdir("ring")
    c = Clock()
    return d, c, LogRing(FileStorage(d), c, seg_bytes=seg, segments=n)


def test_append_and_read_back_after_reboot():
    d, c, r = _ring()
    r.append("I", "boot", "hello world")
    c.t += 5
    r.append("W", "comm", "line\nbreak")
    r2 = LogRing(FileStorage(d), c, seg_bytes=512, segments=3)
    recs = list(r2.records_in())
    assert recs == [(1700000000, "I", "boot", "hello world"), (1700000005, "W", "comm", "line break")], recs


def test_wrap_around_keeps_size_bounded_and_newest_records():
    d, c, r = _ring(seg=400, n=3)
    for i in range(200):
        c.t += 1
        r.append("I", "t", "record number %d" % i)
    assert r.size() <= 3 * 400 + 100, r.size()
    recs = list(r.records_in())
    assert recs[-1][3] == "record number 199"
    nums = [int(x[3].split()[-1]) for x in recs]
    assert nums == list(range(nums[0], 200)), "contiguous, oldest dropped first"
    assert nums[0] > 100
    assert len(FileStorage(d).names("diaglog.")) == 3


def test_torn_record_is_skipped_and_next_record_intact():
    d, c, r = _ring()
    r.append("I", "a", "first")
    r.append("I", "a", "second")
    st = FileStorage(d)
    name = st.names("diaglog.")[-1]
    # Power cut in the middle of the third append: a partial line without newline.
    st.append(name, b"3f 1700000001 I a thi")
    r2 = LogRing(st, c, seg_bytes=512, segments=3)  # reboot
    r2.append("E", "b", "after")
    msgs = [x[3] for x in r2.records_in()]
    assert msgs == ["first", "second", "after"], msgs


def test_corrupt_record_with_bad_check_is_skipped():
    d, c, r = _ring()
    r.append("I", "a", "good")
    st = FileStorage(d)
    name = st.names("diaglog.")[-1]
    st.append(name, b"00 1700000001 I a zeroed\n")  # check digits wrong
    st.append(name, b"\x00\x00\x00\x00\n")  # a zero-filled block
    r.append("I", "a", "good2")
    assert [x[3] for x in r.records_in()] == ["good", "good2"]
    assert parse(b"garbage\n") is None


def test_time_filter_oldest_latest():
    d, c, r = _ring(seg=4096)
    for i in range(10):
        c.t = 1000 + i * 10
        r.append("I", "x", str(i))
    assert [x[3] for x in r.records_in(1030, 1060)] == ["3", "4", "5", "6"]
    assert [x[3] for x in r.records_in(oldest=1085)] == ["9"]
    assert [x[3] for x in r.records_in(latest=1005)] == ["0"]
    assert list(r.records_in(2000, None)) == []


def test_logger_feeds_ring_and_stderr_unchanged():
    d, c, r = _ring()

    class Sink:
        def __init__(self):
            self.out = []

        def write(self, s):
            self.out.append(s)

    s = Sink()
    log = Logger(stream=s)
    log.sink = r.append
    log.debug("not kept")  # below the level: neither stderr nor ring
    log.info("kept")
    log.error("bad")
    assert len(s.out) == 2 and " I fc kept" in s.out[0]
    assert [(x[1], x[2], x[3]) for x in r.records_in()] == [("I", "fc", "kept"), ("E", "fc", "bad")]


def test_clear():
    d, c, r = _ring()
    r.append("I", "a", "x")
    r.clear()
    assert list(r.records_in()) == []
    r.append("I", "a", "y")
    assert [x[3] for x in r.records_in()] == ["y"]


def test_security_log_time_filter_streams_lines():
    from flexcharge.diag.securitylog import SecurityLog

    st = FileStorage(tmpdir("seclog"))
    sl = SecurityLog(st, max_bytes=120)
    sl.append("2026-01-01T00:00:00.000Z", "StartupOfTheDevice", "a")
    sl.append("2026-01-01T00:01:00.000Z", "ResetOrReboot", "b")
    sl.append("2026-01-01T00:02:00.000Z", "SettingSystemTime", "c")
    lines = list(sl.lines_in())
    assert len(lines) == 3 and lines[0].startswith(b"2026-01-01T00:00:00"), lines
    t1 = 1767225600 + 60
    assert [x.split()[1] for x in sl.lines_in(t1, t1)] == [b"ResetOrReboot"]
    assert b"".join(sl.lines_in()) == sl.text()
