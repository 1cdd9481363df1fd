"""Committee dates: bank holidays in England and Wales, working days, and when papers and
commentary are due before a meeting.

Agenda papers must be published at least five clear working days before the meeting
(clear days: neither the day of publication nor the meeting day counts; weekends and bank
holidays do not count). Bank holidays are computed (Easter by the Gregorian computus,
the fixed and Monday holidays with their substitute days), plus the one-off changes
proclaimed since 2011, which no rule predicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

# Proclaimed changes: (added days, removed days) by year.
_ONE_OFF: dict[int, tuple[set[date], set[date]]] = {
    2011: ({date(2011, 4, 29)}, set()),                      # royal wedding
    2012: ({date(2012, 6, 4), date(2012, 6, 5)}, {date(2012, 5, 28)}),  # diamond jubilee
    2020: ({date(2020, 5, 8)}, {date(2020, 5, 4)}),          # VE day: early May moved
    2022: ({date(2022, 6, 2), date(2022, 6, 3), date(2022, 9, 19)},
           {date(2022, 5, 30)}),                             # platinum jubilee; state funeral
    2023: ({date(2023, 5, 8)}, set()),                       # coronation
}


def easter_sunday(year: int) -> date:
    """Anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month = (h + m - 7 * n + 114) // 31
    day = (h + m - 7 * n + 114) % 31 + 1
    return date(year, month, day)


def _first_monday(year: int, month: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    d = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return d - timedelta(days=d.weekday())


@cache
def bank_holidays(year: int) -> frozenset[date]:
    days: set[date] = set()
    new_year = date(year, 1, 1)
    days.add(new_year + timedelta(days={5: 2, 6: 1}.get(new_year.weekday(), 0)))
    easter = easter_sunday(year)
    days |= {easter - timedelta(days=2), easter + timedelta(days=1)}
    days |= {_first_monday(year, 5), _last_monday(year, 5), _last_monday(year, 8)}
    christmas, boxing = date(year, 12, 25), date(year, 12, 26)
    if christmas.weekday() == 5:  # Saturday: Monday 27 and Tuesday 28
        days |= {date(year, 12, 27), date(year, 12, 28)}
    elif christmas.weekday() == 6:  # Sunday: Boxing Day Monday 26, Christmas Tuesday 27
        days |= {boxing, date(year, 12, 27)}
    elif boxing.weekday() == 5:  # Friday Christmas, Saturday Boxing Day: Monday 28
        days |= {christmas, date(year, 12, 28)}
    else:
        days |= {christmas, boxing}
    added, removed = _ONE_OFF.get(year, (set(), set()))
    return frozenset((days - removed) | added)


def is_working_day(d: date) -> bool:
    return d.weekday() < 5 and d not in bank_holidays(d.year)


def working_days_before(d: date, n: int) -> date:
    """The working day n working days before d (n=1: the previous working day)."""
    while n > 0:
        d -= timedelta(days=1)
        if is_working_day(d):
            n -= 1
    return d


def publication_deadline(meeting: date, clear_days: int = 5) -> date:
    """The last working day papers may be published: `clear_days` whole working days must
    lie between it and the meeting."""
    return working_days_before(meeting, clear_days + 1)


@dataclass(frozen=True)
class MeetingPlan:
    meeting: date
    cycle: str  # the month the paper reports
    publish_by: date
    commentary_due: date


def plan_meeting(meeting: date, clear_days: int = 5, commentary_working_days: int = 3,
                 data_ready_days: int = 10) -> MeetingPlan:
    """Which cycle a meeting's paper reports, when it must be out, when commentary is due.

    The cycle is the last month whose figures are ready `data_ready_days` before the paper
    is due: a paper out on 20 November reports October; one out on 4 November, September.
    """
    publish_by = publication_deadline(meeting, clear_days)
    ready = publish_by - timedelta(days=data_ready_days)
    month = ready.replace(day=1) - timedelta(days=1)
    return MeetingPlan(meeting, f"{month.year:04d}-{month.month:02d}", publish_by,
                       working_days_before(publish_by, commentary_working_days))


def next_meeting(meetings: list[date], today: date) -> date | None:
    upcoming = sorted(m for m in meetings if m >= today)
    return upcoming[0] if upcoming else None
