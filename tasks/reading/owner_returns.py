"""Owners' return workbooks read back: commentary and deep-dive findings and actions.

Heads of service answer the performance team in a workbook, not YAML. Each cycle's run
writes every owner a return (tasks.presenting.return_workbooks); one dropped back into the exports
folder, or the folder `returns_folder:` in briefing.yaml names, is read by the next run and
used exactly as `commentary.yaml` and `deep_dives.yaml` are: the same typed items, merged
with theirs. It is checked as strictly as an export, and each fault is an error naming the
file, sheet and cell; the item it is in (one commentary, one deep dive) is left out and
the rest of the paper goes on (exit 4), as a faulty cell withholds one figure.

When a YAML file and a return give the same item differently, the YAML file's is used,
with a warning: the YAML files are the performance team's own, where they correct or
override what a return says without editing the owner's file (docs/owners.md).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import secrets
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from tasks.reading.commentary import Commentary
from tasks.reading.deep_dive_entries import Action, DeepDiveEntry
from tasks.reading.files import FileRefused, check_workbook, one_line, quote, read_small, refusal
from tasks.reading.problems import RETURN, Problem, Severity
from tasks.reading.questions import Answer
from tasks.settings.config import Config
from tasks.settings.periods import end_month, is_period

# The layout, shared with the writer (tasks.presenting.return_workbooks).
MARKER = "briefing-return"  # a very hidden sheet: the locked cells as written
ABOUT, COMMENTARY, DEEP_DIVES, ACTIONS, LISTS = (
    "About", "Commentary", "Deep dives", "Actions", "Lists")
KEY_CELLS = {"authority": "B3", "cycle": "B4", "owner": "B5", "format": "B6"}
FORMAT = "1"
COMMENTARY_HEADINGS = ("Indicator", "Title", "Period", "Figure", "Target", "Rating",
                       "Why listed", "Commentary", "Author", "Date written")
DEEP_DIVE_HEADINGS = ("Indicator", "Title", "Opened", "Status", "Findings", "Close date")
QUESTIONS = "Questions"
QUESTION_HEADINGS = ("Ref", "Meeting", "Indicator", "Asked", "Question or recommendation",
                     "Answer", "Answered by", "Date answered")
ACTION_HEADINGS = ("Deep dive", "Description", "Owner", "Due", "Done")
# Limits, as the YAML files' models have them.
LIMITS = {"Commentary": 2000, "Findings": 2000, "Description": 500, "Author": 200,
          "Answer": 2000}
T = TypeVar("T")
MAX_RETURN_BYTES = 5 << 20  # a return is a few sheets of text
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an encrypted (password) workbook, or an old .xls


KEY_FILE = ".return-key"  # in the config folder: the key returns are signed with
SIGNATURE_CELL = "E1"  # of the marker sheet: HMAC-SHA256 of its rows under the key


def return_key(config_dir: Path) -> bytes | None:
    """The key the run signs its returns' locked cells with, from `.return-key` in the
    config folder (the performance team's, which owners never get), made at first need;
    None when it cannot be read or made (every return is then refused, saying why). A key
    kept outside the workbook: the marker sheet alone, which an owner can edit, proves
    nothing."""
    path = Path(config_dir) / KEY_FILE
    if not path.exists():
        tmp = path.with_name(f"{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
            try:
                os.link(tmp, path)  # never replaces a key another run made meanwhile
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        except OSError:
            return None
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return key or None


def signature(written: Iterable[tuple[str, str, str]], key: bytes) -> str:
    """HMAC-SHA256 of the locked cells as written (sheet, cell, value), in a fixed order."""
    payload = json.dumps(sorted(written), ensure_ascii=False).encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def deep_dive_key(code: str, opened: str) -> str:
    """How a deep dive is named in the Actions sheet's dropdown: "CL01 opened 2024-09"."""
    return f"{code} opened {opened}"


def return_name(authority: str, cycle: str, owner: str) -> str:
    """`999-2024-10-return-head_care_leavers.xlsx`: an owner's return for a cycle."""
    return f"{authority}-{cycle}-return-{owner}.xlsx"


def is_return(path: Path) -> bool:
    """Whether an .xlsx is an owners' return (it has the marker sheet), by reading only the
    workbook's list of sheets: an owner may rename the file when saving it."""
    if path.suffix.lower() != ".xlsx" or not path.is_file():
        return False
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("xl/workbook.xml")
            if info.file_size > 1 << 20:
                return False
            return f'name="{MARKER}"'.encode() in z.read(info)
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


def looks_like_return(path: Path) -> bool:
    """Whether an exports-folder file is taken as an owner's return: it has the marker sheet,
    or, when it cannot be read as a workbook, its name is a return's as written
    (`return_name`: "-return-" in an .xlsx's name). Such a file that is damaged or saved
    with a password is a finding of the return, not a stop of the run (docs/owners.md)."""
    return is_return(path) or (path.suffix.lower() == ".xlsx" and path.is_file()
                               and "-return-" in path.name.lower())


@dataclass
class ReturnItems:
    """What the returns give: commentary, deep-dive entries, answers, the findings."""

    commentary: list[Commentary] = field(default_factory=list)
    deep_dives: list[DeepDiveEntry] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)  # to the committee's questions
    problems: list[Problem] = field(default_factory=list)
    # Where each item came from: (kind, indicator, period or opened) -> "file, sheet, row".
    places: dict[tuple[str, str, str], str] = field(default_factory=dict)


class _Fault(Exception):
    """A fault in one cell of a return: the item it is in is left out."""

    def __init__(self, sheet: str, cell: str, message: str) -> None:
        super().__init__(message)
        self.sheet, self.cell, self.message = sheet, cell, message


def _problem(file: str, sheet: str | None, cell: str | None, message: str,
             indicator: str | None = None, severity: Severity = Severity.ERROR) -> Problem:
    where = f"sheet '{sheet}', cell {cell}" if sheet and cell else \
        (f"sheet '{sheet}'" if sheet else None)
    return Problem(severity, file, None, where, message, indicator, kind=RETURN)


def cell_text(value: object) -> str:
    """A cell's value as the marker sheet keeps it: a date as 2024-11-04, blank as ''."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _text(ws: Any, cell: str, limit: int | None = None, name: str = "") -> str:
    """A cell's text ('' if blank): a formula or text over the limit is a fault."""
    value = ws[cell].value
    if isinstance(value, str) and ws[cell].data_type == "f":
        raise _Fault(ws.title, cell, f"holds a formula ({quote(value)}): type the text itself")
    text = cell_text(value).strip()
    if limit is not None and len(text) > limit:
        raise _Fault(ws.title, cell, f"{name or 'the text'} is {len(text):,} characters, "
                                     f"more than the {limit:,} allowed")
    return text


def _date(ws: Any, cell: str, today: date | None = None) -> date | None:
    """A date cell: a date, ISO text such as 2024-11-04, or blank; anything else a fault,
    and so is a date after `today` where one is given (what was written, done or closed
    cannot be dated in the future)."""
    when = _any_date(ws, cell)
    if today is not None and when is not None and when > today:
        raise _Fault(ws.title, cell, f"expected a date on or before today "
                                     f"({today.isoformat()}), found {when.isoformat()}")
    return when


def _any_date(ws: Any, cell: str) -> date | None:
    value = ws[cell].value
    if isinstance(value, str) and ws[cell].data_type == "f":
        raise _Fault(ws.title, cell, f"holds a formula ({quote(value)}): type the date itself")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise _Fault(ws.title, cell, f"expected a date such as 2024-11-04, found "
                                     f"{quote(value)}") from None


@dataclass
class _Return:
    """One return being read: its file name, workbook, key and what was written."""

    file: str
    wb: Any
    authority: str
    cycle: str
    owner: str
    written: dict[tuple[str, str], str]
    saved: date | None
    today: date | None = None  # the run's day: no date written, done or closed after it


def _open(path: Path, folder: Path) -> Any:
    from openpyxl import load_workbook

    try:
        data = read_small(folder, path, MAX_RETURN_BYTES, "returns folder")
    except OSError as exc:
        raise FileRefused(f"cannot be opened ({one_line(exc, 120)})") from None
    if data.startswith(OLE_MAGIC):
        raise FileRefused("is saved with a password or in the old .xls format (not an .xlsx "
                          "workbook): save it without a password as .xlsx")
    raw = io.BytesIO(data)
    try:
        check_workbook(raw)
        return load_workbook(raw, data_only=False)  # formulas as written, to refuse them
    except FileRefused:
        raise
    except Exception as exc:  # a damaged file: zipfile and openpyxl raise many kinds
        raise FileRefused(f"cannot be read as a workbook, it is damaged "
                          f"({one_line(exc, 120)})") from None


def _written(wb: Any, secret: bytes | None) -> dict[tuple[str, str], str]:
    """The locked cells as the run wrote them, from the marker sheet, once its signature
    under the run's key proves the run wrote them (else the return is refused)."""
    marker = wb[MARKER]
    written = {(str(r[0]), str(r[1])): "" if r[2] is None else str(r[2])
               for r in marker.iter_rows(min_row=2, max_col=3, values_only=True)
               if r[0] and r[1]}
    if secret is None:
        raise FileRefused(f"cannot be checked: the config folder's {KEY_FILE}, the key the "
                          "run signs returns with, cannot be read or made")
    found = cell_text(marker[SIGNATURE_CELL].value)
    want = signature(((s, c, v) for (s, c), v in written.items()), secret)
    if not hmac.compare_digest(found.encode(), want.encode()):
        raise FileRefused("its locked cells are not as this run wrote them (the hidden "
                          f"sheet '{MARKER}' was changed, or the return was written with "
                          f"another {KEY_FILE}): ask the owner to fill in the return as sent")
    return written


def _key(path: Path, folder: Path, config: Config, secret: bytes | None) -> _Return:
    """The return's key (authority, cycle, owner) and the locked cells as written."""
    wb = _open(path, folder)
    if MARKER not in wb.sheetnames or ABOUT not in wb.sheetnames:
        raise FileRefused("is not an owners' return (it has no 'About' and marker sheet)")
    about = wb[ABOUT]
    key = {k: cell_text(about[c].value).strip() for k, c in KEY_CELLS.items()}
    written = _written(wb, secret)
    for (sheet, cell), was in written.items():
        now = cell_text(about[cell].value) if sheet == ABOUT else was
        if now != was:
            raise FileRefused(f"sheet '{ABOUT}', cell {cell}: a locked cell was changed "
                              f"(written {quote(was)}, found {quote(now)})")
    if key["authority"] != config.briefing.authority.code:
        raise FileRefused(f"is a return for authority {quote(key['authority'])}, not "
                          f"{config.briefing.authority.code}")
    if not is_period(key["cycle"]):
        raise FileRefused(f"sheet '{ABOUT}', cell {KEY_CELLS['cycle']}: expected a period "
                          f"such as 2024-10, found {quote(key['cycle'])}")
    if key["owner"] not in config.owners:
        raise FileRefused(f"sheet '{ABOUT}', cell {KEY_CELLS['owner']}: owner "
                          f"{quote(key['owner'])} is not in owners.yaml")
    modified = wb.properties.modified
    return _Return(path.name, wb, key["authority"], key["cycle"], key["owner"], written,
                   modified.date() if isinstance(modified, datetime) else None)


class _Faults(_Fault):
    """Every fault of one row, the first as the fault itself."""

    def __init__(self, faults: list[_Fault]) -> None:
        super().__init__(faults[0].sheet, faults[0].cell, faults[0].message)
        self.faults = faults


class _Checks:
    """Every check of one row run, each fault kept: the owner hears of all of a row's
    faults at once, not one a run."""

    def __init__(self) -> None:
        self.faults: list[_Fault] = []

    def run(self, check: Callable[..., T], *args: Any) -> T | None:
        try:
            return check(*args)
        except _Fault as f:
            self.faults.append(f)
            return None

    def add(self, sheet: str, cell: str, message: str) -> None:
        self.faults.append(_Fault(sheet, cell, message))

    def done(self) -> None:
        if self.faults:
            raise _Faults(self.faults)


def _each(f: _Fault) -> list[_Fault]:
    return f.faults if isinstance(f, _Faults) else [f]


def _locked(ret: _Return, sheet: str, row: int, columns: int, checks: _Checks) -> None:
    """A fault for each locked cell of the row that differs from what was written."""
    from openpyxl.utils import get_column_letter

    ws = ret.wb[sheet]
    for c in range(1, columns + 1):
        cell = f"{get_column_letter(c)}{row}"
        was = ret.written.get((sheet, cell))
        if was is not None and cell_text(ws[cell].value) != was:
            checks.add(sheet, cell, f"a locked cell was changed (written {quote(was)}, "
                                    f"found {quote(cell_text(ws[cell].value))})")


def _indicator(ret: _Return, config: Config, sheet: str, row: int, checks: _Checks) -> str:
    """Column A's indicator code: in the catalogue and the return's owner's."""
    code = cell_text(ret.wb[sheet][f"A{row}"].value).strip()
    if code not in config.by_code():
        checks.add(sheet, f"A{row}", f"indicator code {quote(code)} is not in "
                                     "indicators.yaml")
    else:
        checks.run(_owned, ret, config, sheet, f"A{row}", code)
    return code


def _rows(ret: _Return, sheet: str) -> Iterable[int]:
    """The data rows of a sheet: those written, and any other with something in it."""
    if sheet not in ret.wb.sheetnames:
        return []
    ws = ret.wb[sheet]
    return range(2, max(ws.max_row, 1) + 1)


def _blank(ws: Any, row: int, columns: int) -> bool:
    return all(ws.cell(row, c).value in (None, "") for c in range(1, columns + 1))


def _owned(ret: _Return, config: Config, sheet: str, cell: str, code: str) -> None:
    """A fault unless the return's owner owns the indicator: one owner's return must not
    speak for, or crowd out, another's (a return's rows are not trusted as written)."""
    owner = config.by_code()[code].owner
    if owner != ret.owner:
        raise _Fault(sheet, cell, f"indicator {code} is owned by {quote(owner)}, not by this "
                                  f"return's owner {quote(ret.owner)}: an owner answers for "
                                  "their own indicators only")


def _commentary_row(ret: _Return, row: int, config: Config) -> Commentary | None:
    """One exception's commentary, or None when the owner wrote none."""
    ws = ret.wb[COMMENTARY]
    if (COMMENTARY, f"A{row}") not in ret.written:
        if _blank(ws, row, len(COMMENTARY_HEADINGS)):
            return None
        raise _Fault(COMMENTARY, f"A{row}", "a row the return was not written with: "
                                            "commentary goes beside an exception listed")
    c = _Checks()
    text = c.run(_text, ws, f"H{row}", LIMITS["Commentary"], "the commentary")
    author = c.run(_text, ws, f"I{row}", LIMITS["Author"], "the author")
    written = c.run(_date, ws, f"J{row}", ret.today)
    if text == "":
        return None
    _locked(ret, COMMENTARY, row, 7, c)
    code = _indicator(ret, config, COMMENTARY, row, c)
    period = cell_text(ws[f"C{row}"].value).strip()
    if not is_period(period):
        c.add(COMMENTARY, f"C{row}", f"expected a period such as 2024-10, found "
                                     f"{quote(period)}")
    when = written or ret.saved
    if when is None and not any(f.cell == f"J{row}" for f in c.faults):
        c.add(COMMENTARY, f"J{row}", "expected the date it was written, such as "
                                     "2024-11-04, found nothing")
    c.done()
    assert text is not None and when is not None
    owner = config.owners[ret.owner]
    return Commentary(indicator=code, period=period, author=author or
                      f"{owner.name}, {owner.role}", date=when, text=text)


def _action(ret: _Return, row: int, config: Config) -> Action:
    ws = ret.wb[ACTIONS]
    c = _Checks()
    description = c.run(_text, ws, f"B{row}", LIMITS["Description"], "the description")
    owner = c.run(_text, ws, f"C{row}")
    due, done = c.run(_date, ws, f"D{row}"), c.run(_date, ws, f"E{row}", ret.today)
    if description == "":
        c.add(ACTIONS, f"B{row}", "an action needs a description, found none")
    if owner is not None and owner not in config.owners:
        c.add(ACTIONS, f"C{row}", f"expected an owner id in owners.yaml (choose from the "
                                  f"list), found {quote(owner)}")
    if due is None and not any(f.cell == f"D{row}" for f in c.faults):
        c.add(ACTIONS, f"D{row}", "an action needs a due date, such as 2024-12-20")
    c.done()
    assert description is not None and owner is not None and due is not None
    return Action(description=description, owner=owner, due=due, done=done)


def _deep_dive_row(ret: _Return, row: int, config: Config) -> tuple[str, DeepDiveEntry]:
    ws = ret.wb[DEEP_DIVES]
    if (DEEP_DIVES, f"A{row}") not in ret.written:
        raise _Fault(DEEP_DIVES, f"A{row}", "a row the return was not written with: a deep "
                                            "dive is opened by the committee's rule")
    c = _Checks()
    _locked(ret, DEEP_DIVES, row, 4, c)
    code = _indicator(ret, config, DEEP_DIVES, row, c)
    opened = cell_text(ws[f"C{row}"].value).strip()
    if not is_period(opened):
        c.add(DEEP_DIVES, f"C{row}", f"expected a period such as 2024-09, found "
                                     f"{quote(opened)}")
    findings = c.run(_text, ws, f"E{row}", LIMITS["Findings"], "the findings")
    closed = c.run(_date, ws, f"F{row}", ret.today)
    c.done()
    return deep_dive_key(code, opened), DeepDiveEntry(
        indicator=code, opened=opened, findings=findings or None, closed=closed)


def _answer_row(ret: _Return, row: int, config: Config) -> Answer | None:
    """An answer to one of the committee's questions, or None when none was written."""
    ws = ret.wb[QUESTIONS]
    if (QUESTIONS, f"A{row}") not in ret.written:
        if _blank(ws, row, len(QUESTION_HEADINGS)):
            return None
        raise _Fault(QUESTIONS, f"A{row}", "a row the return was not written with: the "
                                           "clerk records the committee's questions")
    c = _Checks()
    text = c.run(_text, ws, f"F{row}", LIMITS["Answer"], "the answer")
    author = c.run(_text, ws, f"G{row}", LIMITS["Author"], "the author")
    written = c.run(_date, ws, f"H{row}", ret.today)
    if text == "":
        return None
    _locked(ret, QUESTIONS, row, 5, c)
    when = written or ret.saved
    if when is None and not any(f.cell == f"H{row}" for f in c.faults):
        c.add(QUESTIONS, f"H{row}", "expected the date it was answered, such as "
                                    "2024-12-04, found nothing")
    c.done()
    assert text is not None and when is not None
    owner = config.owners[ret.owner]
    return Answer(cell_text(ws[f"A{row}"].value).strip(), text,
                  author or f"{owner.name}, {owner.role}", when, ret.owner)


def _answers(ret: _Return, config: Config, out: ReturnItems) -> None:
    for row in _rows(ret, QUESTIONS):
        try:
            a = _answer_row(ret, row, config)
        except _Fault as f:
            out.problems += [_problem(ret.file, g.sheet, g.cell, g.message) for g in _each(f)]
            continue
        if a is not None:
            out.answers.append(a)
            out.places[("answer", a.ref, "")] = f"{ret.file}, sheet '{QUESTIONS}', row {row}"


def _read_one(ret: _Return, config: Config, out: ReturnItems) -> None:
    """Every item of one return into `out`; a faulty item is a finding, not used."""
    def fault(f: _Fault, code: str | None = None) -> None:
        out.problems += [_problem(ret.file, g.sheet, g.cell, g.message, code)
                         for g in _each(f)]

    for row in _rows(ret, COMMENTARY):
        try:
            c = _commentary_row(ret, row, config)
        except _Fault as f:
            fault(f, cell_text(ret.wb[COMMENTARY][f"A{row}"].value) or None)
            continue
        if c is not None:
            out.commentary.append(c)
            out.places[("commentary", c.indicator, c.period)] = \
                f"{ret.file}, sheet '{COMMENTARY}', row {row}"
    dives: dict[str, DeepDiveEntry | None] = {}
    for row in _rows(ret, DEEP_DIVES):
        if _blank(ret.wb[DEEP_DIVES], row, len(DEEP_DIVE_HEADINGS)):
            continue
        try:
            name, entry = _deep_dive_row(ret, row, config)
        except _Fault as f:
            fault(f, cell_text(ret.wb[DEEP_DIVES][f"A{row}"].value) or None)
            key = (cell_text(ret.wb[DEEP_DIVES][f"A{row}"].value),
                   cell_text(ret.wb[DEEP_DIVES][f"C{row}"].value))
            dives[deep_dive_key(*key)] = None
            continue
        dives[name] = entry
        out.places[("deep dive", entry.indicator, str(entry.opened))] = \
            f"{ret.file}, sheet '{DEEP_DIVES}', row {row}"
    _actions(ret, config, dives, fault)
    out.deep_dives += [e for e in dives.values() if e is not None]
    _answers(ret, config, out)


def _actions(ret: _Return, config: Config, dives: dict[str, DeepDiveEntry | None],
             fault: Any) -> None:
    """Each action row onto its deep dive; a fault in one leaves its deep dive out."""
    ws = ret.wb[ACTIONS] if ACTIONS in ret.wb.sheetnames else None
    if ws is None:
        return
    for row in _rows(ret, ACTIONS):
        if _blank(ws, row, len(ACTION_HEADINGS)):
            continue
        name = cell_text(ws[f"A{row}"].value).strip()
        try:
            _text(ws, f"A{row}")  # a formula there is a fault
            if name not in dives:
                raise _Fault(ACTIONS, f"A{row}", f"expected one of the deep dives of sheet "
                                                 f"'{DEEP_DIVES}' ({', '.join(dives) or 'none'}),"
                                                 f" found {quote(name)}")
            action = _action(ret, row, config)
        except _Fault as f:
            fault(f, name.split(" ")[0] if name else None)
            if name in dives:
                dives[name] = None  # the deep dive is used whole or not at all
            continue
        entry = dives[name]
        if entry is not None:
            dives[name] = entry.model_copy(update={"actions": [*entry.actions, action]})


def returns_folders(config_dir: Path, exports_dir: Path, config: Config) -> list[Path]:
    """Where returns are read from: the exports folder, and `returns_folder:` in
    briefing.yaml (relative to the config folder) when it names one."""
    named = config.briefing.returns_folder
    return [exports_dir] + ([config_dir / named] if named else [])


def return_files(folders: Iterable[Path]) -> tuple[list[tuple[Path, Path]], list[Problem]]:
    """(folder, file) for every owners' return in the folders, in name order, and a warning
    for each other file of a `returns_folder:` (every file there is meant as a return: one
    not read must not vanish without a word). In the exports folder (the first) a return is
    a file `looks_like_return` says is one; the rest are exports."""
    out: list[tuple[Path, Path]] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for n, folder in enumerate(folders):
        if not folder.is_dir() or folder.resolve() in seen:
            continue
        seen.add(folder.resolve())
        for p in sorted(folder.iterdir()):
            if p.name.startswith((".", "~$")):
                continue
            why = refusal(folder, p, "returns folder")
            if why is None and (looks_like_return(p) if n == 0 else
                                p.suffix.lower() == ".xlsx"):
                out.append((folder, p))
            elif n > 0:
                problems.append(_problem(p.name, None, None, f"in the returns folder but "
                                         f"{why or 'not an .xlsx workbook'}: not read as a "
                                         "return", severity=Severity.WARNING))
    return out, problems


def read_returns(folders: Iterable[Path], config: Config, cycle: str,
                 secret: bytes | None, today: date | None = None) -> ReturnItems:
    """Every return in the folders (the exports folder first) for this cycle or before (a
    later cycle's is left for its own run), each item checked; the same item twice is
    settled by `_settle`. A further folder that is not one is a warning. `secret` is
    `return_key`'s: a return whose signature it does not prove is refused whole. `today`
    (the entry point's clock): a date written, done or closed after it is a fault."""
    found: list[tuple[_Return, ReturnItems]] = []
    folders = list(folders)
    problems = [Problem(Severity.WARNING, "briefing.yaml", None, "returns_folder",
                        f"{f} is not a folder: owners' returns are read from the exports "
                        "folder alone", kind=RETURN)
                for f in folders[1:] if not f.is_dir()]
    files, unread = return_files(folders)
    problems += unread
    for folder, path in files:
        try:
            ret = _key(path, folder, config, secret)
        except FileRefused as exc:
            problems.append(_problem(path.name, None, None, f"{exc}; the return is not used"))
            continue
        if end_month(ret.cycle) > end_month(cycle):
            continue
        items = ReturnItems()
        ret.today = today
        _read_one(ret, config, items)
        found.append((ret, items))
    out = _settle(found)
    out.problems = problems + out.problems
    return out


def _settle(found: list[tuple[_Return, ReturnItems]]) -> ReturnItems:
    """One of each item. A deep dive is taken from the latest cycle's return that gives it
    (each return starts from everything before it); two returns of that same cycle giving
    it differently is an error and neither is used (which is the owner's answer?); the
    same in both, a warning."""
    out = ReturnItems()
    for _, items in found:
        out.problems += items.problems
    commentary: dict[tuple[str, str], list[tuple[_Return, Commentary]]] = {}
    dives: dict[tuple[str, str], list[tuple[_Return, DeepDiveEntry]]] = {}
    for ret, items in found:
        for c in items.commentary:
            commentary.setdefault((c.indicator, c.period), []).append((ret, c))
        for e in items.deep_dives:
            dives.setdefault((e.indicator, str(e.opened)), []).append((ret, e))
    for (code, period), given in commentary.items():
        c = _one(given, "commentary", code, period, out)
        if c is not None:
            out.commentary.append(c)
    for (code, opened), given2 in dives.items():
        e = _one(given2, "deep dive", code, opened, out)
        if e is not None:
            out.deep_dives.append(e)
    answers: dict[str, list[tuple[_Return, Answer]]] = {}
    for ret, items in found:
        for a in items.answers:
            answers.setdefault(a.ref, []).append((ret, a))
    for ref, given3 in answers.items():
        a = _one(given3, "answer", ref, "", out)
        if a is not None:
            out.answers.append(a)
    for _, items in found:
        out.places.update(items.places)
    return out


def _one(given: list[tuple[_Return, Any]], kind: str, code: str, when: str,
         out: ReturnItems) -> Any:
    latest = max(end_month(r.cycle) for r, _ in given)
    mine = [(r, item) for r, item in given if end_month(r.cycle) == latest]
    if len(mine) == 1:
        return mine[0][1]
    files = " and ".join(r.file for r, _ in mine)
    what = f"the {kind} for {code}" + (f" {when}" if when else "")
    if all(item == mine[0][1] for _, item in mine):
        out.problems.append(_problem(mine[0][0].file, None, None,
                                     f"{what} is given by two returns ({files}), the same in "
                                     "each: used once", code, Severity.WARNING))
        return mine[0][1]
    out.problems.append(_problem(mine[0][0].file, None, None,
                                 f"{what} is given differently by two returns ({files}): "
                                 "neither is used; keep the one that is the owner's answer",
                                 code))
    return None


def merge_commentary(from_yaml: list[Commentary], returned: ReturnItems
                     ) -> tuple[list[Commentary], list[Problem]]:
    """commentary.yaml's entries and the returns', one per indicator and period: where both
    give one differently, the YAML file's (the module docstring says why), with a warning."""
    mine = {(c.indicator, c.period): c for c in from_yaml}
    out, problems = list(from_yaml), []
    for c in returned.commentary:
        other = mine.get((c.indicator, c.period))
        if other is None:
            out.append(c)
        elif (other.text, other.author) != (c.text, c.author):
            problems.append(_overridden("commentary.yaml", "commentary", c.indicator,
                                        c.period, returned))
    return out, problems


def merge_deep_dives(from_yaml: list[DeepDiveEntry], returned: ReturnItems
                     ) -> tuple[list[DeepDiveEntry], list[Problem]]:
    """deep_dives.yaml's entries and the returns': a YAML entry for the same deep dive (its
    `opened`, or none given: the indicator's) wins where they differ, with a warning."""
    out, problems = list(from_yaml), []
    for e in returned.deep_dives:
        other = next((y for y in from_yaml if y.indicator == e.indicator
                      and y.opened in (None, e.opened)), None)
        if other is None:
            out.append(e)
        elif (other.findings, other.actions, other.closed) != (e.findings, e.actions,
                                                               e.closed):
            problems.append(_overridden("deep_dives.yaml", "deep dive", e.indicator,
                                        str(e.opened), returned))
    return out, problems


def _overridden(yaml_file: str, kind: str, code: str, when: str,
                returned: ReturnItems) -> Problem:
    place = returned.places.get((kind, code, when), "a return")
    file = place.split(",")[0]
    return Problem(Severity.WARNING, file, None, place[len(file) + 2:] or None,
                   f"the {kind} for {code} {when} is also in {yaml_file}, which says "
                   f"otherwise: {yaml_file}'s is used (the performance team's file, where a "
                   "return is corrected); delete its entry there to use the owner's",
                   code, kind=RETURN)
