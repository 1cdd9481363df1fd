"""Read the month's exports (CSV and XLSX) into canonical records, naming every problem.

Cells are read as text and parsed here, not by pandas' guessing, so that `52%`, `52`,
`£1,234`, a blank, `c` and `n/a` are each treated on purpose, and every finding can name
the file, the spreadsheet row and the column a person would look at. How each file is laid
out comes from `sources.yaml` (see `tasks.reading.sources`). A cell that cannot be read is kept as
a record with its fault (`error`), so that its figure is withheld by name rather than
silently missing (see `tasks.checking.reconcile`).
"""

from __future__ import annotations

import csv
import math
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar, cast

import numpy as np
import pandas as pd

from tasks.reading.child_records import child_records
from tasks.reading.files import (
    MAX_TABLE_CELLS,
    Counter,
    FileRefused,
    Limits,
    bounded_lines,
    check_workbook,
    one_line,
    open_regular,
    quote,
    refusal,
    text_stream,
)
from tasks.reading.owner_returns import looks_like_return
from tasks.reading.parts import is_whole, part_fault
from tasks.reading.problems import Findings, Problem, Severity, cell_fault
from tasks.reading.sources import (
    DEFAULT_MARKERS,
    DfeMeasure,
    DfeSource,
    LongSource,
    Population,
    RowRef,
    Sources,
    WideSource,
    markers,
)
from tasks.reading.time_identifiers import KINDS, TimeIdentifierError, ees_period, kind_of
from tasks.settings.frames import BENCHMARKS, PARTS, RECORDS
from tasks.settings.periods import Frequency, is_period, parse_month, short_label

T = TypeVar("T")

REQUIRED = ("indicator", "period", "value")
OPTIONAL = ("numerator", "denominator", "authority")
SUPPORTED = {".csv", ".xlsx"}
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?\Z")
LA_LEVEL = "Local authority"
# A header row is looked for among the first rows only: title rows, not a whole file.
HEADER_SEARCH_ROWS = 200


@dataclass(frozen=True)
class Cell:
    """A cell as read: its text, and whether the spreadsheet formatted it as a percentage."""

    text: str
    percent_format: bool = False
    money_format: bool = False  # a currency format in pounds (£#,##0)


EMPTY = Cell("")
Row = tuple[int, list[Cell]]


class Table:
    """The non-empty rows of a sheet, streamed once, each with the row number a person
    would see; `count` says how many have been read so far."""

    def __init__(self, name: str, rows: Iterable[Row]) -> None:
        self.name = name
        self._rows = iter(rows)
        self.count = 0

    def __iter__(self) -> Iterator[Row]:
        for row in self._rows:
            self.count += 1
            yield row


@dataclass
class Ingested:
    records: pd.DataFrame  # the authority's own records (tasks.settings.frames.RECORDS)
    benchmarks: pd.DataFrame  # every geography's published values (frames.BENCHMARKS)
    neighbours: dict[str, list[str]]  # DfE code -> its statistical neighbours' codes
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # file -> canonical column -> the heading in that file, so findings name what people see
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    # What scorecards say about each indicator (wide layout's title, target and polarity
    # columns, and the section it sits under): code -> Metadata, the first file's.
    metadata: dict[str, Metadata] = field(default_factory=dict)
    # Parts of indicators' figures from breakdown columns (tasks.settings.frames.PARTS).
    breakdowns: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class Metadata:
    """A scorecard row's own words about its indicator, as written, and where."""

    file: str
    row: int
    title: str = ""
    target: str = ""
    polarity: str = ""
    section: str = ""
    # The headings of the target and polarity columns, so findings name them.
    target_heading: str = ""
    polarity_heading: str = ""


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _trimmed(cells: list[Cell]) -> list[Cell]:
    """Without trailing blank cells: a stray far-right cell costs nothing in the rows above."""
    end = len(cells)
    while end and not cells[end - 1].text:
        end -= 1
    return cells[:end]


def csv_rows(path: Path, limits: Limits | None = None) -> Iterator[Row]:
    """A CSV's non-empty rows, streamed (the file is never held whole), within the limits."""
    counter = Counter(limits or Limits())
    with open_regular(path) as fh:
        text = text_stream(fh)
        for n, rec in enumerate(strict_csv(bounded_lines(text)), start=1):
            counter.reached(n)
            cells = _trimmed([Cell(sys.intern(c.strip())) if len(c) < 16 else Cell(c.strip())
                              for c in rec])
            if cells:
                counter.add(n, len(rec))
                yield n, cells


def strict_csv(lines: Iterator[str]) -> Iterator[list[str]]:
    """CSV rows, quoting read strictly: a quote never closed would otherwise make the rest
    of the file one cell (twenty indicators "not collected" from one stray `"`), and text
    after a closing quote would be joined on silently. Either stops the file, naming the
    line where the row began."""
    reader = csv.reader(lines, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            why = str(exc)
            if "unexpected end of data" in why or "field larger than field limit" in why:
                raise FileRefused(
                    f"line {start:,}: a quote (\") opened in this row is never closed, so "
                    "the rest of the file would be read as one cell; expected each quoted "
                    "cell to end with a quote") from None
            raise FileRefused(f"line {reader.line_num:,}: not valid CSV ({why}); expected "
                              "a quoted cell to be followed by a comma or the end of the "
                              "line") from None


def read_csv_table(path: Path, limits: Limits | None = None) -> Table:
    return Table(path.name, csv_rows(path, limits))


def xlsx_rows(path: Path, sheet: str | None = None,
              limits: Limits | None = None) -> Iterator[Row]:
    """A workbook's non-empty rows, streamed read-only, ignoring the sheet's declared size.

    A sheet may declare (or hold one cell at) XFD1048576: reading it whole, or padding every
    row to its declared width, would take minutes and gigabytes. Rows are read as stored,
    blank ones skipped, and each row only as wide as its own last cell.
    """
    from openpyxl import load_workbook

    counter = Counter(limits or Limits())
    with open_regular(path) as fh:
        check_workbook(fh)
        wb = load_workbook(fh, read_only=True, data_only=True)  # values, not formulas
        try:
            if sheet is not None and sheet not in wb.sheetnames:
                raise FileRefused(f"has no sheet named {quote(sheet)} (sheets: "
                                  f"{', '.join(quote(n) for n in wb.sheetnames[:20])})")
            ws = wb[sheet] if sheet is not None else wb.worksheets[0]
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()  # trust the cells, not the declared dimension
            for n, row in enumerate(ws.iter_rows(), start=1):
                counter.reached(n)
                if not row:
                    continue
                counter.add(n, len(row))
                cells = _trimmed([
                    EMPTY if c.value is None else
                    Cell(_cell_text(c.value),
                         "%" in (c.number_format or "") and isinstance(c.value, int | float),
                         "£" in (c.number_format or "") and isinstance(c.value, int | float))
                    for c in row])
                if cells:
                    yield n, cells
        finally:
            wb.close()


def read_xlsx_table(path: Path, sheet: str | None = None, limits: Limits | None = None) -> Table:
    return Table(path.name, xlsx_rows(path, sheet, limits))


def find_header(rows: Iterable[Row], is_header: Callable[[list[Cell]], bool],
                search: int = HEADER_SEARCH_ROWS) -> tuple[Row | None, Row | None]:
    """(the header row, the first row) among the first `search` rows; the caller goes on
    reading the same iterator for the data below the header."""
    first: Row | None = None
    for k, row in enumerate(rows):
        first = first or row
        if is_header(row[1]):
            return row, first
        if k + 1 >= search:
            break
    return None, first


def _headings(row: Row | None, most: int = 6) -> str:
    """The cells of a row that should have been the header: each cut short, and only the
    first few, so a file that is not an export at all is not echoed into a message."""
    texts = [c.text for c in row[1] if c.text] if row else []
    shown = ", ".join(quote(t, 30) for t in texts[:most])
    more = f" and {len(texts) - most} more" if len(texts) > most else ""
    return (shown + more) or "nothing"


def duplicate_headings(table: str, row_no: int, header: list[Cell], wanted: dict[str, str],
                       problems: list[Problem]) -> bool:
    """Two columns with the same heading that is read: which one is meant is a guess, so it
    is an error naming both. Returns whether there was one."""
    found = False
    norm = [c.text.strip().lower() for c in header]
    for heading in wanted.values():
        cols = [i for i, t in enumerate(norm) if t == heading.strip().lower()]
        if len(cols) > 1:
            found = True
            letters = " and ".join(_letter(i) for i in cols)
            problems.append(Problem(
                Severity.ERROR, table, row_no, header[cols[0]].text,
                f"columns {letters} both have the heading {quote(header[cols[0]].text)}; "
                "expected one such column (rename or delete the other)"))
    return found


def parse_number(text: str) -> tuple[float | None, bool, str | None]:
    """Parse '52', '52%', '1,234', ' 3.5 '. Returns (number, had_percent_sign, error)."""
    t = text.strip()
    if t == "":
        return None, False, None
    pct = t.endswith("%")
    if pct:
        t = t[:-1].strip()
    if not _NUMBER.match(t) or t in {"", "+", "-", "."}:
        return None, pct, f"expected a number such as 52 or 52%, found {quote(text)}"
    value = float(t.replace(",", ""))
    if math.isnan(value) or math.isinf(value):
        return None, pct, f"expected a finite number, found {quote(text)}"
    return value, pct, None


def parse_period(text: str) -> str | None:
    """A period as YYYY-MM, YYYY-Qn or YYYY, or a month as people and Excel write it."""
    t = text.strip()
    return t if is_period(t) else parse_month(t)


def parse_money(text: str) -> tuple[str, bool]:
    """A cell's text without its pound sign ('£1,250', '-£30', '£ 12.50'), and whether it
    had one."""
    t = text.strip()
    for sign in ("-", "−", ""):
        if t.startswith(sign + "£"):
            return ("-" if sign else "") + t[len(sign) + 1:].strip(), True
    return text, False


def _number_cell(c: Cell, marks: dict[str, str] | None = None
                 ) -> tuple[float | None, bool, str | None, str | None, bool]:
    """(number, percent, the marker if it is one (the reason there is no number), error,
    money) for one value cell; `marks` are the source's "not available" markers."""
    marker = c.text.strip()
    if marker.lower() in (DEFAULT_MARKERS if marks is None else marks):
        return None, False, marker, None, False  # the marker as written is the reason
    text, money = parse_money(c.text)
    number, pct, err = parse_number(text)
    if number is not None and c.percent_format:
        number = round(number * 100, 10)  # Excel stores 52% as 0.52
        pct = True
    return number, pct, None, err, money or c.money_format


class Records:
    """Canonical records built column by column: a million rows as eleven lists, not a
    million dictionaries."""

    def __init__(self) -> None:
        self.columns: dict[str, list[object]] = {c: [] for c in RECORDS.columns}
        self._appends = [column.append for column in self.columns.values()]

    def add(self, file: str, row: int, column: str, indicator: str, period: str,
            value: float | None, numerator: float | None = None,
            denominator: float | None = None, authority: str | None = None,
            percent_sign: bool = False, reason: str | None = None,
            error: str | None = None, money_sign: bool = False) -> None:
        for append, v in zip(self._appends, (file, row, column, indicator, period, value,
                                             numerator, denominator, authority, percent_sign,
                                             reason, error, money_sign), strict=True):
            append(v)

    def frame(self) -> pd.DataFrame:
        return records_frame(self.columns)


def records_frame(out: list[dict[str, object]] | dict[str, list[object]]) -> pd.DataFrame:
    frame = pd.DataFrame(out, columns=RECORDS.columns)
    for name in ("value", "numerator", "denominator"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["row"] = frame["row"].astype("int64")
    return frame


def long_records(table: Table, source: LongSource | None, problems: list[Problem],
                 headers: dict[str, dict[str, str]] | None = None,
                 parts: list[dict[str, object]] | None = None) -> pd.DataFrame:
    """One row per indicator and period; the header may sit below title rows. A row with a
    value in one of the source's `breakdowns` columns is a part of its indicator's figure:
    it goes to `parts` (tasks.analysing.breakdowns), not among the records."""
    rows = iter(table)
    layout = _long_layout(table.name, source, rows, problems)
    if layout is None:
        return records_frame([])
    if headers is not None:
        headers[table.name] = layout.header_of
    out = Records()
    marks = markers(source.missing if source else None)
    data_rows = 0
    for row_no, cells in rows:
        data_rows += 1
        _long_row(table.name, layout, row_no, cells, marks, problems, out, parts)
    if data_rows == 0:
        problems.append(Problem(Severity.WARNING, table.name, None, None, "has no data rows"))
    return out.frame()


@dataclass(frozen=True)
class _LongLayout:
    """A long export's header row as read: each canonical column's place and heading, and
    the breakdown columns present."""

    pos: dict[str, int]  # canonical column -> its place
    header_of: dict[str, str]  # canonical column -> its heading in the file
    split_by: list[tuple[str, int]]  # (breakdown heading, column)

    def cell(self, cells: list[Cell], name: str) -> Cell:
        i = self.pos.get(name)
        return cells[i] if i is not None and i < len(cells) else EMPTY

    def heading(self, name: str) -> str:
        return self.header_of.get(name, name)


def _long_layout(file: str, source: LongSource | None, rows: Iterator[tuple[int, list[Cell]]],
                 problems: list[Problem]) -> _LongLayout | None:
    """The header row (the first with every required column, by the names sources.yaml
    gives them); None, with an error, when there is none or it names a column twice."""
    renames: dict[str, str] = {str(k): v for k, v in source.columns.items()} if source else {}
    names = {c: renames.get(c, c) for c in (*REQUIRED, *OPTIONAL)}
    want = {names[c].strip().lower() for c in REQUIRED}
    found, first = find_header(rows, lambda cells: want <= {c.text.strip().lower()
                                                            for c in cells})
    if found is None:
        if first is None:
            problems.append(Problem(Severity.WARNING, file, None, None, "has no data rows"))
        problems.append(Problem(
            Severity.ERROR, file, first[0] if first else None, None,
            f"no header row with the columns {', '.join(names[c] for c in REQUIRED)} "
            f"(optional: {', '.join(names[c] for c in OPTIONAL)}) in the first "
            f"{HEADER_SEARCH_ROWS} rows; the first row has {_headings(first)}"))
        return None
    header_row, header = found
    if duplicate_headings(file, header_row, header, names, problems):
        return None
    norm = [c.text.strip().lower() for c in header]
    pos = {c: norm.index(n.strip().lower()) for c, n in names.items()
           if n.strip().lower() in norm}
    split_by = [(b, norm.index(b.strip().lower())) for b in (source.breakdowns if source else [])
                if b.strip().lower() in norm]
    return _LongLayout(pos, {c: header[i].text for c, i in pos.items()}, split_by)


def _long_row(file: str, layout: _LongLayout, row_no: int, cells: list[Cell],
              marks: dict[str, str], problems: list[Problem], out: Records,
              parts: list[dict[str, object]] | None) -> None:
    """One row of a long export: a record (a faulty cell's figure withheld, with where the
    fault is), a part of one, or a finding."""

    def bad(column: str, message: str, indicator: str | None = None, group: str = "",
            period: str | None = None) -> None:
        problems.append(cell_fault(file, row_no, layout.heading(column), message, indicator,
                                   period, group))

    code = layout.cell(cells, "indicator").text
    if not code:
        bad("indicator", "expected an indicator code, found a blank cell",
            group="with a blank indicator code")
        return
    period_text = layout.cell(cells, "period").text
    period = parse_period(period_text)
    if period is None:
        bad("period", f"expected a period such as 2024-10 (a month), 2024-Q3 or 2025, "
                      f"found {quote(period_text)}", code, group="with a bad period")
        return
    part = next(((b, cells[i].text) for b, i in layout.split_by
                 if i < len(cells) and cells[i].text and not is_whole(cells[i].text)), None)
    numbers: list[float | None] = []
    percent_sign, money_sign, reason, fault = False, False, None, None
    for name in ("value", "numerator", "denominator"):
        c = layout.cell(cells, name)
        if not c.text:
            numbers.append(None)
            continue
        number, pct, marker, err, money = _number_cell(c, marks)
        if not err and pct and name != "value":
            shown = "a cell formatted as a percentage" if c.percent_format else quote(c.text)
            err = (f"a {name} is a number of children, not a percentage: expected a "
                   f"whole number, found {shown}")
        if err and part is not None:  # that part is not used; the figure stands
            problems.append(part_fault(file, row_no, layout.heading(name), code, period,
                                       part[0], part[1], err, group="with a bad part"))
        elif err:
            bad(name, err, code, group="with a bad number", period=period)
        fault = fault or (layout.heading(name) if err else None)
        numbers.append(number)
        if name == "value":
            percent_sign, money_sign, reason = pct, money, marker
    authority = layout.cell(cells, "authority").text or None
    if part is not None:
        if parts is not None and not fault:
            parts.append({"indicator": code, "period": period, "breakdown": part[0],
                          "part": part[1], "value": numbers[0], "numerator": numbers[1],
                          "denominator": numbers[2], "file": file, "row": row_no,
                          "authority": authority,
                          "sign": ("%" if percent_sign else "") + ("£" if money_sign else ""),
                          "column": layout.header_of["value"]})
        return
    # A faulty cell is kept as a record with its fault: its figure is withheld, and the
    # paper can say where (tasks.checking.validate.withheld_figures).
    out.add(file, row_no, layout.header_of["value"], code, period,
            None if fault else numbers[0], None if fault else numbers[1],
            None if fault else numbers[2], authority, percent_sign, reason, fault, money_sign)


def wide_records(table: Table, source: WideSource, problems: list[Problem],
                 headers: dict[str, dict[str, str]] | None = None,
                 metadata: dict[str, Metadata] | None = None,
                 parts: list[dict[str, object]] | None = None) -> pd.DataFrame:
    """A scorecard: indicator rows, month columns; title rows above, notes rows below; a
    row with a label and no figures heads a section. Its title, target and polarity columns,
    where sources.yaml names them, go into `metadata`.

    A row with a value in one of the source's `breakdowns` columns (its heading, "Team")
    is a part of an indicator's figure, one per month: of the indicator in its code cell,
    or, when that is blank, of the indicator of the rows above (sub-rows under a total).
    It goes to `parts` (tasks.analysing.breakdowns), not among the records."""
    rows = iter(table)
    layout = _wide_layout(table.name, source, rows, problems)
    if layout is None:
        return records_frame([])
    if headers is not None:
        headers[table.name] = {"indicator": layout.code_heading,
                               "period": f"row {layout.row} (month headings)"}
    layout.ignored_columns(table.name, problems)
    reader = _WideRows(table.name, source, layout, markers(source.missing), problems,
                       metadata, parts)
    for row_no, cells in rows:
        reader.read(row_no, cells)
    if reader.data_rows == 0:
        problems.append(Problem(Severity.WARNING, table.name, None, None, "has no data rows"))
    return reader.out.frame()


@dataclass(frozen=True)
class _WideLayout:
    """A scorecard's header row as read: where the codes, the months, the metadata and the
    breakdowns are, and what each month column is called in a finding."""

    row: int
    header: list[Cell]
    ind_col: int
    periods: dict[int, str]  # column -> period
    meta_cols: dict[str, int]  # title, target, polarity, "breakdown <name>" -> column
    split_by: list[tuple[str, int]]  # (breakdown heading, column)

    @property
    def code_heading(self) -> str:
        return self.header[self.ind_col].text or _letter(self.ind_col)

    @property
    def col_name(self) -> dict[int, str]:
        """A month column as a person finds it in Excel: its letter and its month."""
        return {i: f"{_letter(i)} ({short_label(p)})" for i, p in self.periods.items()}

    def ignored_columns(self, file: str, problems: list[Problem]) -> None:
        """Headed columns right of the first month that are not months: said, then left."""
        for i, c in enumerate(self.header):
            if (i != self.ind_col and c.text and i not in self.periods
                    and i > min(self.periods) and i not in self.meta_cols.values()):
                problems.append(Problem(Severity.INFO, file, self.row, c.text,
                                        "column heading is not a month; column ignored"))


def _wide_layout(file: str, source: WideSource, rows: Iterator[tuple[int, list[Cell]]],
                 problems: list[Problem]) -> _WideLayout | None:
    """The header row (the first with two months or more) and the columns sources.yaml
    names in it; None, with an error, when there is none or it cannot be read."""
    found, first = find_header(
        rows, lambda cells: sum(parse_period(c.text) is not None for c in cells) >= 2)
    if found is None:
        if first is None:
            problems.append(Problem(Severity.WARNING, file, None, None, "has no data rows"))
        problems.append(Problem(Severity.ERROR, file, None, None,
                                "no header row with months as columns (such as Oct-24, "
                                "2024-10 or 31/10/2024) was found in the first "
                                f"{HEADER_SEARCH_ROWS} rows"))
        return None
    header_row, header = found
    texts = [c.text.strip().lower() for c in header]
    ind_col = (texts.index(source.indicator_column.lower())
               if source.indicator_column.lower() in texts else 0)
    periods = {i: p for i, c in enumerate(header) if (p := parse_period(c.text)) is not None}
    named = {k: v for k, v in (("indicator", source.indicator_column),
                               ("title", source.title_column),
                               ("target", source.target_column),
                               ("polarity", source.polarity_column)) if v}
    if duplicate_headings(file, header_row, header, named, problems):
        return None
    absent = [v for k, v in named.items() if k != "indicator" and v.strip().lower() not in texts]
    if absent:
        problems.append(Problem(
            Severity.ERROR, file, header_row, None,
            f"no column headed {', '.join(quote(a) for a in absent)} (named in sources.yaml, "
            f"{source.name}); the header row has {_headings((header_row, header))}"))
        return None
    meta_cols = {k: texts.index(v.strip().lower()) for k, v in named.items() if k != "indicator"}
    split_by = [(b, texts.index(b.strip().lower())) for b in source.breakdowns
                if b.strip().lower() in texts]
    missing_splits = [b for b in source.breakdowns if b.strip().lower() not in texts]
    if missing_splits:
        problems.append(Problem(
            Severity.WARNING, file, header_row, None,
            f"no column headed {', '.join(quote(b) for b in missing_splits)} (a breakdown "
            f"named in sources.yaml, {source.name}); this file's rows are read as totals"))
    meta_cols |= {f"breakdown {b}": i for b, i in split_by}
    if _month_clashes(file, header_row, header, periods, problems):
        return None
    return _WideLayout(header_row, header, ind_col, periods, meta_cols, split_by)


def _month_clashes(file: str, header_row: int, header: list[Cell], periods: dict[int, str],
                   problems: list[Problem]) -> bool:
    """Two columns headed with the same month: an error each, and the file is not read."""
    by_period: dict[str, list[int]] = {}
    for i, p in periods.items():
        by_period.setdefault(p, []).append(i)
    clashes = {p: cols for p, cols in by_period.items() if len(cols) > 1}
    for p, cols in clashes.items():
        problems.append(Problem(
            Severity.ERROR, file, header_row, header[cols[0]].text,
            f"columns {' and '.join(_letter(i) for i in cols)} are both headed "
            f"{short_label(p)} ({' and '.join(quote(header[i].text) for i in cols)}); "
            "expected one column per month"))
    return bool(clashes)


def _text_at(cells: list[Cell], i: int | None) -> str:
    """A cell's text as the person sees it: an Excel percentage cell as 95%."""
    c = cells[i] if i is not None and i < len(cells) else EMPTY
    if c.percent_format and (n := parse_number(c.text)[0]) is not None:
        return f"{round(n * 100, 10):g}%"
    return c.text


class _WideRows:
    """A scorecard's rows below its header, one at a time: an indicator's figures, a part
    of one (a breakdown row), a section heading, or a row that is said and left. Remembers
    the indicator above (parts belong to it) and the section a row sits under."""

    def __init__(self, file: str, source: WideSource, layout: _WideLayout,
                 marks: dict[str, str], problems: list[Problem],
                 metadata: dict[str, Metadata] | None,
                 parts: list[dict[str, object]] | None) -> None:
        self.file, self.source, self.layout, self.marks = file, source, layout, marks
        self.problems, self.metadata, self.parts = problems, metadata, parts
        self.col_name = layout.col_name
        self.out = Records()
        self.data_rows = 0
        self.section = ""
        self.last_code = ""

    def read(self, row_no: int, cells: list[Cell]) -> None:
        self.data_rows += 1
        layout = self.layout
        code = _text_at(cells, layout.ind_col)
        # A blank month at the right-hand end is a blank cell too, not an absent one.
        values = {i: cells[i] if i < len(cells) else EMPTY for i in layout.periods}
        figures = any(c.text for c in values.values())
        part = next(((b, cells[i].text) for b, i in layout.split_by
                     if i < len(cells) and cells[i].text and not is_whole(cells[i].text)),
                    None)
        if part is not None and figures:
            self._part(row_no, code or self.last_code, part, values)
            return
        whole = next((cells[i].text for _, i in layout.split_by
                      if i < len(cells) and cells[i].text and is_whole(cells[i].text)), None)
        if not code and whole and self.last_code and figures:
            self.problems.append(Problem(
                Severity.WARNING, self.file, row_no, layout.code_heading,
                f"a {quote(whole)} row with no indicator code under {self.last_code}: "
                f"{self.last_code}'s own row gives its figure, so this row is not read",
                self.last_code,
                group="with a whole-service row and no code"))
            return  # the rows below it are still parts of last_code
        if not code or not figures:
            self._no_figure(row_no, cells, code, figures)
            return
        self.last_code = code
        self._figures(row_no, cells, code, values)

    def _part(self, row_no: int, owner: str, part: tuple[str, str],
              values: dict[int, Cell]) -> None:
        if not owner:
            self.problems.append(cell_fault(
                self.file, row_no, self.layout.code_heading,
                f"a {part[0].lower()} row ({quote(part[1])}) with no indicator code, "
                "and no indicator above it to belong to", group="with a part of nothing"))
            return
        _wide_parts(self.file, row_no, owner, part, values, self.layout.periods,
                    self.col_name, self.marks, self.problems, self.parts)

    def _no_figure(self, row_no: int, cells: list[Cell], code: str, figures: bool) -> None:
        """A heading or a gap: a part row below it belongs to nothing."""
        self.last_code = ""
        if not code and figures:
            # Figures that belong to nothing are said to be left, never dropped unseen
            # (a team's row when sources.yaml names no breakdown column, say).
            hint = ("(if it breaks down the indicator above, name its column under "
                    f"breakdowns: in sources.yaml, {self.source.name})"
                    if not self.layout.split_by else
                    "(no indicator row with figures above it to belong to)")
            self.problems.append(Problem(
                Severity.WARNING, self.file, row_no, self.layout.code_heading,
                f"figures under the months but no indicator code; the row is not read "
                f"{hint}", group="with figures but no indicator code"))
        # A spacer, a note below the table, or a section heading: a row whose only
        # text is a short label that is not a code (the next indicators sit under it).
        texts_in_row = [c.text for c in cells if c.text]
        if (len(texts_in_row) == 1 and len(texts_in_row[0]) <= 60
                and (" " in texts_in_row[0]
                     or not any(ch.isdigit() for ch in texts_in_row[0]))):
            self.section = texts_in_row[0]

    def _figures(self, row_no: int, cells: list[Cell], code: str,
                 values: dict[int, Cell]) -> None:
        """An indicator's row: its metadata (the first time), and a record per month."""
        layout, meta = self.layout, self.layout.meta_cols
        if self.metadata is not None and code not in self.metadata:
            self.metadata[code] = Metadata(
                self.file, row_no, _text_at(cells, meta.get("title")),
                _text_at(cells, meta.get("target")), _text_at(cells, meta.get("polarity")),
                self.section,
                layout.header[meta["target"]].text if "target" in meta else "",
                layout.header[meta["polarity"]].text if "polarity" in meta else "")
        for i, c in values.items():
            number, pct, reason, err, money = _number_cell(c, self.marks)
            name = self.col_name[i]
            if err:
                self.problems.append(cell_fault(self.file, row_no, name, err, code,
                                                layout.periods[i], "with a bad number"))
            self.out.add(file=self.file, row=row_no, column=name, indicator=code,
                         period=layout.periods[i], value=None if err else number,
                         percent_sign=pct, reason=reason, error=name if err else None,
                         money_sign=money)


def _wide_parts(file: str, row_no: int, code: str, part: tuple[str, str],
                values: dict[int, Cell], periods: dict[int, str], col_name: dict[int, str],
                marks: dict[str, str], problems: list[Problem],
                parts: list[dict[str, object]] | None) -> None:
    """One breakdown row of a scorecard: a part per month with a figure (no numerator or
    denominator: a scorecard gives the rate alone). A bad cell withholds that part."""
    for i, c in values.items():
        if not c.text:
            continue
        number, pct, _, err, money = _number_cell(c, marks)
        if err:
            problems.append(part_fault(file, row_no, col_name[i], code, periods[i], part[0],
                                       part[1], err, group="with a bad part"))
            continue
        if parts is not None and number is not None:
            parts.append({"indicator": code, "period": periods[i], "breakdown": part[0],
                          "part": part[1], "value": number, "numerator": None,
                          "denominator": None, "file": file, "row": row_no,
                          "sign": ("%" if pct else "") + ("£" if money else ""),
                          "column": col_name[i]})


def _letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: spreadsheet column letters."""
    out = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def area_codes(frame: pd.DataFrame) -> pd.Series:
    """Each row's geography: DfE code for an authority, region code, or country code."""
    level = frame["geographic_level"]
    return pd.Series(np.where(level == LA_LEVEL, frame.get("old_la_code", ""),
                              np.where(level == "Regional", frame.get("region_code", ""),
                                       frame.get("country_code", ""))), index=frame.index)


def _area_name(frame: pd.DataFrame) -> pd.Series:
    level = frame["geographic_level"]
    return pd.Series(np.where(level == LA_LEVEL, frame.get("la_name", ""),
                              np.where(level == "Regional", frame.get("region_name", ""),
                                       frame.get("country_name", ""))), index=frame.index)


def read_dfe_csv(path: Path, limits: Limits | None = None) -> pd.DataFrame:
    """A published tidy file as text columns, within the row and cell limits.

    Raises FileRefused for a file that is not regular, too large, or has two columns with
    the same heading (pandas would quietly rename the second).
    """
    limits = limits or Limits()
    with open_regular(path) as fh:
        text = text_stream(fh)
        header = next(csv.reader(bounded_lines(text)), [])
        seen: dict[str, int] = {}
        for i, name in enumerate(h.strip() for h in header):
            if name in seen:
                raise FileRefused(f"row 1: columns {_letter(seen[name])} and {_letter(i)} both "
                                  f"have the heading {quote(name)}; expected one such column")
            seen[name] = i
        cells = min(limits.cells, MAX_TABLE_CELLS)
        max_rows = min(limits.rows, cells // max(1, len(header)))
        text.seek(0)
        frame = pd.read_csv(text, dtype=str, keep_default_na=False, nrows=max_rows + 1)
    if len(frame) > max_rows:
        limit = (f"{limits.rows:,} rows (the limit per file, BRIEFING_MAX_ROWS)"
                 if max_rows == limits.rows else
                 f"{cells:,} cells (the limit for a published file read whole)")
        raise FileRefused(f"has more than {limit}; not read")
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def _numeric_column(frame: pd.DataFrame, column: str, name: str, problems: list[Problem],
                    marks: dict[str, str] | None = None
                    ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(values, reasons, faulty): markers become NaN with the marker kept as reason; a cell
    that is neither a number nor a marker is faulty (its figure withheld), reported here."""
    marks = DEFAULT_MARKERS if marks is None else marks
    raw = frame[column].str.strip()
    lower = raw.str.lower()
    reason = lower.where(lower.isin(list(marks)) | (raw == ""))
    reason = reason.where(raw != "", None)
    values = pd.to_numeric(raw.str.replace(",", "", regex=False), errors="coerce")
    bad = values.isna() & reason.isna() & (raw != "")
    bad_rows = frame.index[bad]
    expected = (f"expected a number or a marker ({', '.join(list(marks)[:12])})")
    for idx in bad_rows[:3]:
        problems.append(cell_fault(name, int(idx) + 2, column,
                                   f"{expected}, found {quote(raw[idx])}",
                                   group="with a bad number"))
    if len(bad_rows) > 3:  # counted, not listed: the first three show what is wrong
        problems.append(replace(cell_fault(name, int(bad_rows[3]) + 2, column, expected,
                                           group="with a bad number"),
                                count=len(bad_rows) - 3))
    return values.astype("float64"), reason, bad


def select_rows(frame: pd.DataFrame, where: dict[str, str]) -> pd.DataFrame:
    sel = frame
    for col, want in where.items():
        sel = sel[sel[col].str.strip() == want]
    return sel


def _other_row(frame: pd.DataFrame, sel: pd.DataFrame, measure: DfeMeasure, ref: RowRef,
               name: str, problems: list[Problem], marks: dict[str, str]
               ) -> tuple[pd.Series, pd.Series] | None:
    """(values, faulty) of `ref.column` from the row of the same geography and period that
    `ref.where` picks (the measure's `where`, changed as it says): a denominator in a
    "Total" row. None, with an error, when that row is not one row per area and period."""
    other = select_rows(frame, {**measure.where, **ref.where})
    keys = ["_period", "geographic_level", "_area"]
    doubled = other[other.duplicated(keys, keep=False)]
    if not doubled.empty:
        first = doubled.iloc[0]
        rows = doubled.index[(doubled[keys] == first[keys]).all(axis=1)]
        picks = ", ".join(f"{k} = {quote(v, 50)}" for k, v in {**measure.where,
                                                                 **ref.where}.items())
        problems.append(Problem(
            Severity.ERROR, name, int(rows[0]) + 2, ref.column,
            f"{measure.indicator}: where {picks} picks "
            f"{len(rows)} rows for {first['_name'] or first['_area']} {first['_period']} "
            f"(rows {', '.join(str(int(r) + 2) for r in rows[:4])}); expected one row per "
            "area and period: add the breakdown column that tells them apart to where"))
        return None
    values, _, bad = _numeric_column(other, ref.column, name, problems, marks)
    table = pd.DataFrame({k: other[k] for k in keys}).assign(_v=values, _bad=bad)
    merged = sel[keys].merge(table, on=keys, how="left")
    return (pd.Series(merged["_v"].to_numpy(), index=sel.index),
            pd.Series(merged["_bad"].fillna(False).to_numpy(dtype=bool), index=sel.index))


def _periods(frame: pd.DataFrame, name: str, source: DfeSource,
             frequencies: dict[str, Frequency], problems: list[Problem]) -> pd.Series | None:
    """Each row's period, from its time identifier (tasks.reading.time_identifiers); None with an
    error when rows a measure reads use one that has no period kind, or the wrong kind for
    its indicator's frequency. Rows no measure reads are never judged."""
    tp = frame["time_period"].str.strip()
    ident = (frame["time_identifier"].str.strip() if "time_identifier" in frame.columns
             else pd.Series("Reporting year", index=frame.index))
    pairs = pd.DataFrame({"i": ident, "t": tp})
    mapped: dict[tuple[str, str], str | TimeIdentifierError] = {}
    for i, t in pairs.drop_duplicates().itertuples(index=False):
        try:
            mapped[(i, t)] = ees_period(i, t)
        except TimeIdentifierError as exc:
            mapped[(i, t)] = exc
    out = pd.Series([p if isinstance(p := mapped[(i, t)], str) else ""
                     for i, t in zip(ident, tp, strict=True)], index=frame.index, dtype="object")
    failed = False
    for m in source.measures:
        wheres = [m.where] + [{**m.where, **ref.where} for ref in (m.numerator, m.denominator)
                              if isinstance(ref, RowRef)]
        for w in wheres:
            rows = select_rows(frame, w).index
            bad = [(i, t) for i, t in pairs.loc[rows].drop_duplicates().itertuples(index=False)
                   if not isinstance(mapped[(i, t)], str)]
            if bad:
                at = rows[(ident[rows] == bad[0][0]) & (tp[rows] == bad[0][1])][0]
                problems.append(Problem(Severity.ERROR, name, int(at) + 2, "time_identifier",
                                        f"{m.indicator}: {mapped[bad[0]]}"))
                failed = True
        rows = select_rows(frame, m.where).index
        want = frequencies.get(m.indicator)
        kinds = {kind_of(i) for i in set(ident[rows]) if i.lower() in KINDS}
        wrong = sorted(k.value for k in kinds if want is not None and k is not want)
        if wrong and want is not None:
            problems.append(Problem(
                Severity.ERROR, name, int(rows[0]) + 2, "time_identifier",
                f"{m.indicator} is reported {want.value} (indicators.yaml frequency), but its "
                f"rows here have {' and '.join(wrong)} time identifiers "
                f"({', '.join(sorted(set(ident[rows]))[:4])}); expected {want.value} "
                "periods, or a where: that picks them"))
            failed = True
    return None if failed else out


def dfe_records(path: Path, source: DfeSource, authority: str | None,
                problems: list[Problem], population: pd.DataFrame | None,
                frequencies: dict[str, Frequency] | None = None, limits: Limits | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the authority's records, every geography's values) from a DfE tidy file; with
    `authority` None, every authority's records (their codes in `authority`)."""
    frame = read_dfe_csv(path, limits)
    marks = markers(source.missing)
    nothing = records_frame([]), BENCHMARKS.empty()
    missing = sorted(_dfe_columns(source) - set(frame.columns))
    if missing:
        problems.append(Problem(Severity.ERROR, path.name, 1, None,
                                f"missing column(s) {', '.join(missing)} that sources.yaml "
                                f"({source.name}) maps"))
        return nothing
    frame["_area"] = area_codes(frame)
    frame["_name"] = _area_name(frame)
    periods = _periods(frame, path.name, source, frequencies or {}, problems)
    if periods is None:
        return nothing
    frame["_period"] = periods
    own_rows, bench_parts = [], []
    for m in source.measures:
        sel = select_rows(frame, m.where)
        if sel.empty:
            problems.append(Problem(Severity.WARNING, path.name, None, None,
                                    f"no rows for {m.indicator} where {m.where}"))
            continue
        part = _measure(frame, sel, m, path.name, problems, marks, population)
        if part is None:
            return nothing
        bench_parts.append(part[BENCHMARKS.columns])
        own_rows.append(_own_records(part, path.name, authority))
    own_frame = (pd.concat(own_rows, ignore_index=True) if own_rows else records_frame([]))
    bench = (pd.concat(bench_parts, ignore_index=True) if bench_parts
             else BENCHMARKS.empty())
    return own_frame[RECORDS.columns], bench


def _dfe_columns(source: DfeSource) -> set[str]:
    """Every column of a DfE file that sources.yaml's measures read."""
    needed = {"time_period", "geographic_level"}
    for m in source.measures:
        for ref in (m.numerator, m.denominator):
            if isinstance(ref, RowRef):
                needed |= {ref.column, *ref.where}
        needed |= {c for c in (m.value, m.numerator, m.denominator, m.rate_per_10k_of)
                   if isinstance(c, str)}
        needed |= set(m.where)
    return needed


def _measure(frame: pd.DataFrame, sel: pd.DataFrame, m: DfeMeasure, file: str,
             problems: list[Problem], marks: dict[str, str],
             population: pd.DataFrame | None) -> pd.DataFrame | None:
    """One measure's rows, every geography's (BENCHMARKS.columns and the rest), a faulty
    row's figure withheld; None when a numerator or denominator row cannot be found."""
    num = den = None
    faults: list[tuple[pd.Series, str]] = []  # (faulty cells, their column)
    if m.rate_per_10k_of:
        count, reason, b = _numeric_column(sel, m.rate_per_10k_of, file, problems, marks)
        faults.append((b, m.rate_per_10k_of))
        pop = _population_for(sel, population)
        value = (count / pop * 10000).round(1)
        num, den = count, pop
        # No population figure: the rate is not available, as DfE would mark it.
        reason = reason.where(reason.notna() | pop.notna(), "x")
    else:
        assert m.value is not None
        value, reason, b = _numeric_column(sel, m.value, file, problems, marks)
        faults.append((b, m.value))
        parts: list[pd.Series | None] = []
        for ref in (m.numerator, m.denominator):
            if ref is None:
                parts.append(None)
            elif isinstance(ref, RowRef):
                got = _other_row(frame, sel, m, ref, file, problems, marks)
                if got is None:
                    return None
                parts.append(got[0])
                faults.append((got[1], ref.column))
            else:
                v, _, b = _numeric_column(sel, ref, file, problems, marks)
                parts.append(v)
                faults.append((b, ref))
        num, den = parts
    # Each row's first faulty column, or None: a faulty row's figure is withheld.
    faulty_column = pd.Series(None, index=sel.index, dtype="object")
    for mask, column in reversed(faults):
        faulty_column[mask] = column
    bad = faulty_column.notna()
    return pd.DataFrame({
        "indicator": m.indicator, "period": sel["_period"],
        "level": sel["geographic_level"], "area": sel["_area"], "name": sel["_name"],
        "region": sel.get("region_code", ""), "value": value.where(~bad),
        "reason": reason,
        "numerator": num.where(~bad) if num is not None else np.nan,
        "denominator": den.where(~bad) if den is not None else np.nan,
        "row": sel.index + 2, "column": m.value or m.rate_per_10k_of,
        "error": faulty_column, "population": _population_for(sel, population)})


def _own_records(part: pd.DataFrame, file: str, authority: str | None) -> pd.DataFrame:
    """The authority's rows of a measure (every authority's, with `authority` None) as
    canonical records."""
    own = part[(part["level"] == LA_LEVEL)
               & ((part["area"] == authority) if authority is not None else True)]
    return pd.DataFrame({
        "file": file, "row": own["row"].astype("int64"), "column": own["column"],
        "indicator": own["indicator"], "period": own["period"], "value": own["value"],
        "numerator": own["numerator"], "denominator": own["denominator"],
        "authority": authority if authority is not None else own["area"],
        "percent_sign": False, "reason": own["reason"], "error": own["error"],
        "money_sign": False})


def _population_for(sel: pd.DataFrame, population: pd.DataFrame | None) -> pd.Series:
    if population is None:
        return pd.Series(np.nan, index=sel.index)
    key = pd.DataFrame({"area": sel["_area"], "period": sel["time_period"].str.strip()})
    merged = key.merge(population, on=["area", "period"], how="left")
    return pd.Series(merged["population"].to_numpy(), index=sel.index)


def read_population(path: Path, spec: Population, problems: list[Problem],
                    limits: Limits | None = None) -> pd.DataFrame:
    """Population by geography, keyed to the reporting year it is the denominator for."""
    frame = read_dfe_csv(path, limits)
    for col, want in spec.where.items():
        frame = frame[frame[col].str.strip() == want]
    values, _, _ = _numeric_column(frame, spec.column, path.name, problems)
    return pd.DataFrame({
        "area": area_codes(frame),
        "period": (frame["time_period"].astype(int) - spec.year_offset).astype(str),
        "population": values}).dropna()


def read_neighbours(path: Path, limits: Limits | None = None) -> dict[str, list[str]]:
    frame = read_dfe_csv(path, limits)
    cols = [c for c in frame.columns if re.fullmatch(r"SN_\d+", c)]
    cols.sort(key=lambda c: int(c[3:]))
    return {str(r["old_la_code"]).strip(): [str(r[c]).strip() for c in cols if str(r[c]).strip()]
            for _, r in frame.iterrows()}


# Published files read in this process, by file and modification: DfE's files change a few
# times a year, and a regional run briefs every authority from the same six. The frames
# are shared, so nothing may change them in place.
_PUBLISHED: dict[tuple[object, ...], tuple[object, list[Problem]]] = {}


def _published(key: tuple[object, ...], path: Path, problems: list[Problem],
               read: Callable[[Path, list[Problem]], T], limits: Limits) -> T:
    """`read(path, found)` once per process for the file as it now is (and the limits
    it was read within); its findings added to `problems` each time. Anything but a
    regular file is read afresh each time, so that `read` refuses it in its own words."""
    try:
        st = path.stat()
    except OSError:
        return read(path, problems)
    if not stat.S_ISREG(st.st_mode):
        return read(path, problems)
    key = (*key, str(path.resolve()), st.st_mtime_ns, st.st_size, limits)
    if key not in _PUBLISHED:
        found: list[Problem] = []
        _PUBLISHED[key] = (read(path, found), found)
    value, found = _PUBLISHED[key]
    problems.extend(found)
    return cast(T, value)  # the value `read` gave for this key: a T


def _every_authority(source: DfeSource, population: pd.DataFrame | None,
                     frequencies: dict[str, Frequency] | None, limits: Limits
                     ) -> Callable[[Path, list[Problem]], tuple[pd.DataFrame, pd.DataFrame]]:
    return lambda path, found: dfe_records(path, source, None, found, population, frequencies,
                                           limits)


def export_files(exports_dir: Path) -> tuple[list[Path], list[Problem]]:
    """The exports to read, in name order; other files are reported, not silently skipped."""
    problems: list[Problem] = []
    if not exports_dir.is_dir():
        problems.append(Problem(Severity.ERROR, str(exports_dir), None, None,
                                "exports folder not found"))
        return [], problems
    files: list[Path] = []
    for p in sorted(exports_dir.iterdir()):
        if p.name.startswith("."):
            continue
        why = refusal(exports_dir, p)
        if why and why.startswith("a folder"):
            continue
        if p.name == "commentary.yaml" or (not why and looks_like_return(p)):
            continue  # owners' commentary and returns: read by tasks.reading.commentary and
            # tasks.reading.owner_returns, not exports
        if why and (p.suffix.lower() in SUPPORTED or p.name.startswith("~$")):
            problems.append(Problem(Severity.ERROR, p.name, None, None, why))
        elif why:
            problems.append(Problem(Severity.INFO, p.name, None, None, why))
        elif p.name.startswith("~$"):
            problems.append(Problem(Severity.WARNING, p.name, None, None,
                                    "an Excel lock file (the workbook is open somewhere); ignored"))
        elif p.suffix.lower() in SUPPORTED:
            files.append(p)
        elif p.suffix.lower() == ".xls":
            problems.append(Problem(Severity.ERROR, p.name, None, None,
                                    "old Excel .xls format; save it as .xlsx or .csv"))
        else:
            problems.append(Problem(Severity.INFO, p.name, None, None,
                                    "not a .csv or .xlsx export; ignored"))
    if not files:
        problems.append(Problem(Severity.ERROR, str(exports_dir), None, None,
                                "no .csv or .xlsx exports found"))
    return files, problems


def read_exports(exports_dir: Path, sources: Sources | None = None,
                 authority: str = "",
                 frequencies: dict[str, Frequency] | None = None,
                 limits: Limits | None = None) -> Ingested:
    """Every record in every export, benchmarks from published files, and the problems.

    `frequencies` (indicator code -> frequency, from the catalogue) lets a published file's
    time identifiers be checked against the indicators they feed. `limits`: rows and cells
    per file (the entry point's BRIEFING_MAX_*; None: the defaults)."""
    sources = sources or Sources()
    limits = limits or Limits()
    files, found = export_files(Path(exports_dir))
    problems = Findings(found)
    population, population_key = _read_population(files, sources, problems, limits)
    got = _Gathered()
    for path in files:
        if sources.is_return(path.name):
            continue  # a child-level return's table: tasks.returns reads it
        if sources.is_reference(path.name):
            if _read_reference(path, sources, got, problems, limits):
                got.read.append(path.name)
            continue
        if (records := child_records(path)) is not None:
            problems.append(Problem(Severity.ERROR, path.name, None, None, records))
            continue
        source = sources.match(path.name)
        try:
            if isinstance(source, DfeSource):
                every, b = _published(
                    ("dfe", source.model_dump_json(), population_key,
                     tuple(sorted((frequencies or {}).items()))), path, problems,
                    _every_authority(source, population, frequencies, limits), limits)
                got.published(path.name, every[every["authority"] == authority]
                              .reset_index(drop=True), b)
            else:
                _read_export(path, source, got, problems, limits)
        except FileRefused as exc:
            problems.append(Problem(Severity.ERROR, path.name, None, None, str(exc)))
            continue
        except Exception as exc:  # a corrupt file is a finding about that file, not a crash
            problems.append(Problem(Severity.ERROR, path.name, None, None,
                                    f"could not be read as {path.suffix.lower()[1:].upper()}: "
                                    f"{type(exc).__name__}: {one_line(exc)}"))
            continue
        got.read.append(path.name)
    return got.ingested(problems)


@dataclass
class _Gathered:
    """What an exports folder gives, gathered file by file (read_exports)."""

    frames: list[pd.DataFrame] = field(default_factory=list)
    bench: list[pd.DataFrame] = field(default_factory=list)
    parts: list[dict[str, object]] = field(default_factory=list)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    metadata: dict[str, Metadata] = field(default_factory=dict)
    neighbours: dict[str, list[str]] = field(default_factory=dict)
    read: list[str] = field(default_factory=list)

    def published(self, name: str, own: pd.DataFrame, bench: pd.DataFrame) -> None:
        """A published file's records of the authority, and every area's values."""
        self.headers[name] = {"indicator": "(sources.yaml)", "period": "time_period",
                              "authority": "old_la_code"}
        self.frames.append(own)
        self.bench.append(bench)

    def ingested(self, problems: Findings) -> Ingested:
        frames = [f for f in self.frames if not f.empty]
        records = pd.concat(frames, ignore_index=True) if frames else records_frame([])
        benchmarks = (pd.concat(self.bench, ignore_index=True) if self.bench
                      else BENCHMARKS.empty())
        breakdowns = (pd.DataFrame(self.parts, columns=PARTS.columns) if self.parts
                      else PARTS.empty())
        for name in ("value", "numerator", "denominator"):
            breakdowns[name] = pd.to_numeric(breakdowns[name],
                                             errors="coerce").astype("float64")
        return Ingested(records, benchmarks, self.neighbours, problems.collapsed(),
                        self.read, self.headers, self.metadata, breakdowns)


def _read_population(files: list[Path], sources: Sources, problems: Findings,
                     limits: Limits) -> tuple[pd.DataFrame | None, tuple[str, int] | None]:
    """The population file sources.yaml names, and which file it was as it now is (a
    published file's records, rates per 10,000 among them, are kept by it)."""
    population, population_key = None, None
    if sources.population:
        spec = sources.population
        for path in files:
            if path.match(spec.files):
                try:
                    population = _published(("population", spec.model_dump_json()), path,
                                            problems,
                                            lambda p, found: read_population(p, spec, found,
                                                                             limits),
                                            limits)
                    population_key = (str(path), path.stat().st_mtime_ns)
                except FileRefused as exc:
                    problems.append(Problem(Severity.ERROR, path.name, None, None, str(exc)))
    return population, population_key


def _read_reference(path: Path, sources: Sources, got: _Gathered, problems: Findings,
                    limits: Limits) -> bool:
    """A reference file (not an export): the statistical neighbours, when it is theirs.
    False when it was refused."""
    if sources.neighbours and path.match(sources.neighbours):
        try:
            got.neighbours = _published(("neighbours",), path, problems,
                                        lambda p, found: read_neighbours(p, limits), limits)
        except FileRefused as exc:
            problems.append(Problem(Severity.ERROR, path.name, None, None, str(exc)))
            return False
    return True


def _read_export(path: Path, source: LongSource | WideSource | None, got: _Gathered,
                 problems: Findings, limits: Limits) -> None:
    """A council's own export, long or wide, CSV or XLSX. A file's findings, and its
    parts, are kept only when the whole file could be read."""
    is_xlsx = path.suffix.lower() == ".xlsx"
    sheet = source.sheet if source else None
    table = (read_xlsx_table(path, sheet, limits) if is_xlsx
             else read_csv_table(path, limits))
    mine, its_parts = Findings(), list[dict[str, object]]()
    if isinstance(source, WideSource):
        frame = wide_records(table, source, mine, got.headers, got.metadata, its_parts)
    else:
        frame = long_records(table, source, mine, got.headers, its_parts)
    problems.extend(mine.collapsed())
    got.frames.append(frame)
    got.parts.extend(its_parts)  # like its records: only from a file read whole
