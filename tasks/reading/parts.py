"""The parts of a figure as an export gives them (its breakdown columns: by team, locality,
age band), read beside the figures: which row is the whole, and a fault in one part. Their
frame is tasks.settings.frames.PARTS; whether they add up and what drove a change is
tasks.analysing.breakdowns.
"""

from __future__ import annotations

from tasks.reading.problems import BREAKDOWN, Problem, Severity

# A breakdown column's text that names the whole, not a part: the row is the total.
WHOLE = {"all", "total", "all teams", "all areas", "all localities", "whole service",
         "overall", "all ages"}


def is_whole(text: str) -> bool:
    """"All teams", "Total": the row is the indicator's figure itself."""
    return " ".join(text.lower().split()) in WHOLE


def part_fault(file: str, row: int | None, column: str, indicator: str, period: str,
               breakdown: str, part: str, message: str,
               severity: Severity = Severity.ERROR, group: str = "") -> Problem:
    """A fault in one part of a figure's breakdown: that part is not used (so the breakdown
    does not add up and the public edition leaves it out whole), the figure itself stands.
    It withholds nothing else, so it does not stop the run (tasks.reading.problems.blocking). The
    public wording quotes no cell: parts are small numbers."""
    return Problem(
        severity, file, row, column,
        f"{indicator} {period}, {breakdown} {part[:60]!r}: {message}; this part is not used",
        indicator, period=period, kind=BREAKDOWN, group=group, public=(
            f"{indicator} {period}: a part of its breakdown by {breakdown.lower()} is not "
            "used (an error in the source; the restricted edition quotes it)"))
