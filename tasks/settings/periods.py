"""Reporting periods and whole-period arithmetic on them.

Three kinds, told apart by their form:
- monthly `YYYY-MM`;
- quarterly `YYYY-Qn`, calendar quarters (Q1 = January to March);
- annual `YYYY`, a DfE reporting year (2025 = the year to 31 March 2025 for the CIN and
  CLA collections; the workforce census is at 30 September; either way, one a year).
Consecutive periods of a kind differ by exactly 1 in `period_index`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"


_MONTHLY = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])\Z", re.ASCII)
_QUARTERLY = re.compile(r"^(\d{4})-Q([1-4])\Z", re.ASCII)
_ANNUAL = re.compile(r"^(\d{4})\Z", re.ASCII)
_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]
_MONTH_NUMBER = {m[:3].lower(): i for i, m in enumerate(_MONTHS, 1)} | {"sept": 9}
PER_YEAR = {Frequency.MONTHLY: 12, Frequency.QUARTERLY: 4, Frequency.ANNUAL: 1}


# Years a period may have: wide enough for any history, narrow enough that a typo (0000,
# 9999) is refused rather than run off the calendar's ends when shifted.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def frequency_of(period: str) -> Frequency:
    if not FIRST_YEAR <= int(period[:4] if period[:4].isascii() and period[:4].isdigit()
                             else 0) <= LAST_YEAR:
        raise ValueError(f"not a period (YYYY-MM, YYYY-Qn or YYYY, years {FIRST_YEAR} to "
                         f"{LAST_YEAR}): {period!r}")
    if _MONTHLY.match(period):
        return Frequency.MONTHLY
    if _QUARTERLY.match(period):
        return Frequency.QUARTERLY
    if _ANNUAL.match(period):
        return Frequency.ANNUAL
    raise ValueError(f"not a period (YYYY-MM, YYYY-Qn or YYYY): {period!r}")


def is_period(text: str) -> bool:
    try:
        frequency_of(text)
    except ValueError:
        return False
    return True


def period_index(period: str) -> int:
    """Ordinal within the period's own kind: consecutive periods differ by exactly 1."""
    freq = frequency_of(period)
    year = int(period[:4])
    if freq is Frequency.MONTHLY:
        return year * 12 + int(period[5:7]) - 1
    if freq is Frequency.QUARTERLY:
        return year * 4 + int(period[6]) - 1
    return year


def period_from_index(index: int, freq: Frequency = Frequency.MONTHLY) -> str:
    if freq is Frequency.MONTHLY:
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    if freq is Frequency.QUARTERLY:
        return f"{index // 4:04d}-Q{index % 4 + 1}"
    return f"{index:04d}"


def shift(period: str, steps: int) -> str:
    """The period `steps` periods later (earlier if negative), of the same kind."""
    return period_from_index(period_index(period) + steps, frequency_of(period))


def end_month(period: str) -> int:
    """Month index (as `period_index` of a month) of the period's last month.

    An annual period ends in March of its year (the DfE reporting year).
    """
    freq = frequency_of(period)
    year = int(period[:4])
    if freq is Frequency.MONTHLY:
        return period_index(period)
    if freq is Frequency.QUARTERLY:
        return year * 12 + int(period[6]) * 3 - 1
    return year * 12 + 2


def latest_of_kind(freq: Frequency, cycle: str) -> str:
    """The latest period of kind `freq` that has ended by the end of `cycle`."""
    m = end_month(cycle)
    if freq is Frequency.MONTHLY:
        return period_from_index(m)
    if freq is Frequency.QUARTERLY:
        year, month0 = divmod(m, 12)
        q = (month0 + 1) // 3  # quarters completed in that year
        return f"{year:04d}-Q{q}" if q else f"{year - 1:04d}-Q4"
    year, month0 = divmod(m, 12)
    return f"{year if month0 >= 2 else year - 1:04d}"


def label(period: str) -> str:
    """'2024-10' -> 'October 2024'; '2024-Q3' -> 'July to September 2024';
    '2025' -> 'the year to 31 March 2025' (a DfE reporting year: read in a sentence, it
    needs its article)."""
    freq = frequency_of(period)
    year = int(period[:4])
    if freq is Frequency.MONTHLY:
        return f"{_MONTHS[int(period[5:7]) - 1]} {year}"
    if freq is Frequency.QUARTERLY:
        q = int(period[6])
        return f"{_MONTHS[3 * q - 3]} to {_MONTHS[3 * q - 1]} {year}"
    return f"the year to 31 March {year}"


def short_label(period: str) -> str:
    freq = frequency_of(period)
    if freq is Frequency.MONTHLY:
        return f"{_MONTHS[int(period[5:7]) - 1][:3]} {period[2:4]}"
    if freq is Frequency.QUARTERLY:
        return f"Q{period[6]} {period[2:4]}"
    return period


def current_period(today: date) -> str:
    """The month `today` falls in. Today is the caller's (an entry point's clock), so that
    what "current" means can be tested and re-run."""
    return f"{today.year:04d}-{today.month:02d}"


def parse_month(text: str) -> str | None:
    """A month as people and spreadsheets write it, or None.

    Accepts 2024-10, 2024-10-31, 31/10/2024 (UK day first), 10/2024, Oct-24, Oct 24,
    Oct 2024, October 2024, Sept-24. Ambiguous or impossible forms give None.
    """
    t = text.strip()
    if _MONTHLY.match(t):
        return t if is_period(t) else None
    m = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00:00)?\Z", t, re.ASCII)
    if m:
        return _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})\Z", t, re.ASCII)
    if m:
        return _valid(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = re.match(r"^(\d{1,2})/(\d{4})\Z", t, re.ASCII)
    if m:
        return _valid(int(m.group(2)), int(m.group(1)), 1)
    m = re.match(r"^([A-Za-z]{3,9})[\s\-']*(\d{2}|\d{4})\Z", t, re.ASCII)
    if m:
        name = m.group(1).lower()
        month = _MONTH_NUMBER.get(name[:4] if name.startswith("sept") else name[:3])
        if month is None or (len(name) > 4 and name != _MONTHS[month - 1].lower()
                             and name != "sept"):
            return None
        year = int(m.group(2))
        return _valid(year + 2000 if year < 100 else year, month, 1)
    return None


def _valid(year: int, month: int, day: int) -> str | None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        datetime(year, month, day)
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}"
