"""How figures read in the paper (which may be printed: tests/unit/editions/test_disclosure.py)."""

from __future__ import annotations

import pytest

from tasks.settings.config import Polarity, Unit
from tasks.settings.formatting import fmt_change, fmt_value, target_label


@pytest.mark.parametrize(("unit", "value", "text"), [
    (Unit.PERCENT, 52.0, "52.0%"), (Unit.COUNT, 1234.0, "1,234"), (Unit.DAYS, 31.6, "32 days"),
    (Unit.RATE_PER_10K, 70.04, "70.0"), (Unit.NUMBER, 15.25, "15.2"),
    (Unit.COUNT, 0.0, "0"), (Unit.COUNT, 6.0, "6"), (Unit.PERCENT, None, "–"),
])
def test_values(unit: Unit, value: float | None, text: str) -> None:
    assert fmt_value(unit, value) == text


def test_changes_and_targets() -> None:
    assert fmt_change(Unit.PERCENT, 2.0) == "+2.0 pts"
    assert fmt_change(Unit.PERCENT, -0.04) == "−0.04 pts"
    assert fmt_change(Unit.COUNT, 0.0) == "no change"
    assert fmt_change(Unit.DAYS, None) == "–"
    assert fmt_change(Unit.COUNT, -9.0, hidden=True) == "c"
    assert target_label(Unit.PERCENT, 40.0, Polarity.LOWER_IS_BETTER) == "at most 40.0%"
    assert target_label(Unit.COUNT, 3.0, Polarity.HIGHER_IS_BETTER) == "at least 3"  # not c
    assert target_label(Unit.PERCENT, None, Polarity.HIGHER_IS_BETTER) == "No target"
