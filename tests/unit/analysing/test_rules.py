"""The committee's rules at their boundaries: RAG, direction, deep dive, breach."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasks.analysing.compare import analyse, direction, rag
from tests.factories import make_config, make_history

END = "2024-10"


def one(polarity: str, target: float | None, tol: float, value: float | None) -> str:
    return str(rag(pd.Series([value], dtype="float64"), pd.Series([target], dtype="float64"),
                   pd.Series([tol]), pd.Series([polarity])).iloc[0])


@pytest.mark.parametrize(("value", "expected"), [
    (85.0, "green"),      # exactly at target: met
    (85.1, "green"),
    (84.9, "amber"),
    (80.0, "amber"),      # exactly at the edge of tolerance
    (79.9, "red"),
    (0.0, "red"),
])
def test_rag_higher_is_better_boundaries(value: float, expected: str) -> None:
    assert one("higher_is_better", 85, 5, value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (40.0, "green"),      # at a maximum target: met
    (39.9, "green"),
    (40.1, "amber"),
    (42.0, "amber"),
    (42.1, "red"),
    (52.0, "red"),        # the care-leavers NEET case from the inspection
])
def test_rag_lower_is_better_boundaries(value: float, expected: str) -> None:
    assert one("lower_is_better", 40, 2, value) == expected


def test_rag_zero_tolerance_has_no_amber() -> None:
    assert one("higher_is_better", 90, 0, 90) == "green"
    assert one("higher_is_better", 90, 0, 89.99) == "red"


def test_rag_float_arithmetic_at_the_edge() -> None:
    # 0.1 + 0.2 is 0.30000000000000004: still exactly at a 0.3 target.
    assert one("lower_is_better", 0.3, 0, 0.1 + 0.2) == "green"
    assert one("higher_is_better", 10.3, 0.1, 10.2) == "amber"


@pytest.mark.parametrize(("polarity", "target", "value"), [
    ("higher_is_better", None, 50.0), ("higher_is_better", 50.0, None),
    ("neutral", 50.0, 60.0),
])
def test_rag_none(polarity: str, target: float | None, value: float | None) -> None:
    assert one(polarity, target, 1, value) == "none"


def test_direction_by_polarity() -> None:
    change = pd.Series([2.0, -2.0, 0.0, 2.0, None, 1e-12], dtype="float64")
    pol = pd.Series(["higher_is_better", "higher_is_better", "higher_is_better",
                     "lower_is_better", "higher_is_better", "lower_is_better"])
    assert list(direction(change, pol)) == ["improving", "declining", "no_change",
                                            "declining", "none", "no_change"]
    assert list(direction(pd.Series([5.0]), pd.Series(["neutral"]))) == ["none"]


def analysed(series: dict[str, list[float | None]], specs: list[dict[str, object]],
             consecutive: int = 2) -> pd.DataFrame:
    cfg = make_config(specs, consecutive=consecutive)  # type: ignore[arg-type]
    return analyse(make_history(series, END), cfg, END).set_index("code")


def test_deep_dive_exactly_two_declines() -> None:
    a = analysed({"X0": [70, 72, 71, 70], "X1": [70, 72, 73, 72], "X2": [70, 69, 68, 67]},
                 [{}, {}, {}])
    assert a.loc["X0", "consecutive_declines"] == 2 and bool(a.loc["X0", "deep_dive"])
    assert a.loc["X1", "consecutive_declines"] == 1 and not a.loc["X1", "deep_dive"]
    assert a.loc["X2", "consecutive_declines"] == 3 and bool(a.loc["X2", "deep_dive"])


def test_deep_dive_lower_is_better_and_no_change_breaks_the_run() -> None:
    a = analysed({"X0": [40, 44, 48, 52], "X1": [40, 44, 44, 46]},
                 [{"polarity": "lower_is_better", "target": 40},
                  {"polarity": "lower_is_better"}])
    assert bool(a.loc["X0", "deep_dive"]) and a.loc["X0", "rag"] == "red"
    assert a.loc["X1", "consecutive_declines"] == 1  # 44 -> 44 is not a decline


def test_missing_month_breaks_the_run_and_is_named() -> None:
    a = analysed({"X0": [90, 88, None, 80]}, [{"target": 85, "tolerance": 5}])
    row = a.loc["X0"]
    assert row["consecutive_declines"] == 0 and not row["deep_dive"]
    assert row["chain_gap"] == "2024-09"
    # Direction still compares with the previous *reported* month, August.
    assert row["previous_period"] == "2024-08" and row["previous"] == 88
    assert row["direction"] == "declining" and row["rag"] == "amber"


def test_gap_before_the_rule_is_met_only() -> None:
    a = analysed({"X0": [90, None, 88, 86, 84]}, [{}])
    assert bool(a.loc["X0", "deep_dive"])
    assert pd.isna(a.loc["X0", "chain_gap"])  # the run reached the rule: the gap is irrelevant


def test_configurable_number_of_declines() -> None:
    a = analysed({"X0": [70, 69, 68], "X1": [70, 69, 68, 67]}, [{}, {}], consecutive=3)
    assert not a.loc["X0", "deep_dive"] and bool(a.loc["X1", "deep_dive"])


def test_neutral_never_declines_and_missing_value_is_not_rated() -> None:
    a = analysed({"X0": [70, 60, 50], "X1": [70, 60, None]},
                 [{"polarity": "neutral"}, {"target": 50}])
    assert a.loc["X0", "direction"] == "none" and a.loc["X0", "consecutive_declines"] == 0
    assert a.loc["X1", "rag"] == "none" and a.loc["X1", "direction"] == "none"
    assert not a.loc["X1", "deep_dive"] and not a.loc["X1", "breach"]


def test_year_ago_and_previous() -> None:
    values: list[float | None] = [float(v) for v in range(1, 14)]  # 13 months: 1 .. 13
    a = analysed({"X0": values}, [{"polarity": "lower_is_better"}])
    assert a.loc["X0", "year_ago"] == 1 and a.loc["X0", "previous"] == 12
    assert a.loc["X0", "change"] == 1 and a.loc["X0", "direction"] == "declining"


def test_breach_is_red_or_deep_dive() -> None:
    a = analysed({"X0": [50, 49, 48], "X1": [90, 91, 60], "X2": [81, 82, 83]},
                 [{"target": 40}, {"target": 85, "tolerance": 5}, {"target": 85, "tolerance": 5}])
    assert bool(a.loc["X0", "breach"]) and a.loc["X0", "rag"] == "green"  # deep dive alone
    assert bool(a.loc["X1", "breach"]) and a.loc["X1", "rag"] == "red"     # red alone
    assert not a.loc["X2", "breach"] and a.loc["X2", "rag"] == "amber"


@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=3, max_size=30))
def test_reversing_polarity_swaps_improving_and_declining(values: list[float]) -> None:
    hi = analysed({"X0": values}, [{"polarity": "higher_is_better"}]).loc["X0"]  # type: ignore[dict-item]
    lo = analysed({"X0": values}, [{"polarity": "lower_is_better"}]).loc["X0"]  # type: ignore[dict-item]
    swap = {"improving": "declining", "declining": "improving"}
    assert lo["direction"] == swap.get(hi["direction"], hi["direction"])


def test_min_change_makes_small_moves_no_change() -> None:
    # 22.0 -> 22.1 -> 22.2 (lower is better): two declines, unless 0.1 is within min_change.
    hist = {"X0": [22.0, 22.1, 22.2], "X1": [22.0, 22.1, 22.2], "X2": [22.0, 22.1, 22.35]}
    a = analysed(hist, [{"polarity": "lower_is_better"},
                        {"polarity": "lower_is_better", "min_change": 0.1},
                        {"polarity": "lower_is_better", "min_change": 0.1}])
    assert bool(a.loc["X0", "deep_dive"]) and a.loc["X0", "direction"] == "declining"
    assert a.loc["X1", "direction"] == "no_change" and a.loc["X1", "consecutive_declines"] == 0
    assert a.loc["X2", "direction"] == "declining" and a.loc["X2", "consecutive_declines"] == 1


def test_small_denominator_is_shown_but_never_breaches_alone() -> None:
    cfg = make_config([{"target": 40, "polarity": "lower_is_better"}] * 2)
    cfg = cfg.model_copy(update={"indicators": [
        cfg.indicators[0], cfg.indicators[1].model_copy(update={"code": "X1"})]})
    rows = [("X0", "2024-10", 60.0, 6.0, 10.0), ("X1", "2024-10", 60.0, 3.0, 5.0)]
    hist = pd.DataFrame([{"indicator": i, "period": p, "value": v, "numerator": n,
                          "denominator": d} for i, p, v, n, d in rows])
    a = analyse(hist, cfg, END).set_index("code")
    assert a.loc["X0", "rag"] == "red" and bool(a.loc["X0", "breach"])
    assert a.loc["X1", "rag"] == "red" and bool(a.loc["X1", "small_number"])
    assert not a.loc["X1", "breach"]  # 3 of 5: below the minimum of 10 cases


def test_direction_of_travel_over_3_6_12_periods() -> None:
    values: list[float | None] = [50.0] * 6 + [40.0, 45.0, 46.0, 44.0, 47.0, 48.0, 49.0]
    a = analysed({"X0": values}, [{}]).loc["X0"]
    assert a["direction"] == "improving"  # 48 -> 49
    assert a["direction_3"] == "improving"  # 44 -> 49
    assert a["direction_6"] == "improving"  # 40 -> 49
    assert a["direction_12"] == "declining"  # 50 -> 49
