"""Hostile and careless files in the exports folder: special files and links refused by name
without being opened, reads bounded in rows, cells and memory, many identical findings
collapsed into one line, and no message quoting more of a file than the offending cell."""

from __future__ import annotations

import os
import signal
import socket
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook

from flows.cli import main
from tasks.reading.files import Limits
from tasks.reading.ingest import read_exports
from tasks.reading.problems import Problem, Severity
from tasks.run.inputs import validate_exports
from tasks.settings.environment import Settings
from tests.conftest import DEMO_CONFIG, TODAY

GOOD = "indicator,period,value\nFD01,2024-10,95\n"


@pytest.fixture(autouse=True)
def never_hang() -> Iterator[None]:
    """A read that blocks (a FIFO opened for reading) fails the test instead of hanging it."""
    def timeout(*_: object) -> None:
        raise TimeoutError("the read blocked")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def env_limits() -> Limits:
    """The limits as an entry point reads them from the environment."""
    return Limits.from_settings(Settings.from_env())


def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "good.csv").write_text(GOOD)
    return folder


def lines(problems: list[Problem]) -> list[str]:
    return [p.as_line() for p in problems]


def one(problems: list[Problem], file: str) -> Problem:
    hits = [p for p in problems if p.file == file]
    assert len(hits) == 1, lines(problems)
    return hits[0]


def test_a_fifo_is_refused_by_name_and_never_opened(tmp_path: Path) -> None:
    folder = exports(tmp_path)
    os.mkfifo(folder / "pipe.csv")
    started = time.monotonic()
    got = read_exports(folder)
    assert time.monotonic() - started < 10
    p = one(got.problems, "pipe.csv")
    assert p.severity is Severity.ERROR and "named pipe" in p.message and "not read" in p.message
    assert got.files == ["good.csv"] and len(got.records) == 1


def test_a_socket_and_a_link_to_a_device_are_refused(tmp_path: Path) -> None:
    folder = exports(tmp_path)
    (folder / "zero.csv").symlink_to("/dev/zero")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock.csv"))
    try:
        got = read_exports(folder)
    finally:
        sock.close()
    assert "outside the exports folder" in one(got.problems, "zero.csv").message
    assert "socket" in one(got.problems, "sock.csv").message
    assert got.files == ["good.csv"]


def test_a_link_out_of_the_folder_never_reaches_a_message(tmp_path: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/false\n")
    folder = exports(tmp_path)
    (folder / "passwd.csv").symlink_to(secret)
    (folder / "etc.csv").symlink_to("/etc/passwd")
    (folder / "dangling.csv").symlink_to(tmp_path / "missing.csv")
    got = validate_exports(DEMO_CONFIG, folder, "2024-10", today=TODAY)
    text = "\n".join(lines(got.problems))
    assert "root" not in text and "daemon" not in text
    assert "outside the exports folder" in one(got.problems, "passwd.csv").message
    assert "link to nothing" in one(got.problems, "dangling.csv").message
    assert not got.ok


def test_a_link_inside_the_folder_is_read(tmp_path: Path) -> None:
    folder = exports(tmp_path)
    (folder / "sub").mkdir()
    (folder / "sub" / "real.csv").write_text("indicator,period,value\nFD03,2024-10,20\n")
    (folder / "alias.csv").symlink_to(folder / "sub" / "real.csv")
    got = read_exports(folder)
    assert got.files == ["alias.csv", "good.csv"] and len(got.records) == 2


def test_a_non_export_is_quoted_only_cell_by_cell_and_cut(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    long_line = "root:x:0:0:" + "A" * 500
    (folder / "copied.csv").write_text(long_line + "\n" + "B" * 5000 + "\n")
    (folder / "values.csv").write_text("indicator,period,value\nFD01,2024-10," + "9" * 3 + "x"
                                       + "Z" * 5000 + "\n")
    got = read_exports(folder)
    for p in got.problems:
        assert len(p.message) < 400, p.message
        assert "B" * 50 not in p.message and "Z" * 100 not in p.message
    assert "no header row" in one(got.problems, "copied.csv").message


def far_cell_workbook(path: Path) -> None:
    """A few real cells, and one at the sheet's last row and column (XFD1048576)."""
    wb = Workbook()
    ws = wb.active
    ws.append(["indicator", "period", "value"])
    ws.append(["FD01", "2024-10", 95])
    ws["XFD1048576"] = "x"
    wb.save(path)


def test_a_far_cell_workbook_takes_seconds_and_little_memory(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    far_cell_workbook(folder / "far.xlsx")
    assert (folder / "far.xlsx").stat().st_size < 10_000
    tracemalloc.start()
    started = time.monotonic()
    got = read_exports(folder)
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 20 and peak < 100 * 2**20, (elapsed, peak)
    assert len(got.records) == 1
    p = one(got.problems, "far.xlsx")
    assert p.row == 1048576 and "blank" in p.message


def test_a_declared_dimension_is_not_trusted(tmp_path: Path) -> None:
    """The sheet claims A1:XFD1048576 but holds two rows: read as two rows, quickly."""
    folder = tmp_path / "exports"
    folder.mkdir()
    wb = Workbook()
    wb.active.append(["indicator", "period", "value"])
    wb.active.append(["FD01", "2024-10", 95])
    wb.save(tmp_path / "small.xlsx")
    with zipfile.ZipFile(tmp_path / "small.xlsx") as src, \
            zipfile.ZipFile(folder / "claims.xlsx", "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:C2" />',
                                    b'<dimension ref="A1:XFD1048576"/>')
                assert b"XFD1048576" in data
            dst.writestr(item, data)
    started = time.monotonic()
    got = read_exports(folder)
    assert time.monotonic() - started < 10
    assert len(got.records) == 1 and not got.problems


def test_rows_over_the_limit_stop_the_file_with_one_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFING_MAX_ROWS", "100")
    folder = exports(tmp_path)
    (folder / "big.csv").write_text("indicator,period,value\n" + "FD01,2024-10,x\n" * 500)
    got = read_exports(folder, limits=env_limits())
    p = one(got.problems, "big.csv")
    assert p.severity is Severity.ERROR
    assert p.message == ("has more than 100 rows (the limit per file, BRIEFING_MAX_ROWS); "
                         "stopped reading at row 101")
    assert set(got.records["file"]) == {"good.csv"}


def test_cells_over_the_limit_stop_the_file(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFING_MAX_CELLS", "1000")
    folder = exports(tmp_path)
    (folder / "wide.csv").write_text(("a," * 600 + "\n") * 3)
    got = read_exports(folder, limits=env_limits())
    assert "more than 1,000 cells" in one(got.problems, "wide.csv").message


def test_one_endless_line_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    """A single line of 3 million cells: the csv module would build the whole row (objects
    for every cell) before the cell limit could count it. Refused at the line, in little
    memory, naming the line; the other export is read as usual."""
    folder = exports(tmp_path)
    (folder / "endless.csv").write_text("indicator,period,value\n" + "1," * 3_000_000 + "\n")
    tracemalloc.start()
    got = read_exports(folder)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 40 * 2**20, peak
    p = one(got.problems, "endless.csv")
    assert p.severity is Severity.ERROR and p.message.startswith(
        "line 2 is longer than 1,048,576 characters"), p.message
    assert set(got.records["file"]) == {"good.csv"}


def test_bounded_lines_keep_line_endings_and_allow_exactly_the_limit() -> None:
    import csv
    import io

    from tasks.reading.files import FileRefused, bounded_lines

    text = 'a,"two\r\nlines"\r\n' + "x" * 10 + "\r\n" + "y" * 10
    rows = list(csv.reader(bounded_lines(io.StringIO(text, newline=""), limit=10)))
    assert rows == [["a", "two\r\nlines"], ["x" * 10], ["y" * 10]]
    with pytest.raises(FileRefused, match="line 3 is longer than 10 characters"):
        list(bounded_lines(io.StringIO("a\nb\n" + "z" * 11 + "\n", newline=""), limit=10))


def test_a_quote_never_closed_stops_the_file_naming_its_line(tmp_path: Path) -> None:
    """One stray `"` made the rest of the file one cell: twenty indicators reported "not
    collected", and a paper made that way. Now the file stops, naming the row's line."""
    folder = exports(tmp_path)
    rows = "".join(f"FD0{i},2024-10,9{i}\n" for i in range(1, 8))
    (folder / "quote.csv").write_text("indicator,period,value\n"
                                      + rows.replace("FD03,2024-10,93", 'FD03,2024-10,"93'))
    got = read_exports(folder)
    p = one(got.problems, "quote.csv")
    assert p.severity is Severity.ERROR and p.message.startswith(
        'line 4: a quote (") opened in this row is never closed'), p.message
    assert set(got.records["file"]) == {"good.csv"}
    (folder / "quote.csv").write_text('indicator,period,value\nFD01,2024-10,"95"x\n')
    p = one(read_exports(folder).problems, "quote.csv")
    assert p.message.startswith("line 2: not valid CSV"), p.message
    # A quoted cell over several lines is still one cell.
    (folder / "quote.csv").write_text('indicator,period,value,note\n'
                                      'FD02,2024-10,91,"two\nlines"\n')
    got = read_exports(folder)
    assert not [p for p in got.problems if p.file == "quote.csv"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_csv_is_refused_saying_how_to_save_it(tmp_path: Path, encoding: str) -> None:
    folder = exports(tmp_path)
    (folder / "unicode.csv").write_bytes(GOOD.encode(encoding))
    p = one(read_exports(folder).problems, "unicode.csv")
    assert p.message == 'is UTF-16 text (Excel\'s "Unicode text"); save it as "CSV UTF-8"'


@pytest.mark.parametrize("value", ["lots", "0", "1" * 5000, "\uff11\uff10"])
def test_a_bad_limit_setting_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str],
                                              value: str) -> None:
    monkeypatch.setenv("BRIEFING_MAX_ROWS", value)
    folder = exports(tmp_path)
    assert main(["validate", "--config", str(DEMO_CONFIG), "--exports", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["Error: BRIEFING_MAX_ROWS must be a whole number from 1 to "
                   f"999,999,999,999, not {value[:40]!r}"]


def test_a_workbook_that_unpacks_too_far_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    with zipfile.ZipFile(folder / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", b"\0" * (65 * 2**20))
    assert (folder / "bomb.xlsx").stat().st_size < 1_000_000
    p = one(read_exports(folder).problems, "bomb.xlsx")
    assert "unpacks to more than 64 MiB" in p.message


def test_a_sheet_that_unpacks_too_far_is_refused(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A sheet is streamed, but a cell's text is held whole (one 1.5 GB cell took 3 GB):
    the sheet's unpacked size is bounded too. Tested at a limit of 1 MiB."""
    from tasks.reading import files

    monkeypatch.setattr(files, "MAX_WORKSHEET_BYTES", 2**20)
    folder = tmp_path / "exports"
    folder.mkdir()
    with zipfile.ZipFile(folder / "wide.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<" + b"x" * (2 * 2**20))
    p = one(read_exports(folder).problems, "wide.xlsx")
    assert p.message == ("has a sheet that unpacks to more than 1 MiB "
                         "('xl/worksheets/sheet1.xml'); not read")


def test_many_identical_findings_are_one_line(tmp_path: Path) -> None:
    folder = exports(tmp_path)
    (folder / "typos.csv").write_text("indicator,period,value\n"
                                      + "".join(f"XYZ{i},2024-10,5\n" for i in range(5000)))
    (folder / "bad.csv").write_text("indicator,period,value\n" + "FD02,2024-10,n.a.\n" * 4000)
    got = validate_exports(DEMO_CONFIG, folder, "2024-10", today=TODAY)
    typos = one(got.problems, "typos.csv")
    assert typos.count == 5000 and typos.row == 2 and typos.column == "indicator"
    assert typos.message.startswith("5,000 rows with unknown indicator codes (rows 2 to 5,001, "
                                    "first at row 2): indicator code 'XYZ0' is not in")
    bad = one(got.problems, "bad.csv")
    assert bad.severity is Severity.ERROR and bad.count == 4000
    assert bad.message.startswith("4,000 rows with a bad number (rows 2 to 4,001, first at "
                                  "row 2): expected a number such as 52 or 52%, found 'n.a.'")


def test_a_few_findings_are_still_listed_one_by_one(tmp_path: Path) -> None:
    folder = exports(tmp_path)
    (folder / "typos.csv").write_text("indicator,period,value\nXX1,2024-10,5\nXX2,2024-10,5\n")
    got = validate_exports(DEMO_CONFIG, folder, "2024-10", today=TODAY)
    assert [p.row for p in got.problems if p.file == "typos.csv"] == [2, 3]


def test_duplicated_headings_are_an_error_naming_both_columns(tmp_path: Path) -> None:
    folder = exports(tmp_path)
    (folder / "twice.csv").write_text("indicator,period,value,Value\nFD01,2024-10,95,12\n")
    got = read_exports(folder)
    p = one(got.problems, "twice.csv")
    assert (p.severity, p.row, p.column) == (Severity.ERROR, 1, "value")
    assert p.message.startswith("columns C and D both have the heading 'value'")
    assert set(got.records["file"]) == {"good.csv"}


def test_two_columns_for_one_month_in_a_scorecard_are_an_error(tmp_path: Path) -> None:
    from tasks.reading.ingest import Cell, Table, wide_records
    from tasks.reading.sources import WideSource

    source = WideSource(name="s", files="*.xlsx", layout="wide")
    rows = [(3, [Cell("indicator"), Cell("Sep-24"), Cell("Oct-24"), Cell("2024-10")]),
            (4, [Cell("FD01"), Cell("90"), Cell("95"), Cell("96")])]
    problems: list[Problem] = []
    frame = wide_records(Table("card.xlsx", rows), source, problems)
    assert frame.empty
    assert [(p.row, p.column) for p in problems] == [(3, "Oct-24")]
    assert problems[0].message.startswith("columns C and D are both headed Oct 24 "
                                          "('Oct-24' and '2024-10')")


def test_a_published_file_with_a_repeated_heading_is_refused(tmp_path: Path) -> None:
    from tasks.reading.files import FileRefused
    from tasks.reading.ingest import read_dfe_csv

    path = tmp_path / "dfe.csv"
    path.write_text("time_period,geographic_level,value,value\n2025,National,1,2\n")
    with pytest.raises(FileRefused, match="columns C and D both have the heading 'value'"):
        read_dfe_csv(path)


def test_a_published_file_too_large_to_read_whole_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.reading.files import FileRefused
    from tasks.reading.ingest import read_dfe_csv

    monkeypatch.setattr("tasks.reading.ingest.MAX_TABLE_CELLS", 40)
    path = tmp_path / "dfe.csv"
    path.write_text("time_period,geographic_level,value,x\n" + "2025,National,1,2\n" * 11)
    with pytest.raises(FileRefused, match="more than 40 cells"):
        read_dfe_csv(path)
    path.write_text("time_period,geographic_level,value,x\n" + "2025,National,1,2\n" * 10)
    assert len(read_dfe_csv(path)) == 10


def test_blank_rows_count_towards_the_limit(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A file of blank lines, or a cell far below the last row, cannot run on for ever."""
    monkeypatch.setenv("BRIEFING_MAX_ROWS", "1000")
    folder = exports(tmp_path)
    (folder / "blank.csv").write_text("indicator,period,value\n" + "\n" * 5000)
    wb = Workbook()
    wb.active.append(["indicator", "period", "value"])
    wb.active["A5000"] = "FD01"
    wb.save(folder / "deep.xlsx")
    got = read_exports(folder, limits=env_limits())
    assert "stopped reading at row 1,001" in one(got.problems, "blank.csv").message
    assert "stopped reading at row 1,001" in one(got.problems, "deep.xlsx").message
