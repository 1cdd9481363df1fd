"""Wide scorecards and long exports as analysts really save them, and mixed frequencies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tasks.analysing.compare import analyse
from tasks.reading.ingest import read_exports
from tasks.reading.sources import Sources
from tests.factories import make_config

WIDE = Sources.model_validate({"sources": [{"name": "w", "files": "wide*", "layout": "wide",
                                            "indicator_column": "Code"}]})


@pytest.mark.parametrize("months", [
    ["Sep-24", "Oct-24"], ["2024-09", "2024-10"], ["30/09/2024", "31/10/2024"],
    ["September 2024", "October 2024"], ["Sept 24", "Oct 24"],
])
def test_wide_csv_month_headings(tmp_path: Path, months: list[str]) -> None:
    text = ("Children's services scorecard,,,\r\n,,,\r\nCode,Indicator," + ",".join(months)
            + "\r\nFD01,Contacts decided in 1 day,95%,96.5%\r\nWF03,Caseload,15.5,15.1\r\n"
            ",,,\r\nSource: Mosaic,,,\r\n")
    (tmp_path / "wide.csv").write_bytes(text.encode("utf-8-sig"))
    ing = read_exports(tmp_path, WIDE)
    assert not ing.problems
    got = {(r.indicator, r.period): r.value for r in ing.records.itertuples()}
    assert got == {("FD01", "2024-09"): 95.0, ("FD01", "2024-10"): 96.5,
                   ("WF03", "2024-09"): 15.5, ("WF03", "2024-10"): 15.1}
    assert set(ing.records["row"]) == {4, 5}


def test_wide_csv_in_windows_1252(tmp_path: Path) -> None:
    text = "Scorecard – £ figures\r\nCode,Oct-24,Nov-24\r\nWF03,15.5,15.1\r\n"
    (tmp_path / "wide.csv").write_bytes(text.encode("cp1252"))
    ing = read_exports(tmp_path, WIDE)
    assert list(ing.records["value"]) == [15.5, 15.1]
    assert list(ing.records["column"]) == ["B (Oct 24)", "C (Nov 24)"]


def test_long_layout_with_renamed_columns_and_title_rows(tmp_path: Path) -> None:
    sources = Sources.model_validate({"sources": [{
        "name": "l", "files": "*.csv", "layout": "long",
        "columns": {"indicator": "Measure ID", "period": "Month", "value": "Result"}}]})
    (tmp_path / "x.csv").write_text("Report run 01/11/2024 09:00\n\nMeasure ID,Month,Result\n"
                                    "FD01,Oct-24,95.5%\n")
    ing = read_exports(tmp_path, sources)
    assert not ing.problems
    r = ing.records.iloc[0]
    assert (r["indicator"], r["period"], r["value"], r["row"]) == ("FD01", "2024-10", 95.5, 4)


def test_quarterly_and_annual_indicators_in_a_monthly_cycle() -> None:
    cfg = make_config([{"frequency": "monthly"}, {"frequency": "quarterly"},
                       {"frequency": "annual", "polarity": "lower_is_better"}])
    rows = [("X0", "2024-09", 60.0), ("X0", "2024-10", 61.0),
            ("X1", "2024-Q1", 70.0), ("X1", "2024-Q2", 65.0), ("X1", "2024-Q3", 60.0),
            ("X1", "2023-Q3", 75.0),
            ("X2", "2022", 10.0), ("X2", "2023", 12.0), ("X2", "2024", 14.0)]
    hist = pd.DataFrame([{"indicator": i, "period": p, "value": v, "numerator": None,
                          "denominator": None} for i, p, v in rows])
    a = analyse(hist, cfg, "2024-10").set_index("code")
    assert a.loc["X0", "period"] == "2024-10" and a.loc["X0", "previous_period"] == "2024-09"
    # October: the latest quarter to have ended is July to September.
    assert a.loc["X1", "period"] == "2024-Q3" and a.loc["X1", "previous"] == 65
    assert a.loc["X1", "year_ago"] == 75 and bool(a.loc["X1", "deep_dive"])
    # The reporting year to March 2024, worse two years running (lower is better).
    assert a.loc["X2", "period"] == "2024" and a.loc["X2", "consecutive_declines"] == 2
    assert a.loc["X2", "year_ago"] == 12
