"""XmR statistical process control: hand-worked examples, the edge cases where the two rule
sets part company, the properties any correct implementation has, and agreement with the
point-by-point references in tests/spc_reference.py on random series.

Source of the method: NHS England, "Making Data Count" (2019), after D. J. Wheeler,
"Understanding Variation": process limits are the mean plus or minus 2.66 times the average
moving range; the two-sigma lines sit at two thirds of that distance. Each example is
worked by hand from those formulas, the steps written down so a reader can check them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tasks.analysing import spc
from tasks.analysing.spc import (
    COMMON,
    CONCERN,
    FAILING,
    HIT_AND_MISS,
    IMPROVEMENT,
    NEUTRAL_HIGH,
    NEUTRAL_LOW,
    NHSE,
    NO_ASSURANCE,
    NO_VARIATION,
    PASSING,
    PLOTTHEDOTS,
    analyse_spc,
    assurance,
    variation,
    xmr,
)
from tasks.settings.config import Indicator, Rules, SpcConflict, SpcMethod
from tests import spc_reference as ref
from tests.factories import make_config, make_history

BOTH = pytest.mark.parametrize("method", [PLOTTHEDOTS, NHSE], ids=lambda m: m.name)
UP, DOWN, NEUTRAL = 1.0, -1.0, 0.0


def one(values: list[float], method: spc.Method = PLOTTHEDOTS, sign: float = UP,
        start: int = 0, prefer_improvement: bool = False) -> spc.XmR:
    return xmr(np.array([values], dtype=float), method, np.array([start]), np.array([sign]),
               np.array([prefer_improvement]))


def sides(r: spc.XmR) -> list[int]:
    return [int(s) for s, p in zip(r.side[0], r.present[0], strict=True) if p]


# --- Worked examples -----------------------------------------------------------------------

def test_worked_example_limits() -> None:
    # Values: 10, 12, 11, 13, 12, 14, 11, 13, 12, 12  (n = 10)
    # Sum 120 -> mean 12.0
    # Moving ranges: 2, 1, 2, 1, 2, 3, 2, 1, 0 -> sum 14 over 9 -> mean MR 1.5556; none is
    # 3.267 x 1.5556 = 5.08 or more, so screening leaves them all.
    # Limits: 12 +/- 2.66 x 1.5556 = 12 +/- 4.1378 -> 7.8622 and 16.1378
    # Two-sigma lines: 12 +/- 2/3 x 4.1378 = 12 +/- 2.7585 -> 9.2415 and 14.7585
    r = one([10, 12, 11, 13, 12, 14, 11, 13, 12, 12])
    assert r.mean[0] == pytest.approx(12.0)
    assert r.mr_bar[0] == pytest.approx(14 / 9)
    assert r.upper[0] == pytest.approx(12 + 2.66 * 14 / 9)
    assert r.lower[0] == pytest.approx(7.862222, abs=1e-6)
    assert r.near_upper[0] == pytest.approx(14.758519, abs=1e-6)
    assert bool(r.trial[0]) and not r.side.any()  # 10 < 13: trial limits, no signal


def test_worked_example_point_beyond_the_upper_limit() -> None:
    # Twelve points: 20, 22 five times, then 22, 40.
    # Sum = 5 x 20 + 6 x 22 + 40 = 272 -> mean 22.6667
    # Moving ranges: nine of 2, then 0 (22 -> 22), then 18 (22 -> 40): 36 / 11 = 3.2727.
    # Without screening (nhse): upper limit 22.6667 + 2.66 x 3.2727 = 31.3721 < 40.
    # With it (plotthedots): 18 >= 3.267 x 3.2727 = 10.69 is left out: 18 / 10 = 1.8, upper
    # limit 22.6667 + 4.788 = 27.4547; 40 is beyond either.
    vals = [20, 22] * 5 + [22, 40]
    r = one(vals, replace(NHSE, min_points=2))
    assert r.mean[0] == pytest.approx(272 / 12)
    assert r.mr_bar[0] == pytest.approx(36 / 11)
    assert r.upper[0] == pytest.approx(31.372121, abs=1e-6)
    p = one(vals)
    assert p.mr_bar[0] == pytest.approx(1.8) and p.upper[0] == pytest.approx(27.454667)
    for res in (r, p):
        assert res.rules["outside_limits"][0].tolist() == [False] * 11 + [True]
    assert variation(one(vals, sign=UP))[0] == IMPROVEMENT
    assert variation(one(vals, sign=DOWN))[0] == CONCERN
    assert variation(one(vals, sign=NEUTRAL))[0] == NEUTRAL_HIGH


def test_worked_example_shift_and_a_point_on_the_mean() -> None:
    # 8 points at 10 then 7 at 12: mean = (80 + 84) / 15 = 10.9333; the first eight are
    # below it and the last seven above: two shifts at the plotthedots length of 7.
    r7 = one([10.0] * 8 + [12.0] * 7)
    assert r7.rules["shift"][0].all()
    # A point exactly on the mean breaks the run. Eight 10s with an 11 among them, eight 12s
    # with an 11 among them: sum 80 + 96 + 22 = 198 over 18 = 11.0, so each 11 is on the
    # mean and splits a run of eight into two of four: no shift.
    broken = [10, 10, 10, 10, 11, 10, 10, 10, 10, 12, 12, 12, 12, 11, 12, 12, 12, 12]
    rb = one(broken)
    assert rb.mean[0] == pytest.approx(11.0)
    assert not rb.rules["shift"][0].any()
    unbroken = list(broken)
    unbroken[4], unbroken[13] = 10, 12  # the same without the breaks: two runs of nine
    assert one(unbroken).rules["shift"][0].all()


def test_worked_example_two_of_three_beyond_the_two_sigma_line() -> None:
    # 9, 11 eight times, then 14.2 and 14.3.
    # Mean = (72 + 88 + 28.5) / 18 = 10.4722
    # Moving ranges: fifteen of 2, then 3.2 and 0.1: 33.3 / 17 = 1.9588 (none screened)
    # 2.66 x 1.958824 = 5.210471: upper limit 15.682693; two-sigma line (two thirds of it)
    # 10.472222 + 3.473647 = 13.945869. 14.2 and 14.3 lie between the two, and the point
    # before them, 11, is above the mean too: 2 of 3 (and 3 of 3 above the mean).
    vals = [9, 11] * 8 + [14.2, 14.3]
    r = one(vals)
    assert r.near_upper[0] == pytest.approx(13.945869, abs=1e-6)
    assert r.upper[0] == pytest.approx(15.682693, abs=1e-6)
    assert r.rules["two_of_three"][0].tolist() == [False] * 16 + [True, True]
    assert not r.rules["outside_limits"][0].any()


# --- Edge cases ----------------------------------------------------------------------------

# Thirteen points built so that the limits fall exactly on two of them:
# 10, 12.66, 10, 7.34, 10, 10.34, 10, 9.66, 10, 10, 10, 10, 10
# Sum 130 -> mean 10. Moving ranges: 2.66 four times, 0.34 four times, then four 0s:
# 10.64 + 1.36 = 12 over 12 -> 1.0 (none is 3.267 or more). Limits 10 +/- 2.66: 7.34 and
# 12.66, the very values of the second and fourth points.
ON_LIMITS = [10, 12.66, 10, 7.34, 10, 10.34, 10, 9.66, 10, 10, 10, 10, 10]


@BOTH
def test_a_point_exactly_on_a_limit_is_not_beyond_it(method: spc.Method) -> None:
    r = one(ON_LIMITS, method)
    assert (r.lower[0], r.upper[0]) == (pytest.approx(7.34), pytest.approx(12.66))
    assert not r.rules["outside_limits"].any() and not r.side.any()
    # Just beyond: 12.67 moves the mean to 130.01 / 13 = 10.000769 and the moving ranges
    # to 12.02 / 12 = 1.001667: the upper limit is 12.66521, below 12.67.
    nudged = list(ON_LIMITS)
    nudged[1] = 12.67
    assert one(nudged, method).rules["outside_limits"][0].tolist() == [False, True] + [False] * 11


@pytest.mark.parametrize(("sign", "target", "ptd", "nhse"), [
    (UP, 12.66, HIT_AND_MISS, FAILING),  # on the upper limit, higher is better
    (UP, 7.34, HIT_AND_MISS, PASSING),  # on the lower limit
    (DOWN, 12.66, HIT_AND_MISS, PASSING),
    (DOWN, 7.34, HIT_AND_MISS, FAILING),
    (UP, 12.67, FAILING, FAILING),  # just beyond: both agree
    (DOWN, 7.33, FAILING, FAILING),
    (UP, 10.0, HIT_AND_MISS, HIT_AND_MISS),
    (NEUTRAL, 12.66, NO_ASSURANCE, NO_ASSURANCE),
])
def test_a_target_on_either_limit(sign: float, target: float, ptd: str, nhse: str) -> None:
    # NHSRplotthedots: consistent only when the target is strictly beyond a limit; the SQL
    # tool (since v2.1): "a pass/fail when the target is on a process limit".
    assert assurance(one(ON_LIMITS, PLOTTHEDOTS, sign), np.array([target]))[0] == ptd
    assert assurance(one(ON_LIMITS, NHSE, sign), np.array([target]))[0] == nhse


# Seven points below the mean, then six above, none near a limit and no trend:
# 8.5, 9.5 alternating (7 points), then 11.5, 10.5 alternating (6 points).
# Sum 62.5 + 66 = 128.5 -> mean 9.8846. Moving ranges: six of 1, 3 (8.5 -> 11.5), five of
# 1: 14 / 12 = 1.1667; limits 9.8846 +/- 3.1033 = 6.78 and 12.99; two-sigma lines at
# 7.82 and 11.95, beyond every point.
RUNS_7_AND_6 = [8.5, 9.5, 8.5, 9.5, 8.5, 9.5, 8.5, 11.5, 10.5, 11.5, 10.5, 11.5, 10.5]


def test_runs_of_six_and_seven() -> None:
    ptd, nhse = one(RUNS_7_AND_6, PLOTTHEDOTS), one(RUNS_7_AND_6, NHSE)
    assert ptd.mean[0] == pytest.approx(128.5 / 13) and ptd.mr_bar[0] == pytest.approx(14 / 12)
    # plotthedots (7): the seven below are a shift, the six above are not.
    assert sides(ptd) == [-1] * 7 + [0] * 6
    assert variation(ptd)[0] == COMMON
    # nhse (6): both are.
    assert sides(nhse) == [-1] * 7 + [1] * 6
    assert variation(nhse)[0] == IMPROVEMENT
    # The briefing's own lengths override either rule set's.
    assert sides(one(RUNS_7_AND_6, replace(NHSE, shift=7))) == [-1] * 7 + [0] * 6
    assert sides(one(RUNS_7_AND_6, replace(PLOTTHEDOTS, shift=6))) == [-1] * 7 + [1] * 6


def test_trends_of_six_and_seven() -> None:
    # A flat start, then a rise of six steps (seven points: 1 to 7), then a fall.
    seven = [4, 3, 4, 3, 4, 3, 1, 2, 3, 4, 5, 6, 7, 3]
    six = [4, 3, 4, 3, 4, 3, 4, 2, 3, 4, 5, 6, 7, 3]  # 4 -> 2 breaks it: six points rising
    assert one(seven).rules["trend"][0].tolist() == [False] * 6 + [True] * 7 + [False]
    assert not one(six).rules["trend"].any()
    nhse = one(six, NHSE)
    assert nhse.rules["trend"][0].tolist() == [False] * 7 + [True] * 6 + [False]


@BOTH
def test_a_trend_crossing_the_mean_reads_as_its_direction(method: spc.Method) -> None:
    # 9, 11 four times, a rise of seven through the mean (8.5, 9, 9.5, 10.5, 11, 11.5, 12),
    # then 9, 11 twice. Sum 80 + 72 + 40 = 192 over 19: mean 10.105. Moving ranges: seven
    # of 2, 2.5, the rise's 0.5, 0.5, 1, 0.5, 0.5, 0.5, 3, and three of 2: 29 / 18 = 1.611;
    # two-sigma lines 10.105 +/- 2.857 (7.25 and 12.96), beyond every point. The three
    # rising points below the mean read as increasing, not as the side they lie on
    # (NHSRplotthedots 0.2.0 fixed exactly this, its issue #171).
    vals = [9, 11] * 4 + [8.5, 9, 9.5, 10.5, 11, 11.5, 12] + [9, 11] * 2
    r = one(vals, method)
    assert r.mean[0] == pytest.approx(192 / 19) and r.mr_bar[0] == pytest.approx(29 / 18)
    assert sides(r) == [0] * 8 + [1] * 7 + [0] * 4
    assert r.rules["trend"][0].tolist() == [False] * 8 + [True] * 7 + [False] * 4


def test_one_huge_moving_range_is_screened_by_plotthedots_only() -> None:
    # Twelve points alternating 10, 11 and a 25 in the middle: moving ranges ten of 1 and
    # 14, 15 around the spike. Average (10 + 29) / 12 = 3.25; 3.267 x 3.25 = 10.62, so
    # plotthedots leaves out 14 and 15 and re-averages: 10 / 10 = 1.0.
    vals = [10, 11, 10, 11, 10, 11, 25, 10, 11, 10, 11, 10, 11]
    ptd, nhse = one(vals, PLOTTHEDOTS), one(vals, NHSE)
    mean = sum(vals) / 13
    assert nhse.mr_bar[0] == pytest.approx(39 / 12) and ptd.mr_bar[0] == pytest.approx(1.0)
    assert ptd.upper[0] == pytest.approx(mean + 2.66)
    assert nhse.upper[0] == pytest.approx(mean + 2.66 * 39 / 12)
    # The spike is beyond the limit either way; with screening the 11s come closer to the
    # upper limit but stay inside it.
    assert ptd.rules["outside_limits"][0].tolist() == [False] * 6 + [True] + [False] * 6


@BOTH
def test_missing_months_are_closed_up(method: spc.Method) -> None:
    # The same values with and without two empty months: identical limits and readings,
    # a run carrying on across a gap (as a row absent from the tools' input would).
    vals = [8.5, 9.5, 8.5, 9.5, 8.5, 9.5, 8.5, 11.5, 10.5, 11.5, 10.5, 11.5, 10.5, 12.5]
    gappy = [*vals[:3], np.nan, *vals[3:9], np.nan, *vals[9:]]
    a, b = one(vals, method), one(gappy, method)
    assert b.n[0] == 14 and a.mean[0] == pytest.approx(b.mean[0])
    assert a.mr_bar[0] == pytest.approx(b.mr_bar[0])
    assert sides(a) == sides(b)
    assert sides(b)[:7] == [-1] * 7  # the shift of seven runs across the first gap
    assert not b.side[0, 3] and not b.side[0, 10]


def test_fewer_than_thirteen_points() -> None:
    twelve = [10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 30]
    ptd, nhse = one(twelve, PLOTTHEDOTS), one(twelve, NHSE)
    # plotthedots reads it, with trial limits (its short-series warning under 13).
    assert variation(ptd)[0] == IMPROVEMENT and bool(ptd.trial[0]) and bool(ptd.enough[0])
    # The SQL tool shows no SPC at all: no limits, no signal, no assurance.
    assert not nhse.enough[0] and np.isnan(nhse.mean[0]) and not nhse.side.any()
    assert variation(nhse)[0] == NO_VARIATION
    assert assurance(nhse, np.array([5.0]))[0] == NO_ASSURANCE
    thirteen = one([*twelve, 10], NHSE)
    assert bool(thirteen.enough[0]) and not thirteen.trial[0]


def test_neutral_polarity() -> None:
    vals = [20, 22] * 5 + [22, 40]
    assert variation(one(vals, sign=NEUTRAL))[0] == NEUTRAL_HIGH
    assert variation(one([-v for v in vals], sign=NEUTRAL))[0] == NEUTRAL_LOW
    assert assurance(one(vals, sign=NEUTRAL), np.array([21.0]))[0] == NO_ASSURANCE
    # With nhse a point signalling both ways (BOTH_WAYS, below: a fall while above the
    # mean) reads high on a neutral indicator, whatever the conflict setting: the SQL
    # tool's icon tests "Neither (High)" first.
    for prefer in (True, False):
        r = one(BOTH_WAYS, NHSE, NEUTRAL, prefer_improvement=prefer)
        assert bool(r.both_ways[0, -1]) and variation(r)[0] == NEUTRAL_HIGH


def test_rebase_at_a_step_change() -> None:
    # Twelve months around 10, then twelve around 20 after a change in the process.
    before = [10, 10.5, 9.5, 10, 10.5, 9.5, 10, 10.5, 9.5, 10, 10.5, 9.5]
    vals = before + [v + 10 for v in before]
    whole = one(vals)
    assert sides(whole) == [-1] * 12 + [1] * 12  # one chart: two long shifts
    r = one(vals, start=12)
    # Each period has its own limits (mean 10 and 20, moving ranges the same) and runs.
    assert r.segments["mean"][:, 0] == pytest.approx([10.0, 20.0])
    assert r.segments["upper"][1, 0] - 20 == pytest.approx(r.segments["upper"][0, 0] - 10)
    assert (r.mean[0], r.n[0], bool(r.trial[0])) == (pytest.approx(20.0), 12, True)
    assert not r.side.any() and variation(r)[0] == COMMON
    assert r.segment[0].tolist() == [0] * 12 + [1] * 12


def test_runs_do_not_cross_a_rebase_but_an_nhse_trend_does() -> None:
    # 9, 11 six times and four of 10.6, rebased, then four of 10.6 and 9, 11 six times: each
    # period's mean is (120 + 42.4) / 16 = 10.15, so the eight 10.6s are four above the mean
    # on either side of the rebase: no shift. As one chart they are a shift.
    first, second = [9, 11] * 6 + [10.6] * 4, [10.6] * 4 + [9, 11] * 6
    assert one(first + second).rules["shift"][0, 12:20].all()
    for method in (PLOTTHEDOTS, NHSE):
        r = one(first + second, method, start=16)
        assert r.segments["mean"][:, 0] == pytest.approx([10.15, 10.15])
        assert not r.side.any()
    # A rise of seven, three points before the rebase and four after: a trend for the SQL
    # tool, which counts its trend across partitions; not for NHSRplotthedots.
    rise = [9.2, 9.6, 10, 10.4, 10.8, 11.2, 11.6]
    vals = [9, 11] * 6 + rise + [9, 11] * 5
    assert not one(vals, PLOTTHEDOTS, start=15).side.any()
    nhse = one(vals, NHSE, start=15)
    assert nhse.rules["trend"][0].tolist() == [False] * 12 + [True] * 7 + [False] * 10


@BOTH
def test_two_of_three_with_the_middle_point_across_the_mean(method: spc.Method) -> None:
    # 9.5, 10.5 seven times, then 13, 9.5, 13. Sum 140 + 35.5 = 175.5 over 17: mean
    # 10.3235. Moving ranges: thirteen of 1, 2.5, 3.5, 3.5: 22.5 / 16 = 1.40625; two-sigma
    # line 10.3235 + 2.4938 = 12.817, limit 14.064: both 13s lie between, but the 9.5
    # between them is below the mean: no signal.
    base = [9.5, 10.5] * 7
    across = one([*base, 13, 9.5, 13], method)
    assert across.near_upper[0] == pytest.approx(12.8173, abs=1e-4)
    assert not across.side.any()
    # With 10.5 in the middle: sum 176.5, mean 10.3824; moving ranges 13 + 3 x 2.5 = 20.5
    # / 16 = 1.28125; two-sigma line 10.3824 + 2.2721 = 12.654, limit 13.790; 10.5 is above
    # the mean: 2 of 3, the two 13s flagged and the middle point not.
    same = one([*base, 13, 10.5, 13], method)
    assert same.near_upper[0] == pytest.approx(12.6544, abs=1e-4)
    assert sides(same) == [0] * 14 + [1, 0, 1]
    assert same.rules["two_of_three"][0, -3:].tolist() == [True, False, True]


def test_two_of_three_counts_a_point_beyond_the_limit_for_nhse_only() -> None:
    # 9.5, 10.5 seven times, then 11, 13.5, 17. Sum 140 + 41.5 = 181.5 over 17: mean
    # 10.6765. Moving ranges: thirteen of 1, 0.5, 2.5, 3.5: 19.5 / 16 = 1.21875 (none as
    # large as 3.267 x that, 3.98). Two-sigma line 12.838, limit 13.918: 13.5 lies between,
    # 17 beyond, and 11 before them is above the mean.
    vals = [9.5, 10.5] * 7 + [11, 13.5, 17]
    ptd, nhse = one(vals, PLOTTHEDOTS), one(vals, NHSE)
    assert ptd.upper[0] == pytest.approx(13.9184, abs=1e-4)
    # NHSRplotthedots counts only points inside the limit: 13.5 alone, no 2 of 3.
    assert sides(ptd)[-3:] == [0, 0, 1] and not ptd.rules["two_of_three"].any()
    # The SQL tool (v2.6, as the issue has it) counts 17 too: 13.5 and 17 are 2 of 3.
    assert sides(nhse)[-3:] == [0, 1, 1]
    assert nhse.rules["two_of_three"][0, -3:].tolist() == [False, True, True]


# --- One reading per point ------------------------------------------------------------------

# 8, 12 four times, then a fall of seven points from 14 by 0.4 to 11.6. Sum 80 + 89.6 =
# 169.6 over 15: mean 11.3067. Moving ranges: seven of 4, 2, six of 0.4: 32.4 / 14 = 2.3143;
# two-sigma lines 11.3067 +/- 4.104 (7.20 and 15.41): no point near a limit. The fall is a
# trend down (concern where higher is better) and, with the 12 before it, eight points
# above the mean (a shift: improvement): two signals at every point of the fall.
BOTH_WAYS = [8, 12] * 4 + [14, 13.6, 13.2, 12.8, 12.4, 12, 11.6]


def test_a_point_with_two_signals_has_one_reading() -> None:
    ptd = one(BOTH_WAYS, PLOTTHEDOTS, UP)
    assert ptd.mean[0] == pytest.approx(169.6 / 15) and ptd.mr_bar[0] == pytest.approx(32.4 / 14)
    assert ptd.both_ways[0, 8:].all() and not ptd.both_ways[0, :8].any()
    # plotthedots: the trend comes before the shift in its order of rules.
    assert sides(ptd) == [0] * 7 + [1] + [-1] * 7
    assert variation(ptd)[0] == CONCERN and ptd.rule[0, -1] == spc.RULES.index("trend")
    # nhse: the indicator's setting decides, for the headline and every flagged point.
    for prefer, expected, side in ((True, IMPROVEMENT, 1), (False, CONCERN, -1)):
        r = one(BOTH_WAYS, NHSE, UP, prefer_improvement=prefer)
        assert variation(r)[0] == expected and sides(r)[8:] == [side] * 7
        # Lower is better: the same setting reads the same points the other way round.
        r_down = one(BOTH_WAYS, NHSE, DOWN, prefer_improvement=prefer)
        assert variation(r_down)[0] == expected and sides(r_down)[8:] == [-side] * 7


# --- Configuration -------------------------------------------------------------------------

def test_method_for_an_indicator() -> None:
    config = make_config([{}])
    ind = config.indicators[0]
    assert spc.method_for(config, ind) == PLOTTHEDOTS
    nhse_ind = ind.model_copy(update={"spc_method": SpcMethod.NHSE})
    assert spc.method_for(config, nhse_ind) == NHSE
    rules = config.briefing.rules.model_copy(update={"spc_shift": 8, "spc_trend": 9})
    tuned = config.model_copy(update={"briefing": config.briefing.model_copy(
        update={"rules": rules})})
    assert spc.method_for(tuned, nhse_ind) == replace(NHSE, shift=8, trend=9)
    assert not spc.prefers_improvement(config, ind)
    assert spc.prefers_improvement(config, ind.model_copy(
        update={"spc_conflict": SpcConflict.IMPROVEMENT}))


def test_config_refuses_unknown_methods_and_lengths() -> None:
    assert Rules().spc_method is SpcMethod.PLOTTHEDOTS and Rules().spc_shift is None
    with pytest.raises(ValidationError):
        Rules(spc_method="qicharts")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Rules(spc_shift=5)
    with pytest.raises(ValidationError):
        Indicator.model_validate({"code": "X", "title": "X", "service_area": "A",
                                  "unit": "count", "polarity": "neutral", "owner": "o",
                                  "definition": "d", "spc_conflict": "both"})


def test_analyse_spc_per_indicator_methods_and_one_reading() -> None:
    # Three indicators with the history BOTH_WAYS (a fall while above the mean): the
    # briefing's plotthedots, nhse reading such a point as improvement, and nhse with the
    # default (concern); and a rebase on a fourth.
    fall = BOTH_WAYS
    config = make_config([{"code": "P"}, {"code": "I", "spc_method": "nhse",
                                          "spc_conflict": "improvement"},
                          {"code": "C", "spc_method": "nhse"},
                          {"code": "R", "rebase": "2024-05", "target": 11}])
    history = make_history({c: list(fall) for c in "PICR"}, "2024-10")
    analysis = pd.DataFrame({"code": list("PICR"), "period": "2024-10",
                             "polarity": "higher_is_better"})
    out = analyse_spc(history, analysis, config).set_index("code")
    assert out.loc["P", "method"] == "plotthedots" and out.loc["I", "method"] == "nhse"
    assert out.loc["P", "settings"]["shift"] == 7 and out.loc["I", "settings"]["shift"] == 6
    assert out.loc["I", "settings"]["two_signals"] == "improvement"
    assert out.loc["C", "settings"]["two_signals"] == "concern"
    assert list(out["variation"]) == [CONCERN, IMPROVEMENT, CONCERN, COMMON]
    assert bool(out.loc["C", "both_ways"]) and out.loc["C", "rules"][0] == "trend"
    for code, row in out.iterrows():
        # The headline and the chart's latest flagged point are the same reading.
        last = row["points"][-1]["special"]
        expected = {IMPROVEMENT: "improvement", CONCERN: "concern", COMMON: None}
        assert last == expected[row["variation"]], code
    # The rebase (May 2024) leaves six points in the latest period: trial limits there, and
    # two periods in the chart, each with its own limits.
    r = out.loc["R"]
    assert (r["n"], r["n_chart"], r["trial"]) == (6, 15, True)
    assert [g["start"] for g in r["segments"]] == ["2023-08", "2024-05"]
    assert r["mean"] == pytest.approx(sum(fall[9:]) / 6)


# --- Properties ------------------------------------------------------------------------------

finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
series = st.lists(finite, min_size=2, max_size=40)


@settings(max_examples=100, deadline=None)
@given(series)
def test_limits_symmetric_about_the_mean(values: list[float]) -> None:
    r = one(values)
    assert r.upper[0] - r.mean[0] == pytest.approx(r.mean[0] - r.lower[0], abs=1e-6)
    assert r.near_upper[0] - r.mean[0] == pytest.approx((r.upper[0] - r.mean[0]) * 2 / 3,
                                                        abs=1e-6)


@settings(max_examples=50, deadline=None)
@given(finite, st.integers(2, 40))
def test_constant_series_has_no_special_cause(value: float, n: int) -> None:
    for method in (PLOTTHEDOTS, NHSE):
        r = one([value] * n, method)
        assert not r.side.any()
        assert variation(r)[0] in {COMMON, NO_VARIATION}


@settings(max_examples=100, deadline=None)
@given(series, finite)
def test_shifting_by_k_shifts_mean_and_limits(values: list[float], k: float) -> None:
    a, b = one(values), one([v + k for v in values])
    for f in ("mean", "lower", "upper"):
        assert getattr(b, f)[0] == pytest.approx(getattr(a, f)[0] + k, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-100, 100), min_size=2, max_size=40), st.integers(-1000, 1000))
def test_shifting_by_k_keeps_every_signal(values: list[int], k: int) -> None:
    # Values in quarters keep the arithmetic close to exact; signals are judged within a
    # rounding tolerance, so shifting every value must not change any of them.
    base = [v / 4 for v in values]
    for method in (PLOTTHEDOTS, NHSE):
        a, b = one(base, method), one([v + k for v in base], method)
        assert (a.side == b.side).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=2, max_size=40))
def test_reversing_polarity_swaps_improvement_and_concern(values: list[int]) -> None:
    # With plotthedots a point's reading does not depend on polarity, so reversing it
    # swaps the words exactly.
    up, down = variation(one(values, sign=UP))[0], variation(one(values, sign=DOWN))[0]
    swap = {IMPROVEMENT: CONCERN, CONCERN: IMPROVEMENT, COMMON: COMMON}
    assert down == swap[up]
    assert variation(one(values, sign=NEUTRAL))[0] in {COMMON, NEUTRAL_HIGH, NEUTRAL_LOW}


@st.composite
def charts(draw: st.DrawFn) -> tuple[list[float], int, float, float, bool]:
    """A series (some months missing), a rebase column, a polarity, a target, a setting."""
    style = draw(st.sampled_from(["levels", "walk", "noise"]))
    n = draw(st.integers(2, 30))
    if style == "levels":
        vals = [float(v) for v in draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))]
    elif style == "walk":
        steps = draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n))
        vals = [float(sum(steps[:i + 1])) for i in range(n)]
    else:
        vals = draw(st.lists(st.floats(0, 20, allow_nan=False).map(lambda v: round(v, 1)),
                             min_size=n, max_size=n))
    gaps = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    vals = [np.nan if g and draw(st.integers(0, 5)) == 0 else v
            for v, g in zip(vals, gaps, strict=True)]
    start = draw(st.integers(0, n - 1))
    return (vals, start, draw(st.sampled_from([UP, DOWN, NEUTRAL])),
            float(draw(st.integers(0, 20))), draw(st.booleans()))


@settings(max_examples=400, deadline=None)
@given(charts())
def test_agrees_with_the_point_by_point_references(
        chart: tuple[list[float], int, float, float, bool]) -> None:
    vals, start, sign, target, prefer = chart
    present = [v for v in vals if not np.isnan(v)]
    rebase_at = sum(1 for v in vals[:start] if not np.isnan(v)) if start else None
    if len(present) < 2 or (rebase_at is not None and (rebase_at < 2
                                                       or len(present) - rebase_at < 2)):
        return  # a period of fewer than two points has no moving range to set limits by
    imp = int(sign)
    for method, expected in (
            (PLOTTHEDOTS, ref.plotthedots(present, imp, target, rebase_at)),
            (NHSE, ref.nhse(present, imp, target, rebase_at,
                            "improvement" if prefer else "concern"))):
        r = one(vals, method, sign, start, prefer)
        assert sides(r) == expected.points, method.name
        assert variation(r)[0] == expected.variation, method.name
        assert assurance(r, np.array([target]))[0] == expected.assurance, method.name
        if expected.enough:
            assert r.mean[0] == pytest.approx(expected.means[-1], abs=1e-9)
            assert r.lower[0] == pytest.approx(expected.lower[-1], abs=1e-9)
            assert r.upper[0] == pytest.approx(expected.upper[-1], abs=1e-9)
        if method is PLOTTHEDOTS:
            assert bool(r.trial[0]) == expected.warning
