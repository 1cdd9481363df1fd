"""How numbers read in a committee paper, and which ones may not be published.

Two editions come from one run. The restricted edition (officers, the board's private
session) shows every figure. The public edition shows counts of 1 to 5 as `c`, as DfE
publishes them, and percentages or rates whose numerator is 1 to 5 as `c` too, so that no
child can be identified; anything from which a hidden figure could be worked out (a change,
an average over a chart with one hidden point, SPC limits) is hidden as well.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from tasks.config import Polarity, Unit

SUPPRESSED = "c"
NO_DATA = "–"
SUPPRESSION_NOTE = ("c = a count between 1 and 5, not published so that no child can be "
                    "identified (as in DfE's published statistics).")


class Edition(StrEnum):
    PUBLIC = "public"
    RESTRICTED = "restricted"


def _small(x: float | None) -> bool:
    return x is not None and not math.isnan(x) and 1 <= x <= 5


def is_suppressed(unit: Unit, value: float | None, numerator: float | None = None) -> bool:
    """Would the public edition hide this figure? Counts 1 to 5, and percentages or rates
    over a numerator of 1 to 5."""
    if value is None or math.isnan(value):
        return False
    if unit is Unit.COUNT:
        return _small(value)
    return unit in (Unit.PERCENT, Unit.RATE_PER_10K) and _small(numerator)


@dataclass(frozen=True)
class Disclosure:
    """What an edition may print."""

    edition: Edition

    @property
    def public(self) -> bool:
        return self.edition is Edition.PUBLIC

    def hidden(self, unit: Unit, value: float | None, numerator: float | None = None) -> bool:
        return self.public and is_suppressed(unit, value, numerator)

    def show(self, unit: Unit, value: float | None, numerator: float | None = None) -> str:
        return SUPPRESSED if self.hidden(unit, value, numerator) else fmt_value(unit, value)


_VALUE = {Unit.PERCENT: "{:.1f}%", Unit.COUNT: "{:,.0f}", Unit.DAYS: "{:.0f} days",
          Unit.RATE_PER_10K: "{:,.1f}", Unit.NUMBER: "{:,.1f}"}
# A change in a percentage is in percentage points, not per cent.
_CHANGE = {**_VALUE, Unit.PERCENT: "{:.1f} pts"}
_AXIS = {Unit.PERCENT: "{:.0f}%", Unit.COUNT: "{:.0f}", Unit.RATE_PER_10K: "{:.0f}",
         Unit.DAYS: "{:.0f}", Unit.NUMBER: "{:.1f}"}


def axis_format(unit: Unit) -> str:
    return _AXIS[unit]


def fmt_value(unit: Unit, value: float | None) -> str:
    """A figure as the paper prints it (whether it may be printed is `Disclosure`'s call)."""
    if value is None or math.isnan(value):
        return NO_DATA
    return _VALUE[unit].format(value)


def fmt_change(unit: Unit, change: float | None, hidden: bool = False) -> str:
    """Signed change; `c` if either figure it is worked out from is hidden."""
    if hidden:
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
    return f"{word} {fmt_value(unit, target)}".strip()
