"""Monthly reporting periods as `YYYY-MM` strings and whole-month arithmetic on them."""

from __future__ import annotations

import re
from datetime import date

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]


def is_period(text: str) -> bool:
    return bool(_PERIOD.match(text))


def period_index(period: str) -> int:
    """Months since year 0, so consecutive months differ by exactly 1."""
    m = _PERIOD.match(period)
    if not m:
        raise ValueError(f"not a period in the form YYYY-MM: {period!r}")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def period_from_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def shift(period: str, months: int) -> str:
    return period_from_index(period_index(period) + months)


def label(period: str) -> str:
    """'2024-10' -> 'October 2024', as a committee paper writes it."""
    idx = period_index(period)
    return f"{_MONTHS[idx % 12]} {idx // 12}"


def short_label(period: str) -> str:
    idx = period_index(period)
    return f"{_MONTHS[idx % 12][:3]} {str(idx // 12)[2:]}"


def current_period(today: date | None = None) -> str:
    today = today or date.today()
    return f"{today.year:04d}-{today.month:02d}"
