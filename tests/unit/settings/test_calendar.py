"""Bank holidays in England and Wales, the monthly run day and the committee timetable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tasks.settings.calendar import (
    PaperDates,
    bank_holidays,
    is_working_day,
    not_run_day,
    nth_working_day,
    paper_dates,
    plan_meeting,
    publication_deadline,
    run_time,
    year_plan,
)

# England and Wales, written out by hand so that the `holidays` package is checked against
# something it did not produce. 2020 and 2022 to 2026: GOV.UK's published lists (as in this
# test before the package). 2027: GOV.UK's published list. 2028 to 2030: not yet published
# by GOV.UK; worked out from the standing rules (New Year, Good Friday, Easter Monday, the
# first and last Mondays of May, the last Monday of August, Christmas and Boxing Day, each
# moved to the next weekday when it falls at a weekend). A proclamation could still add one.
PUBLISHED = {
    2020: ["2020-01-01", "2020-04-10", "2020-04-13", "2020-05-08", "2020-05-25", "2020-08-31",
           "2020-12-25", "2020-12-28"],
    2022: ["2022-01-03", "2022-04-15", "2022-04-18", "2022-05-02", "2022-06-02", "2022-06-03",
           "2022-08-29", "2022-09-19", "2022-12-26", "2022-12-27"],
    2023: ["2023-01-02", "2023-04-07", "2023-04-10", "2023-05-01", "2023-05-08", "2023-05-29",
           "2023-08-28", "2023-12-25", "2023-12-26"],
    2024: ["2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26",
           "2024-12-25", "2024-12-26"],
    2025: ["2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25",
           "2025-12-25", "2025-12-26"],
    2026: ["2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31",
           "2026-12-25", "2026-12-28"],
    2027: ["2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30",
           "2027-12-27", "2027-12-28"],
    2028: ["2028-01-03", "2028-04-14", "2028-04-17", "2028-05-01", "2028-05-29", "2028-08-28",
           "2028-12-25", "2028-12-26"],
    2029: ["2029-01-01", "2029-03-30", "2029-04-02", "2029-05-07", "2029-05-28", "2029-08-27",
           "2029-12-25", "2029-12-26"],
    2030: ["2030-01-01", "2030-04-19", "2030-04-22", "2030-05-06", "2030-05-27", "2030-08-26",
           "2030-12-25", "2030-12-26"],
}


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_bank_holidays_match_the_published_lists(year: int) -> None:
    assert sorted(d.isoformat() for d in bank_holidays(year)) == PUBLISHED[year]


def _third_weekday(year: int, month: int) -> date:
    """What the old schedule (RRULE BYDAY=MO..FR;BYSETPOS=3) ran on."""
    d = date(year, month, 1)
    days = []
    while len(days) < 3:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days[2]


def test_third_working_day_differs_from_third_weekday_in_12_months_of_2025_to_2030() -> None:
    months = [(y, m) for y in range(2025, 2031) for m in range(1, 13)]
    runs = {(y, m): nth_working_day(y, m, 3) for y, m in months}
    for (y, m), d in runs.items():
        assert is_working_day(d) and (d.year, d.month) == (y, m)
        assert sum(is_working_day(date(y, m, k)) for k in range(1, d.day + 1)) == 3
    moved = {k: v for k, v in runs.items() if v != _third_weekday(*k)}
    assert len(moved) == 12
    # The early May bank holiday 2025 and Good Friday (and Easter Monday) 2026.
    assert moved[(2025, 5)] == date(2025, 5, 6) and _third_weekday(2025, 5) == date(2025, 5, 5)
    assert moved[(2026, 4)] == date(2026, 4, 7) and _third_weekday(2026, 4) == date(2026, 4, 3)


def test_run_time_is_seven_in_london_across_the_clocks_changing() -> None:
    winter, summer = run_time(2026, 3, 3), run_time(2026, 4, 3)  # clocks go forward 29 March
    assert (winter.astimezone(UTC).hour, summer.astimezone(UTC).hour) == (7, 6)
    assert (winter.hour, summer.hour) == (7, 7)


def test_not_run_day_says_when_the_run_day_is() -> None:
    assert not_run_day(datetime(2026, 5, 6, 6, 0, tzinfo=UTC), 3) is None  # 07:00 BST
    why = not_run_day(datetime(2026, 5, 5, 6, 0, tzinfo=UTC), 3)
    assert why == ("Not the run day: the briefing runs on the 3rd working day of the month, "
                   "Wednesday 6 May 2026 (07:00 Europe/London); Tuesday 5 May is not")
    # 23:30 UTC on 5 May is already 6 May in London.
    assert not_run_day(datetime(2026, 5, 5, 23, 30, tzinfo=UTC), 3) is None
    with pytest.raises(ValueError, match="counted from 1"):
        nth_working_day(2026, 5, 0)


def test_year_plan_pairs_each_run_with_the_meeting_that_takes_its_cycle() -> None:
    plan = year_plan(2026, 3, [date(2026, 2, 26), date(2026, 4, 23)])
    assert [p.cycle for p in plan] == ["2025-12", *[f"2026-{m:02d}" for m in range(1, 12)]]
    feb = plan[1]  # February's run briefs January, for the meeting of 26 February
    assert feb.run.date() == date(2026, 2, 4) and feb.meeting is not None
    assert (feb.meeting.publish_by, feb.meeting.commentary_due) == (date(2026, 2, 18),
                                                                    date(2026, 2, 13))
    assert not feb.late
    assert plan[3].cycle == "2026-03" and plan[3].run.date() == date(2026, 4, 7)
    # 23 April: papers by 15 April (Easter in between), commentary by 10 April.
    assert plan[3].meeting is not None and plan[3].meeting.commentary_due == date(2026, 4, 10)
    assert [p.cycle for p in plan if p.meeting] == ["2026-01", "2026-03"]
    # Commentary due (13 February) before the run on the 11th working day (16 February):
    # the timetable cannot work, and the plan says so.
    late = year_plan(2026, 11, [date(2026, 2, 26)])
    assert [(p.cycle, p.run.date()) for p in late if p.late] == [("2026-01", date(2026, 2, 16))]
    assert not any(p.late for p in year_plan(2026, 10, [date(2026, 2, 26)]))


def test_five_clear_working_days() -> None:
    # Thursday 28 November 2024: clear days 21, 22, 25, 26, 27; publish by Wednesday 20th.
    assert publication_deadline(date(2024, 11, 28)) == date(2024, 11, 20)
    # Across Easter 2025 (Good Friday 18, Easter Monday 21 April): for Thursday 24 April the
    # five clear working days are 15, 16, 17, 22 and 23; publish by Monday 14th.
    assert publication_deadline(date(2025, 4, 24)) == date(2025, 4, 14)
    assert not is_working_day(date(2025, 4, 21)) and is_working_day(date(2025, 4, 22))


def test_meeting_plan() -> None:
    p = plan_meeting(date(2024, 11, 28))
    assert (p.cycle, p.publish_by, p.commentary_due) == ("2024-10", date(2024, 11, 20),
                                                         date(2024, 11, 15))
    early = plan_meeting(date(2024, 11, 12))  # papers out 4 November: October not ready
    assert (early.publish_by, early.cycle) == (date(2024, 11, 4), "2024-09")


def test_the_paper_takes_its_dates_from_the_meeting_that_reports_its_cycle() -> None:
    meetings = [date(2025, 1, 23), date(2024, 11, 28), date(2025, 3, 20)]
    # 28 November 2024: papers out by Wednesday 20 November, reporting October.
    assert paper_dates(meetings, "2024-10") == PaperDates(date(2024, 11, 28),
                                                           date(2024, 11, 20), True)
    assert paper_dates(meetings, "2024-12").meeting == date(2025, 1, 23)
    # A date given wins over the calendar's; the meeting still comes from it.
    assert paper_dates(meetings, "2024-10", date(2024, 11, 18)) == PaperDates(
        date(2024, 11, 28), date(2024, 11, 18), False)
    # No meeting takes November's figures, nor an annual cycle: nothing is invented.
    assert paper_dates(meetings, "2024-11") == PaperDates(None, None, False)
    assert paper_dates(meetings, "2025") == PaperDates(None, None, False)
    assert paper_dates([], "2025", date(2025, 12, 1)) == PaperDates(None, date(2025, 12, 1),
                                                                    False)
