"""Nothing about a child can be worked out from the public edition: what it is made from.

The property over the pure stages (tests/disclosure_scenarios.py: 300 scenarios when CI
runs everything): the public edition's figures and the context its templates see are the
same whatever value 1 to 5 a hidden figure holds. Below it, the decisions themselves. The
rendered outputs (HTML, PDF, emails, workbook, open data) are compared on a sample in
tests/integration/test_public_outputs.py.
"""


from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.analysing.compare import analyse
from tasks.checking.small_numbers import children, is_small, possible_values
from tasks.editions.disclosure import (
    PUBLIC_DQ_NOTE,
    hidden_bounds,
    public_problems,
    revision_problems,
)
from tasks.reading.problems import JUMP, RATIO, Problem, Severity
from tasks.settings.config import Unit
from tasks.settings.periods import shift
from tasks.store.history import find_revisions
from tests.disclosure_scenarios import (
    CYCLE,
    EXAMPLES,
    SHARDS,
    SMALL,
    Scenario,
    assert_same_public_view,
    scenarios,
)
from tests.factories import make_config, make_history


@pytest.mark.parametrize("shard", range(SHARDS))
@settings(max_examples=EXAMPLES // SHARDS, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_public_figures_and_context_are_the_same_whatever_the_hidden_figure(
        shard: int, s: Scenario) -> None:
    assert_same_public_view(s)


# --- Unit tests of the decisions -----------------------------------------------------------

@pytest.mark.parametrize(("unit", "value", "num", "den", "small"), [
    (Unit.COUNT, 0.0, None, None, False),      # DfE publishes zeros
    (Unit.COUNT, 1.0, None, None, True),
    (Unit.COUNT, 5.0, None, None, True),
    (Unit.COUNT, 6.0, None, None, False),
    (Unit.PERCENT, 50.0, 3.0, 6.0, True),      # 3 of 6 children
    (Unit.PERCENT, 50.0, 6.0, 12.0, False),
    (Unit.PERCENT, 50.0, None, 8.0, True),     # blank numerator: 50% of 8 is 4
    (Unit.PERCENT, 75.0, None, 8.0, True),     # 6 of 8: the other 2 are children too
    (Unit.PERCENT, 75.0, 9.0, 12.0, True),     # 9 of 12: the 3 not, small
    (Unit.PERCENT, 95.0, 95.0, 100.0, True),   # all but 5 of 100
    (Unit.PERCENT, 94.0, 94.0, 100.0, False),  # all but 6
    (Unit.PERCENT, 100.0, 9.0, 9.0, False),    # all of them: a complement of 0
    (Unit.PERCENT, 33.3, None, 9.0, True),     # rounded: 3 of 9
    (Unit.PERCENT, 2.0, None, None, False),    # no count known and none printed
    (Unit.RATE_PER_10K, 1.2, 4.0, 33000.0, True),
    (Unit.RATE_PER_10K, 2.0, None, 20000.0, True),   # 4 children in 20,000
    (Unit.DAYS, 3.0, None, None, False),       # days are not children
    (Unit.NUMBER, 2.0, None, None, False),
])
def test_which_figures_are_small(unit: Unit, value: float, num: float | None,
                                 den: float | None, small: bool) -> None:
    assert is_small(unit, value, num, den) is small


def test_children_behind_a_figure() -> None:
    assert children(Unit.PERCENT, 25.0, 10.0, None) == (10.0, 10.0)
    # 25% of 40 written to whole numbers: anything from 24.5% to 25.5%, 9.8 to 10.2 children.
    lo, hi = children(Unit.PERCENT, 25.0, None, 40.0) or (0, 0)
    assert (round(lo, 6), round(hi, 6)) == (9.8, 10.2)
    assert children(Unit.COUNT, None) is None
    assert children(Unit.PERCENT, 25.0) is None


@pytest.mark.parametrize(("value", "den", "small"), [
    (5.0, 110.0, True),     # 5% of 110 written to whole numbers: 4.95 to 6.05 children
    (4.5, 110.0, True),
    (6.0, 110.0, False),    # 6.05 to 7.15 children: none of them 1 to 5
    (0.0, 200.0, True),     # "0%" of 200 could be one child rounded down
    (0.0, 20.0, False),     # but of 20 it is none
    (0.2, 300000.0, True),  # a rate per 10,000 to 1 decimal place: 4.5 to 7.5 children
])
def test_rounded_values_with_only_a_denominator(value: float, den: float, small: bool) -> None:
    unit = Unit.RATE_PER_10K if den > 1000 else Unit.PERCENT
    assert is_small(unit, value, None, den) is small


def test_a_percentage_of_few_cases_is_small_whatever_its_numerator() -> None:
    assert is_small(Unit.PERCENT, 0.0, 0.0, 4.0)  # 0 of 4: the 4 is a small count
    assert is_small(Unit.PERCENT, 100.0, None, 3.0)
    assert not is_small(Unit.PERCENT, 0.0, 0.0, 6.0)


def test_possible_values_are_what_a_reader_could_know() -> None:
    assert possible_values(Unit.COUNT, None) == (1.0, 5.0)
    # 1 to 5 of 8 cases, and half a point either side for an export in whole numbers.
    assert possible_values(Unit.PERCENT, 8.0) == (12.0, 63.0)
    assert possible_values(Unit.PERCENT, 12.0) == (100 / 12 - 0.5, 500 / 12 + 0.5)
    assert possible_values(Unit.PERCENT, 3.0) == (0.0, 100.0)  # a small denominator
    assert possible_values(Unit.PERCENT, None) == (0.0, 100.0)
    assert possible_values(Unit.RATE_PER_10K, 20000.0) == (0.0, 3.0)


def _public(values: Sequence[float | None], polarity: str = "higher_is_better",
            target: float | None = None, unit: str = "count",
            consecutive: int = 2) -> pd.Series:
    cfg = make_config([{"unit": unit, "polarity": polarity, "target": target}],
                      consecutive=consecutive)
    hist = make_history({"X0": list(values)}, CYCLE)
    return analyse(hist, cfg, CYCLE, hidden_bounds(hist, cfg)).set_index("code").loc["X0"]


def test_rating_published_only_when_every_hidden_value_gives_it() -> None:
    assert _public([10, 3], "lower_is_better", target=0)["rag"] == "red"
    assert _public([10, 3], "lower_is_better", target=5)["rag"] == "green"
    assert _public([10, 3], "lower_is_better", target=4)["rag"] == "withheld"
    assert _public([10, 3], "higher_is_better", target=1)["rag"] == "green"
    assert _public([10, 3], "higher_is_better", target=2)["rag"] == "withheld"


def test_direction_and_change_through_a_hidden_figure() -> None:
    row = _public([20, 3], "lower_is_better")
    assert row["direction"] == "improving"  # from 20 to anything of 1 to 5
    assert math.isnan(row["change"]) and "change" in row["withheld"]
    assert _public([4, 3], "lower_is_better")["direction"] == "withheld"
    assert _public([3, 20], "lower_is_better")["direction"] == "declining"


def test_runs_of_declines_through_hidden_figures() -> None:
    # 20, 12, 8, c: worse each month whatever c is (higher is worse here).
    row = _public([6, 20, 12, 8, 3], "higher_is_better", consecutive=3)
    assert bool(row["deep_dive"]) and row["consecutive_declines"] == 3
    assert row["declines_most"] == 3
    # 9, 7, c, c: the last step could go either way.
    row = _public([9, 7, 3, 4], "higher_is_better", consecutive=2)
    assert not row["deep_dive"] and row["deep_dive_possible"]
    # A certain improvement before the hidden figure settles it: no deep dive, published.
    row = _public([1.0, 30, 3, 2.0], "higher_is_better", consecutive=3)
    assert not row["deep_dive_possible"]


def test_revisions_in_the_public_edition() -> None:
    cfg = make_config([{"unit": "count", "polarity": "lower_is_better"}])
    stored = pd.DataFrame({"indicator": ["X0"] * 3, "period": ["2024-07", "2024-08", "2024-09"],
                           "value": [14.0, 3.0, 3.0], "numerator": [math.nan] * 3,
                           "denominator": [math.nan] * 3})
    incoming = stored.assign(value=[3.0, 14.0, 4.0])
    revs = find_revisions(stored, incoming)
    public = [p.message for p in revision_problems(revs, CYCLE, cfg, public=True)]
    assert public == ["X0 July 2024 revised since it was last stored: 14 -> c",
                      "X0 August 2024 revised since it was last stored: c -> 14"]
    restricted = [p.message for p in revision_problems(revs, CYCLE, cfg)]
    assert "X0 September 2024 revised since it was last stored: 3 -> 4" in restricted


def test_findings_resting_on_small_figures_stay_restricted() -> None:
    cfg = make_config([{"unit": "count"}])
    hist = make_history({"X0": [10, 3]}, CYCLE)
    hidden = {("X0", CYCLE)}
    problems = [
        Problem(Severity.WARNING, "(history store)", None, "value", "X0: 10 to 3", "X0",
                CYCLE, JUMP),
        Problem(Severity.WARNING, "a.csv", 3, "value", "value 3% disagrees", "X0", CYCLE,
                RATIO),
        Problem(Severity.WARNING, "a.csv", 2, "value", "no value (blank cell)", "X0",
                shift(CYCLE, -1)),
    ]
    shown = public_problems(problems, pd.DataFrame(), cfg, CYCLE, hist, hidden)
    assert [p.message for p in shown] == ["no value (blank cell)", PUBLIC_DQ_NOTE]
    note = shown[-1]
    assert public_problems(problems, pd.DataFrame(), cfg, CYCLE, hist, set()) == [
        *problems, note]
    # A figure outside the paper's history (a month after the cycle) is judged from the
    # finding itself, made small where it was found.
    later = Problem(Severity.WARNING, "a.csv", 9, "value", "value 10% disagrees with 3/29",
                    "X0", "2024-11", RATIO, small=True)
    assert public_problems([later], pd.DataFrame(), cfg, CYCLE, hist, set()) == [note]


def test_a_rate_alone_is_counted_over_its_population_or_the_analyst_is_told() -> None:
    """Found from outside: 2.4 per 10,000, given alone, was published; over the 12,500
    young people ONS publishes for the authority it is 3. With `population:` the rate is
    counted and hidden; without one, validate and the restricted edition say so."""
    from tasks.editions.disclosure import UNCOUNTED, uncounted_rates, with_population

    cfg = make_config([{"code": "R1", "unit": "rate_per_10k"},
                       {"code": "R2", "unit": "rate_per_10k", "population": 12500}])
    records = pd.DataFrame([{"indicator": c, "period": CYCLE, "value": 2.4,
                             "numerator": math.nan, "denominator": math.nan}
                            for c in ("R1", "R2")])
    filled = with_population(records, cfg)
    assert list(filled["denominator"].fillna(0)) == [0.0, 12500.0]
    assert [is_small(Unit.RATE_PER_10K, r.value, r.numerator, r.denominator)
            for r in filled.itertuples()] == [False, True]
    (said,) = uncounted_rates(filled, cfg)
    assert said.indicator == "R1" and said.kind == UNCOUNTED and "population" in said.message
    public = public_problems([said], pd.DataFrame(), cfg, CYCLE,
                             make_history({"R1": [2.4]}, CYCLE), set())
    assert UNCOUNTED not in {p.kind for p in public}


@settings(max_examples=EXAMPLES * 10, deadline=None)
@given(den=st.integers(min_value=6, max_value=400), complement=st.booleans(),
       decimals=st.sampled_from([None, 0, 1]))
def test_which_side_is_small_does_not_tell(den: int, complement: bool,
                                           decimals: int | None) -> None:
    """A pure stage, so cheap to try often: a percentage whose figure, or whose complement,
    is each value 1 to 5 is small every time and stands for the same range every time
    (over 6 to 10 cases both sides could be small: a first version gave 1 and 4 of 9
    different ranges)."""
    from tasks.editions.disclosure import _possible

    seen = set()
    for h in SMALL:
        n = den - h if complement else h
        value = 100.0 * n / den if decimals is None else round(100.0 * n / den, decimals)
        for num in (float(n), None):
            assert is_small(Unit.PERCENT, value, num, float(den))
            seen.add((num is None, _possible(Unit.PERCENT, value, num, float(den))))
    assert len({b for blank, b in seen if blank}) == 1
    assert len({b for blank, b in seen if not blank}) == 1
