"""Owners' return workbooks: written, filled in with openpyxl as an owner would, read back.

Pure: a hand-made config and return, files in tmp_path; no run, no engine.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tasks.presenting.context import build_context
from tasks.presenting.return_workbooks import (
    ActionRow,
    DeepDiveRow,
    ExceptionRow,
    OwnerReturn,
    return_workbook,
)
from tasks.reading.authorities import with_authority
from tasks.reading.commentary import Commentary
from tasks.reading.deep_dive_entries import Action, DeepDiveEntry
from tasks.reading.ingest import export_files
from tasks.reading.owner_returns import (
    RETURN,
    ReturnItems,
    is_return,
    merge_commentary,
    merge_deep_dives,
    read_returns,
    return_key,
)
from tasks.reading.problems import Severity
from tasks.run.analysis import compare_with_history
from tasks.run.inputs import validate_exports
from tasks.run.papers import edition_figures
from tasks.settings.config import Authority, Config, load_config
from tasks.settings.formatting import Edition
from tasks.store.history import MemoryHistoryStore
from tests.conftest import DEMO_CONFIG, TODAY
from tests.factories import make_config

WHEN = datetime(2024, 11, 6, 7, 0, tzinfo=UTC)
KEY = b"owner-returns-test-key"  # what return_key reads from the config folder


@pytest.fixture(scope="module")
def config() -> Config:
    return make_config([{}, {"owner": "o2"}, {}])


def _return(period: str = "2024-10") -> OwnerReturn:
    return OwnerReturn(
        "998", "Testshire", "2024-10", "o1", "Owner One", "Head of Tests", "C (c@x)",
        (ExceptionRow("X0", "Indicator 0", period, "52.0%", "45.0%", "Red",
                      "Red; worse 2 periods running", None),
         ExceptionRow("X2", "Indicator 2", period, "12.0%", "10.0%", "Amber", "Amber", None)),
        (DeepDiveRow("X0", "Indicator 0", "2024-09", "Actions agreed", "Found before", None,
                     (ActionRow("First action", "o1", date(2024, 10, 31), None),)),),
        ("o1", "o2"))


def _written(folder: Path, r: OwnerReturn | None = None, name: str = "",
             key: bytes = KEY) -> Path:
    r = r or _return()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or r.file_name)
    path.write_bytes(return_workbook(r, WHEN, key))
    return path


def _fill(path: Path, cells: dict[tuple[str, str], Any]) -> None:
    """What an owner does: open it, type in the cells, save it."""
    wb = load_workbook(path)
    for (sheet, cell), value in cells.items():
        wb[sheet][cell] = value
    wb.save(path)


def _read(folder: Path, config: Config, cycle: str = "2024-10") -> ReturnItems:
    return read_returns([folder], config, cycle, KEY)


def test_commentary_round_trip(tmp_path: Path, config: Config) -> None:
    path = _written(tmp_path)
    _fill(path, {("Commentary", "H2"): "Two teams carried vacancies; cover from November.",
                 ("Commentary", "I2"): "Deputy Head of Tests",
                 ("Commentary", "J2"): datetime(2024, 11, 4)})
    got = _read(tmp_path, config)
    assert got.problems == []
    assert got.commentary == [Commentary(indicator="X0", period="2024-10",
                                         author="Deputy Head of Tests", date=date(2024, 11, 4),
                                         text="Two teams carried vacancies; cover from "
                                              "November.")]


def test_commentary_left_undated_is_dated_when_saved_and_attributed_to_the_owner(
        tmp_path: Path, config: Config) -> None:
    path = _written(tmp_path)
    _fill(path, {("Commentary", "H3"): "Within the range we expect.",
                 ("Commentary", "I3"): None})
    (c,) = _read(tmp_path, config).commentary
    assert (c.indicator, c.author) == ("X2", "Owner One, Head of Tests")
    assert c.date == load_workbook(path).properties.modified.date()


def test_deep_dive_findings_and_actions_round_trip(tmp_path: Path, config: Config) -> None:
    path = _written(tmp_path)
    _fill(path, {("Deep dives", "E2"): "The rise follows the end of the scheme.",
                 ("Deep dives", "F2"): datetime(2025, 3, 12),
                 ("Actions", "E2"): datetime(2024, 11, 4),
                 ("Actions", "A3"): "X0 opened 2024-09",
                 ("Actions", "B3"): "Review every plan",
                 ("Actions", "C3"): "o2",
                 ("Actions", "D3"): datetime(2024, 12, 20)})
    got = _read(tmp_path, config)
    assert got.problems == []
    assert got.deep_dives == [DeepDiveEntry(
        indicator="X0", opened="2024-09", findings="The rise follows the end of the scheme.",
        actions=[Action(description="First action", owner="o1", due=date(2024, 10, 31),
                        done=date(2024, 11, 4)),
                 Action(description="Review every plan", owner="o2", due=date(2024, 12, 20))],
        closed=date(2025, 3, 12))]


def test_the_workbook_locks_what_is_fixed_and_offers_choices(tmp_path: Path) -> None:
    wb = load_workbook(_written(tmp_path))
    ws = wb["Commentary"]
    assert ws.protection.sheet and wb["Deep dives"].protection.sheet
    assert ws["D2"].value == "52.0%" and ws["D2"].protection.locked
    assert not ws["H2"].protection.locked and not ws["J2"].protection.locked
    lists = [dv.formula1 for dv in wb["Actions"].data_validations.dataValidation
             if dv.type == "list"]
    assert lists == ["Lists!$A$2:$A$2", "Lists!$B$2:$B$3"]
    assert [c.value for c in wb["Lists"]["B"]][1:] == ["o1", "o2"]
    assert wb["briefing-return"].sheet_state == "veryHidden"
    assert any(dv.type == "date" and "J2" in str(dv.sqref)
               for dv in ws.data_validations.dataValidation)


FAULTS: list[tuple[str, dict[tuple[str, str], Any], str, str]] = [
    ("a date that is not a date", {("Commentary", "H2"): "Text.",
                                   ("Commentary", "J2"): "next week"},
     "sheet 'Commentary', cell J2", "expected a date such as 2024-11-04, found 'next week'"),
    ("a formula", {("Commentary", "H2"): "=A1&B1"}, "sheet 'Commentary', cell H2",
     "holds a formula ('=A1&B1')"),
    ("text over the limit", {("Commentary", "H2"): "x" * 2001}, "sheet 'Commentary', cell H2",
     "2,001 characters, more than the 2,000 allowed"),
    ("a locked cell changed", {("Commentary", "D2"): "40.0%", ("Commentary", "H2"): "Text."},
     "sheet 'Commentary', cell D2", "a locked cell was changed (written '52.0%', found "
                                    "'40.0%')"),
    ("an action's date", {("Actions", "D2"): "soon"}, "sheet 'Actions', cell D2",
     "expected a date such as 2024-11-04, found 'soon'"),
    ("an unknown owner", {("Actions", "C2"): "nobody"}, "sheet 'Actions', cell C2",
     "expected an owner id in owners.yaml"),
    ("an unknown deep dive", {("Actions", "A3"): "X9 opened 2024-09",
                              ("Actions", "B3"): "More", ("Actions", "C3"): "o1",
                              ("Actions", "D3"): datetime(2024, 12, 1)},
     "sheet 'Actions', cell A3", "found 'X9 opened 2024-09'"),
]


@pytest.mark.parametrize(("fault", "cells", "where", "message"), FAULTS,
                         ids=[f[0] for f in FAULTS])
def test_each_fault_is_a_finding_naming_file_sheet_and_cell(
        tmp_path: Path, config: Config, fault: str, cells: dict[tuple[str, str], Any],
        where: str, message: str) -> None:
    path = _written(tmp_path)
    _fill(path, cells)
    got = _read(tmp_path, config)
    (p,) = got.problems
    assert (p.severity, p.file, p.column, p.kind) == (Severity.ERROR, path.name, where, RETURN)
    assert message in p.message
    assert p.as_line().startswith(f"ERROR: {path.name}, {where}: ")  # not "column 'sheet"
    sheet = where.split("'")[1]
    if sheet == "Commentary" or fault == "an unknown deep dive":
        assert got.commentary == [] and len(got.deep_dives) == 1
    else:  # the deep dive is used whole or not at all
        assert got.deep_dives == []


def test_an_indicator_no_longer_in_the_catalogue(tmp_path: Path) -> None:
    path = _written(tmp_path)
    _fill(path, {("Commentary", "H3"): "Text."})
    got = _read(tmp_path, make_config([{}, {"owner": "o2"}]))  # X2 has gone
    (p,) = got.problems
    assert (p.file, p.column) == (path.name, "sheet 'Commentary', cell A2".replace("2", "3"))
    assert "indicator code 'X2' is not in indicators.yaml" in p.message


def test_an_unknown_period(tmp_path: Path, config: Config) -> None:
    _written(tmp_path, _return(period="2024-13"))
    _fill(tmp_path / _return().file_name, {("Commentary", "H2"): "Text."})
    (p,) = _read(tmp_path, config).problems
    assert p.column == "sheet 'Commentary', cell C2"
    assert "expected a period such as 2024-10, found '2024-13'" in p.message


def test_two_returns_for_the_same_item(tmp_path: Path, config: Config) -> None:
    first = _written(tmp_path)
    second = tmp_path / "my return.xlsx"
    shutil.copy(first, second)
    _fill(first, {("Commentary", "H2"): "One answer."})
    _fill(second, {("Commentary", "H2"): "Another answer."})
    got = _read(tmp_path, config)
    p, same = got.problems  # the commentary differs; the deep dive is the same in both
    assert p.severity is Severity.ERROR and got.commentary == []
    assert "given differently by two returns" in p.message
    assert first.name in p.message and second.name in p.message
    assert same.severity is Severity.WARNING and "the same in each: used once" in same.message
    assert len(got.deep_dives) == 1


def test_another_authoritys_or_a_later_cycles_return(tmp_path: Path, config: Config) -> None:
    later = _written(tmp_path / "a", _return())
    _fill(later, {("Commentary", "H2"): "Text."})
    assert _read(tmp_path / "a", config, "2024-09") == ReturnItems()  # for its own run
    other = with_authority(config, Authority(name="Elsewhere", code="997"))
    (p,) = _read(tmp_path / "a", other).problems
    assert "is a return for authority '998', not 997; the return is not used" in p.message


def test_the_yaml_file_wins_and_says_so(tmp_path: Path, config: Config) -> None:
    _fill(_written(tmp_path), {("Commentary", "H2"): "From the return.",
                               ("Deep dives", "E2"): "Returned findings"})
    got = _read(tmp_path, config)
    mine = Commentary(indicator="X0", period="2024-10", author="Perf team",
                      date=date(2024, 11, 1), text="From the YAML.")
    merged, problems = merge_commentary([mine], got)
    assert merged == [mine]
    (p,) = problems
    assert p.severity is Severity.WARNING and "commentary.yaml's is used" in p.message
    assert p.column == "sheet 'Commentary', row 2"
    yaml_dive = DeepDiveEntry(indicator="X0", findings="YAML findings")
    dives, problems = merge_deep_dives([yaml_dive], got)
    assert dives == [yaml_dive] and "deep_dives.yaml's is used" in problems[0].message
    merged, problems = merge_commentary([], got)
    assert [c.text for c in merged] == ["From the return."] and problems == []


def test_a_return_is_not_read_as_an_export(tmp_path: Path) -> None:
    path = _written(tmp_path, name="renamed by the owner.xlsx")
    (tmp_path / "scorecard.csv").write_text("indicator,period,value\n")
    assert is_return(path)
    files, _ = export_files(tmp_path)
    assert [f.name for f in files] == ["scorecard.csv"]


def _demo_return(owner: str, code: str) -> OwnerReturn:
    o = DEMO.owners[owner]
    return OwnerReturn("999", "Demo", "2024-10", owner, o.name, o.role, "Jo",
                       (ExceptionRow(code, code, "2024-10", "5", "2", "Red", "Red", None),),
                       (), tuple(DEMO.owners))


DEMO = load_config(DEMO_CONFIG)


def test_a_return_in_the_exports_is_used_as_commentary_yaml_is(demo_exports: Path) -> None:
    """The run reads it with the exports (not as one), and the public edition prints its
    commentary only where commentary.yaml's would be: YJ03's exception status rests on a
    figure of 5 children, so its commentary is in the restricted edition alone."""
    for owner, code in (("head_youth_justice", "YJ03"), ("head_front_door", "FD04")):
        path = _written(demo_exports, _demo_return(owner, code), f"{code} back.xlsx",
                        return_key(DEMO_CONFIG))
        _fill(path, {("Commentary", "H2"): f"{code}: what lies behind it."})
    faulty = _written(demo_exports, _demo_return("head_cla", "LA02"), key=return_key(DEMO_CONFIG))
    _fill(faulty, {("Commentary", "H2"): "=1+1"})
    inputs = validate_exports(DEMO_CONFIG, demo_exports, "2024-10", today=TODAY)
    # A fault in a return leaves its item out; the run goes on (exit 4, as a faulty cell).
    (fault,) = [p for p in inputs.problems if p.kind == RETURN]
    assert inputs.ok and "holds a formula" in fault.message
    assert "YJ03 back.xlsx" not in inputs.files
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    said = {}
    for edition in Edition:
        figures = edition_figures(inputs, analysed, edition)
        # The findings about a return are the owner's: restricted.
        assert (fault in figures.problems) is (edition is Edition.RESTRICTED)
        ctx = build_context(inputs.config, figures, inputs.cycle, inputs.commentary)
        said[edition] = {v.code for v in ctx.exceptions if v.commentary
                         and v.commentary[0].text.endswith("what lies behind it.")}
    assert said == {Edition.RESTRICTED: {"YJ03", "FD04"}, Edition.PUBLIC: {"FD04"}}


def test_a_returns_folder_that_is_not_one_is_said(tmp_path: Path, config: Config) -> None:
    (p,) = read_returns([tmp_path, tmp_path / "returns"], config, "2024-10",
                       KEY).problems
    assert (p.severity, p.file, p.column) == (Severity.WARNING, "briefing.yaml",
                                              "returns_folder")
    assert "returns is not a folder" in p.message


def test_a_return_may_not_speak_for_another_owners_indicator(tmp_path: Path) -> None:
    """X0 has passed to o2 since o1's return was written: o1's commentary and deep dive on
    it are errors naming file, sheet and cell, not used (nor can they crowd out o2's)."""
    path = _written(tmp_path)
    _fill(path, {("Commentary", "H2"): "o1 on X0", ("Commentary", "H3"): "o1 on X2"})
    got = _read(tmp_path, make_config([{"owner": "o2"}, {"owner": "o2"}, {}]))
    assert [c.indicator for c in got.commentary] == ["X2"] and got.deep_dives == []
    assert [p.as_line() for p in got.problems] == [
        f"ERROR: {path.name}, sheet '{sheet}', cell A2: indicator X0 is owned by 'o2', not "
        "by this return's owner 'o1': an owner answers for their own indicators only"
        for sheet in ("Commentary", "Deep dives")]


def _forge(path: Path, sheet: str, cell: str, value: str) -> None:
    """What fill3.py of the try-out did: a locked cell and its marker row both changed."""
    wb = load_workbook(path)
    wb[sheet][cell] = value
    for row in wb["briefing-return"].iter_rows(min_row=2):
        if (row[0].value, row[1].value) == (sheet, cell):
            row[2].value = value
    wb.save(path)


def test_a_return_whose_marker_sheet_was_rewritten_is_refused(tmp_path: Path,
                                                               config: Config) -> None:
    """The About sheet's owner changed to o2's with the marker to match: the signature under
    the run's key (not in the workbook) says so, and nothing of the return is used; a
    return signed with another key is refused the same way."""
    path = _written(tmp_path)
    _fill(path, {("Commentary", "H2"): "Written as o2"})
    _forge(path, "About", "B5", "o2")
    got = _read(tmp_path, config)
    assert got.commentary == [] and got.deep_dives == []
    (p,) = got.problems
    assert p.severity is Severity.ERROR and p.file == path.name
    assert "locked cells are not as this run wrote them" in p.message
    assert "the return is not used" in p.message
    _written(tmp_path)
    assert "not as this run wrote them" in read_returns([tmp_path], config, "2024-10",
                                                        b"another key").problems[0].message
    assert _read(tmp_path, config).problems == []


def test_the_runs_key_is_made_once_and_kept(tmp_path: Path) -> None:
    key = return_key(tmp_path)
    assert key is not None and len(key) == 32 and return_key(tmp_path) == key
    assert (tmp_path / ".return-key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("name", "data"), [
    ("999-2024-10-return-o1.xlsx", b"PK\x03\x04 half a zip"),
    ("999-2024-10-return-o1.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 encrypted"),
], ids=["damaged", "password"])
def test_a_damaged_or_locked_return_is_refused_not_the_run(
        tmp_path: Path, config: Config, name: str, data: bytes) -> None:
    """Known as a return by its name (it cannot be opened to see its sheets): a finding,
    and it is not an export; a damaged export of another name still is one."""
    (tmp_path / name).write_bytes(data)
    (tmp_path / "scorecard.xlsx").write_bytes(data)
    (p,) = _read(tmp_path, config).problems
    assert (p.severity, p.file) == (Severity.ERROR, name)
    assert p.message.endswith("; the return is not used")
    assert ("damaged" if data.startswith(b"PK") else "password") in p.message
    files, _ = export_files(tmp_path)
    assert [f.name for f in files] == ["scorecard.xlsx"]


def test_every_file_of_a_returns_folder_not_read_is_said(tmp_path: Path,
                                                          config: Config) -> None:
    folder = tmp_path / "returns"
    _written(folder)
    (folder / "macro copy.xlsm").write_bytes(b"PK")
    (folder / "notes.txt").write_text("x")
    (folder / "broken.xlsx").write_bytes(b"not a zip")
    (folder / "sub").mkdir()
    got = read_returns([tmp_path / "exports", folder], config, "2024-10", KEY)
    said = {p.file: (p.severity, p.message) for p in got.problems}
    assert set(said) == {"macro copy.xlsm", "notes.txt", "broken.xlsx", "sub"}
    assert said["broken.xlsx"][0] is Severity.ERROR and "damaged" in said["broken.xlsx"][1]
    assert said["notes.txt"] == (Severity.WARNING, "in the returns folder but not an .xlsx "
                                 "workbook: not read as a return")


def test_a_date_in_the_future_is_a_fault(tmp_path: Path, config: Config) -> None:
    """Commentary written, an action done and a deep dive closed after the run's day (the
    try-out's 2031, 2030 and 2099): each a fault naming its cell; a due date may be ahead."""
    path = _written(tmp_path)
    _fill(path, {("Commentary", "H2"): "Text.", ("Commentary", "J2"): datetime(2031, 5, 5),
                 ("Deep dives", "F2"): datetime(2099, 1, 1),
                 ("Actions", "E2"): datetime(2030, 1, 1),
                 ("Actions", "D2"): datetime(2030, 1, 1)})
    got = read_returns([tmp_path], config, "2024-10", KEY, date(2024, 11, 10))
    assert sorted(p.column or "" for p in got.problems) == [
        "sheet 'Actions', cell E2", "sheet 'Commentary', cell J2", "sheet 'Deep dives', cell F2"]
    assert "expected a date on or before today (2024-11-10), found 2031-05-05" in {
        p.message for p in got.problems}
    assert got.commentary == [] and got.deep_dives == []


def test_every_fault_in_a_row_is_said_not_only_the_first(tmp_path: Path,
                                                         config: Config) -> None:
    """The try-out's row: a formula, a date that is not one, text over the limit and a
    changed locked cell, all in one commentary row: four findings, not one a run."""
    path = _written(tmp_path)
    _fill(path, {("Commentary", "H2"): "=A2&B2", ("Commentary", "J2"): "next week",
                 ("Commentary", "I2"): "X" * 201, ("Commentary", "D2"): "1.0%"})
    got = _read(tmp_path, config)
    assert sorted(p.column or "" for p in got.problems) == [
        f"sheet 'Commentary', cell {c}2" for c in "DHIJ"]
    assert got.commentary == []
