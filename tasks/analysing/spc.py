"""Statistical process control, XmR charts, as NHS "Making Data Count" teaches, by a named
rule set: the defaults of one of the two tools NHS analysts are trained on.

Pure and vectorised: one call analyses any number of series at once (a matrix, one row per
series, NaN where a period has no value), so 153 authorities x 40 indicators is one call.

The arithmetic both tools share (Wheeler, "Understanding Variation"; NHS England, "Making
Data Count"): the centre line is the mean; moving ranges are |x(i) - x(i-1)| between
consecutive points (a missing period is closed up, as a row absent from the tools' input);
process limits are the mean plus or minus 2.66 times the average moving range; the
two-sigma lines sit at two thirds of that distance. A rebase splits a chart into periods,
each with its own limits from its own points and its own runs.

Where the tools differ, the rule set decides (docs/rules-and-spc.md):
- `plotthedots`, NHSRplotthedots 0.2.x: moving ranges of 3.267 times their average or more
  are screened out before the limits are set; shift 7 and trend 7; 2 of 3 counts only
  points between the two-sigma line and the limit, all three on one side of the mean; a
  point with several signals is read by the first of beyond a limit, trend, 2 of 3, shift;
  assurance only when the target lies strictly outside the limits; a warning under 13
  points.
- `nhse`, NHS England's SPC charts SQL tool v2.6: no screening; shift 6 and trend 6, the
  trend running across a rebase as the tool's does; points beyond the limit count towards
  2 of 3; a point with both an improvement and a concern signal reads as the indicator's
  setting says (a neutral one's high signal wins); assurance when the target is on or
  beyond a limit; no SPC reading at all under 13 points.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from tasks.settings.config import Config, Indicator, SpcConflict
from tasks.settings.frames import SPC
from tasks.settings.periods import frequency_of, period_from_index, period_index

E2 = 2.66  # 3 / d2 for moving ranges of two points
D4 = 3.267  # the moving range chart's upper limit: a larger moving range is screened out
NEAR = 2 * (E2 / 3)  # the two-sigma line, in average moving ranges from the mean

COMMON = "common_cause"
IMPROVEMENT = "special_cause_improvement"
CONCERN = "special_cause_concern"
NEUTRAL_HIGH = "special_cause_neutral_high"
NEUTRAL_LOW = "special_cause_neutral_low"
NO_VARIATION = "none"
PASSING, FAILING, HIT_AND_MISS, NO_ASSURANCE = ("consistently_passing", "consistently_failing",
                                               "hit_and_miss", "none")
# In NHSRplotthedots' order of priority: the first that fires reads a point there.
RULES = ("outside_limits", "trend", "two_of_three", "shift")


@dataclass(frozen=True)
class Method:
    """A named rule set: every choice on which the reference tools differ."""

    name: str
    reference: str  # the tool and version whose defaults these are
    screen_outliers: bool  # leave out moving ranges >= D4 x their average, then re-average
    shift: int  # points in a row on one side of the mean
    trend: int  # points in a row each higher (or lower) than the one before, ends included
    two_of_three_beyond: bool  # a point beyond the limit counts towards 2 of 3
    by_priority: bool  # two signals: the order of RULES (else the indicator's conflict setting)
    inclusive_assurance: bool  # a target exactly on a limit is consistently passed or failed
    min_points: int  # fewer points in the chart: no SPC reading at all
    short_series: int  # fewer points since the rebase: trial limits, with a warning
    trend_across_rebase: bool  # a trend may run on across a rebase


PLOTTHEDOTS = Method(
    name="plotthedots", reference="NHSRplotthedots 0.2.x (NHS-R Community)",
    screen_outliers=True, shift=7, trend=7, two_of_three_beyond=False, by_priority=True,
    inclusive_assurance=False, min_points=2, short_series=13, trend_across_rebase=False)
NHSE = Method(
    name="nhse", reference="NHS England's SPC charts SQL tool v2.6",
    screen_outliers=False, shift=6, trend=6, two_of_three_beyond=True, by_priority=False,
    inclusive_assurance=True, min_points=13, short_series=12, trend_across_rebase=True)
METHODS = {m.name: m for m in (PLOTTHEDOTS, NHSE)}


def method_for(config: Config, indicator: Indicator) -> Method:
    """The rule set an indicator is read by, with the briefing's shift and trend if set."""
    rules = config.briefing.rules
    base = METHODS[(indicator.spc_method or rules.spc_method).value]
    return replace(base, shift=rules.spc_shift or base.shift, trend=rules.spc_trend or base.trend)


def prefers_improvement(config: Config, indicator: Indicator) -> bool:
    return (indicator.spc_conflict or config.briefing.rules.spc_conflict) is \
        SpcConflict.IMPROVEMENT


@dataclass
class XmR:
    """Results for a matrix of series: arrays of shape (series,) or (series, points).

    Per-series figures (mean, limits, n) are the latest period's: after the rebase if there
    is one. `side` is each point's one reading (+1 high, -1 low, 0 none), from which both
    the latest point's variation and the chart's flagged points are taken.
    """

    method: Method
    sign: np.ndarray  # polarity: +1 higher is better, -1 lower, 0 neutral
    n: np.ndarray  # points since the rebase (all of them without one)
    n_chart: np.ndarray  # points in the chart
    mean: np.ndarray
    mr_bar: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    near_lower: np.ndarray
    near_upper: np.ndarray
    trial: np.ndarray  # fewer than the method's short_series points since the rebase
    enough: np.ndarray  # at least the method's min_points in the chart
    present: np.ndarray  # (series, points): a value that period
    segment: np.ndarray  # (series, points): 0 before the rebase, 1 from it
    segments: dict[str, np.ndarray]  # n, mean, lower, upper: (segments, series)
    side: np.ndarray  # (series, points) int8
    both_ways: np.ndarray  # (series, points): signals high and low at once
    rule: np.ndarray  # (series, points) int8: index in RULES of the first rule read, -1 none
    rules: dict[str, np.ndarray]  # rule -> (series, points): fired on the point's side

    @property
    def high(self) -> np.ndarray:
        return self.side > 0

    @property
    def low(self) -> np.ndarray:
        return self.side < 0


def run_lengths(flag: np.ndarray) -> np.ndarray:
    """Length of the run of True each True element belongs to (0 where False), per row."""
    f = np.atleast_2d(np.asarray(flag, dtype=bool))
    rows, cols = f.shape
    padded = np.zeros((rows, cols + 1), dtype=bool)  # a False after each row ends its runs
    padded[:, :cols] = f
    flat = padded.ravel()
    starts = flat & ~np.concatenate([[False], flat[:-1]])
    ids = np.cumsum(starts)
    lengths = np.bincount(ids, weights=flat)[ids] * flat
    out: np.ndarray = lengths.reshape(rows, cols + 1)[:, :cols].astype(np.int64)
    return out


def shift_members(side: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in `length` or more in a row above (first) or below (second) the mean.

    `side` is -1, 0 or +1 per point, points closed up; a point on the mean breaks a run.
    """
    s = np.atleast_2d(side)
    return run_lengths(s > 0) >= length, run_lengths(s < 0) >= length


def trend_members(xs: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in `length` or more in a row each higher (first) or lower (second) than the
    one before, both ends included; `xs` closed up (NaN only after a row's last point)."""
    x = np.atleast_2d(xs)
    d = np.diff(x, axis=1)
    up = np.zeros(x.shape, dtype=bool)
    down = np.zeros(x.shape, dtype=bool)
    for steps, out in ((d > 0, up), (d < 0, down)):  # an equal step breaks a trend
        in_run = run_lengths(steps) >= length - 1
        out[:, :-1] |= in_run
        out[:, 1:] |= in_run
    return up, down


def trend_direction(xs: np.ndarray, member: np.ndarray) -> np.ndarray:
    """NHSRplotthedots' reading of a point in a trend: +1 increasing, -1 decreasing, 0 not.

    The step to the next point when that point is in a trend too, else the step from the
    previous one; only a rising step reads as increasing (a peak shared by a rise and a
    fall reads as the fall).
    """
    x = np.atleast_2d(xs)
    m = np.atleast_2d(member)
    step = np.sign(np.diff(x, axis=1))
    to_next = np.concatenate([step, np.zeros((x.shape[0], 1))], axis=1)
    from_prev = np.concatenate([np.zeros((x.shape[0], 1)), step], axis=1)
    next_in = np.concatenate([m[:, 1:], np.zeros((x.shape[0], 1), dtype=bool)], axis=1)
    s = np.where(m & next_in, to_next, from_prev)
    return np.where(m, np.where(s == 1, 1, -1), 0).astype(np.int8)


def two_of_three(zone: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Points in the zone that are 2 (or 3) of 3 consecutive points in the zone, all three
    on the same side of the mean (`side` -1, 0 or +1; a point on the mean is on neither)."""
    z = np.atleast_2d(zone).astype(np.int8)
    s = np.atleast_2d(side).astype(np.int8)
    out = np.zeros(z.shape, dtype=bool)
    cols = z.shape[1]
    if cols < 3:
        return out
    hit = ((z[:, :-2] + z[:, 1:-1] + z[:, 2:]) >= 2) & \
        (np.abs(s[:, :-2] + s[:, 1:-1] + s[:, 2:]) == 3)
    for k in range(3):
        out[:, k:cols - 2 + k] |= hit
    return out & (z > 0)


def priority_reading(outside_high: np.ndarray, outside_low: np.ndarray, trend_dir: np.ndarray,
                     two: np.ndarray, shift: np.ndarray, side: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """NHSRplotthedots' one reading of a point: beyond a limit, else a trend (its direction),
    else 2 of 3, else a shift (the side of the mean). Returns the direction (+1 high, -1
    low, 0 common cause) and the index in RULES of the rule that decided (-1 none)."""
    decided = [outside_high | outside_low, trend_dir != 0, two, shift]
    direction = np.select(decided, [np.where(outside_high, 1, -1), trend_dir, side, side], 0)
    return direction.astype(np.int8), np.select(decided, [0, 1, 2, 3], -1).astype(np.int8)


@dataclass
class _Closed:
    """Rows with their points closed up: present points first, in time order."""

    order: np.ndarray
    inverse: np.ndarray
    xs: np.ndarray
    present: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> _Closed:
        order = np.argsort(np.isnan(x), axis=1, kind="stable")
        xs = np.take_along_axis(x, order, axis=1)
        return cls(order, np.argsort(order, axis=1), xs, ~np.isnan(xs))

    def back(self, a: np.ndarray) -> np.ndarray:
        """A per-point array in closed-up order back in period order (0 where no point)."""
        out = np.take_along_axis(a, self.inverse, axis=1)
        return np.where(np.take_along_axis(self.present, self.inverse, axis=1), out, 0)


def _limits(c: _Closed, screen: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points, mean and average moving range of each row."""
    n = c.present.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.where(c.present, c.xs, 0.0).sum(axis=1) / n, np.nan)
        mr = np.abs(np.diff(c.xs, axis=1))
        has = ~np.isnan(mr)
        mr_bar = np.where(has.any(axis=1), np.where(has, mr, 0.0).sum(axis=1) / has.sum(axis=1),
                          np.nan)
        if screen:
            # A series with no variation at all has nothing to screen (the R package would
            # drop every moving range and leave no limits).
            keep = has & ((mr < D4 * mr_bar[:, None]) | (mr_bar[:, None] == 0))
            mr_bar = np.where(keep.any(axis=1),
                              np.where(keep, mr, 0.0).sum(axis=1) / keep.sum(axis=1), np.nan)
    return n, mean, mr_bar


def xmr(values: np.ndarray, method: Method = PLOTTHEDOTS,
        segment_start: np.ndarray | None = None, sign: np.ndarray | None = None,
        prefer_improvement: np.ndarray | None = None) -> XmR:
    """XmR analysis of each row of `values` (NaN = no value that period; gaps closed up).

    `segment_start`, per row, is the column of a rebase: the points from it have their own
    limits and runs, and so do those before it. `sign` is each row's polarity and
    `prefer_improvement` its conflict setting; both matter only to how `nhse` reads a point
    with signals both ways (default: neutral, concern).
    """
    x = np.atleast_2d(np.asarray(values, dtype="float64"))
    rows, cols = x.shape
    start = (np.zeros(rows, dtype=int) if segment_start is None
             else np.asarray(segment_start, dtype=int))
    sgn = np.zeros(rows) if sign is None else np.asarray(sign, dtype="float64")
    prefer = (np.zeros(rows, dtype=bool) if prefer_improvement is None
              else np.asarray(prefer_improvement, dtype=bool))
    # One row per (period of the chart, series): S x rows, each judged on its own.
    n_seg = 2 if (start > 0).any() else 1
    segment = (np.arange(cols)[None, :] >= start[:, None]).astype(np.int8) if n_seg == 2 \
        else np.zeros((rows, cols), dtype=np.int8)
    c = _Closed.of(np.concatenate([np.where(segment == s, x, np.nan) for s in range(n_seg)]))
    limits = _limits(c, method.screen_outliers)
    sig = _Signals.of(x, c, limits, n_seg, method)
    if method.by_priority:
        side, _ = priority_reading(sig.out_hi, sig.out_lo, sig.tdir, sig.two,
                                   sig.shift_hi | sig.shift_lo, sig.side_mean)
    else:
        # A neutral indicator's high signal wins, as in the SQL tool's icons.
        settle = np.where(sgn == 0, 1, np.where(prefer, sgn, -sgn))[:, None]
        side = np.where(sig.high & sig.low, settle,
                        np.where(sig.high, 1, np.where(sig.low, -1, 0)))
    ok = ~np.isnan(x)
    n_chart = ok.sum(axis=1)
    enough = n_chart >= method.min_points
    side = np.where(enough[:, None], side, 0).astype(np.int8)
    fired = sig.fired(side, method)
    rule = np.select([fired[r] for r in RULES], list(range(len(RULES))), -1).astype(np.int8)
    return _result(method, sgn, limits, n_seg, n_chart, enough, ok, segment, side,
                   sig.high & sig.low & enough[:, None], rule, fired)


@dataclass(frozen=True)
class _Signals:
    """Every point's signals, per series in period order: beyond a limit, 2 of 3 near a
    limit, a shift, a trend (and its direction), and the side of the mean it lies on."""

    side_mean: np.ndarray
    out_hi: np.ndarray
    out_lo: np.ndarray
    two: np.ndarray
    shift_hi: np.ndarray
    shift_lo: np.ndarray
    trend_up: np.ndarray
    trend_down: np.ndarray
    tdir: np.ndarray

    @property
    def high(self) -> np.ndarray:
        high: np.ndarray = (self.out_hi | self.trend_up | (self.two & (self.side_mean > 0))
                            | self.shift_hi)
        return high

    @property
    def low(self) -> np.ndarray:
        low: np.ndarray = (self.out_lo | self.trend_down | (self.two & (self.side_mean < 0))
                           | self.shift_lo)
        return low

    @classmethod
    def of(cls, x: np.ndarray, c: _Closed, limits: tuple[np.ndarray, np.ndarray, np.ndarray],
           n_seg: int, method: Method) -> _Signals:
        """Each segment's points judged against its own limits (`c`, closed up), merged
        back to one row per series; trends within each period, or over the whole chart
        when the rule set says so."""
        rows, cols = x.shape
        _, mean_e, mr_e = limits
        half = E2 * mr_e
        m, up, lo = mean_e[:, None], (mean_e + half)[:, None], (mean_e - half)[:, None]
        nu, nl = (mean_e + NEAR * mr_e)[:, None], (mean_e - NEAR * mr_e)[:, None]
        # Equal within rounding is equal: a constant series has every point on its mean.
        eps = 1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(m)))
        xs, ps = c.xs, c.present
        side_c = np.where(ps & (xs > m + eps), 1,
                          np.where(ps & (xs < m - eps), -1, 0)).astype(np.int8)
        out_hi_c = ps & (xs > up + eps)
        out_lo_c = ps & (xs < lo - eps)
        zone_c = ps & ((xs > nu + eps) | (xs < nl - eps))
        if not method.two_of_three_beyond:
            zone_c &= ~(out_hi_c | out_lo_c)
        shift_hi_c, shift_lo_c = shift_members(side_c, method.shift)

        def merge(a: np.ndarray) -> np.ndarray:
            """Closed-up per-segment rows back to one row per series in period order."""
            merged: np.ndarray = c.back(a).reshape(n_seg, rows, cols).sum(axis=0)
            return merged

        whole = n_seg == 1 or method.trend_across_rebase
        t = c if n_seg == 1 else _Closed.of(x) if whole else c
        t_up, t_down = trend_members(t.xs, method.trend)
        t_dir = trend_direction(t.xs, t_up | t_down)
        trend_up, trend_down, tdir = (t.back(a) if whole else merge(a)
                                      for a in (t_up, t_down, t_dir))
        return cls(merge(side_c).astype(np.int8), merge(out_hi_c) > 0, merge(out_lo_c) > 0,
                   merge(two_of_three(zone_c, side_c)) > 0, merge(shift_hi_c) > 0,
                   merge(shift_lo_c) > 0, trend_up > 0, trend_down > 0, tdir.astype(np.int8))

    def fired(self, side: np.ndarray, method: Method) -> dict[str, np.ndarray]:
        """Which rule gave each point its reading (on the side it was read)."""
        trend_on_side = ((self.tdir == side) if method.by_priority
                         else ((side > 0) & self.trend_up) | ((side < 0) & self.trend_down))
        return {
            "outside_limits": ((side > 0) & self.out_hi) | ((side < 0) & self.out_lo),
            "trend": trend_on_side & (side != 0),
            "two_of_three": self.two & (self.side_mean == side) & (side != 0),
            "shift": ((side > 0) & self.shift_hi) | ((side < 0) & self.shift_lo),
        }


def _result(method: Method, sgn: np.ndarray,
            limits: tuple[np.ndarray, np.ndarray, np.ndarray], n_seg: int,
            n_chart: np.ndarray, enough: np.ndarray, ok: np.ndarray, segment: np.ndarray,
            side: np.ndarray, both_ways: np.ndarray, rule: np.ndarray,
            fired: dict[str, np.ndarray]) -> XmR:
    """The XmR of each series, with the limits of the period its latest point is in."""
    n_e, mean_e, mr_e = limits
    rows = len(sgn)
    seg_n = n_e.reshape(n_seg, rows)
    latest = np.where(seg_n[-1] > 0, n_seg - 1, 0)

    def pick(a: np.ndarray) -> np.ndarray:
        picked: np.ndarray = a.reshape(n_seg, rows)[latest, np.arange(rows)]
        return picked

    def hide(a: np.ndarray) -> np.ndarray:
        return np.where(enough, a, np.nan)

    half = E2 * mr_e
    mean, mr_bar = pick(mean_e), pick(mr_e)
    return XmR(
        method=method, sign=sgn, n=pick(n_e), n_chart=n_chart, mean=hide(mean),
        mr_bar=hide(mr_bar), lower=hide(mean - E2 * mr_bar), upper=hide(mean + E2 * mr_bar),
        near_lower=hide(mean - NEAR * mr_bar), near_upper=hide(mean + NEAR * mr_bar),
        trial=pick(n_e) < method.short_series, enough=enough, present=ok, segment=segment,
        segments={"n": seg_n, "mean": mean_e.reshape(n_seg, rows),
                  "lower": (mean_e - half).reshape(n_seg, rows),
                  "upper": (mean_e + half).reshape(n_seg, rows)},
        side=side, both_ways=both_ways, rule=rule, rules=fired)


def _latest(result: XmR) -> tuple[np.ndarray, np.ndarray]:
    """Column of each row's latest point, and whether it has a reading at all."""
    cols = result.present.shape[1]
    last = cols - 1 - np.argmax(result.present[:, ::-1], axis=1)
    has = result.present.any(axis=1) & result.enough & ~np.isnan(result.mean)
    return last, has


def variation(result: XmR) -> np.ndarray:
    """The latest point's variation, from its one reading and the series' polarity."""
    last, has = _latest(result)
    side = result.side[np.arange(len(last)), last]
    sign = np.sign(result.sign)
    out = np.full(len(last), COMMON, dtype=object)
    out[side * sign > 0] = IMPROVEMENT
    out[side * sign < 0] = CONCERN
    out[(sign == 0) & (side > 0)] = NEUTRAL_HIGH
    out[(sign == 0) & (side < 0)] = NEUTRAL_LOW
    out[~has] = NO_VARIATION
    return out


def assurance(result: XmR, target: np.ndarray) -> np.ndarray:
    """Will the process meet the target? From where it lies against the latest limits.

    Inclusive (`nhse`): a target on a limit is consistently passed or failed; strict
    (`plotthedots`): it is hit and miss.
    """
    t = np.asarray(target, dtype="float64")
    sign, lo, up = result.sign, result.lower, result.upper
    eps = 1e-9 * np.maximum(1.0, np.abs(np.nan_to_num(result.mean)))
    with np.errstate(invalid="ignore"):
        if result.method.inclusive_assurance:
            below, above = t <= lo + eps, t >= up - eps
        else:
            below, above = t < lo - eps, t > up + eps
    out = np.full(t.shape, HIT_AND_MISS, dtype=object)
    out[((sign > 0) & above) | ((sign < 0) & below)] = FAILING
    out[((sign > 0) & below) | ((sign < 0) & above)] = PASSING
    out[np.isnan(t) | (sign == 0) | np.isnan(result.mean)] = NO_ASSURANCE
    return out


def settings(method: Method, prefer_improvement: bool, default_improvement: bool
             ) -> dict[str, Any]:
    """A rule set's settings as plain data (summary.json, and the paper's method appendix)."""
    def conflict(improvement: bool) -> str:
        return (SpcConflict.IMPROVEMENT if improvement else SpcConflict.CONCERN).value

    return {
        "method": method.name, "reference": method.reference,
        "screen_outliers": method.screen_outliers, "shift": method.shift,
        "trend": method.trend, "two_of_three_counts_beyond_limit": method.two_of_three_beyond,
        "two_signals": "priority" if method.by_priority else conflict(prefer_improvement),
        "two_signals_default": "priority" if method.by_priority
        else conflict(default_improvement),
        "assurance": "inclusive" if method.inclusive_assurance else "strict",
        "min_points": method.min_points, "short_series": method.short_series,
        "trend_across_rebase": method.trend_across_rebase,
    }


def analyse_spc(history: pd.DataFrame, analysis: pd.DataFrame, config: Config) -> pd.DataFrame:
    """SPC for every indicator over its chart window (tasks.settings.frames.SPC): one
    vectorised call per period kind and rule set."""
    from tasks.analysing.compare import polarity_sign, wide_history

    window = config.briefing.rules.chart_periods
    default_improvement = config.briefing.rules.spc_conflict is SpcConflict.IMPROVEMENT
    cat = config.by_code()
    parts = []
    for period, group in analysis.groupby("period", sort=False):
        codes = list(group["code"])
        freq = frequency_of(str(period))
        cur = period_index(str(period))
        first = cur - window + 1
        vals_all = wide_history(history, codes, first, cur, freq).to_numpy()
        rebases = [cat[c].rebase for c in codes]
        start_all = np.array([max(0, period_index(rb) - first)
                              if rb is not None and frequency_of(rb) is freq else 0
                              for rb in rebases])
        sign_all = polarity_sign(group["polarity"])
        prefer_all = np.array([prefers_improvement(config, cat[c]) for c in codes])
        targets_all = np.array([np.nan if cat[c].target is None else cat[c].target
                                for c in codes])
        periods = [period_from_index(first + j, freq) for j in range(vals_all.shape[1])]
        methods = [method_for(config, cat[c]) for c in codes]
        for method in dict.fromkeys(methods):
            idx = np.array([i for i, m in enumerate(methods) if m == method])
            vals = vals_all[idx]
            r = xmr(vals, method, start_all[idx], sign_all[idx], prefer_all[idx])
            var = variation(r)
            var[np.isnan(vals[:, -1])] = NO_VARIATION  # no figure this period: nothing to judge
            assure = assurance(r, targets_all[idx])
            for k, i in enumerate(idx):
                parts.append(_row(codes[i], r, k, vals[k], periods, var[k], assure[k],
                                  settings(method, bool(prefer_all[i]), default_improvement)))
    out = pd.DataFrame(parts, columns=SPC.columns)
    return out.set_index("code").loc[list(analysis["code"])].reset_index()


def _row(code: str, r: XmR, k: int, vals: np.ndarray, periods: list[str], var: str,
         assure: str, method_settings: dict[str, Any]) -> dict[str, Any]:
    """One indicator's SPC as plain data; every point's reading is `r.side`'s."""
    sign = r.sign[k]
    last = len(vals) - 1
    side = int(r.side[k, last]) if not np.isnan(vals[last]) else 0
    pts = []
    for j, p in enumerate(periods):
        if np.isnan(vals[j]):
            continue
        kind = None
        s = int(r.side[k, j])
        if s:
            kind = ("improvement" if s * sign > 0 else "concern" if s * sign < 0
                    else "neutral")
        pts.append({"period": p, "value": float(vals[j]), "special": kind,
                    "rule": RULES[r.rule[k, j]] if r.rule[k, j] >= 0 else None})
    segments = []
    for s in range(r.segments["n"].shape[0]):
        cols = np.flatnonzero((r.segment[k] == s) & r.present[k])
        if r.segments["n"][s, k] == 0 or not len(cols):
            continue
        segments.append({"start": periods[cols[0]], "points": int(r.segments["n"][s, k]),
                         "mean": float(r.segments["mean"][s, k]),
                         "lower_limit": float(r.segments["lower"][s, k]),
                         "upper_limit": float(r.segments["upper"][s, k])})
    return {
        "code": code, "method": r.method.name, "settings": method_settings, "n": int(r.n[k]),
        "n_chart": int(r.n_chart[k]), "enough_points": bool(r.enough[k]), "mean": r.mean[k],
        "lower": r.lower[k], "upper": r.upper[k], "near_lower": r.near_lower[k],
        "near_upper": r.near_upper[k], "trial": bool(r.trial[k]), "variation": var,
        "assurance": assure,
        "rules": [name for name in RULES if side and r.rules[name][k, last]],
        "latest_side": "high" if side > 0 else "low" if side < 0 else "",
        "both_ways": bool(side and r.both_ways[k, last]), "points": pts,
        "segments": segments if r.enough[k] else []}
