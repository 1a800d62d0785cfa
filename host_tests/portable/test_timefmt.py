from support import raises
from flexcharge.core import timefmt


def test_iso_roundtrip():
    t = 1704164645.25
    s = timefmt.iso(t)
    assert s == "2024-01-02T03:04:05.250Z"
    assert abs(timefmt.parse(s) - t) < 0.001


def test_parse_offsets_and_fractions():
    assert timefmt.parse("2024-01-02T03:04:05Z") == 1704164645
    assert timefmt.parse("2024-01-02T05:04:05+02:00") == 1704164645
    assert timefmt.parse("2024-01-02T00:04:05-03:00") == 1704164645
    assert abs(timefmt.parse("2024-01-02T03:04:05.123456Z") - 1704164645.123456) < 1e-5
    assert timefmt.parse("2024-01-02T03:04:05") == 1704164645  # robust: no offset read as UTC


def test_parse_rejects_garbage():
    for bad in ("", "yesterday", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00+0200", 12, "2024-01-01X00:00:00Z"):
        with raises(ValueError):
            timefmt.parse(bad)
