"""What a scorecard says about its indicators in its own columns (target, polarity), read
as the catalogue would hold it, and checked against `indicators.yaml` on every run.

The catalogue is what the briefing uses: a scorecard whose Target column says otherwise
is a warning (a target changed in one place and not the other), never a silent change.
`briefing init` uses the same readings to draft the catalogue.
"""

from __future__ import annotations

import re

from tasks.reading.ingest import Metadata
from tasks.reading.problems import Problem, Severity
from tasks.settings.config import Config, Polarity

_TARGET = re.compile(r"(-?\d[\d,]*(?:\.\d+)?|-?\.\d+)")
_LOWER = ("<", "≤", "at most", "below", "under", "no more than", "max", "lower", "less")
_HIGHER = (">", "≥", "at least", "above", "over", "no less than", "min", "higher", "more")
_POLARITY = {
    Polarity.HIGHER_IS_BETTER: ("higher is better", "high is good", "higher", "high", "up",
                                "increase", "↑", "▲", "bigger is better", "more is better"),
    Polarity.LOWER_IS_BETTER: ("lower is better", "low is good", "lower", "low", "down",
                               "decrease", "↓", "▼", "smaller is better",
                               "less is better"),
    Polarity.NEUTRAL: ("neutral", "none", "n/a", "no polarity", "neither", "context",
                       "contextual", "monitor", "no target"),
}


def read_target(text: str) -> tuple[float | None, Polarity | None]:
    """('95%' -> 95), ('<= 4' -> 4, lower is better), ('at least 85%' -> 85, higher is
    better): the number, and the polarity its words imply, if any."""
    t = text.strip().lower()
    m = _TARGET.search(t)
    if not m:
        return None, None
    value = float(m.group(1).replace(",", ""))
    hint = (Polarity.LOWER_IS_BETTER if any(w in t for w in _LOWER) else
            Polarity.HIGHER_IS_BETTER if any(w in t for w in _HIGHER) else None)
    return value, hint


def read_polarity(text: str) -> Polarity | None:
    """A polarity column's words ('Higher is better', 'Low', '↓') as a Polarity, or None
    when they say nothing recognisable."""
    t = " ".join(text.strip().lower().split())
    if not t:
        return None
    for polarity, words in _POLARITY.items():
        if t in words:
            return polarity
    for polarity, words in _POLARITY.items():
        if any(len(w) > 3 and w in t for w in words):
            return polarity
    return None


def check_metadata(metadata: dict[str, Metadata], config: Config) -> list[Problem]:
    """A warning where a scorecard's target or polarity differs from the catalogue's."""
    out: list[Problem] = []
    for ind in config.indicators:
        meta = metadata.get(ind.code)
        if meta is None:
            continue
        if meta.target_heading:
            target, _ = read_target(meta.target)
            if target != ind.target and not (target is not None and ind.target is not None
                                             and abs(target - ind.target) < 1e-9):
                said = f"{meta.target!r}" if meta.target else "nothing"
                out.append(Problem(
                    Severity.WARNING, meta.file, meta.row, meta.target_heading,
                    f"{ind.code}: the scorecard's target says {said}, indicators.yaml says "
                    f"{ind.target if ind.target is not None else 'no target'}; the catalogue "
                    "is used (change one so they agree)", ind.code))
        if meta.polarity_heading and meta.polarity:
            polarity = read_polarity(meta.polarity)
            if polarity is not None and polarity is not ind.polarity:
                out.append(Problem(
                    Severity.WARNING, meta.file, meta.row, meta.polarity_heading,
                    f"{ind.code}: the scorecard says {meta.polarity!r} ({polarity.value}), "
                    f"indicators.yaml says {ind.polarity.value}; the catalogue is used",
                    ind.code))
    return out
