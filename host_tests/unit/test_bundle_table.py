# tools/bundle_table.py: the README table of bundle sizes and heap (`make bundles`), written
# from a fake measurement; only the region between the markers of README.md may change.
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import bundle_table as bt  # noqa: E402

ROWS = [
    {"board": "esp32", "march": "xtensawin", "native": True, "files": 127, "bytes": 150000, "path": "x"},
    {"board": "nrf", "march": "armv7emsp", "native": False, "files": 127, "bytes": 141312, "path": "x"},
    {"board": "unix", "march": "x64", "native": True, "files": 126, "bytes": 156702, "path": "x"},
]
HEAP = {"boot": 198208, "accepted": 207808}


def table_rows(text):
    """Cells of the markdown table rows after the header and separator."""
    lines = [l for l in text.splitlines() if l.startswith("|")]
    return [[c.strip() for c in l.strip("|").split("|")] for l in lines[2:]]


def test_render_writes_one_row_per_board_with_the_unix_heap():
    text = bt.render(ROWS, HEAP, "1.29.0-preview")
    header = [c.strip() for c in text.splitlines()[0].strip("|").split("|")]
    assert header == ["board", "-march", "files", "bundle bytes", "bundle KiB",
                      "heap at `boot` (unix port)", "heap once Accepted (unix port)"]
    assert table_rows(text) == [
        ["esp32", "xtensawin", "127", "150000", "146.5", "198208 B (193.6 KiB)", "207808 B (202.9 KiB)"],
        ["nrf", "armv7emsp (no native code)", "127", "141312", "138.0", "198208 B (193.6 KiB)", "207808 B (202.9 KiB)"],
        ["unix", "x64", "126", "156702", "153.0", "198208 B (193.6 KiB)", "207808 B (202.9 KiB)"],
    ]
    note = " ".join(text.split("\n\n", 1)[1].split("\n"))
    assert all(len(l) <= 110 for l in text.split("\n\n", 1)[1].split("\n"))
    assert "same for every row" in note and "unix" in note and "MicroPython 1.29.0-preview" in note


README = "# Project\n\nIntro.\n\n## Other\n\nText the lead wrote.\n"


def test_markers_are_added_at_the_end_under_their_heading():
    table = bt.render(ROWS, HEAP)
    out = bt.replace_region(README, table)
    assert out.startswith(README)  # nothing of the lead's text changes
    tail = out[len(README):]
    assert tail == "\n%s\n\n%s\n%s\n%s\n" % (bt.HEADING, bt.BEGIN, table, bt.END)
    assert bt.replace_region(README.rstrip("\n"), table).startswith(README.rstrip("\n") + "\n\n" + bt.HEADING)


def test_only_the_region_between_the_markers_is_rewritten():
    before = "# P\n\n## Boards and bundle sizes\n\nLead's intro line.\n\n%s\nold table\n%s\n\n## After\n\nmore\n" % (bt.BEGIN, bt.END)
    table = bt.render(ROWS, HEAP)
    out = bt.replace_region(before, table)
    head, rest = out.split(bt.BEGIN)
    region, after = rest.split(bt.END)
    assert head == before.split(bt.BEGIN)[0]
    assert after == before.split(bt.END)[1]
    assert region == "\n" + table + "\n"
    assert "old table" not in out
    assert bt.replace_region(out, table) == out  # stable
    new_heap = dict(HEAP, accepted=300000)
    again = bt.replace_region(out, bt.render(ROWS, new_heap))
    assert "300000 B (293.0 KiB)" in again and "207808 B" not in again


def test_a_broken_region_is_refused():
    with pytest.raises(bt.MeasureError):
        bt.replace_region("x\n%s\n" % bt.BEGIN, "t")
    with pytest.raises(bt.MeasureError):
        bt.replace_region("x\n%s\ny\n%s\n" % (bt.END, bt.BEGIN), "t")


def test_main_writes_every_board_row_from_a_fake_measurement(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    measured = []
    monkeypatch.setattr(bt, "build_all", lambda **kw: list(ROWS))
    monkeypatch.setattr(bt, "measure_unix", lambda d: measured.append(d) or dict(HEAP))
    monkeypatch.setattr(bt, "micropython_version", lambda: "9.9.9")
    assert bt.main(["--readme", str(readme)]) == 0
    assert measured == ["x"]  # the unix bundle is the one booted
    text = readme.read_text()
    assert text.startswith(README)
    region = text.split(bt.BEGIN)[1].split(bt.END)[0]
    rows = table_rows(region)
    assert [r[0] for r in rows] == ["esp32", "nrf", "unix"]
    assert all(r[5:] == ["198208 B (193.6 KiB)", "207808 B (202.9 KiB)"] for r in rows)
    assert "MicroPython 9.9.9" in region
    # Without a unix bundle there is nothing to measure the heap with: a clear error, README untouched.
    monkeypatch.setattr(bt, "build_all", lambda **kw: ROWS[:2])
    assert bt.main(["--readme", str(readme)]) == 2
    assert readme.read_text() == text


def test_launcher_wrapper_runs_the_station_with_the_bundle(tmp_path):
    path = bt.bundle_launcher(str(tmp_path / "b"), str(tmp_path))
    assert os.access(path, os.X_OK)
    with open(path) as f:
        text = f.read()
    assert text.startswith("#!/bin/sh\nexec ")
    assert '"%s" --bundle "%s" "$@"' % (bt.STATION, tmp_path / "b") in text
