from support import raises
from flexcharge.core import timefmt


def test_iso_roundtrip():
    s = timefmt.iso_ms(1704164645250)
    assert s == "2024-01-02T03:04:05.250Z"
    assert timefmt.parse(s) == 1704164645 and timefmt.parse_ms(s) == 1704164645250
    assert timefmt.iso(1704164645) == "2024-01-02T03:04:05.000Z"
    if float(16777217) != 16777216.0:  # double-precision floats (a host clock): their ms show
        assert timefmt.iso(1704164645.25) == s


def test_parse_offsets_and_fractions():
    assert timefmt.parse("2024-01-02T03:04:05Z") == 1704164645
    assert timefmt.parse("2024-01-02T05:04:05+02:00") == 1704164645
    assert timefmt.parse("2024-01-02T00:04:05-03:00") == 1704164645
    assert timefmt.parse("2024-01-02T03:04:05.123456Z") == 1704164645  # int seconds
    assert timefmt.parse_ms("2024-01-02T03:04:05.123456Z") == 1704164645123
    assert timefmt.parse_ms("2024-01-02T03:04:05.1Z") == 1704164645100
    assert timefmt.parse_ms("2024-01-02T03:04:05.123456789+00:00") == 1704164645123
    assert timefmt.parse("2024-01-02T03:04:05") == 1704164645  # robust: no offset read as UTC
    assert type(timefmt.parse("2024-01-02T03:04:05.999Z")) is int


def test_loose_forms_are_flagged():
    assert timefmt.scan("2026-08-21T10:00:00.123456") == (1787306400, 123, timefmt.LOOSE_NO_OFFSET)
    assert timefmt.scan("2026-08-21 10:00:00Z")[2] == timefmt.LOOSE_SPACE
    assert timefmt.scan("2026-08-21t10:00:00z") == (1787306400, 0, 0)  # RFC 3339 §5.6 NOTE: valid
    assert timefmt.loose_reason(timefmt.LOOSE_NO_OFFSET) == "no UTC offset, read as UTC"
    assert timefmt.loose_reason(0) is None


def test_integer_arithmetic_far_from_1970():
    # No float anywhere: exact on single-precision ports too.
    assert timefmt.parse("2099-12-31T23:59:59Z") == 4102444799
    assert timefmt.parse("1970-01-01T00:00:00Z") == 0
    assert timefmt.parse("0001-01-01T00:00:00Z") == -62135596800
    assert timefmt.parse("2024-02-29T12:00:00-01:30") == 1709213400
    assert timefmt.iso_ms(1704164645123) == "2024-01-02T03:04:05.123Z"
    assert timefmt.iso(1704164645) == "2024-01-02T03:04:05.000Z"


def test_parse_rejects_garbage():
    for bad in ("", "yesterday", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00+0200", 12, "2024-01-01X00:00:00Z",
                "2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z", "20240101T000000Z",
                "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00+01", "2024-01-01T00:00:00Zjunk", None, 1.5):
        with raises(ValueError):
            timefmt.parse(bad)
