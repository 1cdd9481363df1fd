"""`summary.json`: the machine-readable result of a run, defined once as pydantic models that
write it and read it back (the CLI, the reminders flow and other tools read this model, not
loose dicts). `briefing schema` prints its JSON Schema: that is the contract.

This is the restricted record for officers and other tools (actual values, not the
suppressed ones printed in the public paper); it is never emailed.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from tasks.adapters.outputs import write_text_atomic
from tasks.analysing.breakdowns import Breakdown
from tasks.analysing.deep_dives import DeepDiveResult, Impact, Status, Verdict
from tasks.analysing.results import BenchmarkResult, Direction, IndicatorResult, Rating, SpcResult
from tasks.delivering.notify import Delivery
from tasks.reading.problems import Problem, Severity, sort_problems
from tasks.reading.values import opt_float
from tasks.settings.config import Config, Polarity, Unit

SCHEMA_VERSION = 1


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthorityRef(_Record):
    code: str
    name: str


class RulesUsed(_Record):
    consecutive_declines: int


class SpcPointRecord(_Record):
    period: str
    value: float
    special: str | None
    rule: str | None = None  # the first SPC rule read at this point


class SpcSettingsRecord(_Record):
    """The SPC rule set and every setting it was applied with (tasks.analysing.spc.settings)."""

    method: str
    reference: str
    screen_outliers: bool
    shift: int
    trend: int
    two_of_three_counts_beyond_limit: bool
    two_signals: str  # priority | improvement | concern
    two_signals_default: str
    assurance: str  # strict | inclusive
    min_points: int
    short_series: int
    trend_across_rebase: bool


class SpcSegmentRecord(_Record):
    start: str
    points: int
    mean: float | None
    lower_limit: float | None
    upper_limit: float | None


class SpcRecord(_Record):
    mean: float | None
    lower_limit: float | None
    upper_limit: float | None
    trial_limits: bool
    points_in_baseline: int
    variation: str
    assurance: str
    rules: list[str]
    points: list[SpcPointRecord]
    # Absent from summaries written before SPC had named rule sets.
    method: str | None = None
    settings: SpcSettingsRecord | None = None
    enough_points: bool = True
    points_in_chart: int | None = None
    segments: list[SpcSegmentRecord] = []


class RegionValue(_Record):
    name: str
    value: float | None


class Neighbours(_Record):
    mean: float | None
    median: float | None
    count: int
    missing: list[str]


class BenchmarkRecord(_Record):
    period: str
    england: float | None
    region: RegionValue
    statistical_neighbours: Neighbours
    rank: int | None
    of: int | None
    quartile: int | None
    # "per 10,000 children" when a count is compared as a rate (its values are rates)
    basis: str = ""


class PartRecord(_Record):
    name: str
    value: float | None
    numerator: float | None
    denominator: float | None


class ContributionRecord(_Record):
    """One part's contribution to the change; numerator and size effects sum to it."""

    name: str
    contribution: float
    numerator_effect: float
    size_effect: float


class BreakdownRecord(_Record):
    breakdown: str  # the column, "Team"
    period: str
    previous_period: str | None
    parts: list[PartRecord]
    change: float | None  # the total change the contributions sum to
    contributions: list[ContributionRecord]  # empty when the parts do not add up


class IndicatorRecord(_Record):
    code: str
    title: str
    service_area: str
    unit: Unit
    polarity: Polarity
    value: float | None
    target: float | None
    tolerance: float
    rag: Rating
    previous: float | None
    previous_period: str | None
    change: float | None
    direction: Direction
    consecutive_declines: int
    deep_dive: bool
    chain_broken_by_missing: str | None
    year_ago: float | None
    breach: bool
    owner: str
    period: str
    direction_3: Direction
    direction_6: Direction
    direction_12: Direction
    small_number: bool
    spc: SpcRecord | None
    benchmarks: BenchmarkRecord | None
    # The figure for `period` was withheld for an error in the source: where it is.
    withheld_error: str | None = None
    breakdown: BreakdownRecord | None = None  # by team, locality...: tasks.analysing.breakdowns


class ProblemRecord(_Record):
    severity: Severity
    file: str
    row: int | None
    column: str | None
    message: str
    indicator: str | None


class RevisionRecord(_Record):
    indicator: str
    period: str
    old_value: float | None
    new_value: float | None


class NotificationRecord(_Record):
    owner: str | None
    to: str
    indicators: list[str]
    status: str  # sent | already_sent | failed | uncertain | waiting
    kind: str  # breach | briefing
    transport: str
    error: str


class ImpactRecord(_Record):
    """An action's impact: the indicator's mean before and after it (tasks.analysing.deep_dives)."""

    period: str  # the period the action was put in place in
    before: float | None
    after: float | None
    periods_before: int
    periods_after: int
    margin: float | None
    verdict: Verdict
    special_cause_since: str | None


class ActionRecord(_Record):
    description: str
    owner: str
    due: str
    done: str | None
    impact: ImpactRecord | None


class DeepDiveRecord(_Record):
    indicator: str
    opened: str
    status: Status
    owner: str
    closed: str | None
    age_cycles: int
    opened_this_cycle: bool
    findings: str | None
    actions: list[ActionRecord]


class Summary(_Record):
    """The whole of summary.json."""

    cycle: str
    authority: AuthorityRef
    committee: str
    generated_at: str
    rules: RulesUsed
    indicators: list[IndicatorRecord]
    data_quality: list[ProblemRecord]
    revisions: list[RevisionRecord]
    notifications: list[NotificationRecord]
    deep_dives: list[DeepDiveRecord] = []  # the register (absent from older summaries)

    def write(self, path: Path) -> None:
        write_text_atomic(path, json.dumps(self.model_dump(mode="json"), indent=2,
                                           ensure_ascii=False) + "\n")

    @classmethod
    def read(cls, path: Path) -> Summary:
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))

    def count(self, rag: Rating) -> int:
        return sum(1 for i in self.indicators if i.rag is rag)


def schema() -> dict[str, Any]:
    """The JSON Schema of summary.json (`briefing schema`)."""
    out = Summary.model_json_schema()
    out["$id"] = f"https://scrutiny-briefing/summary/v{SCHEMA_VERSION}.json"
    out["title"] = "summary.json"
    return out


def _num(x: object) -> float | None:
    v = opt_float(x)
    return None if v is None else round(v, 6)


def _spc(s: SpcResult) -> SpcRecord:
    """The SPC reading, and the rule set and settings that produced it."""
    return SpcRecord(mean=_num(s.mean), lower_limit=_num(s.lower), upper_limit=_num(s.upper),
                     trial_limits=s.trial, points_in_baseline=s.n, variation=s.variation,
                     assurance=s.assurance, rules=list(s.rules),
                     points=[SpcPointRecord(period=p.period, value=p.value, special=p.special,
                                            rule=p.rule) for p in s.points],
                     method=s.method, settings=SpcSettingsRecord(**s.settings),
                     enough_points=s.enough, points_in_chart=s.n_chart,
                     segments=[SpcSegmentRecord(start=g.start, points=g.points,
                                                mean=_num(g.mean), lower_limit=_num(g.lower),
                                                upper_limit=_num(g.upper))
                               for g in s.segments])


def _benchmarks(b: BenchmarkResult) -> BenchmarkRecord:
    return BenchmarkRecord(
        period=b.period, england=_num(b.england),
        region=RegionValue(name=b.region_name, value=_num(b.region)),
        statistical_neighbours=Neighbours(mean=_num(b.sn_mean), median=_num(b.sn_median),
                                          count=b.sn_count, missing=list(b.sn_missing)),
        rank=b.rank, of=b.of, quartile=b.quartile, basis=b.basis)


def _breakdown(b: Breakdown | None) -> BreakdownRecord | None:
    if b is None:
        return None
    return BreakdownRecord(
        breakdown=b.breakdown, period=b.period, previous_period=b.previous_period,
        parts=[PartRecord(name=p.name, value=_num(p.value), numerator=_num(p.numerator),
                          denominator=_num(p.denominator)) for p in b.parts],
        change=b.change,  # unrounded: the contributions sum to it
        contributions=[ContributionRecord(name=c.name, contribution=c.total,
                                          numerator_effect=c.numerator_effect,
                                          size_effect=c.size_effect)
                       for c in b.contributions])


def _impact(i: Impact) -> ImpactRecord:
    return ImpactRecord(period=i.period, before=_num(i.before), after=_num(i.after),
                        periods_before=i.periods_before, periods_after=i.periods_after,
                        margin=_num(i.margin), verdict=i.verdict,
                        special_cause_since=i.special_since)


def _deep_dive(d: DeepDiveResult) -> DeepDiveRecord:
    return DeepDiveRecord(
        indicator=d.indicator, opened=d.opened, status=d.status, owner=d.owner,
        closed=d.closed.isoformat() if d.closed else None, age_cycles=d.age,
        opened_this_cycle=d.opened_now, findings=d.findings,
        actions=[ActionRecord(description=a.description, owner=a.owner,
                              due=a.due.isoformat(),
                              done=a.done.isoformat() if a.done else None,
                              impact=_impact(a.impact) if a.impact else None)
                 for a in d.actions])


def build_summary(config: Config, results: list[IndicatorResult], problems: list[Problem],
                  deliveries: list[Delivery], cycle: str, generated_at: datetime,
                  revisions: pd.DataFrame,
                  deep_dives: list[DeepDiveResult] | None = None,
                  breakdowns: dict[str, Breakdown] | None = None) -> Summary:
    """From the restricted edition's results: every figure as it is."""
    b = config.briefing
    by_code = {r.code: r for r in results}
    indicators = []
    for ind in config.indicators:
        r = by_code[ind.code]
        trends = dict(r.trends)
        indicators.append(IndicatorRecord(
            code=ind.code, title=ind.title, service_area=ind.service_area, unit=ind.unit,
            polarity=ind.polarity, value=_num(r.value), target=ind.target,
            tolerance=ind.tolerance, rag=r.rag, previous=_num(r.previous),
            previous_period=r.previous_period, change=_num(r.change), direction=r.direction,
            consecutive_declines=r.consecutive_declines, deep_dive=bool(r.deep_dive),
            chain_broken_by_missing=r.chain_gap, year_ago=_num(r.year_ago),
            breach=bool(r.breach), owner=ind.owner, period=r.period,
            direction_3=trends[3], direction_6=trends[6], direction_12=trends[12],
            small_number=r.small_number, spc=_spc(r.spc) if r.spc is not None else None,
            benchmarks=_benchmarks(r.benchmark) if r.benchmark is not None else None,
            withheld_error=r.source_error,
            breakdown=_breakdown((breakdowns or {}).get(ind.code))))
    return Summary(
        cycle=cycle, authority=AuthorityRef(code=b.authority.code, name=b.authority.name),
        committee=b.committee, generated_at=generated_at.isoformat(timespec="seconds"),
        rules=RulesUsed(consecutive_declines=b.rules.consecutive_declines),
        indicators=indicators,
        data_quality=[ProblemRecord(severity=p.severity, file=p.file, row=p.row,
                                    column=p.column, message=p.message, indicator=p.indicator)
                      for p in sort_problems(problems)],
        revisions=[RevisionRecord(indicator=str(r.indicator), period=str(r.period),
                                  old_value=_num(r.old_value), new_value=_num(r.new_value))
                   for r in revisions.itertuples(index=False)],
        notifications=[NotificationRecord(owner=d.owner, to=d.to, indicators=d.indicators,
                                          status=d.status, kind=d.kind,
                                          transport=d.transport, error=d.error)
                       for d in deliveries],
        deep_dives=[_deep_dive(d) for d in deep_dives or []])
