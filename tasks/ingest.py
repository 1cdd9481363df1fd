"""Read the month's exports (CSV and XLSX) into canonical records, naming every problem.

Cells are read as text and parsed here, not by pandas' guessing, so that `52%`, `52`,
`1,234`, a blank, `c` and `n/a` are each treated on purpose, and every finding can name
the file, the spreadsheet row and the column a person would look at. How each file is laid
out comes from `sources.yaml` (see `tasks.sources`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from tasks.periods import is_period, parse_month, short_label
from tasks.problems import Problem, Severity
from tasks.sources import DfeSource, LongSource, Population, Sources, WideSource

REQUIRED = ("indicator", "period", "value")
OPTIONAL = ("numerator", "denominator", "authority")
CANONICAL_COLUMNS = ["file", "row", "column", "indicator", "period", "value", "numerator",
                     "denominator", "authority", "percent_sign", "reason"]
BENCHMARK_COLUMNS = ["indicator", "period", "level", "area", "name", "region", "value",
                     "reason"]
SUPPORTED = {".csv", ".xlsx"}
# Published statistics' markers for values that are not given (DfE's conventions).
SUPPRESSION_MARKERS = {"c": "suppressed (small number)", "x": "not available",
                       ":": "not available", "z": "not applicable", "u": "low reliability",
                       "low": "rounds to zero"}
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")
LA_LEVEL = "Local authority"


@dataclass(frozen=True)
class Cell:
    """A cell as read: its text, and whether the spreadsheet formatted it as a percentage."""

    text: str
    percent_format: bool = False


@dataclass
class Table:
    """Every non-empty row of a sheet, with the row number a person would see."""

    name: str
    rows: list[tuple[int, list[Cell]]]


@dataclass
class Ingested:
    records: pd.DataFrame  # the authority's own records, canonical columns
    benchmarks: pd.DataFrame  # every geography's published values, for comparison
    neighbours: dict[str, list[str]]  # DfE code -> its statistical neighbours' codes
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # file -> canonical column -> the heading in that file, so findings name what people see
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows


def read_csv_table(path: Path) -> Table:
    reader = csv.reader(io.StringIO(decode(path.read_bytes()), newline=""))
    rows = [(n, [Cell(c.strip()) for c in rec]) for n, rec in enumerate(reader, start=1)
            if any(c.strip() for c in rec)]
    return Table(path.name, rows)


def read_xlsx_table(path: Path, sheet: str | None = None) -> Table:
    from openpyxl import load_workbook

    wb = load_workbook(path, data_only=True)  # values, not formulas
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise ValueError(f"no sheet named {sheet!r} (sheets: {', '.join(wb.sheetnames)})")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        rows: list[tuple[int, list[Cell]]] = []
        for row in ws.iter_rows():
            cells = [Cell(_cell_text(c.value), "%" in (c.number_format or "")
                          and isinstance(c.value, int | float)) for c in row]
            if any(c.text for c in cells):
                rows.append((row[0].row, cells))
    finally:
        wb.close()
    return Table(path.name, rows)


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
    """A period as YYYY-MM, YYYY-Qn or YYYY, or a month as people and Excel write it."""
    t = text.strip()
    return t if is_period(t) else parse_month(t)


def _number_cell(c: Cell) -> tuple[float | None, bool, str | None, str | None]:
    """(number, percent, reason if suppressed, error) for one value cell."""
    marker = c.text.strip().lower()
    if marker in SUPPRESSION_MARKERS:
        return None, False, marker, None
    number, pct, err = parse_number(c.text)
    if number is not None and c.percent_format:
        number = round(number * 100, 10)  # Excel stores 52% as 0.52
        pct = True
    return number, pct, None, err


def _frame(out: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(out, columns=CANONICAL_COLUMNS)
    for name in ("value", "numerator", "denominator"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["row"] = frame["row"].astype("int64")
    return frame


def long_records(table: Table, source: LongSource | None, problems: list[Problem],
                 headers: dict[str, dict[str, str]] | None = None) -> pd.DataFrame:
    """One row per indicator and period; the header may sit below title rows."""
    renames: dict[str, str] = {str(k): v for k, v in source.columns.items()} if source else {}
    names = {c: renames.get(c, c) for c in (*REQUIRED, *OPTIONAL)}
    want = {names[c].strip().lower() for c in REQUIRED}
    header_at = next((i for i, (_, cells) in enumerate(table.rows)
                      if want <= {c.text.strip().lower() for c in cells}), None)
    if header_at is None:
        first = table.rows[0][1] if table.rows else []
        problems.append(Problem(
            Severity.ERROR, table.name, table.rows[0][0] if table.rows else None, None,
            f"no header row with the columns {', '.join(names[c] for c in REQUIRED)} "
            f"(optional: {', '.join(names[c] for c in OPTIONAL)}); the first row has "
            f"{', '.join(repr(c.text) for c in first if c.text) or 'nothing'}"))
        return _frame([])
    header = table.rows[header_at][1]
    norm = [c.text.strip().lower() for c in header]
    pos = {c: norm.index(n.strip().lower()) for c, n in names.items()
           if n.strip().lower() in norm}
    header_of = {c: header[i].text for c, i in pos.items()}
    if headers is not None:
        headers[table.name] = header_of
    out: list[dict[str, object]] = []

    def cell(cells: list[Cell], name: str) -> Cell:
        i = pos.get(name)
        return cells[i] if i is not None and i < len(cells) else Cell("")

    for row_no, cells in table.rows[header_at + 1:]:
        def bad(column: str, message: str, _row: int = row_no, _ind: str | None = None) -> None:
            problems.append(Problem(Severity.ERROR, table.name, _row,
                                    header_of.get(column, column), message, _ind))

        code = cell(cells, "indicator").text
        if not code:
            bad("indicator", "expected an indicator code, found a blank cell")
            continue
        period_text = cell(cells, "period").text
        period = parse_period(period_text)
        if period is None:
            bad("period", f"expected a period such as 2024-10 (a month), 2024-Q3 or 2025, "
                          f"found {period_text!r}", _ind=code)
            continue
        rec: dict[str, object] = {"file": table.name, "row": row_no,
                                  "column": header_of["value"], "indicator": code,
                                  "period": period, "percent_sign": False, "reason": None}
        ok = True
        for name in ("value", "numerator", "denominator"):
            number, pct, reason, err = _number_cell(cell(cells, name))
            if err:
                bad(name, err, _ind=code)
                ok = False
                continue
            rec[name] = number
            if name == "value":
                rec["percent_sign"], rec["reason"] = pct, reason
        if ok:
            rec["authority"] = cell(cells, "authority").text or None
            out.append(rec)
    return _frame(out)


def wide_records(table: Table, source: WideSource, problems: list[Problem],
                 headers: dict[str, dict[str, str]] | None = None) -> pd.DataFrame:
    """A scorecard: indicator rows, month columns; title rows above, notes rows below."""
    header_at = None
    for i, (_, cells) in enumerate(table.rows):
        if sum(parse_period(c.text) is not None for c in cells) >= 2:
            header_at = i
            break
    if header_at is None:
        problems.append(Problem(Severity.ERROR, table.name, None, None,
                                "no header row with months as columns (such as Oct-24, "
                                "2024-10 or 31/10/2024) was found"))
        return _frame([])
    header_row, header = table.rows[header_at]
    texts = [c.text.strip().lower() for c in header]
    ind_col = (texts.index(source.indicator_column.lower())
               if source.indicator_column.lower() in texts else 0)
    periods = {i: p for i, c in enumerate(header) if (p := parse_period(c.text)) is not None}
    # Name a month column as a person finds it in Excel: its letter and its month.
    col_name = {i: f"{_letter(i)} ({short_label(p)})" for i, p in periods.items()}
    if headers is not None:
        headers[table.name] = {"indicator": header[ind_col].text or _letter(ind_col),
                               "period": f"row {header_row} (month headings)"}
    for i, c in enumerate(header):
        if i != ind_col and c.text and i not in periods and i > min(periods):
            problems.append(Problem(Severity.INFO, table.name, header_row, c.text,
                                    "column heading is not a month; column ignored"))
    out: list[dict[str, object]] = []
    for row_no, cells in table.rows[header_at + 1:]:
        code = cells[ind_col].text if ind_col < len(cells) else ""
        values = {i: cells[i] for i in periods if i < len(cells)}
        if not code or not any(c.text for c in values.values()):
            continue  # a spacer, section heading or note below the table
        for i, c in values.items():
            number, pct, reason, err = _number_cell(c)
            if err:
                problems.append(Problem(Severity.ERROR, table.name, row_no, col_name[i],
                                        err, code))
                continue
            out.append({"file": table.name, "row": row_no, "column": col_name[i],
                        "indicator": code, "period": periods[i], "value": number,
                        "numerator": None, "denominator": None, "authority": None,
                        "percent_sign": pct, "reason": reason})
    return _frame(out)


def _letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: spreadsheet column letters."""
    out = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _area(frame: pd.DataFrame) -> pd.Series:
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


def read_dfe_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(decode(path.read_bytes())), dtype=str,
                        keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def _numeric_column(frame: pd.DataFrame, column: str, name: str,
                    problems: list[Problem]) -> tuple[pd.Series, pd.Series]:
    """(values, reasons): published markers become NaN with the marker kept as reason."""
    raw = frame[column].str.strip()
    lower = raw.str.lower()
    reason = lower.where(lower.isin(list(SUPPRESSION_MARKERS)))
    values = pd.to_numeric(raw.str.replace(",", "", regex=False), errors="coerce")
    bad = values.isna() & reason.isna()
    for idx in frame.index[bad][:20]:
        problems.append(Problem(Severity.ERROR, name, int(idx) + 2, column,
                                f"expected a number or a published marker "
                                f"({', '.join(SUPPRESSION_MARKERS)}), found {raw[idx]!r}"))
    return values.astype("float64"), reason


def dfe_records(path: Path, source: DfeSource, authority: str, problems: list[Problem],
                population: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the authority's records, every geography's values) from a DfE tidy file."""
    frame = read_dfe_csv(path)
    needed = {"time_period", "geographic_level"}
    for m in source.measures:
        needed |= {c for c in (m.value, m.numerator, m.denominator, m.rate_per_10k_of) if c}
        needed |= set(m.where)
    missing = sorted(needed - set(frame.columns))
    if missing:
        problems.append(Problem(Severity.ERROR, path.name, 1, None,
                                f"missing column(s) {', '.join(missing)} that sources.yaml "
                                f"({source.name}) maps"))
        return _frame([]), pd.DataFrame(columns=BENCHMARK_COLUMNS)
    frame["_area"] = _area(frame)
    frame["_name"] = _area_name(frame)
    own_rows, bench_parts = [], []
    for m in source.measures:
        sel = frame
        for col, want in m.where.items():
            sel = sel[sel[col].str.strip() == want]
        if sel.empty:
            problems.append(Problem(Severity.WARNING, path.name, None, None,
                                    f"no rows for {m.indicator} where {m.where}"))
            continue
        num = den = None
        if m.rate_per_10k_of:
            count, reason = _numeric_column(sel, m.rate_per_10k_of, path.name, problems)
            pop = _population_for(sel, population)
            value = (count / pop * 10000).round(1)
            num, den = count, pop
            # No population figure: the rate is not available, as DfE would mark it.
            reason = reason.where(reason.notna() | pop.notna(), "x")
        else:
            assert m.value is not None
            value, reason = _numeric_column(sel, m.value, path.name, problems)
            if m.numerator:
                num = _numeric_column(sel, m.numerator, path.name, problems)[0]
            if m.denominator:
                den = _numeric_column(sel, m.denominator, path.name, problems)[0]
        part = pd.DataFrame({
            "indicator": m.indicator, "period": sel["time_period"].str.strip(),
            "level": sel["geographic_level"], "area": sel["_area"], "name": sel["_name"],
            "region": sel.get("region_code", ""), "value": value, "reason": reason,
            "numerator": num if num is not None else np.nan,
            "denominator": den if den is not None else np.nan,
            "row": sel.index + 2, "column": m.value or m.rate_per_10k_of})
        bench_parts.append(part[BENCHMARK_COLUMNS])
        own = part[(part["level"] == LA_LEVEL) & (part["area"] == authority)]
        own_rows.append(pd.DataFrame({
            "file": path.name, "row": own["row"].astype("int64"), "column": own["column"],
            "indicator": own["indicator"], "period": own["period"], "value": own["value"],
            "numerator": own["numerator"], "denominator": own["denominator"],
            "authority": authority, "percent_sign": False, "reason": own["reason"]}))
    own_frame = (pd.concat(own_rows, ignore_index=True) if own_rows else _frame([]))
    bench = (pd.concat(bench_parts, ignore_index=True) if bench_parts
             else pd.DataFrame(columns=BENCHMARK_COLUMNS))
    return own_frame[CANONICAL_COLUMNS], bench


def _population_for(sel: pd.DataFrame, population: pd.DataFrame | None) -> pd.Series:
    if population is None:
        return pd.Series(np.nan, index=sel.index)
    key = pd.DataFrame({"area": sel["_area"], "period": sel["time_period"].str.strip()})
    merged = key.merge(population, on=["area", "period"], how="left")
    return pd.Series(merged["population"].to_numpy(), index=sel.index)


def read_population(path: Path, spec: Population, problems: list[Problem]) -> pd.DataFrame:
    """Population by geography, keyed to the reporting year it is the denominator for."""
    frame = read_dfe_csv(path)
    for col, want in spec.where.items():
        frame = frame[frame[col].str.strip() == want]
    values, _ = _numeric_column(frame, spec.column, path.name, problems)
    return pd.DataFrame({
        "area": _area(frame),
        "period": (frame["time_period"].astype(int) - spec.year_offset).astype(str),
        "population": values}).dropna()


def read_neighbours(path: Path) -> dict[str, list[str]]:
    frame = read_dfe_csv(path)
    cols = [c for c in frame.columns if re.fullmatch(r"SN_\d+", c)]
    cols.sort(key=lambda c: int(c[3:]))
    return {str(r["old_la_code"]).strip(): [str(r[c]).strip() for c in cols if str(r[c]).strip()]
            for _, r in frame.iterrows()}


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
        if p.name == "commentary.yaml":
            continue  # owners' commentary: read by tasks.commentary, not an export
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


def read_exports(exports_dir: Path, sources: Sources | None = None,
                 authority: str = "") -> Ingested:
    """Every record in every export, benchmarks from published files, and the problems."""
    sources = sources or Sources()
    files, problems = export_files(Path(exports_dir))
    frames: list[pd.DataFrame] = []
    bench: list[pd.DataFrame] = []
    neighbours: dict[str, list[str]] = {}
    population = None
    if sources.population:
        for path in files:
            if path.match(sources.population.files):
                population = read_population(path, sources.population, problems)
    read: list[str] = []
    headers: dict[str, dict[str, str]] = {}
    for path in files:
        if sources.is_reference(path.name):
            if sources.neighbours and path.match(sources.neighbours):
                neighbours = read_neighbours(path)
            read.append(path.name)
            continue
        source = sources.match(path.name)
        try:
            if isinstance(source, DfeSource):
                own, b = dfe_records(path, source, authority, problems, population)
                headers[path.name] = {"indicator": "(sources.yaml)", "period": "time_period",
                                      "authority": "old_la_code"}
                frames.append(own)
                bench.append(b)
            else:
                is_xlsx = path.suffix.lower() == ".xlsx"
                sheet = source.sheet if source else None
                table = read_xlsx_table(path, sheet) if is_xlsx else read_csv_table(path)
                if len(table.rows) <= 1:
                    problems.append(Problem(Severity.WARNING, path.name, None, None,
                                            "has no data rows"))
                if isinstance(source, WideSource):
                    frames.append(wide_records(table, source, problems, headers))
                else:
                    frames.append(long_records(table, source, problems, headers))
        except Exception as exc:  # a corrupt file is a finding about that file, not a crash
            problems.append(Problem(Severity.ERROR, path.name, None, None,
                                    f"could not be read as {path.suffix.lower()[1:].upper()}: "
                                    f"{type(exc).__name__}: {exc}"))
            continue
        read.append(path.name)
    frames = [f for f in frames if not f.empty]
    records = pd.concat(frames, ignore_index=True) if frames else _frame([])
    benchmarks = (pd.concat(bench, ignore_index=True) if bench
                  else pd.DataFrame(columns=BENCHMARK_COLUMNS))
    return Ingested(records, benchmarks, neighbours, problems, read, headers)
