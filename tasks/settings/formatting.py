"""How numbers read in a committee paper. Which of them an edition may print is decided in
`tasks.editions.disclosure`; this module only writes them.
"""

from __future__ import annotations

import math
from enum import StrEnum

from tasks.settings.config import Polarity, Unit

SUPPRESSED = "c"
NO_DATA = "–"
SUPPRESSION_NOTE = ("c = a figure about 1 to 5 children (a count of 1 to 5, or a percentage "
                    "or rate over such a count), not published so that no child can be "
                    "identified (as in DfE's published statistics).")


class Edition(StrEnum):
    PUBLIC = "public"
    RESTRICTED = "restricted"


# Each unit's way of writing a figure: text before and after the number, and the decimal
# places an indicator's `decimals` replaces.
_PARTS: dict[Unit, tuple[str, str, int]] = {
    Unit.PERCENT: ("", "%", 1), Unit.COUNT: ("", "", 0), Unit.DAYS: ("", " days", 0),
    Unit.RATE_PER_10K: ("", "", 1), Unit.NUMBER: ("", "", 1), Unit.MONEY: ("£", "", 0)}
_AXIS = {Unit.PERCENT: "{:.0f}%", Unit.COUNT: "{:.0f}", Unit.RATE_PER_10K: "{:.0f}",
         Unit.DAYS: "{:.0f}", Unit.NUMBER: "{:.1f}", Unit.MONEY: "£{:,.0f}"}


def unit_places(unit: Unit) -> int:
    """The decimal places a unit is printed to when nothing says otherwise."""
    return _PARTS[unit][2]


def axis_format(unit: Unit) -> str:
    return _AXIS[unit]


def _number(unit: Unit, value: float, decimals: int | None, suffix: str | None = None) -> str:
    before, after, places = _PARTS[unit]
    places = places if decimals is None else decimals
    grouping = "," if unit is not Unit.PERCENT else ""
    return f"{before}{value:{grouping}.{places}f}{after if suffix is None else suffix}"


def fmt_value(unit: Unit, value: float | None, decimals: int | None = None) -> str:
    """A figure as the paper prints it (whether it may be printed is decided elsewhere), to
    the unit's decimal places or the indicator's own `decimals`."""
    if value is None or not math.isfinite(value):
        return NO_DATA  # no figure; nor one no arithmetic could hold ("£inf" is no figure)
    if value < 0 and unit is Unit.MONEY:
        return "−" + _number(unit, -value, decimals)  # −£250, an underspend
    return _number(unit, value, decimals)


def fmt_change(unit: Unit, change: float | None, hidden: bool = False,
               decimals: int | None = None) -> str:
    """Signed change; `c` if either figure it is worked out from is hidden. A change in a
    percentage is in percentage points, not per cent."""
    if hidden:
        return SUPPRESSED
    if change is None or not math.isfinite(change):
        return NO_DATA
    if abs(change) < 1e-9:
        return "no change"
    places = _PARTS[unit][2] if decimals is None else decimals
    if abs(change) < 0.5 * 10.0 ** -places:
        places += 1  # a real but tiny change must not print as 0.0
    suffix = " pts" if unit is Unit.PERCENT else None
    return ("+" if change > 0 else "−") + _number(unit, abs(change), places, suffix)


def unit_label(unit: Unit) -> str:
    return {Unit.PERCENT: "percentage", Unit.COUNT: "number of children or events",
            Unit.RATE_PER_10K: "rate per 10,000 children", Unit.DAYS: "days",
            Unit.NUMBER: "number", Unit.MONEY: "amount in pounds (£)"}[unit]


def polarity_label(polarity: Polarity) -> str:
    return {Polarity.HIGHER_IS_BETTER: "Higher is better",
            Polarity.LOWER_IS_BETTER: "Lower is better",
            Polarity.NEUTRAL: "Neither higher nor lower is better"}[polarity]


def target_label(unit: Unit, target: float | None, polarity: Polarity,
                 decimals: int | None = None) -> str:
    if target is None:
        return "No target"
    word = {Polarity.HIGHER_IS_BETTER: "at least", Polarity.LOWER_IS_BETTER: "at most",
            Polarity.NEUTRAL: ""}[polarity]
    return f"{word} {fmt_value(unit, target, decimals)}".strip()
