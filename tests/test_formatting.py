"""How figures read in the paper, and which are suppressed."""

from __future__ import annotations

import pytest

from tasks.config import Polarity, Unit
from tasks.formatting import (
    Disclosure,
    Edition,
    fmt_change,
    fmt_value,
    is_suppressed,
    target_label,
)

PUBLIC, RESTRICTED = Disclosure(Edition.PUBLIC), Disclosure(Edition.RESTRICTED)


@pytest.mark.parametrize(("unit", "value", "text"), [
    (Unit.PERCENT, 52.0, "52.0%"), (Unit.COUNT, 1234.0, "1,234"), (Unit.DAYS, 31.6, "32 days"),
    (Unit.RATE_PER_10K, 70.04, "70.0"), (Unit.NUMBER, 15.25, "15.2"),
    (Unit.COUNT, 0.0, "0"), (Unit.COUNT, 6.0, "6"), (Unit.PERCENT, None, "–"),
])
def test_values(unit: Unit, value: float | None, text: str) -> None:
    assert fmt_value(unit, value) == text


@pytest.mark.parametrize("value", [1.0, 3.0, 5.0])
def test_small_counts_are_suppressed_in_the_public_edition_only(value: float) -> None:
    assert is_suppressed(Unit.COUNT, value)
    assert PUBLIC.show(Unit.COUNT, value) == "c"
    assert RESTRICTED.show(Unit.COUNT, value) == f"{value:.0f}"
    assert not is_suppressed(Unit.PERCENT, value)  # 3% of many children identifies no one


@pytest.mark.parametrize(("unit", "value", "numerator", "public"), [
    (Unit.COUNT, 0.0, None, "0"),        # DfE publishes zeros
    (Unit.COUNT, 6.0, None, "6"),
    (Unit.PERCENT, 50.0, 3.0, "c"),      # 3 of 6 children: the percentage is hidden too
    (Unit.PERCENT, 50.0, 6.0, "50.0%"),
    (Unit.PERCENT, 2.0, None, "2.0%"),   # no numerator known: nothing to protect
    (Unit.RATE_PER_10K, 1.2, 4.0, "c"),  # a rate over 4 children
    (Unit.DAYS, 3.0, None, "3 days"),    # days are not children
])
def test_hand_worked_primary_suppression(unit: Unit, value: float, numerator: float | None,
                                         public: str) -> None:
    assert PUBLIC.show(unit, value, numerator) == public
    assert RESTRICTED.show(unit, value, numerator) == fmt_value(unit, value)


def test_hand_worked_secondary_suppression_of_differences() -> None:
    # 12 last month, 3 this month: "-9" would reveal the 3 from the published 12.
    assert fmt_change(Unit.COUNT, 3 - 12, hidden=PUBLIC.hidden(Unit.COUNT, 3.0)) == "c"
    # 3 last month, 12 this month: "+9" would reveal the 3 from the published 12.
    assert fmt_change(Unit.COUNT, 12 - 3, hidden=PUBLIC.hidden(Unit.COUNT, 3.0)) == "c"
    assert fmt_change(Unit.COUNT, 12 - 3, hidden=RESTRICTED.hidden(Unit.COUNT, 3.0)) == "+9"


def test_changes_and_targets() -> None:
    assert fmt_change(Unit.PERCENT, 2.0) == "+2.0 pts"
    assert fmt_change(Unit.PERCENT, -0.04) == "−0.04 pts"
    assert fmt_change(Unit.COUNT, 0.0) == "no change"
    assert fmt_change(Unit.DAYS, None) == "–"
    assert target_label(Unit.PERCENT, 40.0, Polarity.LOWER_IS_BETTER) == "at most 40.0%"
    assert target_label(Unit.COUNT, 3.0, Polarity.HIGHER_IS_BETTER) == "at least 3"  # not c
    assert target_label(Unit.PERCENT, None, Polarity.HIGHER_IS_BETTER) == "No target"
