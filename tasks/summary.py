"""`summary.json`: the machine-readable result of a run, in the contract's field names.

This is the restricted record for officers and other tools (actual values, not the
suppressed ones printed in the public paper); it is never emailed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from tasks.config import Config
from tasks.notify import Delivery
from tasks.problems import Problem, sort_problems
from tasks.values import opt_float, opt_text


def _num(x: object) -> float | None:
    v = opt_float(x)
    return None if v is None else round(v, 6)


def _spc(s: pd.Series) -> dict[str, Any]:
    return {"mean": _num(s["mean"]), "lower_limit": _num(s["lower"]),
            "upper_limit": _num(s["upper"]), "trial_limits": bool(s["trial"]),
            "points_in_baseline": int(s["n"]), "variation": str(s["variation"]),
            "assurance": str(s["assurance"]), "rules": list(s["rules"]),
            "points": list(s["points"])}


def _benchmarks(b: pd.Series) -> dict[str, Any]:
    return {
        "period": str(b["period"]), "england": _num(b["england"]),
        "region": {"name": str(b["region_name"]), "value": _num(b["region"])},
        "statistical_neighbours": {"mean": _num(b["sn_mean"]), "median": _num(b["sn_median"]),
                                   "count": int(b["sn_count"]),
                                   "missing": list(b["sn_missing"])},
        "rank": None if pd.isna(b["rank"]) else int(b["rank"]),
        "of": None if pd.isna(b["of"]) else int(b["of"]),
        "quartile": None if pd.isna(b["quartile"]) else int(b["quartile"]),
    }


def summary_dict(config: Config, analysis: pd.DataFrame, problems: list[Problem],
                 deliveries: list[Delivery], cycle: str, generated_at: datetime,
                 revisions: pd.DataFrame, benchmarks: pd.DataFrame | None = None,
                 spc: pd.DataFrame | None = None) -> dict[str, Any]:
    b = config.briefing
    rows = analysis.set_index("code")
    bench = (benchmarks.set_index("code") if benchmarks is not None and not benchmarks.empty
             else None)
    spc_rows = spc.set_index("code") if spc is not None and not spc.empty else None
    indicators = []
    for ind in config.indicators:
        r = rows.loc[ind.code]
        indicators.append({
            "code": ind.code, "title": ind.title, "service_area": ind.service_area,
            "unit": ind.unit.value, "polarity": ind.polarity.value,
            "value": _num(r["value"]), "target": ind.target, "tolerance": ind.tolerance,
            "rag": r["rag"], "previous": _num(r["previous"]),
            "previous_period": opt_text(r["previous_period"]), "change": _num(r["change"]),
            "direction": r["direction"], "consecutive_declines": int(r["consecutive_declines"]),  # type: ignore[arg-type]
            "deep_dive": bool(r["deep_dive"]), "chain_broken_by_missing": opt_text(r["chain_gap"]),
            "year_ago": _num(r["year_ago"]), "breach": bool(r["breach"]), "owner": ind.owner,
            "period": opt_text(r["period"]),
            "direction_3": r["direction_3"], "direction_6": r["direction_6"],
            "direction_12": r["direction_12"], "small_number": bool(r["small_number"]),
            "spc": (_spc(spc_rows.loc[ind.code])  # type: ignore[arg-type]
                    if spc_rows is not None and ind.code in spc_rows.index else None),
            "benchmarks": (_benchmarks(bench.loc[ind.code])  # type: ignore[arg-type]
                           if bench is not None and ind.code in bench.index else None),
        })
    return {
        "cycle": cycle,
        "authority": {"code": b.authority.code, "name": b.authority.name},
        "committee": b.committee,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "rules": {"consecutive_declines": b.rules.consecutive_declines},
        "indicators": indicators,
        "data_quality": [p.as_dict() for p in sort_problems(problems)],
        "revisions": [{"indicator": r.indicator, "period": r.period,
                       "old_value": _num(r.old_value), "new_value": _num(r.new_value)}
                      for r in revisions.itertuples(index=False)],
        "notifications": [d.as_dict() for d in deliveries],
    }
