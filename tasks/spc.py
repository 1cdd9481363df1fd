"""Statistical process control, XmR charts, as NHS England's "Making Data Count" teaches.

Pure and vectorised: one call analyses any number of series at once (a matrix, one row per
series, NaN where a period has no value), so 153 authorities x 40 indicators is one call.

The method (Wheeler, "Understanding Variation"; NHS England and NHS Improvement, "Making
Data Count", 2019, and its "Plot the Dots" guidance):
- the centre line is the mean; moving ranges are |x(i) - x(i-1)| between consecutive
  points; process limits are mean +/- 2.66 x the mean moving range; "near" limits sit at
  two thirds of that distance (the two-sigma lines);
- limits come from a baseline of points (all of them by default; from the last rebase
  period when one is set); fewer than 12 points give trial limits, marked as such;
- special cause: a point beyond a process limit; a shift of `shift` (7, or 6) points in a
  row on one side of the mean (a point on the mean breaks it); a trend of `trend` (7, or 6)
  points all rising or all falling; two of three points beyond the same near limit;
- the latest point's variation is common cause, or special cause improvement or concern
  by the indicator's polarity (neutral high or low for a neutral indicator); with a target,
  assurance is consistently passing or failing when the target lies outside the limits on
  the passing or failing side, and hit and miss when it lies between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tasks.config import Config
from tasks.periods import frequency_of, period_from_index, period_index

E2 = 2.66  # 3 / d2 for moving ranges of two points
MIN_BASELINE = 12

COMMON = "common_cause"
IMPROVEMENT = "special_cause_improvement"
CONCERN = "special_cause_concern"
NEUTRAL_HIGH = "special_cause_neutral_high"
NEUTRAL_LOW = "special_cause_neutral_low"
NO_VARIATION = "none"
PASSING, FAILING, HIT_AND_MISS, NO_ASSURANCE = ("consistently_passing", "consistently_failing",
                                               "hit_and_miss", "none")
RULES = ("outside_limits", "shift", "trend", "two_of_three")


@dataclass(frozen=True)
class Options:
    shift: int = 7
    trend: int = 7
    min_points: int = 2  # fewer points: no analysis at all


@dataclass
class XmR:
    """Results for a matrix of series: arrays of shape (series,) or (series, points)."""

    n: np.ndarray  # points used per series
    mean: np.ndarray
    mr_bar: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    near_lower: np.ndarray
    near_upper: np.ndarray
    trial: np.ndarray  # fewer than MIN_BASELINE points in the baseline
    high: np.ndarray  # (series, points): special cause above the mean / rising
    low: np.ndarray  # (series, points): special cause below the mean / falling
    present: np.ndarray  # (series, points): a value that period
    rules: dict[str, np.ndarray] = field(default_factory=dict)  # rule -> (series, points)


def _runs(flag: np.ndarray) -> np.ndarray:
    """Length of the run of True each True element belongs to (0 where False), per row."""
    fwd = np.zeros(flag.shape, dtype=np.int32)
    bwd = np.zeros(flag.shape, dtype=np.int32)
    cols = flag.shape[1]
    for j in range(cols):
        prev = fwd[:, j - 1] if j else 0
        fwd[:, j] = np.where(flag[:, j], prev + 1, 0)
    for j in range(cols - 1, -1, -1):
        nxt = bwd[:, j + 1] if j < cols - 1 else 0
        bwd[:, j] = np.where(flag[:, j], nxt + 1, 0)
    return np.where(flag, fwd + bwd - 1, 0)


def xmr(values: np.ndarray, opts: Options = Options(),
        baseline_start: np.ndarray | None = None) -> XmR:
    """XmR analysis of each row of `values` (NaN = no value that period; gaps are skipped).

    `baseline_start`, per row, is the column from which limits are calculated (a rebase);
    points before it are still judged, against the new limits.
    """
    x = np.asarray(values, dtype="float64")
    if x.ndim == 1:
        x = x[None, :]
    rows, cols = x.shape
    ok = ~np.isnan(x)
    start = np.zeros(rows, dtype=int) if baseline_start is None else np.asarray(baseline_start)
    in_base = ok & (np.arange(cols)[None, :] >= start[:, None])
    n = in_base.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.nansum(np.where(in_base, x, 0.0), axis=1) / n, np.nan)
        # Moving ranges between consecutive *present* points: carry the last value forward.
        last = _ffill(np.where(in_base, x, np.nan))
        prev = np.concatenate([np.full((rows, 1), np.nan), last[:, :-1]], axis=1)
        mr = np.where(in_base, np.abs(x - prev), np.nan)
        mr_n = (~np.isnan(mr)).sum(axis=1)
        mr_bar = np.where(mr_n > 0, np.nansum(np.nan_to_num(mr), axis=1) / mr_n, np.nan)
    half = E2 * mr_bar
    upper, lower = mean + half, mean - half
    near_upper, near_lower = mean + half * 2 / 3, mean - half * 2 / 3
    valid = n >= opts.min_points

    # Rules are judged on the points in order, gaps closed up (a missing month is skipped).
    order = np.argsort(~ok, axis=1, kind="stable")  # present points first, in time order
    xs = np.take_along_axis(x, order, axis=1)
    ps = ~np.isnan(xs)
    m, u, lo = mean[:, None], upper[:, None], lower[:, None]
    nu, nl = near_upper[:, None], near_lower[:, None]
    # Equal within rounding is equal: a constant series has every point on its mean.
    eps = 1e-9 * np.maximum(1.0, np.abs(m))

    above_limit = ps & (xs > u + eps)
    below_limit = ps & (xs < lo - eps)
    side_up = ps & (xs > m + eps)
    side_down = ps & (xs < m - eps)
    shift_up = _runs(side_up) >= opts.shift
    shift_down = _runs(side_down) >= opts.shift
    d = np.diff(xs, axis=1)
    rising_step = ~np.isnan(d) & (d > 0)
    falling_step = ~np.isnan(d) & (d < 0)
    # A trend of T points is T-1 steps in one direction; mark every point in it.
    rise_run = _runs(rising_step) >= opts.trend - 1
    fall_run = _runs(falling_step) >= opts.trend - 1
    pad = np.zeros((rows, 1), dtype=bool)
    trend_up = np.concatenate([rise_run, pad], axis=1) | np.concatenate([pad, rise_run], axis=1)
    trend_down = (np.concatenate([fall_run, pad], axis=1)
                  | np.concatenate([pad, fall_run], axis=1))
    beyond_up = ps & (xs > nu + eps)
    beyond_down = ps & (xs < nl - eps)
    two_up = _two_of_three(beyond_up, ps)
    two_down = _two_of_three(beyond_down, ps)

    high_s = above_limit | shift_up | trend_up | two_up
    low_s = below_limit | shift_down | trend_down | two_down
    inverse = np.argsort(order, axis=1)
    back = lambda a: np.take_along_axis(a, inverse, axis=1) & ok & valid[:, None]  # noqa: E731
    rules = {"outside_limits": back(above_limit | below_limit),
             "shift": back(shift_up | shift_down), "trend": back(trend_up | trend_down),
             "two_of_three": back(two_up | two_down)}
    return XmR(n=n, mean=np.where(valid, mean, np.nan), mr_bar=np.where(valid, mr_bar, np.nan),
               lower=np.where(valid, lower, np.nan), upper=np.where(valid, upper, np.nan),
               near_lower=np.where(valid, near_lower, np.nan),
               near_upper=np.where(valid, near_upper, np.nan),
               trial=n < MIN_BASELINE, high=back(high_s), low=back(low_s), present=ok,
               rules=rules)


def _ffill(a: np.ndarray) -> np.ndarray:
    idx = np.where(~np.isnan(a), np.arange(a.shape[1])[None, :], 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    out = np.take_along_axis(a, idx, axis=1)
    return out


def _two_of_three(beyond: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Points beyond a near limit that are two (or three) of three consecutive points."""
    cols = beyond.shape[1]
    b = beyond.astype(np.int8)
    marked = np.zeros_like(beyond)
    for j in range(cols - 2):
        window = b[:, j:j + 3].sum(axis=1) >= 2
        full = present[:, j:j + 3].all(axis=1)
        hit = window & full
        marked[:, j:j + 3] |= hit[:, None] & beyond[:, j:j + 3]
    return marked


def variation(result: XmR, sign: np.ndarray) -> np.ndarray:
    """The latest present point's variation, by polarity (+1 higher better, -1, 0 neutral)."""
    rows, cols = result.high.shape
    present = ~np.isnan(result.mean) & result.present.any(axis=1)
    last_idx = cols - 1 - np.argmax(result.present[:, ::-1], axis=1)
    hi = result.high[np.arange(rows), last_idx]
    lo = result.low[np.arange(rows), last_idx]
    out = np.full(rows, COMMON, dtype=object)
    good = (hi & (sign > 0)) | (lo & (sign < 0))
    bad = (hi & (sign < 0)) | (lo & (sign > 0))
    out[good] = IMPROVEMENT
    out[bad] = CONCERN
    out[hi & (sign == 0)] = NEUTRAL_HIGH
    out[lo & (sign == 0)] = NEUTRAL_LOW
    out[~present] = NO_VARIATION
    return out


def assurance(result: XmR, target: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """Will the process meet the target? Judged from where the target lies against limits."""
    t = np.asarray(target, dtype="float64")
    out = np.full(t.shape, HIT_AND_MISS, dtype=object)
    passing = ((sign > 0) & (t <= result.lower)) | ((sign < 0) & (t >= result.upper))
    failing = ((sign > 0) & (t > result.upper)) | ((sign < 0) & (t < result.lower))
    out[passing] = PASSING
    out[failing] = FAILING
    out[np.isnan(t) | (sign == 0) | np.isnan(result.mean)] = NO_ASSURANCE
    return out


SPC_COLUMNS = ["code", "n", "mean", "lower", "upper", "near_lower", "near_upper", "trial",
               "variation", "assurance", "rules", "latest_side", "points"]


def analyse_spc(history: pd.DataFrame, analysis: pd.DataFrame, config: Config) -> pd.DataFrame:
    """SPC for every indicator over its chart window, one vectorised call per period kind."""
    from tasks.compare import polarity_sign, wide_history

    rules = config.briefing.rules
    opts = Options(shift=rules.spc_shift, trend=rules.spc_trend)
    window = rules.chart_periods
    cat = {i.code: i for i in config.indicators}
    parts = []
    for period, group in analysis.groupby("period", sort=False):
        codes = list(group["code"])
        freq = frequency_of(str(period))
        cur = period_index(str(period))
        first = cur - window + 1
        vals = wide_history(history, codes, first, cur, freq).to_numpy()
        rebases = [cat[c].rebase for c in codes]
        start = np.array([max(0, period_index(rb) - first)
                          if rb is not None and frequency_of(rb) is freq else 0
                          for rb in rebases])
        r = xmr(vals, opts, start)
        sign = polarity_sign(group["polarity"])
        var = variation(r, sign)
        var[np.isnan(vals[:, -1])] = NO_VARIATION  # no figure this period: nothing to judge
        targets = np.array([np.nan if cat[c].target is None else cat[c].target for c in codes])
        assure = assurance(r, targets, sign)
        periods = [period_from_index(first + j, freq) for j in range(vals.shape[1])]
        for i, code in enumerate(codes):
            fired = [name for name in RULES if r.rules[name][i, -1]]
            side = "high" if r.high[i, -1] else "low" if r.low[i, -1] else ""
            pts = []
            for j, p in enumerate(periods):
                if np.isnan(vals[i, j]):
                    continue
                kind = None
                if r.high[i, j] or r.low[i, j]:
                    s = sign[i] * (1 if r.high[i, j] else -1)
                    kind = "improvement" if s > 0 else "concern" if s < 0 else "neutral"
                pts.append({"period": p, "value": float(vals[i, j]), "special": kind})
            parts.append({
                "code": code, "n": int(r.n[i]), "mean": r.mean[i], "lower": r.lower[i],
                "upper": r.upper[i], "near_lower": r.near_lower[i],
                "near_upper": r.near_upper[i], "trial": bool(r.trial[i]),
                "variation": var[i], "assurance": assure[i], "rules": fired,
                "latest_side": side, "points": pts})
    out = pd.DataFrame(parts, columns=SPC_COLUMNS)
    return out.set_index("code").loc[list(analysis["code"])].reset_index()
