"""Validation issues as records, so the briefing, the CLI and the emails read the same list."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from tasks.reading.display import shown
from tasks.settings.periods import is_period, label

# Kinds of finding that rest on a figure's value (see Problem.kind).
REVISION, JUMP, RATIO, DUPLICATE = "revision", "jump", "ratio", "duplicate"
# A fault in one cell or row (text in a number, a percentage over 100, a bad period...): it
# withholds that one figure rather than the whole paper, unless the run is strict.
CELL = "cell"
BREAKDOWN = "breakdown"  # rests on the parts' figures (tasks.analysing.breakdowns)
# Two sources giving one figure different values (tasks.checking.reconcile).
DISAGREE = "disagreement"
# A fault in an owner's return workbook (tasks.reading.owner_returns): the item it is in (one
# commentary, one deep dive) is left out; restricted, as the return is the owner's.
RETURN = "owner_return"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Problem:
    """One data-quality finding: where it is and what was expected.

    `row` is the spreadsheet row a person would see (the header is row 1), or None when
    the finding is about a whole file or a whole indicator.
    """

    severity: Severity
    file: str
    row: int | None
    column: str | None
    message: str
    indicator: str | None = None
    period: str | None = None  # the figure's period, when the finding is about one figure
    # What kind of finding, where it matters elsewhere: tasks.editions.disclosure withholds from the
    # public edition findings whose existence or wording rests on a small figure.
    kind: str = ""
    # Findings of one group (a plural phrase: "with unknown indicator codes") in one file and
    # column are collapsed into one line when there are many; `count` says how many.
    group: str = ""
    count: int = 1
    # The figure this finding is about counts 1 to 5 children
    # (tasks.checking.small_numbers.is_small):
    # decided where the finding is made, from the record itself, because a figure after the
    # cycle or dropped as a duplicate never reaches the history the paper is built from.
    small: bool = False
    # The message for the public edition when it must not quote the cells (their values may
    # be about a small number of children); None: the message itself is safe to publish.
    public: str | None = None

    def __post_init__(self) -> None:
        # The one place a finding's names become text: whatever shows it (the console, a
        # log, the paper, a workbook, summary.json) shows a newline or a bidi override in a
        # file name, heading or code escaped, never obeyed (tasks.reading.display).
        for name in ("file", "column", "message", "indicator", "public"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, shown(value))

    def as_line(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += (f", {self.column}" if names_its_place(self)
                      else f", column '{self.column}'")
        return f"{self.severity.value.upper()}: {where}: {self.message}"


def names_its_place(p: Problem) -> bool:
    """Whether a finding's `column` already says where it is in words ("entry 2 (CL01),
    field due"; "sheet 'Commentary', cell J2" in an owner's return), not a column's name."""
    return in_yaml(p.file) or p.kind == RETURN


def in_yaml(file: str) -> bool:
    """A finding in a YAML file (commentary, the deep-dive register): its place is an entry
    and a field ("entry 2 (CL01), field due"), not a spreadsheet column."""
    return file.lower().endswith((".yaml", ".yml"))


WITHHELD_TEXT = "withheld: error in the source"
# The public edition's one wording for a figure it leaves out whatever its value
# (tasks.checking.reconcile.contested): it is given by exports that may or may not agree.
CONTESTED_TEXT = ("more than one export gives it, and what they give could say something about "
                  "a small number of children; the restricted edition gives the detail")


def cell_fault(file: str, row: int | None, column: str | None, message: str,
               indicator: str | None = None, period: str | None = None,
               group: str = "") -> Problem:
    """An error in one cell or row: its figure is withheld (not used, not stored), the rest
    of the paper goes on. The public edition names the place but never quotes the cell, as
    the numbers in it may be about a small number of children."""
    if indicator and period and is_period(period):
        public = (f"{indicator} {label(period)}: {WITHHELD_TEXT}; the cell is quoted in the "
                  "restricted edition")
    else:
        public = (f"this row is not used: {WITHHELD_TEXT}; the cell is quoted in the "
                  "restricted edition")
    return Problem(Severity.ERROR, file, row, column, message, indicator, period=period,
                   kind=CELL, group=group, public=public)


class Findings(list[Problem]):
    """A list of problems that stays short whatever the input: beyond `keep` findings of
    one kind in one file and column, the rest are counted, not kept, and `collapsed()`
    gives one line for the lot: the count, the first place and the first message.

    A million rows with unknown codes cost one line and constant memory, not a million
    records in the briefing's appendix.
    """

    def __init__(self, items: Iterable[Problem] = (), keep: int = 3) -> None:
        super().__init__()
        self.keep = keep
        self._groups: dict[tuple[object, ...], list[int]] = {}
        for p in items:
            self.append(p)

    def append(self, p: Problem) -> None:
        if not p.group:
            super().append(p)
            return
        key = (p.severity, p.file, p.column, p.group)
        group = self._groups.setdefault(key, [0, -1, 0])  # count, last row, kept
        group[0] += p.count
        group[1] = max(group[1], p.row if p.row is not None else -1)
        if group[2] < self.keep:
            group[2] += 1
            super().append(p)

    def extend(self, items: Iterable[Problem]) -> None:
        for p in items:
            self.append(p)

    def collapsed(self) -> list[Problem]:
        """Every finding, with each large group of one kind as a single line."""
        out: list[Problem] = []
        done: set[tuple[object, ...]] = set()
        for p in self:
            key = (p.severity, p.file, p.column, p.group)
            count, last = self._groups[key][:2] if p.group else (1, -1)
            if count <= self.keep:
                out.append(p)
            elif key not in done:
                done.add(key)
                out.append(collapse(p, count, last))
        return out


def collapse(first: Problem, count: int, last_row: int | None = None) -> Problem:
    """One line for `count` findings of the same kind, at the first one's place."""
    if first.row is not None and last_row is not None and last_row > first.row:
        where = f"rows {first.row:,} to {last_row:,}, first at row {first.row:,}"
    elif first.row is not None:
        where = f"first at row {first.row:,}"
    else:
        where = "the first"
    # Its group is cleared: a collapsed line is never collapsed again.
    head = f"{count:,} rows {first.group} ({where}): "
    return replace(first, message=head + first.message, count=count, group="",
                   public=None if first.public is None else head + first.public)


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


def blocking(problems: Iterable[Problem], strict: bool = False) -> list[Problem]:
    """The errors that stop a run: every error when strict, else those about a whole file
    (unreadable, a missing column, another authority's export); a fault in one cell only
    withholds its figure, one in a part of a breakdown only that part, and one in an
    owner's return only the item it is in."""
    return [p for p in errors(problems) if strict or p.kind not in (CELL, BREAKDOWN, RETURN)]


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Errors first, then by file and row, so a reader fixes the blocking ones first."""
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(
        problems,
        key=lambda p: (order[p.severity], p.file, p.row if p.row is not None else -1, p.message),
    )


class ValidationFailed(Exception):
    """Raised by the flow after validation found errors; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sort_problems(problems)
        n = len(errors(self.problems))
        super().__init__(f"{n} error(s) in the exports; nothing was stored or written")
