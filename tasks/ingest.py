"""Read the month's exports (CSV and XLSX) into canonical records, naming every problem.

Cells are read as text and parsed here, not by pandas' guessing, so that `52%`, `52`,
`1,234`, a blank and `n/a` are each treated on purpose, and every finding can name the
file, the spreadsheet row and the column a person would look at.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from tasks.periods import is_period
from tasks.problems import Problem, Severity

REQUIRED = ("indicator", "period", "value")
OPTIONAL = ("numerator", "denominator", "authority")
CANONICAL_COLUMNS = ["file", "row", "indicator", "period", "value", "numerator", "denominator",
                     "authority", "percent_sign"]
SUPPORTED = {".csv", ".xlsx"}
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")


@dataclass(frozen=True)
class Cell:
    """A cell as read: its text, and whether the spreadsheet formatted it as a percentage."""

    text: str
    percent_format: bool = False


@dataclass
class Table:
    name: str
    header: list[str]
    rows: list[tuple[int, list[Cell]]]  # (spreadsheet row number, cells)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_csv_table(path: Path) -> Table:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # Excel's "CSV" on Windows
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[Cell]]] = []
    for line_no, record in enumerate(reader, start=1):
        if header is None:
            if any(c.strip() for c in record):
                header = [c.strip() for c in record]
            continue
        if not any(c.strip() for c in record):
            continue
        rows.append((line_no, [Cell(c.strip()) for c in record]))
    return Table(path.name, header or [], rows)


def read_xlsx_table(path: Path) -> Table:
    from openpyxl import load_workbook

    wb = load_workbook(path, data_only=True)  # values, not formulas
    ws = wb.worksheets[0]
    header: list[str] | None = None
    rows: list[tuple[int, list[Cell]]] = []
    for row in ws.iter_rows():
        cells = [Cell(_cell_text(c.value), "%" in (c.number_format or "")
                      and isinstance(c.value, int | float)) for c in row]
        if not any(c.text for c in cells):
            continue
        if header is None:
            header = [c.text for c in cells]
            continue
        rows.append((row[0].row, cells))
    wb.close()
    return Table(path.name, header or [], rows)


def parse_number(text: str) -> tuple[float | None, bool, str | None]:
    """Parse '52', '52%', '1,234', ' 3.5 '. Returns (number, had_percent_sign, error)."""
    t = text.strip()
    if t == "":
        return None, False, None
    pct = t.endswith("%")
    if pct:
        t = t[:-1].strip()
    if not _NUMBER.match(t) or t in {"", "+", "-", "."}:
        return None, pct, f"expected a number such as 52 or 52%, found {text!r}"
    value = float(t.replace(",", ""))
    if math.isnan(value) or math.isinf(value):
        return None, pct, f"expected a finite number, found {text!r}"
    return value, pct, None


def parse_period(text: str) -> str | None:
    """Accept YYYY-MM, and a date (2024-10-01, as Excel writes a month) meaning its month."""
    t = text.strip()
    if is_period(t):
        return t
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})$", t)
    if m and is_period(f"{m.group(1)}-{m.group(2)}"):
        return f"{m.group(1)}-{m.group(2)}"
    return None


def table_records(table: Table, problems: list[Problem]) -> pd.DataFrame:
    """Canonical records of one table; problems found on the way are appended."""
    norm = [h.strip().lower() for h in table.header]
    missing = [c for c in REQUIRED if c not in norm]
    if missing:
        problems.append(Problem(
            Severity.ERROR, table.name, 1, None,
            f"missing required column(s) {', '.join(missing)}; expected columns "
            f"{', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)}), found "
            f"{', '.join(repr(h) for h in table.header) or 'no header'}"))
        return pd.DataFrame(columns=CANONICAL_COLUMNS)
    pos = {name: norm.index(name) for name in (*REQUIRED, *OPTIONAL) if name in norm}
    header_of = {name: table.header[i] for name, i in pos.items()}
    out: list[dict[str, object]] = []

    def cell(cells: list[Cell], name: str) -> Cell:
        i = pos.get(name)
        return cells[i] if i is not None and i < len(cells) else Cell("")

    for row_no, cells in table.rows:
        def bad(column: str, message: str, severity: Severity = Severity.ERROR,
                _row: int = row_no, _ind: str | None = None) -> None:
            problems.append(Problem(severity, table.name, _row, header_of.get(column, column),
                                    message, _ind))

        code = cell(cells, "indicator").text
        if not code:
            bad("indicator", "expected an indicator code, found a blank cell")
            continue
        period_text = cell(cells, "period").text
        period = parse_period(period_text)
        if period is None:
            bad("period", f"expected a month as YYYY-MM (e.g. 2024-10), found {period_text!r}",
                _ind=code)
            continue
        rec: dict[str, object] = {"file": table.name, "row": row_no, "indicator": code,
                                  "period": period, "percent_sign": False}
        ok = True
        for name in ("value", "numerator", "denominator"):
            c = cell(cells, name)
            number, pct, err = parse_number(c.text)
            if err:
                bad(name, err, _ind=code)
                ok = False
                continue
            if number is not None and c.percent_format:
                number = round(number * 100, 10)  # Excel stores 52% as 0.52
                pct = True
            rec[name] = number
            if name == "value":
                rec["percent_sign"] = pct
        if not ok:
            continue
        auth = cell(cells, "authority").text
        rec["authority"] = auth or None
        out.append(rec)
    frame = pd.DataFrame(out, columns=CANONICAL_COLUMNS)
    for name in ("value", "numerator", "denominator"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["row"] = frame["row"].astype("int64")
    return frame


def export_files(exports_dir: Path) -> tuple[list[Path], list[Problem]]:
    """The exports to read, in name order; other files are reported, not silently skipped."""
    problems: list[Problem] = []
    if not exports_dir.is_dir():
        problems.append(Problem(Severity.ERROR, str(exports_dir), None, None,
                                "exports folder not found"))
        return [], problems
    files: list[Path] = []
    for p in sorted(exports_dir.iterdir()):
        if p.name.startswith(".") or p.is_dir():
            continue
        if p.name.startswith("~$"):
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


def read_exports(exports_dir: Path) -> tuple[pd.DataFrame, list[Problem]]:
    """Every record in every export, and the problems met while reading them."""
    files, problems = export_files(Path(exports_dir))
    frames: list[pd.DataFrame] = []
    for path in files:
        try:
            is_xlsx = path.suffix.lower() == ".xlsx"
            table = read_xlsx_table(path) if is_xlsx else read_csv_table(path)
        except Exception as exc:  # a corrupt file is a finding about that file, not a crash
            problems.append(Problem(Severity.ERROR, path.name, None, None,
                                    f"could not be read as {path.suffix.lower()[1:].upper()}: "
                                    f"{type(exc).__name__}: {exc}"))
            continue
        if not table.rows and table.header:
            problems.append(Problem(Severity.WARNING, path.name, None, None,
                                    "has a header but no data rows"))
        frames.append(table_records(table, problems))
    frames = [f for f in frames if not f.empty]
    records = (pd.concat(frames, ignore_index=True) if frames
               else pd.DataFrame(columns=CANONICAL_COLUMNS))
    return records, problems
