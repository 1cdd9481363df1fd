"""Breakdowns of an indicator (by team, locality, age band): do they add up, and which parts
drove the change.

An export names its breakdown columns (`breakdowns:` on a long source in sources.yaml): a
row with a breakdown value is a part of the indicator's figure, not the figure itself.
Parts must add up: counts to the total, and a percentage's or rate's numerators and
denominators to the total's (a data-quality finding otherwise, and no decomposition).

The change in a rate R = N / D between two periods is split over the parts exactly (a
shift-share decomposition at the midpoint): with each part's share of the denominator
s = d / D and its own rate r = n / d,

    R' - R = sum over parts of  mean(s, s') * (r' - r)   [its numerator: the rate effect]
                              + mean(r, r') * (s' - s)   [its size: the mix effect]

which holds term by term, so the contributions sum to the total change. A part present in
one period only has its own rate in both (its whole contribution is its size). For a count
each part's contribution is its own change.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tasks.reading.parts import part_fault
from tasks.reading.problems import BREAKDOWN, Problem, Severity
from tasks.reading.values import opt_float
from tasks.settings.config import COUNT_LIMIT, Config, Indicator, Unit, beyond_limit, expected_range

TOLERANCE = 1e-6  # counts are whole numbers; sums within this are equal



@dataclass(frozen=True)
class Part:
    """One part of an indicator in one period."""

    name: str
    value: float | None
    numerator: float | None
    denominator: float | None


@dataclass(frozen=True)
class Contribution:
    """One part's share of the change in the indicator between two periods."""

    name: str
    value: float | None  # the part's latest figure
    previous: float | None
    total: float  # its contribution to the change, in the indicator's units
    numerator_effect: float  # from the change in its own rate (0 for a count)
    size_effect: float  # from the change in its share of the denominator


@dataclass(frozen=True)
class Breakdown:
    """An indicator's latest breakdown and what drove its change since the previous period."""

    indicator: str
    breakdown: str  # the column's name, "Team"
    period: str
    previous_period: str | None
    parts: tuple[Part, ...]  # latest period
    previous_parts: tuple[Part, ...]
    change: float | None  # the total's change the contributions add up to
    contributions: tuple[Contribution, ...]  # empty when the parts do not add up
    withheld: bool = False  # public edition: it rests on figures about 1 to 5 children
    # Why there are no contributions, as the paper words it after "the breakdown by team".
    why_none: str = ""


def _num(x: object) -> float | None:
    try:
        return opt_float(x)
    except (TypeError, ValueError):
        return None


def parts_of(parts: pd.DataFrame, code: str, period: str) -> tuple[str, tuple[Part, ...]]:
    """(breakdown name, its parts in order of name) for one indicator and period."""
    rows = parts[(parts["indicator"] == code) & (parts["period"] == period)]
    if rows.empty:
        return "", ()
    name = str(rows["breakdown"].iloc[0])
    rows = rows[rows["breakdown"] == name].sort_values("part")
    return name, tuple(Part(str(r.part), _num(r.value), _num(r.numerator),
                            _num(r.denominator)) for r in rows.itertuples(index=False))


def _n(x: float | None) -> str:
    return "blank" if x is None else f"{x:g}"


def _adds_up(ind: Indicator, parts: tuple[Part, ...], total: pd.Series | None
             ) -> str | None:
    """Why the parts do not add up to the total, or None when they do."""
    if total is None:
        return "there is no total figure for that period"
    if ind.unit is Unit.COUNT:
        if any(p.value is None for p in parts):
            return "a part has no figure"
        got, want = sum(p.value or 0.0 for p in parts), _num(total["value"])
        if want is None or abs(got - want) > TOLERANCE:
            return f"the parts add up to {got:g}, not the total {_n(want)}"
        return None
    for column in ("numerator", "denominator"):
        want = _num(total[column])
        if want is None:
            return f"the total has no {column} to check the parts against"
        values = [getattr(p, column) for p in parts]
        if any(v is None for v in values):
            return f"a part has no {column}"
        got = sum(values)
        if abs(got - want) > TOLERANCE:
            return f"the parts' {column}s add up to {got:g}, not the total's {want:g}"
    return None



def _part_figure_fault(ind: Indicator, r: pd.Series) -> tuple[str, str] | None:
    """The first thing wrong with a part's figures for its indicator's unit, as (column,
    message), or None: its sign, its value's range, its numerator and denominator."""
    v, num, den = _num(r["value"]), _num(r["numerator"]), _num(r["denominator"])
    signs = r.get("sign")
    unit_words = ind.unit.value.replace("_", " ")
    wrong = [s for s in (signs if isinstance(signs, str) else "")
             if {"%": Unit.PERCENT, "£": Unit.MONEY}.get(s) is not ind.unit]
    if wrong:
        return "value", (f"written as {'a percentage' if wrong[0] == '%' else 'money'} "
                         f"({wrong[0]}) but {ind.code} is measured as a {unit_words}")
    if v is not None and ind.unit is Unit.PERCENT and not 0 <= v <= 100:
        return "value", f"{v:g} is not a percentage (expected 0 to 100)"
    if v is not None and v < 0 and ind.unit is not Unit.MONEY:
        return "value", f"{v:g} is negative"
    if v is not None and beyond_limit(ind.unit, v):
        return "value", (f"{v:.6g} is beyond what a {unit_words} figure can be "
                         f"(expected {expected_range(ind.unit)})")
    if any(x is not None and x > COUNT_LIMIT for x in (num, den)):
        return "numerator", f"numerator and denominator must be at most {COUNT_LIMIT:,.0f}"
    if v is not None and ind.unit is Unit.COUNT and not float(v).is_integer():
        return "value", f"{v:g} is not a whole number (expected a count)"
    if any(x is not None and (x < 0 or not float(x).is_integer()) for x in (num, den)):
        return "numerator", "numerator and denominator must be whole numbers of zero or more"
    if num is not None and den is not None and num > den:
        return "numerator", f"numerator {num:g} is greater than denominator {den:g}"
    return None


def check_parts(parts: pd.DataFrame, config: Config) -> tuple[pd.DataFrame, list[Problem]]:
    """The parts as their totals are checked (tasks.checking.validate): a code in the catalogue,
    this
    authority's, values possible for the unit, numerator within denominator, and each part
    once per period. A part at fault is not used or stored (the breakdown then does not
    add up, and the public edition leaves it out whole); the finding names its file, row
    and column. The public edition's wording quotes no cell: parts are small numbers."""
    if parts.empty:
        return parts, []
    catalogue = config.by_code()
    auth = config.briefing.authority
    problems: list[Problem] = []
    bad: set[object] = set()

    def fault(idx: object, r: pd.Series, column: str, message: str,
              severity: Severity = Severity.ERROR) -> None:
        bad.add(idx)
        row = None if pd.isna(r["row"]) else int(r["row"])
        header = r.get("column")
        if column == "value" and isinstance(header, str) and header:
            column = header
        problems.append(part_fault(str(r["file"]), row, column, str(r["indicator"]),
                                   str(r["period"]), str(r["breakdown"]), str(r["part"]),
                                   message, severity))

    for idx, r in parts.iterrows():
        ind = catalogue.get(str(r["indicator"]))
        if ind is None:
            fault(idx, r, "indicator", "indicator code not in indicators.yaml",
                  Severity.WARNING)
            continue
        a = r.get("authority")
        if isinstance(a, str) and a.strip() and a.strip() not in {auth.code, auth.name}:
            fault(idx, r, "authority", f"a row for authority {a.strip()[:20]!r}, expected "
                                       f"{auth.code} ({auth.name})")
            continue
        if (found := _part_figure_fault(ind, r)) is not None:
            fault(idx, r, *found)
    kept = parts.drop(index=list(bad))
    keys = ["indicator", "period", "breakdown", "part"]
    twice = kept[kept.duplicated(keys, keep=False)]
    for _, group in twice.groupby(keys, sort=True):
        places = "; ".join(f"{r['file']} row {r['row']}" for _, r in group.head(3).iterrows())
        for idx, r in group.iterrows():
            if idx == group.index[0]:
                fault(idx, r, "part", f"given more than once ({places}); expected once")
            bad.add(idx)
    return parts.drop(index=list(bad)).reset_index(drop=True), problems


def check_breakdowns(parts: pd.DataFrame, records: pd.DataFrame, config: Config,
                     small: set[tuple[str, str]] | None = None) -> list[Problem]:
    """A finding for each indicator and period whose parts do not add up to its total.

    `small`: (indicator, period) whose total or any part is about 1 to 5 children, so the
    public edition leaves the finding out (whether it adds up rests on those figures)."""
    out: list[Problem] = []
    catalogue = config.by_code()
    totals = {(str(r["indicator"]), str(r["period"])): r for _, r in records.iterrows()}
    for (code, period), rows in parts.groupby(["indicator", "period"], sort=True):
        ind = catalogue.get(str(code))
        if ind is None:
            continue
        name, ps = parts_of(rows, str(code), str(period))
        if _rates_alone(ind, ps):
            continue  # nothing to check them by (breakdown_for says so in the paper)
        why = _adds_up(ind, ps, totals.get((str(code), str(period))))
        if why is not None:
            out.append(Problem(
                Severity.WARNING, str(rows["file"].iloc[0]), None, name,
                f"{code} {period}: the breakdown by {name.lower()} does not add up: {why}; "
                "its contributions to the change are not shown", str(code),
                period=str(period), kind=BREAKDOWN,
                small=(str(code), str(period)) in (small or set())))
    return out


def decompose(ind: Indicator, latest: tuple[Part, ...], previous: tuple[Part, ...]
              ) -> tuple[Contribution, ...]:
    """Each part's contribution to the change (module docstring); the parts must add up."""
    before = {p.name: p for p in previous}
    after = {p.name: p for p in latest}
    names = sorted(set(before) | set(after))
    if ind.unit is Unit.COUNT:
        return tuple(Contribution(
            n, after[n].value if n in after else None, before[n].value if n in before else None,
            (after[n].value or 0.0 if n in after else 0.0)
            - (before[n].value or 0.0 if n in before else 0.0),
            0.0, 0.0) for n in names)
    per = 100.0 if ind.unit is Unit.PERCENT else 10_000.0
    d0 = sum(p.denominator or 0.0 for p in previous)
    d1 = sum(p.denominator or 0.0 for p in latest)
    out = []
    for n in names:
        b, a = before.get(n), after.get(n)
        s0 = (b.denominator or 0.0) / d0 if b is not None and d0 else 0.0
        s1 = (a.denominator or 0.0) / d1 if a is not None and d1 else 0.0
        r0 = _rate(b, per)
        r1 = _rate(a, per)
        r0 = r1 if r0 is None else r0  # present in one period only: its own rate in both
        r1 = r0 if r1 is None else r1
        r0, r1 = r0 or 0.0, r1 or 0.0
        rate_effect = (s0 + s1) / 2 * (r1 - r0)
        size_effect = (r0 + r1) / 2 * (s1 - s0)
        out.append(Contribution(n, a.value if a else None, b.value if b else None,
                                rate_effect + size_effect, rate_effect, size_effect))
    return tuple(out)


def _rate(p: Part | None, per: float) -> float | None:
    if p is None or not p.denominator or p.numerator is None:
        return None
    return per * p.numerator / p.denominator


def breakdown_for(ind: Indicator, parts: pd.DataFrame, records: pd.DataFrame, period: str,
                  previous_period: str | None) -> Breakdown | None:
    """The latest breakdown of one indicator and its contributions, or None without one."""
    name, latest = parts_of(parts, ind.code, period)
    if not latest:
        return None
    prev_name, previous = (parts_of(parts, ind.code, previous_period)
                           if previous_period else ("", ()))
    totals = {str(r["period"]): r for _, r in records[records["indicator"] == ind.code]
              .iterrows()}
    why_none = ""
    if not previous or prev_name != name:
        why_none = "has none for the period before to compare with"
    elif _rates_alone(ind, latest) or _rates_alone(ind, previous):
        why_none = ("gives rates without numerators and denominators (as a scorecard does), "
                    "so how much each part contributed cannot be worked out")
    elif (_adds_up(ind, latest, totals.get(period)) is not None
          or _adds_up(ind, previous, totals.get(str(previous_period))) is not None):
        why_none = "does not add up to the total (see Appendix A)"
    ok = not why_none
    contributions = decompose(ind, latest, previous) if ok else ()
    change = None
    if ok and previous_period is not None:
        change = _total_change(ind, totals[period], totals[previous_period])
    return Breakdown(ind.code, name, period, previous_period if ok else None, latest,
                     previous if ok else (), change, contributions, why_none=why_none)


def _rates_alone(ind: Indicator, parts: tuple[Part, ...]) -> bool:
    """A rate's parts with neither numerators nor denominators (a scorecard's sub-rows):
    nothing to check them against the total by, and nothing to decompose."""
    return ind.unit is not Unit.COUNT and all(
        p.numerator is None and p.denominator is None for p in parts)


def _total_change(ind: Indicator, now: pd.Series, before: pd.Series) -> float | None:
    """The total's change as the parts give it: from numerators over denominators for a
    rate (the exported value may be rounded), from the values for a count."""
    if ind.unit is Unit.COUNT:
        a, b = _num(now["value"]), _num(before["value"])
        return None if a is None or b is None else a - b
    per = 100.0 if ind.unit is Unit.PERCENT else 10_000.0
    n1, d1, n0, d0 = (_num(now["numerator"]), _num(now["denominator"]),
                      _num(before["numerator"]), _num(before["denominator"]))
    if None in (n1, d1, n0, d0) or not d1 or not d0:
        return None
    assert n1 is not None and d1 is not None and n0 is not None and d0 is not None
    return per * (n1 / d1 - n0 / d0)
