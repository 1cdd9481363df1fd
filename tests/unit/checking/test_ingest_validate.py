"""Reading real-world exports, and every finding naming file, row and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from tasks.editions.linked import LOOKALIKE
from tasks.reading.ingest import parse_number, read_exports
from tasks.reading.problems import Problem, Severity
from tasks.run.inputs import validate_exports
from tests.conftest import DEMO_CONFIG, DEMO_CYCLE, DEMO_EXPORTS, TODAY

HEADER = "indicator,period,value,numerator,denominator,authority\n"


@pytest.mark.parametrize(("text", "value", "pct"), [
    ("52", 52.0, False), ("52%", 52.0, True), (" 52.5 % ", 52.5, True), ("1,234", 1234.0, False),
    ("-3", -3.0, False), ("0.5", 0.5, False), (".5", 0.5, False),
])
def test_parse_number_accepts(text: str, value: float, pct: bool) -> None:
    assert parse_number(text) == (value, pct, None)


@pytest.mark.parametrize("text", ["n/a", "52..1", "1,23", "12abc", "%", "-", "nan", "inf"])
def test_parse_number_refuses(text: str) -> None:
    number, _, err = parse_number(text)
    assert number is None and err and repr(text) in err


def test_demo_exports_are_clean() -> None:
    inputs = validate_exports(DEMO_CONFIG, DEMO_EXPORTS, today=TODAY)
    assert inputs.cycle == DEMO_CYCLE and inputs.ok
    # 36 monthly CSVs, the scorecard, the team breakdowns, the SSDA903's 5 tables and the
    # CIN census.
    assert len(inputs.files) == 44
    # CL02 is not collected in the last month: a warning, not an error. CL01 is given by
    # the scorecard and computed from the SSDA903 alike, with the same value, and AS01,
    # CP03 and FD03 by the scorecard and the CIN census; the SSDA903 lacks some of DfE's
    # tables.
    assert sorted((p.indicator or "", p.severity.value) for p in inputs.problems
                  if p.kind != LOOKALIKE) == [
        ("", "info"), ("AS01", "info"), ("CL01", "info"), ("CL02", "warning"),
        ("CP03", "info"), ("FD03", "info")]
    # The demo's percentages come without their counts: validate says, for each, what to
    # add (restricted warnings on the config, not faults in the exports).
    gaps = [p for p in inputs.problems if p.kind == LOOKALIKE]
    assert gaps and {p.column for p in gaps} == {"denominator_from"}
    # Excel percentage cells (fractions) and CSV "52%" both arrive as percentages.
    recs = inputs.records.set_index(["indicator", "period"])
    assert recs.loc[("CL01", "2024-10"), "value"] == 52.0
    assert 5 < recs.loc[("WF02", "2024-10"), "value"] < 35


def write(folder: Path, name: str, body: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(body.encode(encoding))
    return p


def run(folder: Path, cycle: str = DEMO_CYCLE) -> list[Problem]:
    return validate_exports(DEMO_CONFIG, folder, cycle, today=TODAY).problems


def find(problems: list[Problem], severity: Severity, text: str) -> Problem:
    hits = [p for p in problems if p.severity is severity and text in p.message]
    assert hits, f"no {severity.value} containing {text!r} in {[p.as_line() for p in problems]}"
    return hits[0]


def test_bad_number_names_file_row_column(tmp_path: Path) -> None:
    write(tmp_path, "x.csv", HEADER + "FD01,2024-10,95,,,999\nFD03,2024-10,n.a.,,,999\n")
    p = find(run(tmp_path), Severity.ERROR, "expected a number")
    assert (p.file, p.row, p.column) == ("x.csv", 3, "value")
    assert p.as_line() == ("ERROR: x.csv, row 3, column 'value': expected a number such as 52 "
                           "or 52%, found 'n.a.'; FD03 October 2024 withheld: error in the "
                           "source")


def test_missing_column_names_what_was_found(tmp_path: Path) -> None:
    write(tmp_path, "x.csv", "Indicator,Month,Value\nFD01,2024-10,95\n")
    p = find(run(tmp_path), Severity.ERROR, "no header row with the columns indicator, period")
    assert p.row == 1 and "'Month'" in p.message


@pytest.mark.parametrize(("row", "column", "message"), [
    ("FD01,2024-13,95,,,999", "period", "expected a period such as 2024-10"),
    ("FD01,2024-Q3,95,,,999", "period", "is not a monthly period"),
    ("FD01,2024-10,105,,,999", "value", "not a percentage"),
    ("LA06,2024-10,-2,,,999", "value", "negative"),
    ("LA06,2024-10,2.5,,,999", "value", "not a whole number"),
    ("LA06,2024-10,5%,,,999", "value", "written as a percentage"),
    ("CL01,2024-10,52,60,50,999", "numerator", "greater than denominator"),
    ("FD01,2024-10,95,,,880", "authority", "expected 999"),
    ("FD01,2099-01,95,,,999", "period", "in the future"),
    (",2024-10,95,,,999", "indicator", "blank cell"),
])
def test_row_errors(tmp_path: Path, row: str, column: str, message: str) -> None:
    write(tmp_path, "x.csv", HEADER + row + "\n")
    p = find(run(tmp_path), Severity.ERROR, message)
    assert (p.file, p.row, p.column) == ("x.csv", 2, column)


def test_warnings(tmp_path: Path) -> None:
    write(tmp_path, "x.csv", HEADER + "CL01,2024-10,50,52,100,999\nZZ99,2024-10,1,,,999\n"
          "FD01,2024-10,,,,999\n")
    problems = run(tmp_path)
    assert find(problems, Severity.WARNING, "disagrees with numerator/denominator").row == 2
    assert find(problems, Severity.WARNING, "not in the catalogue").row == 3
    assert find(problems, Severity.WARNING, "blank cell").row == 4
    assert find(problems, Severity.WARNING, "FD03 Re-referrals").row is None  # not collected
    assert not [p for p in problems if p.severity is Severity.ERROR]


def test_duplicates_agreeing_and_conflicting(tmp_path: Path) -> None:
    write(tmp_path, "a.csv", HEADER + "FD01,2024-10,95,,,999\nFD03,2024-10,20,,,999\n")
    write(tmp_path, "b.csv", HEADER + "FD01,2024-10,95,,,999\nFD03,2024-10,21,,,999\n")
    problems = run(tmp_path)
    conflict = find(problems, Severity.ERROR, "FD03 2024-10 is given more than once")
    assert "a.csv row 3" in conflict.message and "b.csv row 3" in conflict.message
    # Two files agreeing is what two sources of one figure should do: information.
    find(problems, Severity.INFO, "FD01 2024-10 is given more than once with the same")


def test_bom_and_windows_1252(tmp_path: Path) -> None:
    write(tmp_path, "bom.csv", "\ufeff" + HEADER + "FD01,2024-10,95%,,,999\n")
    write(tmp_path, "win.csv", HEADER.replace("authority", "authority") +
          "FD03,2024-10,21,,,Demo Borough Council\n", encoding="cp1252")
    write(tmp_path, "notes.txt", "£ not an export")
    ing = read_exports(tmp_path)
    records, problems = ing.records, ing.problems
    assert sorted(records["indicator"]) == ["FD01", "FD03"]
    assert [p.severity for p in problems] == [Severity.INFO]


def test_windows_1252_bytes_are_read(tmp_path: Path) -> None:
    write(tmp_path, "win.csv", HEADER + "FD01,2024-10,95,,,999\nFD01\u2013x,2024-10,1,,,999\n",
          encoding="cp1252")
    problems = run(tmp_path)
    assert find(problems, Severity.WARNING, "FD01\u2013x").row == 3


def test_xlsx_dates_and_percent_cells(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Indicator", "Period", "Value"])
    ws.append(["WF02", dt.datetime(2024, 10, 1), 0.175])
    ws["C2"].number_format = "0.0%"
    ws.append(["WF03", "2024-10", 15.5])
    wb.save(tmp_path / "w.xlsx")
    ing = read_exports(tmp_path)
    records, problems = ing.records, ing.problems
    assert not problems
    got = dict(zip(records["indicator"], records["value"], strict=True))
    assert got == {"WF02": 17.5, "WF03": 15.5}
    assert list(records["row"]) == [2, 3] and set(records["period"]) == {"2024-10"}


def test_corrupt_xlsx_and_lock_file(tmp_path: Path) -> None:
    write(tmp_path, "broken.xlsx", "this is not a zip")
    write(tmp_path, "~$broken.xlsx", "lock")
    write(tmp_path, "old.xls", "old")
    problems = run(tmp_path)
    assert find(problems, Severity.ERROR, "could not be read as XLSX").file == "broken.xlsx"
    assert find(problems, Severity.ERROR, "old Excel .xls").file == "old.xls"
    find(problems, Severity.WARNING, "lock file")


def test_empty_folder_and_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    find(run(tmp_path / "empty"), Severity.ERROR, "no .csv or .xlsx exports")
    find(run(tmp_path / "nope"), Severity.ERROR, "exports folder not found")


def test_period_after_cycle_is_reported_not_used(tmp_path: Path) -> None:
    write(tmp_path, "x.csv", HEADER + "FD01,2024-09,95,,,999\nFD01,2024-10,96,,,999\n")
    inputs = validate_exports(DEMO_CONFIG, tmp_path, "2024-09", today=TODAY)
    assert list(inputs.records["period"]) == ["2024-09"]
    find(inputs.problems, Severity.INFO, "after the cycle")


def test_bad_commentary_is_an_error_naming_the_field(tmp_path: Path) -> None:
    write(tmp_path, "x.csv", HEADER + "FD01,2024-10,95,,,999\n")
    write(tmp_path, "commentary.yaml", "- indicator: FD01\n  period: 2024-10\n  author: A\n"
                                       "  date: not a date\n  text: hello\n")
    p = find(run(tmp_path), Severity.ERROR, "date")
    assert (p.file, p.column) == ("commentary.yaml", "entry 1, field date")
    assert p.as_line().startswith("ERROR: commentary.yaml, entry 1, field date: ")


@pytest.mark.parametrize("bad", ["2024-13-45", "2024-02-30"])
def test_an_impossible_date_in_commentary_names_the_entry_and_field(tmp_path: Path,
                                                                   bad: str) -> None:
    """PyYAML's own date reading raised a bare ValueError (a traceback, no file or field)."""
    write(tmp_path, "x.csv", HEADER + "FD01,2024-10,95,,,999\n")
    write(tmp_path, "commentary.yaml", "- indicator: FD01\n  period: 2024-10\n  author: A\n"
                                       "  date: 2024-10-01\n  text: fine\n"
                                       "- indicator: FD01\n  period: 2024-10\n  author: B\n"
                                       f"  date: {bad}\n  text: hello\n")
    p = find(run(tmp_path), Severity.ERROR, "date")
    assert (p.file, p.column) == ("commentary.yaml", "entry 2, field date")
