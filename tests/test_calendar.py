"""Bank holidays in England and Wales and the committee timetable."""

from __future__ import annotations

from datetime import date

import pytest

from tasks.calendar import (
    bank_holidays,
    easter_sunday,
    is_working_day,
    plan_meeting,
    publication_deadline,
)

# As published by the government for England and Wales.
PUBLISHED = {
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
    2020: ["2020-01-01", "2020-04-10", "2020-04-13", "2020-05-08", "2020-05-25", "2020-08-31",
           "2020-12-25", "2020-12-28"],
}


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_bank_holidays_match_the_published_lists(year: int) -> None:
    assert sorted(d.isoformat() for d in bank_holidays(year)) == PUBLISHED[year]


def test_easter() -> None:
    assert [easter_sunday(y) for y in (2024, 2025, 2038)] == [
        date(2024, 3, 31), date(2025, 4, 20), date(2038, 4, 25)]


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
