"""The CIN census's records and the indicators computed from them by DfE's definitions.

Each definition on a hand-worked case (the records written out, the figure worked in a
comment) and on its edges: the period's first and last days, 45 and 46 working days across
Christmas's bank holidays, the 12 months before a re-referral, a leap day. The reader on
censuses built here: a round trip, a namespaced file, a DOCTYPE refused, the child limit,
and row for row the tables of DfE's validator's own reader (cin_validator, run in
.venv-validators, which pins a pandas this environment cannot import).
"""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import strategies as st

from tasks.reading.files import Limits
from tasks.returns import figures_cin as f
from tasks.returns.cin_records import TABLES, read_cin
from tasks.returns.figures_903 import DateFault, Period
from tasks.returns.validators import VALIDATORS_ENV
from tests.returns_factory import Node, cin_census_of

YEAR = Period.collection_year(2025)  # 1 April 2024 to 31 March 2025


def table(name: str, rows: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{c: row.get(c) for c in TABLES[name]} for row in rows],
                        columns=list(TABLES[name]), dtype="object")


def referral(child: str, day: str, nfa: str = "false") -> dict[str, str]:
    return {"LAchildID": child, "CINreferralDate": day, "ReferralNFA": nfa}


def assessment(child: str, start: str, authorised: str = "") -> dict[str, str]:
    return {"LAchildID": child, "AssessmentActualStartDate": start,
            "AssessmentAuthorisationDate": authorised}


def enquiry(child: str, start: str, conference: str = "") -> dict[str, str]:
    return {"LAchildID": child, "S47ActualStartDate": start, "DateOfInitialCPC": conference}


def plan(child: str, start: str, end: str = "", previous: str = "0") -> dict[str, str]:
    return {"LAchildID": child, "CPPstartDate": start, "CPPendDate": end,
            "NumberOfPreviousCPP": previous}


# Referrals around the year ending 31 March 2025:
#   A  on 1 April 2024 (the first day) and on 31 March 2025 (the last), the second NFA
#      ('TRUE': any case): 2 referrals.
#   B  on 31 March 2024 and 1 April 2025: either side of the year, in no figure.
#   C  on 10 October 2024, NFA given as '1': 1 referral, NFA.
#   D  on '2024-02-30', no real day: leaves the figure (date_faults names it).
#   E  on 7 July 2024, NFA 'False': 1 referral, not NFA.
#   (blank id) on 1 June 2024: no child, not counted.
REFERRALS = [
    referral("A", "2024-04-01"), referral("A", "2025-03-31", "TRUE"),
    referral("B", "2024-03-31"), referral("B", "2025-04-01"),
    referral("C", "2024-10-10", "1"), referral("D", "2024-02-30"),
    referral("E", "2024-07-07", "False"), referral(" ", "2024-06-01"),
]


def cin(**given: list[dict[str, str]]) -> dict[str, pd.DataFrame]:
    return {name: table(name, given.get(name, [])) for name in TABLES}


def test_referrals_by_dfe_definition_count_referrals_in_the_period() -> None:
    # A's 2, C's and E's: 4 referrals of 3 children (B outside, D unreadable, no id).
    figure = f.referrals(cin(CINdetails=REFERRALS), YEAR)
    assert (figure.value, figure.numerator, figure.denominator) == (4.0, 4, None)
    assert figure.children == figure.counted == {"A", "C", "E"}


def test_referrals_rate_per_10000_children_under_18() -> None:
    # 4 referrals, 2,000 children under 18: 4 / 2,000 x 10,000 = 20.
    figure = f.referrals_rate(cin(CINdetails=REFERRALS), YEAR, 2_000)
    assert (figure.value, figure.numerator, figure.denominator) == (20.0, 4, 2_000)
    for rate in (f.referrals_rate, f.cp_plans_rate):
        with pytest.raises(ValueError, match="population under 18 is 0"):
            rate(cin(), YEAR, 0)


def test_referrals_nfa_share_of_referrals_with_no_further_action() -> None:
    # Of 4 referrals, A's second ('TRUE') and C's ('1') are NFA: 2 / 4 = 50%.
    figure = f.referrals_nfa(cin(CINdetails=REFERRALS), YEAR)
    assert (figure.value, figure.numerator, figure.denominator) == (50.0, 2, 4)
    assert figure.children == {"A", "C", "E"}
    assert figure.counted == {"A", "C"}


def test_re_referrals_within_12_months_of_a_previous_referral() -> None:
    # F: 1 June 2023 then 1 June 2024, exactly a year on: a re-referral.
    # G: 31 May 2023 then 1 June 2024, a year and a day: not.
    # J: two referrals on 1 August 2024: neither is before the other, neither counts.
    # K: 1 September 2024 then 1 January 2025: the second is, the first is not.
    # In the year: F's, G's, J's 2, K's 2 = 6 referrals; F's and K's second: 2 / 6.
    rows = [referral("F", "2023-06-01"), referral("F", "2024-06-01"),
            referral("G", "2023-05-31"), referral("G", "2024-06-01"),
            referral("J", "2024-08-01"), referral("J", "2024-08-01"),
            referral("K", "2024-09-01"), referral("K", "2025-01-01")]
    figure = f.re_referrals(cin(CINdetails=rows), YEAR)
    assert (figure.numerator, figure.denominator) == (2, 6)
    assert figure.value == pytest.approx(100 * 2 / 6)
    assert figure.children == {"F", "G", "J", "K"}
    assert figure.counted == {"F", "K"}


def test_re_referrals_a_year_before_a_leap_day_is_28_february() -> None:
    # Year ending March 2024: H referred 28 February 2023 and 29 February 2024 (a year
    # before the leap day is the 28th: a re-referral); I on 27 February 2023 and 29
    # February 2024: not. 1 of 2.
    rows = [referral("H", "2023-02-28"), referral("H", "2024-02-29"),
            referral("I", "2023-02-27"), referral("I", "2024-02-29")]
    figure = f.re_referrals(cin(CINdetails=rows), Period.collection_year(2024))
    assert (figure.value, figure.numerator, figure.denominator) == (50.0, 1, 2)
    assert figure.counted == {"H"}


def test_working_days_after_the_start_up_to_and_including_the_end() -> None:
    friday, monday = date(2024, 11, 29), date(2024, 12, 2)
    assert f.working_days_after(friday, friday) == 0
    assert f.working_days_after(friday, monday) == 1
    # From Friday 20 December 2024: 23, 24, 27, 30, 31 December (25 and 26 are bank
    # holidays) = 5; January less the 1st = 22 (27); February's 18th working day is
    # Wednesday 26 February: 45. Without the 3 bank holidays it would be 21 February.
    assert f.working_days_after(date(2024, 12, 20), date(2025, 2, 26)) == 45
    assert f.working_days_after(date(2024, 12, 20), date(2025, 2, 27)) == 46
    assert f.working_days_after(date(2024, 12, 20), date(2025, 2, 21)) == 42


def test_assessments_in_45_days_authorised_within_45_working_days_across_christmas() -> None:
    # Authorised in the year: A (45 working days, across Christmas), B (46), C (the same
    # day: 0), F authorised before it started (in the total, not in time: DfE's reading
    # for conferences). Not in the figure: D authorised after the year, E not yet
    # authorised, G's start no real day. 2 of 4.
    rows = [assessment("A", "2024-12-20", "2025-02-26"),
            assessment("B", "2024-12-20", "2025-02-27"),
            assessment("C", "2024-05-01", "2024-05-01"),
            assessment("D", "2025-03-01", "2025-04-01"), assessment("E", "2025-03-01"),
            assessment("F", "2024-06-10", "2024-06-01"),
            assessment("G", "2024-06-31", "2024-07-01")]
    figure = f.assessments_in_45_days(cin(Assessments=rows), YEAR)
    assert (figure.numerator, figure.denominator) == (2, 4)
    assert figure.value == pytest.approx(50.0)
    assert figure.children == {"A", "B", "C", "F"}
    assert figure.counted == {"A", "C"}


def test_icpc_in_15_days_conferences_within_15_working_days_of_the_enquiry() -> None:
    # Held in the year: A on the 15th working day after Friday 20 December 2024 (15
    # January), B on the 16th; C's enquiry began Monday 25 March 2024 and its conference
    # on Friday 5 April, 7 working days on (Good Friday and Easter Monday left out).
    # F's conference is dated before its enquiry began: "excludes cases where the recorded
    # initial child protection conference date is before section 47 date, however these
    # will be included in overall number of ICPCs" (DfE, table C4). Not: D's conference
    # after the year, E's enquiry with none yet. 2 of 4.
    rows = [enquiry("A", "2024-12-20", "2025-01-15"), enquiry("B", "2024-12-20", "2025-01-16"),
            enquiry("C", "2024-03-25", "2024-04-05"), enquiry("D", "2025-03-20", "2025-04-02"),
            enquiry("E", "2025-03-20"), enquiry("F", "2024-07-10", "2024-07-08")]
    figure = f.icpc_in_15_days(cin(Section47=rows), YEAR)
    assert (figure.numerator, figure.denominator) == (2, 4)
    assert figure.children == {"A", "B", "C", "F"}
    assert figure.counted == {"A", "C"}


# Plans around 31 March 2025: A has two open plans (counted once); B's ended on 31 March
# (off the plan that night); C's began on 31 March; D's begins after; E's ends after;
# F's end date is no real day (leaves the figure).
PLANS = [plan("A", "2024-01-01"), plan("A", "2024-05-01"),
         plan("B", "2024-05-01", "2025-03-31"), plan("C", "2025-03-31"),
         plan("D", "2025-04-01"), plan("E", "2024-06-01", "2025-04-01"),
         plan("F", "2024-06-01", "2025-13-01")]


def test_cp_plans_at_end_children_on_a_plan_at_the_period_end() -> None:
    # A, C and E: 3 children (A's two plans count once).
    figure = f.cp_plans_at_end(cin(ChildProtectionPlans=PLANS), YEAR)
    assert (figure.value, figure.numerator, figure.denominator) == (3.0, 3, None)
    assert figure.children == figure.counted == {"A", "C", "E"}


def test_cp_plans_rate_per_10000_children_under_18() -> None:
    # 3 children, 1,500 under 18: 3 / 1,500 x 10,000 = 20.
    figure = f.cp_plans_rate(cin(ChildProtectionPlans=PLANS), YEAR, 1_500)
    assert (figure.value, figure.numerator, figure.denominator) == (20.0, 3, 1_500)


def test_cp_second_or_subsequent_plans_starting_in_the_period() -> None:
    # Starting in the year: G's (no previous plan), H's (2 previous), I's second (0
    # recorded, but its plan of 2022 is in the file), J's on 31 March (blank). K's began
    # before the year. 2 of 4 (H, I).
    rows = [plan("G", "2024-05-01"), plan("H", "2024-06-01", previous="2"),
            plan("I", "2022-01-01", "2022-09-01"), plan("I", "2024-09-01"),
            plan("J", "2025-03-31", previous=""), plan("K", "2024-03-31", previous="1")]
    figure = f.cp_second_or_subsequent(cin(ChildProtectionPlans=rows), YEAR)
    assert (figure.value, figure.numerator, figure.denominator) == (50.0, 2, 4)
    assert figure.children == {"G", "H", "I", "J"}
    assert figure.counted == {"H", "I"}


def test_cp_lasting_two_years_plans_ending_in_the_period() -> None:
    # Ending in the year: L exactly 2 years (1 June 2022 to 1 June 2024), M a day short,
    # Q on the year's last day after 4 years. O is open, P ends after. 2 of 3 (L, Q).
    rows = [plan("L", "2022-06-01", "2024-06-01"), plan("M", "2022-06-02", "2024-06-01"),
            plan("O", "2022-06-01"), plan("P", "2020-01-01", "2025-04-01"),
            plan("Q", "2021-01-01", "2025-03-31")]
    figure = f.cp_lasting_two_years(cin(ChildProtectionPlans=rows), YEAR)
    assert (figure.numerator, figure.denominator) == (2, 3)
    assert figure.children == {"L", "M", "Q"}
    assert figure.counted == {"L", "Q"}


def test_cp_lasting_two_years_from_a_leap_day_ends_on_28_february() -> None:
    # Begun 29 February 2024: its second anniversary is 28 February 2026. 1 of 2.
    rows = [plan("R", "2024-02-29", "2026-02-28"), plan("S", "2024-02-29", "2026-02-27")]
    figure = f.cp_lasting_two_years(cin(ChildProtectionPlans=rows),
                                    Period.collection_year(2026))
    assert figure.value == 50.0
    assert figure.counted == {"R"}


def test_a_month_cycle_figure_is_over_the_12_months_to_the_month_end() -> None:
    # To 31 October 2024: 1 November 2023 to 31 October 2024. A's first, B's first (31
    # March 2024, before the collection year), C's and E's: 4.
    figure = f.referrals(cin(CINdetails=REFERRALS), Period.to_month_end(2024, 10))
    assert figure.numerator == 4
    assert figure.children == {"A", "B", "C", "E"}


def test_a_figure_with_nothing_in_its_denominator_has_no_value() -> None:
    for name, (compute, _) in f.FIGURES_CIN.items():
        if compute is not None:
            figure = compute(cin(), YEAR)
            assert figure.value == (0.0 if figure.denominator is None else None), name
            assert figure.children == frozenset(), name


def test_date_faults_name_each_date_that_is_not_a_real_day_or_is_blank() -> None:
    tables = cin(CINdetails=[*REFERRALS, referral("X", "")],
                 Assessments=[assessment("A", "2024-06-01", "01/07/2024")],
                 ChildProtectionPlans=[plan("A", "2024-05-01", "2025-13-01")])
    assert f.date_faults(tables) == [
        DateFault("Assessments", 1, "AssessmentAuthorisationDate", "01/07/2024"),
        DateFault("CINdetails", 6, "CINreferralDate", "2024-02-30"),
        DateFault("CINdetails", 9, "CINreferralDate", ""),
        DateFault("ChildProtectionPlans", 1, "CPPendDate", "2025-13-01")]
    assert f.DATE_FORMAT == "a date as YYYY-MM-DD"


def test_figures_cin_mirror_figures_903_and_each_reads_only_its_tables() -> None:
    units = {name: unit.value for name, (_, unit) in f.FIGURES_CIN.items()}
    assert units["referrals"] == units["cp_plans_at_end"] == "count"
    assert [n for n, (c, _) in f.FIGURES_CIN.items() if c is None] == ["referrals_rate",
                                                                       "cp_plans_rate"]
    assert set(f.TABLES_READ) == set(f.FIGURES_CIN)
    full = cin(CINdetails=REFERRALS, Assessments=[assessment("A", "2024-12-20", "2025-01-02")],
               Section47=[enquiry("A", "2024-12-20", "2025-01-02")], ChildProtectionPlans=PLANS)
    for name, (compute, _) in f.FIGURES_CIN.items():
        if compute is not None:  # every other table emptied: the figure does not move
            alone = {t: frame if t in f.TABLES_READ[name] else frame.iloc[0:0]
                     for t, frame in full.items()}
            assert compute(alone, YEAR) == compute(full, YEAR), name
            assert compute(full, YEAR).denominator != 0, name


# --- the reader -----------------------------------------------------------------------


def child(child_id: str, *episodes: list[Node]) -> list[Node]:
    return [("ChildIdentifiers", [("LAchildID", child_id), ("UPN", " A123456789012 "),
                                  ("PersonBirthDate", "2015-04-01"), ("Sex", "1"),
                                  ("PersonDeathDate", None)]),
            ("ChildCharacteristics", [("Ethnicity", "WBRI"), ("Disabilities", [
                ("Disability", "HAND"), ("Disability", "HEAR")])]),
            *[("CINdetails", episode) for episode in episodes]]


RICH_EPISODE: list[Node] = [
    ("CINreferralDate", "2024-06-01"), ("ReferralSource", "1A"), ("PrimaryNeedCode", "N1"),
    ("Assessments", [("AssessmentActualStartDate", "2024-06-02"),
                     ("AssessmentAuthorisationDate", "2024-07-01"),
                     ("FactorsIdentifiedAtAssessment", [("AssessmentFactors", "1C"),
                                                        ("AssessmentFactors", "21")])]),
    ("Assessments", [("AssessmentActualStartDate", "2024-08-01")]),
    ("CINPlanDates", [("CINPlanStartDate", "2024-07-02")]),
    ("Section47", [("S47ActualStartDate", "2024-06-03"), ("DateOfInitialCPC", "2024-06-20"),
                   ("ICPCnotRequired", "false")]),
    ("ReferralNFA", "false"),
    ("ChildProtectionPlans", [("CPPstartDate", "2024-06-20"), ("NumberOfPreviousCPP", "0"),
                              ("Reviews", [("CPPreviewDate", "2024-09-20")]),
                              ("Reviews", [("CPPreviewDate", "2025-03-20")])]),
    ("ChildProtectionPlans", [("CPPstartDate", "2022-01-01"), ("CPPendDate", "2022-12-01")]),
]


def rows(frame: pd.DataFrame, *columns: str) -> list[tuple[object, ...]]:
    return list(frame[list(columns)].itertuples(index=False, name=None))


def test_read_cin_round_trip_gives_the_validators_tables(tmp_path: Path) -> None:
    path = cin_census_of(tmp_path / "cin.xml", [
        child("C1", RICH_EPISODE, [("CINreferralDate", "2025-01-05"), ("ReferralNFA", "1")]),
        child("C2")])
    ret = read_cin(path)
    t = ret.tables
    assert list(t) == ["ChildIdentifiers", "ChildCharacteristics", "Disabilities",
                       "CINdetails", "Assessments", "CINplanDates", "Section47",
                       "ChildProtectionPlans", "Reviews"]
    assert rows(t["ChildIdentifiers"], "LAchildID", "UPN", "FormerUPN", "PersonDeathDate") == [
        ("C1", "A123456789012", None, None), ("C2", "A123456789012", None, None)]
    assert rows(t["Disabilities"], "LAchildID", "Disability") == [
        ("C1", "HAND"), ("C1", "HEAR"), ("C2", "HAND"), ("C2", "HEAR")]
    assert rows(t["CINdetails"], "LAchildID", "CINdetailsID", "CINreferralDate",
                "ReferralNFA") == [("C1", "1", "2024-06-01", "false"),
                                   ("C1", "2", "2025-01-05", "1")]
    assert rows(t["Assessments"], "CINdetailsID", "AssessmentID", "AssessmentFactors",
                "AssessmentAuthorisationDate") == [("1", "1", "1C,21", "2024-07-01"),
                                                   ("1", "2", None, None)]
    assert rows(t["Section47"], "LAchildID", "DateOfInitialCPC") == [("C1", "2024-06-20")]
    assert rows(t["ChildProtectionPlans"], "CPPID", "CPPstartDate", "CPPendDate") == [
        ("1", "2024-06-20", None), ("2", "2022-01-01", "2022-12-01")]
    assert rows(t["Reviews"], "LAchildID", "CINdetailsID", "CPPID", "CPPreviewDate") == [
        ("C1", "1", "1", "2024-09-20"), ("C1", "1", "1", "2025-03-20")]
    assert "C1" not in repr(ret) and "'Reviews': 2" in repr(ret)
    assert f.referrals(t, YEAR).numerator == 2  # the figures read the reader's tables


def test_read_cin_reads_a_namespaced_file_as_a_plain_one(tmp_path: Path) -> None:
    trees = [child("C1", RICH_EPISODE), child("C2")]
    plain = read_cin(cin_census_of(tmp_path / "plain.xml", trees)).tables
    spaced = cin_census_of(tmp_path / "ns.xml", trees,
                           namespace="http://www.dfe.gov.uk/CIN")
    assert b'xmlns="http://www.dfe.gov.uk/CIN"' in spaced.read_bytes()
    named = read_cin(spaced).tables
    assert list(named) == list(plain)
    for name, frame in plain.items():
        pd.testing.assert_frame_equal(named[name], frame, check_index_type=False)
    assert len(named["ChildProtectionPlans"]) == 2


def test_read_cin_refuses_a_doctype_and_never_expands_its_entities(tmp_path: Path) -> None:
    path = tmp_path / "cin.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY x "CIN9">]>\n'
                    "<Message><Children><Child><ChildIdentifiers><LAchildID>&x;</LAchildID>"
                    "</ChildIdentifiers></Child></Children></Message>", encoding="utf-8")
    with pytest.raises(ValueError, match=r"declares a document type \(DOCTYPE, line 2\)"):
        read_cin(path)
    (tmp_path / "cut.xml").write_text("<Message><Children><Child>", encoding="utf-8")
    with pytest.raises(ValueError, match="is not well-formed XML"):
        read_cin(tmp_path / "cut.xml")


def test_read_cin_stops_at_more_children_than_briefing_max_rows(tmp_path: Path) -> None:
    path = cin_census_of(tmp_path / "cin.xml", [child("C1"), child("C2"), child("C3")])
    with pytest.raises(ValueError, match=r"^has more than 2 children \(the limit per file, "
                                         r"BRIEFING_MAX_ROWS\); stopped reading at child 3$"):
        read_cin(path, Limits(rows=2))
    assert len(read_cin(path, Limits(rows=3)).tables["ChildIdentifiers"]) == 3


# --- row for row as cin_validator's reader ------------------------------------------------

THEIRS = r"""
import json, sys, xml.etree.ElementTree as ET
import pandas as pd
from cin_validator.ingress import XMLtoCSV

def cell(v):
    if isinstance(v, list):
        return ",".join(s.strip() for s in v if s and s.strip()) or None
    if v is None or pd.isna(v):
        return None
    return str(v).strip() or None

names = json.loads(sys.stdin.readline())
out = []
for path in sys.argv[1:]:
    read = XMLtoCSV(ET.parse(path).getroot())
    out.append({name: {"columns": list(getattr(read, name).columns),
                       "rows": [[cell(v) for v in row] for row in
                                getattr(read, name).itertuples(index=False, name=None)]}
                for name in names})
print(json.dumps(out))
"""


def theirs(paths: list[Path]) -> list[dict[str, dict[str, list[Any]]]]:
    """cin_validator's tables of each file, each cell as stripped text or None."""
    done = subprocess.run([str(VALIDATORS_ENV / "bin" / "python"), "-c", THEIRS,
                           *map(str, paths)], input=json.dumps(list(TABLES)) + "\n",
                          capture_output=True, text=True, timeout=120, check=True)
    found: list[dict[str, dict[str, list[Any]]]] = json.loads(done.stdout)
    return found


TEXT = st.sampled_from(["1A", "N4", "2024-06-01", "2025-03-31", "true", " RC1 ", "0"])


def optional(tag: str) -> st.SearchStrategy[list[Node]]:
    """No element, an empty one, or one with text."""
    return st.one_of(st.just([]), st.just([(tag, None)]), TEXT.map(lambda t: [(tag, t)]))


def fields(*tags: str) -> st.SearchStrategy[list[Node]]:
    return st.tuples(*map(optional, tags)).map(lambda parts: [n for p in parts for n in p])


def some(tag: str, inner: st.SearchStrategy[list[Node]], most: int = 2
         ) -> st.SearchStrategy[list[Node]]:
    return st.lists(inner.map(lambda nodes: (tag, nodes)), max_size=most)


def _plan() -> st.SearchStrategy[list[Node]]:
    reviews = some("Reviews", st.lists(TEXT.map(lambda t: ("CPPreviewDate", t)), max_size=2))
    return st.tuples(fields("CPPstartDate", "CPPendDate", "InitialCategoryOfAbuse",
                            "LatestCategoryOfAbuse", "NumberOfPreviousCPP"), reviews
                     ).map(lambda p: p[0] + p[1])


def _episode() -> st.SearchStrategy[list[Node]]:
    factors = st.lists(optional("AssessmentFactors"), max_size=3).map(
        lambda parts: [n for p in parts for n in p])
    assessment = st.tuples(
        fields("AssessmentActualStartDate", "AssessmentInternalReviewDate",
               "AssessmentAuthorisationDate"),
        st.one_of(st.just([]), factors.map(lambda f: [("FactorsIdentifiedAtAssessment", f)]))
    ).map(lambda p: p[0] + p[1])
    return st.tuples(
        fields("CINreferralDate", "ReferralSource", "PrimaryNeedCode", "CINclosureDate",
               "ReasonForClosure", "DateOfInitialCPC"),
        some("Assessments", assessment),
        some("CINPlanDates", fields("CINPlanStartDate", "CINPlanEndDate")),
        some("Section47", fields("S47ActualStartDate", "InitialCPCtarget", "DateOfInitialCPC",
                                 "ICPCnotRequired")),
        fields("ReferralNFA"), some("ChildProtectionPlans", _plan()),
    ).map(lambda parts: [n for p in parts for n in p])


def _child() -> st.SearchStrategy[list[Node]]:
    ids = st.tuples(st.sampled_from(["C1", "C2", " C3 "]).map(lambda c: [("LAchildID", c)]),
                    fields("UPN", "FormerUPN", "PersonBirthDate", "Sex", "PersonDeathDate"))
    disabilities = st.lists(optional("Disability"), max_size=2).map(
        lambda parts: [("Disabilities", [n for p in parts for n in p])])
    return st.tuples(
        ids.map(lambda p: [("ChildIdentifiers", p[0] + p[1])]),
        st.tuples(optional("Ethnicity"), st.one_of(st.just([]), disabilities)).map(
            lambda p: [("ChildCharacteristics", p[0] + p[1])]),
        some("CINdetails", _episode(), most=3),
    ).map(lambda parts: [n for p in parts for n in p])


