"""Issue 24's bounds: output that cannot be forged, figures the paper can draw, a report date
that makes sense, and limits a council can read (catalogue, findings, email size)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from flows.cli import main
from tasks import pipeline
from tasks.display import shown
from tasks.formatting import Edition
from tasks.spreadsheets import DATA_QUALITY, briefing_workbook, read_cells
from tasks.store import MemoryHistoryStore
from tests.conftest import DEMO_CONFIG, DEMO_CYCLE, TODAY

HEADER = "indicator,period,value,numerator,denominator,authority\n"
RLO = "\u202e"


def _export(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(("raw", "seen"), [
    ("plain name.csv", "plain name.csv"),
    ("a\nb", "a\\nb"), ("a\r\nb", "a\\r\\nb"), ("tab\there", "tab\\there"),
    ("\x1b[31mred", "<U+001B>[31mred"), (f"{RLO}60AL", "<U+202E>60AL"),
    ("\u2066x\u2069", "<U+2066>x<U+2069>"), ("zero\u200bwidth", "zero<U+200B>width"),
    ("line\u2028sep", "line<U+2028>sep"), ("Café £5 – ok", "Café £5 – ok"),
])
def test_shown_escapes_controls_and_bidi_and_keeps_the_rest(raw: str, seen: str) -> None:
    assert shown(raw) == seen


def test_a_newline_in_a_file_name_cannot_forge_a_line_of_validate(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Probe: `x.csv\\nERROR: ...` printed a second, forged `ERROR:` line."""
    exports = tmp_path / "exports"
    _export(exports, "good.csv", f"FD01,{DEMO_CYCLE},95,,,999\n")
    _export(exports, "x\nERROR: forged.csv, row 1: all is lost.csv",
            f"FD01,{DEMO_CYCLE},banana,,,999\n")
    main(["validate", "--config", str(DEMO_CONFIG), "--exports", str(exports),
          "--cycle", DEMO_CYCLE])
    lines = capsys.readouterr().out.splitlines()
    assert not [line for line in lines if line.startswith("ERROR: forged")], lines
    escaped = [line for line in lines if "x\\nERROR: forged.csv" in line]
    assert escaped and escaped[0].startswith("ERROR: x\\nERROR: forged.csv"), lines


def test_a_right_to_left_override_in_a_code_is_escaped_in_the_workbook(tmp_path: Path) -> None:
    """Probe: an unknown code `<RLO>60AL` reached the restricted workbook raw, where it
    displays as "LA06"; so did a file name holding one."""
    exports = tmp_path / "exports"
    _export(exports, f"scorecard{RLO}vsc.csv",
            f"FD01,{DEMO_CYCLE},95,,,999\n{RLO}60AL,{DEMO_CYCLE},3,,,999\n")
    inputs = pipeline.validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    analysed = pipeline.compare_with_history(inputs, MemoryHistoryStore())
    figures = pipeline.edition_figures(inputs, analysed, Edition.RESTRICTED)
    cells = read_cells(briefing_workbook(inputs.config, figures, DEMO_CYCLE,
                                         datetime(2024, 11, 5, 9, 30).astimezone()))
    text = [str(c) for sheet in cells.values() for row in sheet for c in row if c is not None]
    assert not [t for t in text if RLO in t]
    dq = [[str(c) for c in row] for row in cells[DATA_QUALITY]]
    assert any("<U+202E>60AL" in row for row in dq), dq
    assert any("scorecard<U+202E>vsc.csv" in row for row in dq), dq


@pytest.mark.parametrize("given", ["9999-12-31", "2024-10-15", "2026-11-01"])
def test_a_report_date_out_of_range_is_refused_in_one_line(
        given: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Probe: `--report-date 9999-12-31` was accepted and printed on the cover. The demo's
    cycle (October 2024) takes a date from 1 November 2024 to 31 October 2026."""
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--report-date", given]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"Error: --report-date {given} is not a date for the paper on October "
                   "2024: expected 2024-11-01 (after the period ends) to 2026-10-31 (2 years "
                   "after it)"]
    assert not out.exists()


def test_a_report_date_in_range_is_accepted_and_checked_by_the_pipeline_too() -> None:
    from datetime import date

    assert pipeline.dates_for(pipeline.load_config(DEMO_CONFIG), "2024-10",
                              date(2026, 10, 31)).report == date(2026, 10, 31)
    with pytest.raises(ValueError, match="report_date 2204-11-20 is not a date"):
        pipeline.dates_for(pipeline.load_config(DEMO_CONFIG), "2024-10", date(2204, 11, 20))
