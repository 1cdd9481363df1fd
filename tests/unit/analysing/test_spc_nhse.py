"""NHS England's SPC charts SQL tool, worked examples: the tool's own sample data and the
rules its Step 4 documents, run against `tasks.analysing.spc` with the `nhse` rule set.

The sample is the tool's metric M1 ("Rate", XmR, improvement Up, conflict rule Concern,
target 0.95) for five groups, 26 weekly points each, from the "SPC CHARTS SQL QUERY"
(v2.4, the newest version whose text could be read here), with the annotations the tool
puts on its own points ("Below lower process limit", "Start of seven points below mean"
...). Those annotations are the expected results. They were written for v2.4's defaults
(shift 7, trend 7, two-to-three sigma points inside the limit only, SPC from 15 points),
so the examples run with those settings first; v2.6's defaults, which the `nhse` rule set
uses, then add what a shorter run finds.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tasks.analysing.spc import (
    CONCERN,
    FAILING,
    HIT_AND_MISS,
    IMPROVEMENT,
    NHSE,
    NO_VARIATION,
    PASSING,
    Method,
    XmR,
    assurance,
    variation,
    xmr,
)

# The SQL tool v2.4's Step 2 defaults.
SQL_V24 = replace(NHSE, shift=7, trend=7, two_of_three_beyond=False, min_points=15)

TOTAL = [0.922, 0.928, 0.93, 0.926, 0.926, 0.923, 0.921, 0.918, 0.925, 0.91, 0.92, 0.924,
         0.923, 0.92, 0.925, 0.928, 0.927, 0.921, 0.918, 0.921, 0.925, 0.939, 0.929, 0.927,
         0.925, 0.926]
DEPT_A = [0.972, 0.965, 0.966, 0.974, 0.97, 0.971, 0.977, 0.97, 0.97, 0.968, 0.965, 0.96,
          0.967, 0.97, 0.981, 0.977, 0.976, 0.97, 0.973, 0.975, 0.977, 0.98, 0.978, 0.98,
          0.973, 0.97]
DEPT_B = [0.965, 0.956, 0.963, 0.952, 0.947, 0.951, 0.956, 0.958, 0.962, 0.965, 0.967, 0.961,
          0.958, 0.947, 0.952, 0.963, 0.961, 0.96, 0.957, 0.956, 0.955, 0.952, 0.959, 0.963,
          0.954, 0.956]
DEPT_C = [0.913, 0.911, 0.912, 0.909, 0.912, 0.923, 0.905, 0.923, 0.912, 0.905, 0.905, 0.898,
          0.901, 0.915, 0.91, 0.905, 0.912, 0.91, 0.907, 0.915, 0.912, 0.909, 0.92, 0.923,
          0.924, 0.923]
DEPT_D = [0.971, 0.973, 0.978, 0.979, 0.981, 0.985, 0.987, 0.991, 0.993, 0.987, 0.982, 0.98,
          0.979, 0.972, 0.964, 0.962, 0.958, 0.96, 0.961, 0.963, 0.964, 0.965, 0.966, 0.968,
          0.97, 0.972]
TARGET = 0.95


def read(values: list[float], method: Method = SQL_V24, concern: bool = True) -> XmR:
    return xmr(np.array([values]), method, sign=np.array([1.0]),
               prefer_improvement=np.array([not concern]))


def flagged(r: XmR) -> dict[int, int]:
    side = r.side[0]
    return {j: int(s) for j, s in enumerate(side) if s}


def spans(*parts: tuple[range, int]) -> dict[int, int]:
    return {j: d for r, d in parts for j in r}


@pytest.mark.parametrize(("values", "expected"), [
    # 08/03/21 "Below lower process limit"; 31/05/21 "Above upper process limit"
    (TOTAL, {9: -1, 21: 1}),
    # 22/02/21 "Start of seven points below mean"; 10/05/21 "Start of seven points above mean"
    (DEPT_A, spans((range(7, 14), -1), (range(18, 25), 1))),
    # 01/02/21 "Start of seven points increasing"; 19/04/21 "Start of seven points decreasing"
    (DEPT_B, spans((range(4, 11), 1), (range(15, 22), -1))),
    # 22/03/21 "Two out of three points within two-to-three sigma lines with the other point
    # on the same side of the mean"; 14/06/21 "Three out of three points within two-to-three
    # sigma lines"
    (DEPT_C, {11: -1, 12: -1, 23: 1, 24: 1, 25: 1}),
], ids=["total", "department-a", "department-b", "department-c"])
def test_the_tools_annotated_sample(values: list[float], expected: dict[int, int]) -> None:
    assert flagged(read(values)) == expected


def test_the_tools_two_to_three_sigma_example_in_detail() -> None:
    # Department C, 22/03/21: 0.898 and 0.901 lie between the lower two-sigma line and the
    # lower limit; the point before them, 0.905, is below the mean without being that far.
    r = read(DEPT_C)
    lo2, lo = r.near_lower[0], r.lower[0]
    assert lo < 0.898 < lo2 and lo < 0.901 < lo2 and lo2 < 0.905 < r.mean[0]
    assert r.rules["two_of_three"][0, 11] and r.rules["two_of_three"][0, 12]


@pytest.mark.parametrize(("concern", "side", "icon"), [(True, -1, CONCERN),
                                                       (False, 1, IMPROVEMENT)])
def test_the_tools_conflict_example(concern: bool, side: int, icon: str) -> None:
    # Department D, 01/03/21 "Start of decrease (concern) while still above mean
    # (improvement)" and 26/04/21 "Start of increase (improvement) while still below mean
    # (concern)": those runs trigger both kinds of rule; M1's conflict rule (Concern) shows
    # them as concern, and the other setting as improvement.
    r = read(DEPT_D, concern=concern)
    both = [j for j in range(26) if r.both_ways[0, j]]
    assert both == [*range(8, 13), *range(16, 26)]
    assert all(r.side[0, j] == side for j in both)
    assert variation(r)[0] == icon


def test_the_tools_assurance_of_the_sample() -> None:
    # Target 0.95 for every group, improvement Up: "Pass" where the target is at or below
    # the lower limit, "Fail" at or above the upper, "Hit or Miss" between.
    for values, expected in ((TOTAL, FAILING), (DEPT_A, PASSING), (DEPT_B, HIT_AND_MISS),
                             (DEPT_C, FAILING), (DEPT_D, PASSING)):
        r = read(values)
        lo, up = r.lower[0], r.upper[0]
        assert (lo >= TARGET, up <= TARGET) == (expected == PASSING, expected == FAILING)
        assert assurance(r, np.array([TARGET]))[0] == expected


def test_v26_defaults_add_the_shorter_runs() -> None:
    # With shift 6 the last six points of TOTAL (0.925, 0.939, 0.929, 0.927, 0.925, 0.926,
    # after 0.921 below the mean of 0.92412) are a shift; every annotated signal stays.
    r = read(TOTAL, NHSE)
    assert r.mean[0] == pytest.approx(sum(TOTAL) / 26)
    assert flagged(r) == {9: -1, **dict.fromkeys(range(20, 26), 1)}
    for values in (DEPT_A, DEPT_B, DEPT_C):
        v24, v26 = flagged(read(values)), flagged(read(values, NHSE))
        assert v24.items() <= v26.items()


def test_too_few_points_for_spc() -> None:
    # "The minimum number of non-ghosted points needed for each chart ... to display as an
    # SPC chart. Will otherwise display as a run chart, with SPC elements removed": 15 in
    # v2.4, 13 in v2.6.
    for method, minimum in ((SQL_V24, 15), (NHSE, 13)):
        short, enough = read(DEPT_D[:minimum - 1], method), read(DEPT_D[:minimum], method)
        assert not short.enough[0] and np.isnan(short.upper[0])
        assert not short.side.any() and variation(short)[0] == NO_VARIATION
        assert enough.enough[0] and enough.side.any()


def test_no_screening_by_default() -> None:
    # "@ExcludeMovingRangeOutliers BIT = 0": every moving range counts. TOTAL's 0.939 makes
    # moving ranges of 0.014 and 0.010 among ones of about 0.004.
    r = read(TOTAL, NHSE)
    mrs = np.abs(np.diff(TOTAL))
    assert r.mr_bar[0] == pytest.approx(mrs.mean())
    assert r.upper[0] == pytest.approx(sum(TOTAL) / 26 + 2.66 * mrs.mean())
