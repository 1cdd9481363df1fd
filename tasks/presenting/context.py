"""The one typed context the briefing templates see: plain strings, numbers and lists.

Templates never receive a DataFrame. The context is built from one edition's results
(`tasks.editions.disclosure.edition_results`), which already hold only what that edition may print,
so this module formats and words; it decides nothing about disclosure.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tasks.analysing import spc
from tasks.analysing.benchmarks import ordinal
from tasks.analysing.breakdowns import Breakdown
from tasks.analysing.deep_dives import (
    IMPACT_PERIODS,
    MIN_PERIODS_AFTER,
    STATUS_WORDS,
    DeepDiveResult,
    Status,
    pack_name,
    verdict_text,
)
from tasks.analysing.results import (
    BenchmarkResult,
    Direction,
    IndicatorResult,
    Rating,
    SpcResult,
)
from tasks.editions.disclosure import EditionResults
from tasks.presenting.charts import SPARK, WIDE, Chart, Size, trend_chart
from tasks.presenting.wording import (
    EDITION_LABELS,
    NOT_PUBLISHED,
    SMALL_FIGURES,
    SPC_NOT_SHOWN,
    committee_question,
    deep_dive_flag,
    deep_dives_unknown,
    exception_reasons,
    indicator_notes,
    names_owners,
    no_deep_dives,
    owner_text,
    shown_value,
    source_error_reasons,
    spc_too_few,
    unit_of_time,
)
from tasks.reading.commentary import Commentary
from tasks.reading.display import shown
from tasks.reading.problems import (
    CONTESTED_TEXT,
    Problem,
    names_its_place,
    sort_problems,
)
from tasks.reading.questions import Tracked, last_meeting
from tasks.settings.calendar import PaperDates
from tasks.settings.config import Config, Indicator, Polarity, Unit
from tasks.settings.formatting import (
    SUPPRESSION_NOTE,
    Edition,
    fmt_change,
    fmt_value,
    polarity_label,
    target_label,
    unit_label,
)
from tasks.settings.periods import (
    PER_YEAR,
    Frequency,
    end_month,
    frequency_of,
    label,
    shift,
    short_label,
)

RAG_WORDS = {Rating.RED: "Red", Rating.AMBER: "Amber", Rating.GREEN: "Green",
             Rating.NONE: "No rating", Rating.WITHHELD: NOT_PUBLISHED}
RAG_SYMBOLS = {Rating.RED: "■", Rating.AMBER: "▲", Rating.GREEN: "●", Rating.NONE: "○",
               Rating.WITHHELD: "◇"}
RAG_ORDER = (Rating.RED, Rating.AMBER, Rating.GREEN, Rating.NONE, Rating.WITHHELD)
DIRECTION_WORDS = {Direction.IMPROVING: "Improving", Direction.DECLINING: "Declining",
                   Direction.NO_CHANGE: "No change", Direction.NONE: "Not compared",
                   Direction.WITHHELD: NOT_PUBLISHED}
DIRECTION_SYMBOLS = {Direction.IMPROVING: "↑", Direction.DECLINING: "↓",
                     Direction.NO_CHANGE: "→", Direction.NONE: "", Direction.WITHHELD: ""}


@dataclass(frozen=True)
class CommentaryView:
    author: str
    date: str
    text: str


@dataclass(frozen=True)
class QuestionView:
    ref: str
    kind: str  # "Question" or "Recommendation"
    about: str  # the indicator's title, or "" for none
    owner: str  # as the edition names owners
    text: str
    answer: str  # the answer, "No answer received", or the public edition's note
    answered: str  # "Tom Bradley, 4 December 2024", or ""
    status: str  # Asked, Answered, Closed


NO_ANSWER = "No answer received."
ANSWER_NOT_PUBLISHED = ("Not published: the answer is about an indicator whose figures "
                        "include small numbers; it is in the restricted edition.")


@dataclass(frozen=True)
class BenchmarkView:
    england: str
    region: str
    region_name: str
    neighbours: str
    neighbours_note: str
    neighbours_count: int  # how many neighbours' figures the mean is of
    neighbours_missing: str  # "not published: ..." or ""
    rank: str
    quartile: str
    rank_basis: str = "1st is best"
    # A count set beside others as a rate: "per 10,000 children; Torbay 12.3"
    basis: str = ""


QUARTILE_WORDS = {1: "1st quartile (best)", 2: "2nd quartile", 3: "3rd quartile",
                  4: "4th quartile (worst)"}


# Neither higher nor lower is better: ranked from the highest, with no best or worst.
NEUTRAL_QUARTILE_WORDS = {1: "1st quartile (highest)", 2: "2nd quartile", 3: "3rd quartile",
                          4: "4th quartile (lowest)"}


def benchmark_view(ind: Indicator, b: BenchmarkResult | None) -> BenchmarkView | None:
    if b is None:
        return None
    unit, places = ind.unit, ind.decimals
    basis = ""
    if b.basis:  # a count, compared as a rate per 10,000 children (tasks.analysing.benchmarks)
        unit, places = Unit.RATE_PER_10K, None
        own = fmt_value(unit, b.own)  # no figure, or not published: "–"
        basis = f"{b.basis}; this authority {own}"
    note = f"mean of {b.sn_count} statistical neighbours"
    if b.sn_missing:
        note += "; not published: " + ", ".join(b.sn_missing)
    neutral = ind.polarity is Polarity.NEUTRAL
    rank = (f"{ordinal(b.rank)}{' highest' if neutral else ''} of {b.of}"
            if b.rank is not None and b.of is not None else "")
    words = NEUTRAL_QUARTILE_WORDS if neutral else QUARTILE_WORDS
    return BenchmarkView(
        england=fmt_value(unit, b.england, places), region=fmt_value(unit, b.region, places),
        region_name=b.region_name, neighbours=fmt_value(unit, b.sn_mean, places),
        neighbours_note=note, neighbours_count=b.sn_count,
        neighbours_missing=("not published: " + ", ".join(b.sn_missing)) if b.sn_missing else "",
        rank=rank,
        quartile=words[b.quartile] if b.quartile is not None else "",
        rank_basis=("1st is the highest" if neutral else "1st is best")
        + (f", by rate {b.basis}" if b.basis else ""), basis=basis)


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
    method: str = ""  # the rule set's name
    method_text: str = ""  # the rule set and its settings, for the method appendix
    warning: str = ""  # shown with the icons: too short a series for settled limits
    enough: bool = True  # False: too few points for SPC, words instead of icons


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
SPC_WITHHELD = SpcView(spc.NO_VARIATION, SPC_NOT_SHOWN, "none", "",
                       spc.NO_ASSURANCE, "", "", "Not shown: the figures include small "
                       "numbers that are not published.", "", False)
PRIORITY_WORDS = "beyond a limit, then a trend, then 2 of 3, then a shift"


def spc_method_text(st: dict[str, Any]) -> str:
    """The rule set and every setting that matters, in words, from the analysis's own
    settings (so the paper can never describe other rules than those applied)."""
    parts = [
        "moving ranges of 3.267 times their average or more are left out before the limits "
        "are set" if st["screen_outliers"] else "every moving range counts towards the limits",
        f"a shift is {st['shift']} or more points in a row on one side of the average",
        f"a trend is {st['trend']} or more points in a row each higher, or each lower, than "
        "the one before" + (" (it may run on across a rebase)" if st["trend_across_rebase"]
                            else ""),
        "2 of 3 points in a row beyond a two-sigma line, all three on the same side of the "
        "average, are special cause" + (", a point beyond the process limit among them"
                                        if st["two_of_three_counts_beyond_limit"] else
                                        "; only points between that line and the process "
                                        "limit count"),
        f"a point with more than one signal reads by the first of: {PRIORITY_WORDS}"
        if st["two_signals"] == "priority" else
        "a point with both an improvement and a concern signal reads as the indicator's "
        f"setting says ({st['two_signals_default']} unless set otherwise), and a neutral "
        "indicator's high signal wins",
        "the target is consistently passed or failed "
        + ("when it lies on or beyond a process limit" if st["assurance"] == "inclusive"
           else "only when it lies beyond a process limit (on a limit it is hit and miss)"),
        "each period from a rebase has its own limits",
    ]
    if st["min_points"] > 2:
        parts.append(f"with fewer than {st['min_points']} points in the chart there is no "
                     "SPC reading")
    parts.append(f"fewer than {st['short_series']} points since the start or a rebase give "
                 "trial limits, shown with a warning")
    return (f"Rule set \u201c{st['method']}\u201d, the defaults of {st['reference']}: "
            + "; ".join(parts) + ".")


def spc_view(s: SpcResult | None, period: str, withheld: bool, shift: int | None = None,
             trend: int | None = None) -> SpcView | None:
    """The SPC reading in words; `shift` and `trend` default to the rule set's own."""
    if withheld:  # even the direction of a signal would say something about small counts
        return SPC_WITHHELD
    if s is None:
        return None
    st = s.settings
    shift = shift or int(st["shift"])
    trend = trend or int(st["trend"])
    method_text = spc_method_text(st)
    if not s.enough:
        label = spc_too_few(s.n_chart, int(st['min_points']))
        return SpcView(spc.NO_VARIATION, label, "none", "", spc.NO_ASSURANCE, "", "",
                       f"{label}: {st['reference']} gives no SPC reading under "
                       f"{int(st['min_points'])} points.", "", False, s.method, method_text,
                       enough=False)
    key = s.variation
    label, cls = VARIATION_WORDS[key]
    side = s.latest_side
    letter = {"high": "H", "low": "L"}.get(side, "") if cls not in ("common", "none") else ""
    unit = unit_of_time(period)
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
        why = "; ".join(reasons[r] for r in s.rules)
        reading = f"{label}: {why}."
        if s.both_ways:
            reading += (" It signals the other way too; "
                        + (f"the first of {PRIORITY_WORDS} decides."
                           if st["two_signals"] == "priority" else
                           f"this indicator reads such a point as {st['two_signals']}."))
    warning = ""
    if s.trial and key != spc.NO_VARIATION:
        since = " since the rebase" if s.n < s.n_chart else ""
        warning = (f"only {s.n} points{since}: fewer than {int(st['short_series'])} give "
                   "trial limits, revised with each new point")
        reading += f" Trial limits (only {s.n} points{since})."
    a_label, a_letter, a_reading = ASSURANCE_WORDS[s.assurance]
    return SpcView(key, label, cls, letter, s.assurance, a_label, a_letter, reading,
                   a_reading, s.trial, s.method, method_text, warning)


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
    year_ago_period: str
    # False when a year ago is the previous period (an annual indicator): shown once.
    year_ago_shown: bool
    change: str
    rag: str
    rag_label: str
    rag_symbol: str
    direction: str
    direction_label: str
    direction_symbol: str
    deep_dive: bool  # the rule certainly fired
    deep_dive_text: str  # "Yes (3 in a row)", "No", or "Not published"
    consecutive_declines: int
    breach: bool  # listed as an exception (in the public edition: possibly a breach)
    why_listed: str  # in a few words, for the exceptions at a glance
    period_label: str
    period_heading: str  # as a column heading: "October 2024", "Year to 31 March 2025"
    period_short: str  # "Oct 24", "2025"
    reasons: list[str]
    notes: list[str]
    owner_id: str
    owner_name: str
    owner_role: str
    owner: str  # as the edition names the owner: "Name, Role", or the role alone
    definition: str
    question: str
    chart: Chart | None  # full width, for an exception; None otherwise or nothing to plot
    spark: Chart | None  # the trend line in its service area's table
    chart_note: str  # what is said instead of a chart when there is nothing to plot
    benchmark: BenchmarkView | None
    spc: SpcView | None
    trends: str
    commentary: list[CommentaryView]
    breakdown: BreakdownView | None = None  # an exception's latest breakdown


@dataclass(frozen=True)
class PartView:
    name: str
    value: str
    previous: str
    contribution: str  # to the change in the indicator, in its units
    numerator_effect: str  # from the part's own rate ("" for a count)
    size_effect: str  # from its share of the denominator ("" for a count)


@dataclass(frozen=True)
class BreakdownView:
    caption: str  # "By team, October 2024"
    name: str  # the column: "Team"
    rows: list[PartView]
    decomposed: bool  # contributions shown (the parts add up, both periods known)
    is_rate: bool  # the split into numerator and size effects applies
    change: str  # the total change the contributions add up to
    note: str  # why there are no contributions, or why the breakdown is withheld


@dataclass(frozen=True)
class ActionView:
    number: int  # A1, A2 ... within its deep dive, as the chart marks them
    description: str
    owner: str
    due: str
    done: str  # "" when not yet put in place
    overdue: bool  # due before the date of the report and not put in place
    impact: str  # the verdict in words, or why there is none


@dataclass(frozen=True)
class DeepDiveView:
    code: str
    title: str
    opened: str  # "September 2024"
    age: str  # "open for 1 month", or "opened this month"
    status: str
    owner: str
    closed: str  # "14 February 2024", or ""
    findings: str
    actions: list[ActionView]
    outcome: str  # a closed deep dive: the impact of its last action put in place
    opened_now: bool
    pack: str = ""  # the restricted deep-dive pack written as it opened (tasks.presenting.packs)


@dataclass(frozen=True)
class AreaView:
    name: str
    anchor: str
    indicators: list[IndicatorView]
    counts: dict[str, int]
    show_year_ago: bool  # some indicator's year-ago figure is not its previous one


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
    cycle_title: str  # the cycle as a heading or table cell starts: "Year to 31 March 2025"
    cycle_short: str
    meeting_date: str  # "28 November 2024", or "To be confirmed"
    report_date: str  # the date of the report (its publication with the agenda)
    report_date_iso: str  # "" when not known
    report_date_note: str  # where the date comes from, for the method appendix
    contact_name: str
    contact_role: str
    contact_phone: str
    contact_email: str
    counts: dict[str, int]
    total: int
    summary: list[str]
    key_points: list[str]  # the paper's first page: the summary without what the
    # exceptions at a glance already show
    exceptions: list[IndicatorView]
    areas: list[AreaView]
    data_quality: list[ProblemView]  # every finding (the workbook and artifact count them)
    not_collected: list[str]
    rule_periods: int
    suppression_note: str
    has_benchmarks: bool
    edition: str
    edition_label: str
    missing_commentary: list[str]
    deep_dives_open: list[DeepDiveView] = field(default_factory=list)
    deep_dives_closed: list[DeepDiveView] = field(default_factory=list)
    overdue_actions: list[str] = field(default_factory=list)
    deep_dive_note: str = ""  # the public edition's, always: what it leaves out
    impact_rule: str = ""  # how impact is judged, for the section's introduction
    # How many of data_quality the paper prints (limits.findings_per_paper), and the line
    # that says how many more there are and where every one is listed ("" when all fit).
    data_quality_printed: int | None = None  # None: all
    data_quality_more: str = ""
    # "Questions from the last meeting" (tasks.reading.questions): the meeting, and each question
    # with its answer or "No answer received"; empty: the section is not printed.
    questions_meeting: str = ""
    questions: list[QuestionView] = field(default_factory=list)
    rag_words: dict[str, str] = field(
        default_factory=lambda: {str(k): v for k, v in RAG_WORDS.items()})
    rag_symbols: dict[str, str] = field(
        default_factory=lambda: {str(k): v for k, v in RAG_SYMBOLS.items()})


def anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _why_listed(ind: Indicator, r: IndicatorResult) -> str:
    """The rule that put an indicator among the exceptions, in a few words."""
    parts = []
    if r.source_error == CONTESTED_TEXT:
        parts.append("figure not published: given by more than one export")
    elif r.source_error is not None:
        parts.append("figure withheld: error in the source")
    if r.rag is Rating.RED:
        parts.append("Red rating")
    elif r.rag is Rating.WITHHELD:
        parts.append("rating not published")
    if r.deep_dive is True:
        least = "" if r.declines_exact else "at least "
        parts.append(f"worse {least}{r.consecutive_declines} {unit_of_time(r.period)} "
                     "running (deep dive)")
    elif r.deep_dive is None:
        parts.append("deep dive not published")
    text = " and ".join(parts)
    if r.rag is Rating.WITHHELD or r.deep_dive is None:
        text += " (small numbers)"
    return text[:1].upper() + text[1:]


Y_TITLES = {Unit.PERCENT: "Per cent", Unit.COUNT: "Number", Unit.DAYS: "Days",
            Unit.RATE_PER_10K: "Per 10,000 children", Unit.NUMBER: "Number",
            Unit.MONEY: "Pounds (£)"}
X_TITLES = {Frequency.MONTHLY: "Month", Frequency.QUARTERLY: "Quarter",
            Frequency.ANNUAL: "Year to 31 March"}


def _chart(ind: Indicator, r: IndicatorResult, size: Size,
           marks: dict[str, str] | None = None) -> tuple[Chart | None, str]:
    """The indicator's trend from its first shown figure (the axes start where the data
    does), or why there is none. Only the points this edition shows reach the chart;
    `marks` (period: label) are the deep-dive actions put in place."""
    unit = ind.unit
    pts = [(p.period, p.value) for p in r.chart]
    window = (label(pts[0][0]), label(pts[-1][0])) if pts else (label(r.period),) * 2
    start = next((i for i, (_, v) in enumerate(pts) if v is not None), None)
    if start is None:
        if pts and all(p.withheld for p in r.chart):
            why = (f"every figure from {window[0]} to {window[1]} is about a small number "
                   "of children and is not published")
        elif any(p.withheld for p in r.chart):
            why = (f"every figure from {window[0]} to {window[1]} is missing, or about a "
                   "small number of children and not published")
        else:
            why = f"there are no figures from {window[0]} to {window[1]}"
        return None, f"No chart: {why}."
    pts = pts[start:]
    shown = [v for _, v in pts if v is not None]
    desc = (f"Values of {ind.title} from {label(pts[0][0])} to {label(r.period)}. "
            f"Lowest {fmt_value(unit, min(shown), ind.decimals)}, highest "
            f"{fmt_value(unit, max(shown), ind.decimals)}, "
            f"latest {shown_value(ind, r, 'value', r.value)}. "
            + (f"Target line at {fmt_value(unit, ind.target, ind.decimals)}. "
               if ind.target is not None else "No target. ")
            + ("Some periods are missing or not published." if len(shown) < len(pts) else ""))
    limits = special = None
    s = r.spc
    if s is not None and s.mean is not None and s.lower is not None and s.upper is not None:
        limits = (s.mean, s.lower, s.upper)
        special = {p.period: p.special for p in s.points if p.special}
    chart = trend_chart(ind.title, pts, ind.target, "%" if unit is Unit.PERCENT else "", desc,
                        size, spc=limits, special=special,
                        target_text=fmt_value(unit, ind.target, ind.decimals),
                        y_title=Y_TITLES[unit],
                        x_title=X_TITLES[frequency_of(r.period)] if size is WIDE else "",
                        whole=unit is Unit.COUNT, marks=marks)
    return chart, ""


def _breakdown_view(ind: Indicator, b: Breakdown | None) -> BreakdownView | None:
    """An exception's breakdown as printed: parts, and each part's contribution."""
    if b is None:
        return None
    column = shown(b.breakdown)  # a heading and team names, as the export wrote them
    lower = shown(b.breakdown.lower())
    caption = f"By {lower}, {label(b.period)}"
    if b.withheld:
        return BreakdownView(caption, column, [], False, False, "",
                             f"The breakdown by {lower} is not published: some "
                             f"of its figures are about small numbers of children.")
    unit, places = ind.unit, ind.decimals
    is_rate = ind.unit is not Unit.COUNT
    given = {p.name: p for p in b.parts}
    rows = []
    names = [c.name for c in b.contributions] or [p.name for p in b.parts]
    by_name = {c.name: c for c in b.contributions}
    for name in names:
        c = by_name.get(name)
        p = given.get(name)
        rows.append(PartView(
            shown(name), fmt_value(unit, p.value if p else None, places),
            fmt_value(unit, c.previous, places) if c else "",
            fmt_change(unit, c.total, decimals=places) if c else "",
            fmt_change(unit, c.numerator_effect, decimals=places) if c and is_rate else "",
            fmt_change(unit, c.size_effect, decimals=places) if c and is_rate else ""))
    note = "" if b.contributions else (
        f"Contributions to the change are not shown: the breakdown by {lower} "
        f"{b.why_none or 'does not add up to the total (see Appendix A)'}.")
    return BreakdownView(caption, column, rows, bool(b.contributions), is_rate,
                         fmt_change(unit, b.change, decimals=places)
                         if b.change is not None else "", note)


def _view(ind: Indicator, r: IndicatorResult, config: Config, cycle: str, public: bool,
          commentary: list[CommentaryView],
          marks: dict[str, str] | None = None,
          breakdown: Breakdown | None = None) -> IndicatorView:
    owner = config.owners[ind.owner]
    unit = ind.unit
    rules = config.briefing.rules
    needed = rules.consecutive_declines
    show_name = names_owners(config, public)
    listed = r.breach is not False or r.source_error is not None
    spark, chart_note = _chart(ind, r, SPARK)
    chart = _chart(ind, r, WIDE, marks)[0] if listed else None
    year_ago_period = shift(r.period, -PER_YEAR[frequency_of(r.period)])
    return IndicatorView(
        code=ind.code, title=ind.title, service_area=ind.service_area,
        unit_label=unit_label(unit), polarity_label=polarity_label(ind.polarity),
        value=shown_value(ind, r, "value", r.value),
        target=target_label(unit, ind.target, ind.polarity, ind.decimals),
        previous=shown_value(ind, r, "previous", r.previous),
        previous_period=short_label(r.previous_period) if r.previous_period else "",
        year_ago=shown_value(ind, r, "year_ago", r.year_ago),
        year_ago_period=short_label(year_ago_period),
        year_ago_shown=r.previous_period != year_ago_period,
        change=fmt_change(unit, r.change, r.is_withheld("change"), ind.decimals),
        rag=str(r.rag), rag_label=RAG_WORDS[r.rag] + r.could_be, rag_symbol=RAG_SYMBOLS[r.rag],
        direction=str(r.direction), direction_label=DIRECTION_WORDS[r.direction],
        direction_symbol=DIRECTION_SYMBOLS[r.direction],
        deep_dive=r.deep_dive is True, deep_dive_text=deep_dive_flag(r),
        consecutive_declines=r.consecutive_declines,
        breach=listed, why_listed=_why_listed(ind, r) if listed else "",
        reasons=source_error_reasons(r) + exception_reasons(ind, r, needed),
        notes=indicator_notes(ind, r, cycle, needed, public, rules.min_denominator),
        period_label=label(r.period), period_heading=_heading(label(r.period)),
        period_short=short_label(r.period),
        owner_id=ind.owner, owner_name=owner.name if show_name else owner.role,
        owner_role=owner.role,
        owner=owner_text(config, ind.owner, public),
        definition=ind.definition,
        question=committee_question(ind, r),
        chart=chart, spark=spark, chart_note=chart_note, benchmark=benchmark_view(ind, r.benchmark),
        spc=spc_view(r.spc, r.period, r.spc_withheld, rules.spc_shift, rules.spc_trend),
        trends=_trends(r), commentary=commentary,
        breakdown=_breakdown_view(ind, breakdown) if listed else None,
    )


def _commentary(config: Config, results: list[IndicatorResult], items: list[Commentary],
                public: bool) -> dict[str, list[CommentaryView]]:
    """Commentary for each indicator's current period, newest first. In the public edition
    only where the indicator's exception status is published, its rating and its deep-dive
    flag alike (or the owner marked it public): owners write when reminded of their
    exceptions, restricted ones included. (Found from outside: a published Red rating with
    a withheld deep-dive flag printed commentary written only when the flag was up.)"""
    current = {r.code: r.period for r in results}
    unknown = {r.code for r in results if r.breach is None or r.deep_dive is None}
    out: dict[str, list[CommentaryView]] = {}
    for c in sorted(items, key=lambda c: c.date, reverse=True):
        if current.get(c.indicator) != c.period:
            continue
        if public and c.indicator in unknown and not c.public:
            continue
        author = c.author
        ind = config.by_code().get(c.indicator)
        if ind and not names_owners(config, public):
            author = config.owners[ind.owner].role
        out.setdefault(c.indicator, []).append(
            CommentaryView(author, c.date.strftime("%-d %B %Y"), c.text))
    return out


def _questions(config: Config, results: list[IndicatorResult], tracked: list[Tracked],
               meeting: date | None, as_of: date, public: bool
               ) -> tuple[str, list[QuestionView]]:
    """The questions of the last meeting before this paper's, each with its answer. The
    questions were asked in public; an answer about an indicator whose exception status
    the public edition withholds is withheld as its commentary would be (`_commentary`)."""
    last = last_meeting(tracked, meeting, as_of)
    if last is None:
        return "", []
    unknown = {r.code for r in results if r.breach is None or r.deep_dive is None}
    titles = {i.code: i.title for i in config.indicators}
    out = []
    for q in (t for t in tracked if t.meeting == last):
        owner = config.owners.get(q.owner)
        named = (f"{owner.name}, {owner.role}" if not public
                 or config.briefing.publish_owner_names else owner.role) if owner else q.owner
        hidden = public and q.indicator in unknown
        answer = ANSWER_NOT_PUBLISHED if hidden else (q.answer or NO_ANSWER)
        by = "" if hidden or not q.answer else ", ".join(
            x for x in (q.answered_by if not public or config.briefing.publish_owner_names
                        else (owner.role if owner else None),
                        q.answered.strftime("%-d %B %Y") if q.answered else None) if x)
        out.append(QuestionView(q.ref, q.kind.value.capitalize(),
                                titles.get(q.indicator or "", ""), named, q.text, answer, by,
                                q.status.capitalize()))
    return last.strftime("%-d %B %Y"), out


def _trends(r: IndicatorResult) -> str:
    """'Against 3, 6 and 12 periods before: 3: improving; 6: declining; ...' in plain words."""
    parts = [f"{k}: {DIRECTION_WORDS[d].lower()}" for k, d in r.trends]
    return "Against 3, 6 and 12 periods before: " + "; ".join(parts) + "."


def _counts(rows: list[IndicatorView]) -> dict[str, int]:
    return {str(k): sum(1 for r in rows if r.rag == k) for k in RAG_ORDER}


def _summary(views: list[IndicatorView], results: dict[str, IndicatorResult],
             counts: dict[str, int], not_collected: list[str], needed: int,
             cycle: str) -> tuple[list[str], list[str]]:
    """(the summary, as emails carry it; the key points on the paper's first page, which
    leave the names and figures to the exceptions at a glance below them)."""
    total = len(views)
    line = (f"Of {total} indicators in {label(cycle)}, {counts[Rating.RED]} are red, "
            f"{counts[Rating.AMBER]} amber and {counts[Rating.GREEN]} green; "
            f"{counts[Rating.NONE]} have no target or no figure")
    withheld = counts[Rating.WITHHELD]
    if withheld:
        line += (f"; {withheld} {'rating is' if withheld == 1 else 'ratings are'} not "
                 f"published, resting on {SMALL_FIGURES}")
    lines = [line + "."]
    dives = [v for v in views if results[v.code].deep_dive is True]
    unknown = [v for v in views if results[v.code].deep_dive is None]
    points = list(lines)
    if dives:
        noun = "indicator needs" if len(dives) == 1 else "indicators need"
        lines.append(f"{len(dives)} {noun} a deep dive, having got worse in each of the last "
                     f"{needed} reporting periods: " + "; ".join(v.title for v in dives) + ".")
        points.append(f"{len(dives)} {noun} a deep dive, having got worse in each of the last "
                      f"{needed} reporting periods. The exceptions below list them with the "
                      "red indicators, and say why each is listed.")
    else:
        lines.append(no_deep_dives(needed, bool(unknown)))
        points.append(lines[-1])
    if unknown:
        lines.append(deep_dives_unknown([v.title for v in unknown]))
        points.append(lines[-1])
    reds = [v for v in views if v.rag == Rating.RED]
    figures = [f"{v.title} is {v.value} against a target of {v.target}." for v in reds[:5]]
    if len(reds) > 5:
        figures.append(f"{len(reds) - 5} further red indicators are listed under Exceptions.")
    tail = []
    if not_collected:
        noun = "indicator has" if len(not_collected) == 1 else "indicators have"
        tail.append(f"{len(not_collected)} {noun} no figure for {label(cycle)}: "
                    + "; ".join(not_collected) + ".")
    return lines + figures + tail, points + tail


def _heading(period_label: str) -> str:
    """A period as a heading or a table cell starts: 'Year to 31 March 2025'."""
    text = period_label.removeprefix("the ")
    return text[:1].upper() + text[1:]


def _long_date(d: date | None) -> str:
    return d.strftime("%-d %B %Y") if d is not None else "To be confirmed"


def _date_note(dates: PaperDates) -> str:
    if dates.from_calendar:
        return ("The date of the report is the day it is published with the agenda: five "
                "clear working days before the meeting, by the board's timetable.")
    if dates.report is not None:
        return "The date of the report was given when the paper was produced."
    return ("No meeting in the board's calendar takes this paper and no date was given, so "
            "the dates are to be confirmed by the clerk when the agenda is set.")


def _views(config: Config, figures: EditionResults, cycle: str,
           commentary: list[Commentary]) -> list[IndicatorView]:
    """Each indicator as the edition prints it, in the catalogue's order, with its
    commentary and the deep-dive actions put in place marked on its chart."""
    by_code = {r.code: r for r in figures.results}
    notes = _commentary(config, figures.results, commentary, figures.public)
    marks: dict[str, dict[str, str]] = {}
    for d in figures.deep_dives:  # the actions put in place, as the register numbers them
        for n, a in enumerate(d.actions, 1):
            if a.impact is not None:
                marks.setdefault(d.indicator, {})[a.impact.period] = f"A{n}"
    return [_view(ind, by_code[ind.code], config, cycle, figures.public,
                  notes.get(ind.code, []), marks.get(ind.code),
                  figures.breakdowns.get(ind.code))
            for ind in config.indicators]


def _exceptions(views: list[IndicatorView]) -> list[IndicatorView]:
    """The indicators in breach, reddest first and, within a rating, first those whose deep
    dive is due: the order the exceptions report discusses them."""
    rank = {str(k): i for i, k in enumerate(RAG_ORDER)}
    return sorted((v for v in views if v.breach), key=lambda v: (rank[v.rag], not v.deep_dive))


def _not_collected(views: list[IndicatorView], by_code: dict[str, IndicatorResult]
                   ) -> list[str]:
    """The indicators with no figure this cycle that no one withheld and no error in the
    source took away: not collected at all, which the summary says by name."""
    return [v.title for v in views
            if by_code[v.code].value is None and not by_code[v.code].is_withheld("value")
            and by_code[v.code].source_error is None]


def _areas(views: list[IndicatorView]) -> list[AreaView]:
    """The indicators by service area, in the catalogue's order, each area with its
    counts and whether any of its indicators prints a year-ago figure."""
    areas: dict[str, list[IndicatorView]] = {}
    for v in views:
        areas.setdefault(v.service_area, []).append(v)
    return [AreaView(name, anchor(name), vs, _counts(vs), any(v.year_ago_shown for v in vs))
            for name, vs in areas.items()]


def build_context(config: Config, figures: EditionResults, cycle: str,
                  commentary: list[Commentary] | None = None,
                  dates: PaperDates | None = None,
                  questions: list[Tracked] | None = None) -> BriefingContext:
    """The context of one edition, from that edition's results only. `dates` come from
    the meeting calendar or the caller (`tasks.settings.calendar.paper_dates`), never the clock."""
    dates = dates or PaperDates(None, None, False)
    b, public = config.briefing, figures.public
    by_code = {r.code: r for r in figures.results}
    views = _views(config, figures, cycle, commentary or [])
    exceptions = _exceptions(views)
    not_collected = _not_collected(views, by_code)
    counts = _counts(views)
    summary, key_points = _summary(views, by_code, counts, not_collected,
                                   b.rules.consecutive_declines, cycle)
    dq = [ProblemView(p.severity.value, _where(p), p.message)
          for p in sort_problems(figures.problems)]
    as_of = dates.report or _cycle_end(cycle)
    dives = [_deep_dive_view(config, d, as_of, public) for d in figures.deep_dives]
    asked_at, asked = _questions(config, figures.results, questions or [], dates.meeting,
                                 as_of, public)
    return BriefingContext(
        title=b.report_title, authority_name=b.authority.name, authority_code=b.authority.code,
        committee=b.committee, cycle=cycle, cycle_label=label(cycle),
        cycle_title=_heading(label(cycle)),
        cycle_short=short_label(cycle),
        meeting_date=_long_date(dates.meeting), report_date=_long_date(dates.report),
        report_date_iso=dates.report.isoformat() if dates.report else "",
        report_date_note=_date_note(dates),
        contact_name=b.contact.name, contact_role=b.contact.role,
        contact_phone=b.contact.phone, contact_email=b.contact.email,
        counts=counts, total=len(views),
        summary=summary, key_points=key_points,
        exceptions=exceptions,
        areas=_areas(views),
        data_quality=dq, not_collected=not_collected,
        rule_periods=b.rules.consecutive_declines, suppression_note=SUPPRESSION_NOTE,
        has_benchmarks=any(v.benchmark is not None for v in views),
        edition=figures.edition.value,
        edition_label=EDITION_LABELS[figures.edition],
        missing_commentary=[f"{v.title} ({v.owner_role})" for v in exceptions
                            if not v.commentary],
        deep_dives_open=[v for v in dives if v.status != STATUS_WORDS[Status.CLOSED]],
        deep_dives_closed=[v for v in dives if v.status == STATUS_WORDS[Status.CLOSED]],
        overdue_actions=[f"{v.title}: {a.description} ({a.owner}), due {a.due}"
                         for v in dives for a in v.actions if a.overdue],
        deep_dive_note=PUBLIC_DEEP_DIVE_NOTE if public else "",
        impact_rule=IMPACT_RULE,
        data_quality_printed=min(len(dq), b.limits.findings_per_paper),
        data_quality_more=findings_left_out(dq, b.limits.findings_per_paper,
                                            figures.edition),
        questions_meeting=asked_at, questions=asked,
    )


def findings_left_out(dq: list[ProblemView], printed: int, edition: Edition) -> str:
    """The line under a paper's data-quality table when it prints only the first `printed`
    findings (errors first): how many more, of which kinds, and where they all are. 5,000
    stray files in the exports made a paper of 217 pages."""
    rest = dq[printed:]
    if not rest:
        return ""
    kinds = Counter(p.severity for p in rest)
    counted = ", ".join(f"{kinds[k]:,} {KIND_WORDS[k]}" for k in ("error", "warning", "info")
                        if kinds[k])
    return (f"{len(rest):,} more findings are not printed here ({counted}): this paper "
            f"prints the first {printed:,} (limits.findings_per_paper in briefing.yaml). The "
            f"Data quality sheet of this edition's workbook, briefing-{edition.value}.xlsx "
            f"beside this paper, lists all {len(dq):,}.")


KIND_WORDS = {"error": "errors", "warning": "warnings", "info": "for information"}


PUBLIC_DEEP_DIVE_NOTE = ("Deep dives into indicators that include, or once included, figures "
                         "about small numbers of children, and their impact, are given in the "
                         "restricted edition only.")
IMPACT_RULE = (f"Impact compares the indicator's mean over up to {IMPACT_PERIODS} periods "
               f"before the period an action was put in place with up to {IMPACT_PERIODS} "
               f"after it. With fewer than {MIN_PERIODS_AFTER} figures since, it is too early "
               "to tell; otherwise it has improved (or got worse) when the means differ by "
               "more than the indicator's smallest change that counts and more than twice "
               "the difference chance alone gives, and shows no change yet within that.")


def _cycle_end(cycle: str) -> date:
    """The last day of the reporting period."""
    year, month0 = divmod(end_month(cycle) + 1, 12)
    return date.fromordinal(date(year, month0 + 1, 1).toordinal() - 1)


def _deep_dive_view(config: Config, d: DeepDiveResult, as_of: date,
                    public: bool) -> DeepDiveView:
    """One deep dive in words: how long it has been open, its actions and their impact."""
    ind = config.by_code()[d.indicator]

    def who(owner_id: str) -> str:
        return owner_text(config, owner_id, public)

    unit = unit_of_time(d.opened)
    age = ("opened this " + unit[:-1] if d.age == 0 else
           f"open for {d.age} {unit if d.age != 1 else unit[:-1]}")
    actions = []
    for n, a in enumerate(d.actions, 1):
        if a.impact is not None:
            impact = verdict_text(ind, a.impact)
            if a.impact.special_since:
                impact += f"; SPC shows special cause {a.impact.special_since} since"
        elif a.done is not None:
            impact = "impact figures withheld in the public edition"
        else:
            impact = "measured once it is done"  # beside "Done: Not yet"
        actions.append(ActionView(n, a.description, who(a.owner), _long_date(a.due),
                                  _long_date(a.done) if a.done else "",
                                  a.done is None and a.due < as_of
                                  and d.status is not Status.CLOSED, impact))
    done = [v for v in actions if v.done]
    outcome = ""
    if d.status is Status.CLOSED:
        outcome = (f"Outcome: {done[-1].impact}." if done
                   else "Outcome: no action was put in place with a date to judge it by.")
    return DeepDiveView(
        code=d.indicator, title=ind.title, opened=label(d.opened),
        age=age if d.status is not Status.CLOSED else "",
        status=STATUS_WORDS[d.status], owner=who(d.owner),
        closed=_long_date(d.closed) if d.closed else "", findings=d.findings or "",
        actions=actions, outcome=outcome, opened_now=d.opened_now,
        pack=pack_name(config.briefing.authority.code, d.indicator, d.opened)
        if d.opened_now and d.status is not Status.CLOSED else "")


def _where(p: Problem) -> str:
    parts = [p.file]
    if p.row is not None:
        parts.append(f"row {p.row}")
    if p.column:
        parts.append(p.column if names_its_place(p) else f"column {p.column}")
    return ", ".join(parts)
