"""A jump beyond what an indicator's own history makes plausible: often an input error.

The inspection that started this product found a care-leavers figure wrong because of
input errors. A change far outside the indicator's usual period-to-period movement is
flagged for checking before the committee reads it: robustly, from the median absolute
deviation of past changes, so one earlier spike does not hide the next.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.reading.problems import JUMP, Problem, Severity
from tasks.settings.config import Config
from tasks.settings.periods import frequency_of, label, period_index

MIN_CHANGES = 6  # past changes needed before judging what is usual
THRESHOLD = 5.0  # robust standard deviations


def implausible_jumps(history: pd.DataFrame, analysis: pd.DataFrame,
                      config: Config) -> list[Problem]:
    h = history.dropna(subset=["value"]).copy()
    if h.empty:
        return []
    h["kind"] = h["period"].map(frequency_of)
    h["idx"] = h["period"].map(period_index)
    h = h.sort_values(["indicator", "kind", "idx"])
    grp = h.groupby(["indicator", "kind"], sort=False)
    h["change"] = grp["value"].diff()
    h["gap"] = grp["idx"].diff()
    # Only changes between consecutive periods, before the current one, say what is usual.
    current = dict(zip(analysis["code"], analysis["period"], strict=True))
    h["is_current"] = [current.get(i) == p for i, p in zip(h["indicator"], h["period"],
                                                            strict=True)]
    past = h[(h["gap"] == 1) & ~h["is_current"]]
    stats = past.groupby("indicator")["change"].agg(
        n="count", mad=lambda c: float(np.median(np.abs(c - np.median(c)))),
        med="median")
    now = h[h["is_current"] & (h["gap"] == 1)].set_index("indicator")
    titles = {i.code: i.title for i in config.indicators}
    problems = []
    for code, row in now.iterrows():
        if code not in stats.index:
            continue
        s = stats.loc[str(code)]
        sigma = 1.4826 * float(s["mad"])
        if s["n"] < MIN_CHANGES or sigma <= 0:
            continue
        z = abs(float(row["change"]) - float(s["med"])) / sigma
        if z > THRESHOLD:
            prev = float(row["value"]) - float(row["change"])
            problems.append(Problem(
                Severity.WARNING, "(history store)", None, "value",
                f"{code} {titles.get(str(code), '')}: {prev:g} to {float(row['value']):g} in "
                f"{label(str(row['period']))} is a far larger change than its history makes "
                f"plausible (usually within ±{THRESHOLD * sigma:.2g}); check the figure "
                "before it is reported", str(code), period=str(row["period"]), kind=JUMP))
    return problems
