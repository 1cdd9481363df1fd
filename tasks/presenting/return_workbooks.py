"""Owners' return workbooks: what each owner is asked for this cycle, with cells to answer in.

One workbook per owner with something to answer: their exceptions (figure, target, rating,
why listed) with cells for commentary, author and date; their open deep dives with cells
for findings and a close date; the actions agreed, with cells to add or update them. What
is fixed is locked (the sheets are protected) and copied to a very hidden sheet, so that a
changed locked cell is found when the return is read (tasks.reading.owner_returns); choices come
from dropdowns, dates and text lengths are checked as they are typed. Restricted: it is the
owner's and shows their actual figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import MergedCell as _Merged
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from tasks.analysing.deep_dives import STATUS_WORDS, DeepDive, Status
from tasks.presenting.context import IndicatorView
from tasks.presenting.spreadsheets import workbook_bytes
from tasks.reading.commentary import Commentary
from tasks.reading.deep_dive_entries import DeepDiveEntry
from tasks.reading.owner_returns import (
    ABOUT,
    ACTION_HEADINGS,
    ACTIONS,
    COMMENTARY,
    COMMENTARY_HEADINGS,
    DEEP_DIVE_HEADINGS,
    DEEP_DIVES,
    FORMAT,
    KEY_CELLS,
    LIMITS,
    LISTS,
    MARKER,
    QUESTION_HEADINGS,
    QUESTIONS,
    SIGNATURE_CELL,
    cell_text,
    deep_dive_key,
    return_name,
    signature,
)
from tasks.reading.questions import Tracked
from tasks.settings.config import Config
from tasks.settings.periods import label

BLANK_ACTIONS = 10  # empty action rows to add new ones in
FILL = PatternFill("solid", fgColor="FFF2CC")  # the cells to fill in: pale yellow
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class ExceptionRow:
    code: str
    title: str
    period: str
    figure: str
    target: str
    rating: str
    why: str
    commentary: Commentary | None  # already given (YAML or an earlier return)


@dataclass(frozen=True)
class ActionRow:
    description: str
    owner: str
    due: date
    done: date | None


@dataclass(frozen=True)
class DeepDiveRow:
    code: str
    title: str
    opened: str
    status: str
    findings: str
    closed: date | None
    actions: tuple[ActionRow, ...]


@dataclass(frozen=True)
class QuestionRow:
    ref: str
    meeting: date
    indicator: str  # the code, or "" for a question about no one indicator
    kind: str  # Question, Recommendation
    text: str
    answer: str
    answered_by: str
    answered: date | None


@dataclass(frozen=True)
class OwnerReturn:
    """What one owner is asked for in one cycle."""

    authority: str
    authority_name: str
    cycle: str
    owner: str
    owner_name: str
    owner_role: str
    contact: str  # "Name (email)": where the return goes
    exceptions: tuple[ExceptionRow, ...]
    deep_dives: tuple[DeepDiveRow, ...]
    owners: tuple[str, ...]  # every owner id, for the actions' dropdown
    questions: tuple[QuestionRow, ...] = ()  # the committee's, open, for this owner

    @property
    def file_name(self) -> str:
        return return_name(self.authority, self.cycle, self.owner)


def owner_returns(config: Config, exceptions: Sequence[IndicatorView], register: list[DeepDive],
                  entries: dict[tuple[str, str], DeepDiveEntry],
                  commentary: list[Commentary], cycle: str,
                  periods: dict[str, str], questions: Sequence[Tracked] = ()
                  ) -> list[OwnerReturn]:
    """Each owner's return for the cycle, from the restricted edition's exceptions (the
    figures as the owner's email gives them; `periods`: each indicator's current period),
    the register and the committee's open questions; an owner with none of these gets
    none."""
    given = {(c.indicator, c.period): c for c in sorted(commentary, key=lambda c: c.date)}
    titles = {i.code: i.title for i in config.indicators}
    rows: dict[str, list[ExceptionRow]] = {}
    for v in exceptions:
        period = periods.get(v.code, cycle)
        rows.setdefault(v.owner_id, []).append(ExceptionRow(
            v.code, v.title, period, v.value, v.target, v.rag_label, v.why_listed,
            given.get((v.code, period))))
    dives: dict[str, list[DeepDiveRow]] = {}
    for d in register:
        if d.status is Status.CLOSED or d.indicator not in titles:
            continue
        e = entries.get((d.indicator, d.opened))
        owner = config.by_code()[d.indicator].owner
        dives.setdefault(owner, []).append(DeepDiveRow(
            d.indicator, titles[d.indicator], d.opened, STATUS_WORDS[d.status],
            (e.findings or "") if e else "", e.closed if e else None,
            tuple(ActionRow(a.description, a.owner, a.due, a.done)
                  for a in (e.actions if e else []))))
    asked: dict[str, list[QuestionRow]] = {}
    for q in questions:
        if q.closed is None and q.owner in config.owners:
            asked.setdefault(q.owner, []).append(QuestionRow(
                q.ref, q.meeting, q.indicator or "", q.kind.value.capitalize(), q.text,
                q.answer or "", q.answered_by or "", q.answered))
    b = config.briefing
    return [OwnerReturn(b.authority.code, b.authority.name, cycle, o, config.owners[o].name,
                        config.owners[o].role, f"{b.contact.name} ({b.contact.email})",
                        tuple(rows.get(o, [])), tuple(dives.get(o, [])),
                        tuple(config.owners), tuple(asked.get(o, [])))
            for o in config.owners if o in rows or o in dives or o in asked]


def _header(ws: Worksheet, columns: Sequence[str], widths: Sequence[int]) -> None:
    ws.append(list(columns))
    for i, w in enumerate(widths, start=1):
        ws.cell(1, i).font = Font(bold=True)
        ws.cell(1, i).alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"


def _fill_in(ws: Worksheet, row: int, first: int, last: int) -> None:
    """Cells the owner fills in: unlocked, shaded, wrapped."""
    for c in range(first, last + 1):
        cell = ws.cell(row, c)
        cell.protection = Protection(locked=False)
        cell.fill = FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _protect(ws: Worksheet) -> None:
    """Locked cells stay as written; columns and rows may still be resized."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _validations(ws: Worksheet) -> dict[str, DataValidation]:
    def add(dv: DataValidation) -> DataValidation:
        dv.showErrorMessage = True
        ws.add_data_validation(dv)
        return dv

    out = {"date": add(DataValidation(
        type="date", operator="greaterThan", formula1="36526", allow_blank=True,
        errorTitle="A date", error="Type a date, such as 2024-11-04."))}
    for name, limit in LIMITS.items():
        out[name] = add(DataValidation(
            type="textLength", operator="lessThanOrEqual", formula1=str(limit),
            allow_blank=True, errorTitle="Too long",
            error=f"At most {limit:,} characters."))
    return out


def _commentary_sheet(wb: Workbook, r: OwnerReturn) -> None:
    ws = wb.create_sheet(COMMENTARY)
    _header(ws, COMMENTARY_HEADINGS, (9, 34, 10, 12, 12, 10, 30, 70, 28, 13))
    checks = _validations(ws)
    for n, e in enumerate(r.exceptions, start=2):
        c = e.commentary
        ws.append([e.code, e.title, e.period, e.figure, e.target, e.rating, e.why,
                   c.text if c else None,
                   c.author if c else f"{r.owner_name}, {r.owner_role}",
                   c.date if c else None])
        for col in range(1, 8):
            ws.cell(n, col).alignment = Alignment(wrap_text=True, vertical="top")
        _fill_in(ws, n, 8, 10)
        ws.cell(n, 10).number_format = DATE_FORMAT
        checks["Commentary"].add(f"H{n}")
        checks["Author"].add(f"I{n}")
        checks["date"].add(f"J{n}")
    _protect(ws)


def _deep_dive_sheets(wb: Workbook, r: OwnerReturn) -> None:
    ws = wb.create_sheet(DEEP_DIVES)
    _header(ws, DEEP_DIVE_HEADINGS, (9, 34, 10, 18, 70, 13))
    checks = _validations(ws)
    for n, d in enumerate(r.deep_dives, start=2):
        ws.append([d.code, d.title, d.opened, d.status, d.findings or None, d.closed])
        _fill_in(ws, n, 5, 6)
        ws.cell(n, 6).number_format = DATE_FORMAT
        checks["Findings"].add(f"E{n}")
        checks["date"].add(f"F{n}")
    _protect(ws)
    acts = wb.create_sheet(ACTIONS)
    _header(acts, ACTION_HEADINGS, (24, 70, 26, 13, 13))
    checks = _validations(acts)
    n_dives, n_owners = max(len(r.deep_dives), 1), len(r.owners)
    pick_dive = DataValidation(type="list", formula1=f"{LISTS}!$A$2:$A${n_dives + 1}",
                               allow_blank=True, showErrorMessage=True,
                               error="Choose one of your open deep dives from the list.")
    pick_owner = DataValidation(type="list", formula1=f"{LISTS}!$B$2:$B${n_owners + 1}",
                                allow_blank=True, showErrorMessage=True,
                                error="Choose an owner from the list (ids in owners.yaml).")
    acts.add_data_validation(pick_dive)
    acts.add_data_validation(pick_owner)
    actions = [(deep_dive_key(d.code, d.opened), a) for d in r.deep_dives for a in d.actions]
    for n in range(2, len(actions) + BLANK_ACTIONS + 2):
        if n - 2 < len(actions):
            key, a = actions[n - 2]
            acts.append([key, a.description, a.owner, a.due, a.done])
        _fill_in(acts, n, 1, 5)
        for col in (4, 5):
            acts.cell(n, col).number_format = DATE_FORMAT
        pick_dive.add(f"A{n}")
        pick_owner.add(f"C{n}")
        checks["Description"].add(f"B{n}")
        checks["date"].add(f"D{n}")
        checks["date"].add(f"E{n}")
    _protect(acts)


def _questions_sheet(wb: Workbook, r: OwnerReturn) -> None:
    """The committee's open questions to this owner, with cells for the answer."""
    ws = wb.create_sheet(QUESTIONS)
    _header(ws, QUESTION_HEADINGS, (12, 12, 9, 14, 60, 70, 28, 13))
    checks = _validations(ws)
    for n, q in enumerate(r.questions, start=2):
        ws.append([q.ref, q.meeting, q.indicator or None, q.kind, q.text, q.answer or None,
                   q.answered_by or f"{r.owner_name}, {r.owner_role}", q.answered])
        for col in range(1, 6):
            ws.cell(n, col).alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(n, 2).number_format = DATE_FORMAT
        _fill_in(ws, n, 6, 8)
        ws.cell(n, 8).number_format = DATE_FORMAT
        checks["Answer"].add(f"F{n}")
        checks["Author"].add(f"G{n}")
        checks["date"].add(f"H{n}")
    _protect(ws)


def _lists(wb: Workbook, r: OwnerReturn) -> None:
    """The dropdowns' choices, on a hidden sheet."""
    ws = wb.create_sheet(LISTS)
    ws.append(["Deep dive", "Owner"])
    for i, d in enumerate(r.deep_dives, start=2):
        ws.cell(i, 1, deep_dive_key(d.code, d.opened))
    for i, o in enumerate(r.owners, start=2):
        ws.cell(i, 2, o)
    ws.sheet_state = "hidden"


ABOUT_TEXT = (
    "How to fill this in",
    "Yellow cells are yours to fill in; the rest is locked, as the briefing gave it.",
    "Commentary: for each exception, a few sentences for the committee: what lies behind "
    "the figure, what is being done, when the committee will see the effect. At most "
    f"{LIMITS['Commentary']:,} characters. Author: who it is from, as the paper should name "
    "them. Date written: left blank, the date you save the workbook.",
    "Deep dives: what the deep dive found, and the date the board closed it, if it has.",
    "Questions: what the committee asked or recommended at its last meetings, for you to "
    "answer; the paper prints each with its answer, or 'no answer received'.",
    "Actions: one row per action agreed: choose the deep dive and the owner from the lists, "
    "type the due date, and the date it was put in place (its impact is measured from "
    "then). Update a row already there; use an empty row for a new one.",
    "Type text and dates, not formulas. Save it as .xlsx (any name) and send it back: it is "
    "read by the next run of the briefing. Commentary on an exception the public edition "
    "does not show is printed in the restricted edition only.",
)


def _about(wb: Workbook, r: OwnerReturn) -> None:
    ws = wb.active
    assert ws is not None
    ws.title = ABOUT
    ws["A1"] = f"Return for {r.owner_name}, {r.owner_role}: {label(r.cycle)}"
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = f"{r.authority_name}. Send it back to {r.contact}."
    key = {"authority": r.authority, "cycle": r.cycle, "owner": r.owner, "format": FORMAT}
    names = {"authority": "Authority code", "cycle": "Cycle", "owner": "Owner id",
             "format": "Format"}
    for k, cell in KEY_CELLS.items():
        ws[cell] = key[k]
        ws[f"A{ws[cell].row}"] = names[k]
    for n, line in enumerate(ABOUT_TEXT, start=8):
        ws.cell(n, 1, line).alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=n, start_column=1, end_row=n, end_column=2)
        ws.row_dimensions[n].height = 15 if n == 8 else 60
    ws["A8"].font = Font(bold=True)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 90
    _protect(ws)


def _marker(wb: Workbook, key: bytes | None) -> None:
    """Every locked cell with a value, as written, on a very hidden sheet, signed with the
    run's key: the reader finds a changed one by comparing, and a changed marker by its
    signature (tasks.reading.owner_returns)."""
    locked = [(ws.title, cell.coordinate, cell_text(cell.value)) for ws in wb.worksheets
              if ws.title not in (LISTS,) for row in ws.iter_rows() for cell in row
              if cell.value is not None and cell.protection.locked
              and not isinstance(cell, _Merged)]
    ws = wb.create_sheet(MARKER)
    ws.append(["sheet", "cell", "value"])
    for item in locked:
        ws.append(list(item))
    ws[SIGNATURE_CELL] = signature(locked, key) if key else None
    ws.sheet_state = "veryHidden"


def return_workbook(r: OwnerReturn, generated_at: datetime, key: bytes | None) -> bytes:
    """The owner's return as .xlsx bytes (the same content and key give the same bytes);
    `key` is `return_key`'s (None: unsigned, and refused when it comes back)."""
    wb = Workbook()
    _about(wb, r)
    _commentary_sheet(wb, r)
    _deep_dive_sheets(wb, r)
    _questions_sheet(wb, r)
    _lists(wb, r)
    _marker(wb, key)
    return workbook_bytes(wb, generated_at, f"Return: {r.owner_name}, {label(r.cycle)}")
