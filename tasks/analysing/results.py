"""The analysis of one edition as typed records: what the paper, the emails and every other
output read, instead of DataFrame rows with string column names.

The comparison rules run over DataFrames (`tasks.analysing.compare`, `tasks.analysing.spc`,
`tasks.analysing.benchmarks`); `indicator_results` turns their rows into these records once. An
edition's records hold only what that edition may print: in the public edition a figure
about a small number of children is None with its name in `withheld`, and a rule whose
result rests on it is `WITHHELD` (see `tasks.editions.disclosure`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd

from tasks.reading.values import opt_float, opt_text


class Rating(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NONE = "none"
    WITHHELD = "withheld"


class Direction(StrEnum):
    IMPROVING = "improving"
    DECLINING = "declining"
    NO_CHANGE = "no_change"
    NONE = "none"
    WITHHELD = "withheld"


TREND_PERIODS = (3, 6, 12)


@dataclass(frozen=True)
class ChartPoint:
    """One period of an indicator's chart: no value when missing or withheld."""

    period: str
    value: float | None
    withheld: bool = False


@dataclass(frozen=True)
class SpcPoint:
    period: str
    value: float
    special: str | None  # improvement | concern | neutral; None for common cause
    rule: str | None = None  # the first rule (tasks.analysing.spc.RULES) read at this point


@dataclass(frozen=True)
class SpcSegment:
    """One period of a chart that a rebase splits, with its own limits."""

    start: str  # its first period with a figure
    points: int
    mean: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class SpcResult:
    n: int
    mean: float | None
    lower: float | None
    upper: float | None
    trial: bool
    variation: str
    assurance: str
    rules: tuple[str, ...]
    latest_side: str  # high | low | ""
    points: tuple[SpcPoint, ...]
    method: str = "plotthedots"  # the rule set (tasks.analysing.spc.METHODS)
    # tasks.analysing.spc.settings()
    settings: dict[str, Any] = field(default_factory=dict, hash=False)
    n_chart: int = 0  # points in the chart (n: since the rebase)
    enough: bool = True  # False: too few points for the rule set to give a reading
    both_ways: bool = False  # the latest point signals high and low at once
    segments: tuple[SpcSegment, ...] = ()  # the chart's periods, split by a rebase


@dataclass(frozen=True)
class BenchmarkResult:
    period: str
    england: float | None
    region: float | None
    region_name: str
    sn_mean: float | None
    sn_median: float | None
    sn_count: int
    sn_missing: tuple[str, ...]
    rank: int | None
    of: int | None
    quartile: int | None
    # "per 10,000 children": a count compared as a rate of each area's children, `own`
    # the authority's own (None where its count is not published)
    basis: str = ""
    own: float | None = None


@dataclass(frozen=True)
class IndicatorResult:
    """Every comparison of one indicator at its current period, as one edition shows it."""

    code: str
    period: str
    value: float | None
    previous: float | None
    previous_period: str | None
    change: float | None
    year_ago: float | None
    rag: Rating
    direction: Direction
    trends: tuple[tuple[int, Direction], ...]  # (periods back, direction of travel)
    consecutive_declines: int  # certain run of declines ending now
    declines_exact: bool  # false: the run may be longer; it rests on withheld figures
    deep_dive: bool | None  # None: withheld
    chain_gap: str | None
    breach: bool | None  # None: withheld
    denominator: float | None
    small_number: bool
    chart: tuple[ChartPoint, ...]
    spc: SpcResult | None = None
    spc_withheld: bool = False  # SPC not shown: the window holds a withheld figure
    benchmark: BenchmarkResult | None = None
    withheld: frozenset[str] = field(default_factory=frozenset)
    # The current figure was withheld for an error in the source: where that error is
    # ("scorecard.xlsx, row 7, column 'D (Oct 24)'"). Not about small numbers.
    source_error: str | None = None
    # A figure computed from a return's records (tasks.returns.quality), as this edition
    # words it: what follows the rating (", but could be Red: 14 records fail DfE rules")
    # and the lines beside the figure on the records it rests on.
    could_be: str = ""
    quality: tuple[str, ...] = ()

    def is_withheld(self, name: str) -> bool:
        return name in self.withheld


def _tri(certain: object, possible: object) -> bool | None:
    """True when certain, False when impossible, None (withheld) in between."""
    if bool(certain):
        return True
    return None if bool(possible) else False


def spc_result(s: pd.Series) -> SpcResult:
    return SpcResult(
        n=int(s["n"]), mean=opt_float(s["mean"]), lower=opt_float(s["lower"]),
        upper=opt_float(s["upper"]), trial=bool(s["trial"]), variation=str(s["variation"]),
        assurance=str(s["assurance"]), rules=tuple(str(r) for r in s["rules"]),
        latest_side=str(s["latest_side"]),
        points=tuple(SpcPoint(str(p["period"]), float(p["value"]), p["special"], p["rule"])
                     for p in s["points"]),
        method=str(s["method"]), settings=dict(s["settings"]), n_chart=int(s["n_chart"]),
        enough=bool(s["enough_points"]), both_ways=bool(s["both_ways"]),
        segments=tuple(SpcSegment(str(g["start"]), int(g["points"]), opt_float(g["mean"]),
                                  opt_float(g["lower_limit"]), opt_float(g["upper_limit"]))
                       for g in s["segments"]))


def benchmark_result(b: pd.Series, rank_withheld: bool = False) -> BenchmarkResult:
    def num(x: object) -> int | None:
        v = opt_float(x)
        return None if v is None or rank_withheld else int(v)

    return BenchmarkResult(
        period=str(b["period"]), england=opt_float(b["england"]),
        region=opt_float(b["region"]), region_name=str(b["region_name"]),
        sn_mean=opt_float(b["sn_mean"]), sn_median=opt_float(b["sn_median"]),
        sn_count=int(b["sn_count"]), sn_missing=tuple(str(m) for m in b["sn_missing"]),
        rank=num(b["rank"]), of=None if rank_withheld else num(b["of"]),
        quartile=num(b["quartile"]), basis=str(b.get("basis", "") or ""),
        own=None if rank_withheld else opt_float(b.get("own")))


def indicator_result(row: pd.Series, chart: tuple[ChartPoint, ...], spc: SpcResult | None,
                     spc_withheld: bool, benchmark: BenchmarkResult | None) -> IndicatorResult:
    """One analysis row (`tasks.analysing.compare.analyse`) as a typed record."""
    return IndicatorResult(
        code=str(row["code"]), period=str(row["period"]), value=opt_float(row["value"]),
        previous=opt_float(row["previous"]), previous_period=opt_text(row["previous_period"]),
        change=opt_float(row["change"]), year_ago=opt_float(row["year_ago"]),
        rag=Rating(str(row["rag"])), direction=Direction(str(row["direction"])),
        trends=tuple((k, Direction(str(row[f"direction_{k}"]))) for k in TREND_PERIODS),
        consecutive_declines=int(row["consecutive_declines"]),
        declines_exact=int(row["consecutive_declines"]) == int(row["declines_most"]),
        deep_dive=_tri(row["deep_dive"], row["deep_dive_possible"]),
        chain_gap=opt_text(row["chain_gap"]),
        breach=_tri(row["breach"], row["breach_possible"]),
        denominator=opt_float(row["denominator"]), small_number=bool(row["small_number"]),
        chart=chart, spc=spc, spc_withheld=spc_withheld, benchmark=benchmark,
        withheld=frozenset(str(w) for w in row["withheld"]))
