"""The committee's rules, as plain functions over DataFrames: RAG, direction, deep dive.

Vectorised across indicators (a loop over months, never over indicators), so the same code
serves one council's 30 indicators and a region's thousands.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.config import Config, Polarity
from tasks.periods import period_from_index, period_index

EPS = 1e-9  # values are compared after float arithmetic; equal within this is equal

RAG_GREEN, RAG_AMBER, RAG_RED, RAG_NONE = "green", "amber", "red", "none"
IMPROVING, DECLINING, NO_CHANGE, NO_DIRECTION = "improving", "declining", "no_change", "none"

ANALYSIS_COLUMNS = [
    "code", "value", "target", "tolerance", "polarity", "rag", "previous", "previous_period",
    "change", "direction", "consecutive_declines", "deep_dive", "chain_gap", "year_ago",
    "owner", "breach",
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


def direction(change: pd.Series, polarity: pd.Series) -> pd.Series:
    """improving / declining / no_change by polarity; `none` if neutral or not comparable."""
    sign = polarity_sign(polarity)
    signed = change * sign
    out = np.select(
        [change.isna() | (sign == 0), signed.abs() <= EPS, signed > 0],
        [NO_DIRECTION, NO_CHANGE, IMPROVING], DECLINING)
    return pd.Series(out, index=change.index, dtype="object")


def wide_history(history: pd.DataFrame, codes: list[str], first: int, last: int) -> pd.DataFrame:
    """Indicators by month index, first..last inclusive; a month with no value is NaN."""
    h = history[history["indicator"].isin(codes)].copy()
    h["idx"] = h["period"].map(period_index)
    h = h[(h["idx"] >= first) & (h["idx"] <= last)]
    wide = h.pivot_table(index="indicator", columns="idx", values="value", aggfunc="first",
                         dropna=False)
    return wide.reindex(index=codes, columns=range(first, last + 1)).astype("float64")


def analyse(history: pd.DataFrame, config: Config, cycle: str) -> pd.DataFrame:
    """One row per catalogue indicator for `cycle`, with every comparison the briefing shows.

    `history` holds all known values (stored cycles plus this run's exports). The previous
    value is the indicator's last reported month before the cycle. Declines are counted
    only between consecutive months: a missing month ends the run of declines, and
    `chain_gap` names that month so the briefing can say the rule could not be applied.
    """
    cat = pd.DataFrame([{"code": i.code, "target": i.target, "tolerance": i.tolerance,
                         "polarity": i.polarity.value, "owner": i.owner}
                        for i in config.indicators])
    cat["target"] = cat["target"].astype("float64")
    codes = list(cat["code"])
    cyc = period_index(cycle)
    window = max(24, config.briefing.rules.consecutive_declines + 1, 13)
    first = cyc - window
    wide = wide_history(history, codes, first, cyc)
    vals = wide.to_numpy()
    sign = polarity_sign(cat["polarity"])

    out = cat.copy()
    out["value"] = vals[:, -1]
    # Previous reported month: the latest non-missing value before the cycle.
    prior = vals[:, :-1]
    has_prior = ~np.isnan(prior)
    last_pos = np.where(has_prior.any(axis=1),
                        prior.shape[1] - 1 - np.argmax(has_prior[:, ::-1], axis=1), -1)
    rows = np.arange(len(codes))
    out["previous"] = np.where(last_pos >= 0, prior[rows, np.maximum(last_pos, 0)], np.nan)
    out["previous_period"] = [period_from_index(first + int(p)) if p >= 0 else None
                              for p in last_pos]
    out["change"] = out["value"] - out["previous"]
    out["direction"] = direction(out["change"], out["polarity"])
    out["year_ago"] = vals[:, -13]
    out["rag"] = rag(out["value"], out["target"], out["tolerance"], out["polarity"])

    # Consecutive declines ending at the cycle, month by month backwards.
    steps = np.diff(vals, axis=1) * sign[:, None]  # >0 improving, <0 declining, NaN gap
    count = np.zeros(len(codes), dtype=int)
    alive = (sign != 0) & ~np.isnan(vals[:, -1])
    gap = np.full(len(codes), None, dtype=object)
    for k in range(steps.shape[1] - 1, -1, -1):
        step = steps[:, k]
        missing = np.isnan(step) & alive
        for i in np.flatnonzero(missing):
            # The month at k (before the step) or k+1 is missing; name the earlier gap.
            gap[i] = period_from_index(first + (k if np.isnan(vals[i, k]) else k + 1))
        declined = alive & ~np.isnan(step) & (step < -EPS)
        count = count + declined
        alive = declined
        if not alive.any():
            break
    needed = config.briefing.rules.consecutive_declines
    out["consecutive_declines"] = count
    out["deep_dive"] = count >= needed
    # A gap matters only where it stopped a run that had not yet reached the rule.
    out["chain_gap"] = [g if (g is not None and c < needed) else None
                        for g, c in zip(gap, count, strict=True)]
    out["breach"] = (out["rag"] == RAG_RED) | out["deep_dive"]
    return out[ANALYSIS_COLUMNS].reset_index(drop=True)


def series(history: pd.DataFrame, code: str, cycle: str,
           months: int) -> list[tuple[str, float | None]]:
    """The last `months` months of one indicator up to the cycle, missing months as None."""
    cyc = period_index(cycle)
    wide = wide_history(history, [code], cyc - months + 1, cyc)
    return [(period_from_index(int(c)), None if np.isnan(v) else float(v))
            for c, v in zip(wide.columns, wide.iloc[0].to_numpy(), strict=True)]
