"""The one typed context the briefing templates see: plain strings, numbers and lists.

Templates never receive a DataFrame; every number is already formatted (and suppressed
where it must be), so what a template can print is decided here, where it is tested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from tasks import spc
from tasks.benchmarks import ordinal
from tasks.charts import Chart, trend_chart
from tasks.commentary import Commentary
from tasks.compare import RAG_AMBER, RAG_GREEN, RAG_NONE, RAG_RED, series
from tasks.config import Config, Indicator, Polarity
from tasks.formatting import (
    SUPPRESSED,
    SUPPRESSION_NOTE,
    Disclosure,
    Edition,
    axis_format,
    fmt_change,
    fmt_value,
    polarity_label,
    target_label,
    unit_label,
)
from tasks.periods import PER_YEAR, Frequency, frequency_of, label, shift, short_label
from tasks.problems import Problem, sort_problems
from tasks.values import opt_float, opt_text

RAG_WORDS = {RAG_RED: "Red", RAG_AMBER: "Amber", RAG_GREEN: "Green", RAG_NONE: "No rating"}
RAG_SYMBOLS = {RAG_RED: "■", RAG_AMBER: "▲", RAG_GREEN: "●", RAG_NONE: "○"}
DIRECTION_WORDS = {"improving": "Improving", "declining": "Declining",
                   "no_change": "No change", "none": "Not compared"}
DIRECTION_SYMBOLS = {"improving": "↑", "declining": "↓", "no_change": "→", "none": ""}


@dataclass(frozen=True)
class CommentaryView:
    author: str
    date: str
    text: str


@dataclass(frozen=True)
class BenchmarkView:
    england: str
    region: str
    region_name: str
    neighbours: str
    neighbours_note: str
    rank: str
    quartile: str


QUARTILE_WORDS = {1: "1st quartile (best)", 2: "2nd quartile", 3: "3rd quartile",
                  4: "4th quartile (worst)"}


def benchmark_view(ind: Indicator, b: pd.Series | None) -> BenchmarkView | None:
    if b is None:
        return None
    unit = ind.unit
    n, missing = int(b["sn_count"]), list(b["sn_missing"])
    note = f"mean of {n} statistical neighbours"
    if missing:
        note += "; not published: " + ", ".join(missing)
    rank = (f"{ordinal(int(b['rank']))} of {int(b['of'])}" if pd.notna(b["rank"]) else "")
    return BenchmarkView(
        england=fmt_value(unit, opt_float(b["england"])),
        region=fmt_value(unit, opt_float(b["region"])),
        region_name=str(b["region_name"]), neighbours=fmt_value(unit, opt_float(b["sn_mean"])),
        neighbours_note=note, rank=rank,
        quartile=QUARTILE_WORDS[int(b["quartile"])] if pd.notna(b["quartile"]) else "")


@dataclass(frozen=True)
class SpcView:
    variation: str
    variation_label: str
    variation_class: str  # improvement | concern | neutral | common | none
    variation_letter: str  # H or L for special cause, "" otherwise
    assurance: str
    assurance_label: str
    assurance_letter: str  # P, F or ?; "" without a target
    reading: str
    assurance_reading: str
    trial: bool


VARIATION_WORDS = {
    spc.COMMON: ("Common cause variation", "common"),
    spc.IMPROVEMENT: ("Special cause improvement", "improvement"),
    spc.CONCERN: ("Special cause concern", "concern"),
    spc.NEUTRAL_HIGH: ("Special cause, neither good nor bad: high", "neutral"),
    spc.NEUTRAL_LOW: ("Special cause, neither good nor bad: low", "neutral"),
    spc.NO_VARIATION: ("No SPC reading", "none"),
}
ASSURANCE_WORDS = {
    spc.PASSING: ("Consistently passing", "P",
                  "The target lies outside the process limits on the passing side: it will "
                  "be met every period unless the process changes."),
    spc.FAILING: ("Consistently failing", "F",
                  "The target lies outside the process limits on the failing side: it will "
                  "not be met without a change to the process."),
    spc.HIT_AND_MISS: ("Hit and miss", "?",
                       "The target lies within the process limits: it will be met in some "
                       "periods and missed in others, by chance alone."),
    spc.NO_ASSURANCE: ("No target to assure", "", ""),
}


def spc_view(row: pd.Series | None, period: str, suppressed: bool, shift: int = 7,
             trend: int = 7) -> SpcView | None:
    if row is None:
        return None
    key = str(row["variation"])
    label, cls = VARIATION_WORDS[key]
    side = str(row["latest_side"])
    letter = {"high": "H", "low": "L"}.get(side, "") if cls not in ("common", "none") else ""
    unit = _unit_of_time(period)
    high = side == "high"
    reasons = {
        "outside_limits": "the latest point is "
                          f"{'above the upper' if high else 'below the lower'} process limit",
        "shift": f"{shift} or more {unit} in a row {'above' if high else 'below'} the average",
        "trend": f"{trend} or more {unit} in a row each {'higher' if high else 'lower'} than "
                 "the one before",
        "two_of_three": "2 of the last 3 points close to the "
                        f"{'upper' if high else 'lower'} limit",
    }
    if key == spc.NO_VARIATION:
        reading = "No SPC reading: no figure this period."
    elif key == spc.COMMON:
        reading = "Common cause variation: no sign that anything has changed."
    else:
        why = "; ".join(reasons[r] for r in row["rules"])
        reading = f"{label}: {why}."
    if bool(row["trial"]) and key != spc.NO_VARIATION:
        reading += f" Trial limits (fewer than {spc.MIN_BASELINE} points)."
    a_label, a_letter, a_reading = ASSURANCE_WORDS[str(row["assurance"])]
    if suppressed:  # even the direction of a signal would say something about small counts
        return SpcView(spc.NO_VARIATION, "SPC not shown for small numbers", "none", "",
                       spc.NO_ASSURANCE, "", "", "Not shown: the figures include small "
                       "numbers that are not published.", "", False)
    return SpcView(key, label, cls, letter, str(row["assurance"]), a_label, a_letter, reading,
                   a_reading, bool(row["trial"]))


@dataclass(frozen=True)
class IndicatorView:
    code: str
    title: str
    service_area: str
    unit_label: str
    polarity_label: str
    value: str
    target: str
    previous: str
    previous_period: str
    year_ago: str
    change: str
    rag: str
    rag_label: str
    rag_symbol: str
    direction: str
    direction_label: str
    direction_symbol: str
    deep_dive: bool
    consecutive_declines: int
    breach: bool
    period_label: str
    reasons: list[str]
    notes: list[str]
    owner_id: str
    owner_name: str
    owner_role: str
    definition: str
    question: str
    chart: Chart
    benchmark: BenchmarkView | None
    spc: SpcView | None
    trends: str
    commentary: list[CommentaryView]


@dataclass(frozen=True)
class AreaView:
    name: str
    anchor: str
    indicators: list[IndicatorView]
    counts: dict[str, int]


@dataclass(frozen=True)
class ProblemView:
    severity: str
    where: str
    message: str


@dataclass(frozen=True)
class BriefingContext:
    title: str
    authority_name: str
    authority_code: str
    committee: str
    cycle: str
    cycle_label: str
    cycle_short: str
    generated_on: str
    generated_iso: str
    contact_name: str
    contact_role: str
    contact_phone: str
    contact_email: str
    counts: dict[str, int]
    total: int
    summary: list[str]
    exceptions: list[IndicatorView]
    areas: list[AreaView]
    data_quality: list[ProblemView]
    not_collected: list[str]
    rule_periods: int
    suppression_note: str
    has_benchmarks: bool
    edition: str
    edition_label: str
    missing_commentary: list[str]
    rag_words: dict[str, str] = field(default_factory=lambda: dict(RAG_WORDS))
    rag_symbols: dict[str, str] = field(default_factory=lambda: dict(RAG_SYMBOLS))


def anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _unit_of_time(period: str) -> str:
    return {Frequency.MONTHLY: "months", Frequency.QUARTERLY: "quarters",
            Frequency.ANNUAL: "years"}[frequency_of(period)]


def _reasons(ind: Indicator, row: pd.Series, needed: int, period: str,
             hidden: bool) -> list[str]:
    out: list[str] = []
    value, target = opt_float(row["value"]), opt_float(row["target"])
    if row["rag"] == RAG_RED and value is not None and target is not None:
        gap = abs(value - target)
        tail = "" if hidden else f", {fmt_change(ind.unit, gap).lstrip('+')} outside the target"
        shown = SUPPRESSED if hidden else fmt_value(ind.unit, value)
        out.append(f"Red: {shown} against a target of "
                   f"{target_label(ind.unit, target, ind.polarity)}{tail}.")
    if bool(row["deep_dive"]):
        n = int(row["consecutive_declines"])
        out.append(f"Deep dive: worse in each of the last {n} consecutive "
                   f"{_unit_of_time(period)} (the rule is {needed}), since "
                   f"{label(shift(period, -n))}.")
    return out


def _notes(ind: Indicator, row: pd.Series, period: str, cycle: str, needed: int,
           hidden: bool) -> list[str]:
    notes: list[str] = []
    if period != cycle:
        notes.append(f"Figure for {label(period)} (reported {ind.frequency.value}).")
    if opt_float(row["value"]) is None:
        notes.append(f"No figure for {label(period)}: not collected or left blank in the "
                     "export.")
    prev_period, gap = opt_text(row["previous_period"]), opt_text(row["chain_gap"])
    if prev_period and prev_period != shift(period, -1) and opt_float(row["value"]) is not None:
        notes.append(f"Compared with {label(prev_period)}, the last month with a figure.")
    if gap:
        notes.append(f"No figure for {label(gap)}, so the rule of {needed} "
                     "consecutive declines cannot be checked across that gap; the run of "
                     "declines restarts after it.")
    if hidden:
        notes.append("The figure is a small number and is not published (c).")
    if bool(row["small_number"]) and not hidden:
        notes.append(f"A percentage of only {opt_float(row['denominator']):g} cases: one child "
                     "moves it a long way, so it is shown but does not trigger an alert by "
                     "itself.")
    return notes


def _view(ind: Indicator, row: pd.Series, config: Config, history: pd.DataFrame,
          cycle: str, bench: pd.Series | None, spc_row: pd.Series | None,
          policy: Disclosure, commentary: list[CommentaryView]) -> IndicatorView:
    owner = config.owners[ind.owner]
    unit = ind.unit
    value, prev = opt_float(row["value"]), opt_float(row["previous"])
    year_ago = opt_float(row["year_ago"])
    period = str(row["period"])
    raw = series(history, ind.code, period, config.briefing.rules.chart_periods, "numerator")
    nums = {p: n for p, _, n in raw}

    def hide(v: float | None, p: str | None) -> bool:
        return policy.hidden(unit, v, nums.get(p) if p else None)

    hidden_now = hide(value, period)
    prev_period = opt_text(row["previous_period"])
    hidden_prev = hide(prev, prev_period)
    year_ago_period = shift(period, -PER_YEAR[frequency_of(period)])
    pts = [(p, None if hide(v, p) else v) for p, v, _ in raw]
    shown = [v for _, v in pts if v is not None]
    # One hidden point and the average of the rest would give it away: no SPC lines then.
    any_hidden = len(shown) < sum(1 for _, v, _ in raw if v is not None)
    limits = special = None
    if spc_row is not None and not any_hidden and pd.notna(spc_row["mean"]):
        limits = (float(spc_row["mean"]), float(spc_row["lower"]), float(spc_row["upper"]))
        special = {str(p["period"]): str(p["special"]) for p in spc_row["points"]
                   if p["special"]}
    desc = (f"Values of {ind.title} from {label(pts[0][0])} to {label(period)}. "
            + (f"Lowest {fmt_value(unit, min(shown))}, highest {fmt_value(unit, max(shown))}, "
               f"latest {SUPPRESSED if hidden_now else fmt_value(unit, value)}. "
               if shown else "No values to plot. ")
            + (f"Target line at {fmt_value(unit, ind.target)}. "
               if ind.target is not None else "No target. ")
            + ("Some periods are missing or not published." if len(shown) < len(pts) else ""))
    direction_key = "none" if hidden_now or hidden_prev else str(row["direction"])
    needed = config.briefing.rules.consecutive_declines
    show_name = not policy.public or config.briefing.publish_owner_names
    return IndicatorView(
        code=ind.code, title=ind.title, service_area=ind.service_area,
        unit_label=unit_label(unit), polarity_label=polarity_label(ind.polarity),
        value=SUPPRESSED if hidden_now else fmt_value(unit, value),
        target=target_label(unit, ind.target, ind.polarity),
        previous=SUPPRESSED if hidden_prev else fmt_value(unit, prev),
        previous_period=short_label(prev_period) if prev_period else "",
        year_ago=(SUPPRESSED if hide(year_ago, year_ago_period) else fmt_value(unit, year_ago)),
        change=fmt_change(unit, opt_float(row["change"]), hidden_now or hidden_prev),
        rag=str(row["rag"]), rag_label=RAG_WORDS[str(row["rag"])],
        rag_symbol=RAG_SYMBOLS[str(row["rag"])],
        direction=direction_key, direction_label=DIRECTION_WORDS[direction_key],
        direction_symbol=DIRECTION_SYMBOLS[direction_key],
        deep_dive=bool(row["deep_dive"]), consecutive_declines=int(row["consecutive_declines"]),
        breach=bool(row["breach"]), reasons=_reasons(ind, row, needed, period, hidden_now),
        notes=_notes(ind, row, period, cycle, needed, hidden_now), period_label=label(period),
        owner_id=ind.owner, owner_name=owner.name if show_name else owner.role,
        owner_role=owner.role, definition=ind.definition,
        question=ind.question or _default_question(ind),
        chart=trend_chart(ind.title, pts, ind.target, axis_format(unit), desc, spc=limits,
                          special=special),
        benchmark=benchmark_view(ind, bench),
        spc=spc_view(spc_row, period, any_hidden, config.briefing.rules.spc_shift,
                     config.briefing.rules.spc_trend),
        trends="" if any_hidden else _trends(row),
        commentary=commentary,
    )


def _commentary(config: Config, analysis: pd.DataFrame, items: list[Commentary],
                policy: Disclosure) -> dict[str, list[CommentaryView]]:
    """Commentary for each indicator's current period, newest first."""
    current = dict(zip(analysis["code"], analysis["period"], strict=True))
    out: dict[str, list[CommentaryView]] = {}
    for c in sorted(items, key=lambda c: c.date, reverse=True):
        if current.get(c.indicator) != c.period:
            continue
        author = c.author
        ind = config.by_code().get(c.indicator)
        if policy.public and ind and not config.briefing.publish_owner_names:
            author = config.owners[ind.owner].role
        out.setdefault(c.indicator, []).append(
            CommentaryView(author, c.date.strftime("%-d %B %Y"), c.text))
    return out


def _trends(row: pd.Series) -> str:
    """'Over 3 periods: improving; 6: declining; 12: no change' in plain words."""
    parts = [f"{k}: {DIRECTION_WORDS[str(row[f'direction_{k}'])].lower()}" for k in (3, 6, 12)]
    return "Against 3, 6 and 12 periods before: " + "; ".join(parts) + "."


def _default_question(ind: Indicator) -> str:
    if ind.polarity is Polarity.NEUTRAL:
        return f"What is driving the level of {ind.title.lower()}, and is it what we expect?"
    return (f"What has caused the change in {ind.title.lower()}, what is being done, and when "
            "will the committee see the effect?")


def _counts(rows: list[IndicatorView]) -> dict[str, int]:
    return {k: sum(1 for r in rows if r.rag == k) for k in (RAG_RED, RAG_AMBER, RAG_GREEN,
                                                            RAG_NONE)}


def _summary(views: list[IndicatorView], counts: dict[str, int], not_collected: list[str],
             needed: int, cycle: str) -> list[str]:
    total = len(views)
    lines = [f"Of {total} indicators in {label(cycle)}, {counts[RAG_RED]} are red, "
             f"{counts[RAG_AMBER]} amber and {counts[RAG_GREEN]} green; "
             f"{counts[RAG_NONE]} have no target or no figure."]
    dives = [v for v in views if v.deep_dive]
    if dives:
        noun = "indicator needs" if len(dives) == 1 else "indicators need"
        lines.append(f"{len(dives)} {noun} a deep dive, having got worse in each of the last "
                     f"{needed} reporting periods: " + "; ".join(v.title for v in dives) + ".")
    else:
        lines.append(f"No indicator has got worse in each of the last {needed} reporting "
                     "periods.")
    reds = [v for v in views if v.rag == RAG_RED]
    for v in reds[:5]:
        lines.append(f"{v.title} is {v.value} against a target of {v.target}.")
    if len(reds) > 5:
        lines.append(f"{len(reds) - 5} further red indicators are listed under Exceptions.")
    if not_collected:
        noun = "indicator has" if len(not_collected) == 1 else "indicators have"
        lines.append(f"{len(not_collected)} {noun} no figure this month: "
                     + "; ".join(not_collected) + ".")
    return lines


def build_context(config: Config, analysis: pd.DataFrame, history: pd.DataFrame, cycle: str,
                  problems: list[Problem], generated_at: datetime,
                  benchmarks: pd.DataFrame | None = None,
                  spc_frame: pd.DataFrame | None = None, edition: Edition = Edition.PUBLIC,
                  commentary: list[Commentary] | None = None) -> BriefingContext:
    rows = analysis.set_index("code")
    bench = (benchmarks.set_index("code") if benchmarks is not None and not benchmarks.empty
             else None)
    spc_rows = spc_frame.set_index("code") if spc_frame is not None and not spc_frame.empty \
        else None
    policy = Disclosure(edition)
    notes = _commentary(config, analysis, commentary or [], policy)
    views = [_view(ind, rows.loc[ind.code], config, history, cycle,  # type: ignore[arg-type]
                   bench.loc[ind.code] if bench is not None and ind.code in bench.index
                   else None,  # type: ignore[arg-type]
                   spc_rows.loc[ind.code] if spc_rows is not None else None,  # type: ignore[arg-type]
                   policy, notes.get(ind.code, []))
             for ind in config.indicators]
    areas: dict[str, list[IndicatorView]] = {}
    for v in views:
        areas.setdefault(v.service_area, []).append(v)
    rank = {RAG_RED: 0, RAG_AMBER: 1, RAG_GREEN: 2, RAG_NONE: 3}
    exceptions = sorted((v for v in views if v.breach),
                        key=lambda v: (rank[v.rag], not v.deep_dive))
    not_collected = [v.title for v in views if v.value == "–"]
    counts = _counts(views)
    b = config.briefing
    dq = [ProblemView(p.severity.value, _where(p), p.message) for p in sort_problems(problems)]
    return BriefingContext(
        title=b.report_title, authority_name=b.authority.name, authority_code=b.authority.code,
        committee=b.committee, cycle=cycle, cycle_label=label(cycle),
        cycle_short=short_label(cycle),
        generated_on=generated_at.strftime("%-d %B %Y"),
        generated_iso=generated_at.date().isoformat(),
        contact_name=b.contact.name, contact_role=b.contact.role,
        contact_phone=b.contact.phone, contact_email=b.contact.email,
        counts=counts, total=len(views),
        summary=_summary(views, counts, not_collected, b.rules.consecutive_declines, cycle),
        exceptions=exceptions,
        areas=[AreaView(name, anchor(name), vs, _counts(vs)) for name, vs in areas.items()],
        data_quality=dq, not_collected=not_collected,
        rule_periods=b.rules.consecutive_declines, suppression_note=SUPPRESSION_NOTE,
        has_benchmarks=any(v.benchmark is not None for v in views),
        edition=edition.value,
        edition_label=("Public edition: small numbers are not published (c)"
                       if policy.public else
                       "Restricted edition: not for publication. Contains figures about small "
                       "numbers of children"),
        missing_commentary=[f"{v.title} ({v.owner_role})" for v in exceptions
                            if not v.commentary],
    )


def _where(p: Problem) -> str:
    parts = [p.file]
    if p.row is not None:
        parts.append(f"row {p.row}")
    if p.column:
        parts.append(f"column {p.column}")
    return ", ".join(parts)
