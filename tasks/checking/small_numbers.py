"""Which figures count 1 to 5 children: the rule the public edition hides by
(tasks.editions.disclosure), here because the checks before it (reconcile, validate,
precision) need it too and come first in a run.
"""

from __future__ import annotations

import math

from tasks.settings.config import Unit

SMALL = range(1, 6)  # the counts of children that are never published
CHILD_UNITS = (Unit.COUNT, Unit.PERCENT, Unit.RATE_PER_10K)


def per_unit(unit: Unit) -> float:
    return 100.0 if unit is Unit.PERCENT else 10_000.0


def known(x: float | None) -> bool:
    return x is not None and not math.isnan(x)


def decimals_written(x: float) -> int:
    """The decimal places a value was written to (50 -> 0, 33.3 -> 1), at most 7."""
    for d in range(8):
        if abs(round(x, d) - x) <= 1e-9 * max(1.0, abs(x)):
            return d
    return 7


def children(unit: Unit, value: float | None, numerator: float | None = None,
             denominator: float | None = None) -> tuple[float, float] | None:
    """How many children a figure counts, as a range: the count itself, or a percentage's or
    rate's numerator; when the export left the numerator blank, every count that the value,
    as rounded in the export, could come from over its denominator (5% of 110 cases, written
    to whole numbers, is 4.95 to 6.05 children). None when nothing can be counted."""
    if not known(value) or unit not in CHILD_UNITS:
        return None
    assert value is not None
    if unit is Unit.COUNT:
        return value, value
    if known(numerator):
        assert numerator is not None
        return numerator, numerator
    if not known(denominator) or denominator is None or denominator <= 0:
        return None  # nothing to count: the paper never prints a denominator either
    half = 0.5 * 10.0 ** -decimals_written(value)
    per = per_unit(unit)
    return (value - half) * denominator / per, (value + half) * denominator / per


def is_small(unit: Unit, value: float | None, numerator: float | None = None,
             denominator: float | None = None) -> bool:
    """Would the public edition hide this figure? When the children it counts could number
    1 to 5, or a percentage is over 1 to 5 cases (as DfE suppresses a small denominator).
    A count of 0 is published, as by DfE."""
    if not known(value) or unit not in CHILD_UNITS:
        return False
    if unit is Unit.PERCENT and denominator is not None and known(denominator) \
            and round(denominator) in SMALL:
        return True
    n = children(unit, value, numerator, denominator)
    if n is None:
        return False
    return could_be_small(n) or complement_small(unit, value, numerator, denominator)


def could_be_small(n: tuple[float, float]) -> bool:
    lo, hi = max(min(SMALL), math.ceil(n[0] - 1e-9)), min(max(SMALL), math.floor(n[1] + 1e-9))
    return lo <= hi


def complement_small(unit: Unit, value: float | None, numerator: float | None,
                      denominator: float | None) -> bool:
    """A percentage whose complement within its total could be 1 to 5 children ("9 of 9
    visited, less h"): the total less the figure is as much a count of children as the
    figure, and a reader who knows the total (or, from "fewer than 10 cases", can work it
    out) reads it off the percentage."""
    if unit is not Unit.PERCENT or denominator is None or not known(denominator) \
            or denominator <= 0:
        return False
    n = children(unit, value, numerator, denominator)
    return n is not None and could_be_small((denominator - n[1], denominator - n[0]))


def possible_values(unit: Unit, denominator: float | None,
                    complement: bool = False) -> tuple[float, float]:
    """Every value a small figure could hold, as far as a reader of the public edition can
    tell: from 1 to 5 children over the figure's own denominator when it has one, widened by
    half a unit each side for an export that rounds to whole numbers, and anything at all
    for a percentage over 1 to 5 cases. With `complement`, a percentage whose total less
    its figure is 1 to 5 children: from all but 5 to all but 1 of its cases."""
    if complement and unit is Unit.PERCENT and denominator is not None \
            and known(denominator) and denominator > 0 and round(denominator) not in SMALL:
        return (max(0.0, 100.0 * (denominator - max(SMALL)) / denominator - 0.5),
                min(100.0, 100.0 * (denominator - min(SMALL)) / denominator + 0.5))
    if unit is Unit.COUNT:
        return float(min(SMALL)), float(max(SMALL))
    per, top = (100.0, 100.0) if unit is Unit.PERCENT else (10_000.0, math.inf)
    if (not known(denominator) or denominator is None or denominator <= 0
            or (unit is Unit.PERCENT and round(denominator) in SMALL)):
        return 0.0, top
    return (max(0.0, per * min(SMALL) / denominator - 0.5),
            min(top, per * max(SMALL) / denominator + 0.5))
