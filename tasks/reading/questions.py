"""The committee's questions and recommendations, and the officers' answers to them.

After a meeting the clerk records what the committee asked and recommended, by indicator
and owner, in `questions.yaml` or `questions.xlsx` in the config folder (beside
deep_dives.yaml: the committee's own record). Each owner's next return workbook carries
their open questions to answer (tasks.presenting.return_workbooks, tasks.reading.owner_returns);
the next
paper has a section "Questions from the last meeting", each with its answer or "no answer
received"; the history store keeps every question's history (asked, answered, closed), so
an answer stays answered when the return it came in is long gone.

Public edition: the questions were asked in a public meeting and are printed; an answer
about an indicator follows commentary's rule (tasks.presenting.context): printed only where the
indicator's exception status is published.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from tasks.reading.files import FileRefused, check_workbook, one_line, quote, read_small, utf8_text
from tasks.reading.problems import RETURN, Problem, Severity
from tasks.settings import yaml_text
from tasks.settings.config import Config
from tasks.settings.yaml_text import TextDate

QUESTIONS_FILE, QUESTIONS_BOOK = "questions.yaml", "questions.xlsx"
MAX_QUESTIONS_BYTES = 2 << 20
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class Kind(StrEnum):
    QUESTION = "question"
    RECOMMENDATION = "recommendation"


class QuestionEntry(BaseModel):
    """One question or recommendation as the clerk records it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[\w./-]+$")]
    meeting: TextDate  # the meeting it was asked at
    indicator: str | None = None  # a code in indicators.yaml
    owner: str | None = None  # an id in owners.yaml; else the indicator's owner
    kind: Kind = Kind.QUESTION
    text: Text
    # An answer given otherwise than in a return (by email, at the meeting), if any.
    answer: Text | None = None
    answered_by: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    answered: TextDate | None = None
    closed: TextDate | None = None  # the date the committee closed it


@dataclass(frozen=True)
class Answer:
    """An owner's answer, from their return workbook."""

    ref: str
    text: str
    author: str
    written: date
    owner: str = ""  # the owner whose return gave it ("" when not from a return)


@dataclass(frozen=True)
class Tracked:
    """One question as the tracker keeps it (the history store's `committee_questions`)."""

    ref: str
    meeting: date
    indicator: str | None
    owner: str
    kind: Kind
    text: str
    answer: str | None = None
    answered_by: str | None = None
    answered: date | None = None
    closed: date | None = None

    @property
    def status(self) -> str:
        """closed, answered, or asked."""
        return "closed" if self.closed else "answered" if self.answer else "asked"


FIELDS = ", ".join(QuestionEntry.model_fields)
_EXPECTED = {"date_from_datetime_parsing": "expected a date such as 2024-11-28",
             "date_parsing": "expected a date such as 2024-11-28",
             "date_type": "expected a date such as 2024-11-28",
             "missing": "is required", "string_type": "expected text",
             "string_too_short": "expected some text, found none",
             "string_too_long": "is too long", "enum": "expected question or recommendation",
             "string_pattern_mismatch": "expected letters, digits and . / - _ only",
             "extra_forbidden": f"is not a field of a question (expected one of: {FIELDS})"}


def _message(err: Any) -> str:
    kind = str(err["type"])
    text = _EXPECTED.get(kind, str(err["msg"]))
    if kind not in ("missing", "extra_forbidden") and not isinstance(err.get("input"),
                                                                        dict | list | None):
        text += f", found {quote(str(err['input']))}"
    return text


Where = tuple[int | None, str]  # (the row of questions.xlsx, or "entry 2" of the YAML)


def _yaml_rows(path: Path, folder: Path) -> list[tuple[Where, Any]]:
    """(where, raw entry) for each entry of questions.yaml."""
    raw = yaml_text.load(utf8_text(read_small(folder, path, MAX_QUESTIONS_BYTES,
                                              "config folder"))) or []
    if not isinstance(raw, list):
        raise FileRefused("expected a list of questions, each starting '- ref:'")
    return [((None, f"entry {i}"), e) for i, e in enumerate(raw, start=1)]


def _xlsx_rows(path: Path, folder: Path) -> list[tuple[Where, Any]]:
    """(where, raw entry) for each row of questions.xlsx: a header row of field names,
    then a row per question (blank cells are fields not given)."""
    import io

    from openpyxl import load_workbook

    data = io.BytesIO(read_small(folder, path, MAX_QUESTIONS_BYTES, "config folder"))
    check_workbook(data)
    try:
        wb = load_workbook(data, read_only=True, data_only=False)
    except Exception as exc:  # a damaged file: openpyxl raises many kinds
        raise FileRefused(f"cannot be read as a workbook ({one_line(exc, 120)})") from None
    try:
        rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()
    if not rows:
        return []
    header = [str(h).strip().lower() if h is not None else "" for h in rows[0]]
    out: list[tuple[Where, Any]] = []
    for n, row in enumerate(rows[1:], start=2):
        entry = {h: (v.date() if hasattr(v, "date") and callable(v.date) else v)
                 for h, v in zip(header, row, strict=False) if h and v not in (None, "")}
        if entry:
            out.append(((n, ""), entry))
    return out


def read_questions(config_dir: Path, config: Config) -> tuple[list[QuestionEntry],
                                                              list[Problem]]:
    """The clerk's record, from questions.yaml and/or questions.xlsx, checked as strictly
    as deep_dives.yaml: each fault an error naming the file, the entry or row, and the
    field, which stops the run (the paper would misreport the committee)."""
    entries: list[QuestionEntry] = []
    problems: list[Problem] = []
    for name, rows_of in ((QUESTIONS_FILE, _yaml_rows), (QUESTIONS_BOOK, _xlsx_rows)):
        path = Path(config_dir) / name
        if not path.exists() and not path.is_symlink():
            continue
        try:
            rows = rows_of(path, Path(config_dir))
        except (FileRefused, yaml_text.Unreadable) as exc:
            problems.append(Problem(Severity.ERROR, name, None, None, str(exc)))
            continue
        except yaml.YAMLError as exc:
            problems.append(Problem(Severity.ERROR, name, None, None,
                                    f"not valid YAML: {one_line(exc)}"))
            continue
        for where, raw in rows:
            formulas = _formulas(raw) if name == QUESTIONS_BOOK else []
            if formulas:
                problems += [Problem(Severity.ERROR, name, where[0], k, f"holds a formula "
                                     f"({quote(v)}): type the text itself") for k, v in formulas]
                continue
            try:
                e = TypeAdapter(QuestionEntry).validate_python(raw)
            except ValidationError as exc:
                problems += [Problem(Severity.ERROR, name, where[0],
                                     _place(where, None, ".".join(map(str, err["loc"]))),
                                     _message(err))
                             for err in exc.errors()]
                continue
            problems += _cross_check(e, name, where, config, entries)
            entries.append(e)
    return entries, problems


def _formulas(raw: Any) -> list[tuple[str, str]]:
    """(column, formula) for each cell of a questions.xlsx row that holds a formula: its
    text would be the formula, not what the committee said."""
    return [(str(k), v) for k, v in raw.items() if isinstance(v, str) and v.startswith("=")]


def _place(where: Where, ref: str | None, field: str) -> str:
    """A YAML entry's place in words ("entry 1 (Q1), field owner"); a workbook row's is its
    column's name (the row is the finding's row)."""
    row, entry = where
    if row is not None:
        return field
    return f"{entry}{f' ({ref})' if ref else ''}" + (f", field {field}" if field else "")


def _cross_check(e: QuestionEntry, file: str, where: Where, config: Config,
                 before: list[QuestionEntry]) -> list[Problem]:
    def error(field: str, message: str) -> Problem:
        return Problem(Severity.ERROR, file, where[0], _place(where, e.ref, field),
                       message, e.indicator)

    out = []
    if e.indicator is not None and e.indicator not in config.by_code():
        out.append(error("indicator", f"indicator code {quote(e.indicator)} is not in "
                                      "indicators.yaml"))
    if e.owner is not None and e.owner not in config.owners:
        out.append(error("owner", f"expected an owner id in owners.yaml, found "
                                  f"{quote(e.owner)}"))
    if e.owner is None and e.indicator is None:
        out.append(error("owner", "a question needs an indicator or an owner to answer it"))
    if any(b.ref == e.ref for b in before):
        out.append(error("ref", f"a second question with the reference {quote(e.ref)}"))
    for name in ("answered", "closed"):
        when = getattr(e, name)
        if when is not None and when < e.meeting:
            out.append(error(name, f"expected a date on or after the meeting "
                                   f"({e.meeting.isoformat()}), found {when.isoformat()}"))
    return out


def owner_of(e: QuestionEntry, config: Config) -> str:
    if e.owner is not None:
        return e.owner
    assert e.indicator is not None
    return config.by_code()[e.indicator].owner


def track(entries: list[QuestionEntry], answers: list[Answer], stored: list[Tracked],
          config: Config) -> list[Tracked]:
    """Every question of the clerk's record after this run, with the answer from the record
    itself (it wins), else from a return, else as stored. A question the clerk deleted from
    the record is withdrawn: it is not returned, so no paper, return or reminder shows it
    (the store keeps its row as it was: `save_questions` deletes nothing). Pure: the caller
    stores it."""
    by_ref = {t.ref: t for t in stored}
    returned = {a.ref: a for a in answers}
    out: dict[str, Tracked] = {}
    for e in entries:
        if e.indicator is not None and e.indicator not in config.by_code():
            continue
        old = by_ref.get(e.ref)
        t = Tracked(e.ref, e.meeting, e.indicator, owner_of(e, config), e.kind, e.text,
                    old.answer if old else None, old.answered_by if old else None,
                    old.answered if old else None, e.closed or (old.closed if old else None))
        a = returned.get(e.ref)
        if e.answer is not None:
            t = replace(t, answer=e.answer, answered_by=e.answered_by,
                        answered=e.answered or t.answered)
        elif a is not None:
            t = replace(t, answer=a.text, answered_by=a.author, answered=a.written)
        out[e.ref] = t
    return sorted(out.values(), key=lambda t: (t.meeting, t.ref))


def last_meeting(tracked: list[Tracked], before: date | None, until: date) -> date | None:
    """The latest meeting with questions before `before` (the paper's meeting); a paper with
    no meeting takes the latest on or before `until` (its report date, else its cycle's
    end): never a later meeting's questions."""
    meetings = [t.meeting for t in tracked
                if (t.meeting < before if before is not None else t.meeting <= until)]
    return max(meetings, default=None)


def _at(place: str, severity: Severity, message: str, code: str | None = None) -> Problem:
    """A finding about an answer at its place in a return ("b.xlsx, sheet 'Questions', row
    2"), worded as the return's other findings are."""
    file = place.split(",")[0]
    return Problem(severity, file, None, place[len(file) + 2:] or None, message, code,
                   kind=RETURN)


def merge_answers(from_yaml: list[QuestionEntry], returned: list[Answer],
                  places: dict[str, str], config: Config
                  ) -> tuple[list[Answer], list[Problem]]:
    """The returns' answers less those to a question the record answers itself (the
    record wins, as the YAML files do over a return: docs/owners.md), with a warning where
    they differ; a finding for an answer to no question in the record, and an error for
    one from a return whose owner is not the question's (one owner may not answer as
    another)."""
    known = {e.ref: e for e in from_yaml}
    out, problems = [], []
    for a in returned:
        place = places.get(a.ref, "a return")
        e = known.get(a.ref)
        owner = owner_of(e, config) if e is not None and (
            e.owner or e.indicator in config.by_code()) else a.owner
        if e is None:
            problems.append(_at(place, Severity.WARNING, f"an answer to question "
                                f"{quote(a.ref)}, which is not in the committee's record "
                                "(questions.yaml); not used"))
        elif a.owner and a.owner != owner:
            problems.append(_at(place, Severity.ERROR, f"an answer to {a.ref}, a question for "
                                f"{quote(owner)}, in a return of {quote(a.owner)}: an owner "
                                "answers their own questions only; not used", e.indicator))
        elif e.answer is not None:
            if e.answer != a.text:
                problems.append(_at(place, Severity.WARNING, f"the answer to {a.ref} is also "
                                    "in the committee's record, which says otherwise: the "
                                    "record's is used"))
        else:
            out.append(a)
    return out, problems
