"""Issue 24's bounds: output that cannot be forged, figures the paper can draw, a report date
that makes sense, and limits a council can read (catalogue, findings, email size)."""

from __future__ import annotations

import math
import shutil
import sys
import time
from dataclasses import replace
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from hypothesis import given
from hypothesis import strategies as st

from flows.cli import main
from tasks.adapters.mail import OutboxMailer
from tasks.delivering.notify import BREACH, Notice, build_message, deliver
from tasks.presenting.charts import SPARK, WIDE, nice_ticks, trend_chart
from tasks.presenting.context import build_context
from tasks.presenting.render import render_html
from tasks.presenting.spreadsheets import DATA_QUALITY, briefing_workbook, read_cells, rounded
from tasks.reading.display import shown
from tasks.reading.problems import CELL, blocking
from tasks.run.analysis import compare_with_history
from tasks.run.inputs import validate_exports
from tasks.run.papers import dates_for, edition_figures
from tasks.settings.config import Config, ConfigError, Unit, load_config
from tasks.settings.formatting import NO_DATA, Edition, fmt_change, fmt_value
from tasks.store.history import MemoryHistoryStore
from tests.conftest import DEMO_CONFIG, DEMO_CYCLE, DEMO_EXPORTS, TODAY

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
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    figures = edition_figures(inputs, analysed, Edition.RESTRICTED)
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

    assert dates_for(load_config(DEMO_CONFIG), "2024-10",
                              date(2026, 10, 31)).report == date(2026, 10, 31)
    with pytest.raises(ValueError, match="report_date 2204-11-20 is not a date"):
        dates_for(load_config(DEMO_CONFIG), "2024-10", date(2204, 11, 20))


MONEY = """
- code: MN01
  title: Placement overspend
  service_area: Finance
  unit: money
  polarity: lower_is_better
  owner: head_cla
  definition: Spend on placements above budget, in pounds.
"""


def _config_with(tmp_path: Path, extra: str) -> Path:
    """The demo's config with `extra` YAML appended to its catalogue."""
    config = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, config)
    (config / "deep_dives.yaml").unlink(missing_ok=True)
    with (config / "indicators.yaml").open("a", encoding="utf-8") as fh:
        fh.write(extra)
    return config


def test_money_near_1e308_is_a_finding_in_validate_that_withholds_it(tmp_path: Path) -> None:
    """Probe: money figures near ±1e308 passed validate, then the run crashed in the chart's
    tick arithmetic (OverflowError), exit 1, no paper. Now each is an error in its cell
    (file, row, column, what was found and expected) withholding that figure, and the
    paper's context (where the charts are drawn) is built."""
    config = _config_with(tmp_path, MONEY)
    big = f"{1e308:.0f}"
    rows = "".join(f"MN01,2024-{m:02d},{'-' if m % 2 else ''}{big},,,999\n" for m in range(1, 10))
    _export(tmp_path / "exports", "money.csv",
            rows + "MN01,2024-10,5400,,,999\nFD01,2024-10,95,,,999\n")
    inputs = validate_exports(config, tmp_path / "exports", DEMO_CYCLE, today=TODAY)
    found = [p for p in inputs.problems if p.indicator == "MN01"]
    assert len(found) == 9 and all(p.kind == CELL and p.file == "money.csv" and
                                   p.column == "value" for p in found)
    assert found[0].row == 2 and found[0].message.startswith(
        "-1e+308 is beyond what a money figure can be: expected −£1,000,000,000,000 to "
        "£1,000,000,000,000 for MN01")
    assert {("MN01", f"2024-{m:02d}") for m in range(1, 10)} <= set(inputs.withheld)
    assert not blocking(inputs.problems)  # the paper goes on without them
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    figures = edition_figures(inputs, analysed, Edition.RESTRICTED)
    ctx = build_context(inputs.config, figures, DEMO_CYCLE)
    view = next(v for a in ctx.areas for v in a.indicators if v.code == "MN01")
    assert view.value == "£5,400"


@pytest.mark.parametrize(("column", "cell"), [("numerator", 2e9), ("denominator", 1e300)])
def test_counts_beyond_their_ceiling_are_findings(tmp_path: Path, column: str,
                                                  cell: float) -> None:
    num, den = (f"{cell:.0f}", "") if column == "numerator" else ("", f"{cell:.0f}")
    _export(tmp_path / "exports", "counts.csv", f"FD01,{DEMO_CYCLE},95,{num},{den},999\n")
    inputs = validate_exports(DEMO_CONFIG, tmp_path / "exports", DEMO_CYCLE,
                                       today=TODAY)
    p = next(p for p in inputs.problems if p.indicator == "FD01" and p.column == column)
    assert f"is more than a {column} can be: expected 0 to 1,000,000,000" in p.message
    assert ("FD01", DEMO_CYCLE) in inputs.withheld


@pytest.mark.parametrize(("unit", "target"), [("money", -2e12), ("count", 1e308),
                                              ("days", 1e6), ("number", 1e300)])
def test_a_target_beyond_its_unit_is_a_config_error(tmp_path: Path, unit: str,
                                                    target: float) -> None:
    config = _config_with(tmp_path, MONEY.replace("unit: money", f"unit: {unit}")
                          + f"  target: {target!r}\n")
    with pytest.raises(ConfigError, match=r"indicators.yaml: 1 problem\(s\): at \d+: target "
                                          r"\S+ is beyond what a \w+ figure can be: expected"):
        load_config(config)


def test_a_chart_of_figures_near_the_largest_float_is_finite() -> None:
    """The chart itself (not only validate) survives any finite figures: the probe's ticks
    overflowed in `hi - lo` and `10 ** log10(...)`."""
    top = sys.float_info.max
    pts: list[tuple[str, float | None]] = [
        (f"2024-{m:02d}", (-1) ** m * top) for m in range(1, 11)]
    pts += [("2024-11", math.inf), ("2024-12", 5.0)]
    for size in (WIDE, SPARK):
        chart = trend_chart("Spend", pts, -top, "", "A chart", size,
                            spc=(0.0, -math.inf, math.inf), whole=True)
        coords = ([p.x for s in chart.segments for p in s] + [p.y for s in chart.segments
                                                              for p in s]
                  + [t.at for t in chart.y_ticks] + [chart.target_y or 0.0])
        assert all(math.isfinite(c) for c in coords)
        assert chart.limits is None  # limits from no finite number are not drawn
        assert len(chart.segments[-1]) == 1  # the infinite figure is a gap
    assert [t.label for t in trend_chart("x", [("2024-01", top), ("2024-02", 1e12)], None,
                                         "", "").y_ticks][-1] == "1.8e+308"


@given(st.floats(allow_nan=False, allow_infinity=False),
       st.floats(allow_nan=False, allow_infinity=False), st.booleans())
def test_nice_ticks_are_finite_and_cover_any_finite_range(a: float, b: float,
                                                          whole: bool) -> None:
    lo, hi = min(a, b), max(a, b)
    ticks = nice_ticks(lo, hi, 4, whole)
    assert 2 <= len(ticks) <= 1000 and all(math.isfinite(t) for t in ticks)
    slack = 1e-8 * max(abs(lo), abs(hi), 1.0)  # the ticks' own rounding tolerance
    assert ticks == sorted(ticks) and ticks[0] <= lo + slack and ticks[-1] >= hi - slack


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_no_figure_is_printed_for_a_non_finite_number(value: float) -> None:
    assert fmt_value(Unit.MONEY, value) == NO_DATA
    assert fmt_change(Unit.MONEY, value) == NO_DATA
    assert rounded(Unit.MONEY, value) is None


def test_a_catalogue_of_10000_indicators_is_refused_quickly_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Probe: 10,000 indicators validated in 38 s, then a run rendered for over 15 min and
    4.6 GB. Now validate refuses them before parsing the catalogue: exit 2, one line."""
    entry = ("- code: BIG{:05d}\n  title: Indicator {}\n  service_area: Area\n  unit: count\n"
             "  polarity: lower_is_better\n  owner: head_cla\n  definition: Generated.\n")
    config = _config_with(tmp_path, "")
    (config / "indicators.yaml").write_text("".join(entry.format(i, i) for i in range(10_000)),
                                            encoding="utf-8")
    started = time.monotonic()
    assert main(["validate", "--config", str(config), "--exports", str(DEMO_EXPORTS)]) == 2
    assert time.monotonic() - started < 5
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"Error: {config / 'indicators.yaml'}: 10,000 indicators; at most 300 in one "
                   "catalogue (limits.indicators in briefing.yaml, default 300, up to 1,000): a "
                   "paper of more is more than a committee can read and takes a run minutes "
                   "and gigabytes; split the catalogue, or raise the limit"]


def test_the_indicator_limit_is_configurable_and_checked_in_the_model(tmp_path: Path) -> None:
    config = _config_with(tmp_path, "")
    with (config / "briefing.yaml").open("a", encoding="utf-8") as fh:
        fh.write("limits:\n  indicators: 20\n")
    with pytest.raises(ConfigError, match=r"indicators.yaml: 3\d indicators; at most 20 in"):
        load_config(config)
    with (config / "briefing.yaml").open("a", encoding="utf-8") as fh:
        fh.write("  findings_per_paper: 5\n")
    with pytest.raises(ConfigError, match=r"limits.findings_per_paper: Input should be greater "
                                          r"than or equal to 10"):
        load_config(config)
    cfg = load_config(DEMO_CONFIG)
    assert cfg.briefing.limits.indicators == 300
    with pytest.raises(ValueError, match="at most 5 in one catalogue"):
        cfg.model_validate({**cfg.model_dump(), "briefing": {
            **cfg.briefing.model_dump(), "limits": {"indicators": 5}}})


def test_5000_stray_files_give_a_bounded_paper_and_a_complete_workbook(tmp_path: Path) -> None:
    """Probe: 5,000 stray files in the exports folder gave a paper of 217 pages (and 2.2 MB
    owner emails). The paper prints the first 100 findings and one line for the rest; the
    workbook lists every one."""
    exports = tmp_path / "exports"
    _export(exports, "scorecard.csv", f"FD01,{DEMO_CYCLE},95,,,999\n")
    for i in range(5_000):
        (exports / f"notes-{i:04d}.txt").write_text("stray", encoding="utf-8")
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    figures = edition_figures(inputs, analysed, Edition.RESTRICTED)
    ctx = build_context(inputs.config, figures, DEMO_CYCLE)
    total = len(ctx.data_quality)
    assert total > 5_000
    appendix = BeautifulSoup(render_html(ctx), "html.parser").find(id="data-quality")
    assert isinstance(appendix, Tag)
    rows = appendix.select("table.dq tbody tr")
    assert len(rows) == 100
    more = appendix.select_one("p.dq-more")
    assert more is not None and more.get_text(" ", strip=True).startswith(
        f"{total - 100:,} more findings are not printed here (")
    assert "briefing-restricted.xlsx" in more.get_text() and f"lists all {total:,}" in \
        more.get_text()
    cells = read_cells(briefing_workbook(inputs.config, figures, DEMO_CYCLE,
                                         datetime(2024, 11, 5, 9, 30).astimezone()))
    assert len(cells[DATA_QUALITY]) == total + 1  # a heading and every finding


def _owner_notice(text: str = "Dear Martin,\n\nCL01 needs attention.\n") -> Notice:
    return Notice(BREACH, "head_cla", "martin.hughes@example.gov.uk", "Martin Hughes",
                  ["CL01", "CL02"], "Performance briefing October 2024: 2 indicators need "
                  "attention", text, f"<html><body><p>{text}</p></body></html>",
                  Edition.RESTRICTED)


def _limited(mib: float) -> Config:
    cfg = load_config(DEMO_CONFIG)
    limits = cfg.briefing.limits.model_copy(update={"email_mib": mib})
    return cfg.model_copy(update={"briefing": cfg.briefing.model_copy(
        update={"limits": limits})})


def test_an_owner_email_over_the_size_limit_goes_without_its_attachments(
        tmp_path: Path) -> None:
    """Probe: 1,000 indicators sent one owner a 17 MB email (5,000 stray files, 2.2 MB).
    Over limits.email_mib the message still reaches its owner, as sent through the real
    outbox, without attachments, saying which, why and where they are."""
    config = _limited(1)
    pdf = bytes(range(256)) * 6_000  # 1.5 MiB, 2 MiB encoded
    outbox = tmp_path / "outbox"
    done = deliver([_owner_notice()], config, {Edition.RESTRICTED: (pdf, "briefing.pdf")},
                   OutboxMailer(outbox), MemoryHistoryStore(), DEMO_CYCLE)
    assert [d.status for d in done] == ["sent"]
    (eml,) = outbox.iterdir()
    assert eml.stat().st_size <= 2**20
    msg = message_from_bytes(eml.read_bytes(), policy=default)
    assert isinstance(msg, EmailMessage)
    assert not list(msg.iter_attachments())
    body = msg.get_body(("plain",))
    assert body is not None
    text = " ".join(body.get_content().split())
    assert "CL01 needs attention." in text
    assert ("with its attachments (briefing.pdf), more than the 1 MiB one email may be "
            "(limits.email_mib in briefing.yaml), so they are not attached") in text
    html = msg.get_body(("html",))
    assert html is not None and "limits.email_mib" in html.get_content()


def test_an_owner_email_whose_own_text_is_over_the_limit_is_summarised() -> None:
    config = _limited(1)
    msg = build_message(_owner_notice("A line about one breach.\n" * 60_000), config)
    assert len(msg.as_bytes()) <= 2**20 and msg.get_body(("html",)) is None
    body = msg.get_body(("plain",))
    assert body is not None
    assert "Indicators (2): CL01, CL02." in body.get_content()
    assert "more than the 1 MiB one email may be" in body.get_content()


def test_an_email_within_the_limit_is_untouched() -> None:
    msg = build_message(_owner_notice(), _limited(10), b"%PDF-1.7 small", "briefing.pdf")
    assert [a.get_filename() for a in msg.iter_attachments()] == ["briefing.pdf"]


def test_a_usage_error_shows_an_escape_sequence_escaped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An exports folder named with a terminal escape and a newline: one line, escaped."""
    missing = tmp_path / "ex\x1b[2Jports\nERROR: x"
    assert main(["validate", "--config", str(DEMO_CONFIG), "--exports", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 1 and "ex<U+001B>[2Jports" in err


def test_team_names_in_a_papers_breakdown_are_escaped() -> None:
    """Team names come from the exports' breakdown column: shown escaped in the paper."""
    from tasks.analysing.breakdowns import Breakdown, Contribution, Part
    from tasks.presenting.context import _breakdown_view

    ind = load_config(DEMO_CONFIG).by_code()["FD01"]
    parts = (Part(f"{RLO}htroN", 90.0, 9.0, 10.0), Part("South\nEast", 100.0, 10.0, 10.0))
    b = Breakdown("FD01", "Team\u2066", DEMO_CYCLE, "2024-09", parts, parts, 0.0,
                  tuple(Contribution(p.name, p.value, p.value, 0.0, 0.0, 0.0) for p in parts))
    view = _breakdown_view(ind, b)
    assert view is not None
    assert [r.name for r in view.rows] == ["<U+202E>htroN", "South\\nEast"]
    assert view.caption == "By team<U+2066>, October 2024"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy says where it overflowed
def test_figures_beyond_the_limits_from_a_store_still_give_both_papers() -> None:
    """Figures validate would refuse, as a history stored before the limits holds them:
    changes, SPC, disclosure, charts, tables and workbooks all survive, and no paper prints
    'inf' or 'nan' (the chart's arithmetic was the crash; the rest is checked too)."""
    inputs = validate_exports(DEMO_CONFIG, DEMO_EXPORTS, DEMO_CYCLE, today=TODAY)
    records = inputs.records.copy()
    chosen = records["indicator"].isin(["CL01", "FD02"])
    top = sys.float_info.max
    records.loc[chosen, "value"] = [top if i % 2 else -top for i in range(int(chosen.sum()))]
    records.loc[chosen, ["numerator", "denominator"]] = math.nan
    inputs = replace(inputs, records=records)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    for edition in Edition:
        figures = edition_figures(inputs, analysed, edition)
        ctx = build_context(inputs.config, figures, DEMO_CYCLE)
        words = BeautifulSoup(render_html(ctx), "html.parser").get_text(" ").split()
        assert not {w.strip(".,;:()£%").lower() for w in words} & {"inf", "-inf", "nan"}
        cells = read_cells(briefing_workbook(inputs.config, figures, DEMO_CYCLE,
                                             datetime(2024, 11, 5, 9, 30).astimezone()))
        assert not [c for s in cells.values() for r in s for c in r
                    if isinstance(c, float) and not math.isfinite(c)]


def test_a_figure_beyond_what_a_worksheet_cell_holds_is_no_figure_there() -> None:
    assert rounded(Unit.RATE_PER_10K, -sys.float_info.max) is None
    assert rounded(Unit.MONEY, 9.9e307) == 9.9e307
    assert rounded(Unit.PERCENT, 52.345) == 52.3
