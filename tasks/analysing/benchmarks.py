"""How the authority compares: England, its region, its statistical neighbours, its rank.

Pure functions over the published values (all geographies) that ingest keeps. Suppressed
or unavailable values are missing with their reason kept: never zero, never averaged in.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tasks.reading.ingest import LA_LEVEL
from tasks.settings.config import Config, Polarity, Unit
from tasks.settings.frames import COMPARISONS

# A count is set beside other authorities' only as a rate per 10,000 of their children:
# England's 16,290 beside a council's 52 says nothing, nor does a rank by raw count.
PER_10K = "per 10,000 children"


def comparable(published: pd.DataFrame, config: Config) -> pd.DataFrame:
    """The published values as they may be compared: a count as a rate per 10,000 children
    of each area's population (sources.yaml `population:`), a count with no population
    left out; everything else as published. Column `basis` says which."""
    counts = {i.code for i in config.indicators if i.unit is Unit.COUNT}
    out = published.assign(basis="")
    if not counts or out.empty:
        return out
    is_count = out["indicator"].isin(counts)
    pop = (pd.to_numeric(out["population"], errors="coerce") if "population" in out
           else pd.Series(np.nan, index=out.index))
    rate = (out["value"].astype("float64") / pop * 10000).round(1)
    out.loc[is_count, "value"] = rate[is_count]
    out.loc[is_count, "basis"] = PER_10K
    # Which counts have no population at all: not compared (their rows are dropped).
    has_pop = pop[is_count].notna().groupby(out.loc[is_count, "indicator"]).any()
    without = set(has_pop.index[~has_pop])
    return out[~out["indicator"].isin(without)]


def not_compared(published: pd.DataFrame, config: Config) -> list[str]:
    """Counts that published files give for other authorities but that cannot be made
    rates (no population): not compared at all, which the paper says."""
    if published.empty:
        return []
    kept = set(comparable(published, config)["indicator"])
    return sorted({i.code for i in config.indicators if i.unit is Unit.COUNT}
                  & (set(published["indicator"]) - kept))


def compare_with_others(analysis: pd.DataFrame, published: pd.DataFrame,
                        neighbours: dict[str, list[str]], config: Config) -> pd.DataFrame:
    """One row per indicator that has published values for its current period
    (tasks.settings.frames.COMPARISONS)."""
    if published.empty:
        return COMPARISONS.empty()
    authority = config.briefing.authority.code
    published = comparable(published, config)
    pol = {i.code: i.polarity for i in config.indicators}
    want = analysis[["code", "period"]].rename(columns={"code": "indicator"})
    rows = published.merge(want, on=["indicator", "period"])
    own_region = published.loc[(published["level"] == LA_LEVEL)
                               & (published["area"] == authority), "region"]
    region = str(own_region.iloc[0]) if len(own_region) else ""
    sn = set(neighbours.get(authority, []))
    out = []
    for (code, period), g in rows.groupby(["indicator", "period"], sort=False):
        la = g[g["level"] == LA_LEVEL]
        nat = g.loc[g["level"] == "National", "value"]
        reg = g[(g["level"] == "Regional") & (g["area"] == region)]
        sn_rows = la[la["area"].isin(sn)]
        sn_vals = sn_rows["value"].dropna()
        missing = [f"{name} ({reason if isinstance(reason, str) else 'no figure'})"
                   for name, reason, value in zip(sn_rows["name"], sn_rows["reason"],
                                                  sn_rows["value"], strict=True)
                   if value != value]  # NaN: suppressed or not published
        missing += [f"{c} (not in the file)" for c in sorted(sn - set(sn_rows["area"]))]
        rank = of = quartile = None
        own = la.loc[la["area"] == authority, "value"]
        if len(own) and pd.notna(own.iloc[0]):
            rank, of, quartile = rank_among(la["value"].dropna(), float(own.iloc[0]),
                                            pol.get(str(code), Polarity.NEUTRAL))
        out.append({
            "code": code, "period": period,
            "england": float(nat.iloc[0]) if len(nat) and pd.notna(nat.iloc[0]) else None,
            "region": (float(reg["value"].iloc[0]) if len(reg) and pd.notna(reg["value"].iloc[0])
                       else None),
            "region_name": str(reg["name"].iloc[0]) if len(reg) else "",
            "sn_mean": float(sn_vals.mean()) if len(sn_vals) else None,
            "sn_median": float(np.median(sn_vals)) if len(sn_vals) else None,
            "sn_count": len(sn_vals), "sn_missing": missing,
            "rank": rank, "of": of, "quartile": quartile, "basis": str(g["basis"].iloc[0]),
            "own": float(own.iloc[0]) if len(own) and pd.notna(own.iloc[0]) else None,
        })
    return pd.DataFrame(out, columns=COMPARISONS.columns)


def rank_among(values: pd.Series, own: float, polarity: Polarity) -> tuple[int, int, int]:
    """(rank, of how many, quartile) of `own` among every authority's published figure.

    Rank 1 is best: the highest where higher is better, the lowest where lower is; where
    neither is, rank 1 is the highest (a place, not a judgement). Ties share the best rank
    and the next is skipped (1, 2, 2, 4: "standard competition" ranking, Excel's RANK, which
    DfE's LA Interactive Tool, a workbook, shows). Quartile 1: ranks in the first quarter.
    """
    ahead = (values < own) if polarity is Polarity.LOWER_IS_BETTER else (values > own)
    rank, of = int(ahead.sum()) + 1, len(values)
    return rank, of, min(4, math.ceil(4 * rank / of))


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
