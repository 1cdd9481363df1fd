"""XmR statistical process control against hand-worked examples of the published method,
and the properties any correct implementation has.

Source of the method: NHS England and NHS Improvement, "Making Data Count" (2019) and its
"Plot the Dots" guidance, after D. J. Wheeler, "Understanding Variation" (2nd ed., 2000),
appendix "XmR charts using the average moving range": process limits are the mean plus or
minus 2.66 times the average moving range; near (two-sigma) limits sit at two thirds of
that distance. The examples below are worked by hand from those formulas, each step
written down, so that a reader can check them without the code.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.spc import (
    COMMON,
    CONCERN,
    FAILING,
    HIT_AND_MISS,
    IMPROVEMENT,
    NEUTRAL_HIGH,
    NEUTRAL_LOW,
    PASSING,
    Options,
    assurance,
    variation,
    xmr,
)


def test_worked_example_limits() -> None:
    # Values: 10, 12, 11, 13, 12, 14, 11, 13, 12, 12  (n = 10, a trial: fewer than 12)
    # Sum 120 -> mean 12.0
    # Moving ranges: 2, 1, 2, 1, 2, 3, 2, 1, 0 -> sum 14 over 9 -> mean MR 1.5556
    # Limits: 12 +/- 2.66 x 1.5556 = 12 +/- 4.1378 -> 7.8622 and 16.1378
    # Near limits: 12 +/- 2/3 x 4.1378 = 12 +/- 2.7585 -> 9.2415 and 14.7585
    r = xmr(np.array([10, 12, 11, 13, 12, 14, 11, 13, 12, 12], dtype=float))
    assert r.mean[0] == pytest.approx(12.0)
    assert r.mr_bar[0] == pytest.approx(14 / 9)
    assert r.upper[0] == pytest.approx(12 + 2.66 * 14 / 9)
    assert r.lower[0] == pytest.approx(7.862222, abs=1e-6)
    assert r.near_upper[0] == pytest.approx(14.758519, abs=1e-6)
    assert bool(r.trial[0]) and not r.high.any() and not r.low.any()


def test_worked_example_point_beyond_the_upper_limit() -> None:
    # Twelve points: 20, 22 five times, then 22, 40.
    # Sum = 5 x 20 + 6 x 22 + 40 = 100 + 132 + 40 = 272 -> mean 22.6667
    # Moving ranges: nine of 2, then 0 (22 -> 22), then 18 (22 -> 40): 36 / 11 = 3.2727
    # Upper limit: 22.6667 + 2.66 x 3.2727 = 22.6667 + 8.7055 = 31.3721 < 40: special cause.
    vals = np.array([20, 22] * 5 + [22, 40], dtype=float)
    r = xmr(vals)
    assert r.mean[0] == pytest.approx(272 / 12)
    assert r.mr_bar[0] == pytest.approx(36 / 11)
    assert r.upper[0] == pytest.approx(31.372121, abs=1e-6)
    assert not r.trial[0]
    assert r.rules["outside_limits"][0].tolist() == [False] * 11 + [True]
    assert variation(r, np.array([1.0]))[0] == IMPROVEMENT
    assert variation(r, np.array([-1.0]))[0] == CONCERN
    assert variation(r, np.array([0.0]))[0] == NEUTRAL_HIGH


def test_worked_example_shift_of_seven_and_a_point_on_the_mean() -> None:
    # 8 points at 10 then 7 at 12: mean = (80 + 84) / 15 = 10.9333; the last seven are above
    # it: a shift. With only six above, no shift at the default 7, a shift at 6.
    r7 = xmr(np.array([10.0] * 8 + [12.0] * 7))
    assert r7.rules["shift"][0].tolist() == [True] * 15  # eight below is a shift too
    r6 = xmr(np.array([10.0] * 5 + [12.0] * 6))
    assert not r6.rules["shift"][0].any()
    assert xmr(np.array([10.0] * 5 + [12.0] * 6), Options(shift=6)).rules["shift"][0][-6:].all()
    # A point exactly on the mean breaks the run. Eight 10s with an 11 among them, eight 12s
    # with an 11 among them: sum 80 + 96 + 22 = 198 over 18 = 11.0, so each 11 is on the
    # mean and splits a run of eight into two of four: no shift.
    broken = np.array([10, 10, 10, 10, 11, 10, 10, 10, 10,
                       12, 12, 12, 12, 11, 12, 12, 12, 12], dtype=float)
    rb = xmr(broken)
    assert rb.mean[0] == pytest.approx(11.0)
    assert not rb.rules["shift"][0].any()
    unbroken = broken.copy()
    unbroken[[4, 13]] = [10.0, 12.0]  # the same without the breaks: two runs of nine
    assert xmr(unbroken).rules["shift"][0].all()


def test_worked_example_trend() -> None:
    # Seven points each higher than the last (1..7) after a flat start: a trend of 7.
    vals = np.array([5, 4, 5, 4, 1, 2, 3, 4, 5, 6, 7], dtype=float)
    r = xmr(vals)
    assert r.rules["trend"][0].tolist() == [False] * 4 + [True] * 7
    six = np.array([5, 4, 5, 4, 1, 2, 3, 4, 5, 6], dtype=float)
    assert not xmr(six).rules["trend"][0].any()
    assert xmr(six, Options(trend=6)).rules["trend"][0][-6:].all()


def test_worked_example_two_of_three_beyond_the_near_limit() -> None:
    # 9, 11 eight times, then 14.2 and 14.3.
    # Mean = (72 + 88 + 28.5) / 18 = 10.4722
    # Moving ranges: fifteen of 2, then 3.2 and 0.1: 33.3 / 17 = 1.9588
    # 2.66 x 1.958824 = 5.210471: upper limit 15.682693; near upper (two thirds of it)
    # 10.472222 + 3.473647 = 13.945869.
    # 14.2 and 14.3 are both beyond the near limit and inside the process limit.
    vals = np.array([9, 11] * 8 + [14.2, 14.3], dtype=float)
    r = xmr(vals)
    assert r.near_upper[0] == pytest.approx(13.945869, abs=1e-6)
    assert r.upper[0] == pytest.approx(15.682693, abs=1e-6)
    assert r.rules["two_of_three"][0].tolist() == [False] * 16 + [True, True]
    assert not r.rules["outside_limits"][0].any()
    # 15 and 5: beyond the near limits (10 +/- 4.59) but on opposite sides: no signal.
    mixed = np.array([9, 11] * 8 + [15.0, 5.0], dtype=float)
    m = xmr(mixed)
    assert m.near_upper[0] < 15.0 < m.upper[0] and m.lower[0] < 5.0 < m.near_lower[0]
    assert not m.rules["two_of_three"][0].any()


def test_gaps_are_closed_up_and_many_series_at_once() -> None:
    a = [10.0, np.nan, 12.0, 11.0, 13.0]
    b = [1.0, 2.0, 3.0, 4.0, 5.0]
    r = xmr(np.array([a, b]))
    assert r.n.tolist() == [4, 5]
    # Series a's moving ranges skip the gap: |12-10|, |11-12|, |13-11| = 2, 1, 2.
    assert r.mr_bar[0] == pytest.approx(5 / 3)
    assert r.mr_bar[1] == pytest.approx(1.0)


def test_rebasing_uses_points_from_the_rebase_on() -> None:
    vals = np.array([[10.0] * 6 + [20, 21, 20, 21, 20, 21]])
    r = xmr(vals, baseline_start=np.array([6]))
    assert r.mean[0] == pytest.approx(20.5) and r.mr_bar[0] == pytest.approx(1.0)


def test_assurance() -> None:
    r = xmr(np.array([[50, 52, 51, 53, 52, 51, 50, 52, 51, 53, 52, 51]] * 3, dtype=float))
    # Limits about 51.5 +/- 3.9: a target of 40 is always beaten, 60 never, 51 sometimes.
    hb = np.array([1.0, 1.0, 1.0])
    assert assurance(r, np.array([40.0, 60.0, 51.0]), hb).tolist() == [PASSING, FAILING,
                                                                       HIT_AND_MISS]
    assert assurance(r, np.array([40.0, 60.0, np.nan]), -hb).tolist() == [FAILING, PASSING,
                                                                          "none"]


finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
series = st.lists(finite, min_size=2, max_size=40)


@settings(max_examples=150, deadline=None)
@given(series)
def test_limits_symmetric_about_the_mean(values: list[float]) -> None:
    r = xmr(np.array(values))
    assert r.upper[0] - r.mean[0] == pytest.approx(r.mean[0] - r.lower[0], abs=1e-6)
    assert r.near_upper[0] - r.mean[0] == pytest.approx((r.upper[0] - r.mean[0]) * 2 / 3,
                                                        abs=1e-6)


@settings(max_examples=50, deadline=None)
@given(finite, st.integers(2, 40))
def test_constant_series_has_no_special_cause(value: float, n: int) -> None:
    r = xmr(np.full(n, value))
    assert not r.high.any() and not r.low.any()
    assert variation(r, np.array([1.0]))[0] == COMMON


@settings(max_examples=150, deadline=None)
@given(series, finite)
def test_shifting_by_k_shifts_mean_and_limits(values: list[float], k: float) -> None:
    a, b = xmr(np.array(values)), xmr(np.array(values) + k)
    for f in ("mean", "lower", "upper"):
        assert getattr(b, f)[0] == pytest.approx(getattr(a, f)[0] + k, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-100, 100), min_size=2, max_size=40), st.integers(-1000, 1000))
def test_shifting_by_k_keeps_every_signal(values: list[int], k: int) -> None:
    # Values in quarters keep the arithmetic close to exact; signals are judged within a
    # rounding tolerance, so shifting every value must not change any of them.
    base = np.array(values, dtype=float) / 4
    a, b = xmr(base), xmr(base + k)
    assert (a.high == b.high).all() and (a.low == b.low).all()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=2, max_size=40))
def test_reversing_polarity_swaps_improvement_and_concern(values: list[int]) -> None:
    r = xmr(np.array(values, dtype=float))
    up, down = variation(r, np.array([1.0]))[0], variation(r, np.array([-1.0]))[0]
    swap = {IMPROVEMENT: CONCERN, CONCERN: IMPROVEMENT, COMMON: COMMON}
    assert down == swap[up]
    assert variation(r, np.array([0.0]))[0] in {COMMON, NEUTRAL_HIGH, NEUTRAL_LOW}
