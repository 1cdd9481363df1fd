"""Committee dates: bank holidays in England and Wales, working days, the monthly run day, and
when papers and commentary are due before a meeting.

Bank holidays come from the `holidays` package (England's subdivision of the United
Kingdom: the same list as Wales), which is kept up to date with the one-off holidays that
no rule predicts (jubilees, a coronation, a state funeral); its weekend dates (a Christmas
Day on a Sunday, whose substitute is the following Tuesday) are not working days anyway and
are left out, so the lists match GOV.UK's.

Agenda papers must be published at least five clear working days before the meeting
(clear days: neither the day of publication nor the meeting day counts; weekends and bank
holidays do not count). The monthly briefing runs at 07:00 (Europe/London) on the Nth
working day of the month (`papers.run_working_day` in briefing.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from tasks.settings.periods import end_month, label

LONDON = ZoneInfo("Europe/London")
RUN_TIME = time(7, 0)  # the monthly run's time of day, London time


@cache
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays on weekdays in `year`, substitute days included."""
    days = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return frozenset(d for d in days if d.weekday() < 5)


def is_working_day(d: date) -> bool:
    return d.weekday() < 5 and d not in bank_holidays(d.year)


def working_days_before(d: date, n: int) -> date:
    """The working day n working days before d (n=1: the previous working day)."""
    while n > 0:
        d -= timedelta(days=1)
        if is_working_day(d):
            n -= 1
    return d


def nth_working_day(year: int, month: int, n: int) -> date:
    """The Nth working day of a month (n=1: its first working day)."""
    if n < 1:
        raise ValueError(f"the run day is counted from 1, not {n}")
    d = date(year, month, 1) - timedelta(days=1)
    while n > 0:
        d += timedelta(days=1)
        if is_working_day(d):
            n -= 1
    if d.month != month:
        raise ValueError(f"{year}-{month:02d} has fewer than {n} working days")
    return d


def run_time(year: int, month: int, n: int) -> datetime:
    """07:00 London time on the month's Nth working day, as an aware datetime."""
    return datetime.combine(nth_working_day(year, month, n), RUN_TIME, LONDON)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def not_run_day(when: datetime, n: int) -> str | None:
    """None on the month's run day (London time); otherwise why not, naming the run day."""
    local = when.astimezone(LONDON).date()
    day = nth_working_day(local.year, local.month, n)
    if local == day:
        return None
    return (f"Not the run day: the briefing runs on the {ordinal(n)} working day of the "
            f"month, {day:%A} {day.day} {day:%B %Y} (07:00 Europe/London); "
            f"{local:%A} {local.day} {local:%B} is not")


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


@dataclass(frozen=True)
class PaperDates:
    """The dates a paper prints on its cover: never the day the machine happened to run.

    `meeting` is the first listed meeting whose paper reports the cycle; `report` is the
    date of the report, the day it is published with that meeting's agenda, unless one
    was given. Either is None when nothing says it (the cover then says "to be
    confirmed", for the clerk to settle).
    """

    meeting: date | None
    report: date | None
    from_calendar: bool  # the report date is the calendar's publication date


def paper_dates(meetings: list[date], cycle: str, report: date | None = None,
                clear_days: int = 5, commentary_working_days: int = 3,
                data_ready_days: int = 10) -> PaperDates:
    """The meeting a cycle's paper goes to and the paper's date, from the timetable."""
    plans = (plan_meeting(m, clear_days, commentary_working_days, data_ready_days)
             for m in sorted(meetings))
    plan = next((p for p in plans if p.cycle == cycle), None)
    if report is not None:
        return PaperDates(plan.meeting if plan else None, report, False)
    if plan is None:
        return PaperDates(None, None, False)
    return PaperDates(plan.meeting, plan.publish_by, True)


@dataclass(frozen=True)
class CycleDates:
    """One monthly run: the cycle it briefs, when it runs, and the meeting that takes it."""

    cycle: str
    run: datetime
    meeting: MeetingPlan | None

    @property
    def late(self) -> bool:
        """The run comes after the owners' commentary is due: the timetable cannot work."""
        return self.meeting is not None and self.run.date() > self.meeting.commentary_due


def year_plan(year: int, n: int, meetings: list[date], clear_days: int = 5,
              commentary_working_days: int = 3, data_ready_days: int = 10
              ) -> list[CycleDates]:
    """The twelve runs in `year`: each briefs the month before its run day (January's run,
    December's figures), with the meeting whose paper reports that cycle, if one is listed."""
    plans: dict[str, MeetingPlan] = {}
    for m in sorted(meetings):
        p = plan_meeting(m, clear_days, commentary_working_days, data_ready_days)
        plans.setdefault(p.cycle, p)  # the first meeting to take the cycle
    out = []
    for month in range(1, 13):
        prev = date(year, month, 1) - timedelta(days=1)
        cycle = f"{prev.year:04d}-{prev.month:02d}"
        out.append(CycleDates(cycle, run_time(year, month, n), plans.get(cycle)))
    return out


# How long after the cycle ends its paper may be dated: a paper reports a period that has
# ended, to a meeting within months; two years is room for a late or re-issued paper,
# and a typo such as 9999-12-31 or 2204-11-20 is refused rather than printed on a cover.
REPORT_DATE_YEARS = 2


def _month_end(months: int) -> date:
    """The last day of a month given as tasks.settings.periods.end_month counts them."""
    year, month0 = divmod(months + 1, 12)
    return date(year, month0 + 1, 1) - timedelta(days=1)


def report_date_refusal(report: date, cycle: str) -> str | None:
    """Why `report` cannot be the date of `cycle`'s paper (before the period has ended, or
    more than REPORT_DATE_YEARS after it), or None when it can."""
    end = end_month(cycle)
    first = _month_end(end) + timedelta(days=1)
    last = _month_end(end + 12 * REPORT_DATE_YEARS)
    if first <= report <= last:
        return None
    return (f"{report.isoformat()} is not a date for the paper on {label(cycle)}: expected "
            f"{first.isoformat()} (after the period ends) to {last.isoformat()} "
            f"({REPORT_DATE_YEARS} years after it)")
