"""The committee's rules, as plain functions over DataFrames: RAG, direction, deep dive.

Vectorised across indicators (a loop over months, never over indicators), so the same code
serves one council's 30 indicators and a region's thousands.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.settings.config import Config, Polarity
from tasks.settings.frames import ANALYSIS
from tasks.settings.periods import (
    PER_YEAR,
    Frequency,
    frequency_of,
    latest_of_kind,
    period_from_index,
    period_index,
)

EPS = 1e-9  # values are compared after float arithmetic; equal within this is equal

RAG_GREEN, RAG_AMBER, RAG_RED, RAG_NONE = "green", "amber", "red", "none"
IMPROVING, DECLINING, NO_CHANGE, NO_DIRECTION = "improving", "declining", "no_change", "none"


def polarity_sign(polarity: pd.Series) -> np.ndarray:
    """+1 where higher is better, -1 where lower is better, 0 where neutral."""
    return np.select([polarity == Polarity.HIGHER_IS_BETTER.value,
                      polarity == Polarity.LOWER_IS_BETTER.value], [1.0, -1.0], 0.0)


def rag(value: pd.Series, target: pd.Series, tolerance: pd.Series,
        polarity: pd.Series) -> pd.Series:
    """Green when the target is met (at or better), amber within tolerance, else red.

    `none` with no target, no value, or a neutral indicator.
    """
    sign = polarity_sign(polarity)
    # How far better than target, in the indicator's units (negative = short of it).
    margin = (value - target) * sign
    known = value.notna() & target.notna() & (sign != 0)
    out = np.select(
        [~known, margin >= -EPS, margin >= -tolerance.fillna(0) - EPS],
        [RAG_NONE, RAG_GREEN, RAG_AMBER], RAG_RED)
    return pd.Series(out, index=value.index, dtype="object")


def direction(change: pd.Series, polarity: pd.Series,
              min_change: pd.Series | float = 0.0) -> pd.Series:
    """improving / declining / no_change by polarity; `none` if neutral or not comparable.

    A change no bigger than `min_change` (per indicator, in its units) is no change.
    """
    sign = polarity_sign(polarity)
    signed = change * sign
    floor = np.asarray(min_change, dtype="float64") + EPS
    out = np.select(
        [change.isna() | (sign == 0), signed.abs() <= floor, signed > 0],
        [NO_DIRECTION, NO_CHANGE, IMPROVING], DECLINING)
    return pd.Series(out, index=change.index, dtype="object")


def wide_history(history: pd.DataFrame, codes: list[str], first: int, last: int,
                 freq: Frequency = Frequency.MONTHLY, column: str = "value") -> pd.DataFrame:
    """Indicators by period index (of kind `freq`), first..last inclusive; missing is NaN."""
    h = history[history["indicator"].isin(codes)]
    h = h[h["period"].map(frequency_of) == freq].copy()
    h["idx"] = h["period"].map(period_index)
    h = h[(h["idx"] >= first) & (h["idx"] <= last)]
    wide = h.pivot_table(index="indicator", columns="idx", values=column, aggfunc="first",
                         dropna=False)
    return wide.reindex(index=codes, columns=range(first, last + 1)).astype("float64")


WITHHELD = "withheld"  # a rating or direction that rests on a figure the edition hides


def analyse(history: pd.DataFrame, config: Config, cycle: str,
            bounds: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per catalogue indicator for `cycle`, with every comparison the briefing shows
    (tasks.settings.frames.ANALYSIS).

    Each indicator is compared at its own latest period that has ended by the cycle (a
    quarterly indicator in an October cycle reports July to September). `history` holds all
    known values (stored cycles plus this run's exports). The previous value is the
    indicator's last reported period before that. Declines are counted only between
    consecutive periods: a missing one ends the run, and `chain_gap` names it so the
    briefing can say the rule could not be applied.

    `bounds` (indicator, period, lo, hi) widens figures that an edition may not print to
    every value they could hold (see `tasks.editions.disclosure`). The rules then run over those
    ranges: a result that is the same across the range is kept, any other is `withheld`
    (a rating or direction), NaN (a number), or marked undetermined (`deep_dive_possible`
    true while `deep_dive` is false; `breach_possible` likewise). Without bounds every
    result is determined, and the two columns equal their certain counterparts.
    """
    cat = pd.DataFrame([{"code": i.code, "target": i.target, "tolerance": i.tolerance,
                         "polarity": i.polarity.value, "owner": i.owner,
                         "frequency": i.frequency, "min_change": i.min_change,
                         "unit": i.unit.value}
                        for i in config.indicators])
    cat["target"] = cat["target"].astype("float64")
    rules = config.briefing.rules
    parts = [_analyse_kind(history, cat[cat["frequency"] == freq].reset_index(drop=True),
                           freq, latest_of_kind(freq, cycle), rules.consecutive_declines,
                           rules.min_denominator, bounds)
             for freq in Frequency if (cat["frequency"] == freq).any()]
    out = pd.concat(parts, ignore_index=True).set_index("code").loc[list(cat["code"])]
    return out.reset_index()[ANALYSIS.columns]


def _widen(history: pd.DataFrame, bounds: pd.DataFrame | None, codes: list[str], first: int,
           last: int, freq: Frequency
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(values, lowest, highest, widened) by indicator and period; lowest = highest = value
    except where `bounds` widens a figure. NaN where there is no figure."""
    vals = wide_history(history, codes, first, last, freq).to_numpy()
    lo, hi = vals.copy(), vals.copy()
    hidden = np.zeros(vals.shape, dtype=bool)
    if bounds is not None and not bounds.empty:
        b = bounds.rename(columns={"lo": "value"})
        lo_w = wide_history(b, codes, first, last, freq).to_numpy()
        hi_w = wide_history(b.drop(columns="value").rename(columns={"hi": "value"}), codes,
                            first, last, freq).to_numpy()
        hidden = ~np.isnan(lo_w) & ~np.isnan(vals)
        lo[hidden], hi[hidden] = lo_w[hidden], hi_w[hidden]
    return vals, lo, hi, hidden


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    """a where a and b agree, else `withheld`: a result true across a whole range, or none."""
    return a.where(a == b, WITHHELD)


def _previous(vals: np.ndarray, lo: np.ndarray, hi: np.ndarray, hidden: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The previous reported period: the latest before the current one with a figure. Its
    place (-1: none), value, lowest and highest possible values, and whether it is hidden."""
    prior = vals[:, :-1]
    has_prior = ~np.isnan(prior)
    last_pos = np.where(has_prior.any(axis=1),
                        prior.shape[1] - 1 - np.argmax(has_prior[:, ::-1], axis=1), -1)
    rows = np.arange(len(vals))
    at = np.maximum(last_pos, 0)
    found = last_pos >= 0
    prev = np.where(found, prior[rows, at], np.nan)
    prev_lo = np.where(found, lo[:, :-1][rows, at], np.nan)
    prev_hi = np.where(found, hi[:, :-1][rows, at], np.nan)
    return last_pos, prev, prev_lo, prev_hi, found & hidden[:, :-1][rows, at]


def _committee_rules(out: pd.DataFrame, v_lo: pd.Series, v_hi: pd.Series,
                     runs: tuple[np.ndarray, np.ndarray, list[str | None]], needed: int,
                     dens: np.ndarray, min_denominator: float) -> None:
    """The rating, the run of declines and the deep dive, and the breach, each as certain
    and as possible (over the range a hidden figure could hold), into `out`."""
    polarity, target, tolerance = out["polarity"], out["target"], out["tolerance"]
    rag_lo = rag(v_lo, target, tolerance, polarity)
    rag_hi = rag(v_hi, target, tolerance, polarity)
    out["rag"] = _same(rag_lo, rag_hi)
    red_possible = (rag_lo == RAG_RED) | (rag_hi == RAG_RED)
    least, most, gap = runs
    out["consecutive_declines"] = least
    out["declines_most"] = most
    out["deep_dive"] = least >= needed
    out["deep_dive_possible"] = most >= needed
    # A gap matters only where it certainly stopped a run that had not yet reached the rule.
    out["chain_gap"] = [g if (g is not None and a == b and a < needed) else None
                        for g, a, b in zip(gap, least, most, strict=True)]
    # A percentage of very few cases moves a long way on one child: shown, never a breach alone.
    out["denominator"] = dens
    out["small_number"] = (out["unit"] == "percent").to_numpy() & (dens < min_denominator)
    small = out["small_number"]
    out["breach"] = ((out["rag"] == RAG_RED) | out["deep_dive"]) & ~small
    out["breach_possible"] = (red_possible | out["deep_dive_possible"]) & ~small


def _analyse_kind(history: pd.DataFrame, cat: pd.DataFrame, freq: Frequency, current: str,
                  needed: int, min_denominator: float,
                  bounds: pd.DataFrame | None = None) -> pd.DataFrame:
    codes = list(cat["code"])
    per_year = PER_YEAR[freq]
    cur = period_index(current)
    first = cur - max(24, needed + 1, per_year + 1)
    vals, lo, hi, hidden = _widen(history, bounds, codes, first, cur, freq)
    dens = wide_history(history, codes, cur, cur, freq, "denominator").to_numpy()[:, -1]
    sign = polarity_sign(cat["polarity"])
    floor = cat["min_change"].to_numpy(dtype="float64")
    polarity, minimum = cat["polarity"], cat["min_change"]

    out = cat.copy()
    out["period"] = current
    out["value"] = np.where(hidden[:, -1], np.nan, vals[:, -1])
    last_pos, prev, prev_lo, prev_hi, prev_hidden = _previous(vals, lo, hi, hidden)
    out["previous"] = np.where(prev_hidden, np.nan, prev)
    out["previous_period"] = [period_from_index(first + int(p), freq) if p >= 0 else None
                              for p in last_pos]
    either = hidden[:, -1] | prev_hidden
    out["change"] = np.where(either, np.nan, vals[:, -1] - prev)
    v_lo, v_hi = pd.Series(lo[:, -1]), pd.Series(hi[:, -1])
    out["direction"] = _same(direction(v_lo - pd.Series(prev_hi), polarity, minimum),
                             direction(v_hi - pd.Series(prev_lo), polarity, minimum))
    for k in (3, 6, 12):  # direction of travel over several periods, against k periods ago
        out[f"direction_{k}"] = _same(
            direction(v_lo - pd.Series(hi[:, -1 - k]), polarity, minimum),
            direction(v_hi - pd.Series(lo[:, -1 - k]), polarity, minimum))
    out["year_ago"] = np.where(hidden[:, -1 - per_year], np.nan, vals[:, -1 - per_year])
    _committee_rules(out, v_lo, v_hi, decline_runs(lo, hi, sign, floor, first, freq),
                     needed, dens, min_denominator)
    out["withheld"] = [
        [name for name, h in (("value", hidden[i, -1]), ("previous", prev_hidden[i]),
                              ("change", either[i]),
                              ("year_ago", hidden[i, -1 - per_year])) if h]
        for i in range(len(codes))]
    return out


def decline_runs(lo: np.ndarray, hi: np.ndarray, sign: np.ndarray, floor: np.ndarray,
                 first: int, freq: Frequency) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Consecutive declines ending at the last column, counted backwards one period at a time.

    Each figure lies between `lo` and `hi` (equal when known exactly). A step is a certain
    decline when it is one for every value the figures could hold, a possible decline when
    for some. Returns (certain run, possible run, the missing period that ended the possible
    run, if one did). With exact figures the two runs are the same.
    """
    rows = lo.shape[0]
    # Signed steps (> 0 better, < 0 worse) at their worst and best over the ranges.
    up_lo, up_hi = lo[:, 1:] - hi[:, :-1], hi[:, 1:] - lo[:, :-1]
    s = sign[:, None]
    worst = np.where(s >= 0, up_lo * s, up_hi * s)
    best = np.where(s >= 0, up_hi * s, up_lo * s)
    limit = -floor[:, None] - EPS
    certain = best < limit  # worse whatever the figures
    possible = worst < limit  # worse for some values they could hold
    least = np.zeros(rows, dtype=int)
    most = np.zeros(rows, dtype=int)
    alive_least = alive_most = (sign != 0) & ~np.isnan(lo[:, -1])
    gap: list[str | None] = [None] * rows
    for k in range(worst.shape[1] - 1, -1, -1):
        missing = np.isnan(worst[:, k])
        for i in np.flatnonzero(missing & alive_most):
            # The period at k (before the step) or k+1 is missing; name the one missing.
            gap[i] = period_from_index(first + (k if np.isnan(lo[i, k]) else k + 1), freq)
        alive_least = alive_least & ~missing & certain[:, k]
        alive_most = alive_most & ~missing & possible[:, k]
        least += alive_least
        most += alive_most
        if not alive_most.any():
            break
    return least, most, gap


def series(history: pd.DataFrame, code: str, current: str, periods: int,
           extra: str = "numerator") -> list[tuple[str, float | None, float | None]]:
    """The last `periods` periods of one indicator up to `current`: (period, value, and the
    `extra` column, e.g. its numerator), missing ones as None."""
    freq = frequency_of(current)
    cur = period_index(current)
    first = cur - periods + 1
    # As `wide_history` would give it (the first figure of each period), without a pivot
    # table per indicator: a paper asks for one series per indicator and edition.
    values: dict[int, float] = {}
    extras: dict[int, float] = {}
    rows = history[history["indicator"] == code]
    for period, v, m in zip(rows["period"], rows["value"], rows[extra], strict=True):
        if frequency_of(period) is not freq or not first <= period_index(period) <= cur:
            continue
        i = period_index(period)
        if v == v and i not in values:  # NaN is not equal to itself: no figure
            values[i] = float(v)
        if m == m and i not in extras:
            extras[i] = float(m)
    return [(period_from_index(i, freq), values.get(i), extras.get(i))
            for i in range(first, cur + 1)]
