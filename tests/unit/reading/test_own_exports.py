"""A council's own exports, as they come, by configuration alone (issue 15): markers, one bad
cell withholding one figure, two sources of one figure, scorecard columns, money, and past
gaps, each on the realistic month in tests/own_exports.py, through the real pipeline."""

from __future__ import annotations

import datetime as dt
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup

from tasks.checking.reconcile import agree
from tasks.delivering.notify import plan_notices
from tasks.presenting.context import build_context
from tasks.presenting.render import render_html
from tasks.reading.ingest import parse_money, read_exports
from tasks.reading.problems import CELL, DISAGREE, DUPLICATE, Problem, Severity
from tasks.reading.sources import Sources, markers
from tasks.run.analysis import compare_with_history
from tasks.run.inputs import Inputs, validate_exports
from tasks.run.papers import edition_figures
from tasks.settings.config import ConfigError, Unit
from tasks.settings.formatting import Edition, fmt_change, fmt_value
from tasks.store.history import MemoryHistoryStore
from tests.own_exports import CYCLE, INDICATORS, SOURCES, write_council

NOW = date(2024, 11, 1)
GENERATED = dt.datetime(2024, 11, 5, 9, 30).astimezone()


def validate(config: Path, exports: Path, **kw: Any) -> Inputs:
    return validate_exports(config, exports, CYCLE, today=NOW, **kw)


def lines(problems: list[Problem]) -> str:
    return "\n".join(p.as_line() for p in problems)


def find(problems: list[Problem], severity: Severity, text: str) -> Problem:
    hits = [p for p in problems if p.severity is severity and text in p.message]
    assert len(hits) == 1, f"{severity.value} {text!r} in:\n{lines(problems)}"
    return hits[0]


@pytest.fixture
def council(tmp_path: Path) -> tuple[Path, Path]:
    return write_council(tmp_path)


def used(inputs: Inputs) -> pd.Series:
    return inputs.records.set_index(["indicator", "period"])["value"]


# --- Markers -------------------------------------------------------------------------------

def test_markers_are_missing_with_their_reason_and_never_zero(
        council: tuple[Path, Path]) -> None:
    inputs = validate(*council)
    assert inputs.ok
    v = used(inputs)
    assert pd.isna(v[("WF03", "2023-12")]) and pd.isna(v[("WF03", "2024-04")])
    assert pd.isna(v[("YJ03", "2024-01")]) and pd.isna(v[("ED03", "2024-10")])
    # Each gap said once, where it is, with the marker as written.
    p = find(inputs.problems, Severity.INFO, "WF03 in April 2024 is given as 'N/A'")
    assert (p.file, p.row, p.column) == ("scorecard_2024-10.xlsx", 10, "K (Apr 24)")
    find(inputs.problems, Severity.INFO, "YJ03 in January 2024 is given as '-' (not available)")
    blank = find(inputs.problems, Severity.WARNING, "ED03 in October 2024 has no value")
    assert blank.column == "Q (Oct 24)"  # a blank at the row's right-hand end is a cell too


def test_gaps_outside_the_chart_window_are_not_listed(council: tuple[Path, Path]) -> None:
    config, exports = council
    brf = yaml.safe_load((config / "briefing.yaml").read_text())
    brf["rules"] = {"chart_periods": 7}  # April to October 2024
    (config / "briefing.yaml").write_text(yaml.safe_dump(brf))
    found = lines(validate(config, exports).problems)
    assert "WF03 in April 2024" in found
    assert "WF03 in December 2023" not in found and "YJ03 in January 2024" not in found


def test_missing_adds_and_removes_markers(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("indicator,period,value\nA,2024-10,tbc\nB,2024-10,-\n"
                                    "C,2024-10,n/a\n")
    sources = Sources.model_validate({"sources": [{
        "name": "x", "files": "x.csv", "layout": "long",
        "missing": {"add": ["TBC"], "remove": ["-"]}}]})
    ing = read_exports(tmp_path, sources)
    reasons = dict(zip(ing.records["indicator"], ing.records["reason"], strict=True))
    assert reasons["A"] == "tbc" and reasons["C"] == "n/a"
    bad = [p for p in ing.problems if p.severity is Severity.ERROR]
    assert [(p.row, p.kind) for p in bad] == [(3, CELL)]  # '-' means something here
    assert "tbc" in markers(sources.sources[0].missing)
    with pytest.raises(ValueError, match="not among the default markers"):
        Sources.model_validate({"sources": [{"name": "x", "files": "x", "layout": "long",
                                             "missing": {"remove": ["none"]}}]})


# --- One bad cell withholds one figure -------------------------------------------------------

def paper(inputs: Inputs, store: MemoryHistoryStore | None = None
          ) -> tuple[dict[Edition, str], list[Any]]:
    analysed = compare_with_history(inputs, store or MemoryHistoryStore())
    contexts = {e: build_context(inputs.config, edition_figures(inputs, analysed, e),
                                 inputs.cycle) for e in Edition}
    texts = {e: BeautifulSoup(render_html(c), "html.parser").get_text(" ")
             for e, c in contexts.items()}
    return texts, plan_notices(inputs.config, contexts)


def test_one_bad_cell_withholds_one_figure_and_the_paper_goes_on(
        council: tuple[Path, Path]) -> None:
    inputs = validate(*council)
    where = "scorecard_2024-10.xlsx, row 6, column 'Q (Oct 24)'"
    assert inputs.ok and inputs.withheld == {("FD01", "2024-10"): where}
    assert ("FD01", "2024-10") not in used(inputs).index  # never stored
    assert used(inputs)[("FD01", "2024-09")] == 95.3  # the rest of its row is
    error = find(inputs.problems, Severity.ERROR, "found '#DIV/0!'")
    assert error.kind == CELL and (error.indicator, error.period) == ("FD01", "2024-10")
    assert error.message.endswith("; FD01 October 2024 withheld: error in the source")
    # The restricted edition, the owner's email and the console say what the cell held and
    # what was expected, in validate's words; the public edition names the place alone.
    said = f"{where}: expected a number such as 52 or 52%, found '#DIV/0!'"
    assert inputs.withheld_detail == {("FD01", "2024-10"): said}
    texts, notices = paper(inputs)
    for edition, text in texts.items():
        flat = " ".join(text.split())
        shown = said if edition is Edition.RESTRICTED else where
        assert f"Withheld: error in the source ({shown})" in flat
        # The public edition names the place, never the cell (its numbers may be small).
        assert ("#DIV/0!" in text) == (edition is Edition.RESTRICTED)
    owner = next(n for n in notices if n.to == "front.door@example.gov.uk")
    assert owner.indicators == ["FD01"] and said in " ".join(owner.text.split())


def test_a_withheld_figure_hides_the_one_stored_earlier(council: tuple[Path, Path]) -> None:
    """A re-run after a bad correction must not show the earlier figure as if current."""
    store = MemoryHistoryStore()
    store.commit_cycle("998", CYCLE, pd.DataFrame([{
        "indicator": "FD01", "period": "2024-10", "value": 97.0, "numerator": None,
        "denominator": None}]), pd.DataFrame(), ["earlier.xlsx"])
    inputs = validate(*council)
    analysed = compare_with_history(inputs, store)
    row = analysed.analysis.set_index("code").loc["FD01"]
    assert pd.isna(row["value"]) and analysed.revisions.empty


def test_strict_refuses_everything(council: tuple[Path, Path]) -> None:
    config, exports = council
    assert not validate(config, exports, strict=True).ok
    brf = yaml.safe_load((config / "briefing.yaml").read_text())
    brf["rules"] = {"strict": True}
    (config / "briefing.yaml").write_text(yaml.safe_dump(brf))
    assert not validate(config, exports).ok
    assert validate(config, exports, strict=False).ok


def test_an_error_about_a_whole_file_still_stops_the_run(council: tuple[Path, Path]) -> None:
    config, exports = council
    (exports / "mosaic_2024-10.csv").write_text("Measure,Month,Value\nCL01,2024-10,51.9\n")
    inputs = validate(config, exports)
    assert not inputs.ok
    find(inputs.problems, Severity.ERROR, "no header row with the columns Measure, Month, "
                                          "Result")


# --- Two sources, one figure -----------------------------------------------------------------

def test_two_sources_agree_at_the_less_precise_ones_precision(
        council: tuple[Path, Path]) -> None:
    inputs = validate(*council)
    rec = inputs.records.set_index(["indicator", "period"]).loc[("CL01", "2024-10")]
    assert (rec["value"], rec["numerator"], rec["denominator"]) == (51.9, 54, 104)
    p = find(inputs.problems, Severity.INFO, "CL01 2024-10 is given more than once with "
                                             "values that agree at 0 decimal places")
    assert p.kind == DUPLICATE and "it has numerator and denominator" in p.message
    assert "scorecard_2024-10.xlsx row 8: 52" in p.message


def test_priority_says_which_source_is_used(council: tuple[Path, Path]) -> None:
    config, exports = council
    sources = yaml.safe_load((config / "sources.yaml").read_text())
    sources["sources"][0]["priority"] = 1  # the scorecard is the published figure
    (config / "sources.yaml").write_text(yaml.safe_dump(sources))
    assert used(validate(config, exports))[("CL01", "2024-10")] == 52.0


def test_a_real_disagreement_names_both_files_and_values(tmp_path: Path) -> None:
    config, exports = write_council(tmp_path, mosaic="Measure,Month,Result,Num,Den\n"
                                                     "CL01,2024-10,49.5,51,103\n")
    inputs = validate(config, exports)
    p = find(inputs.problems, Severity.WARNING, "the sources disagree")
    assert p.kind == DISAGREE and p.period == "2024-10"
    assert "mosaic_2024-10.csv row 2: 49.5" in p.message
    assert "scorecard_2024-10.xlsx row 8: 52" in p.message
    assert used(inputs)[("CL01", "2024-10")] == 49.5  # the one with its counts
    texts, _ = paper(inputs)
    public = " ".join(texts[Edition.PUBLIC].split())
    assert "mosaic_2024-10.csv and scorecard_2024-10.xlsx give different figures" in public
    assert "49.5" not in public.split("Data-quality findings")[1]


def test_a_disagreement_nothing_settles_withholds_the_figure(tmp_path: Path) -> None:
    config, exports = write_council(tmp_path, mosaic="Measure,Month,Result\n"
                                                     "CL01,2024-10,49.5\n")
    inputs = validate(config, exports)
    p = find(inputs.problems, Severity.ERROR, "neither source has priority")
    assert p.kind == CELL and ("CL01", "2024-10") in inputs.withheld and inputs.ok


def test_a_figure_that_may_be_small_is_not_discussed_in_public(tmp_path: Path) -> None:
    """Whether two sources agree rests on the figures: about 1 to 5 children, the finding
    stays in the restricted edition."""
    sources = yaml.safe_load(yaml.safe_dump(SOURCES))
    sources["sources"][1]["priority"] = 1
    config, exports = write_council(tmp_path, mosaic="Measure,Month,Result\nYJ03,2024-10,3\n",
                                    sources=sources)
    inputs = validate(config, exports)
    p = find(inputs.problems, Severity.WARNING, "YJ03 in October 2024: the sources disagree")
    assert p.small
    texts, _ = paper(inputs)
    assert "YJ03 in October 2024" in texts[Edition.RESTRICTED]
    assert "YJ03 in October 2024" not in texts[Edition.PUBLIC]


@pytest.mark.parametrize(("a", "b", "same"), [
    (52, 51.9, True), (52, 52.4, True), (52, 52.5, False), (51.9, 51.94, True),
    (51.9, 51.96, False), (3, 3.0, True), (15.2, 15.25, False), (15.2, 15.24, True),
])
def test_agreement_at_precision(a: float, b: float, same: bool) -> None:
    assert agree(a, b) is same and agree(b, a) is same


# --- Scorecard metadata ----------------------------------------------------------------------

def test_scorecard_target_and_polarity_columns(council: tuple[Path, Path]) -> None:
    inputs = validate(*council)
    ing = read_exports(council[1], Sources.model_validate(SOURCES), "998")
    meta = ing.metadata
    assert (meta["FD01"].title, meta["FD01"].target, meta["FD01"].polarity) == (
        "Contacts decided in 1 day", "95%", "Higher is better")
    assert meta["CL01"].section == "Care leavers" and meta["WF03"].section == "Workforce"
    p = find(inputs.problems, Severity.WARNING, "WF03: the scorecard's target says '15'")
    assert (p.row, p.column) == (10, "Target")
    assert not [p for p in inputs.problems if "FD01: the scorecard" in p.message]


def test_a_named_metadata_column_that_is_not_there_is_an_error(
        council: tuple[Path, Path]) -> None:
    config, exports = council
    sources = yaml.safe_load((config / "sources.yaml").read_text())
    sources["sources"][0]["target_column"] = "Target 2024/25"
    (config / "sources.yaml").write_text(yaml.safe_dump(sources))
    inputs = validate(config, exports)
    assert not inputs.ok
    find(inputs.problems, Severity.ERROR, "no column headed 'Target 2024/25'")


# --- Money and decimals ----------------------------------------------------------------------

def test_a_money_indicator(council: tuple[Path, Path]) -> None:
    inputs = validate(*council)
    assert used(inputs)[("FN01", "2024-10")] == 5400.0
    texts, _ = paper(inputs)
    text = " ".join(texts[Edition.PUBLIC].split())
    assert "£5,400" in text and "at most £5,500" in text and "+£25" in text


def test_pounds_on_an_indicator_that_is_not_money_is_a_cell_fault(tmp_path: Path) -> None:
    inds = [dict(i, unit="number") if i["code"] == "FN01" else i for i in INDICATORS]
    config, exports = write_council(tmp_path, indicators=inds)
    inputs = validate(config, exports)
    p = next(p for p in inputs.problems if "written as money" in p.message)
    assert p.kind == CELL and inputs.ok and ("FN01", "2024-10") in inputs.withheld


@pytest.mark.parametrize(("text", "out"), [
    ("£1,250", ("1,250", True)), ("-£30.50", ("-30.50", True)), ("£ 12", ("12", True)),
    ("1,250", ("1,250", False)), ("−£7", ("-7", True)),
])
def test_parse_money(text: str, out: tuple[str, bool]) -> None:
    assert parse_money(text) == out


def test_money_and_decimals_formats() -> None:
    assert fmt_value(Unit.MONEY, 5234.4) == "£5,234"
    assert fmt_value(Unit.MONEY, -250.0) == "−£250"
    assert fmt_value(Unit.MONEY, 5234.4, 2) == "£5,234.40"
    assert fmt_value(Unit.PERCENT, 52.04, 0) == "52%"
    assert fmt_value(Unit.RATE_PER_10K, 70.04, 2) == "70.04"
    assert fmt_change(Unit.MONEY, 25.0) == "+£25"
    assert fmt_change(Unit.PERCENT, 1.25, decimals=2) == "+1.25 pts"


def test_decimals_is_checked() -> None:
    from pydantic import ValidationError

    from tasks.settings.config import Indicator

    base = {k: v for k, v in INDICATORS[0].items() if k != "target"}
    assert Indicator.model_validate({**base, "decimals": 2}).decimals == 2
    with pytest.raises(ValidationError):
        Indicator.model_validate({**base, "decimals": 9})


def test_a_config_error_names_the_source_key(tmp_path: Path) -> None:
    config, exports = write_council(tmp_path, sources={"sources": [
        {"name": "s", "files": "*.csv", "layout": "long", "priorty": 2}]})
    with pytest.raises(ConfigError, match=r"sources.yaml.*priorty"):
        validate(config, exports)


def test_monthly_files_that_repeat_their_history_agree_quietly(tmp_path: Path) -> None:
    """A case system whose every monthly export repeats the year before: each figure is
    given up to 13 times and agrees; the appendix gets one line per file, not per figure."""
    from tasks.settings.periods import shift

    config, exports = write_council(tmp_path)
    for f in range(12):
        end = shift(CYCLE, -f)
        rows = "".join(f"YJ03,{shift(end, -k)},20\n" for k in range(13))
        (exports / f"mosaic_{end}.csv").write_text("Measure,Month,Result\n" + rows)
    (exports / "mosaic_2024-10.csv").write_text(
        "Measure,Month,Result\n" + "".join(f"YJ03,{shift(CYCLE, -k)},20\n" for k in range(13)))
    sources = yaml.safe_load((config / "sources.yaml").read_text())
    sources["sources"][0]["files"] = "nothing*.xlsx"  # the case system alone
    (config / "sources.yaml").write_text(yaml.safe_dump(sources))
    inputs = validate(config, exports)
    yj = inputs.records[inputs.records["indicator"] == "YJ03"]
    assert len(yj) == len(set(yj["period"])) and set(yj["value"]) == {20.0}
    repeats = [p for p in inputs.problems if p.kind == DUPLICATE]
    assert 0 < len(repeats) <= 12 and any(p.count > 1 for p in repeats)


def test_a_money_indicator_in_the_workbook_and_open_data(council: tuple[Path, Path]) -> None:
    import io

    from openpyxl import load_workbook

    from tasks.presenting.spreadsheets import briefing_workbook, open_data_csv

    inputs = validate(*council)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    figures = edition_figures(inputs, analysed, Edition.PUBLIC)
    wb = load_workbook(io.BytesIO(briefing_workbook(inputs.config, figures, CYCLE, GENERATED)))
    ws = wb["Indicators"]
    cells = [c for row in ws.iter_rows() for c in row if c.value == 5400]
    assert cells and "£" in cells[0].number_format
    assert "FN01" in open_data_csv(inputs.config, figures, CYCLE).decode("utf-8")


def test_a_record_with_its_denominator_is_preferred_to_one_without(tmp_path: Path) -> None:
    """Two files give the same percentage; one also gives its denominator, which is what
    tells the disclosure step how many children it could be about."""
    config, exports = write_council(tmp_path, mosaic="Measure,Month,Result,Num,Den\n"
                                                     "CL01,2024-10,52,,25\n")
    inputs = validate(config, exports)
    rec = inputs.records.set_index(["indicator", "period"]).loc[("CL01", "2024-10")]
    assert rec["denominator"] == 25 and pd.isna(rec["numerator"])  # 52% of 25: 13
    p = find(inputs.problems, Severity.INFO, "CL01 2024-10 is given more than once")
    assert p.message.endswith("mosaic_2024-10.csv row 2's is used (it has its denominator)")
