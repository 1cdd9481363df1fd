"""The coarse steps of a monthly run as plain functions; `tasks.steps` makes them Prefect tasks.

Order matters for "nothing lost": everything is read and checked before the first write,
the store is written in one transaction, files are renamed into place, and mail goes
last, through the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import pandas as pd

from tasks.adapters.mail import Mailer
from tasks.adapters.outputs import (
    RESTRICTED_DIR,
    OutputUnwritable,
    cycle_dir,
    in_set,
    start_staging,
    switch_in,
    write_bytes_atomic,
    write_marker,
    write_text_atomic,
)
from tasks.analysing.benchmarks import compare_with_others, not_compared
from tasks.analysing.breakdowns import check_breakdowns, check_parts, empty_parts
from tasks.analysing.compare import analyse
from tasks.analysing.deep_dives import (
    DeepDive,
    DeepDiveEntry,
    pack_name,
    read_deep_dives,
    update_register,
)
from tasks.analysing.results import spc_result
from tasks.analysing.spc import analyse_spc
from tasks.checking.plausibility import implausible_jumps
from tasks.checking.precision import published_as_read, with_source_precision
from tasks.checking.reach import reach
from tasks.checking.validate import (
    check_coverage,
    check_records,
    choose_figures,
    gaps,
    mark_withheld,
    no_figures,
    with_faults,
    withheld_details,
)
from tasks.delivering.notify import Delivery, deliver, plan_notices
from tasks.delivering.summary import build_summary
from tasks.editions.disclosure import (
    EditionResults,
    disclosed,
    edition_results,
    revision_problems,
    small_breakdowns,
    small_figures,
    uncounted_rates,
    with_population,
)
from tasks.editions.linked import lookalikes, with_denominators
from tasks.presenting.context import BriefingContext, build_context
from tasks.presenting.packs import build_pack, opened_now, render_pack
from tasks.presenting.render import PdfWriters, render_html
from tasks.presenting.return_workbooks import owner_returns, return_workbook
from tasks.presenting.spreadsheets import briefing_workbook, open_data_csv
from tasks.reading.authorities import resolve_authority, with_authority
from tasks.reading.commentary import Commentary, read_commentary
from tasks.reading.files import Limits
from tasks.reading.ingest import read_exports
from tasks.reading.metadata import check_metadata
from tasks.reading.owner_returns import (
    merge_commentary,
    merge_deep_dives,
    read_returns,
    return_key,
    returns_folders,
)
from tasks.reading.problems import (
    CELL,
    CONTESTED_TEXT,
    DISAGREE,
    DUPLICATE,
    Problem,
    Severity,
    blocking,
    errors,
)
from tasks.reading.questions import (
    Answer,
    QuestionEntry,
    Tracked,
    merge_answers,
    read_questions,
    track,
)
from tasks.reading.sources import load_sources
from tasks.returns.quality import qualities, rule_problems, with_quality
from tasks.returns.reading import ReturnRead, ReturnsRead, read_child_returns, start_checks
from tasks.returns.workbook import QUALITY_BOOK, quality_workbook
from tasks.settings.calendar import PaperDates, paper_dates, report_date_refusal
from tasks.settings.config import Config, ConfigError, Kept, run_config
from tasks.settings.environment import Settings
from tasks.settings.formatting import Edition
from tasks.settings.periods import (
    PER_YEAR,
    current_period,
    end_month,
    frequency_of,
    is_period,
    label,
)
from tasks.store.history import HistoryStore, cycle_lock, find_revisions, store_for, stored_in

PDF_NAME = "briefing.pdf"
HTML_NAME = "briefing.html"
SUMMARY_NAME = "summary.json"
OPEN_DATA_NAME = "indicators-public.csv"  # the public indicator table as open data


@dataclass
class Inputs:
    config: Config
    cycle: str
    records: pd.DataFrame  # usable canonical records, one per indicator and period
    problems: list[Problem]
    files: list[str]
    benchmarks: pd.DataFrame = field(default_factory=pd.DataFrame)
    neighbours: dict[str, list[str]] = field(default_factory=dict)
    commentary: list[Commentary] = field(default_factory=list)
    # Figures withheld for an error in the source: (indicator, period) -> where the error is.
    withheld: dict[tuple[str, str], str] = field(default_factory=dict)
    # Any error stops the run (--strict, rules.strict), not only errors about a whole file.
    strict: bool = False
    deep_dives: list[DeepDiveEntry] = field(default_factory=list)  # deep_dives.yaml
    # Parts of indicators' figures from breakdown columns (tasks.analysing.breakdowns.PART_COLUMNS).
    breakdowns: pd.DataFrame = field(default_factory=empty_parts)
    # Figures the public edition leaves out whatever their values
    # (tasks.checking.reconcile.contested).
    contested: set[tuple[str, str]] = field(default_factory=set)
    # The withheld figures' places with what their cells held and should have (the
    # restricted edition's wording; the public edition names the place alone).
    withheld_detail: dict[tuple[str, str], str] = field(default_factory=dict)
    # The committee's questions (questions.yaml or .xlsx) and the answers in returns.
    questions: list[QuestionEntry] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    # The child-level returns read (tasks.returns): their figures are among `records`;
    # DfE's rules over them are started when the run begins and read when it renders.
    child_returns: list[ReturnRead] = field(default_factory=list)
    # The key owners' returns are signed with (tasks.reading.owner_returns.return_key).
    return_key: bytes | None = None

    @property
    def public_withheld(self) -> dict[tuple[str, str], str]:
        """The figures the public edition withholds, and why, as it may say it."""
        out = dict(self.withheld)
        out.update({k: CONTESTED_TEXT for k in self.contested})
        return out

    @property
    def ok(self) -> bool:
        """Whether the run may go on: no error about a whole file (and none at all when
        strict); a fault in one cell withholds its figure."""
        return not blocking(self.problems, self.strict)


@dataclass
class Analysed:
    history: pd.DataFrame
    analysis: pd.DataFrame
    revisions: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    benchmarks: pd.DataFrame = field(default_factory=pd.DataFrame)
    spc: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The deep-dive register after this cycle, deep_dives.yaml's entry for each, and the
    # deep dives this run opened (tasks.analysing.deep_dives).
    register: list[DeepDive] = field(default_factory=list)
    register_entries: dict[tuple[str, str], DeepDiveEntry] = field(default_factory=dict)
    opened: list[DeepDive] = field(default_factory=list)
    # The same, without the figures only the public edition withholds (Inputs.contested);
    # None when there are none.
    public: Analysed | None = None
    # Breakdowns: this cycle's parts over the stored ones (a figure's parts as this cycle
    # gives them replace the stored), so the period before is there to compare with.
    parts: pd.DataFrame = field(default_factory=empty_parts)
    # Figures earlier runs found small (the store's `small_figures`), and those this run
    # finds small or contested, which it stores: what the register decided on them stays
    # out of the public edition for good (tasks.editions.disclosure.edition_results).
    remembered: set[tuple[str, str]] = field(default_factory=set)
    small: set[tuple[str, str]] = field(default_factory=set)
    # The committee's questions after this cycle (tasks.reading.questions.track), to store.
    questions: list[Tracked] = field(default_factory=list)
    # Those remembered figures whose value comes from the store, no export giving them
    # again: a linked one stays hidden (tasks.editions.linked).
    carried: set[tuple[str, str]] = field(default_factory=set)
    # The public edition's analysis (tasks.editions.disclosure.disclosed): the rules over
    # every value each small figure in `history` could hold, and those small figures.
    # Worked out here, once, for the analysis the public edition prints (this one, or
    # `public`); None on the other.
    disclosed: pd.DataFrame | None = None
    hidden: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Paper:
    """One edition of the briefing."""

    context: BriefingContext
    html: str
    pdf: bytes


@dataclass
class Rendered:
    """The editions written by one run; `context`, `html` and `pdf` are the public
    edition's. `contexts` holds both editions' contexts, written or not."""

    editions: dict[Edition, Paper]
    contexts: dict[Edition, BriefingContext] = field(default_factory=dict)
    figures: dict[Edition, EditionResults] = field(default_factory=dict)
    # Each written edition's workbook, and the public table as CSV (tasks.presenting.spreadsheets).
    sheets: dict[Edition, bytes] = field(default_factory=dict)
    open_data: bytes | None = None
    # Deep-dive packs for the deep dives that opened this cycle (tasks.presenting.packs),
    # restricted:
    # file name (without suffix) -> (owner id, HTML, PDF).
    packs: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    # Each owner's return workbook (tasks.presenting.return_workbooks), restricted: owner id ->
    # (bytes, file name).
    returns: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # The returns' data-quality workbook, by child id: restricted, written by a run that
    # writes the restricted edition (tasks.returns.workbook).
    quality_book: bytes | None = None

    @property
    def public(self) -> Paper:
        """The public edition, or the only one produced."""
        return self.editions.get(Edition.PUBLIC) or next(iter(self.editions.values()))

    @property
    def restricted(self) -> Paper:
        return self.editions.get(Edition.RESTRICTED) or next(iter(self.editions.values()))

    @property
    def context(self) -> BriefingContext:
        return self.public.context

    @property
    def html(self) -> str:
        return self.public.html

    @property
    def pdf(self) -> bytes:
        return self.public.pdf


class NoFiguresForCycle(ConfigError):
    """The cycle asked for has no figures at all (a typo in --cycle): a usage error."""


# A run's exports as validate_exports read and checked them, kept for the run itself
# (tasks.settings.config.Kept).
READ: Kept[Inputs] = Kept()


def validate_exports(config_dir: Path, exports_dir: Path, cycle: str | None = None, *,
                     today: date, authority: str | None = None,
                     allow_empty: bool = True, strict: bool | None = None,
                     limits: Limits | None = None, keep: bool = False) -> Inputs:
    """Read config and exports and check them (_validate_exports), once per run: with
    `keep`, what was read is kept for the run (the command's checks before the engine
    starts, the run's name), which takes it instead of reading the folders again."""
    folders = (Path(config_dir), Path(exports_dir))
    key = (*(f.resolve() for f in folders), cycle, today, authority, allow_empty, limits)
    held = READ.get(key, folders, take=not keep)
    if held is not None:
        return replace(held, strict=held.config.briefing.rules.strict if strict is None
                       else strict)
    inputs = _validate_exports(*folders, cycle, today=today, authority=authority,
                               allow_empty=allow_empty, strict=strict, limits=limits)
    return READ.keep(key, folders, inputs) if keep else inputs


def _validate_exports(config_dir: Path, exports_dir: Path, cycle: str | None = None, *,
                      today: date, authority: str | None = None,
                      allow_empty: bool = True, strict: bool | None = None,
                      limits: Limits | None = None) -> Inputs:
    """Read config and exports and check them; changes nothing anywhere, but for making the
    config folder's `.return-key` the first time (tasks.reading.owner_returns). `today` (the
    entry point's clock) says which periods have ended: the latest of them is the cycle
    when none is given, and figures for later ones are findings.

    `authority` (a DfE code or name) reports on another authority than `briefing.yaml`
    names, looked up in the published files among the exports. Without `allow_empty`, a
    cycle asked for that has no figures at all raises NoFiguresForCycle. `strict` (default
    `rules.strict`) makes every error stop the run; otherwise an error in one cell withholds
    that figure and the run goes on (Inputs.ok, Inputs.withheld). `limits`: rows and
    cells per file (BRIEFING_MAX_*, from the entry point's settings; None: the defaults).
    """
    config = run_config(Path(config_dir))
    sources = load_sources(Path(config_dir))
    if authority:
        config = with_authority(config, resolve_authority(Path(exports_dir), sources,
                                                          authority, config, limits))
    ingested = read_exports(Path(exports_dir), sources, config.briefing.authority.code,
                            {i.code: i.frequency for i in config.indicators}, limits)
    records = with_denominators(with_population(ingested.records, config), config)
    problems = list(ingested.problems)
    today_period = current_period(today)
    if cycle is None:
        now = end_month(today_period)
        past = [p for p in records["period"].unique() if end_month(p) <= now]
        # The latest period to have ended; a month before a year ending that month.
        cycle = (max(past, key=lambda p: (end_month(p), PER_YEAR[frequency_of(p)]))
                 if past else today_period)
    elif not is_period(cycle):
        raise ConfigError(f"--cycle must be a period such as 2024-10 (a month) or 2025 (a "
                          f"reporting year), not {cycle!r}")
    # A return's figures join a cycle the exports brief: a return computes a figure for
    # any cycle asked, so a cycle no export has (a typo) stays "no figures for the cycle".
    briefed = bool((records["period"] == cycle).any())
    child = (read_child_returns(Path(exports_dir), sources, config, cycle, limits)
             if briefed else ReturnsRead(pd.DataFrame(), [], [], {}))
    problems += child.problems
    if not child.records.empty:
        records = pd.concat([records, with_population(child.records, config)],
                            ignore_index=True)
    headers = {**ingested.headers, **child.headers}
    faults: dict[object, str] = {}
    problems += check_records(records, config, cycle, today_period, headers, faults)
    records = with_faults(records, faults)
    # Errors in the exports say more than "no figures" (their figures may be what is wrong).
    if (not allow_empty and not errors(problems)
            and no_figures(records, config, cycle, today_period)):
        reaches = reach(Path(exports_dir), ingested.files, sources, config, records, limits)
        raise NoFiguresForCycle(str(no_figures(records, config, cycle, today_period,
                                               reaches)))
    chosen = choose_figures(records, config, cycle, sources.priority, headers)
    detail = withheld_details(problems + chosen.problems, chosen.withheld)
    problems = mark_withheld(problems + chosen.problems, chosen.withheld)
    problems += gaps(records, chosen.records, config, cycle)
    problems += check_metadata(ingested.metadata, config)
    problems += uncounted_rates(chosen.records, config)
    problems += lookalikes(config, chosen.records)
    problems += check_coverage(records[records["error"].isna()], config, cycle,
                               set(chosen.withheld))
    commentary, comment_problems = read_commentary(Path(exports_dir))
    problems += comment_problems
    deep_dives, dive_problems = read_deep_dives(Path(config_dir), config, cycle)
    problems += dive_problems
    # Owners' returns, used as the two YAML files are (tasks.reading.owner_returns).
    key = return_key(Path(config_dir))  # signs this run's returns, checks those back
    returned = read_returns(returns_folders(Path(config_dir), Path(exports_dir), config),
                            config, cycle, key, today)
    commentary, merged = merge_commentary(commentary, returned)
    deep_dives, merged_dives = merge_deep_dives(deep_dives, returned)
    problems += returned.problems + merged + merged_dives
    # The committee's questions, and the owners' answers from their returns.
    questions, question_problems = read_questions(Path(config_dir), config)
    answers, merged_answers = merge_answers(
        questions, returned.answers,
        {key[1]: where for key, where in returned.places.items() if key[0] == "answer"},
        config)
    problems += question_problems + merged_answers
    parts, part_problems = check_parts(ingested.breakdowns, config)
    problems += part_problems
    # Printed as precisely as the source gives each figure (tasks.checking.precision).
    config = with_source_precision(config, chosen.records, parts, published_as_read(sources))
    problems += check_breakdowns(parts, chosen.records, config,
                                 small_breakdowns(parts, chosen.records, config))
    strict = config.briefing.rules.strict if strict is None else strict
    files = ingested.files + [r.name_of(p) for r in child.returns for p in r.files]
    return Inputs(config, cycle, chosen.records, problems, files,
                  ingested.benchmarks, ingested.neighbours, commentary, chosen.withheld,
                  strict, deep_dives, parts, chosen.contested, detail, questions, answers,
                  child.returns, key)


def compare_with_history(inputs: Inputs, store: HistoryStore) -> Analysed:
    """Merge this run's records over the stored history and apply the committee's rules,
    and update the deep-dive register; again without the contested figures, for the public
    edition, when there are any (the register is the full analysis's)."""
    authority = inputs.config.briefing.authority.code
    stored = with_denominators(with_population(store.history(authority), inputs.config),
                               inputs.config)
    analysed = _analyse(inputs, inputs.records, stored, set(inputs.withheld))
    firing = [str(c) for c, d in zip(analysed.analysis["code"],
                                     analysed.analysis["deep_dive"], strict=True) if bool(d)]
    register, entries, dive_problems = update_register(store.deep_dives(authority), firing,
                                                       inputs.deep_dives, inputs.config,
                                                       inputs.cycle)
    parts = merge_parts(inputs.breakdowns, store.parts(authority), inputs.records,
                        inputs.cycle)
    remembered = store.small_figures(authority)
    carried = _carried(remembered, inputs.records)
    shown, hidden = (None, small_figures(analysed.history, inputs.config, carried)) \
        if inputs.contested else disclosed(analysed.history, inputs.config, inputs.cycle,
                                           carried)
    small = hidden | inputs.contested
    analysed = replace(analysed, problems=analysed.problems + dive_problems,
                       register=register, register_entries=entries,
                       opened=opened_now(register, inputs.config, inputs.cycle), parts=parts,
                       remembered=remembered, small=small, carried=carried, disclosed=shown,
                       hidden=hidden if shown is not None else set(),
                       questions=track(inputs.questions, inputs.answers,
                                       store.questions(authority), inputs.config))
    if inputs.contested:
        left_out = set(inputs.withheld) | inputs.contested
        key = pd.MultiIndex.from_frame(inputs.records[["indicator", "period"]])
        public = _analyse(inputs, inputs.records[~key.isin(list(left_out))], stored, left_out)
        public_shown, public_hidden = disclosed(public.history, inputs.config, inputs.cycle,
                                                carried)
        analysed.public = replace(public, problems=public.problems + dive_problems,
                                  register=register, register_entries=entries,
                                  opened=analysed.opened, parts=parts,
                                  remembered=remembered, small=small, carried=carried,
                                  questions=analysed.questions,
                                  disclosed=public_shown, hidden=public_hidden)
    return analysed


def _carried(remembered: set[tuple[str, str]],
             records: pd.DataFrame) -> set[tuple[str, str]]:
    """The remembered figures no export gives a value for again: their value is the
    store's (what an earlier run hid, as it saw it), or none (left out, marked `c`, an
    error in the cell), and a figure holding them still holds what was hidden
    (tasks.editions.linked)."""
    if not remembered:
        return set()
    known = records[records["value"].notna()]
    return remembered - set(zip(known["indicator"].astype(str),
                                known["period"].astype(str), strict=True))


def merge_parts(current: pd.DataFrame, stored: pd.DataFrame,
                records: pd.DataFrame | None = None, cycle: str = "") -> pd.DataFrame:
    """This cycle's parts, and the stored parts of every figure this cycle does not break
    down itself; less the parts an earlier run of this same cycle stored for a figure
    `records` now give without them (a re-run's export no longer breaks it down), as
    tasks.store.history's commit_cycle will take them away."""
    if records is not None and not records.empty and not stored.empty:
        figures = pd.MultiIndex.from_frame(records[["indicator", "period"]])
        stale = ((stored["file"] == stored_in(cycle))
                 & pd.MultiIndex.from_frame(stored[["indicator", "period"]]).isin(figures))
        stored = stored[~stale]
    if stored.empty:
        return current
    if current.empty:
        return stored
    given = pd.MultiIndex.from_frame(current[["indicator", "period"]])
    older = stored[~pd.MultiIndex.from_frame(stored[["indicator", "period"]]).isin(given)]
    return pd.concat([current, older], ignore_index=True)


def _analyse(inputs: Inputs, records: pd.DataFrame, stored: pd.DataFrame,
             left_out: set[tuple[str, str]]) -> Analysed:
    if left_out:  # a figure withheld now is not shown from an earlier run either
        key = pd.MultiIndex.from_frame(stored[["indicator", "period"]])
        stored = stored[~key.isin(list(left_out))]
    revisions = find_revisions(stored, records)
    problems = revision_problems(revisions, inputs.cycle)
    keys = ["indicator", "period"]
    merged = with_denominators(
        pd.concat([records, stored], ignore_index=True).drop_duplicates(keys), inputs.config)
    analysis = analyse(merged, inputs.config, inputs.cycle)
    problems += implausible_jumps(merged, analysis, inputs.config)
    others = compare_with_others(analysis, inputs.benchmarks, inputs.neighbours, inputs.config)
    problems += [Problem(Severity.INFO, "(published files)", None, None,
                         f"{code} is a count: not compared with other authorities (England, "
                         "region, neighbours, rank), as no population makes it a rate per "
                         "10,000 children (sources.yaml population:)", code)
                 for code in not_compared(inputs.benchmarks, inputs.config)]
    spc = analyse_spc(merged, analysis, inputs.config)
    return Analysed(merged, analysis, revisions, problems, others, spc)


def edition_figures(inputs: Inputs, analysed: Analysed, edition: Edition) -> EditionResults:
    """What one edition may print: every figure, or the public edition's
    (tasks.editions.disclosure),
    each current figure withheld for an error in the source saying where that error is.

    The public edition is worked out without the contested figures, and says nothing of
    the records behind them but the one wording (CONTESTED_TEXT)."""
    if edition is Edition.PUBLIC and inputs.contested:
        public = analysed.public or analysed
        problems = [p for p in inputs.problems
                    if not ((p.indicator, p.period) in inputs.contested
                            and p.kind in (CELL, DUPLICATE, DISAGREE))]
        # Whether the rule fired, and so the register, may rest on a contested figure.
        codes = {code for code, _ in inputs.contested}
        register = [d for d in public.register if d.indicator not in codes]
        entries = {k: e for k, e in public.register_entries.items() if k[0] not in codes}
        figures = edition_results(edition, inputs.config, inputs.cycle, public.history,
                                  _printed(public, edition), public.spc, public.benchmarks,
                                  problems + public.problems, public.revisions,
                                  register, entries, public.parts, public.remembered,
                                  public.hidden)
        notes = [Problem(Severity.WARNING, "(exports)", None, None,
                         f"{code} {label(period)}: not published in this edition: "
                         f"{CONTESTED_TEXT}", code, period=period)
                 for code, period in sorted(inputs.contested)]
        figures = replace(figures, problems=notes + figures.problems)
        return with_child_returns(with_source_errors(figures, inputs.public_withheld), inputs)
    figures = edition_results(edition, inputs.config, inputs.cycle, analysed.history,
                              _printed(analysed, edition), analysed.spc, analysed.benchmarks,
                              inputs.problems + analysed.problems, analysed.revisions,
                              analysed.register, analysed.register_entries,
                              analysed.parts, analysed.remembered,
                              analysed.hidden if edition is Edition.PUBLIC else None)
    # The public edition names the place alone: the cell may be about a few children.
    said = inputs.withheld if edition is Edition.PUBLIC else inputs.withheld_detail
    return with_child_returns(with_source_errors(figures, said or inputs.withheld), inputs)


def with_child_returns(figures: EditionResults, inputs: Inputs) -> EditionResults:
    """Each figure computed from a return with its data quality beside it, and DfE's
    rules' findings among the edition's data-quality findings (waiting for the rules)."""
    if not inputs.child_returns:
        return figures
    figures = with_quality(figures, qualities(inputs.child_returns), inputs.config,
                           inputs.cycle)
    return replace(figures, problems=figures.problems
                   + rule_problems(inputs.child_returns, figures.edition))


def _printed(analysed: Analysed, edition: Edition) -> pd.DataFrame:
    """The analysis an edition prints: the full one, or the public edition's, worked out
    by compare_with_history (never again here)."""
    if edition is Edition.RESTRICTED:
        return analysed.analysis
    if analysed.disclosed is None:
        raise ValueError("the public edition's analysis is worked out by "
                         "compare_with_history, for the analysis it prints")
    return analysed.disclosed


def with_source_errors(figures: EditionResults,
                       withheld: dict[tuple[str, str], str]) -> EditionResults:
    """The results with `source_error` set where the current figure was withheld."""
    if not any((r.code, r.period) in withheld for r in figures.results):
        return figures
    return replace(figures, results=[
        replace(r, source_error=withheld[(r.code, r.period)])
        if (r.code, r.period) in withheld else r for r in figures.results])


def dates_for(config: Config, cycle: str, report_date: date | None = None) -> PaperDates:
    """The cover's dates: the meeting whose paper reports this cycle, by the calendar in
    briefing.yaml, and the date of the report (given, or that meeting's publication day).
    A given date out of range (tasks.settings.calendar.report_date_refusal) is a ValueError: the
    command refuses it before the engine starts; a deployment's run stops here, before
    anything is written."""
    if report_date is not None and (why := report_date_refusal(report_date, cycle)):
        raise ValueError(f"report_date {why}")
    b = config.briefing
    return paper_dates(b.meetings, cycle, report_date, b.papers.clear_days,
                       b.papers.commentary_working_days, b.papers.data_ready_days)


def render_briefing(inputs: Inputs, analysed: Analysed, generated_at: datetime,
                    editions: list[Edition] | None = None, report_date: date | None = None,
                    mail: bool = True) -> Rendered:
    """Both editions' contexts (every message is planned from them), and the HTML and PDF
    of those asked for: the editions not asked for are not written, and whoever should
    receive them waits for a run that writes them. With `mail` false (no messages to
    plan) only the editions asked for, and the public figures, are worked out. The paper's
    dates come from the meeting calendar or `report_date`, never from the clock."""
    wanted = editions or list(Edition)
    needed = list(Edition) if mail else [e for e in Edition
                                         if e in wanted or e is Edition.PUBLIC]
    dates = dates_for(inputs.config, inputs.cycle, report_date)
    with PdfWriters(len(wanted)) as writers:  # helpers start now, while contexts are built
        figures = {e: edition_figures(inputs, analysed, e) for e in needed}
        contexts = {e: build_context(inputs.config, figures[e], inputs.cycle,
                                     inputs.commentary, dates, analysed.questions)
                    for e in needed}
        htmls = {e: render_html(contexts[e]) for e in Edition if e in wanted}
        sheets = {e: briefing_workbook(inputs.config, figures[e], inputs.cycle, generated_at)
                  for e in htmls}
        open_data = (open_data_csv(inputs.config, figures[Edition.PUBLIC], inputs.cycle)
                     if Edition.PUBLIC in htmls else None)
        # Restricted, like the edition: written only by a run that writes that edition.
        packs = (deep_dive_packs(inputs, analysed, contexts.get(Edition.RESTRICTED))
                 if Edition.RESTRICTED in htmls else {})
        returns = (owners_workbooks(inputs, analysed, figures[Edition.RESTRICTED],
                                    contexts[Edition.RESTRICTED], generated_at)
                   if Edition.RESTRICTED in htmls else {})
        pdfs = writers.write(list(htmls.values()) + [html for _, html in packs.values()])
    book = (quality_workbook(inputs.child_returns, inputs.config.briefing.authority.code,
                             inputs.cycle, generated_at)
            if Edition.RESTRICTED in htmls and inputs.child_returns else None)
    papers = dict(zip(htmls, pdfs, strict=False))
    pack_pdfs = pdfs[len(htmls):]
    return Rendered({e: Paper(contexts[e], htmls[e], pdf) for e, pdf in papers.items()},
                    contexts, figures, sheets, open_data,
                    {name: (owner, html, pdf) for (name, (owner, html)), pdf
                     in zip(packs.items(), pack_pdfs, strict=True)}, returns, book)


def owners_workbooks(inputs: Inputs, analysed: Analysed, figures: EditionResults,
                     ctx: BriefingContext, generated_at: datetime
                     ) -> dict[str, tuple[bytes, str]]:
    """Each owner's return workbook for the cycle (tasks.presenting.return_workbooks): owner id ->
    (bytes, file name). Restricted: the figures are the restricted edition's."""
    periods = {r.code: r.period for r in figures.results}
    asked = owner_returns(inputs.config, ctx.exceptions, analysed.register,
                          analysed.register_entries, inputs.commentary, inputs.cycle, periods,
                          analysed.questions)
    return {r.owner: (return_workbook(r, generated_at, inputs.return_key), r.file_name)
            for r in asked}


def deep_dive_packs(inputs: Inputs, analysed: Analysed, ctx: BriefingContext | None
                    ) -> dict[str, tuple[str, str]]:
    """The HTML of a pack for each deep dive that opened this cycle: file name (without
    suffix) -> (owner id, HTML). None without the restricted context (no mail planned)."""
    if ctx is None or not analysed.opened:
        return {}
    spc = {str(r["code"]): spc_result(r) for _, r in analysed.spc.iterrows()}
    code = inputs.config.briefing.authority.code
    out = {}
    for d in analysed.opened:
        pack = build_pack(inputs.config, d, ctx, analysed.history, spc.get(d.indicator),
                          analysed.parts, inputs.commentary)
        # Attached to the message of the indicator's owner now (tasks.delivering.notify plans by
        # it).
        owner = inputs.config.by_code()[d.indicator].owner
        out[pack_name(code, d.indicator, d.opened, "")] = (owner, render_pack(pack))
    return out


def store_and_publish(inputs: Inputs, analysed: Analysed, rendered: Rendered,
                      store: HistoryStore, out_dir: Path) -> Path:
    """Store the cycle (one transaction), then write the set of files into a staging
    folder beside the cycle's (tasks.adapters.outputs): nothing a reader sees changes until the
    set is complete and `publish` switches it in. Returns the staging folder."""
    authority = inputs.config.briefing.authority.code
    store.commit_cycle(authority, inputs.cycle, inputs.records, analysed.revisions, inputs.files,
                       inputs.breakdowns, small=analysed.small)
    store.save_deep_dives(authority, analysed.register)
    store.save_questions(authority, analysed.questions)
    PROGRESS.stored = True
    staging, notes = start_staging(cycle_dir(out_dir, authority, inputs.cycle))
    PROGRESS.notes += notes
    PROGRESS.staging = staging
    try:
        _write_set(rendered, staging)
    except OSError as exc:
        raise OutputUnwritable(exc.errno, f"{staging}: the cycle's set could not be "
                                          f"written ({exc.strerror})") from None
    return staging


def _write_set(rendered: Rendered, staging: Path) -> None:
    """Each file into its side of the set: public (what may be published) or restricted."""
    for edition, paper in rendered.editions.items():
        name = f"briefing-{edition.value}"
        write_text_atomic(in_set(staging, f"{name}.html"), paper.html)
        write_bytes_atomic(in_set(staging, f"{name}.pdf"), paper.pdf)
        if edition in rendered.sheets:
            write_bytes_atomic(in_set(staging, f"{name}.xlsx"), rendered.sheets[edition])
    if rendered.open_data is not None:
        write_bytes_atomic(in_set(staging, OPEN_DATA_NAME), rendered.open_data)
    for name, (_, html, pdf) in rendered.packs.items():
        write_text_atomic(staging / RESTRICTED_DIR / f"{name}.html", html)
        write_bytes_atomic(staging / RESTRICTED_DIR / f"{name}.pdf", pdf)
    for data, name in rendered.returns.values():
        write_bytes_atomic(staging / RESTRICTED_DIR / name, data)
    if rendered.quality_book is not None:  # child ids: the restricted side, always
        write_bytes_atomic(staging / RESTRICTED_DIR / QUALITY_BOOK, rendered.quality_book)
    # The contract's names: the public edition, the one safe to pass on.
    if Edition.PUBLIC in rendered.editions:
        write_text_atomic(in_set(staging, HTML_NAME), rendered.public.html)
        write_bytes_atomic(in_set(staging, PDF_NAME), rendered.public.pdf)


def publish(inputs: Inputs, staging: Path, out_dir: Path, generated_at: datetime,
            editions: list[Edition]) -> Path:
    """The marker, written last, then the staged set switched in for the previous one
    (tasks.adapters.outputs.switch_in). Returns the cycle's folder."""
    live = cycle_dir(out_dir, inputs.config.briefing.authority.code, inputs.cycle)
    try:
        write_marker(staging, {"authority": inputs.config.briefing.authority.code,
                               "cycle": inputs.cycle,
                               "generated_at": generated_at.isoformat(timespec="seconds"),
                               "editions": [e.value for e in editions]})
    except OSError as exc:
        raise OutputUnwritable(exc.errno, f"{staging}: the set's marker could not be "
                                          f"written ({exc.strerror})") from None
    PROGRESS.notes += switch_in(staging, live)
    PROGRESS.published = live
    return live


def notify(inputs: Inputs, rendered: Rendered, store: HistoryStore, mailer: Mailer,
           resend: bool) -> list[Delivery]:
    """Every recipient gets the edition configured for them, or waits for it: a message
    whose edition this run did not write is reported `waiting`, and sent by a later run."""
    contexts = rendered.contexts or {e: p.context for e, p in rendered.editions.items()}
    notices = plan_notices(inputs.config, contexts)
    authority = inputs.config.briefing.authority.code
    pdfs = {e: (p.pdf, f"{authority}-{inputs.cycle}-briefing-{e.value}.pdf")
            for e, p in rendered.editions.items()}
    sheets = {e: (data, f"{authority}-{inputs.cycle}-briefing-{e.value}.xlsx")
              for e, data in rendered.sheets.items()}
    packs: dict[str, list[tuple[bytes, str]]] = {}
    for name, (owner, _, pdf) in rendered.packs.items():
        packs.setdefault(owner, []).append((pdf, f"{name}.pdf"))
    for owner, (data, name) in rendered.returns.items():  # the owner's return to fill in
        packs.setdefault(owner, []).append((data, name))
    PROGRESS.sending = True
    PROGRESS.deliveries = deliver(notices, inputs.config, pdfs, mailer, store, inputs.cycle,
                                  resend=resend, sheets=sheets, packs=packs)
    return PROGRESS.deliveries


def write_summary(inputs: Inputs, analysed: Analysed, deliveries: list[Delivery],
                  target: Path, generated_at: datetime) -> Path:
    """summary.json: the restricted edition's results, every figure as it is."""
    figures = edition_figures(inputs, analysed, Edition.RESTRICTED)
    summary = build_summary(inputs.config, figures.results, figures.problems, deliveries,
                            inputs.cycle, generated_at, analysed.revisions,
                            figures.deep_dives, figures.breakdowns)
    path = in_set(target, SUMMARY_NAME)
    try:
        summary.write(path)
    except OSError as exc:
        raise OutputUnwritable(exc.errno, f"{path}: could not be written ({exc.strerror})") \
            from None
    return path


class NoFigures(Exception):
    """An authority in the files with nothing for the cycle: left out of a regional run."""


def brief_authority(config_dir: Path, exports_dir: Path, authority: str, out_dir: Path,
                    cycle: str | None = None, edition: str = "public",
                    report_date: date | None = None,
                    settings: Settings | None = None, *, today: date) -> dict[str, object]:
    """One authority's briefing in a regional run: the same run sequence as the monthly
    flow (its lock, one timestamp), no mail; returns the overview's row. `settings`: the
    regional flow's (its store and limits; None: every default); `today`: its clock's day.

    Raises ValidationFailed if that authority's figures have errors (the others go on).
    """
    from tasks.reading.problems import ValidationFailed

    limits = Limits.from_settings(settings) if settings is not None else None
    inputs = validate_exports(Path(config_dir), Path(exports_dir), cycle, today=today,
                              authority=authority, limits=limits)
    if not inputs.ok:
        raise ValidationFailed(inputs.problems)
    if not (inputs.records["period"] == inputs.cycle).any():
        periods = list(inputs.records["period"].unique())
        latest = (f"its latest are for {label(max(periods, key=end_month))}" if periods
                  else "it has none for any period")
        raise NoFigures(f"no figures for {label(inputs.cycle)}: {latest} (an authority since "
                        "replaced?)")
    editions = list(Edition) if edition == "both" else [Edition(edition)]
    store_url = settings.secret("store_url") if settings is not None else None
    done = run_cycle(inputs, Resources(store_for(Path(out_dir), store_url), Path(out_dir),
                                       report_date=report_date), editions)
    # The overview is published: its figures are the public edition's.
    public = done.rendered.figures[Edition.PUBLIC].results
    places = {i.code: i.decimals for i in inputs.config.indicators}
    return {"code": inputs.config.briefing.authority.code,
            "name": inputs.config.briefing.authority.name, "cycle": inputs.cycle,
            "folder": str(done.folder),
            "indicators": {r.code: {"value": r.value, "withheld": r.is_withheld("value"),
                                    "rag": str(r.rag), "deep_dive": r.deep_dive,
                                    # as precisely as its source gives it (tasks.checking.precision)
                                    "decimals": places.get(r.code)}
                           for r in public}}


def _now() -> datetime:
    return datetime.now().astimezone()


def _no_pause(stage: str) -> None:
    """The default between stages: go straight on (tests hold a run here to kill it)."""


@dataclass(frozen=True)
class Resources:
    """What one run works with, chosen once at the entry point: the history store (and
    ledger), the output folder, how mail goes (None: no mail, as in a regional run), the
    clock that stamps the run, a hook called before each stage, and the date of the report
    on the paper's cover (None: the calendar's, from briefing.yaml's meetings)."""

    store: HistoryStore
    out_dir: Path
    mailer: Mailer | None = None
    clock: Callable[[], datetime] = _now
    pause: Callable[[str], None] = _no_pause
    report_date: date | None = None
    return_rules: bool = True  # DfE's rules over the returns (BRIEFING_RETURN_RULES=off)


class Steps(Protocol):
    """The coarse steps: this module's functions, or `tasks.steps` (the same as Prefect
    tasks, so each shows in the flow run)."""

    @property
    def compare_with_history(self) -> Callable[[Inputs, HistoryStore], Analysed]: ...

    @property
    def render_briefing(self) -> Callable[[Inputs, Analysed, datetime, list[Edition],
                                           date | None, bool], Rendered]: ...

    @property
    def store_and_publish(self) -> Callable[[Inputs, Analysed, Rendered, HistoryStore, Path],
                                            Path]: ...

    @property
    def notify(self) -> Callable[[Inputs, Rendered, HistoryStore, Mailer, bool],
                                 list[Delivery]]: ...

    @property
    def write_summary(self) -> Callable[[Inputs, Analysed, list[Delivery], Path, datetime],
                                        Path]: ...

    @property
    def publish(self) -> Callable[[Inputs, Path, Path, datetime, list[Edition]], Path]: ...


@dataclass
class Progress:
    """How far the run in this process got, so that a run stopped by a fault (the store,
    Prefect's API, the output folder) can say what was and was not stored, sent and
    written (flows/cli.py). Reset by each run_cycle."""

    stored: bool = False
    staging: Path | None = None
    sending: bool = False
    deliveries: list[Delivery] | None = None
    published: Path | None = None
    notes: list[str] = field(default_factory=list)  # leftovers that could not be cleared

    def reset(self) -> None:
        self.__dict__.update(Progress().__dict__)

    def describe(self) -> str:
        if self.published is not None:
            done = f"the briefing was stored and written to {self.published}"
        elif self.stored:
            done = "the history was stored; the papers were not switched in (the cycle's " \
                   "folder holds the previous complete set, if any)"
        else:
            return "nothing was stored, written or sent"
        if self.sending and self.deliveries is None:
            return done + "; sending had begun (a re-run sends what was not sent)"
        if self.deliveries is None:
            return done + "; no messages were sent"
        sent = sum(1 for d in self.deliveries if d.status == "sent")
        before = sum(1 for d in self.deliveries if d.status == "already_sent")
        earlier = f" ({before} by an earlier run)" if before else ""
        return done + f"; {sent + before} of {len(self.deliveries)} message(s) sent{earlier}"


PROGRESS = Progress()


@dataclass(frozen=True)
class CycleRun:
    folder: Path
    summary: Path
    deliveries: list[Delivery]
    rendered: Rendered


def run_cycle(inputs: Inputs, resources: Resources, editions: list[Edition],
              resend: bool = False, steps: Steps | None = None) -> CycleRun:
    """The one run sequence, for every flow: under the cycle's lock, with one timestamp,
    compare, render, store and publish, notify, write the summary. `inputs` must be valid.
    """
    import sys

    do: Steps = steps if steps is not None else sys.modules[__name__]
    PROGRESS.reset()  # this run's, from the start
    store, code = resources.store, inputs.config.briefing.authority.code
    start_checks(inputs.child_returns, resources.return_rules)  # beside the comparing
    with cycle_lock(store, code, inputs.cycle):  # the same cycle twice at once: one waits
        generated_at = resources.clock()
        analysed = do.compare_with_history(inputs, store)
        resources.pause("render")
        rendered = do.render_briefing(inputs, analysed, generated_at, editions,
                                      resources.report_date, resources.mailer is not None)
        resources.pause("publish")
        staging = do.store_and_publish(inputs, analysed, rendered, store, resources.out_dir)
        resources.pause("notify")
        deliveries = ([] if resources.mailer is None else
                      do.notify(inputs, rendered, store, resources.mailer, resend))
        resources.pause("summary")
        do.write_summary(inputs, analysed, deliveries, staging, generated_at)
        resources.pause("switch")
        folder = do.publish(inputs, staging, resources.out_dir, generated_at,
                            list(rendered.editions))
    return CycleRun(folder, in_set(folder, SUMMARY_NAME), deliveries, rendered)
