"""The one place that decides what each edition may publish, from the figures themselves.

The restricted edition (officers, the board's private session) shows every figure. The
public edition goes on the council's website, so nothing in it may let a reader work out a
number of children between 1 and 5, as DfE's published statistics protect them:

- a figure is *small* when the children it counts number 1 to 5: a count of 1 to 5; a
  percentage or rate whose numerator is 1 to 5, or whose numerator is blank but follows
  from its value and denominator (50% of 8 cases is 4 children);
- a small figure is shown as `c`, and stands for every value it could hold: the counts 1
  to 5, or the percentages or rates those counts give over its denominator;
- every rule then runs over those ranges (`tasks.analysing.compare.analyse` with `bounds`): a
  rating, direction, run of declines or breach that is the same whatever the hidden count
  is published; any other is "not published", worded the same way every time;
- SPC is not published for a chart window that holds a small figure (its average and
  limits would give it away), nor a rank that rests on one; findings whose existence or
  wording rests on a small figure (revisions, unusual changes, a value disagreeing with
  its counts, agreeing duplicates) are left to the restricted edition, and the public
  appendix says so.

So the public edition is the same whatever value 1 to 5 a hidden figure holds
(`tests/unit/editions/test_disclosure.py` proves it as a property). Templates never decide
any of this: they print what `edition_results` leaves them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from tasks.analysing.breakdowns import Breakdown, breakdown_for
from tasks.analysing.compare import analyse
from tasks.analysing.deep_dives import DEEP_DIVE, DeepDive, DeepDiveResult, deep_dive_results
from tasks.analysing.results import (
    ChartPoint,
    IndicatorResult,
    benchmark_result,
    indicator_result,
    spc_result,
)
from tasks.checking.small_numbers import (
    CHILD_UNITS,
    SMALL,
    complement_small,
    is_small,
    known,
    possible_values,
)
from tasks.editions.linked import LOOKALIKE, Hidden, linked_codes, linked_hidden
from tasks.reading.deep_dive_entries import DeepDiveEntry
from tasks.reading.problems import (
    BREAKDOWN,
    DISAGREE,
    DUPLICATE,
    JUMP,
    RATIO,
    RETURN,
    REVISION,
    Problem,
    Severity,
)
from tasks.reading.values import opt_float
from tasks.settings.config import Config, Unit
from tasks.settings.formatting import SUPPRESSED, Edition
from tasks.settings.periods import label

UNCOUNTED = "uncounted"  # Problem.kind: a rate the public edition cannot count (restricted)
PUBLIC_DQ_NOTE = ("Findings that would show, or rest on, figures about small numbers of "
                  "children (revisions, unusual changes, a value disagreeing with its counts) "
                  "are given in the restricted edition only.")


def with_population(records: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Records in which a rate per 10,000 given alone (no numerator, no denominator) has its
    indicator's `population` as its denominator, as if the export had given it: then
    `is_small` counts the children behind it, as a reader with the published population
    would. Applied where records are read and where history is loaded, before any rule."""
    pops = {i.code: float(i.population) for i in config.indicators
            if i.unit is Unit.RATE_PER_10K and i.population is not None}
    if not pops or records.empty:
        return records
    pop = records["indicator"].astype(str).map(pops)
    fill = pop.notna() & records["numerator"].isna() & records["denominator"].isna()
    if not fill.any():
        return records
    out = records.copy()
    out.loc[fill, "denominator"] = pop[fill].astype("float64")
    return out


def uncounted_rates(records: pd.DataFrame, config: Config) -> list[Problem]:
    """A warning for each rate per 10,000 given alone with no `population` to count it over:
    the public edition cannot tell whether it is 1 to 5 children, and prints it. Said in
    the restricted edition and by `validate` (it names a gap in the config, not a figure)."""
    codes = {i.code for i in config.indicators
             if i.unit is Unit.RATE_PER_10K and i.population is None}
    alone = records[records["indicator"].astype(str).isin(codes) & records["value"].notna()
                    & records["numerator"].isna() & records["denominator"].isna()]
    return [Problem(Severity.WARNING, "indicators.yaml", None, "population",
                    f"{code} is a rate per 10,000 given without its count or denominator, "
                    "and has no population: the public edition cannot tell whether it is 1 "
                    "to 5 children, and prints it; give its population (the ONS estimate of "
                    "the children it is per 10,000 of)", code, kind=UNCOUNTED)
            for code in sorted(set(alone["indicator"].astype(str)))]


def small_figures(history: pd.DataFrame, config: Config,
                  carried: set[tuple[str, str]] | None = None) -> set[tuple[str, str]]:
    """(indicator, period) of every figure the public edition hides in the history (small,
    or given away by a linked one): what a run remembers in the store
    (`commit_cycle(small=...)`), so that whatever it decided on them stays out of the
    public edition after later exports revise them."""
    b = hidden_bounds(history, config, carried)
    return set(zip(b["indicator"], b["period"], strict=True))


def _possible(unit: Unit, value: float | None, numerator: float | None,
              denominator: float | None) -> tuple[float, float]:
    """possible_values for a small figure, on whichever side is small: the figure, or its
    complement within its total. Over 10 cases or fewer both sides could be 1 to 5 at
    once, so which one is small would itself tell: it stands for both, and all between."""
    few = (unit is Unit.PERCENT and denominator is not None and known(denominator)
           and max(SMALL) < denominator <= 2 * max(SMALL))
    if not few:
        return possible_values(unit, denominator, complement=complement_small(
            unit, value, numerator, denominator))
    assert denominator is not None
    lo, _ = possible_values(unit, denominator)
    _, hi = possible_values(unit, denominator, complement=True)
    return lo, hi


def hidden_bounds(history: pd.DataFrame, config: Config,
                  carried: set[tuple[str, str]] | None = None) -> pd.DataFrame:
    """(indicator, period, lo, hi) for every figure the public edition hides: each small
    figure, and each that a linked figure would give away (tasks.editions.linked; `carried`: linked
    figures earlier runs hid whose value comes from the store)."""
    units = {i.code: i.unit for i in config.indicators}
    found: dict[tuple[str, str], Hidden] = {}
    for r in history.itertuples(index=False):
        unit = units.get(str(r.indicator))
        key = (str(r.indicator), str(r.period))
        if unit is None or key in found:
            continue
        v, num, den = opt_float(r.value), opt_float(r.numerator), opt_float(r.denominator)
        if is_small(unit, v, num, den):
            lo, hi = _possible(unit, v, num, den)
            found[key] = Hidden(lo, hi, v)
    found.update(linked_hidden(history, config, found, carried))
    rows = [{"indicator": k[0], "period": k[1], "lo": h.lo, "hi": h.hi}
            for k, h in found.items()]
    return pd.DataFrame(rows, columns=["indicator", "period", "lo", "hi"])


def disclosed(history: pd.DataFrame, config: Config, cycle: str,
              carried: set[tuple[str, str]] | None = None
              ) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """The public edition's analysis, and the small figures it rests on: every rule run
    over the range of values each small figure in the history could hold, so that a
    rating, direction, run of declines or breach is published only when it is the same
    whatever the hidden count is (`carried`: see hidden_bounds). Worked out once, by the
    analysis stage (tasks.run.analysis.compare_with_history); `edition_results` prints it."""
    bounds = hidden_bounds(history, config, carried)
    return (analyse(history, config, cycle, bounds),
            set(zip(bounds["indicator"], bounds["period"], strict=True)))


@dataclass(frozen=True)
class EditionResults:
    """Everything an edition prints about the figures, already decided."""

    edition: Edition
    results: list[IndicatorResult]
    problems: list[Problem]
    any_withheld: bool  # some figure in the history is small and not published
    # The deep-dive register with each action's impact (tasks.analysing.deep_dives); in the public
    # edition only those on indicators with no small figure in their history.
    deep_dives: list[DeepDiveResult] = field(default_factory=list)
    # Each indicator's latest breakdown and what drove its change (tasks.analysing.breakdowns);
    # in the public edition withheld whole (`withheld`) when any part, or the total, is small.
    breakdowns: dict[str, Breakdown] = field(default_factory=dict)

    @property
    def public(self) -> bool:
        return self.edition is Edition.PUBLIC


def _chart(history: pd.DataFrame, code: str, period: str, periods: int,
           hidden: set[tuple[str, str]]) -> tuple[ChartPoint, ...]:
    from tasks.analysing.compare import series

    return tuple(ChartPoint(p, None, True) if (code, p) in hidden else ChartPoint(p, v)
                 for p, v, _ in series(history, code, period, periods))


def edition_results(edition: Edition, config: Config, cycle: str, history: pd.DataFrame,
                    analysis: pd.DataFrame, spc: pd.DataFrame, benchmarks: pd.DataFrame,
                    problems: list[Problem], revisions: pd.DataFrame,
                    register: list[DeepDive] | None = None,
                    entries: dict[tuple[str, str], DeepDiveEntry] | None = None,
                    parts: pd.DataFrame | None = None,
                    remembered: set[tuple[str, str]] | None = None,
                    hidden: set[tuple[str, str]] | None = None) -> EditionResults:
    """The typed results an edition may print: this stage filters and decides, it does not
    analyse. `analysis` is the edition's own: the full one for the restricted edition; for
    the public one, the analysis over every value each small figure could hold, worked out
    once by the analysis stage (`disclosed`), with `hidden` those small figures. `spc`,
    `benchmarks`, `problems` and `revisions` are the full (restricted) ones.

    Deep dives: whether the rule fired, and every impact figure, rest on the indicator's
    figures, so the public edition leaves out every deep dive on an indicator with a small
    figure anywhere in its history (and always says that it does: saying so only when
    something was left out would itself tell). `remembered` are the figures earlier runs
    found small (the store's `small_figures`): what the register decided on them was decided
    on a small figure, so it stays restricted though a later export revised that figure."""
    public = edition is Edition.PUBLIC
    if public and hidden is None:
        raise ValueError("the public edition is printed from the analysis stage's "
                         "`disclosed` analysis and its small figures (`hidden`)")
    hidden = hidden if public and hidden is not None else set()
    window = config.briefing.rules.chart_periods
    spc_by_code = {str(r["code"]): r for _, r in spc.iterrows()}
    bench_by_code = {str(r["code"]): r for _, r in benchmarks.iterrows()}
    results = []
    for _, row in analysis.iterrows():
        code, period = str(row["code"]), str(row["period"])
        chart = _chart(history, code, period, window, hidden)
        spc_withheld = any(p.withheld for p in chart)
        s = (spc_result(spc_by_code[code])
             if code in spc_by_code and not spc_withheld else None)
        b = (benchmark_result(bench_by_code[code], rank_withheld=(code, period) in hidden)
             if code in bench_by_code else None)
        results.append(indicator_result(row, chart, s, spc_withheld, b))
    decided = hidden | (remembered or set()) if public else set()
    shown = public_problems(problems, revisions, config, cycle, history, hidden, decided) \
        if public else list(problems)
    touched = {c for c, _ in decided}
    spc_all = {str(c): spc_result(row) for c, row in spc_by_code.items()}
    dives = [d for d in deep_dive_results(register or [], entries or {}, config, cycle, history,
                                          dict(spc_all))
             if d.indicator not in touched]
    return EditionResults(edition, results, shown, bool(hidden), dives,
                          _breakdowns(config, results, history, parts,
                                      hidden if public else None))


def _breakdowns(config: Config, results: list[IndicatorResult], history: pd.DataFrame,
                parts: pd.DataFrame | None, hidden: set[tuple[str, str]] | None
                ) -> dict[str, Breakdown]:
    """Each indicator's breakdown at its current period. With `hidden` (the public
    edition), one whose total or any part, now or in the period before, is small is
    withheld whole: a part shown beside its total would give away a hidden one as the
    total less the others, and a contribution would rest on it."""
    if parts is None or parts.empty:
        return {}
    catalogue = config.by_code()
    small = small_breakdowns(parts, history, config) if hidden is not None else set()
    out = {}
    for r in results:
        ind = catalogue[r.code]
        b = breakdown_for(ind, parts, history, r.period, r.previous_period)
        if b is None:
            continue
        periods = {(r.code, r.period), (r.code, r.previous_period or r.period)}
        if hidden is not None and periods & (small | hidden):
            b = Breakdown(b.indicator, b.breakdown, b.period, None, (), (), None, (),
                          withheld=True)
        out[r.code] = b
    return out


def small_breakdowns(parts: pd.DataFrame, records: pd.DataFrame, config: Config
                     ) -> set[tuple[str, str]]:
    """(indicator, period) whose breakdown the public edition must leave out whole: the
    total or any part is about 1 to 5 children, or the parts shown do not account for the
    whole total. A part left blank or marked `c`, or missing, is the total less the parts
    shown: printing those (or how far they fall short) would give it away. So a breakdown
    is published only when every part is there and they add up exactly, in children."""
    units = {i.code: i.unit for i in config.indicators}
    out: set[tuple[str, str]] = set()
    for frame in (parts, records):
        for r in frame.itertuples(index=False):
            unit = units.get(str(r.indicator))
            if unit is not None and is_small(unit, opt_float(r.value), opt_float(r.numerator),
                                             opt_float(r.denominator)):
                out.add((str(r.indicator), str(r.period)))
    by_key = {(str(i), str(p)): rows for (i, p), rows
              in parts.groupby(["indicator", "period"], sort=False, dropna=False)}
    totals = {(str(r.indicator), str(r.period)): r for r in records.itertuples(index=False)}
    for key in by_key.keys() - out:
        unit = units.get(key[0])
        if unit is not None and unit in CHILD_UNITS and not _accounted_for(
                unit, by_key[key], totals.get(key)):
            out.add(key)
    return out & by_key.keys()


def _accounted_for(unit: Unit, rows: pd.DataFrame, total: Any) -> bool:
    """Every part is there and they add up to the total exactly, in children: counts to the
    count; a rate's numerators and denominators to the total's. A rate's parts with
    neither (a scorecard's) count nobody a reader could subtract, so nothing is hidden by
    difference; but a part without its value still is. A rate per 10,000 by area without
    its count is not published either: with the area's published population a reader turns
    it back into the count, which may be 1 to 5 (found from outside)."""
    if total is None or any(not known(opt_float(v)) for v in rows["value"]):
        return False
    if unit is Unit.RATE_PER_10K and any(not known(opt_float(v)) for v in rows["numerator"]):
        return False
    if unit is Unit.COUNT:
        return abs(float(rows["value"].sum()) - (opt_float(total.value) or math.nan)) < 1e-6
    columns = [c for c in ("numerator", "denominator")
               if rows[c].notna().any() or known(opt_float(getattr(total, c)))]
    for c in columns:
        want = opt_float(getattr(total, c))
        if want is None or not known(want) or rows[c].isna().any() \
                or abs(float(rows[c].sum()) - want) >= 1e-6:
            return False
    return True


def revision_problems(revisions: pd.DataFrame, cycle: str, config: Config | None = None,
                      public: bool = False,
                      hidden: set[tuple[str, str]] | None = None) -> list[Problem]:
    """A finding for each past value revised since it was stored: old and new figures.

    In the public edition a small figure is `c`; a revision between two small figures is
    not listed (whether one happened at all rests on them), nor one whose other figure
    lies within the range a small one could hold, nor one of a linked indicator's figure
    in `hidden` (hidden now or by an earlier run: its old value may hold a hidden one).
    """
    units = {i.code: i.unit for i in config.indicators} if config else {}
    linked = linked_codes(config) if config and public else set()
    out = []
    for r in revisions.itertuples(index=False):
        if str(r.indicator) in linked and (str(r.indicator), str(r.period)) in (hidden or ()):
            continue
        old, new = opt_float(r.old_value), opt_float(r.new_value)
        old_text, new_text = _n(old), _n(new)
        unit = units.get(str(r.indicator))
        if public and unit is not None:
            small_old = is_small(unit, old, _get(r, "old_numerator"), _get(r, "old_denominator"))
            small_new = is_small(unit, new, _get(r, "new_numerator"), _get(r, "new_denominator"))
            if small_old and small_new:
                continue
            if small_old or small_new:
                side = "old" if small_old else "new"
                lo, hi = _possible(unit, old if small_old else new, _get(r, f"{side}_numerator"),
                                   _get(r, f"{side}_denominator"))
                other = new if small_old else old
                if other is not None and lo - 1e-9 <= other <= hi + 1e-9:
                    continue
                old_text = SUPPRESSED if small_old else old_text
                new_text = SUPPRESSED if small_new else new_text
        period = str(r.period)
        out.append(Problem(
            Severity.WARNING if period != cycle else Severity.INFO, "(history store)", None,
            "value", f"{r.indicator} {label(period)} revised since it was last stored: "
                     f"{old_text} -> {new_text}", str(r.indicator), period=period,
            kind=REVISION))
    return out


def _get(row: object, name: str) -> float | None:
    return opt_float(getattr(row, name, None))


def _n(v: float | None) -> str:
    return "blank" if v is None else f"{v:g}"


def public_problems(problems: list[Problem], revisions: pd.DataFrame, config: Config,
                    cycle: str, history: pd.DataFrame,
                    hidden: set[tuple[str, str]],
                    decided: set[tuple[str, str]] | None = None) -> list[Problem]:
    """The data-quality findings the public edition may print. `decided`: the hidden
    figures and those remembered from earlier runs, on which the register's findings may
    rest (edition_results)."""
    touched = {code for code, _ in hidden}
    remembered = {code for code, _ in (decided if decided is not None else hidden)}
    out = []
    for found in problems:
        p = source_finding_public(found, hidden)
        if p is None:
            continue
        if p.kind in (REVISION, UNCOUNTED, LOOKALIKE):
            continue  # listed again below, as the public edition may show them; a gap in
            # the config, for the analyst (whether figures look related rests on them)
        if p.kind == JUMP and p.indicator in touched:
            continue  # what is "unusual" rests on every past figure, small ones included
        if p.kind in (RATIO, DUPLICATE) and (p.small or (p.indicator, p.period) in hidden):
            continue
        if p.kind == BREAKDOWN and (p.small or (p.indicator, p.period) in hidden):
            continue  # whether the parts add up rests on them
        if p.kind == DEEP_DIVE and p.indicator in remembered:
            continue  # whether a deep dive is open rests on the indicator's figures
        if p.kind == RETURN:
            continue  # an owner's return lists their exceptions, restricted ones too
        out.append(p)
    out += revision_problems(revisions, cycle, config, public=True,
                             hidden=hidden | (decided or set()))
    # Always said, never only when something was left out: that would itself tell.
    out.append(Problem(Severity.INFO, "(public edition)", None, None, PUBLIC_DQ_NOTE))
    return out


def source_finding_public(p: Problem, hidden: set[tuple[str, str]]) -> Problem | None:
    """A finding about the exports' cells as the public edition may give it, or None.

    Two sources agreeing or disagreeing about a figure that could be about 1 to 5 children
    (`small`, decided where the finding is made) is left out: whether they agree at all
    rests on the figures. Any other finding with a `public` wording (a faulty cell, whose
    numbers may be small; a disagreement) is given in that wording, naming the place but
    not the cells' contents."""
    if p.kind in (DUPLICATE, DISAGREE) and (p.small or (p.indicator, p.period) in hidden):
        return None
    return replace(p, message=p.public) if p.public is not None else p
