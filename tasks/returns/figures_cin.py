"""Indicators computed from a CIN census's records, by DfE's published definitions.

DfE's "Children in need" statistics (Characteristics of children in need, from the CIN
census) count events: referrals, assessments, conferences and plans, not children, except
for the children on a plan at the year's end. Each function takes the census's tables (as
`tasks.returns.cin_records.read_cin` gives them: text, DfE's names, dates as YYYY-MM-DD)
and a `Period`, and gives a `Figure` whose numerator and denominator count those events;
its `children` are the ids of the children in the denominator (a count's: the
numerator's), `counted` those in the numerator. For a collection year the period is 1
April to 31 March and the figure is DfE's; for a month it is the 12 months to the month's
end, and it can only see what the census file holds: the year's census holds the episodes
open at some time in its own year, so a month's figure from it sees nothing after the
file's reference date, nor an episode that closed before its year began.

Only records of a child with an LAchildID count. A record whose date the figure reads
cannot be read (not a real day, or blank where needed) leaves the figure: `date_faults`
names each one. Working days leave out weekends and England's bank holidays
(`tasks.settings.calendar`). Child ids stay in the `Figure`, never in its repr: nothing
here logs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta

import pandas as pd

from tasks.returns.cin_records import TABLES
from tasks.returns.figures_903 import (
    DateFault,
    Figure,
    Period,
    find_date_faults,
    rate_per_10k,
    within,
    years_before,
)
from tasks.settings.calendar import is_working_day
from tasks.settings.config import Unit

DATE_FORMAT = "a date as YYYY-MM-DD"
DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
# The dates the figures read, by table and column, and whether a record needs one (an
# assessment not yet authorised, an enquiry with no conference yet, an open plan: blank).
DATES_READ: dict[str, dict[str, bool]] = {
    "CINdetails": {"CINreferralDate": True},
    "Assessments": {"AssessmentActualStartDate": True, "AssessmentAuthorisationDate": False},
    "Section47": {"S47ActualStartDate": True, "DateOfInitialCPC": False},
    "ChildProtectionPlans": {"CPPstartDate": True, "CPPendDate": False},
}
ASSESSMENT_DAYS = 45  # working days: Working Together to Safeguard Children
ICPC_DAYS = 15
TRUE = frozenset({"TRUE", "1"})  # xs:boolean's true


def _dates(column: pd.Series) -> pd.Series:
    """Each cell as a day; NaT when blank or not a real day given as YYYY-MM-DD."""
    text = column.fillna("").astype(str).str.strip()
    shaped = text.where(text.str.fullmatch(DATE_PATTERN), "")
    return pd.to_datetime(shaped, format="%Y-%m-%d", errors="coerce")


def _unreadable(column: pd.Series, required: bool) -> pd.Series:
    """Cells that are not a real day: given but wrong, or blank where needed."""
    text = column.fillna("").astype(str).str.strip()
    return _dates(column).isna() & ((text != "") | required)


def date_faults(tables: Mapping[str, pd.DataFrame]) -> list[DateFault]:
    """Each date the figures read that is not a real day (2025-02-30, 31/03/2025), or is
    blank where a record needs one, in table, record and column order (records from 1)."""
    return find_date_faults(tables, DATES_READ, _dates)


def _records(tables: Mapping[str, pd.DataFrame], table: str) -> pd.DataFrame:
    """The table's records of children with an id, whose dates read here are readable:
    CHILD, then each date column of DATES_READ parsed (NaT where blank)."""
    raw = tables.get(table)
    if raw is None:
        raw = pd.DataFrame(columns=list(TABLES[table]), dtype="object")
    frame = raw.copy()
    for column in TABLES[table]:
        if column not in frame:  # a table made by hand may lack a column no figure needs
            frame[column] = None
    frame["CHILD"] = frame["LAchildID"].fillna("").astype(str).str.strip()
    keep = frame["CHILD"] != ""
    for column, required in DATES_READ[table].items():
        keep &= ~_unreadable(frame[column], required)
        frame[column] = _dates(frame[column])
    return frame[keep].reset_index(drop=True)


def _share(name: str, base: pd.DataFrame, counted: pd.Series) -> Figure:
    """Of the events in `base`, those `counted` marks, as a percentage of them all."""
    numerator, denominator = int(counted.sum()), len(base)
    value = 100.0 * numerator / denominator if denominator else None
    return Figure(name, value, numerator, denominator, frozenset(base["CHILD"]),
                  frozenset(base.loc[counted, "CHILD"]))


def _count(name: str, events: pd.DataFrame) -> Figure:
    """A count of events (rows): the children are those the events are of."""
    children = frozenset(events["CHILD"])
    return Figure(name, float(len(events)), len(events), None, children, children)


def _referrals_in(tables: Mapping[str, pd.DataFrame], period: Period) -> pd.DataFrame:
    details = _records(tables, "CINdetails")
    return details[within(details["CINreferralDate"], period)]


def referrals(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Referrals in the period: CIN episodes (CINdetails) whose CINreferralDate is in it,
    those with no further action (ReferralNFA true) included. A count of referrals."""
    return _count("referrals", _referrals_in(tables, period))


def referrals_rate(tables: Mapping[str, pd.DataFrame], period: Period,
                   population_under_18: int) -> Figure:
    """Referrals in the period per 10,000 children under 18."""
    return rate_per_10k("referrals per 10,000 children under 18", referrals(tables, period),
                 population_under_18)


def referrals_nfa(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Of the referrals in the period, the percentage with no further action: ReferralNFA
    true ('true' or '1', any case; anything else, blank included, is not)."""
    found = _referrals_in(tables, period)
    nfa = found["ReferralNFA"].fillna("").astype(str).str.strip().str.upper().isin(TRUE)
    return _share("referrals with no further action", found, nfa)


def re_referrals(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Of the referrals in the period, the percentage within 12 months of a previous
    referral of the same child: one dated on or after the same day a year earlier (28
    February for 29 February) and strictly before this one. Only previous referrals in
    the file can be seen: one closed before the census year began is not in it."""
    details = _records(tables, "CINdetails")
    found = details[within(details["CINreferralDate"], period)]
    dates = details.groupby("CHILD")["CINreferralDate"].apply(list).to_dict()

    def again(child: str, day: pd.Timestamp) -> bool:
        since = years_before(day.date(), 1)
        return any(since <= other < day for other in dates[child])

    repeated = pd.Series([again(c, d) for c, d in zip(found["CHILD"], found["CINreferralDate"],
                                                      strict=True)], index=found.index,
                         dtype=bool)
    return _share("re-referrals within 12 months of a previous referral", found, repeated)


def working_days_after(start: date, end: date, stop: int | None = None) -> int:
    """Working days after `start` up to and including `end` (0 when `end` is `start`, or
    before it): a Friday start and a Monday end is 1. With `stop`, counting ends once it
    passes `stop` (a long gap need not be walked day by day)."""
    count, day = 0, start
    while day < end and (stop is None or count <= stop):
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def _in_time(name: str, records: pd.DataFrame, start: str, end: str, days: int,
             period: Period) -> Figure:
    """Of the events ended in the period (`end` in it), the share that ended within
    `days` working days of `start`; one that ended before it started did not (DfE's
    reading for conferences: in the total, not in time)."""
    found = records[within(records[end], period)]
    timely = pd.Series([e >= s and working_days_after(s.date(), e.date(), days) <= days
                        for s, e in zip(found[start], found[end], strict=True)],
                       index=found.index, dtype=bool)
    return _share(name, found, timely)


def assessments_in_45_days(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Of the assessments authorised in the period (AssessmentAuthorisationDate in it),
    the percentage authorised within 45 working days of AssessmentActualStartDate: the
    working days after the start day up to and including the authorisation day are 45 or
    fewer. One authorised before it started (DfE rule 8608 rejects it) counts in the total
    and not as in time, as DfE counts a conference held before its enquiry began."""
    return _in_time("assessments authorised within 45 working days",
                    _records(tables, "Assessments"), "AssessmentActualStartDate",
                    "AssessmentAuthorisationDate", ASSESSMENT_DAYS, period)


def icpc_in_15_days(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Of the initial child protection conferences held in the period (Section47 rows
    whose DateOfInitialCPC is in it), the percentage held within 15 working days of the
    enquiry's start (S47ActualStartDate), the working days counted as for assessments.
    One held before its enquiry started (rule 8615) is in the total and not in time:
    "This measure excludes cases where the recorded initial child protection conference
    date is before section 47 date, however these will be included in overall number of
    ICPCs" (DfE, Characteristics of children in need, table C4)."""
    return _in_time("initial child protection conferences within 15 working days",
                    _records(tables, "Section47"), "S47ActualStartDate", "DateOfInitialCPC",
                    ICPC_DAYS, period)


def cp_plans_at_end(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Children on a child protection plan at the period's end: a plan begun on or before
    it (CPPstartDate) and not ended by it (CPPendDate blank or after it). A count of
    children, each once however many plans are open."""
    plans = _records(tables, "ChildProtectionPlans")
    end = pd.Timestamp(period.end)
    open_now = plans[(plans["CPPstartDate"] <= end)
                     & (plans["CPPendDate"].isna() | (plans["CPPendDate"] > end))]
    children = frozenset(open_now["CHILD"])
    return Figure("children on a child protection plan at the period's end",
                  float(len(children)), len(children), None, children, children)


def cp_plans_rate(tables: Mapping[str, pd.DataFrame], period: Period,
                  population_under_18: int) -> Figure:
    """Children on a child protection plan at the period's end per 10,000 under 18."""
    return rate_per_10k("children on a child protection plan per 10,000 under 18",
                 cp_plans_at_end(tables, period), population_under_18)


def cp_second_or_subsequent(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Of the child protection plans starting in the period, the percentage that were a
    second or subsequent plan: NumberOfPreviousCPP a whole number above 0, or the child
    has a plan in the file that started before this one (a plan of another authority is
    known only from NumberOfPreviousCPP)."""
    plans = _records(tables, "ChildProtectionPlans")
    first = plans.groupby("CHILD")["CPPstartDate"].transform("min")
    previous = pd.to_numeric(plans["NumberOfPreviousCPP"].fillna("").astype(str).str.strip(),
                             errors="coerce").fillna(0)
    later = (previous > 0) | (plans["CPPstartDate"] > first)
    starting = within(plans["CPPstartDate"], period)
    return _share("child protection plans that were a second or subsequent plan",
                  plans[starting], later[starting])


def cp_lasting_two_years(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Of the child protection plans ending in the period (CPPendDate in it), the
    percentage that lasted 2 years or more: ended on or after the start's second
    anniversary (28 February for a start on 29 February)."""
    plans = _records(tables, "ChildProtectionPlans")
    ended = plans[within(plans["CPPendDate"], period)]
    anniversary = ended["CPPstartDate"].map(lambda d: years_before(d.date(), -2))
    return _share("child protection plans ending that lasted 2 years or more", ended,
                  ended["CPPendDate"] >= anniversary)


Compute = Callable[[Mapping[str, pd.DataFrame], Period], Figure]
# Each figure's function and the unit of what it gives, by the name sources.yaml uses; a
# rate's function is None: it needs the indicator's population (the rate functions).
FIGURES_CIN: dict[str, tuple[Compute | None, Unit]] = {
    "referrals": (referrals, Unit.COUNT),
    "referrals_rate": (None, Unit.RATE_PER_10K),
    "referrals_nfa": (referrals_nfa, Unit.PERCENT),
    "re_referrals": (re_referrals, Unit.PERCENT),
    "assessments_in_45_days": (assessments_in_45_days, Unit.PERCENT),
    "icpc_in_15_days": (icpc_in_15_days, Unit.PERCENT),
    "cp_plans_at_end": (cp_plans_at_end, Unit.COUNT),
    "cp_plans_rate": (None, Unit.RATE_PER_10K),
    "cp_second_or_subsequent": (cp_second_or_subsequent, Unit.PERCENT),
    "cp_lasting_two_years": (cp_lasting_two_years, Unit.PERCENT),
}
# The tables each figure reads: a record failing a rule in another table cannot move it.
_READS = {"referrals": "CINdetails", "referrals_rate": "CINdetails",
          "referrals_nfa": "CINdetails", "re_referrals": "CINdetails",
          "assessments_in_45_days": "Assessments", "icpc_in_15_days": "Section47"}
TABLES_READ: dict[str, frozenset[str]] = {
    name: frozenset({_READS.get(name, "ChildProtectionPlans")}) for name in FIGURES_CIN}
