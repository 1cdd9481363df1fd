"""Published (explore-education-statistics) files beyond the reporting year: an academic-year
table, time identifiers mapped to period kinds, and a denominator in a "Total" row."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.analysing.results import Rating
from tasks.reading.problems import Severity
from tasks.reading.time_identifiers import TimeIdentifierError, ees_period, kind_of
from tasks.run.analysis import compare_with_history
from tasks.run.inputs import validate_exports
from tasks.run.papers import edition_figures
from tasks.settings.formatting import Edition
from tasks.settings.periods import Frequency
from tasks.store.history import MemoryHistoryStore
from tests.factories import make_config

GEO = "time_period,time_identifier,geographic_level,country_code,country_name,region_code," \
      "region_name,old_la_code,new_la_code,la_name"
AREAS = [("National", "", "", "", "", ""),
         ("Regional", "E12000009", "South West", "", "", ""),
         ("Local authority", "E12000009", "South West", "998", "E06000998", "Testshire"),
         ("Local authority", "E12000009", "South West", "879", "E06000026", "Plymouth"),
         ("Local authority", "E12000009", "South West", "878", "E10000008", "Devon")]


def _geo(year: str, ident: str, area: tuple[str, ...]) -> str:
    level, rcode, rname, la, new, name = area
    return f"{year},{ident},{level},E92000001,England,{rcode},{rname},{la},{new},{name}"


def absence_file(path: Path) -> None:
    """Persistent absence of children looked after by academic year, as DfE's 'Outcomes
    for children in need, including children looked after' publishes it, with the autumn
    term of 2023/24 in the same file."""
    rows = [GEO + ",social_care_group,pupils,persistent_absentees,persistent_absence_percent"]
    base = {"202122": 26.0, "202223": 24.0, "202324": 22.5}
    for year, pct in base.items():
        for k, area in enumerate(AREAS):
            pupils = [58000, 4200, 310, 420, 760][k]
            for group, shift_ in (("CLA", 0.0), ("CINO", 9.0)):
                p = pct + shift_ + k * 0.7
                rows.append(f"{_geo(year, 'Academic year', area)},{group},{pupils},"
                            f"{round(pupils * p / 100)},{p:.1f}")
    rows.append(f"{_geo('202324', 'Autumn term', AREAS[2])},CLA,305,61,20.0")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def config_dir(folder: Path, sources: dict[str, Any], ind: dict[str, Any],
               code: str = "998") -> Path:
    cfg = make_config([ind]).model_dump(mode="json")
    cfg["briefing"]["authority"] = {"name": "Testshire", "code": code}
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("indicators", "owners", "briefing"):
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(cfg[name]))
    (folder / "sources.yaml").write_text(yaml.safe_dump(sources))
    return folder


ED01 = {"code": "ED01", "title": "Persistent absence of children looked after",
        "unit": "percent", "polarity": "lower_is_better", "target": 20.0,
        "frequency": "annual"}


def absence_sources(where: dict[str, str]) -> dict[str, Any]:
    return {"sources": [{"name": "Outcomes for children in need: absence",
                         "files": "outcomes_cin_absence_*.csv", "layout": "dfe",
                         "measures": [{"indicator": "ED01",
                                       "value": "persistent_absence_percent",
                                       "numerator": "persistent_absentees",
                                       "denominator": "pupils", "where": where}]}]}


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    absence_file(folder / "outcomes_cin_absence_2022_to_2024.csv")
    return folder


def test_an_academic_year_file(tmp_path: Path, exports: Path) -> None:
    config = config_dir(tmp_path / "config", absence_sources(
        {"social_care_group": "CLA", "time_identifier": "Academic year"}), ED01)
    inputs = validate_exports(config, exports, today=date(2025, 11, 1))
    assert inputs.ok, [p.as_line() for p in inputs.problems]
    # Academic year 2023/24 ends in 2024: it is the annual period 2024.
    assert inputs.cycle == "2024"
    got = inputs.records.set_index("period")
    assert list(got.index) == ["2022", "2023", "2024"]
    assert (got.loc["2024", "value"], got.loc["2024", "numerator"],
            got.loc["2024", "denominator"]) == (23.9, 74, 310)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    b = analysed.benchmarks.set_index("code").loc["ED01"]
    assert b["england"] == 22.5 and b["region"] == 23.2 and (b["rank"], b["of"]) == (1, 3)


def test_a_term_among_the_rows_is_refused_by_name(tmp_path: Path, exports: Path) -> None:
    config = config_dir(tmp_path / "config", absence_sources({"social_care_group": "CLA"}),
                        ED01)
    inputs = validate_exports(config, exports, today=date(2025, 11, 1))
    assert not inputs.ok
    (p,) = [p for p in inputs.problems if p.severity is Severity.ERROR]
    assert (p.column, p.row) == ("time_identifier", 32)
    assert "'Autumn term' is a school term" in p.message and "where:" in p.message


def test_time_identifiers_are_checked_against_the_frequency(tmp_path: Path,
                                                            exports: Path) -> None:
    config = config_dir(tmp_path / "config", absence_sources(
        {"social_care_group": "CLA", "time_identifier": "Academic year"}),
        {**ED01, "frequency": "monthly"})
    inputs = validate_exports(config, exports, today=date(2025, 11, 1))
    assert not inputs.ok
    (p,) = [p for p in inputs.problems if p.severity is Severity.ERROR]
    assert "ED01 is reported monthly (indicators.yaml frequency), but its rows here have " \
           "annual time identifiers (Academic year)" in p.message


@pytest.mark.parametrize(("ident", "period", "want", "kind"), [
    ("Reporting year", "2025", "2025", Frequency.ANNUAL),
    ("Calendar year", "2024", "2024", Frequency.ANNUAL),
    ("Financial year", "202425", "2025", Frequency.ANNUAL),
    ("Academic year", "202324", "2024", Frequency.ANNUAL),
    ("Tax year", "202425", "2025", Frequency.ANNUAL),
    ("Calendar year Q3", "2024", "2024-Q3", Frequency.QUARTERLY),
    ("Financial year Q1", "202425", "2024-Q2", Frequency.QUARTERLY),
    ("Financial year Q4", "202425", "2025-Q1", Frequency.QUARTERLY),
    ("October", "2024", "2024-10", Frequency.MONTHLY),
    ("january", "2025", "2025-01", Frequency.MONTHLY),
])
def test_every_time_identifier_local_authority_tables_use(ident: str, period: str, want: str,
                                                          kind: Frequency) -> None:
    assert ees_period(ident, period) == want and kind_of(ident) is kind


@pytest.mark.parametrize(("ident", "period", "why"), [
    ("Autumn term", "202324", "a school term"), ("Spring term", "202324", "a school term"),
    ("Week 12", "2024", "a week"), ("Academic year Q1", "202324", "does not line up"),
    ("Calendar year Q1-2", "2024", "several quarters"),
    ("Up until 31st March", "2024", "not a year"),
    ("Academic year", "2023", "six-digit"), ("Financial year", "202426", "six-digit"),
    ("Reporting year", "202425", "not a year such as 2025"),
])
def test_time_identifiers_with_no_period_kind(ident: str, period: str, why: str) -> None:
    with pytest.raises(TimeIdentifierError, match=why):
        ees_period(ident, period)


# --- A denominator in a "Total" row ---------------------------------------------------------

def placement_file(path: Path, own_count: int) -> None:
    """Placement stability as DfE publishes it: each cla_group's total in its own row."""
    rows = [GEO + ",cla_group,placement_stability,children_count,children_percent"]
    for year in ("2023", "2024", "2025"):
        for k, area in enumerate(AREAS):
            total = [83630, 6120, 282, 520, 870][k]
            three = own_count if area[3] == "998" else [8360, 640, 0, 49, 91][k]
            rows.append(f"{_geo(year, 'Reporting year', area)},CLA on 31 March,"
                        f"Total children,{total},100")
            rows.append(f"{_geo(year, 'Reporting year', area)},CLA on 31 March,"
                        f"With 3 or more placements during the year,{three},"
                        f"{round(100 * three / total)}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def placement_sources(totals: bool) -> dict[str, Any]:
    measure: dict[str, Any] = {
        "indicator": "CLA_3PLUS", "value": "children_percent", "numerator": "children_count",
        "where": {"cla_group": "CLA on 31 March",
                  "placement_stability": "With 3 or more placements during the year"}}
    if totals:
        measure["denominator"] = {"column": "children_count",
                                  "where": {"placement_stability": "Total children"}}
    return {"sources": [{"name": "Placement stability", "files": "la_cla_*.csv",
                         "layout": "dfe", "measures": [measure]}]}


CLA_3PLUS = {"code": "CLA_3PLUS", "title": "Children looked after with 3 or more placements",
             "unit": "percent", "polarity": "lower_is_better", "target": 10.0,
             "tolerance": 1.0, "frequency": "annual"}


@pytest.mark.parametrize("totals", [True, False])
def test_a_totals_row_denominator_lets_the_public_edition_rate_a_small_figure(
        tmp_path: Path, totals: bool) -> None:
    """3 children of 282: hidden as `c`. Over its denominator, any of 1 to 5 children is
    under 2%, so "Green" is published; without one, 1 to 5 children could be any
    percentage, and the rating is not published."""
    exports = tmp_path / "exports"
    exports.mkdir()
    placement_file(exports / "la_cla_placement_stability.csv", 3)
    config = config_dir(tmp_path / "config", placement_sources(totals), CLA_3PLUS)
    inputs = validate_exports(config, exports, today=date(2025, 11, 1))
    assert inputs.ok, [p.as_line() for p in inputs.problems]
    rec = inputs.records.set_index("period").loc["2025"]
    assert rec["numerator"] == 3 and (rec["denominator"] == 282) == totals
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    public = edition_figures(inputs, analysed, Edition.PUBLIC).results[0]
    assert public.is_withheld("value")
    assert public.rag is (Rating.GREEN if totals else Rating.WITHHELD)


def test_a_totals_row_that_is_not_one_row_is_an_error(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    placement_file(exports / "la_cla_placement_stability.csv", 40)
    sources = placement_sources(True)
    # Without cla_group in its where, the total would be a row of any group: still one
    # here; a second group makes it ambiguous.
    path = exports / "la_cla_placement_stability.csv"
    extra = [line.replace("CLA on 31 March", "CLA 2 years on 31 March")
             for line in path.read_text().splitlines()[1:] if "Total children" in line]
    path.write_text(path.read_text() + "\n".join(extra) + "\n")
    del sources["sources"][0]["measures"][0]["where"]["cla_group"]
    config = config_dir(tmp_path / "config", sources, CLA_3PLUS)
    inputs = validate_exports(config, exports, today=date(2025, 11, 1))
    assert not inputs.ok
    (p,) = [p for p in inputs.problems if p.severity is Severity.ERROR]
    assert "picks 2 rows for England 2023 (rows 2, 32)" in p.message
    assert p.column == "children_count"
