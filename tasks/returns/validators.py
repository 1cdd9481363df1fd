"""DfE's validation rules over a child-level return, run by Data to Insight's validators.

`csc-validator-be-903` (SSDA903) and `csc-validator-be-cin` (CIN census) pin pandas<2 and
numpy<1.25, so they live in an environment of their own (.venv-validators, made by
`make setup`) and run here as a subprocess (`_validator_child.py`) bounded in time and in
memory, with an environment holding none of ours (no secrets reach third-party code). They
are young code: a rule that raises, or outlives its time, is reported as not run and the
others go on; if the process itself dies in a rule, that rule is reported and the rest run
in a fresh process. The results name child ids, so nothing here logs them; they are for
the restricted data-quality workbook only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["ssda903", "cin_census"]
KINDS: tuple[Kind, ...] = ("ssda903", "cin_census")
ROOT = Path(__file__).resolve().parents[2]
VALIDATORS_ENV = ROOT / ".venv-validators"
CHILD_SCRIPT = Path(__file__).with_name("_validator_child.py")
# A validator run on 2,200 rows took about 10 s (issue 26); the largest authority's returns
# are about 30 times that. Generous bounds: they are there for a rule that never ends.
DEFAULT_TIMEOUT_S = 900.0
DEFAULT_RULE_S = 120.0
DEFAULT_MEMORY_BYTES = 2 * 1024**3
# A process that dies in a rule is started again without it, at most this many times.
MAX_RESTARTS = 3
NAMES = {"ssda903": "SSDA903", "cin_census": "CIN census"}


class ValidatorsError(Exception):
    """The validators could not run over the return at all (not installed, the return
    unreadable to them, out of time or memory before any rule): one line saying so."""


@dataclass(frozen=True)
class ReturnFile:
    """One file of a return; `previous` for last year's return, which some rules compare."""

    path: Path
    previous: bool = False


@dataclass(frozen=True)
class RuleIssue:
    """One record failing one rule. `record` counts the table's records from 1; `row` is
    the spreadsheet row in `file` (header row 1) where the table came from a CSV file."""

    rule: str
    table: str | None
    file: str | None
    record: int | None
    row: int | None
    child: str | None
    detail: str | None = None  # what was found and expected, where it is ours to say

    @property
    def whole_return(self) -> bool:
        """A finding about the return as a whole (a CIN census's query on its totals, such
        as rule 2887Q's "less than 8 disability codes"), not about any one record."""
        return self.table is None and self.record is None and self.child is None


@dataclass(frozen=True)
class RuleNotRun:
    rule: str
    reason: str

    def as_line(self) -> str:
        return f"rule {self.rule} could not be run: {self.reason}"


@dataclass(frozen=True)
class TableRead:
    file: str | None
    rows: int
    csv: bool


@dataclass
class ValidationReport:
    """What DfE's rules found in one return: every rule run, skipped or not run."""

    kind: Kind
    collection_year: int
    ruleset: str = ""
    messages: dict[str, str] = field(default_factory=dict)
    tables: dict[str, TableRead] = field(default_factory=dict)
    header: dict[str, str | None] = field(default_factory=dict)
    issues: list[RuleIssue] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # the tables they need are absent
    not_run: list[RuleNotRun] = field(default_factory=list)
    seconds: float = 0.0

    def failing(self, rule: str) -> list[RuleIssue]:
        return [issue for issue in self.issues if issue.rule == rule]

    def rules_failed(self) -> list[str]:
        return sorted({issue.rule for issue in self.issues})


@dataclass
class _Run:
    """What one child process left: the request, its events so far, how it ended."""

    events: list[dict[str, Any]]
    returncode: int | None  # None: stopped at the time limit


def validators_python(env: Path | None = None) -> Path:
    """The validators' interpreter, or a one-line error saying how to make it."""
    python = (env or VALIDATORS_ENV) / "bin" / "python"
    if not python.is_file():
        raise ValidatorsError(f"DfE's return validators are not installed ({python} not "
                              f"found): run `make setup`")
    return python


def run_validators(kind: Kind, files: Sequence[ReturnFile], collection_year: int, *,
                   local_authority: str | None = None, only: Iterable[str] | None = None,
                   timeout_s: float = DEFAULT_TIMEOUT_S, rule_s: float = DEFAULT_RULE_S,
                   memory_bytes: int = DEFAULT_MEMORY_BYTES, env: Path | None = None
                   ) -> ValidationReport:
    """DfE's rules of the collection year ending in March `collection_year` over a return.

    `local_authority` (ONS code, e.g. E09000027) tells the SSDA903 rules which placements
    are out of area. Raises ValidatorsError only when no rule could run at all."""
    if kind not in KINDS:
        raise ValueError(f"unknown return kind {kind!r} (expected one of {', '.join(KINDS)})")
    python = validators_python(env)
    report = ValidationReport(kind, collection_year)
    request: dict[str, Any] = {
        "kind": kind, "collection_year": collection_year, "local_authority": local_authority,
        "files": [{"path": str(f.path.resolve()), "name": f.path.name, "previous": f.previous}
                  for f in files],
        "only": None if only is None else sorted(set(only)), "memory_bytes": memory_bytes,
        "rule_seconds": rule_s}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="briefing-validators-") as work:
        for _ in range(MAX_RESTARTS + 1):
            left = timeout_s - (time.monotonic() - started)
            run = _run_child(python, request, Path(work), max(left, 0.001))
            if _absorb(report, run, timeout_s, memory_bytes):
                break
            request["skip"] = report.done + report.skipped + [n.rule for n in report.not_run]
    report.seconds = time.monotonic() - started
    return report


def _child_env() -> dict[str, str]:
    """Only what Python needs: the return's handling owes nothing to our settings, and the
    validators must see none of our secrets. One BLAS thread keeps the address space (which
    the memory limit bounds) small."""
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "TZ") if k in os.environ}
    return {**keep, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1"}


def _run_child(python: Path, request: dict[str, Any], work: Path, timeout_s: float) -> _Run:
    output = work / f"events-{time.monotonic_ns()}.jsonl"
    output.touch()
    body = json.dumps({**request, "output": str(output)})
    proc = subprocess.Popen([str(python), "-I", str(CHILD_SCRIPT)], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=work, env=_child_env(), start_new_session=True)
    try:
        proc.communicate(body.encode(), timeout=timeout_s)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = None
    lines = output.read_text(encoding="utf-8").splitlines()
    # A process killed mid-write leaves a partial last line: it is not an event.
    return _Run([json.loads(line) for line in lines if line.endswith("}")], code)


def _absorb(report: ValidationReport, run: _Run, timeout_s: float, memory: int) -> bool:
    """Adds one process's events to the report; True when there is nothing left to run."""
    running: str | None = None
    for event in run.events:
        running = _apply(report, event, running)
    ended = any(e["event"] == "end" for e in run.events)
    fatal = next((e for e in run.events if e["event"] == "fatal"), None)
    if ended:
        return True
    if fatal is not None or not report.messages:
        raise ValidatorsError(_why_nothing_ran(report, run, fatal, timeout_s, memory))
    if run.returncode is None:  # out of time: every rule not reached is said so
        reached = set(report.done + report.skipped + [n.rule for n in report.not_run])
        report.not_run += [RuleNotRun(code, f"the validators' time ({timeout_s:g} s) ran out")
                           for code in report.messages if code not in reached]
        return True
    if running is not None:
        report.not_run.append(RuleNotRun(running, _death(run.returncode)))
        return False
    raise ValidatorsError(f"the {NAMES[report.kind]} validators stopped between rules "
                          f"({_death(run.returncode)})")


def _apply(report: ValidationReport, event: dict[str, Any], running: str | None) -> str | None:
    kind = event["event"]
    if kind == "ruleset":
        report.ruleset = event["name"]
        report.messages = dict(event["rules"])
        report.header = dict(event.get("header") or {})
        report.tables = {name: TableRead(t["file"], t["rows"], t["csv"])
                         for name, t in event["tables"].items()}
    elif kind == "rule_start":
        return str(event["code"])
    elif kind == "rule":
        _apply_rule(report, event)
        return None
    return running


def _apply_rule(report: ValidationReport, event: dict[str, Any]) -> None:
    code = str(event["code"])
    if event["outcome"] == "error":
        report.not_run.append(RuleNotRun(code, str(event["reason"])))
        return
    (report.skipped if event["outcome"] == "skipped" else report.done).append(code)
    for found in event.get("issues", ()):
        table = found["table"]
        read = report.tables.get(table) if table else None
        record = found["record"]
        row = record + 1 if read is not None and read.csv and record is not None else None
        report.issues.append(RuleIssue(code, table, read.file if read else None, record, row,
                                       found["child"]))


def _death(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        return f"the validators' process was ended by signal {-returncode}"
    return f"the validators' process ended with code {returncode}"


def _why_nothing_ran(report: ValidationReport, run: _Run, fatal: dict[str, Any] | None,
                     timeout_s: float, memory: int) -> str:
    name = f"the {NAMES[report.kind]} validators"
    if fatal is not None and fatal["kind"] == "input":
        return f"{name} cannot read the return: {fatal['message']}"
    if (fatal is not None and fatal["kind"] == "memory") or run.returncode == 3:
        return (f"{name} ran out of memory (limit {memory / 1024**2:,.0f} MiB) before "
                f"running any rule")
    if run.returncode is None:
        return f"{name} took longer than {timeout_s:g} s before running any rule"
    if fatal is not None:
        return f"{name} failed before running any rule: {fatal['message']}"
    return f"{name} failed before running any rule ({_death(run.returncode)})"


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m tasks.returns.validators KIND YEAR FILE...`: counts only, never a child id
    (for trying the validators by hand; the restricted workbook is where records go)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[0] not in KINDS:
        print("usage: python -m tasks.returns.validators {ssda903|cin_census} YEAR FILE...",
              file=sys.stderr)
        return 2
    try:
        report = run_validators(args[0], [ReturnFile(Path(p)) for p in args[2:]],
                                int(args[1]))
    except ValidatorsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{report.ruleset}: {len(report.done)} rules run, {len(report.skipped)} skipped "
          f"(tables absent), {len(report.not_run)} could not be run, in {report.seconds:.1f} s")
    for rule in report.rules_failed():
        print(f"  rule {rule}: {len(report.failing(rule))} records: {report.messages[rule]}")
    for not_run in report.not_run:
        print(f"  {not_run.as_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
