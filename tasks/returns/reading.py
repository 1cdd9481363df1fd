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
from tasks.reading.sources import ReturnSource, Sources, Ssda903Source
from tasks.returns import figures_903 as f903
from tasks.returns import figures_cin as fcin
from tasks.returns.cin import cin_file_faults
from tasks.returns.cin_records import CinReturn, read_cin
from tasks.returns.ssda903 import TABLES, Return903, ReturnFault, read_903, validate_903
from tasks.returns.validators import (
    Kind,
    ReturnFile,
    RuleIssue,
    ValidationReport,
    ValidatorsError,
    run_validators,
)
from tasks.settings.config import Config, Indicator, Unit
from tasks.settings.periods import Frequency, end_month, frequency_of

# Each figure's function and the unit of what it gives, by the name sources.yaml uses; a
# rate (None) needs the indicator's population and is computed by its RATES function.
Compute = Callable[[Mapping[str, pd.DataFrame], f903.Period], f903.Figure]
Rate = Callable[[Mapping[str, pd.DataFrame], f903.Period, int], f903.Figure]
FIGURES_903: dict[str, tuple[Compute | None, Unit]] = {
    "looked_after_at_end": (f903.looked_after_at_end, Unit.COUNT),
    "looked_after_rate": (None, Unit.RATE_PER_10K),
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
FIGURES: dict[Kind, dict[str, tuple[Compute | None, Unit]]] = {
    "ssda903": FIGURES_903, "cin_census": fcin.FIGURES_CIN}
RATES: dict[str, Rate] = {"looked_after_rate": f903.looked_after_rate,
                          "referrals_rate": fcin.referrals_rate,
                          "cp_plans_rate": fcin.cp_plans_rate}
# The column of each return's tables that holds the council's child id.
CHILD_ID: dict[Kind, str] = {"ssda903": "CHILD", "cin_census": "LAchildID"}
# The tables each figure reads: a record failing a rule in another table cannot move it.
FIGURE_TABLES: dict[str, frozenset[str]] = {
    name: frozenset({"OC3"}) if name.startswith("care_leavers") else frozenset({"Episodes"})
    for name in FIGURES_903}
FIGURE_TABLES["long_term_stability"] = frozenset({"Episodes", "Header"})  # ages
FIGURE_TABLES["went_missing"] = frozenset({"Episodes", "Missing"})
assert not set(FIGURE_TABLES) & set(fcin.TABLES_READ), "a figure's name is given twice"
FIGURE_TABLES.update(fcin.TABLES_READ)
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
    census: CinReturn | None = None
    faults: list[RuleIssue] = field(default_factory=list)  # our own checks' (OWN_CHECKS)
    _future: Future[Checks] | None = None

    def name_of(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()

    @property
    def tables(self) -> Mapping[str, pd.DataFrame] | None:
        """The return's tables as the run read them (None: not read, as in some tests)."""
        if self.return_903 is not None:
            return self.return_903.tables
        return self.census.tables if self.census is not None else None

    def file_of(self, table: str) -> Path:
        """The file a table was read from (a census is one file)."""
        if self.return_903 is not None:
            return self.return_903.files[table]
        return self.census.path if self.census is not None else self.files[0]

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
    parts: list[dict[str, object]] = field(default_factory=list)  # frames.PARTS rows


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
        ok = (_read_903(read, limits, out.problems) if isinstance(source, Ssda903Source)
              else _read_cin(read, limits, out.problems, config.briefing.authority.code))
        if not ok:
            continue
        _compute(read, source, config, cycle, out.problems)
        out.returns.append(read)
        for code, done in read.figures.items():
            file = read.name_of(read.file_of(done.table))
            out.headers[file] = {"indicator": "(sources.yaml)", "period": "(the cycle)",
                                 "value": "(computed from the records)"}
            rows.append(_record(file, code, cycle, done, config.briefing.authority.code))
        if isinstance(source, Ssda903Source):
            out.parts += figure_parts(read, source.breakdowns, cycle,
                                      config.briefing.authority.code, out.problems)
    if rows:
        from tasks.reading.ingest import records_frame

        out.records = records_frame(rows)
    return out


def _read_903(read: ReturnRead, limits: Limits | None, problems: list[Problem]) -> bool:
    """The return's tables into `read`; False (with the faults in `problems`, each naming
    its file) when it cannot be used."""
    try:
        ret = read_903(read.files, read.collection_year, limits)
    except ReturnFault as fault:
        problems += [_relative(p, read) for p in fault.problems]
        return False
    absent = [name for name in TABLES if name not in ret.tables]
    if absent:  # one line, not one a table: most returns lack several in most months
        problems.append(Problem(Severity.INFO, read.pattern, None, None,
                                f"{read.source}: the return has no "
                                f"{', '.join(absent)} table{'s' if len(absent) > 1 else ''}"
                                ": DfE's rules on them are not run"))
    read.return_903 = ret
    read.faults = unreadable_dates(ret) + without_ids(
        ret.tables, "ssda903", lambda table: ret.files[table].name, ret.row_of)
    return True


def _read_cin(read: ReturnRead, limits: Limits | None, problems: list[Problem],
              lea: str | None) -> bool:
    """The census's tables into `read`: one file, of the collection year (and the
    authority, where it is known), read by our own reader; False with the faults."""
    if len(read.files) > 1:
        names = ", ".join(read.name_of(f) for f in read.files)
        problems.append(Problem(Severity.ERROR, read.pattern, None, None,
                                f"{read.source}: {len(read.files)} files match "
                                f"{quote(read.pattern)} ({names}): expected one CIN census "
                                "file"))
        return False
    faults = cin_file_faults(read.files[0], read.collection_year, lea)
    if faults:
        problems += [_relative(p, read) for p in faults]
        return False
    try:
        read.census = read_cin(read.files[0], limits)
    except ValueError as fault:
        problems.append(Problem(Severity.ERROR, read.name_of(read.files[0]), None, None,
                                str(fault)))
        return False
    name = read.name_of(read.files[0])
    read.faults = date_findings(  # a census's records have no spreadsheet row
        fcin.date_faults(read.census.tables), lambda table: name, lambda record: None,
        fcin.DATE_FORMAT) + without_ids(read.census.tables, "cin_census", lambda table: name,
                                        lambda record: None)
    return True


def _compute(read: ReturnRead, source: ReturnSource, config: Config, cycle: str,
             problems: list[Problem]) -> None:
    """Each indicator the source names, computed from the return's tables for the cycle
    into `read.figures`; a code, unit or population that does not fit is an error."""
    tables = read.tables
    assert tables is not None
    catalogue = config.by_code()
    period = period_of(cycle)
    for code, name in source.indicators.items():
        ind = catalogue.get(code)
        compute, unit = FIGURES[read.kind][name]
        if ind is None:
            problems.append(Problem(Severity.ERROR, "sources.yaml", None, None,
                                    f"{source.name}: indicator {code!r} ({name}) is not in "
                                    "indicators.yaml: expected one of its codes", code))
            continue
        unfit = _unfit(source.name, code, name, ind, unit)
        if unfit is not None:
            problems.append(unfit)
            continue
        figure = (compute(tables, period) if compute is not None else
                  RATES[name](tables, period, round(ind.population or 0)))
        read.figures[code] = Computed(name, figure, _table_of(read.kind, name))


def _unfit(source: str, code: str, name: str, ind: Indicator, unit: Unit) -> Problem | None:
    """Why indicator `code` cannot take figure `name`: its unit, or a rate's population."""
    if ind.unit is not unit:
        return Problem(Severity.ERROR, "sources.yaml", None, None,
                       f"{source}: {code} is a {ind.unit.value}, but {name} gives a "
                       f"{unit.value}: expected an indicator in {unit.value}", code)
    if name in RATES and ind.population is None:
        return Problem(Severity.ERROR, "indicators.yaml", None, None,
                       f"{code} is computed as {name} from the {source} return: expected "
                       "its population (children under 18)", code)
    return None


NOT_RECORDED = "Not recorded"  # the part of children whose record gives no value


def figure_parts(read: ReturnRead, columns: list[str], cycle: str, authority: str,
                 problems: list[Problem]) -> list[dict[str, object]]:
    """Each computed figure (not a rate: a team has no population) by each breakdown
    column of the table it is computed from: a child's part is the value on their last
    record there ("Not recorded" if blank). The parts add up to the figure exactly, as
    each child is in one part."""
    out: list[dict[str, object]] = []
    tables = read.tables or {}
    for code, done in read.figures.items():
        if FIGURES[read.kind][done.name][1] is Unit.RATE_PER_10K:
            continue
        frame = tables.get(done.table)
        file = read.name_of(read.file_of(done.table))
        for column in columns:
            if frame is None or column not in frame:
                problems.append(Problem(
                    Severity.WARNING, file, None, column,
                    f"{read.source}: the {done.table} table has no column {column}: {code} "
                    f"is not broken down by it (sources.yaml's breakdowns)", code))
                continue
            ids = frame[CHILD_ID[read.kind]].fillna("").astype(str).str.strip()
            values = frame[column].fillna("").astype(str).str.strip()
            part_of = {c: v or NOT_RECORDED for c, v in zip(ids, values, strict=True) if c}
            out += _parts_of(code, cycle, column, done, part_of, file, authority)
    return out


def _parts_of(code: str, cycle: str, column: str, done: Computed, part_of: dict[str, str],
              file: str, authority: str) -> list[dict[str, object]]:
    figure = done.figure
    percent = figure.denominator is not None
    base = figure.children if percent else figure.counted
    rows = []
    for part in sorted({part_of.get(c, NOT_RECORDED) for c in base}):
        members = {c for c in base if part_of.get(c, NOT_RECORDED) == part}
        n = len(members & figure.counted)
        rows.append({"indicator": code, "period": cycle, "breakdown": column, "part": part,
                     "value": 100.0 * n / len(members) if percent else float(n),
                     "numerator": float(n), "denominator": float(len(members))
                     if percent else None, "file": file, "row": 0, "authority": authority,
                     "sign": None, "column": done.name})
    return rows


def _table_of(kind: Kind, name: str) -> str:
    """The table a figure's record is filed under (its file names the record)."""
    if kind == "cin_census":
        return min(FIGURE_TABLES[name])
    return "OC3" if name.startswith("care_leavers") else "Episodes"


@dataclass(frozen=True)
class OwnCheck:
    """One of the run's own checks on a return's records, beside DfE's rules (a record it
    finds leaves every figure): its message in the workbook and notes, how the paper says
    records fail it, and how the appendix counts them."""

    message: str
    failing: str
    appendix: str


UNREADABLE_DATE = "date"  # the codes of our own findings, beside DfE's rules' codes
NO_ID = "id"
OWN_CHECKS = {
    UNREADABLE_DATE: OwnCheck("A date the figures read is not a real day, or is blank",
                              "have a date the figures cannot read",
                              "with a date that is not a real day (or is blank)"),
    NO_ID: OwnCheck("A record has no child id, so the figures cannot place it",
                    "have no child id", "with no child id")}
OUR_MESSAGES = {code: check.message for code, check in OWN_CHECKS.items()}


def without_ids(tables: Mapping[str, pd.DataFrame], kind: Kind,
                file_of: Callable[[str], str], row_of: Callable[[int], int | None]
                ) -> list[RuleIssue]:
    """Each record whose child id is blank: the figures leave it out, so it is a finding on
    that record, counted against every figure of its table (it may be in or out)."""
    column = CHILD_ID[kind]
    out: list[RuleIssue] = []
    for table, frame in tables.items():
        if column not in frame:
            continue
        blank = frame[column].fillna("").astype(str).str.strip() == ""
        out += [RuleIssue(NO_ID, table, file_of(table), int(i) + 1, row_of(int(i) + 1), None,
                          f"{column} is blank: expected the child's id")
                for i in blank.to_numpy().nonzero()[0]]
    return out


def unreadable_dates(ret: Return903) -> list[RuleIssue]:
    """Each record of an SSDA903 whose date the figures cannot read (its row in its file,
    header row 1; none in an XML return)."""
    return date_findings(f903.date_faults(ret.tables), lambda table: ret.files[table].name,
                         ret.row_of, f903.DATE_FORMAT)


def date_findings(faults: list[f903.DateFault], file_of: Callable[[str], str],
                  row_of: Callable[[int], int | None], expected: str) -> list[RuleIssue]:
    """Each date fault as a finding on its record, saying what was found and what was
    expected (`expected`: the return's date format)."""
    return [RuleIssue(UNREADABLE_DATE, f.table, file_of(f.table), f.record, row_of(f.record),
                      None, f"{f.column} is {quote(f.found) if f.found else 'blank'}: "
                      f"expected {expected}")
            for f in faults]


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
