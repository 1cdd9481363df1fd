"""The demo's synthetic CIN census (scripts/make_demo_census.py): made again byte for byte,
its figures the demo's October 2024 scorecard's by DfE's definitions, counted here from the
XML on their own, and DfE's rules finding the planted input errors and nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

from tasks.settings.calendar import is_working_day
from tests.conftest import ROOT

DEMO_CENSUS = ROOT / "demo" / "exports" / "cin"
CENSUS = DEMO_CENSUS / "cin_census.xml"
# The October 2024 cycle's twelve months; the census's dates all fall from April 2024.
PERIOD = (date(2023, 11, 1), date(2024, 10, 31))
EVENTS = {"CINreferralDate", "CINclosureDate", "AssessmentActualStartDate",
          "AssessmentAuthorisationDate", "CINPlanStartDate", "CINPlanEndDate",
          "S47ActualStartDate", "InitialCPCtarget", "DateOfInitialCPC", "CPPstartDate",
          "CPPendDate", "CPPreviewDate"}
PLANTED = json.loads((DEMO_CENSUS / "planted.json").read_text())
SWAPPED = PLANTED["assessment start and authorisation dates keyed the wrong way round (8608)"]
SWAPPED_S47 = PLANTED["section 47 enquiry start and conference dates keyed the wrong way "
                      "round (8615)"]


def day(element: ET.Element, tag: str) -> date | None:
    text = element.findtext(tag)
    return date.fromisoformat(text) if text else None


def in_period(d: date | None) -> bool:
    return d is not None and PERIOD[0] <= d <= PERIOD[1]


def in_time(start: date, end: date, limit: int) -> bool:
    """Within `limit` working days: those after `start` up to and including `end`; an end
    before its start is not in time (DfE's reading for conferences)."""
    return start <= end and sum(is_working_day(start + timedelta(days=n))
                                for n in range(1, (end - start).days + 1)) <= limit


def children() -> list[ET.Element]:
    return ET.parse(CENSUS).getroot().findall("Children/Child")


def child_id(child: ET.Element) -> str:
    return child.findtext("ChildIdentifiers/LAchildID") or ""


def test_the_demo_census_is_made_again_byte_for_byte(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_census.py"),
                           str(tmp_path / "cin")], capture_output=True, text=True, check=True)
    assert ("165 referrals, 72 assessments, 30 conferences; 10 planted input errors"
            in done.stdout)
    made = sorted(p.name for p in (tmp_path / "cin").iterdir())
    assert made == sorted(p.name for p in DEMO_CENSUS.iterdir()) == ["cin_census.xml",
                                                                     "planted.json"]
    for name in made:
        assert (tmp_path / "cin" / name).read_bytes() == (DEMO_CENSUS / name).read_bytes()


def test_every_date_is_from_april_to_october_2024_and_every_child_under_18() -> None:
    root = ET.parse(CENSUS).getroot()
    assert root.findtext("Header/Source/LEA") == "999"
    assert root.findtext("Header/CollectionDetails/ReferenceDate") == "2025-03-31"
    events = [e for e in root.iter() if e.tag in EVENTS]
    assert len(events) > 500
    assert all(date(2024, 4, 1) <= date.fromisoformat(e.text or "") <= PERIOD[1]
               for e in events)
    for child in children():
        born = day(child, "ChildIdentifiers/PersonBirthDate")
        assert born is not None and date(2007, 3, 31) < born < date(2024, 4, 1)


def test_referrals_165_of_which_35_re_referrals() -> None:
    referrals = 0
    again = 0
    for child in children():
        dates = sorted(d for d in (day(e, "CINreferralDate") for e in child.iter("CINdetails"))
                       if d is not None)
        for n, referred in enumerate(dates):
            if not in_period(referred):
                continue
            referrals += 1
            year_before = referred.replace(year=referred.year - 1)
            again += any(year_before <= earlier < referred for earlier in dates[:n])
    assert (referrals, again) == (165, 35)
    assert round(100 * again / referrals, 1) == 21.2


def test_a_child_referred_again_is_referred_a_month_after_the_first_episode_closed() -> None:
    twice = [list(c.iter("CINdetails")) for c in children()
             if len(c.findall("CINdetails")) == 2]
    assert len(twice) == 35 and len(children()) == 130
    for first, second in twice:
        closed, referred = day(first, "CINclosureDate"), day(second, "CINreferralDate")
        assert closed is not None and referred is not None
        assert referred - closed >= timedelta(days=31)


def test_assessments_72_of_which_55_in_45_working_days_the_swapped_four_not() -> None:
    timely: dict[str, int] = defaultdict(int)
    authorised = 0
    backwards = set()
    for child in children():
        for assessment in child.iter("Assessments"):
            start = day(assessment, "AssessmentActualStartDate")
            end = day(assessment, "AssessmentAuthorisationDate")
            if start is None or not in_period(end):
                continue
            assert end is not None
            authorised += 1
            timely[child_id(child)] += in_time(start, end, 45)
            if end < start:
                backwards.add(child_id(child))
    assert (authorised, sum(timely.values())) == (72, 55)
    assert round(100 * 55 / 72, 1) == 76.4
    assert len(SWAPPED) == 4 and backwards == set(SWAPPED)


def test_conferences_30_of_which_24_in_15_working_days_each_plan_from_its_day() -> None:
    held = timely = 0
    backwards = set()
    for child in children():
        for details in child.iter("CINdetails"):
            plans = {day(p, "CPPstartDate") for p in details.iter("ChildProtectionPlans")}
            for s47 in details.iter("Section47"):
                start, conference = day(s47, "S47ActualStartDate"), day(s47, "DateOfInitialCPC")
                if start is None or not in_period(conference):
                    continue
                assert conference is not None
                held += 1
                timely += in_time(start, conference, 15)
                if conference < start:
                    backwards.add(child_id(child))
                plans.discard(conference)
            assert not plans  # every plan starts on its conference's day
    assert (held, timely) == (30, 24)
    assert len(SWAPPED_S47) == 2 and backwards == set(SWAPPED_S47)


