"""Checks on canonical records against the catalogue and the cycle being reported.

Each check returns Problems. An error about a whole file stops the run before anything is
stored or written; an error in one cell (kind CELL) withholds that figure, or stops the
run too when it is strict. Warnings go into the briefing's data-quality section.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import pandas as pd

from tasks.checking.reach import Reach, cause
from tasks.checking.reconcile import KEYS, Figures, decimals_of, figures
from tasks.checking.small_numbers import is_small
from tasks.reading.files import quote
from tasks.reading.problems import (
    CELL,
    RATIO,
    WITHHELD_TEXT,
    Findings,
    Problem,
    Severity,
    cell_fault,
)
from tasks.reading.sources import DEFAULT_MARKERS
from tasks.settings.config import COUNT_LIMIT, Config, Indicator, Unit, beyond_limit, expected_range
from tasks.settings.periods import (
    PER_YEAR,
    end_month,
    frequency_of,
    label,
    latest_of_kind,
    period_index,
)

# A value may be rounded to one decimal place in the export; allow for that and a little more.
RATIO_TOLERANCE = 0.15


def _finding(sev: Severity, r: Any, column: str | None, message: str,
             headers: dict[str, dict[str, str]], kind: str = "", group: str = "",
             small: bool = False) -> Problem:
    """A finding on one record, naming the column by the heading people see in the file
    (and no row for a figure computed from a return's records: its row is 0)."""
    column = _heading(r, column, headers)
    if kind == CELL:
        return cell_fault(str(r.file), int(r.row) or None, column, message, str(r.indicator),
                          str(r.period), group)
    return Problem(sev, str(r.file), int(r.row) or None, column, message, str(r.indicator),
                   period=str(r.period), kind=kind, group=group, small=small)


def _heading(r: Any, column: str | None, headers: dict[str, dict[str, str]]) -> str | None:
    if column == "value" and isinstance(r.column, str):
        return str(r.column)  # the value's own column: a month, in a wide scorecard
    if column is not None:
        return headers.get(str(r.file), {}).get(column, column)
    return None


def unknown_codes(records: pd.DataFrame, codes: set[str],
                  headers: dict[str, dict[str, str]], keep: int = 3) -> list[Problem]:
    """Rows whose code is not in the catalogue (a typo, a totals row): a few named one by
    one, and past that one line per file with the count, found without a loop per row."""
    unknown = records[~records["indicator"].isin(codes)]
    out: list[Problem] = []
    for file, grp in unknown.groupby("file", sort=False):
        column = headers.get(str(file), {}).get("indicator", "indicator")
        out += [Problem(Severity.WARNING, str(file), int(row), column,
                        f"indicator code {quote(code)} is not in the catalogue "
                        "(config/indicators.yaml); its rows are ignored", str(code)[:64],
                        group="with unknown indicator codes")
                for row, code in zip(grp["row"][:keep], grp["indicator"][:keep], strict=True)]
        if len(grp) > keep:  # the rest counted in one record, for Findings to collapse
            out.append(replace(out[-1], row=int(grp["row"].max()), count=len(grp) - keep))
    return out


def check_records(records: pd.DataFrame, config: Config, cycle: str, today_period: str,
                  headers: dict[str, dict[str, str]] | None = None,
                  faults: dict[Any, str] | None = None) -> list[Problem]:
    """Row-level checks: catalogue, authority, periods, units, ratios.

    A fault in a record's cells is an error of kind CELL (it withholds that figure, see
    tasks.checking.reconcile); `faults` collects those records (index -> the faulty column's
    heading) so that none of their values is used or stored. An export for another
    authority is an error about the whole file."""
    problems = Findings()
    hdr = headers or {}

    def _p(sev: Severity, r: Any, column: str | None, message: str, kind: str = "",
           group: str = "", small: bool = False) -> Problem:
        if kind == CELL and faults is not None:
            faults.setdefault(r.Index, _heading(r, column, hdr) or "value")
        return _finding(sev, r, column, message, hdr, kind, group, small)

    catalogue = config.by_code()
    auth = config.briefing.authority
    ends = end_month(cycle), end_month(today_period)
    problems.extend(unknown_codes(records, set(catalogue), hdr))
    known = records[records["indicator"].isin(set(catalogue))]
    rows: Iterable[Any] = known.itertuples(index=True)
    for r in rows:
        ind = catalogue[str(r.indicator)]
        a = r.authority
        if isinstance(a, str) and a.strip() not in {auth.code, auth.name}:
            problems.append(_p(Severity.ERROR, r, "authority",
                               f"export is for authority {quote(a)}, expected {auth.code} "
                               f"({auth.name})", group="for another authority"))
        if isinstance(getattr(r, "error", None), str):
            continue  # a faulty cell, reported as it was read
        found, usable = _period_problems(r, ind, cycle, today_period, ends, _p)
        problems.extend(found)
        if usable:
            problems.extend(_value_problems(r, ind, _p))
    return problems.collapsed()


Say = Callable[..., Problem]  # check_records' finding maker: (severity, row, column, ...)


def _period_problems(r: Any, ind: Indicator, cycle: str, today_period: str,
                     ends: tuple[int, int], say: Say) -> tuple[list[Problem], bool]:
    """A record's period against its indicator's frequency, today and the cycle; and
    whether its figure may be checked further (not for a period of the wrong kind or one
    in the future: those withhold it)."""
    cyc, now = ends
    if frequency_of(str(r.period)) is not ind.frequency:
        return [say(Severity.ERROR, r, "period",
                    f"{r.period} is not a {ind.frequency.value} period, but "
                    f"{ind.code} is reported {ind.frequency.value}; expected a "
                    f"{ind.frequency.value} period", CELL,
                    group="with a period of the wrong kind")], False
    p = end_month(str(r.period))
    if p > now:
        return [say(Severity.ERROR, r, "period",
                    f"period {r.period} is in the future; expected one ended "
                    f"by {today_period}", CELL, group="in the future")], False
    if p > cyc:
        return [say(Severity.INFO, r, "period",
                    f"period {r.period} is after the cycle being reported "
                    f"({cycle}); not used in this briefing", group="after the cycle")], True
    return [], True


def _value_problems(r: Any, ind: Indicator, say: Say) -> list[Problem]:
    """A record's figures for its indicator's unit: the value, its % or £ sign, the
    numerator and denominator, and whether they agree with the value."""
    out: list[Problem] = []
    v, num, den = r.value, r.numerator, r.denominator
    unit_words = ind.unit.value.replace("_", " ")
    if pd.notna(v):
        if fault := value_fault(ind.unit, ind.code, float(v)):
            out.append(say(Severity.ERROR, r, "value", fault, CELL))
        if bool(r.percent_sign) and ind.unit is not Unit.PERCENT:
            out.append(say(Severity.ERROR, r, "value",
                           f"written as a percentage but {ind.code} is measured "
                           f"as a {unit_words}: found {v:g}%; expected a number "
                           "without %", CELL))
        if bool(getattr(r, "money_sign", False)) and ind.unit is not Unit.MONEY:
            out.append(say(Severity.ERROR, r, "value",
                           f"written as money (£) but {ind.code} is measured as a "
                           f"{unit_words}: found £{v:g}; expected a number without "
                           "£", CELL))
    for name, x in (("numerator", num), ("denominator", den)):
        if pd.notna(x) and x < 0:
            out.append(say(Severity.ERROR, r, name,
                           f"{x:g} is negative: expected zero or more", CELL))
        elif pd.notna(x) and x > COUNT_LIMIT:
            out.append(say(Severity.ERROR, r, name,
                           f"{x:.6g} is more than a {name} can be: expected 0 to "
                           f"{COUNT_LIMIT:,.0f}", CELL))
    if pd.notna(num) and pd.notna(den):
        if num > den:
            out.append(say(Severity.ERROR, r, "numerator",
                           f"numerator {num:g} is greater than denominator {den:g}; "
                           "expected at most the denominator", CELL))
        elif ind.unit is Unit.PERCENT and den > 0 and pd.notna(v):
            implied = 100 * num / den
            # As precise as the value is written: DfE gives whole percentages (16 for
            # 44/282 = 15.6), case systems one decimal place.
            if abs(implied - v) > max(RATIO_TOLERANCE, 0.5 * 10.0 ** -decimals_of(v) + 1e-9):
                out.append(say(Severity.WARNING, r, "value",
                               f"value {v:g}% disagrees with numerator/denominator "
                               f"{num:g}/{den:g} = {implied:.1f}%", RATIO,
                               small=is_small(ind.unit, v, num, den)))
    return out


def value_fault(unit: Unit, code: str, v: float) -> str | None:
    """What is wrong with a figure for its unit (found, and what was expected), or None: a
    percentage over 100, a negative count, a count in fractions, or a figure beyond what
    its unit can be (FIGURE_LIMITS), which the paper could not draw nor its arithmetic hold
    (a change from −1e308 to 1e308 is no number)."""
    unit_words = unit.value.replace("_", " ")
    if unit is Unit.PERCENT and not 0 <= v <= 100:
        return f"{v:g} is not a percentage: expected 0 to 100 for {code}"
    if v < 0 and unit is not Unit.MONEY:
        return f"{v:g} is negative: expected zero or more for a {unit_words}"
    if beyond_limit(unit, v):
        return (f"{v:.6g} is beyond what a {unit_words} figure can be: expected "
                f"{expected_range(unit)} for {code}")
    if unit is Unit.COUNT and not float(v).is_integer():
        return f"{v:g} is not a whole number: expected a count"
    return None


def with_faults(records: pd.DataFrame, faults: dict[Any, str]) -> pd.DataFrame:
    """The records with `faults` (index -> heading) marked in their `error` column."""
    if not faults:
        return records
    out = records.copy()
    if "error" not in out:
        out["error"] = None
    out["error"] = out["error"].astype("object")
    for idx, heading in faults.items():
        if not isinstance(out.at[idx, "error"], str):
            out.at[idx, "error"] = heading
    return out


def mark_withheld(problems: list[Problem],
                  withheld: dict[tuple[str, str], str]) -> list[Problem]:
    """Each error in a cell whose figure ended up withheld (no other export gave it cleanly)
    says so, as the data-quality appendix and the command print it."""
    out = []
    for p in problems:
        if p.kind == CELL and (p.indicator, p.period) in withheld and p.period is not None:
            p = replace(p, message=f"{p.message}; {p.indicator} {label(p.period)} "
                                   f"{WITHHELD_TEXT}")
        out.append(p)
    return out


def withheld_details(problems: list[Problem],
                     withheld: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """Each withheld figure's place and what its cell was found to hold and expected to
    (the finding `validate` prints), for the restricted edition, the owner's email and the
    console: one wording everywhere. A place whose finding was counted, not kept (past the
    first few of a kind), stays the place alone."""
    out = dict(withheld)
    for p in problems:
        key = (p.indicator or "", p.period or "")
        if p.kind != CELL or key not in withheld or out[key] != withheld[key]:
            continue
        where = f"{p.file}, row {p.row}, column '{p.column}'"
        if where == withheld[key]:
            out[key] = f"{where}: {p.message}"
    return out


def choose_figures(records: pd.DataFrame, config: Config, cycle: str,
                   priority: Callable[[str], int] | None = None,
                   headers: dict[str, dict[str, str]] | None = None) -> Figures:
    """Catalogue records up to the cycle, one per indicator and period
    (tasks.checking.reconcile)."""
    codes = {i.code for i in config.indicators}
    cyc = end_month(cycle)
    ended = {p: end_month(p) <= cyc for p in records["period"].unique()}
    keep = records["indicator"].isin(codes) & records["period"].map(ended).astype(bool)
    return figures(records[keep], config, priority or (lambda _: 0), headers)


def gaps(records: pd.DataFrame, used: pd.DataFrame, config: Config,
         cycle: str) -> list[Problem]:
    """Each figure left blank or marked "not available" in the exports, once: this cycle's
    as warnings, and earlier ones within the chart's window (a gap in the chart, and a
    break in a run of declines) as information. Never zero."""
    window = config.briefing.rules.chart_periods
    catalogue = config.by_code()
    blank = used[used["value"].isna()]
    out: list[Problem] = []
    if blank.empty:
        return out
    first = records[records["value"].isna() & records["error"].isna()
                    ].drop_duplicates(KEYS, keep="first").set_index(KEYS)
    for code, period in zip(blank["indicator"], blank["period"], strict=True):
        ind = catalogue[str(code)]
        current = latest_of_kind(ind.frequency, cycle)
        back = period_index(current) - period_index(str(period))
        if back < 0 or back >= window or (code, period) not in first.index:
            continue
        r = first.loc[(code, period)]
        marker = r["reason"] if isinstance(r["reason"], str) else None
        given = (f"is given as {marker!r} "
                 f"({DEFAULT_MARKERS.get(marker.lower(), 'not available')})"
                 if marker else "has no value (blank cell)")
        now = back == 0
        out.append(Problem(
            Severity.WARNING if now else Severity.INFO, str(r["file"]), int(r["row"]) or None,
            str(r["column"]) if isinstance(r["column"], str) else "value",
            f"{code} in {label(str(period))} {given}; treated as missing, never as zero"
            + ("" if now else ": a gap in its chart"), str(code), period=str(period)))
    return out


def check_coverage(records: pd.DataFrame, config: Config, cycle: str,
                   withheld: set[tuple[str, str]] | None = None) -> list[Problem]:
    """Catalogue indicators with no record for their current period: what was not collected
    (a figure withheld for an error in the source was collected, and is reported as such)."""
    reported = set(zip(records["indicator"], records["period"], strict=True))
    out = []
    for ind in config.indicators:
        current = latest_of_kind(ind.frequency, cycle)
        if (ind.code, current) not in reported | (withheld or set()):
            out.append(Problem(Severity.WARNING, "(all exports)", None, None,
                               f"{ind.code} {ind.title}: no figure for {label(current)} in "
                               "any export; not collected this cycle", ind.code))
    return out


def usable_records(records: pd.DataFrame, config: Config, cycle: str) -> pd.DataFrame:
    """Catalogue records up to the cycle, one per indicator and month (tasks.checking.reconcile
    chooses among several; none with a faulty cell)."""
    return choose_figures(records, config, cycle).records


def no_figures(records: pd.DataFrame, config: Config, cycle: str,
               today_period: str, reaches: list[Reach] | None = None) -> str | None:
    """Why a briefing for `cycle` would be empty (no catalogue indicator has a figure for
    its period in that cycle), naming the real cause: the authority, the sources' row
    filters or the catalogue when `reaches` (tasks.checking.reach) show one left no rows, else the
    cycle, with the latest cycle that has figures; None when there is something to report."""
    codes = {i.code for i in config.indicators}
    mine = records[records["indicator"].isin(codes)]
    wanted = {(i.code, latest_of_kind(i.frequency, cycle)) for i in config.indicators}
    if any(k in wanted for k in zip(mine["indicator"], mine["period"], strict=True)):
        return None
    head = f"no figures for {cycle} ({label(cycle)}) in the exports"
    why = cause(reaches or [], config.briefing.authority.code)
    if why is not None:
        return f"{head}: {why}; so no cycle has figures"
    now = end_month(today_period)
    past = [p for p in mine["period"].unique() if end_month(p) <= now]
    latest = (max(past, key=lambda p: (end_month(p), PER_YEAR[frequency_of(p)]))
              if past else None)
    found = (f"the latest with figures is {latest} ({label(latest)})" if latest
             else "no export has figures for any indicator in the catalogue for a period "
                  f"ended by {label(today_period)}")
    return (f"{head}: {found}; give that --cycle, or --allow-empty to brief an empty cycle "
            "on purpose")
