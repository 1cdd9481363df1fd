"""One figure per indicator and period, when the exports give it more than once.

A council's analysts' scorecard and its case-management export often both carry an
indicator: the scorecard rounded (52%), the case system exact (51.9%, 54 of 104). They
agree when the more precise value, rounded half up to the decimal places of the less
precise one, equals it (trailing zeros aside: `52.0` is read as 52). Which record is used:

1. the source with the higher `priority:` in sources.yaml (default 0);
2. then the record with numerator and denominator (it says how many children), or with
   one of them;
3. then the more precise value; then the first file by name, and row.

Agreeing records are a finding for the data-quality appendix (a warning when one file
repeats itself, otherwise information). Records that disagree are a warning naming both
files and values when the first two rules choose between them; otherwise (one file giving
two values, or two equal sources) nothing says which is right, so the figure is withheld
as an error in the source. A faulty cell withholds its figure unless another file gives
that figure cleanly. A figure that could be about 1 to 5 children marks its findings
`small`, so the public edition leaves them out (tasks.editions.disclosure).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

import pandas as pd

from tasks.checking.small_numbers import CHILD_UNITS, SMALL, is_small
from tasks.reading.display import shown
from tasks.reading.problems import DISAGREE, DUPLICATE, Findings, Problem, Severity, cell_fault
from tasks.reading.values import opt_float
from tasks.settings.config import Config, Unit
from tasks.settings.frames import FIGURES
from tasks.settings.periods import label

KEYS = ["indicator", "period"]


@dataclass
class Figures:
    """The records a briefing uses (one per indicator and period: frames.FIGURES), what
    choosing them found, and the figures withheld for an error in the source: key -> where
    the error is."""

    records: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    withheld: dict[tuple[str, str], str] = field(default_factory=dict)
    # Figures the public edition leaves out whatever their values (see `contested`).
    contested: set[tuple[str, str]] = field(default_factory=set)


def decimals_of(x: float) -> int:
    """Decimal places a value carries (52 -> 0, 51.9 -> 1), at most 6."""
    for d in range(7):
        if abs(round(x, d) - x) <= 1e-9 * max(1.0, abs(x)):
            return d
    return 6


def half_up(x: float, d: int) -> float:
    """x rounded to d places, halves away from zero, as people and spreadsheets round."""
    scale = 10.0 ** d
    return math.copysign(math.floor(abs(x) * scale + 0.5 + 1e-9) / scale, x)


def agree(a: float, b: float) -> bool:
    """Equal at the precision of the less precise of the two."""
    d = min(decimals_of(a), decimals_of(b))
    return abs(half_up(a, d) - half_up(b, d)) <= 1e-9 * max(1.0, abs(a))


def row_of(r: Any) -> int | None:
    """A record's row, or None for a figure computed from a return's records (row 0): it
    has no one row, and its file's row 1 is the header."""
    return int(r.row) or None


def _in_row(r: Any, sep: str = ", ") -> str:
    row = row_of(r)
    return f"{r.file}{sep}row {row}" if row is not None else str(r.file)


def place(r: Any) -> str:
    """Where an error record's fault is, as a person finds it."""
    return shown(f"{_in_row(r)}, column '{r.error}'")


def _known(x: object) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _n(v: float) -> str:
    return f"{v:g}"


@dataclass(frozen=True)
class _Rec:
    """One record among several for the same figure, with what ranks it."""

    r: Any  # the record (a row of the canonical frame)
    priority: int
    counts: int  # how many of numerator and denominator it has (0 to 2)
    places: int  # decimal places of its value

    @property
    def rank(self) -> tuple[int, int, int]:
        return self.priority, self.counts, self.places

    @property
    def at(self) -> str:
        return _in_row(self.r, " ")


def figures(records: pd.DataFrame, config: Config, priority: Callable[[str], int],
            headers: dict[str, dict[str, str]] | None = None) -> Figures:
    """The usable records among `records` (catalogue indicators, periods up to the cycle:
    the caller filters), one per indicator and period, with what choosing them found.

    Records are compared in plain Python, a figure at a time, only where a figure is given
    more than once: thirty-six monthly files each repeating a year's history cost well
    under a second."""
    units = {i.code: i.unit for i in config.indicators}
    out = Figures(records.iloc[0:0][FIGURES.columns])
    if records.empty:
        return out
    faulty = (records["error"].notna() if "error" in records
              else pd.Series(False, index=records.index))
    clean = records[~faulty]
    bad = records[faulty]
    if not bad.empty:
        # A faulty cell withholds its figure unless another file gives it cleanly.
        bad_files = bad[[*KEYS, "file"]].drop_duplicates()
        other = clean[[*KEYS, "file"]].drop_duplicates().merge(
            bad_files, on=[*KEYS, "file"], how="left", indicator=True)
        rescued = set(zip(other.loc[other["_merge"] == "left_only", "indicator"],
                          other.loc[other["_merge"] == "left_only", "period"], strict=True))
        for r in bad.drop_duplicates(KEYS).itertuples(index=False):
            if (r.indicator, r.period) not in rescued:
                out.withheld[(str(r.indicator), str(r.period))] = place(r)
    if out.withheld:
        key = pd.MultiIndex.from_frame(clean[KEYS])
        clean = clean[~key.isin(list(out.withheld))]
    repeated = clean.duplicated(KEYS, keep=False)
    chosen: list[Any] = []
    problems = Findings()
    ranks = {f: priority(str(f)) for f in clean.loc[repeated, "file"].unique()}
    rows = sorted(clean[repeated].itertuples(index=False),
                  key=lambda r: (r.indicator, r.period, r.file, r.row))
    for (code, period), grp in groupby(rows, key=lambda r: (r.indicator, r.period)):
        grp_list = list(grp)
        rec, found, withheld = _choose(grp_list, units.get(str(code)), ranks)
        problems.extend(found)
        if contested(grp_list, units.get(str(code)), ranks):
            out.contested.add((str(code), str(period)))
        if withheld is not None:
            out.withheld[(str(code), str(period))] = withheld
        elif rec is not None:
            chosen.append(rec)
    use = clean[~repeated][FIGURES.columns]
    if chosen:
        picked = pd.DataFrame([{c: getattr(r, c) for c in FIGURES.columns} for r in chosen])
        use = pd.concat([use, picked], ignore_index=True)
    out.problems = problems.collapsed()
    out.records = use.astype({"value": "float64", "numerator": "float64",
                              "denominator": "float64"}).reset_index(drop=True)
    return out


def _choose(grp: list[Any], unit: Unit | None, ranks: dict[str, int]
            ) -> tuple[Any | None, list[Problem], str | None]:
    """(the record used, findings, where the error is if the figure is withheld) among
    the records of one figure, in file and row order."""
    code, period = str(grp[0].indicator), str(grp[0].period)
    known = [r for r in grp if _known(r.value)]
    if not known:
        return grp[0], [], None  # all blank: a gap, reported as one (tasks.checking.validate)
    if len(known) == 1:
        return known[0], [], None  # a value beside blanks or markers: the value
    ranked = sorted((_Rec(r, *_standing(r, ranks), decimals_of(float(r.value)))
                     for r in known),
                    key=lambda x: x.rank, reverse=True)  # stable: file and row order kept
    top, rest = ranked[0], ranked[1:]
    small = unit is not None and any(
        is_small(unit, opt_float(x.r.value), opt_float(x.r.numerator),
                 opt_float(x.r.denominator)) for x in ranked)
    where = "; ".join(f"{x.at}: {_n(float(x.r.value))}" for x in ranked[:3])
    if len(ranked) > 3:
        where += f"; and {len(ranked) - 3:,} more"
    files = {str(x.r.file) for x in ranked}
    what = f"{code} {period}"
    differ = [x for x in rest if not agree(float(top.r.value), float(x.r.value))]
    if not differ:
        same = len({round(float(x.r.value), 9) for x in ranked}) == 1
        agreeing = ("with the same value" if same else
                    f"with values that agree at {min(x.places for x in ranked)} decimal "
                    "places")
        why = _why(top, ranked[1])
        used = f"{top.at}'s is used ({why})" if why else "one is used"
        return top.r, [Problem(
            Severity.WARNING if len(files) == 1 else Severity.INFO, str(top.r.file),
            row_of(top.r), None, f"{what} is given more than once {agreeing} ({where}); {used}",
            code, period=period, kind=DUPLICATE, small=small,
            group="given twice with the same value")], None
    decided = all(top.rank[:2] > x.rank[:2] for x in differ)
    if len(files) > 1 and decided:
        other = differ[0]
        why = _why(top, other)
        return top.r, [Problem(
            Severity.WARNING, str(top.r.file), row_of(top.r), _column(top.r),
            f"{code} in {label(period)}: the sources disagree ({where}); "
            f"{top.r.file}'s figure is used ({why})", code, period=period, kind=DISAGREE,
            small=small, public=(
                f"{code} in {label(period)}: {top.r.file} and {other.r.file} give different "
                f"figures; {top.r.file}'s is used ({why})"))], None
    fix = ("expected one value" if len(files) == 1 else
           "expected one value, or priority: on one source in sources.yaml to say which is "
           "used")
    first = known[0]  # nothing to prefer: the first, by file and row
    problem = cell_fault(str(first.file), row_of(first), _column(first),
                         f"{what} is given more than once with different values ({where})"
                         + ("" if len(files) == 1 else " and neither source has priority")
                         + f"; {fix}", code, period, "given twice with different values")
    return None, [problem], shown(f"{_in_row(first)}, column '{_column(first)}'")


def contested(grp: list[Any], unit: Unit | None, ranks: dict[str, int]) -> bool:
    """Whether the public edition must leave this figure out, whatever its value.

    Any record of a figure that could be about 1 to 5 children makes the figure small,
    whichever record is used. The public edition can show it as `c` only when the record
    used is itself small and is used whatever the others say (a higher `priority:`, or
    numerator and denominator the others lack). Otherwise it leaves the figure out, in one
    wording: when neither priority nor counts decide, whether the records agree (the figure
    is used) or not (it is withheld) rests on the hidden value, and showing the one and
    withholding the other would tell a reader whether it equals the other export's; and a
    record used without counts (a rounded "2%" chosen by priority over "2 of 100") would
    print the small figure as if it counted nobody. The restricted edition is unchanged."""
    if unit is None or not any(_small(unit, r) for r in grp):
        return False
    known = [r for r in grp if _known(r.value)]
    if not known:
        return False  # no value at all: a gap
    if len(known) == 1:
        return not _small(unit, known[0])  # used beside blanks that carry the counts
    if len({str(r.file) for r in known}) == 1:
        return True  # one file giving two values is never settled (_choose)
    ranked = sorted(known, key=lambda r: _standing(r, ranks), reverse=True)
    first, second = (_standing(r, ranks) for r in ranked[:2])
    return first == second or not _small(unit, ranked[0])


def _standing(r: Any, ranks: dict[str, int]) -> tuple[int, int]:
    """What decides which record of a figure is used, whatever the values (the first two
    parts of `_Rec.rank`; `_choose` and `contested` read it from here): its source's
    priority, then how many of numerator and denominator it has."""
    return ranks.get(str(r.file), 0), int(_known(r.numerator)) + int(_known(r.denominator))


def _small(unit: Unit, r: Any) -> bool:
    """A record about 1 to 5 children: by its figures, or by its numerator alone when its
    value is blank (a count of children all the same)."""
    num = opt_float(r.numerator)
    return (is_small(unit, opt_float(r.value), num, opt_float(r.denominator))
            or (unit in CHILD_UNITS and not _known(r.value) and num is not None
                and _known(num) and round(num) in SMALL))


def _column(r: Any) -> str:
    return str(r.column) if isinstance(r.column, str) else "value"


def _why(top: _Rec, other: _Rec) -> str:
    if top.priority > other.priority:
        return f"its source's priority, {top.priority} over {other.priority}"
    if top.counts > other.counts:
        return ("it has numerator and denominator" if top.counts == 2 else
                "it has its numerator" if _known(top.r.numerator) else "it has its denominator")
    if top.places > other.places:
        return "the more precise"
    return ""
