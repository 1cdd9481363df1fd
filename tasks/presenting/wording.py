"""Sentences that more than one output says: written once, here, so that the paper and the
workbook, read side by side, can never say different things about the same figure.

The first of them is the deep-dive rule's reason. When a run of declines rests on figures an
edition withholds, it may be longer than the part shown: the paper said "at least", the
workbook did not (issue 25). Both now take their words from here.
"""

from __future__ import annotations

from tasks.analysing.results import IndicatorResult
from tasks.settings.periods import Frequency, frequency_of, label, shift

SMALL_FIGURES = "figures about small numbers of children, which are not published"


def unit_of_time(period: str) -> str:
    """The periods an indicator is reported in, as a reader counts them."""
    return {Frequency.MONTHLY: "months", Frequency.QUARTERLY: "quarters",
            Frequency.ANNUAL: "years"}[frequency_of(period)]


def deep_dive_reason(r: IndicatorResult, needed: int) -> str | None:
    """Why an indicator needs a deep dive, or why that is not published; None when it needs
    none. Without a closing full stop: the paper ends it, the workbook joins it to others."""
    unit = unit_of_time(r.period)
    if r.deep_dive is None:
        return (f"Deep dive not published: whether it got worse in each of the last {needed} "
                f"{unit} rests on {SMALL_FIGURES}")
    if r.deep_dive is not True:
        return None
    n = r.consecutive_declines
    if r.declines_exact:
        return (f"Deep dive: worse in each of the last {n} consecutive {unit} (the rule is "
                f"{needed}), since {label(shift(r.period, -n))}")
    return (f"Deep dive: worse in each of at least the last {n} consecutive {unit} (the rule "
            f"is {needed})")


def deep_dive_flag(r: IndicatorResult, not_published: str = "Not published") -> str:
    """The deep-dive column: Yes (with the run), No, or not published."""
    if r.deep_dive is None:
        return not_published
    if not r.deep_dive:
        return "No"
    least = "" if r.declines_exact else "at least "
    return f"Yes ({least}{r.consecutive_declines} in a row)"
