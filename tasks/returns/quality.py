"""Each figure computed from a return, with its data quality: how many children's records
it rests on, how many of them fail a DfE rule and which, and whether those records, taken
at their worst and best, could move it across its target ("Green, but could be Red: 14
records fail DfE rules"). Worded for each edition: the public one says in words that a
figure rests on records with errors, with counts only above the small-number threshold.

Counts only leave this module, never a child id; the ids go to the restricted
data-quality workbook alone (tasks.returns.workbook).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from tasks.analysing.compare import rag
from tasks.analysing.results import IndicatorResult, Rating
from tasks.checking.small_numbers import SMALL
from tasks.editions.disclosure import EditionResults
from tasks.reading.problems import Problem, Severity
from tasks.returns.reading import (
    CHILD_ID,
    FIGURE_TABLES,
    OTHER_FIELD,
    OUR_MESSAGES,
    OWN_CHECKS,
    Checks,
    Computed,
    ReturnRead,
)
from tasks.returns.validators import NAMES, RuleIssue, ValidationReport
from tasks.settings.config import Config, Indicator, Unit
from tasks.settings.formatting import Edition

RAG_NAMES = {Rating.RED: "Red", Rating.AMBER: "Amber", Rating.GREEN: "Green"}
WORSE = {Rating.GREEN: 0, Rating.AMBER: 1, Rating.RED: 2}
DFE_RULE = "dfe_rule"  # Problem.kind of a finding of DfE's rules


@dataclass(frozen=True)
class RuleCount:
    rule: str
    message: str
    records: int  # of the figure's children, those failing this rule


@dataclass(frozen=True)
class Quality:
    """A computed figure's data quality, in counts. `low` and `high`: the figure with its
    failing records taken at their best and worst (each in or out of the numerator)."""

    code: str
    source: str  # "SSDA903"
    records: int
    failing: int
    failing_counted: int
    numerator: int
    denominator: int | None
    rules: tuple[RuleCount, ...]
    not_run: str | None = None
    rules_not_run: int = 0
    unmatched: int = 0  # of `failing`, records the run cannot match: in or out of the figure


def child_key(child: object, kind: str = "ssda903") -> str | None:
    """A child id as DfE's validators hold it, to match their findings to our records: the
    SSDA903 reader upper-cases every text cell (lac_validator.ingress, after reading each
    cell as text, so leading zeros and inner spaces stay); the CIN census reader keeps the
    text as written. Spaces at the ends go, as our figures drop them. None: no id."""
    if child is None or (isinstance(child, float) and child != child):
        return None
    text = str(child).strip()
    return (text.upper() if kind == "ssda903" else text) or None


def known_children(ret: ReturnRead) -> frozenset[str] | None:
    """Every child id of the return's tables, as keys; None where the run holds no tables."""
    tables = ret.tables
    if tables is None:
        return None
    column = CHILD_ID[ret.kind]
    return frozenset(k for frame in tables.values() if column in frame
                     for k in (child_key(c, ret.kind) for c in frame[column]) if k)


def unmatched(issue: RuleIssue, kind: str, known: frozenset[str] | None) -> bool:
    """A finding the run cannot match to a record it holds: it could be any figure's."""
    key = child_key(issue.child, kind)
    return key is None or (known is not None and key not in known)


def issues_affecting(computed: Computed, checks: Checks, kind: str = "ssda903",
                     known: frozenset[str] | None = None, faults: Sequence[RuleIssue] = ()
                     ) -> list[RuleIssue]:
    """The rule failures (and our own `faults`), in a table the figure reads, on a record it
    rests on (matched by `child_key`) or on a record the run cannot match: never dropped.
    A finding about the return as a whole is no record of any figure's."""
    found = [*(checks.report.issues if checks.report is not None else ()), *faults]
    tables = FIGURE_TABLES[computed.name]
    other = OTHER_FIELD.get(computed.name, frozenset())
    ids = {child_key(c, kind) for c in computed.figure.children}
    return [i for i in found if i.rule not in other and not i.whole_return
            and (i.table is None or i.table in tables)
            and (child_key(i.child, kind) in ids or unmatched(i, kind, known))]


def figure_quality(code: str, computed: Computed, checks: Checks, kind: str,
                   known: frozenset[str] | None = None, faults: Sequence[RuleIssue] = ()
                   ) -> Quality:
    """Counts of the figure's failing records; each unmatched one (a record whose date the
    figures cannot read is one: it may be in or out) is a record of its own."""
    issues = issues_affecting(computed, checks, kind, known, faults)
    by_rule: dict[str, set[object]] = {}
    failing: set[object] = set()
    lost: set[object] = set()
    for i in issues:
        key: object = child_key(i.child, kind)
        if unmatched(i, kind, known):
            key = (i.table, i.record, i.child)
            lost.add(key)
        failing.add(key)
        by_rule.setdefault(i.rule, set()).add(key)
    messages = {**(checks.report.messages if checks.report else {}),
                **OUR_MESSAGES}
    rules = tuple(RuleCount(rule, messages.get(rule, ""), len(kids))
                  for rule, kids in sorted(by_rule.items(), key=lambda kv: (-len(kv[1]), kv[0])))
    figure = computed.figure
    counted = {child_key(c, kind) for c in figure.counted}
    return Quality(code, NAMES.get(kind, kind), len(figure.children), len(failing),
                   len(failing & counted), figure.numerator, figure.denominator, rules,
                   checks.not_run,
                   len(checks.report.not_run) if checks.report is not None else 0, len(lost))


def qualities(returns: list[ReturnRead]) -> dict[str, Quality]:
    """Indicator code -> its figure's data quality, waiting for DfE's rules if need be."""
    return {code: figure_quality(code, computed, ret.checks(), ret.kind, known_children(ret),
                                 ret.faults)
            for ret in returns for code, computed in ret.figures.items()}


def value_range(q: Quality, unit: Unit, failing: int, counted: int,
                lost: int | None = None) -> tuple[float, float] | None:
    """The figure with `failing` records (`counted` of them in the numerator) taken out of
    the numerator (best for some) and all in it (for others): (lowest, highest). `lost`
    of them the run could not match: each may be in the numerator too."""
    n = q.numerator
    u = min(failing, q.unmatched if lost is None else lost)
    counted, failing = counted + u, failing + u  # lower at the low end, the high end kept
    if unit is Unit.PERCENT:
        if not q.denominator:
            return None
        return (100.0 * max(0, n - counted) / q.denominator,
                100.0 * min(q.denominator, n - counted + failing) / q.denominator)
    if unit is Unit.RATE_PER_10K:
        if not q.denominator:
            return None
        per = 10_000 / q.denominator
        return per * max(0, n - counted), per * (n - counted + failing)
    return float(max(0, n - counted)), float(n - counted + failing)


def could_be(q: Quality, ind: Indicator, current: Rating, failing: int, counted: int,
             lost: int | None = None) -> Rating | None:
    """The rating the failing records could give instead (the worse first), or None."""
    if current not in WORSE or failing == 0:
        return None
    span = value_range(q, ind.unit, failing, counted, lost)
    if span is None:
        return None
    one = pd.Series([ind.target], dtype="float64")
    tolerance = pd.Series([ind.tolerance], dtype="float64")
    polarity = pd.Series([ind.polarity.value])
    found = {Rating(str(rag(pd.Series([v]), one, tolerance, polarity).iloc[0])) for v in span}
    others = sorted((r for r in found if r in WORSE and r is not current),
                    key=lambda r: -WORSE[r])
    return others[0] if others else None


def _unchecked(r: IndicatorResult) -> str:
    """A rating DfE's rules have not checked: said, where it could hide a worse one."""
    return ", not checked against DfE's rules" if r.rag in (Rating.GREEN, Rating.AMBER) else ""


def _records(n: int) -> str:
    return f"{n:,} record{'s' if n != 1 else ''}"


def _fail(n: int) -> str:
    """"14 records fail", "1 record fails"."""
    return f"{_records(n)} fail{'s' if n == 1 else ''}"


def _rules_text(q: Quality) -> str:
    shown = [f"{r.message.rstrip('.')} ({r.records:,})" if r.rule in OUR_MESSAGES else
             f"{r.message.rstrip('.') or 'rule ' + r.rule} (rule {r.rule}: {r.records:,})"
             if r.message else f"rule {r.rule} ({r.records:,})" for r in q.rules[:4]]
    more = f"; and {len(q.rules) - 4} more rules" if len(q.rules) > 4 else ""
    return "; ".join(shown) + more


def _failing(q: Quality) -> str:
    """"14 records fail DfE rules", saying so where some of them (or all) fail our own
    checks instead (a date the figures cannot read, no child id): not DfE's rules."""
    ours = [OWN_CHECKS[r.rule].failing for r in q.rules if r.rule in OWN_CHECKS]
    if ours and len(ours) == len(q.rules):
        first, *rest = ours
        said = first if q.failing != 1 else first.replace("have ", "has ", 1)
        return f"{_records(q.failing)} {said}" + "".join(f" or {x}" for x in rest)
    return f"{_fail(q.failing)} DfE rules" + "".join(f" or {x}" for x in ours)


def restricted_words(q: Quality, ind: Indicator, r: IndicatorResult) -> tuple[str, list[str]]:
    """(what follows the rating, the lines beside the figure) in the restricted edition."""
    base = f"Computed from the {q.source} return: rests on {_records(q.records)}"
    if q.not_run is not None and not q.failing:
        return (_unchecked(r),
                [f"{base}; {q.not_run}."])
    lines = [f"{base}; none fails a DfE rule."] if not q.failing else [
        f"{base}; {_failing(q)}: {_rules_text(q)}. The data-quality "
        "workbook (restricted) lists them by child id."]
    if q.not_run is not None:
        lines.append(f"{q.not_run}.")
    if q.rules_not_run:
        lines.append(f"{q.rules_not_run} of DfE's rules could not be run over the return.")
    other = could_be(q, ind, r.rag, q.failing, q.failing_counted)
    tail = f", but could be {RAG_NAMES[other]}: {_failing(q)}" if other is not None else ""
    return tail, lines


def public_words(q: Quality, ind: Indicator, r: IndicatorResult) -> tuple[str, list[str]]:
    """The same for the public edition: counts only above the small-number threshold; a
    count of 1 to 5 is "a few", and whether the rating could change is then judged at
    the most such records (5), so nothing here depends on the hidden count."""
    records = f"{q.records:,} children's records" if q.records not in SMALL else \
        "children's records"
    if q.not_run is not None and not q.failing:
        return (_unchecked(r),
                [f"Computed from {records}, not checked against DfE's rules."])
    if not q.failing:
        return "", [f"Computed from {records}; none fails a DfE rule."]
    small = q.failing in SMALL
    count = "a few of them (5 or fewer)" if small else f"{q.failing:,} of them"
    lines = [f"Computed from {records}, some of which have errors: {count} fail DfE's "
             "rules, so the figure may not be right."]
    if r.is_withheld("value") or r.value is None:
        return "", lines
    # A count of 1 to 5 (of the failing records, or of those in the numerator, 0 too) is
    # taken at each of its possible values, so the wording rests on none of them.
    fs = list(SMALL) if small else [q.failing]
    cs = [0, *SMALL] if q.failing_counted <= max(SMALL) else [q.failing_counted]
    us = {0, *fs} if small else {q.unmatched}  # unmatched: none or all of a few
    spans = [could_be(q, ind, r.rag, f, c, min(u, f)) for f in fs for c in cs if c <= f
             for u in us]
    # Every rating some possible count gives, the worse first: naming only the worst could
    # contradict the restricted edition ("could be Red" where the records can only make it
    # Green), and naming the one the hidden count gives would tell that count.
    others = sorted({s for s in spans if s is not None}, key=lambda s: -WORSE[s])
    who = "a few records fail" if small else _fail(q.failing)
    named = " or ".join(RAG_NAMES[s] for s in others)
    tail = f", but could be {named}: {who} DfE rules" if others else ""
    return tail, lines


def with_quality(figures: EditionResults, found: dict[str, Quality], config: Config,
                 cycle: str) -> EditionResults:
    """The edition's results with each computed figure's data quality beside it."""
    if not found:
        return figures
    catalogue = config.by_code()
    words = public_words if figures.edition is Edition.PUBLIC else restricted_words
    results = []
    for r in figures.results:
        q = found.get(r.code)
        if q is None or r.period != cycle:  # only the cycle's figure is computed
            results.append(r)
            continue
        tail, lines = words(q, catalogue[r.code], r)
        results.append(replace(r, could_be=tail, quality=tuple(lines)))
    return replace(figures, results=results)


def rule_problems(returns: list[ReturnRead], edition: Edition) -> list[Problem]:
    """DfE's rules' findings over each return, counted by rule, for the data-quality
    appendix: counts of 1 to 5 records are left out of the public edition."""
    out: list[Problem] = []
    for ret in returns:
        checks = ret.checks()
        where = ret.pattern or ret.name_of(ret.files[0])
        name = NAMES[ret.kind]
        out += _our_checks(ret, where, name)
        if checks.report is None:
            said = (checks.not_run if checks.chosen or edition is not Edition.PUBLIC
                    else "DfE's rules could not be run over it")
            out.append(Problem(Severity.INFO if checks.chosen else Severity.WARNING, where,
                               None, None, f"{name} return: {said}"))
            continue
        out += _failed_rules(checks.report, where, name)
        out += _not_run(checks.report, where, name, edition)
    if edition is Edition.PUBLIC:
        out = [p for p in out if not p.small]
    return out


def _our_checks(ret: ReturnRead, where: str, name: str) -> list[Problem]:
    """Records the figures cannot place, counted by our own check, for the appendix."""
    out = []
    for code, check in OWN_CHECKS.items():
        bad = len({(f.table, f.record) for f in ret.faults if f.rule == code})
        if bad:
            out.append(Problem(Severity.WARNING, where, None, None,
                               f"{name} return: {_records(bad)} {check.appendix}, so the "
                               "figures cannot place them; the data-quality workbook "
                               "(restricted) lists them",
                               kind=DFE_RULE, small=bad in SMALL, group="failing DfE's rules"))
    return out


def _failed_rules(report: ValidationReport, where: str, name: str) -> list[Problem]:
    """One finding a rule, counting its records (one with no id is a record of its own)."""
    out = []
    for rule in report.rules_failed():
        records = [i for i in report.failing(rule) if not i.whole_return]
        n = len({i.child or (i.table, i.record) for i in records})
        message = report.messages.get(rule, "")
        who = _fail(n) if records else "the return as a whole fails"
        out.append(Problem(
            Severity.WARNING, where, None, None,
            f"{name} return: {who} DfE rule {rule}"
            + (f" ({message.rstrip('.')})" if message else "")
            + ("; the data-quality workbook (restricted) lists them" if records else ""),
            kind=DFE_RULE, small=bool(records) and n in SMALL, group="failing DfE's rules"))
    return out


def _not_run(report: ValidationReport, where: str, name: str, edition: Edition
             ) -> list[Problem]:
    """Each rule not run, why in the restricted edition (an exception and where it was
    raised is for the team that runs the briefing); the public one says only how many."""
    if not report.not_run:
        return []
    if edition is Edition.PUBLIC:
        return [Problem(Severity.INFO, where, None, None,
                        f"{name} return: some of DfE's rules could not be run over it",
                        kind=DFE_RULE)]
    return [Problem(Severity.INFO, where, None, None, f"{name} return: {nr.as_line()}",
                    kind=DFE_RULE) for nr in report.not_run]
