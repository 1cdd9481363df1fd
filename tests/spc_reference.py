"""Two deliberately simple references, one series at a time, written point by point from the
tools' own published source, to check the vectorised `tasks.analysing.spc` against.

- `plotthedots`: NHSRplotthedots 0.2.2 (R/ptd_spc_standard.R, ptd_calculate_point_type.R,
  ptd_calculate_assurance_type.R, ptd_add_short_group_warnings.R), transcribed function by
  function: each rebase group's mean, moving ranges screened at 3.267 times their average,
  limits; then seven-point-one-side, seven-point-trend, two-in-three and the case_when
  that reads each point by priority.
- `nhse`: NHS England's SPC charts SQL tool (v2.4's Step 4, the newest version readable
  here), with the v2.6 defaults the issue names: no screening, shift 6, trend 6 counted
  across partitions as the SQL does, points beyond the limit counted towards two-to-three
  sigma, a per-metric conflict rule, inclusive assurance, no SPC under 13 points.

Input is what the tools are given: the values present, in time order (a missing month is
simply a row that is not there), and the position of the first point of a rebase. None of
the production code is used here. The one liberty both take, as the project does: values
within 1e-9 (relative) of a line count as on it, so that rounding cannot decide a signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Reading:
    """What the reference says about one series."""

    means: list[float] = field(default_factory=list)  # one per rebase group
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    points: list[int] = field(default_factory=list)  # each point: +1 high, -1 low, 0 none
    kinds: list[str] = field(default_factory=list)  # improvement | concern | neutral | ""
    variation: str = "none"
    assurance: str = "none"
    warning: bool = False  # plotthedots: the latest group has fewer than 13 points
    enough: bool = True  # nhse: at least 13 points


def _eps(mean: float) -> float:
    return 1e-9 * max(1.0, abs(mean))


def _gt(a: float, b: float, mean: float) -> bool:
    return a > b + _eps(mean)


def _lt(a: float, b: float, mean: float) -> bool:
    return a < b - _eps(mean)


def _sign(a: float, mean: float) -> int:
    return 1 if _gt(a, mean, mean) else -1 if _lt(a, mean, mean) else 0


def _groups(n: int, rebase_at: int | None) -> list[range]:
    if rebase_at is None or rebase_at <= 0 or rebase_at >= n:
        return [range(n)]
    return [range(rebase_at), range(rebase_at, n)]


# --- NHSRplotthedots ---------------------------------------------------------------------

def _seven_point_one_side_mean(rtm: list[int], length: int) -> list[int]:
    out = []
    for i in range(len(rtm)):
        ok = i >= length - 1 and rtm[i] != 0
        for k in range(1, length):
            if ok and rtm[i - k] != rtm[i]:
                ok = False
        out.append(1 if ok else 0)
    return out


def _part_of(v: list[int], length: int) -> list[int]:
    out = []
    for i in range(len(v)):
        hit = 0
        for k in range(length):
            if i + k < len(v) and abs(v[i + k]) == 1:
                hit = 1
        out.append(hit)
    return out


def _seven_point_trend(y: list[float], length: int) -> list[int]:
    out = []
    for i in range(len(y)):
        if i < length - 1:
            out.append(0)
            continue
        steps = []
        for k in range(length - 1):
            d = y[i - k] - y[i - k - 1]
            steps.append(1 if d > 0 else -1 if d < 0 else 0)
        out.append(1 if all(s == 1 for s in steps) else -1 if all(s == -1 for s in steps)
                   else 0)
    return out


def _two_in_three(close: list[int], rtm: list[int]) -> list[int]:
    vp = [0, 0, *close, 0, 0]
    rp = [0, 0, *rtm, 0, 0]
    out = []
    for i in range(len(close)):
        hit = False
        for a in (i, i + 1, i + 2):
            if sum(vp[a:a + 3]) >= 2 and abs(sum(rp[a:a + 3])) == 3:
                hit = True
        out.append(1 if hit else 0)
    return out


def _special_cause_type(y: list[float], rtm: list[int], close: list[int],
                        outside: list[int], shift: int, trend: int) -> list[tuple[str, int]]:
    """Each point's (rule, direction) as ptd_special_cause_type reads it."""
    n = len(y)
    part_trend = _part_of(_seven_point_trend(y, trend), trend)
    t3 = _two_in_three(close, rtm)
    part_two = [1 if t3[i] == 1 and close[i] == 1 else 0 for i in range(n)]
    part_shift = _part_of(_seven_point_one_side_mean(rtm, shift), shift)
    out = []
    for i in range(n):
        if outside[i]:
            out.append(("outside_limits", 1 if rtm[i] == 1 else -1))
        elif part_trend[i]:
            # "if a point is part of a trend either side, use right side"
            if i + 1 < n and part_trend[i + 1]:
                d = y[i + 1] - y[i]
            else:
                d = y[i] - y[i - 1] if i > 0 else 0.0
            out.append(("trend", 1 if d > 0 else -1))
        elif part_two[i]:
            out.append(("two_of_three", 1 if rtm[i] > 0 else -1))
        elif part_shift[i]:
            out.append(("shift", 1 if rtm[i] > 0 else -1))
        else:
            out.append(("", 0))
    return out


def plotthedots(values: list[float], improvement: int, target: float | None = None,
                rebase_at: int | None = None, shift: int = 7, trend: int = 7) -> Reading:
    """NHSRplotthedots' ptd_spc() with its defaults (screen_outliers = TRUE)."""
    r = Reading()
    for g in _groups(len(values), rebase_at):
        y = [values[i] for i in g]
        mean = sum(y) / len(y)
        mrs = [abs(y[i] - y[i - 1]) for i in range(1, len(y))]
        amr = sum(mrs) / len(mrs) if mrs else float("nan")
        kept = [m for m in mrs if m < 3.267 * amr or amr == 0]
        amr = sum(kept) / len(kept) if kept else float("nan")
        lpl, upl = mean - 2.66 * amr, mean + 2.66 * amr
        nlpl, nupl = mean - 2 * (2.66 / 3) * amr, mean + 2 * (2.66 / 3) * amr
        outside = [1 if _gt(v, upl, mean) or _lt(v, lpl, mean) else 0 for v in y]
        rtm = [_sign(v, mean) for v in y]
        close = [1 if not outside[i] and (_lt(y[i], nlpl, mean) or _gt(y[i], nupl, mean))
                 else 0 for i in range(len(y))]
        for _rule, d in _special_cause_type(y, rtm, close, outside, shift, trend):
            r.points.append(d)
            kind = "" if d == 0 else ("neutral" if improvement == 0
                                      else "improvement" if d * improvement > 0 else "concern")
            r.kinds.append(kind)
        r.means.append(mean)
        r.lower.append(lpl)
        r.upper.append(upl)
        r.warning = len(y) < 13
    last = r.points[-1]
    if improvement == 0:
        r.variation = ("special_cause_neutral_high" if last > 0 else
                       "special_cause_neutral_low" if last < 0 else "common_cause")
    else:
        r.variation = ("special_cause_improvement" if last * improvement > 0 else
                       "special_cause_concern" if last * improvement < 0 else "common_cause")
    if target is not None and improvement != 0:
        lpl, upl = r.lower[-1], r.upper[-1]
        if _gt(target, upl, r.means[-1]):
            r.assurance = "consistently_failing" if improvement > 0 else "consistently_passing"
        elif _lt(target, lpl, r.means[-1]):
            r.assurance = "consistently_passing" if improvement > 0 else "consistently_failing"
        else:
            r.assurance = "hit_and_miss"
    return r


# --- NHS England's SQL tool --------------------------------------------------------------

def _started_within(starts: list[bool], i: int, back: int, same: list[int]) -> bool:
    """A start flag at one of the `back` points up to i, in the same partition."""
    return any(starts[s] and same[s] == same[i] for s in range(max(0, i - back + 1), i + 1))


def nhse(values: list[float], improvement: int, target: float | None = None,
         rebase_at: int | None = None, conflict: str = "concern", shift: int = 6,
         trend: int = 6, minimum: int = 13) -> Reading:
    """The SQL tool's Step 4 for an XmR chart, one row at a time."""
    r = Reading()
    n = len(values)
    part = [0] * n
    for gi, g in enumerate(_groups(n, rebase_at)):
        for i in g:
            part[i] = gi
    mean, upl, lpl, up2, lo2 = ([0.0] * n for _ in range(5))
    for g in _groups(n, rebase_at):
        y = [values[i] for i in g]
        m = sum(y) / len(y)
        mrs = [abs(y[k] - y[k - 1]) for k in range(1, len(y))]
        mr = sum(mrs) / len(mrs) if mrs else float("nan")
        for i in g:
            mean[i], upl[i], lpl[i] = m, m + mr * 2.66, m - mr * 2.66
            up2[i], lo2[i] = m + mr * 2.66 * (2 / 3.0), m - mr * 2.66 * (2 / 3.0)
        r.means.append(m)
        r.upper.append(m + mr * 2.66)
        r.lower.append(m - mr * 2.66)
    v = values
    above = [_gt(v[i], mean[i], mean[i]) for i in range(n)]
    below = [_lt(v[i], mean[i], mean[i]) for i in range(n)]
    single_hi = [_gt(v[i], upl[i], mean[i]) for i in range(n)]
    single_lo = [_lt(v[i], lpl[i], mean[i]) for i in range(n)]

    def in_part(i: int, j: int) -> bool:
        return 0 <= j < n and part[j] == part[i]

    def shift_rule(flag: list[bool]) -> list[bool]:
        starts = [flag[i] and all(in_part(i, i + k) and flag[i + k] for k in range(shift))
                  for i in range(n)]
        return [_started_within(starts, i, shift, part) for i in range(n)]

    def trend_rule(step: list[bool]) -> list[bool]:
        # Across partitions: the SQL partitions its trend by chart only.
        starts = [all(i + k < n and step[i + k] for k in range(1, trend)) for i in range(n)]
        return [_started_within(starts, i, trend, [0] * n) for i in range(n)]

    def two_three_rule(flag: list[bool], side: list[bool]) -> list[bool]:
        def f(i: int, j: int, a: list[bool]) -> bool:
            return in_part(i, j) and a[j]
        starts = [flag[i] and ((f(i, i + 1, flag) and (f(i, i - 1, side) or f(i, i + 2, side)))
                               or (f(i, i + 2, flag) and f(i, i + 1, side))) for i in range(n)]
        return [flag[i] and _started_within(starts, i, 3, part) for i in range(n)]

    shift_hi, shift_lo = shift_rule(above), shift_rule(below)
    trend_hi = trend_rule([i > 0 and v[i] > v[i - 1] for i in range(n)])
    trend_lo = trend_rule([i > 0 and v[i] < v[i - 1] for i in range(n)])
    two_hi = two_three_rule([_gt(v[i], up2[i], mean[i]) for i in range(n)], above)
    two_lo = two_three_rule([_lt(v[i], lo2[i], mean[i]) for i in range(n)], below)
    r.enough = n >= minimum
    for i in range(n):
        hi = single_hi[i] or shift_hi[i] or trend_hi[i] or two_hi[i]
        lo = single_lo[i] or shift_lo[i] or trend_lo[i] or two_lo[i]
        good = (hi and improvement > 0) or (lo and improvement < 0)
        bad = (lo and improvement > 0) or (hi and improvement < 0)
        if good and bad:
            good, bad = conflict == "improvement", conflict == "concern"
        if not r.enough:
            d = 0
        elif improvement == 0:
            d = 1 if hi else -1 if lo else 0
        else:
            d = improvement if good else -improvement if bad else 0
        r.points.append(d)
        r.kinds.append("" if d == 0 else "neutral" if improvement == 0
                       else "improvement" if good else "concern")
    last = r.points[-1]
    if not r.enough:
        r.variation = "none"
    elif improvement == 0:
        r.variation = ("special_cause_neutral_high" if last > 0 else
                       "special_cause_neutral_low" if last < 0 else "common_cause")
    else:
        r.variation = {"improvement": "special_cause_improvement",
                       "concern": "special_cause_concern", "": "common_cause"}[r.kinds[-1]]
    if target is not None and improvement != 0 and r.enough:
        lo_, up_, m = r.lower[-1], r.upper[-1], r.means[-1]
        at_or_below = not _gt(target, lo_, m)
        at_or_above = not _lt(target, up_, m)
        if improvement > 0:
            r.assurance = ("consistently_passing" if at_or_below else
                           "consistently_failing" if at_or_above else "hit_and_miss")
        else:
            r.assurance = ("consistently_passing" if at_or_above else
                           "consistently_failing" if at_or_below else "hit_and_miss")
    return r
