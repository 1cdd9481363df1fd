"""Stage 1 of a run: the exports read and checked into `Inputs`; changes nothing anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import pandas as pd

from tasks.analysing.breakdowns import check_breakdowns, check_parts
from tasks.analysing.deep_dives import read_deep_dives
from tasks.checking.precision import published_as_read, with_source_precision
from tasks.checking.reach import Reach, reach
from tasks.checking.reconcile import Figures
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
from tasks.editions.disclosure import small_breakdowns, uncounted_rates, with_population
from tasks.editions.linked import lookalikes, with_denominators
from tasks.editions.related import unlinked_related
from tasks.reading.authorities import resolve_authority, with_authority
from tasks.reading.commentary import Commentary, read_commentary
from tasks.reading.deep_dive_entries import DeepDiveEntry
from tasks.reading.files import Limits
from tasks.reading.ingest import Metadata, read_exports
from tasks.reading.metadata import check_metadata
from tasks.reading.owner_returns import (
    merge_commentary,
    merge_deep_dives,
    read_returns,
    return_key,
    returns_folders,
)
from tasks.reading.problems import CONTESTED_TEXT, Problem, blocking, errors
from tasks.reading.questions import Answer, QuestionEntry, merge_answers, read_questions
from tasks.reading.sources import Sources, load_sources
from tasks.returns.reading import ReturnRead, ReturnsRead, read_child_returns
from tasks.settings.config import Config, ConfigError, Kept, run_config
from tasks.settings.frames import BENCHMARKS, FIGURES, PARTS, RECORDS
from tasks.settings.periods import PER_YEAR, current_period, end_month, frequency_of, is_period


@dataclass
class Inputs:
    config: Config
    cycle: str
    records: pd.DataFrame  # the figures used, one per indicator and period (frames.FIGURES)
    problems: list[Problem]
    files: list[str]
    benchmarks: pd.DataFrame = field(default_factory=BENCHMARKS.empty)
    neighbours: dict[str, list[str]] = field(default_factory=dict)
    commentary: list[Commentary] = field(default_factory=list)
    # Figures withheld for an error in the source: (indicator, period) -> where the error is.
    withheld: dict[tuple[str, str], str] = field(default_factory=dict)
    # Any error stops the run (--strict, rules.strict), not only errors about a whole file.
    strict: bool = False
    deep_dives: list[DeepDiveEntry] = field(default_factory=list)  # deep_dives.yaml
    # Parts of indicators' figures from breakdown columns (tasks.settings.frames.PARTS).
    breakdowns: pd.DataFrame = field(default_factory=PARTS.empty)
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
    config_dir, exports_dir = Path(config_dir), Path(exports_dir)
    config, sources = _config_for(config_dir, exports_dir, authority, limits)
    ingested = read_exports(exports_dir, sources, config.briefing.authority.code,
                            {i.code: i.frequency for i in config.indicators}, limits)
    RECORDS.check(ingested.records, "the exports' records, reading → checking")
    records = with_denominators(with_population(ingested.records, config), config)
    today_period = current_period(today)
    cycle = _cycle_of(records, cycle, today_period)
    child = _child_returns(records, exports_dir, sources, config, cycle, limits)
    if not child.records.empty:
        records = pd.concat([records, with_population(child.records, config)],
                            ignore_index=True)
    headers = {**ingested.headers, **child.headers}
    problems = list(ingested.problems) + child.problems
    faults: dict[object, str] = {}
    problems += check_records(records, config, cycle, today_period, headers, faults)
    records = with_faults(records, faults)
    if not allow_empty:
        _some_figures(records, problems, config, cycle, today_period,
                      lambda: reach(exports_dir, ingested.files, sources, config, records,
                                    limits))
    chosen = choose_figures(records, config, cycle, sources.priority, headers)
    detail = withheld_details(problems + chosen.problems, chosen.withheld)
    problems = mark_withheld(problems + chosen.problems, chosen.withheld)
    problems += _figure_findings(records, chosen, ingested.metadata, config, cycle)
    said = _committee_record(config_dir, exports_dir, config, cycle, today)
    parts, config, part_problems = _parts(ingested.breakdowns, child.parts, chosen.records,
                                          config, sources)
    strict = config.briefing.rules.strict if strict is None else strict
    files = ingested.files + [r.name_of(p) for r in child.returns for p in r.files]
    return _handed_on(Inputs(
        config, cycle, chosen.records, problems + said.problems + part_problems, files,
        ingested.benchmarks, ingested.neighbours, said.commentary, chosen.withheld, strict,
        said.deep_dives, parts, chosen.contested, detail, said.questions, said.answers,
        child.returns, said.key))


def _config_for(config_dir: Path, exports_dir: Path, authority: str | None,
                limits: Limits | None) -> tuple[Config, Sources]:
    """The run's config and sources.yaml; with `authority`, the config made to report on
    that authority instead (looked up in the published files among the exports)."""
    config = run_config(config_dir)
    sources = load_sources(config_dir)
    if authority:
        config = with_authority(config, resolve_authority(exports_dir, sources, authority,
                                                          config, limits))
    return config, sources


def _cycle_of(records: pd.DataFrame, cycle: str | None, today_period: str) -> str:
    """The cycle asked for, which must be a period; without one, the latest period to have
    ended by today that the records have (a month before a year ending that month)."""
    if cycle is None:
        now = end_month(today_period)
        past = [p for p in records["period"].unique() if end_month(p) <= now]
        return (max(past, key=lambda p: (end_month(p), PER_YEAR[frequency_of(p)]))
                if past else today_period)
    if not is_period(cycle):
        raise ConfigError(f"--cycle must be a period such as 2024-10 (a month) or 2025 (a "
                          f"reporting year), not {cycle!r}")
    return cycle


def _child_returns(records: pd.DataFrame, exports_dir: Path, sources: Sources,
                   config: Config, cycle: str, limits: Limits | None) -> ReturnsRead:
    """The child-level returns, read only for a cycle the exports brief: a return computes a
    figure for any cycle asked, so a cycle no export has (a typo) stays "no figures for the
    cycle". Their records are checked as they join the exports'."""
    if not (records["period"] == cycle).any():
        return ReturnsRead(pd.DataFrame(), [], [], {})
    child = read_child_returns(exports_dir, sources, config, cycle, limits)
    if not child.records.empty:
        RECORDS.check(child.records, "the returns' records, returns → checking")
    return child


def _some_figures(records: pd.DataFrame, problems: list[Problem], config: Config,
                  cycle: str, today_period: str, reaches: Callable[[], list[Reach]]) -> None:
    """NoFiguresForCycle when the cycle has no figures at all, saying why (`reaches`, looked
    for only then). Not when the exports have errors: they say more than "no figures" (their
    figures may be what is wrong)."""
    if not errors(problems) and no_figures(records, config, cycle, today_period):
        raise NoFiguresForCycle(str(no_figures(records, config, cycle, today_period,
                                               reaches())))


def _figure_findings(records: pd.DataFrame, chosen: Figures, metadata: dict[str, Metadata],
                     config: Config, cycle: str) -> list[Problem]:
    """What the figures chosen show beyond any one cell: gaps, the scorecards' metadata
    against the catalogue, rates with nothing to count them by, figures that give away or
    look like others, and indicators with no figure (`records`: every one read)."""
    figures = chosen.records
    return (gaps(records, figures, config, cycle) + check_metadata(metadata, config)
            + uncounted_rates(figures, config) + lookalikes(config, figures)
            + unlinked_related(config, figures)
            + check_coverage(records[records["error"].isna()], config, cycle,
                             set(chosen.withheld)))


@dataclass
class _Said:
    """What the committee's record says for the cycle, from the config folder, the exports
    and the owners' returns (used as the two YAML files are: tasks.reading.owner_returns):
    commentary, deep dives, questions and their answers, and what reading them found."""

    commentary: list[Commentary]
    deep_dives: list[DeepDiveEntry]
    questions: list[QuestionEntry]
    answers: list[Answer]
    key: bytes | None  # signs this run's returns, checks those back
    problems: list[Problem]


def _committee_record(config_dir: Path, exports_dir: Path, config: Config, cycle: str,
                      today: date) -> _Said:
    """Commentary and deep dives (YAML, and the owners' returns), and the committee's
    questions with the owners' answers; makes the config folder's `.return-key` the first
    time."""
    commentary, problems = read_commentary(exports_dir)
    deep_dives, dive_problems = read_deep_dives(config_dir, config, cycle)
    problems += dive_problems
    key = return_key(config_dir)
    returned = read_returns(returns_folders(config_dir, exports_dir, config), config, cycle,
                            key, today)
    commentary, merged = merge_commentary(commentary, returned)
    deep_dives, merged_dives = merge_deep_dives(deep_dives, returned)
    problems += returned.problems + merged + merged_dives
    questions, question_problems = read_questions(config_dir, config)
    answers, merged_answers = merge_answers(
        questions, returned.answers,
        {k[1]: where for k, where in returned.places.items() if k[0] == "answer"}, config)
    return _Said(commentary, deep_dives, questions, answers, key,
                 problems + question_problems + merged_answers)


def _parts(exported: pd.DataFrame, computed: list[dict[str, object]], figures: pd.DataFrame,
           config: Config, sources: Sources) -> tuple[pd.DataFrame, Config, list[Problem]]:
    """The parts checked; the config that prints each figure as precisely as its source
    gives it (tasks.checking.precision), which needs the parts; and whether the parts add
    up to their figures."""
    parts, problems = check_parts(with_computed_parts(exported, computed), config)
    config = with_source_precision(config, figures, parts, published_as_read(sources))
    problems += check_breakdowns(parts, figures, config,
                                 small_breakdowns(parts, figures, config))
    return parts, config, problems


def _handed_on(inputs: Inputs) -> Inputs:
    """Inputs as stage 1 hands them to the analysis, their frames checked against their
    schemas (tasks.settings.frames)."""
    FIGURES.check(inputs.records, "Inputs.records, checking → analysing")
    BENCHMARKS.check(inputs.benchmarks, "Inputs.benchmarks, checking → analysing")
    PARTS.check(inputs.breakdowns, "Inputs.breakdowns, checking → analysing")
    return inputs


def with_computed_parts(exported: pd.DataFrame, computed: list[dict[str, object]]
                        ) -> pd.DataFrame:
    """The exports' parts, with those of figures computed from a return instead of any the
    exports give for the same indicator and period: the computed figure is the one used
    (its source's priority), so its parts are the ones that add up to it."""
    if not computed:
        return exported
    frame = pd.concat([PARTS.empty(), pd.DataFrame(computed, columns=PARTS.columns)],
                      ignore_index=True)
    done = set(zip(frame["indicator"], frame["period"], strict=True))
    kept = [(i, p) not in done for i, p in zip(exported["indicator"], exported["period"],
                                                   strict=True)]
    return pd.concat([exported[kept], frame], ignore_index=True)
