"""Validation issues as records, so the briefing, the CLI and the emails read the same list."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum


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

    def as_line(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{self.severity.value.upper()}: {where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


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
