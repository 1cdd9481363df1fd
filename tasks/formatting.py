"""How numbers read in a committee paper, and which ones may not be published.

Counts of 1 to 5 are shown as `c`, as DfE publishes them, so that no child can be
identified from a public paper; anything derived from a suppressed count is `c` too.
"""

from __future__ import annotations

import math

from tasks.config import Polarity, Unit

SUPPRESSED = "c"
NO_DATA = "–"
SUPPRESSION_NOTE = ("c = a count between 1 and 5, not published so that no child can be "
                    "identified (as in DfE's published statistics).")


def is_suppressed(unit: Unit, value: float | None) -> bool:
    return (unit is Unit.COUNT and value is not None and not math.isnan(value)
            and 1 <= value <= 5)


_VALUE = {Unit.PERCENT: "{:.1f}%", Unit.COUNT: "{:,.0f}", Unit.DAYS: "{:.0f} days",
          Unit.RATE_PER_10K: "{:,.1f}", Unit.NUMBER: "{:,.1f}"}
# A change in a percentage is in percentage points, not per cent.
_CHANGE = {**_VALUE, Unit.PERCENT: "{:.1f} pts"}
_AXIS = {Unit.PERCENT: "{:.0f}%", Unit.COUNT: "{:.0f}", Unit.RATE_PER_10K: "{:.0f}",
         Unit.DAYS: "{:.0f}", Unit.NUMBER: "{:.1f}"}


def axis_format(unit: Unit) -> str:
    return _AXIS[unit]


def fmt_value(unit: Unit, value: float | None, suppress: bool = True) -> str:
    """A figure as the paper prints it; targets pass suppress=False (they describe no child)."""
    if value is None or math.isnan(value):
        return NO_DATA
    if suppress and is_suppressed(unit, value):
        return SUPPRESSED
    return _VALUE[unit].format(value)


def fmt_change(unit: Unit, change: float | None, *parts: float | None) -> str:
    """Signed change; `c` if either side is suppressed."""
    if any(is_suppressed(unit, p) for p in parts):
        return SUPPRESSED
    if change is None or math.isnan(change):
        return NO_DATA
    if abs(change) < 1e-9:
        return "no change"
    spec = _CHANGE[unit]
    if unit is Unit.PERCENT and abs(change) < 0.05:
        spec = "{:.2f} pts"  # a real but tiny change must not print as 0.0
    return ("+" if change > 0 else "−") + spec.format(abs(change))


def unit_label(unit: Unit) -> str:
    return {Unit.PERCENT: "percentage", Unit.COUNT: "number of children or events",
            Unit.RATE_PER_10K: "rate per 10,000 children", Unit.DAYS: "days",
            Unit.NUMBER: "number"}[unit]


def polarity_label(polarity: Polarity) -> str:
    return {Polarity.HIGHER_IS_BETTER: "Higher is better",
            Polarity.LOWER_IS_BETTER: "Lower is better",
            Polarity.NEUTRAL: "Neither higher nor lower is better"}[polarity]


def target_label(unit: Unit, target: float | None, polarity: Polarity) -> str:
    if target is None:
        return "No target"
    word = {Polarity.HIGHER_IS_BETTER: "at least", Polarity.LOWER_IS_BETTER: "at most",
            Polarity.NEUTRAL: ""}[polarity]
    return f"{word} {fmt_value(unit, target, suppress=False)}".strip()
