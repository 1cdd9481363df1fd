"""NHSRplotthedots' own test expectations (nhs-r-community/NHSRplotthedots 0.2.2,
tests/testthat), ported as data: the same inputs, the same expected outputs, run against
`tasks.analysing.spc` with the `plotthedots` rule set. Each case names the testthat file and test.

R's internal helpers return flags at the end of a run, which `part_of` then spreads over
the run; `tasks.analysing.spc` computes the members of a run directly, so where a test checks the
two
steps separately the expectation here is the composition, worked from R's own vectors.
Tests of R's plumbing (mocked dplyr calls, ggplot layers, argument validation) have no
counterpart and are not ported.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tasks.analysing import spc
from tasks.analysing.spc import (
    COMMON,
    FAILING,
    HIT_AND_MISS,
    NO_ASSURANCE,
    PASSING,
    PLOTTHEDOTS,
    RULES,
    assurance,
    priority_reading,
    shift_members,
    trend_direction,
    trend_members,
    two_of_three,
    variation,
    xmr,
)

# set.seed(123); rnorm(24), as the testthat files build their data (printed by R to 8
# decimals; the snapshots below confirm them: their mean is R's 0.1416238).
RNORM_123 = [-0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499,
             0.46091621, -1.26506123, -0.68685285, -0.44566197, 1.22408180, 0.35981383,
             0.40077145, 0.11068272, -0.55584113, 1.78691314, 0.49785048, -1.96661716,
             0.70135590, -0.47279141, -1.06782371, -0.21797491, -1.02600445, -0.72889123]


def row(v: list[float] | list[int]) -> np.ndarray:
    return np.array([v], dtype=float)


# --- test-ptd_calculate_point_type.R: ptd_seven_point_one_side_mean + ptd_part_of_seven_trend

@pytest.mark.parametrize(("relative_to_mean", "members"), [
    ([], []),
    ([1] * 6, [0] * 6),
    ([1] * 6 + [-1], [0] * 7),
    ([1] * 8 + [-1], [1] * 8 + [0]),  # R: ends c(0,0,0,0,0,0,1,1,0) -> the eight points
    ([-1] * 8 + [1], [1] * 8 + [0]),
])
def test_seven_point_one_side_mean(relative_to_mean: list[int], members: list[int]) -> None:
    above, below = shift_members(np.array([relative_to_mean], dtype=np.int8).reshape(1, -1), 7)
    assert (above | below)[0].astype(int).tolist() == members


# --- test-ptd_calculate_point_type.R: ptd_seven_point_trend (+ part_of) --------------------

@pytest.mark.parametrize(("y", "increasing", "decreasing"), [
    ([1, 2, 3, 4, 5, 6], [0] * 6, [0] * 6),  # 1:6
    ([1, 2, 3, 3, 4, 5, 6], [0] * 7, [0] * 7),  # c(1:3, 3:6): an equal step breaks it
    ([1, 2, 3, 4, 5, 6, 7], [1] * 7, [0] * 7),  # 1:7 -> ends c(0,0,0,0,0,0,1)
    ([2, 1, 2, 3, 4, 5, 6, 7, 3], [0] + [1] * 7 + [0], [0] * 9),  # c(2, 1:7, 3)
    ([7, 6, 5, 4, 3, 2, 1], [0] * 7, [1] * 7),  # 7:1 -> ends c(0,0,0,0,0,0,-1)
    ([2, 7, 6, 5, 4, 3, 2, 1, 3], [0] * 9, [0] + [1] * 7 + [0]),  # c(2, 7:1, 3)
])
def test_seven_point_trend(y: list[int], increasing: list[int], decreasing: list[int]) -> None:
    up, down = trend_members(row(y), 7)
    assert up[0].astype(int).tolist() == increasing
    assert down[0].astype(int).tolist() == decreasing


@pytest.mark.parametrize(("ends", "members"), [
    # ptd_part_of_seven_trend(ends): as series whose trend ends where R's flags are.
    ([0] * 6, [0] * 6),
    ([0] * 6 + [1, 0], [1] * 7 + [0]),
    ([0] * 7 + [1, 0], [0] + [1] * 7 + [0]),
    ([0] * 6 + [-1, 0], [1] * 7 + [0]),
    ([0] * 7 + [-1, 0], [0] + [1] * 7 + [0]),
])
def test_part_of_seven_trend(ends: list[int], members: list[int]) -> None:
    # A series with exactly that trend: rising (or falling) to each flagged end from six
    # points before, with a point before and after it that breaks the run.
    y = [0.0] * len(ends)
    for e, d in enumerate(ends):
        if d:
            for k in range(7):
                y[e - k] = d * (10 - k)
            if e >= 7:
                y[e - 7] = d * 20
    up, down = trend_members(row(y), 7)
    assert (up | down)[0].astype(int).tolist() == members


# --- test-ptd_calculate_point_type.R: ptd_two_in_three + ptd_part_of_two_in_three -----------

@pytest.mark.parametrize(("close", "relative_to_mean", "part"), [
    ([], [], []),
    ([1, 0, 1], [1, 1, 1], [1, 0, 1]),  # two_in_three d = e = f = rep(1, 3)
    ([0, 1, 1], [1, 1, 1], [0, 1, 1]),
    ([1, 1, 0], [1, 1, 1], [1, 1, 0]),
    ([0, 0, 1, 0, 1, 0, 0], [1] * 7, [0, 0, 1, 0, 1, 0, 0]),  # g: c(0,0,1,1,1,0,0)
    ([0, 0, 1, 1, 0, 0, 0], [1] * 7, [0, 0, 1, 1, 0, 0, 0]),  # h: c(0,1,1,1,1,0,0)
    ([1, 0, 0, 1], [1] * 4, [0, 0, 0, 0]),  # part_of: ha
    ([1, 0, 0, 1, 1], [1] * 5, [0, 0, 0, 1, 1]),  # part_of: ia
    # "... when points are on opposite sides of the mean"
    ([1, 0, 1], [1, -1, 1], [0, 0, 0]),
    ([0, 1, 1], [1, -1, 1], [0, 0, 0]),
    ([1, 1, 0], [1, -1, 1], [0, 0, 0]),
    ([0, 0, 1, 0, 1, 0, 0], [1, -1, 1, -1, 1, -1, 1], [0] * 7),
    ([0, 0, 1, 1, 0, 0, 0], [-1, 1, -1, 1, -1, 1, -1], [0] * 7),
])
def test_two_in_three(close: list[int], relative_to_mean: list[int], part: list[int]) -> None:
    zone = np.array([close], dtype=bool).reshape(1, -1)
    side = np.array([relative_to_mean], dtype=np.int8).reshape(1, -1)
    assert two_of_three(zone, side)[0].astype(int).tolist() == part


# --- test-ptd_calculate_point_type.R: ptd_special_cause_type (its mocked inputs) -----------

def test_special_cause_type_priority() -> None:
    y = np.arange(1, 9, dtype=float)[None, :]
    relative_to_mean = np.array([[1, 1, 1, 1, -1, -1, -1, -1]])
    part_trend = np.array([[1, -1, 0, 0, 0, 0, 0, 0]]) != 0
    part_shift = np.array([[0, 0, 1, -1, 0, 0, 0, 0]]) != 0
    part_two = np.array([[0, 0, 0, 0, 1, 0, 0, 0]]) != 0
    outside = np.array([[0, 0, 0, 0, 0, 1, -1, 0]]) != 0
    # case_when reads outside_limits by relative_to_mean: "Above UCL" only where it is 1.
    high, low = outside & (relative_to_mean == 1), outside & (relative_to_mean != 1)
    side, rule = priority_reading(high, low, trend_direction(y, part_trend), part_two,
                                  part_shift, relative_to_mean)
    # "7 Point Trend (Increasing)" x 2, "7 Points Above CL" x 2, "2 in 3 Below CL",
    # "Below LCL" x 2, "Common Cause"
    assert side[0].tolist() == [1, 1, 1, 1, -1, -1, -1, 0]
    assert [RULES[k] if k >= 0 else "" for k in rule[0]] == [
        "trend", "trend", "shift", "shift", "two_of_three", "outside_limits",
        "outside_limits", ""]


# --- test-ptd_spc_standard.R: "it returns expected values" (and its snapshots) ------------

def test_spc_standard_limits_and_screening() -> None:
    y = RNORM_123[:20]
    r1 = xmr(row(y))
    assert (r1.mean[0], r1.lower[0], r1.upper[0]) == (
        pytest.approx(0.1416238, abs=1e-6), pytest.approx(-3.01138, abs=1e-5),
        pytest.approx(3.294627, abs=1e-6))
    y2 = list(y)
    y2[14] = 10  # data$y[15] <- 10
    r2 = xmr(row(y2))  # screen_outliers = TRUE
    r3 = xmr(row(y2), replace(PLOTTHEDOTS, screen_outliers=False))
    assert (r2.mean[0], r2.lower[0], r2.upper[0]) == (
        pytest.approx(0.6694159, abs=1e-6), pytest.approx(-2.383666, abs=1e-6),
        pytest.approx(3.722497, abs=1e-6))
    assert (r3.mean[0], r3.lower[0], r3.upper[0]) == (
        pytest.approx(0.6694159, abs=1e-6), pytest.approx(-4.596625, abs=1e-6),
        pytest.approx(5.935457, abs=1e-6))
    # "check that we have different limits for all of the results", and a wider range
    # without screening
    for a, b in ((r1, r2), (r1, r3), (r2, r3)):
        assert a.lower[0] != b.lower[0] and a.upper[0] != b.upper[0]
    assert r3.upper[0] - r3.lower[0] > r2.upper[0] - r2.lower[0]
    # Snapshot: relative_to_mean of the first points, and no point beyond a limit.
    assert np.sign(np.array(y[:13]) - r1.mean[0]).tolist() == [
        -1, -1, 1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1]
    assert not r1.rules["outside_limits"].any()


def test_spc_standard_rebase_group() -> None:
    # "it sets the rebase_group field": rebase on the 11th of 20 points.
    r = xmr(row(RNORM_123[:20]), segment_start=np.array([10]))
    assert r.segment[0].tolist() == [0] * 10 + [1] * 10
    assert r.segments["n"][:, 0].tolist() == [10, 10]


def test_spc_standard_two_of_three_needs_one_side() -> None:
    # "it only reports special cause for 2of3 points close to the limits when they are on
    # the same side of the mean": 1, -1 eight times, then 5.5 and -5.5.
    data = [1.0, -1.0] * 8
    data[14], data[15] = 5.5, -5.5
    r = xmr(row(data), sign=np.array([1.0]))
    assert r.side[0, -2:].tolist() == [0, 0]


# --- test-ptd_spc.R: summary() snapshots ------------------------------------------------------

def test_summary_without_and_with_facets() -> None:
    whole = xmr(row(RNORM_123[:20]), sign=np.array([1.0]))
    # mean_col 0.142, lpl -3.01, upl 3.29, n 20, common_cause 20, variation common_cause
    assert (round(whole.mean[0], 3), round(whole.lower[0], 2), round(whole.upper[0], 2)) == (
        0.142, -3.01, 3.29)
    assert int(whole.n[0]) == 20 and not whole.side.any() and variation(whole)[0] == COMMON
    # facet_field = "facet": rep(c(0, 1), each = 10); facets are separate series (rows).
    facets = xmr(np.array([RNORM_123[:10], RNORM_123[10:20]]), sign=np.array([1.0, 1.0]))
    # (the snapshot prints three significant figures)
    assert facets.mean.tolist() == pytest.approx([0.0746, 0.209], abs=5e-4)
    assert facets.lower.tolist() == pytest.approx([-2.60, -3.28], abs=5e-3)
    assert facets.upper.tolist() == pytest.approx([2.75, 3.70], abs=5e-3)
    assert not facets.side.any()
    # With a target of 0.5 (the snapshot's assurance column): within the limits.
    assert assurance(whole, np.array([0.5]))[0] == HIT_AND_MISS


# --- test-geom_ptd_icon.R: "ptd_get_icons transforms the data correctly" ------------------

def test_icons() -> None:
    s1 = xmr(row(RNORM_123), sign=np.array([1.0]))
    assert variation(s1)[0] == COMMON  # variation/common_cause.svg
    assert assurance(s1, np.array([0.5]))[0] == HIT_AND_MISS  # assurance/inconsistent.svg
    s3 = xmr(np.array([RNORM_123[:12], RNORM_123[12:]]), sign=np.array([1.0, 1.0]))
    assert variation(s3).tolist() == [COMMON, COMMON]
    assert assurance(s3, np.array([0.5, 0.5])).tolist() == [HIT_AND_MISS, HIT_AND_MISS]


# --- test-ptd_calculate_assurance_type.R --------------------------------------------------

@pytest.mark.parametrize(("sign", "expected"), [
    (1.0, [FAILING, PASSING, HIT_AND_MISS]),  # "increase"
    (-1.0, [PASSING, FAILING, HIT_AND_MISS]),  # "decrease"
    (0.0, [NO_ASSURANCE] * 3),  # "neutral"
])
def test_assurance_type(sign: float, expected: list[str]) -> None:
    # lpl = c(1, 5, 1), mean = c(2, 6, 4), upl = c(3, 7, 5), target = 4
    base = xmr(np.zeros((3, 2)), sign=np.full(3, sign))
    r = replace(base, lower=np.array([1.0, 5, 1]), mean=np.array([2.0, 6, 4]),
                upper=np.array([3.0, 7, 5]))
    assert assurance(r, np.full(3, 4.0)).tolist() == expected


def test_assurance_type_with_no_target() -> None:
    r = xmr(row([1, 2, 3]), sign=np.array([1.0]))
    assert assurance(r, np.array([np.nan]))[0] == NO_ASSURANCE


def test_assurance_type_takes_the_last_rebase_group() -> None:
    # "it returns correct values for assurance when rebase": the last group's limits decide
    # (decrease, target 4). R orders the groups three ways, so that (1, 5), (1, 3) and
    # (5, 7) are the last; here each is the latest period's limits in turn.
    for limits, expected in (((1, 5), HIT_AND_MISS), ((1, 3), PASSING), ((5, 7), FAILING)):
        base = xmr(row([0, 1, 0, 1]), segment_start=np.array([2]), sign=np.array([-1.0]))
        r = replace(base, lower=np.array([float(limits[0])]),
                    upper=np.array([float(limits[1])]), mean=np.array([sum(limits) / 2]))
        assert assurance(r, np.array([4.0]))[0] == expected
    # And with real data: limits from the points after the rebase only.
    y = [9.0, 11.0] * 7 + [19.0, 21.0] * 7
    r = xmr(row(y), segment_start=np.array([14]), sign=np.array([-1.0]))
    assert r.mean[0] == pytest.approx(20.0) and assurance(r, np.array([30.0]))[0] == PASSING


# --- test-ptd_add_short_group_warnings.R ---------------------------------------------------

@pytest.mark.parametrize(("n", "warned"), [(11, True), (12, True), (13, False), (20, False)])
def test_short_group_warning(n: int, warned: bool) -> None:
    # The default threshold, getOption("ptd_spc.warning_threshold", 13): fewer than 13.
    r = xmr(row(RNORM_123[:n]))
    assert bool(r.trial[0]) is warned


def test_short_group_warning_with_rebase_groups() -> None:
    # "it handles facets and rebase groups - warning on one facet": a group of 5 warns,
    # groups of 20 do not; the icons belong to the latest group.
    y = RNORM_123 + RNORM_123[:16]  # 40 points
    assert not xmr(row(y), segment_start=np.array([20])).trial[0]
    short = xmr(row(y), segment_start=np.array([35]))
    assert bool(short.trial[0]) and int(short.n[0]) == 5


def test_rule_set_is_the_packages_defaults() -> None:
    assert (PLOTTHEDOTS.shift, PLOTTHEDOTS.trend, PLOTTHEDOTS.short_series) == (7, 7, 13)
    assert PLOTTHEDOTS.screen_outliers and PLOTTHEDOTS.by_priority
    assert spc.D4 == 3.267 and spc.E2 == 2.66
