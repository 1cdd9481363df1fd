"""DfE's published files (explore-education-statistics) give each row a `time_identifier`
and a `time_period`; this maps them to the briefing's three kinds of period.

- Years: `Reporting year` 2025, `Calendar year` 2024, and the six-digit `Financial year`,
  `Academic year` and `Tax year` 202425. Each is filed under the calendar year it ends in:
  financial year 2024-25 and reporting year 2025 are both `2025` (to 31 March 2025);
  academic year 2023/24 is `2024` (to 31 August 2024); calendar year 2024 is `2024`.
- Quarters: `Calendar year Q1` to `Q4`, and `Financial year Q1` to `Q4`, which are calendar
  quarters too (financial Q1 of 2024-25 is April to June 2024, `2024-Q2`).
- Months: `January` to `December` of a calendar year.

Terms, half terms, weeks, academic-year and tax-year quarters (they do not line up with
calendar quarters), spans of several quarters, and `Up until 31st March` have no period
kind here: a file that uses them for an indicator is refused by name, never guessed at.
"""

from __future__ import annotations

import re

from tasks.settings.periods import Frequency

_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december"]
# Identifier (lower case) -> (kind, digits of its time_period).
YEARS = {"reporting year": 4, "calendar year": 4, "financial year": 6, "academic year": 6,
         "tax year": 6}
KINDS: dict[str, Frequency] = (
    {y: Frequency.ANNUAL for y in YEARS}
    | {f"calendar year q{q}": Frequency.QUARTERLY for q in range(1, 5)}
    | {f"financial year q{q}": Frequency.QUARTERLY for q in range(1, 5)}
    | {m: Frequency.MONTHLY for m in _MONTHS})
_SIX = re.compile(r"^(\d{4})[/-]?(\d{2})\Z", re.ASCII)
_FOUR = re.compile(r"^(\d{4})\Z", re.ASCII)


class TimeIdentifierError(ValueError):
    """A time identifier or period this briefing cannot place; the message says why."""


def _why_not(identifier: str) -> str:
    low = identifier.lower()
    if "term" in low:
        what = "a school term"
    elif low.startswith("week"):
        what = "a week"
    elif re.search(r"q\d-", low):
        what = "a span of several quarters"
    elif re.search(r"(academic|tax) year q\d", low):
        what = "a quarter that does not line up with calendar quarters"
    else:
        what = "not a year, calendar quarter or month"
    return (f"time_identifier {identifier!r} is {what}; the briefing's periods are years "
            "(reporting, calendar, financial, academic or tax), calendar or financial-year "
            "quarters, and months (filter it out with where: {time_identifier: ...})")


def kind_of(identifier: str) -> Frequency:
    """The period kind an identifier gives; TimeIdentifierError when it has none."""
    kind = KINDS.get(identifier.strip().lower())
    if kind is None:
        raise TimeIdentifierError(_why_not(identifier.strip()))
    return kind


def ees_period(identifier: str, time_period: str) -> str:
    """The briefing's period (`2025`, `2024-Q2`, `2024-10`) for one published row."""
    ident = identifier.strip().lower()
    tp = time_period.strip()
    kind_of(identifier)
    if (ident in YEARS and YEARS[ident] == 6) or ident.startswith("financial year q"):
        m = _SIX.match(tp)
        if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
            raise TimeIdentifierError(f"time_period {tp!r} is not a six-digit year such as "
                                      f"202425 (2024 to 2025), as time_identifier "
                                      f"{identifier.strip()!r} needs")
        start = int(m.group(1))
        if ident in YEARS:
            return f"{start + 1:04d}"
        q = int(ident[-1])  # financial Q1 (April to June) is the calendar year's Q2
        return f"{start + 1:04d}-Q1" if q == 4 else f"{start:04d}-Q{q + 1}"
    if not _FOUR.match(tp):
        raise TimeIdentifierError(f"time_period {tp!r} is not a year such as 2025 "
                                  f"(time_identifier {identifier.strip()!r})")
    if ident in YEARS:
        return tp
    if ident.startswith("calendar year q"):
        return f"{tp}-Q{ident[-1]}"
    return f"{tp}-{_MONTHS.index(ident) + 1:02d}"
