"""Indicators computed from an SSDA903 return's records, by DfE's published definitions.

Each function takes the return's tables (as `tasks.returns.ssda903.read_903` gives them:
text columns with DfE's names) and a `Period`, and gives a `Figure`: the value, its
numerator and denominator, and the children it rests on. For a collection year the period
is 1 April to 31 March and the figure is DfE's; for a month it is the 12 months to the
month's end, the figure at that end. The definitions and where DfE states them are in
docs/returns.md. Child ids stay in the `Figure` (never in its repr): nothing here logs.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

# Legal statuses of an agreed series of short-term placements (short breaks): DfE excludes
# children looked after under them from its figures unless it says otherwise.
SHORT_BREAKS = frozenset({"V3", "V4"})
# How an episode began (RNE): S started to be looked after; L a change of legal status
# only, the placement unchanged. Every other reason begins a new placement.
STARTED, LEGAL_ONLY = "S", "L"
# How an episode ended (REC): X1 means a new episode began the same day, in care still.
CONTINUES = "X1"
# New episodes with a new carer: P (placement and carer) and T (legal status, placement
# and carer); B and U change the placement with the same carer(s).
NEW_CARER = frozenset({"P", "T"})
# Temporary placements (hospital, holiday and the like) are no change of placement.
TEMPORARY = frozenset({"T0", "T1", "T2", "T3", "T4"})
# Placed for adoption (with or without consent or placement order, with current foster
# carers or not).
FOR_ADOPTION = frozenset({"A3", "A4", "A5", "A6"})
# OC3 activity: in education, employment or training; not; information not known.
IN_EET = frozenset({"F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5"})
NEET = frozenset({"G4", "G5", "G6"})
# OC3 contact: care leavers who died or returned home for 6 months or more are not counted.
LEFT_OUT = frozenset({"DIED", "RHOM"})
CARE_LEAVER_AGES = (19, 20, 21)


@dataclass(frozen=True)
class Period:
    """The days a figure covers, both ends included."""

    start: date
    end: date

    @classmethod
    def collection_year(cls, year: int) -> Period:
        """The collection year ending 31 March `year` (DfE's year)."""
        return cls(date(year - 1, 4, 1), date(year, 3, 31))

    @classmethod
    def to_month_end(cls, year: int, month: int) -> Period:
        """The 12 months to the end of `month` of `year` (a month cycle's figure)."""
        end = date(year, month, calendar.monthrange(year, month)[1])
        start = date(year - 1, month % 12 + 1, 1) if month < 12 else date(year, 1, 1)
        return cls(start, end)


@dataclass(frozen=True)
class Figure:
    """A computed figure. `value` is a percentage where there is a denominator (a count
    where there is none, a rate where the denominator is a population); None when the
    denominator is 0. `children` are the ids it rests on (the denominator's, else the
    numerator's), `counted` those in the numerator: kept out of the repr, never logged."""

    name: str
    value: float | None
    numerator: int
    denominator: int | None
    children: frozenset[str] = field(repr=False)
    counted: frozenset[str] = field(repr=False)


def _figure(name: str, counted: set[str], base: set[str] | None) -> Figure:
    if base is None:
        return Figure(name, float(len(counted)), len(counted), None, frozenset(counted),
                      frozenset(counted))
    value = 100.0 * len(counted) / len(base) if base else None
    return Figure(name, value, len(counted), len(base), frozenset(base), frozenset(counted))


def _dates(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column.fillna("").astype(str).str.strip(), format="%d/%m/%Y",
                          errors="coerce")


# The dates the figures read, by table, and whether a record needs one (an episode with no
# end date is open). A record whose date cannot be read leaves the figure it would be in:
# `date_faults` names each one, so it counts against the figure instead of vanishing.
PARSED_DATES: dict[str, dict[str, bool]] = {
    "Episodes": {"DECOM": True, "DEC": False}, "Header": {"DOB": True},
    "OC3": {"DOB": True}, "Missing": {"MIS_START": True}}
DATE_FORMAT = "a date as DD/MM/YYYY"


@dataclass(frozen=True)
class DateFault:
    """A record's date the figures cannot read: `record` counts the table's records from 1."""

    table: str
    record: int
    column: str
    found: str


def date_faults(tables: Mapping[str, pd.DataFrame]) -> list[DateFault]:
    """Each date the figures read that is not a real day (31/02/2004), or is blank where a
    record needs one, in table, record and column order."""
    return find_date_faults(tables, PARSED_DATES, _dates)


def find_date_faults(tables: Mapping[str, pd.DataFrame],
                     dates: Mapping[str, Mapping[str, bool]],
                     parse: Callable[[pd.Series], pd.Series]) -> list[DateFault]:
    """The dates `dates` names (table -> column -> needed) that `parse` cannot read, or
    that are blank where needed, in table, record and column order (records from 1)."""
    out: list[DateFault] = []
    for table, columns in dates.items():
        frame = tables.get(table)
        if frame is None:
            continue
        for column, required in columns.items():
            if column not in frame:
                continue
            text = frame[column].fillna("").astype(str).str.strip()
            bad = parse(text).isna() & ((text != "") | required)
            out += [DateFault(table, int(i) + 1, column, str(text.iloc[i]))
                    for i in bad.to_numpy().nonzero()[0]]
    return sorted(out, key=lambda f: (f.table, f.record, f.column))


def _text(column: pd.Series) -> pd.Series:
    return column.fillna("").astype(str).str.strip().str.upper()


def episodes_in_care(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Episodes with dates parsed, short breaks left out, in order of start by child.
    Columns: CHILD, start, end (NaT while open), RNE, REC, LS, PLACE."""
    raw = tables["Episodes"]
    frame = pd.DataFrame({
        "CHILD": raw["CHILD"].fillna("").astype(str).str.strip(),
        "start": _dates(raw["DECOM"]), "end": _dates(raw["DEC"]), "RNE": _text(raw["RNE"]),
        "REC": _text(raw["REC"]), "LS": _text(raw["LS"]), "PLACE": _text(raw["PLACE"])})
    frame = frame[frame["start"].notna() & (frame["CHILD"] != "")
                  & ~frame["LS"].isin(SHORT_BREAKS)]
    return frame.sort_values(["CHILD", "start"], kind="stable").reset_index(drop=True)


def _open_at(episodes: pd.DataFrame, day: date) -> pd.DataFrame:
    """Episodes open at the end of `day`: begun on or before it and not ended on or
    before it (an episode ending on the day leaves the child out of care that night)."""
    at = pd.Timestamp(day)
    return episodes[(episodes["start"] <= at) & (episodes["end"].isna() | (episodes["end"] > at))]


def _during(episodes: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Episodes open at any time in the period."""
    return episodes[(episodes["start"] <= pd.Timestamp(period.end))
                    & (episodes["end"].isna() | (episodes["end"] >= pd.Timestamp(period.start)))]


def looked_after_at_end(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Children looked after at the period's end (31 March for a year)."""
    children = set(_open_at(episodes_in_care(tables), period.end)["CHILD"])
    return _figure("children looked after at the period's end", children, None)


def looked_after_rate(tables: Mapping[str, pd.DataFrame], period: Period,
                      population_under_18: int) -> Figure:
    """Children looked after at the period's end per 10,000 children under 18."""
    return rate_per_10k("children looked after per 10,000 under 18",
                        looked_after_at_end(tables, period), population_under_18)


def rate_per_10k(name: str, count: Figure, population_under_18: int) -> Figure:
    """A count's figure per 10,000 children under 18 (the population its denominator)."""
    if population_under_18 <= 0:
        raise ValueError(f"the population under 18 is {population_under_18}: expected a "
                         f"number of children above 0")
    return Figure(name, 10_000 * count.numerator / population_under_18, count.numerator,
                  population_under_18, count.children, count.counted)


def started(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Children who started to be looked after in the period (each child once)."""
    episodes = episodes_in_care(tables)
    began = episodes[(episodes["RNE"] == STARTED) & within(episodes["start"], period)]
    return _figure("children who started to be looked after", set(began["CHILD"]), None)


def ceased(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Children who ceased to be looked after in the period (each child once): an episode
    ended in it with a reason other than a new episode the same day."""
    episodes = episodes_in_care(tables)
    ended = episodes[within(episodes["end"], period) & (episodes["REC"] != CONTINUES)]
    return _figure("children who ceased to be looked after", set(ended["CHILD"]), None)


def within(days: pd.Series, period: Period) -> pd.Series:
    """Which days fall in the period, both ends included (NaT: none)."""
    return (days >= pd.Timestamp(period.start)) & (days <= pd.Timestamp(period.end))


def placements_in_period(episodes: pd.DataFrame, period: Period) -> dict[str, int]:
    """Each child's placements in the period: the one they were in when it began (or
    their first in it), and one more for each episode in it that began a new placement
    (not a change of legal status only, not a temporary placement)."""
    during = _during(episodes, period)
    first = ~during["CHILD"].duplicated()
    moved = (during["RNE"] != LEGAL_ONLY) & ~during["PLACE"].isin(TEMPORARY)
    counts = (first | moved).groupby(during["CHILD"]).sum()
    return {str(child): int(n) for child, n in counts.items()}


def three_or_more_placements(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Children looked after at the period's end with 3 or more placements in it, as a
    percentage of children looked after at its end."""
    episodes = episodes_in_care(tables)
    base = set(_open_at(episodes, period.end)["CHILD"])
    counts = placements_in_period(episodes[episodes["CHILD"].isin(base)], period)
    counted = {child for child, n in counts.items() if n >= 3}
    return _figure("children looked after with 3 or more placements in the year", counted,
                   base)


def years_before(day: date, years: int, months: int = 0) -> pd.Timestamp:
    """The same day `years` and `months` earlier, or later where they are negative (29
    February becomes the 28th)."""
    month = day.month - months
    year = day.year - years - (1 if month < 1 else 0)
    month = month + 12 if month < 1 else month
    return pd.Timestamp(date(year, month, min(day.day, calendar.monthrange(year, month)[1])))


def _spells(past: pd.DataFrame) -> pd.DataFrame:
    """For each child (episodes in order up to the end): when the current period of care
    began (`care`), when the current placement began (`place`), when the placement before
    it began (`previous`, NaT if none in this period of care), and whether the current
    placement is for adoption. Episodes chain into one period of care while each ends X1
    on the day the next begins; a placement here is a spell with one carer (DfE: "living
    with the same carer"), changed only by RNE P or T, not by a temporary placement."""
    child = past["CHILD"]
    joined = (child.eq(child.shift()) & past["REC"].shift().eq(CONTINUES)
              & past["end"].shift().eq(past["start"]))
    chain = (~joined).cumsum()
    rows = past[chain.eq(chain.groupby(child).transform("max"))]
    carer = ~joined[rows.index] | (rows["RNE"].isin(NEW_CARER) & ~rows["PLACE"].isin(TEMPORARY))
    starts = rows.loc[carer, ["CHILD", "start"]]
    back = starts.groupby("CHILD").cumcount(ascending=False)
    return pd.DataFrame({
        "care": rows.groupby("CHILD")["start"].min(),
        "place": starts[back == 0].set_index("CHILD")["start"],
        "previous": starts[back == 1].set_index("CHILD")["start"],
        "adoptive": rows.groupby("CHILD")["PLACE"].last().isin(FOR_ADOPTION)})


def long_term_stability(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Children under 16 at the period's end, looked after continuously for 2.5 years or
    more, who have been with the same carer for 2 years or more, or are placed for
    adoption and their adoptive placement with the one before it lasted 2 years."""
    episodes = episodes_in_care(tables)
    open_now = set(_open_at(episodes, period.end)["CHILD"])
    under_16 = _ages(tables, period.end).loc[lambda a: a < 16].index
    past = episodes[(episodes["start"] <= pd.Timestamp(period.end))
                    & episodes["CHILD"].isin(open_now) & episodes["CHILD"].isin(under_16)]
    spells = _spells(past)
    spells = spells[spells["care"] <= years_before(period.end, 2, 6)]
    two_years = years_before(period.end, 2)
    stable = (spells["place"] <= two_years) | (spells["adoptive"]
                                                & (spells["previous"] <= two_years))
    return _figure("children looked after 2.5 years or more with the same carer for 2 years",
                   {str(c) for c in spells.index[stable]}, {str(c) for c in spells.index})


def _ages(tables: Mapping[str, pd.DataFrame], day: date) -> pd.Series:
    """Each child's age in whole years on `day`, from Header's date of birth."""
    header = tables["Header"]
    born = _dates(header["DOB"])
    ids = header["CHILD"].fillna("").astype(str).str.strip()
    ages = {child: _age(dob.date(), day) for child, dob in zip(ids, born, strict=True)
            if not pd.isna(dob)}
    return pd.Series(ages, dtype="int64")


def _age(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _care_leavers(tables: Mapping[str, pd.DataFrame], period: Period) -> pd.DataFrame:
    """OC3 rows of care leavers whose 19th, 20th or 21st birthday falls in the period,
    without those who died or returned home for 6 months or more."""
    oc3 = tables["OC3"]
    frame = pd.DataFrame({"CHILD": oc3["CHILD"].fillna("").astype(str).str.strip(),
                          "DOB": _dates(oc3["DOB"]), "IN_TOUCH": _text(oc3["IN_TOUCH"]),
                          "ACTIV": _text(oc3["ACTIV"]), "ACCOM": _text(oc3["ACCOM"])})
    frame = frame[frame["DOB"].notna() & (frame["CHILD"] != "")]
    aged = frame["DOB"].map(lambda dob: _birthday_in(dob.date(), period))
    return frame[aged & ~frame["IN_TOUCH"].isin(LEFT_OUT)]


def _birthday_in(born: date, period: Period) -> bool:
    for age in CARE_LEAVER_AGES:
        year = born.year + age
        day = min(born.day, calendar.monthrange(year, born.month)[1])
        if period.start <= date(year, born.month, day) <= period.end:
            return True
    return False


def _leaver_share(tables: Mapping[str, pd.DataFrame], period: Period, name: str,
                  pick: Callable[[pd.DataFrame], pd.Series]) -> Figure:
    """The care leavers `pick` marks, as a share of all care leavers aged 19 to 21."""
    leavers = _care_leavers(tables, period)
    return _figure(name, set(leavers.loc[pick(leavers), "CHILD"]), set(leavers["CHILD"]))


def care_leavers_in_eet(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Care leavers aged 19 to 21 in education, employment or training."""
    return _leaver_share(tables, period, "care leavers aged 19 to 21 in education, "
                         "employment or training", lambda cl: cl["ACTIV"].isin(IN_EET))


def care_leavers_neet(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Care leavers aged 19 to 21 not in education, employment or training."""
    return _leaver_share(tables, period, "care leavers aged 19 to 21 not in education, "
                         "employment or training", lambda cl: cl["ACTIV"].isin(NEET))


def care_leavers_activity_not_known(tables: Mapping[str, pd.DataFrame],
                                    period: Period) -> Figure:
    """Care leavers aged 19 to 21 whose activity is not known: recorded as not known (0)
    or not recorded at all (blank, or a code that is none of DfE's). These are in the
    NEET figure's denominator and in neither numerator: the inspectors' case."""
    return _leaver_share(tables, period, "care leavers aged 19 to 21 whose activity is not "
                         "known", lambda cl: ~cl["ACTIV"].isin(IN_EET | NEET))


def care_leavers_suitably_housed(tables: Mapping[str, pd.DataFrame],
                                 period: Period) -> Figure:
    """Care leavers aged 19 to 21 in accommodation considered suitable (an OC3 ACCOM code
    ending 1; ending 2 is unsuitable, anything else no information)."""
    return _leaver_share(tables, period, "care leavers aged 19 to 21 in suitable "
                         "accommodation", lambda cl: cl["ACCOM"].str.fullmatch(r"[A-Z]1"))


def went_missing(tables: Mapping[str, pd.DataFrame], period: Period) -> Figure:
    """Children looked after in the period who went missing in it (a Missing row of kind
    M begun in the period), as a percentage of children looked after in the period.
    Away from placement without authorisation (A) is DfE's separate figure."""
    base = set(_during(episodes_in_care(tables), period)["CHILD"])
    missing = tables.get("Missing")
    if missing is None:
        return _figure("children looked after who went missing", set(), base)
    kind, begun = _text(missing["MISSING"]), _dates(missing["MIS_START"])
    ids = missing["CHILD"].fillna("").astype(str).str.strip()
    counted = set(ids[(kind == "M") & within(begun, period)]) & base
    return _figure("children looked after who went missing", counted, base)
