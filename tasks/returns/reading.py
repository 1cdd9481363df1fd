"""Child-level returns in a run: each return source of `sources.yaml` read once, its
figures computed for the cycle as canonical records, and DfE's rules started over it.

The records themselves stay in memory for the run: the figures and counts go on (the
store holds nothing else). DfE's rules are run by the validators in a thread that only
waits for their process, started when the run begins (`start_checks`) and awaited when
the paper needs them (`ReturnRead.checks`), so they run beside comparing with history.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tasks.reading.files import Limits, quote, refusal
from tasks.reading.problems import Problem, Severity
from tasks.reading.sources import CinCensusSource, ReturnSource, Sources, Ssda903Source
from tasks.returns import figures_903 as f903
from tasks.returns.cin import cin_file_faults
from tasks.returns.ssda903 import TABLES, Return903, ReturnFault, read_903, validate_903
from tasks.returns.validators import (
    Kind,
    ReturnFile,
    RuleIssue,
    ValidationReport,
    ValidatorsError,
    run_validators,
)
from tasks.settings.config import Config, Unit
from tasks.settings.periods import Frequency, end_month, frequency_of

# Each figure's function and the unit of what it gives, by the name sources.yaml uses.
Compute = Callable[[Mapping[str, pd.DataFrame], f903.Period], f903.Figure]
FIGURES_903: dict[str, tuple[Compute | None, Unit]] = {
    "looked_after_at_end": (f903.looked_after_at_end, Unit.COUNT),
    "looked_after_rate": (None, Unit.RATE_PER_10K),  # needs the indicator's population
    "started": (f903.started, Unit.COUNT),
    "ceased": (f903.ceased, Unit.COUNT),
    "three_or_more_placements": (f903.three_or_more_placements, Unit.PERCENT),
    "long_term_stability": (f903.long_term_stability, Unit.PERCENT),
    "care_leavers_in_eet": (f903.care_leavers_in_eet, Unit.PERCENT),
    "care_leavers_neet": (f903.care_leavers_neet, Unit.PERCENT),
    "care_leavers_activity_not_known": (f903.care_leavers_activity_not_known, Unit.PERCENT),
    "care_leavers_suitably_housed": (f903.care_leavers_suitably_housed, Unit.PERCENT),
    "went_missing": (f903.went_missing, Unit.PERCENT),
}
# The tables each figure reads: a record failing a rule in another table cannot move it.
FIGURE_TABLES: dict[str, frozenset[str]] = {
    name: frozenset({"OC3"}) if name.startswith("care_leavers") else frozenset({"Episodes"})
    for name in FIGURES_903}
FIGURE_TABLES["long_term_stability"] = frozenset({"Episodes", "Header"})  # ages
FIGURE_TABLES["went_missing"] = frozenset({"Episodes", "Missing"})
# DfE's rules on one OC3 field only, which cannot move a figure read from the other:
# 132 is the activity's code, 133 the accommodation's (lac_validator 0.1.17).
ACTIVITY_RULE, ACCOMMODATION_RULE = "132", "133"
OTHER_FIELD: dict[str, frozenset[str]] = {
    name: frozenset({ACCOMMODATION_RULE}) for name in FIGURES_903
    if name.startswith("care_leavers") and name != "care_leavers_suitably_housed"}
OTHER_FIELD["care_leavers_suitably_housed"] = frozenset({ACTIVITY_RULE})


@dataclass(frozen=True)
class Computed:
    """One indicator's figure from a return: the figure's name, the figure (with the child
    ids it rests on, never shown), and the table its record is filed under."""

    name: str
    figure: f903.Figure
    table: str


@dataclass(frozen=True)
class Checks:
    """What DfE's rules found over a return, or why they were not run (`chosen`: they
    were turned off or not started, rather than failing)."""

    report: ValidationReport | None
    not_run: str | None = None
    chosen: bool = False


@dataclass(eq=False)
class ReturnRead:
    """One return of a run: its source, collection year, files, computed figures, and
    DfE's rules over it once they are done."""

    kind: Kind
    source: str
    collection_year: int
    files: list[Path]
    folder: Path  # the exports folder (names are shown relative to it)
    pattern: str = ""  # the source's glob, naming the return in findings
    figures: dict[str, Computed] = field(default_factory=dict)  # indicator code -> figure
    return_903: Return903 | None = None
    faults: list[RuleIssue] = field(default_factory=list)  # ours: dates that cannot be read
    _future: Future[Checks] | None = None

    def name_of(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()

    def start(self, enabled: bool, pool: ThreadPoolExecutor) -> None:
        """Start DfE's rules over the return (once); `enabled` false: they are not run."""
        if self._future is None:
            self._future = (pool.submit(self._run) if enabled else _done(Checks(
                None, "DfE's rules were not run (BRIEFING_RETURN_RULES is off)", True)))

    def checks(self) -> Checks:
        """DfE's rules over the return, waiting for them if they are still running; not
        run when the entry point did not start them (`start_checks`)."""
        if self._future is None:
            return Checks(None, "DfE's rules were not run", True)
        return self._future.result()

    def _run(self) -> Checks:
        try:
            if self.return_903 is not None:
                return Checks(validate_903(self.return_903))
            return Checks(run_validators(self.kind, [ReturnFile(p) for p in self.files],
                                         self.collection_year))
        except ValidatorsError as fault:
            return Checks(None, f"DfE's rules could not be run: {fault}")


def _done(checks: Checks) -> Future[Checks]:
    future: Future[Checks] = Future()
    future.set_result(checks)
    return future


def start_checks(returns: list[ReturnRead], enabled: bool = True) -> None:
    """DfE's rules over each return, each in a thread of its own that waits for the
    validators' process (bounded in time and memory by tasks.returns.validators)."""
    if not returns:
        return
    pool = ThreadPoolExecutor(max_workers=len(returns), thread_name_prefix="dfe-rules")
    for ret in returns:
        ret.start(enabled, pool)
    pool.shutdown(wait=False)  # the threads end with their processes


def collection_year_of(cycle: str) -> int:
    """The collection year (ending in March) that the cycle's last day falls in."""
    year, month0 = divmod(end_month(cycle), 12)
    return year + 1 if month0 >= 3 else year


def period_of(cycle: str) -> f903.Period:
    """A year cycle: DfE's collection year; any other, the 12 months to its end."""
    if frequency_of(cycle) is Frequency.ANNUAL:
        return f903.Period.collection_year(int(cycle))
    year, month0 = divmod(end_month(cycle), 12)
    return f903.Period.to_month_end(year, month0 + 1)


def return_files(exports_dir: Path, source: ReturnSource) -> list[Path]:
    """The regular files under the exports folder whose path from it matches the glob."""
    found = []
    for path in sorted(exports_dir.rglob("*")):
        name = path.relative_to(exports_dir).as_posix()
        if (fnmatch.fnmatch(name, source.files) and not path.name.startswith(".")
                and refusal(exports_dir, path) is None):
            found.append(path)
    return found


@dataclass
class ReturnsRead:
    records: pd.DataFrame
    problems: list[Problem]
    returns: list[ReturnRead]
    headers: dict[str, dict[str, str]]


def read_child_returns(exports_dir: Path, sources: Sources, config: Config, cycle: str,
                 limits: Limits | None = None) -> ReturnsRead:
    """Every return source's files read and checked, and its figures for `cycle` as
    canonical records (one per indicator, filed under the table it is computed from)."""
    out = ReturnsRead(pd.DataFrame(), [], [], {})
    rows: list[dict[str, object]] = []
    for source in sources.returns:
        year = source.collection_year or collection_year_of(cycle)
        files = return_files(Path(exports_dir), source)
        if not files:  # as for any source: its indicators' coverage says what is missing
            continue
        read = ReturnRead(source.layout, source.name, year, files, Path(exports_dir),
                          pattern=source.files)
        if isinstance(source, Ssda903Source):
            if not _read_903(read, source, config, cycle, limits, out.problems):
                continue
        elif isinstance(source, CinCensusSource):
            faults = [p for f in files
                      for p in cin_file_faults(f, year, config.briefing.authority.code)]
            if faults:
                out.problems += [_relative(p, read) for p in faults]
                continue
        out.returns.append(read)
        for code, done in read.figures.items():
            file = read.name_of(read.return_903.files[done.table]) if read.return_903 else ""
            out.headers[file] = {"indicator": "(sources.yaml)", "period": "(the cycle)",
                                 "value": "(computed from the records)"}
            rows.append(_record(file, code, cycle, done, config.briefing.authority.code))
    if rows:
        from tasks.reading.ingest import records_frame

        out.records = records_frame(rows)
    return out


def _read_903(read: ReturnRead, source: Ssda903Source, config: Config, cycle: str,
              limits: Limits | None, problems: list[Problem]) -> bool:
    """The return's tables and its figures into `read`; False (with the faults in
    `problems`, each naming its file) when it cannot be used."""
    try:
        ret = read_903(read.files, read.collection_year, limits)
    except ReturnFault as fault:
        problems += [_relative(p, read) for p in fault.problems]
        return False
    absent = [name for name in TABLES if name not in ret.tables]
    if absent:  # one line, not one a table: most returns lack several in most months
        problems.append(Problem(Severity.INFO, source.files, None, None,
                                f"{source.name}: the return has no "
                                f"{', '.join(absent)} table{'s' if len(absent) > 1 else ''}"
                                ": DfE's rules on them are not run"))
    read.return_903 = ret
    read.faults = unreadable_dates(ret)
    catalogue = config.by_code()
    period = period_of(cycle)
    for code, name in source.indicators.items():
        ind = catalogue.get(code)
        compute, unit = FIGURES_903[name]
        if ind is None:
            problems.append(Problem(Severity.ERROR, "sources.yaml", None, None,
                                    f"{source.name}: indicator {code!r} ({name}) is not in "
                                    f"indicators.yaml: expected one of its codes", code))
            continue
        if ind.unit is not unit:
            problems.append(Problem(Severity.ERROR, "sources.yaml", None, None,
                                    f"{source.name}: {code} is a {ind.unit.value}, but {name} "
                                    f"gives a {unit.value}: expected an indicator in "
                                    f"{unit.value}", code))
            continue
        if compute is None:
            if ind.population is None:
                problems.append(Problem(Severity.ERROR, "indicators.yaml", None, None,
                                        f"{code} is computed as {name} from the {source.name} "
                                        f"return: expected its population (children under 18)",
                                        code))
                continue
            figure = f903.looked_after_rate(ret.tables, period, round(ind.population))
        else:
            figure = compute(ret.tables, period)
        table = "OC3" if name.startswith("care_leavers") else "Episodes"
        read.figures[code] = Computed(name, figure, table)
    return True


UNREADABLE_DATE = "date"  # the code of our own finding, beside DfE's rules' codes
UNREADABLE_MESSAGE = "A date the figures read is not a real day, or is blank"


def unreadable_dates(ret: Return903) -> list[RuleIssue]:
    """Each record whose date the figures cannot read, as a finding on that record (its row
    in its file, header row 1; none in an XML return), saying what was found and what was
    expected."""
    return [RuleIssue(UNREADABLE_DATE, f.table, ret.files[f.table].name, f.record,
                      ret.row_of(f.record), None,
                      f"{f.column} is {quote(f.found) if f.found else 'blank'}: expected "
                      f"{f903.DATE_FORMAT}")
            for f in f903.date_faults(ret.tables) if f.table in ret.files]


def _relative(problem: Problem, read: ReturnRead) -> Problem:
    """A finding about a table named by its path from the exports folder."""
    for path in read.files:
        if problem.file == path.name:
            return Problem(problem.severity, read.name_of(path), problem.row, problem.column,
                           problem.message, problem.indicator)
    return problem


def _record(file: str, code: str, cycle: str, done: Computed, authority: str
            ) -> dict[str, object]:
    figure = done.figure
    # Row 0: computed from the table's records, no one row (its row 1 is the header).
    return {"file": file, "row": 0, "column": done.name, "indicator": code, "period": cycle,
            "value": figure.value, "numerator": figure.numerator,
            "denominator": figure.denominator, "authority": authority,
            "percent_sign": False, "reason": None if figure.value is not None else
            "no children in the figure's denominator", "error": None, "money_sign": False}
