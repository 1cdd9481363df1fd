"""The committee's rules, as plain functions over DataFrames: RAG, direction, deep dive.

Vectorised across indicators (a loop over months, never over indicators), so the same code
serves one council's 30 indicators and a region's thousands.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.config import Config, Polarity
from tasks.periods import (
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

ANALYSIS_COLUMNS = [
    "code", "period", "value", "target", "tolerance", "polarity", "rag", "previous",
    "previous_period", "change", "direction", "consecutive_declines", "deep_dive", "chain_gap",
    "year_ago", "owner", "breach", "direction_3", "direction_6", "direction_12",
    "denominator", "small_number", "min_change",
]


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


def analyse(history: pd.DataFrame, config: Config, cycle: str) -> pd.DataFrame:
    """One row per catalogue indicator for `cycle`, with every comparison the briefing shows.

    Each indicator is compared at its own latest period that has ended by the cycle (a
    quarterly indicator in an October cycle reports July to September). `history` holds all
    known values (stored cycles plus this run's exports). The previous value is the
    indicator's last reported period before that. Declines are counted only between
    consecutive periods: a missing one ends the run, and `chain_gap` names it so the
    briefing can say the rule could not be applied.
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
                           rules.min_denominator)
             for freq in Frequency if (cat["frequency"] == freq).any()]
    out = pd.concat(parts, ignore_index=True).set_index("code").loc[list(cat["code"])]
    return out.reset_index()[ANALYSIS_COLUMNS]


def _analyse_kind(history: pd.DataFrame, cat: pd.DataFrame, freq: Frequency, current: str,
                  needed: int, min_denominator: float) -> pd.DataFrame:
    codes = list(cat["code"])
    per_year = PER_YEAR[freq]
    cur = period_index(current)
    first = cur - max(24, needed + 1, per_year + 1)
    vals = wide_history(history, codes, first, cur, freq).to_numpy()
    dens = wide_history(history, codes, cur, cur, freq, "denominator").to_numpy()[:, -1]
    sign = polarity_sign(cat["polarity"])
    floor = cat["min_change"].to_numpy(dtype="float64")

    out = cat.copy()
    out["period"] = current
    out["value"] = vals[:, -1]
    # Previous reported period: the latest non-missing value before the current one.
    prior = vals[:, :-1]
    has_prior = ~np.isnan(prior)
    last_pos = np.where(has_prior.any(axis=1),
                        prior.shape[1] - 1 - np.argmax(has_prior[:, ::-1], axis=1), -1)
    rows = np.arange(len(codes))
    out["previous"] = np.where(last_pos >= 0, prior[rows, np.maximum(last_pos, 0)], np.nan)
    out["previous_period"] = [period_from_index(first + int(p), freq) if p >= 0 else None
                              for p in last_pos]
    out["change"] = out["value"] - out["previous"]
    out["direction"] = direction(out["change"], out["polarity"], cat["min_change"])
    for k in (3, 6, 12):  # direction of travel over several periods, against k periods ago
        out[f"direction_{k}"] = direction(out["value"] - vals[:, -1 - k], out["polarity"],
                                          cat["min_change"])
    out["year_ago"] = vals[:, -1 - per_year]
    out["rag"] = rag(out["value"], out["target"], out["tolerance"], out["polarity"])

    # Consecutive declines ending at the current period, one period at a time backwards.
    steps = np.diff(vals, axis=1) * sign[:, None]  # >0 improving, <0 declining, NaN gap
    count = np.zeros(len(codes), dtype=int)
    alive = (sign != 0) & ~np.isnan(vals[:, -1])
    gap = np.full(len(codes), None, dtype=object)
    for k in range(steps.shape[1] - 1, -1, -1):
        step = steps[:, k]
        for i in np.flatnonzero(np.isnan(step) & alive):
            # The period at k (before the step) or k+1 is missing; name the one missing.
            gap[i] = period_from_index(first + (k if np.isnan(vals[i, k]) else k + 1), freq)
        declined = alive & ~np.isnan(step) & (step < -floor - EPS)
        count = count + declined
        alive = declined
        if not alive.any():
            break
    out["consecutive_declines"] = count
    out["deep_dive"] = count >= needed
    # A gap matters only where it stopped a run that had not yet reached the rule.
    out["chain_gap"] = [g if (g is not None and c < needed) else None
                        for g, c in zip(gap, count, strict=True)]
    # A percentage of very few cases moves a long way on one child: shown, never a breach alone.
    out["denominator"] = dens
    out["small_number"] = (cat["unit"] == "percent").to_numpy() & (dens < min_denominator)
    out["breach"] = ((out["rag"] == RAG_RED) | out["deep_dive"]) & ~out["small_number"]
    return out


def series(history: pd.DataFrame, code: str, current: str, periods: int,
           extra: str = "numerator") -> list[tuple[str, float | None, float | None]]:
    """The last `periods` periods of one indicator up to `current`: (period, value, and the
    `extra` column, e.g. its numerator), missing ones as None."""
    freq = frequency_of(current)
    cur = period_index(current)
    first = cur - periods + 1
    vals = wide_history(history, [code], first, cur, freq).iloc[0].to_numpy()
    more = wide_history(history, [code], first, cur, freq, extra).iloc[0].to_numpy()
    return [(period_from_index(first + j, freq), None if np.isnan(v) else float(v),
             None if np.isnan(m) else float(m)) for j, (v, m) in enumerate(zip(vals, more,
                                                                               strict=True))]
