"""Breakdowns: parts that add up, and each part's contribution to the change."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.analysing.breakdowns import (
    Part,
    breakdown_for,
    check_breakdowns,
    decompose,
)
from tasks.delivering.summary import build_summary
from tasks.presenting.context import build_context
from tasks.presenting.render import render_html
from tasks.reading.problems import BREAKDOWN
from tasks.run.analysis import Analysed, compare_with_history
from tasks.run.inputs import Inputs, validate_exports
from tasks.run.papers import edition_figures
from tasks.settings.formatting import Edition
from tasks.store.history import MemoryHistoryStore
from tests.conftest import TODAY
from tests.factories import make_config

CONFIG = make_config([{"code": "P1", "unit": "percent"},
                      {"code": "C1", "unit": "count", "polarity": "lower_is_better"}])
IND = CONFIG.by_code()


def _parts(rows: list[tuple[str, str, str, float | None, float | None, float | None]]
           ) -> pd.DataFrame:
    return pd.DataFrame([{"indicator": i, "period": p, "breakdown": "Team", "part": n,
                          "value": v, "numerator": num, "denominator": den, "file": "t.csv",
                          "row": k + 2}
                         for k, (i, p, n, v, num, den) in enumerate(rows)])


def _totals(rows: list[tuple[str, str, float, float | None, float | None]]) -> pd.DataFrame:
    return pd.DataFrame([{"indicator": i, "period": p, "value": v, "numerator": n,
                          "denominator": d} for i, p, v, n, d in rows])


def test_contributions_sum_to_the_total_change_and_split_into_rate_and_size() -> None:
    before = (Part("North", 50.0, 30, 60), Part("South", 25.0, 10, 40))
    after = (Part("North", 40.0, 20, 50), Part("South", 30.0, 15, 50), Part("East", 50.0, 5, 10))
    out = decompose(IND["P1"], after, before)
    total_before, total_after = 100 * 40 / 100, 100 * 40 / 110
    assert sum(c.total for c in out) == pytest.approx(total_after - total_before, abs=1e-12)
    for c in out:
        assert c.numerator_effect + c.size_effect == pytest.approx(c.total, abs=1e-12)
    east = next(c for c in out if c.name == "East")  # new this period: all of it is its size
    assert east.numerator_effect == 0.0 and east.size_effect == pytest.approx(50 * 10 / 110)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(1, 60), st.integers(0, 40),
                          st.integers(1, 60)), min_size=1, max_size=6))
def test_contributions_always_sum_to_the_change(teams: list[tuple[int, int, int, int]]
                                                ) -> None:
    teams = [(min(n0, d0), d0, min(n1, d1), d1) for n0, d0, n1, d1 in teams]
    before = tuple(Part(f"T{i}", None, n0, d0) for i, (n0, d0, _, _) in enumerate(teams))
    after = tuple(Part(f"T{i}", None, n1, d1) for i, (_, _, n1, d1) in enumerate(teams))
    change = (100 * sum(t[2] for t in teams) / sum(t[3] for t in teams)
              - 100 * sum(t[0] for t in teams) / sum(t[1] for t in teams))
    assert sum(c.total for c in decompose(IND["P1"], after, before)) == pytest.approx(
        change, abs=1e-9)


def test_counts_contribute_their_own_change() -> None:
    out = decompose(IND["C1"], (Part("A", 7, None, None), Part("B", 3, None, None)),
                    (Part("A", 4, None, None), Part("B", 5, None, None)))
    assert [(c.name, c.total) for c in out] == [("A", 3.0), ("B", -2.0)]


def test_totals_that_do_not_add_up_are_a_finding_and_are_not_decomposed() -> None:
    parts = _parts([("P1", "2024-10", "North", 50.0, 30, 60),
                    ("P1", "2024-10", "South", 25.0, 10, 40),
                    ("C1", "2024-10", "A", 7, None, None), ("C1", "2024-10", "B", 3, None, None),
                    ("P1", "2024-09", "North", 50.0, 30, 60),
                    ("P1", "2024-09", "South", 25.0, 10, 40)])
    totals = _totals([("P1", "2024-10", 41.0, 41, 100), ("C1", "2024-10", 11, None, None),
                      ("P1", "2024-09", 40.0, 40, 100)])
    found = check_breakdowns(parts, totals, CONFIG)
    assert [(p.indicator, p.period, p.kind) for p in found] == [
        ("C1", "2024-10", BREAKDOWN), ("P1", "2024-10", BREAKDOWN)]
    assert "add up to 10, not the total 11" in found[0].message
    assert "numerators add up to 40, not the total's 41" in found[1].message
    b = breakdown_for(IND["P1"], parts, totals, "2024-10", "2024-09")
    assert b is not None and b.contributions == () and len(b.parts) == 2
    fixed = _totals([("P1", "2024-10", 40.0, 40, 100), ("P1", "2024-09", 40.0, 40, 100)])
    assert check_breakdowns(parts[parts["indicator"] == "P1"], fixed, CONFIG) == []
    b = breakdown_for(IND["P1"], parts, fixed, "2024-10", "2024-09")
    assert b is not None and len(b.contributions) == 2 and b.change == 0.0


def test_a_percentage_without_counts_cannot_be_checked() -> None:
    parts = _parts([("P1", "2024-10", "North", 50.0, None, 60)])
    found = check_breakdowns(parts, _totals([("P1", "2024-10", 50.0, 30, 60)]), CONFIG)
    assert len(found) == 1 and "a part has no numerator" in found[0].message


# --- the demo: read from the export, on the paper, in summary.json ----------------------------

@pytest.fixture(scope="module")
def demo_run() -> tuple[Inputs, Analysed]:
    inputs = validate_exports(Path("config"), Path("demo/exports"), "2024-10", today=TODAY)
    return inputs, compare_with_history(inputs, MemoryHistoryStore())


def test_the_demo_export_carries_team_breakdowns_that_add_up(
        demo_run: tuple[Inputs, Analysed]) -> None:
    inputs, _ = demo_run
    assert set(inputs.breakdowns["indicator"]) == {"CL01", "CP02", "LA02"}
    assert not [p for p in inputs.problems if p.kind == BREAKDOWN]
    # Team rows are parts, never the indicator's figure.
    assert inputs.records.set_index(["indicator", "period"]).loc[("CL01", "2024-10"),
                                                                   "value"] == 52.0


def _card(inputs: Inputs, analysed: Analysed, edition: Edition,
          code: str) -> BeautifulSoup:
    figures = edition_figures(inputs, analysed, edition)
    soup = BeautifulSoup(render_html(build_context(inputs.config, figures, inputs.cycle)),
                         "html.parser")
    card = soup.select_one(f"#exc-{code}")
    assert card is not None
    return card


def test_the_paper_shows_each_exceptions_breakdown_and_what_drove_it(
        demo_run: tuple[Inputs, Analysed]) -> None:
    inputs, analysed = demo_run
    card = _card(inputs, analysed, Edition.PUBLIC, "CL01")
    rows = [[c.get_text(strip=True) for c in tr.find_all(["th", "td"])]
            for tr in card.select("table.breakdown tbody tr")]
    assert rows == [["Leaving Care North", "58.6%", "54.5%", "+4.0 pts", "+2.3 pts", "+1.7 pts"],
                    ["Leaving Care South", "42.9%", "44.4%", "−2.0 pts", "−0.7 pts", "−1.3 pts"]]
    # LA02's East team has 4 children this month: the whole breakdown is restricted.
    public = _card(inputs, analysed, Edition.PUBLIC, "LA02")
    assert public.select_one("table.breakdown") is None
    note = public.select_one(".breakdown-note")
    assert note is not None and "not published" in note.get_text()
    restricted = _card(inputs, analysed, Edition.RESTRICTED, "LA02")
    assert "East" in restricted.select_one("table.breakdown").get_text()  # type: ignore[union-attr]


def test_summary_has_breakdowns_per_indicator(
        demo_run: tuple[Inputs, Analysed]) -> None:
    inputs, analysed = demo_run
    figures = edition_figures(inputs, analysed, Edition.RESTRICTED)
    summary = build_summary(inputs.config, figures.results, figures.problems, [],
                            inputs.cycle, pd.Timestamp("2024-11-05T09:30").to_pydatetime(),
                            analysed.revisions, figures.deep_dives, figures.breakdowns)
    by_code = {i.code: i.breakdown for i in summary.indicators}
    la02 = by_code["LA02"]
    assert la02 is not None and la02.breakdown == "Team" and len(la02.parts) == 3
    assert la02.change is not None
    assert sum(c.contribution for c in la02.contributions) == pytest.approx(la02.change)
    assert by_code["FD01"] is None


# --- breakdowns in a wide scorecard: a Team column, sub-rows under each total -------------------

SCORECARD = """Children's services scorecard,,,,
Code,Indicator,Team,Sep-24,Oct-24
C1,Children on a plan,,10,12
,,North,6,9
,,South,4,3
P1,Re-referrals,,40%,41%
,,North,45%,50%
,,South,35%,30%
"""


def _wide(tmp_path: Path, text: str = SCORECARD) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    from tasks.reading.ingest import read_exports
    from tasks.reading.sources import Sources, WideSource

    folder = tmp_path / "exports"
    folder.mkdir(exist_ok=True)
    (folder / "scorecard_2024-10.csv").write_text(text, encoding="utf-8")
    sources = Sources(sources=[WideSource(name="scorecard", files="scorecard_*.csv",
                                          layout="wide", indicator_column="Code",
                                          title_column="Indicator", breakdowns=["Team"])])
    got = read_exports(folder, sources)
    return got.records, got.breakdowns, [p.as_line() for p in got.problems]


def test_a_scorecards_sub_rows_are_parts_of_the_indicator_above(tmp_path: Path) -> None:
    records, parts, problems = _wide(tmp_path)
    assert not [p for p in problems if "Team" in p], problems  # not "column ignored"
    assert sorted(zip(records["indicator"], records["period"], records["value"],
                      strict=True)) == [("C1", "2024-09", 10.0), ("C1", "2024-10", 12.0),
                                        ("P1", "2024-09", 40.0), ("P1", "2024-10", 41.0)]
    got = sorted(zip(parts["indicator"], parts["period"], parts["part"], parts["value"],
                     strict=True))
    assert got[:4] == [("C1", "2024-09", "North", 6.0), ("C1", "2024-09", "South", 4.0),
                       ("C1", "2024-10", "North", 9.0), ("C1", "2024-10", "South", 3.0)]
    assert len(got) == 8 and set(parts["breakdown"]) == {"Team"}
    # Counts add up and are decomposed; a scorecard's rates alone cannot be, and say why.
    assert check_breakdowns(parts, records, CONFIG) == []
    count = breakdown_for(IND["C1"], parts, records, "2024-10", "2024-09")
    assert count is not None and count.change == 2.0
    assert sum(c.total for c in count.contributions) == pytest.approx(2.0)
    rate = breakdown_for(IND["P1"], parts, records, "2024-10", "2024-09")
    assert rate is not None and rate.contributions == () and len(rate.parts) == 2
    assert "rates without numerators and denominators" in rate.why_none


def test_a_scorecard_breakdown_that_does_not_add_up_is_a_finding(tmp_path: Path) -> None:
    records, parts, _ = _wide(tmp_path, SCORECARD.replace(",,South,4,3", ",,South,4,2"))
    found = check_breakdowns(parts, records, CONFIG)
    assert [(p.indicator, p.period) for p in found] == [("C1", "2024-10")]
    assert "add up to 11, not the total 12" in found[0].message


def test_a_part_with_nothing_above_it_and_a_bad_part_cell(tmp_path: Path) -> None:
    text = SCORECARD.replace("Code,Indicator,Team,Sep-24,Oct-24\n",
                             "Code,Indicator,Team,Sep-24,Oct-24\n,,East,1,2\n")
    text = text.replace(",,North,6,9", ",,North,6,nine")
    _, parts, problems = _wide(tmp_path, text)
    assert any("row 3, column 'Code'" in p and "no indicator code" in p for p in problems)
    assert any("row 5, column 'E (Oct 24)'" in p and "'nine'" in p for p in problems)
    assert "East" not in set(parts["part"])
    assert not ((parts["indicator"] == "C1") & (parts["part"] == "North")
                & (parts["period"] == "2024-10")).any()


def test_parts_of_a_file_refused_part_way_are_not_kept(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A file stopped at the row limit after some parts were read: its records are dropped,
    and so are its parts (nothing half-read is used)."""
    from tasks.reading.files import Limits
    from tasks.reading.ingest import read_exports
    from tasks.reading.sources import LongSource, Sources

    folder = tmp_path / "exports"
    folder.mkdir()
    rows = "".join(f"C1,2024-{m:02d},{10 + m},North\n" for m in range(1, 13))
    (folder / "cms.csv").write_text("indicator,period,value,team\n" + rows)
    sources = Sources(sources=[LongSource(name="cms", files="cms.csv", layout="long",
                                          breakdowns=["team"])])
    got = read_exports(folder, sources, limits=Limits(rows=5))
    assert any("more than 5 rows" in p.message for p in got.problems)
    assert got.records.empty and got.breakdowns.empty


# The same scorecard with its Team column to the right of the months.
TEAM_RIGHT = "\n".join(",".join([c[0], c[1], c[3], c[4], c[2]])
                       for c in (line.split(",") for line in SCORECARD.splitlines())) + "\n"


@pytest.mark.parametrize("text", [SCORECARD, TEAM_RIGHT], ids=["team-left", "team-right"])
def test_init_drafts_a_scorecards_breakdown_column(tmp_path: Path, text: str) -> None:
    """Found from outside: a Team column to the right of the months was not drafted, so
    the teams' rows were read as the indicator's own figures."""
    from tasks.drafting.draft import draft_config
    from tasks.reading.ingest import read_exports
    from tasks.reading.sources import WideSource, load_sources

    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "scorecard_2024-10.csv").write_text(text, encoding="utf-8")
    draft_config(folder, tmp_path / "draft")
    sources = load_sources(tmp_path / "draft")
    (wide,) = sources.sources
    assert isinstance(wide, WideSource) and wide.breakdowns == ["Team"]
    assert wide.indicator_column == "Code"
    got = read_exports(folder, sources)
    assert sorted(set(got.breakdowns["part"])) == ["North", "South"]
    c1 = got.records[(got.records["indicator"] == "C1")]
    assert dict(zip(c1["period"], c1["value"], strict=True)) == {"2024-09": 10.0,
                                                                 "2024-10": 12.0}


def test_parts_are_checked_as_their_totals_are() -> None:
    """Found from outside: a part given twice crashed the run at the store (a UNIQUE
    violation) after everything was rendered; impossible values, another council's row and
    an unknown code were used as parts. Each is now a finding naming the row, and the part
    is not used or stored."""
    from tasks.analysing.breakdowns import check_parts

    rows = [("C1", "2024-10", "North", 6.0, None, None),
            ("C1", "2024-10", "North", 6.0, None, None),
            ("C1", "2024-10", "South", -3.0, None, None),
            ("C1", "2024-10", "East", 2.5, None, None),
            ("P1", "2024-10", "North", 150.0, 30, 20), ("P1", "2024-10", "South", 40.0, 4, 10),
            ("ZZ99", "2024-10", "North", 1.0, None, None),
            ("C1", "2024-10", "West", 8.0, None, None)]
    parts = _parts(rows)
    parts["authority"] = [None] * 7 + ["888"]
    config = make_config([{"code": "P1", "unit": "percent"},
                          {"code": "C1", "unit": "count"}])
    kept, problems = check_parts(parts, config)
    assert sorted(zip(kept["indicator"], kept["part"], strict=True)) == [("P1", "South")]
    lines = [p.as_line() for p in problems]
    assert len(lines) == 6, lines  # the two copies of North: one finding
    assert any("row 2" in x and "given more than once (t.csv row 2; t.csv row 3)" in x
               for x in lines)
    assert any("-3 is negative" in x for x in lines)
    assert any("2.5 is not a whole number" in x for x in lines)
    assert any("150 is not a percentage" in x for x in lines)
    assert any("not in indicators.yaml" in x for x in lines)
    assert any("for authority '888'" in x for x in lines)
    # The public edition's wording quotes no cell.
    assert all(p.public and "150" not in p.public and "-3" not in p.public for p in problems)


def test_a_whole_row_and_a_heading_in_a_scorecard(tmp_path: Path) -> None:
    """`All teams` in the Team cell is the total, not a part; a team row under a section
    heading belongs to no indicator (it was filed under the heading's text)."""
    text = SCORECARD.replace("C1,Children on a plan,,10,12",
                             "C1,Children on a plan,All teams,10,12")
    text = text.replace("P1,Re-referrals,,40%,41%", "Education,,,,\n,,North,45%,50%\n"
                                                     "P1,Re-referrals,,40%,41%")
    records, parts, problems = _wide(tmp_path, text)
    assert ("C1", "2024-10") in set(zip(records["indicator"], records["period"], strict=True))
    assert "All teams" not in set(parts["part"]) and "Education" not in set(parts["indicator"])
    assert any("no indicator code" in p for p in problems)


def test_a_parts_sign_is_checked_against_its_unit(tmp_path: Path) -> None:
    """A team's count written as a percentage, or a rate written as money, is a fault in
    that part (as it is in a total), not a number used as it stands."""
    from tasks.analysing.breakdowns import check_parts

    text = SCORECARD.replace(",,North,6,9", ",,North,6%,9").replace(",,South,35%,30%",
                                                                    ",,South,£35,30%")
    _, parts, _ = _wide(tmp_path, text)
    config = make_config([{"code": "P1", "unit": "percent"},
                          {"code": "C1", "unit": "count"}])
    kept, problems = check_parts(parts, config)
    lines = [p.as_line() for p in problems]
    assert len(lines) == 2, lines
    assert any("row 4, column 'D (Sep 24)'" in x and "C1 2024-09, Team 'North': written as a "
               "percentage (%) but C1 is measured as a count" in x for x in lines), lines
    assert any("row 8, column 'D (Sep 24)'" in x and "written as money (£) but P1 is measured "
               "as a percent" in x for x in lines), lines
    used = set(zip(kept["indicator"], kept["period"], kept["part"], strict=True))
    assert ("C1", "2024-09", "North") not in used and ("C1", "2024-10", "North") in used
    assert ("P1", "2024-09", "South") not in used and ("P1", "2024-09", "North") in used


def test_a_row_of_figures_with_no_code_is_said_to_be_left(tmp_path: Path) -> None:
    """Found from outside: with no breakdown column named, a scorecard's team rows were
    dropped without a word. Figures that belong to no indicator are now a finding that
    names the rows and says what to do."""
    from tasks.reading.ingest import read_exports
    from tasks.reading.sources import Sources, WideSource

    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "scorecard_2024-10.csv").write_text(TEAM_RIGHT, encoding="utf-8")
    got = read_exports(folder, Sources(sources=[WideSource(
        name="scorecard", files="scorecard_*.csv", layout="wide", indicator_column="Code")]))
    (left,) = [p for p in got.problems if "no indicator code" in p.message]
    assert (left.file, left.row, left.column, left.count) == ("scorecard_2024-10.csv", 4,
                                                              "Code", 4)
    assert "breakdowns: in sources.yaml" in left.message
    assert set(got.records["indicator"]) == {"C1", "P1"}  # the totals are read as before


# --- found from outside (helper-15) ---------------------------------------------------------

def _demo_copy(tmp_path: Path) -> Path:
    import shutil

    exports = tmp_path / "exports"
    shutil.copytree("demo/exports", exports)
    return exports


def test_a_rerun_without_the_breakdown_file_shows_none_of_the_first_runs_parts(
        tmp_path: Path) -> None:
    """The store took a re-run's dropped parts away at commit, but the paper of that same
    re-run was built before, from the parts as stored: the old breakdown was printed once
    more. The paper and the store now follow one rule (merge_parts)."""
    from tasks.store.history import SqlHistoryStore

    exports = _demo_copy(tmp_path)
    store = SqlHistoryStore(f"sqlite:///{tmp_path / 'h.sqlite'}")
    first = validate_exports(Path("config"), exports, "2024-10", today=TODAY)
    analysed = compare_with_history(first, store)
    store.commit_cycle("999", "2024-10", first.records, analysed.revisions, first.files,
                       first.breakdowns)
    assert not store.parts("999").empty
    (exports / "mosaic_breakdowns_2024-10.csv").unlink()
    again = validate_exports(Path("config"), exports, "2024-10", today=TODAY)
    analysed = compare_with_history(again, store)
    # Nothing of the first run's file is left; the SSDA903's own Team column still breaks
    # CL01 down for the cycle (tasks.returns.reading.figure_parts).
    left = analysed.parts
    assert set(zip(left["indicator"], left["period"], strict=True)) == {("CL01", "2024-10")}
    card = _card(again, analysed, Edition.RESTRICTED, "LA02")
    assert card.select_one("table.breakdown") is None
    assert "East" not in card.get_text()


def _with_parts(tmp_path: Path, lines: str) -> Inputs:
    exports = _demo_copy(tmp_path)
    with (exports / "mosaic_breakdowns_2024-10.csv").open("a", encoding="utf-8") as f:
        f.write(lines)
    return validate_exports(Path("config"), exports, "2024-10", today=TODAY)


def test_a_fault_in_a_part_leaves_out_that_part_and_the_run_goes_on(tmp_path: Path) -> None:
    """A bad part stopped the whole run ("1 error(s) in the exports; nothing was stored"),
    and a bad number in a part was said in public to withhold the whole figure, which was
    printed all the same. Now the part alone is left out, and the finding says so."""
    inputs = _with_parts(tmp_path, "LA06,2024-10,East,6%,,,999\n"
                                   "CL01,2024-07,Leaving Care East,<3,,,999\n")
    assert inputs.ok
    found = {p.row: p for p in inputs.problems if p.kind == BREAKDOWN}
    assert set(found) >= {26, 27}, [p.as_line() for p in inputs.problems]
    assert "written as a percentage (%) but LA06 is measured as a count" in found[26].message
    assert "Team 'Leaving Care East'" in found[27].message
    assert found[27].column == "Value" and "this part is not used" in found[27].message
    assert all("withheld" not in str(p.public) and "<3" not in str(p.public)
               for p in found.values())
    assert {("CL01", "2024-07"), ("LA06", "2024-10")}.isdisjoint(inputs.withheld)
    strict = validate_exports(Path("config"), tmp_path / "exports", "2024-10",
                                       strict=True, today=TODAY)
    assert not strict.ok  # a strict run still stops for it


@pytest.mark.parametrize("cell", ["4%", "4 %", "£4%"])
def test_a_numerator_written_as_a_percentage_is_a_fault(tmp_path: Path, cell: str) -> None:
    """A numerator or denominator is a number of children; one written with a % was read
    as the number before it, in a part and in a total alike."""
    inputs = _with_parts(tmp_path, f"CL01,2024-10,Leaving Care East,50%,{cell},8,999\n"
                                   f"CL01,2024-10,,50%,{cell},8,999\n")
    by_row = {p.row: p.as_line() for p in inputs.problems
              if p.file == "mosaic_breakdowns_2024-10.csv"}
    assert "column 'Numerator'" in by_row[26] and "not a percentage" in by_row[26], by_row
    assert "this part is not used" in by_row[26]
    assert "column 'Numerator'" in by_row[27] and "not a percentage" in by_row[27], by_row
    parts = inputs.breakdowns
    assert "Leaving Care East" not in set(parts["part"])


def test_a_whole_service_row_with_no_code_is_said_and_the_teams_below_still_count(
        tmp_path: Path) -> None:
    """An `All teams` row with a blank code was taken for a heading: skipped without a
    word, and the team rows below it were cut off from their indicator."""
    text = SCORECARD.replace(",,North,6,9", ",,All teams,4,5\n,,North,6,9")
    records, parts, problems = _wide(tmp_path, text)
    assert any("row 4" in p and "'All teams' row with no indicator code under C1" in p
               for p in problems), problems
    c1 = parts[parts["indicator"] == "C1"]
    assert sorted(set(c1["part"])) == ["North", "South"]
    assert records.set_index(["indicator", "period"]).loc[("C1", "2024-10"), "value"] == 12.0
    # Under a heading, with the Team column named: no hint to name it again.
    _, _, problems = _wide(tmp_path, SCORECARD.replace(",,North,6,9", "Plans,,,,\n,,All teams,4,5"))
    (left,) = [p for p in problems if "figures under the months" in p]
    assert "row 5" in left and "breakdowns:" not in left and "to belong to" in left, left


def test_a_rate_per_10k_by_area_is_published_only_with_its_counts() -> None:
    """Found from outside: a scorecard's rates per 10,000 by locality, with no counts, were
    published; with the localities' published populations a reader turns a rate back into
    a count, which may be 1 to 5. Such a breakdown is now left out of the public edition
    unless every part gives its count (which is then checked as any count is)."""
    from tasks.editions.disclosure import small_breakdowns

    config = make_config([{"code": "R1", "unit": "rate_per_10k"}])
    totals = _totals([("R1", "2024-10", 40.0, None, None)])  # a scorecard's: a rate alone
    rates_alone = _parts([("R1", "2024-10", "North", 35.0, None, None),
                          ("R1", "2024-10", "South", 45.0, None, None)])
    with_counts = _parts([("R1", "2024-10", "North", 35.0, 50, None),
                          ("R1", "2024-10", "South", 45.0, 70, None)])
    a_small_one = _parts([("R1", "2024-10", "North", 2.0, 3, None),
                          ("R1", "2024-10", "South", 45.0, 117, None)])
    assert small_breakdowns(rates_alone, totals, config) == {("R1", "2024-10")}
    counted = _totals([("R1", "2024-10", 40.0, 120, None)])
    assert small_breakdowns(with_counts, counted, config) == set()
    assert small_breakdowns(a_small_one, counted, config) == {("R1", "2024-10")}
