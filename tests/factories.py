"""Small hand-made configs and histories for rule tests."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tasks.settings.config import Config
from tasks.settings.frames import FIGURES
from tasks.settings.periods import shift


def make_config(indicators: list[dict[str, Any]], consecutive: int = 2,
                recipients: list[dict[str, str]] | None = None) -> Config:
    inds = []
    for i, d in enumerate(indicators):
        base: dict[str, Any] = {"code": f"X{i}", "title": f"Indicator {i}", "service_area": "Area",
                                "unit": "percent", "polarity": "higher_is_better",
                                "owner": "o1", "definition": "A test indicator."}
        base.update(d)
        inds.append(base)
    return Config.model_validate({
        "indicators": inds,
        "owners": {"o1": {"name": "Owner One", "role": "Head of Tests",
                          "email": "one@example.gov.uk"},
                   "o2": {"name": "Owner Two", "role": "Head of Checks",
                          "email": "two@example.gov.uk"}},
        "briefing": {
            "authority": {"name": "Testshire", "code": "998"},
            "committee": "Test Scrutiny Board",
            "contact": {"name": "C", "role": "R", "phone": "0", "email": "c@example.gov.uk"},
            "recipients": recipients if recipients is not None else
            [{"name": "Clerk", "email": "clerk@example.gov.uk"}],
            "rules": {"consecutive_declines": consecutive},
            "mail": {"sender": "perf@example.gov.uk"},
        },
    })


def make_history(series: dict[str, list[float | None]], end: str) -> pd.DataFrame:
    """Monthly values ending at `end`, oldest first; None means no record that month."""
    rows = []
    for code, values in series.items():
        n = len(values)
        for k, v in enumerate(values):
            if v is None:
                continue
            rows.append({"indicator": code, "period": shift(end, k - n + 1), "value": float(v),
                         "numerator": float("nan"), "denominator": float("nan")})
    return pd.DataFrame(rows, columns=FIGURES.columns)
