"""Linked indicators (issue 23): the catalogue's links checked at load, and the public
edition's decisions across them, worked by hand. Pure: no files but the config's, no store.

Each case gives the hidden figure every value 1 to 5 and checks that the same figures are
hidden, over the same ranges, every time, and that the figure which would give it away by
differencing is among them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from tasks.checking.small_numbers import is_small
from tasks.editions.disclosure import hidden_bounds, revision_problems
from tasks.editions.linked import with_denominators
from tasks.settings.config import ConfigError, load_config
from tests.factories import make_config, make_history

SMALL = (1, 2, 3, 4, 5)
COUNT = {"unit": "count", "polarity": "lower_is_better"}


def catalogue(**links: dict[str, Any]) -> list[dict[str, Any]]:
    """M (a monthly count) and whichever linked indicators are named, as codes."""
    out = [{"code": "M", **COUNT}]
    out += [{"code": code, **COUNT, **extra} for code, extra in links.items()]
    return out


def hidden(series: dict[str, list[float | None]], inds: list[dict[str, Any]],
           end: str = "2024-10", carried: set[tuple[str, str]] | None = None
           ) -> dict[tuple[str, str], tuple[float, float]]:
    """The public edition's hidden figures and their ranges."""
    b = hidden_bounds(make_history(series, end), make_config(inds), carried)
    return {(r.indicator, r.period): (round(r.lo, 6), round(r.hi, 6))
            for r in b.itertuples(index=False)}


def same_for_every_h(make: Any) -> dict[tuple[str, str], tuple[float, float]]:
    """make(h) -> hidden(...); asserts it is the same for h = 1 to 5, and gives it."""
    seen = [make(h) for h in SMALL]
    for h, got in zip(SMALL[1:], seen[1:], strict=True):
        assert got == seen[0], f"h = 1 and h = {h} hide differently: {seen[0]} / {got}"
    return seen[0]


YTD = catalogue(Y={"year_to_date_of": "M"})


def test_a_year_to_date_beside_its_month_hides_from_the_hidden_month_on() -> None:
    """August 10, September h, October 12 (the year from April): the year to date for
    September and October holds h; August's does not. September's lies in 1 to 5 above
    August's (40)."""
    def make(h: int) -> dict[tuple[str, str], tuple[float, float]]:
        months: list[float | None] = [6.0, 8.0, 7.0, 9.0, 10.0, float(h), 12.0]  # April on
        ytd: list[float | None] = [sum(x or 0.0 for x in months[:k + 1])
                                   for k in range(len(months))]
        return hidden({"M": months, "Y": ytd}, YTD)
    got = same_for_every_h(make)
    assert set(got) == {("M", "2024-09"), ("Y", "2024-09"), ("Y", "2024-10")}
    assert got[("Y", "2024-09")] == (41.0, 45.0)  # 40 + 1 to 40 + 5
    assert got[("Y", "2024-10")] == (53.0, 57.0)


def test_a_year_to_date_alone_gives_its_month_by_differencing() -> None:
    """The issue's probe: only the year to date is exported; October's less September's is
    h. October's is hidden, September's (40) is not."""
    got = same_for_every_h(lambda h: hidden({"Y": [30.0, 40.0, 40.0 + h]}, YTD))
    assert got == {("Y", "2024-10"): (41.0, 45.0)}
    # ... and a difference of 6 or more, or 0, gives nothing away.
    assert hidden({"Y": [30.0, 40.0, 46.0]}, YTD) == {}
    assert hidden({"Y": [30.0, 40.0, 40.0]}, YTD) == {}


def test_a_figure_worked_out_on_the_way_gives_nothing_away() -> None:
    """September's year to date marked c and its month not exported: October's year to date
    less October's month is September's (40 + h), and that less August's (40) is h. October's
    year to date is hidden, 1 to 5 above August's plus October's month."""
    def make(h: int) -> dict[tuple[str, str], tuple[float, float]]:
        history = make_history({"M": [12.0], "Y": [40.0, None, 52.0 + h]}, "2024-10")
        b = hidden_bounds(history, make_config(YTD))
        return {(r.indicator, r.period): (r.lo, r.hi) for r in b.itertuples(index=False)}
    got = same_for_every_h(make)
    assert got == {("Y", "2024-10"): (53.0, 57.0)}


def test_the_year_to_date_starts_again_in_april() -> None:
    """April's year to date is April's month: March's hidden month is not in it."""
    got = hidden({"M": [9.0, 3.0, 8.0], "Y": [200.0, 203.0, 8.0]}, YTD, end="2024-04")
    assert ("Y", "2024-04") not in got
    assert {("M", "2024-03"), ("Y", "2024-03")} <= set(got)


def test_a_total_hides_with_a_hidden_part_or_one_its_other_parts_give_away() -> None:
    inds = [{"code": "A", **COUNT}, {"code": "B", **COUNT},
            {"code": "T", **COUNT, "sum_of": ["A", "B"]}]
    got = same_for_every_h(lambda h: hidden({"A": [float(h)], "B": [30.0],
                                             "T": [30.0 + h]}, inds))
    assert got == {("A", "2024-10"): (1.0, 5.0), ("T", "2024-10"): (31.0, 35.0)}
    # A left out (or marked c): the total less B is h.
    got = same_for_every_h(lambda h: hidden({"A": [None], "B": [30.0], "T": [30.0 + h]},
                                            inds))
    assert got == {("T", "2024-10"): (31.0, 35.0)}
    # Parts that fall short of their total by 1 to 5 (a total from an earlier run): the
    # shortfall is children.
    got = same_for_every_h(lambda h: hidden({"A": [20.0], "B": [30.0], "T": [50.0 + h]},
                                            inds))
    assert set(got) == {("T", "2024-10")}
    assert hidden({"A": [20.0], "B": [30.0], "T": [50.0]}, inds) == {}


def test_a_quarter_and_rolling_12_months_give_away_their_missing_month() -> None:
    # July 20, August 25, September left out: the quarter less them is h.
    got = same_for_every_h(_quarter)
    assert got == {("Q", "2024-Q3"): (46.0, 50.0)}
    rolling = catalogue(R={"rolling_12_months_of": "M"})
    # R(October) - R(September) = M(October) - M(October 2023): 12 published, so h shows.
    got = same_for_every_h(lambda h: hidden(
        {"M": [12.0] + [None] * 12, "R": [None] * 11 + [100.0, 88.0 + h]}, rolling))
    assert got == {("R", "2024-10"): (89.0, 93.0)}


def _quarter(h: int) -> dict[tuple[str, str], tuple[float, float]]:
    quarter = catalogue(Q={"quarter_of": "M", "frequency": "quarterly"})
    history = pd.concat([make_history({"M": [20.0, 25.0]}, "2024-08"),
                         make_history({"Q": [45.0 + h]}, "2024-Q3")])
    b = hidden_bounds(history, make_config(quarter))
    return {(r.indicator, r.period): (r.lo, r.hi) for r in b.itertuples(index=False)}


def test_a_percentage_takes_its_denominator_from_the_linked_count() -> None:
    """"3%" given alone beside a published 100 cases is 3 children: small. Without the
    link it counts nobody and is published."""
    inds = [{"code": "D", **COUNT}, {"code": "P", "unit": "percent",
                                     "denominator_from": "D"}]
    records = pd.DataFrame([
        {"indicator": "D", "period": "2024-10", "value": 100.0, "numerator": math.nan,
         "denominator": math.nan},
        {"indicator": "P", "period": "2024-10", "value": 3.0, "numerator": math.nan,
         "denominator": math.nan}])
    filled = with_denominators(records, make_config(inds))
    assert list(filled["denominator"].fillna(0)) == [0.0, 100.0]
    p = filled.iloc[1]
    assert is_small(make_config(inds).by_code()["P"].unit, p.value, None, p.denominator)
    assert not is_small(make_config(inds).by_code()["P"].unit, 3.0, None, None)


def test_a_percentage_over_a_hidden_denominator_is_hidden_over_any_value() -> None:
    """D's October (a year to date) holds a hidden month: P's value over it moves with
    h, and how small P looks would too. P is hidden over 0 to 100 whatever h is."""
    inds = [*catalogue(D={"year_to_date_of": "M"}),
            {"code": "P", "unit": "percent", "denominator_from": "D"}]

    def make(h: int) -> dict[tuple[str, str], tuple[float, float]]:
        history = make_history({"M": [20.0, float(h)], "D": [90.0, 90.0 + h],
                                "P": [30.0, 100 * 30 / (90 + h)]}, "2024-10")
        history["numerator"] = [math.nan] * 4 + [27.0, 30.0]
        history = with_denominators(history, make_config(inds))
        b = hidden_bounds(history, make_config(inds))
        return {(r.indicator, r.period): (r.lo, r.hi) for r in b.itertuples(index=False)}
    got = same_for_every_h(make)
    assert got[("P", "2024-10")] == (0.0, 100.0)


def test_a_linked_figure_an_earlier_run_hid_stays_hidden_from_the_store() -> None:
    """September's year to date held September's hidden month; October's export revises
    the month but gives no year to date for September: the stored one is what September's
    run hid."""
    got = hidden({"M": [20.0, 20.0], "Y": [40.0, 60.0]}, YTD, carried={("Y", "2024-09")})
    assert ("Y", "2024-09") in got and ("Y", "2024-10") in got
    assert hidden({"M": [20.0, 20.0], "Y": [40.0, 60.0]}, YTD) == {}
    # Only linked indicators' figures are carried.
    assert hidden({"M": [20.0]}, catalogue(), carried={("M", "2024-10")}) == {}


def test_a_revision_of_a_hidden_linked_figure_is_not_listed_in_public() -> None:
    cfg = make_config(YTD)
    revisions = pd.DataFrame([{"indicator": "Y", "period": "2024-09", "old_value": 43.0,
                               "new_value": 60.0}])
    shown = revision_problems(revisions, "2024-10", cfg, public=True,
                              hidden={("Y", "2024-09")})
    assert shown == []
    assert len(revision_problems(revisions, "2024-10", cfg, public=True)) == 1


# --- Links checked at load --------------------------------------------------------------

def write(folder: Path, inds: list[dict[str, Any]]) -> Path:
    cfg = make_config([{"code": "M", **COUNT}]).model_dump(mode="json")
    base = cfg["indicators"][0]
    (folder / "indicators.yaml").write_text(
        yaml.safe_dump([{**base, **i} for i in inds]), encoding="utf-8")
    for name in ("owners", "briefing"):
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(cfg[name]), encoding="utf-8")
    return folder


@pytest.mark.parametrize(("inds", "said"), [
    ([{"code": "Y", "year_to_date_of": "M9"}], "Y.year_to_date_of: 'M9' is not an indicator"),
    ([{"code": "M"}, {"code": "Y", "year_to_date_of": "M", "unit": "percent"}],
     "Y.year_to_date_of: links of totals are between counts of children; found percent"),
    ([{"code": "M"}, {"code": "Y", "quarter_of": "M"}],
     "Y.quarter_of: expected a quarterly indicator of a monthly one; found monthly"),
    ([{"code": "M"}, {"code": "P", "unit": "count", "denominator_from": "M"}],
     "P.denominator_from: a percent or rate_per_10k takes its denominator from a count"),
    ([{"code": "A", "sum_of": ["B", "C"]}, {"code": "B", "year_to_date_of": "A"},
      {"code": "C"}], "its links go round in a cycle: A -> B -> A"),
    ([{"code": "A", "sum_of": ["A", "B"]}, {"code": "B"}],
     "A.sum_of: an indicator cannot be linked to itself"),
    ([{"code": "A", "sum_of": ["B"]}, {"code": "B"}], "A.sum_of: expected two or more"),
])
def test_links_are_checked_at_load(tmp_path: Path, inds: list[dict[str, Any]],
                                   said: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, inds))
    assert str(err.value).startswith(f"{tmp_path / 'indicators.yaml'}: "), err.value
    assert said in str(err.value), err.value


def test_a_good_catalogue_of_links_loads(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, [
        {"code": "M"}, {"code": "Y", "year_to_date_of": "M"},
        {"code": "Q", "quarter_of": "M", "frequency": "quarterly"},
        {"code": "R", "rolling_12_months_of": "M"}, {"code": "T", "sum_of": ["M", "Y"]},
        {"code": "P", "unit": "percent", "denominator_from": "T"}]))
    assert cfg.by_code()["T"].links() == {"sum_of": ["M", "Y"]}


# --- validate warns of figures that look related; init drafts links from titles -----------

def test_titles_that_name_a_total_draft_a_link() -> None:
    from tasks.editions.linked import drafted_links

    assert drafted_links({
        "REF": "New referrals", "REF_YTD": "New referrals (year to date)",
        "REF12": "New referrals - rolling 12 months", "X": "Re-referrals YTD",
        "Y": "Young people in custody"}) == {
        "REF_YTD": ("year_to_date_of", "REF"), "REF12": ("rolling_12_months_of", "REF"),
        "X": ("year_to_date_of", None)}


def test_validate_warns_of_a_running_total_that_is_not_linked() -> None:
    """Y is M's year to date (reset in April) under a title that does not say so; Z rises
    all year but is below M in some months. Only Y is named; linked, nothing is."""
    from tasks.editions.disclosure import public_problems
    from tasks.editions.linked import LOOKALIKE, lookalikes

    months: list[float | None] = [5.0, 7.0, 6.0, 9.0, 8.0, 4.0, 10.0]  # April to October
    ytd: list[float | None] = [sum(x or 0.0 for x in months[:k + 1]) for k in range(7)]
    history = make_history({"M": months, "Y": ytd,
                            "Z": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]}, "2024-10")
    plain = [{"code": c, **COUNT, "title": f"Measure {c}"} for c in ("M", "Y", "Z")]
    (said,) = lookalikes(make_config(plain), history)
    assert said.indicator == "Y" and said.kind == LOOKALIKE
    assert "year_to_date_of: M" in said.message and said.file == "indicators.yaml"
    linked = [*plain[:1], {**plain[1], "year_to_date_of": "M"}, plain[2]]
    assert lookalikes(make_config(linked), history) == []
    titled = [*plain[:2], {**plain[2], "title": "Measure Z, rolling 12 months"}]
    assert [p.indicator for p in lookalikes(make_config(titled), history)] == ["Y", "Z"]
    # Restricted: whether figures behave like a running total rests on them.
    assert public_problems([said], pd.DataFrame(), make_config(plain), "2024-10", history,
                           set())[:-1] == []


def test_init_drafts_the_links_its_titles_show(tmp_path: Path) -> None:
    from tasks.drafting.draft import draft_config

    exports = tmp_path / "exports"
    exports.mkdir()
    months = [f"2024-{m:02d}" for m in range(4, 11)]
    rows = [f"REF,New referrals,{p},{10 + i}" for i, p in enumerate(months)]
    rows += [f"REF_YTD,New referrals (year to date),{p},{sum(range(10, 11 + i))}"
             for i, p in enumerate(months)]
    (exports / "cms_2024-10.csv").write_text(
        "indicator,title,period,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    draft_config(exports, tmp_path / "draft")
    text = (tmp_path / "draft" / "indicators.yaml").read_text(encoding="utf-8")
    assert "  year_to_date_of: REF  # drafted from the titles: check it" in text
