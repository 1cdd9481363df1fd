"""The briefing's figures as a workbook (one per edition) and the public table as open data.

Analysts want to sort and filter what the paper shows, and councils publish open data. Both
are built from one edition's results (`tasks.editions.disclosure.EditionResults`), never from the
analysis behind them: the public workbook and CSV hold exactly what the public paper may
print, a small figure is the text `c` and never a number, and a rule whose result rests on
one says "Not published" (`tests/unit/editions/test_disclosure.py` holds them to the
paper's property).

Numbers are real numbers with formats, rounded as the paper prints them (a percentage is
stored as a fraction, 52.3% as 0.523, so Excel sums and charts it as a percentage; the CSV
keeps the indicator's own units, 52.3, and says which in `unit`). Workbooks are written with
fixed properties and zip entry times taken from the run's generation time, so the same
figures give the same bytes.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from tasks.analysing.benchmarks import ordinal
from tasks.analysing.results import BenchmarkResult, IndicatorResult
from tasks.editions.disclosure import EditionResults
from tasks.presenting.context import (
    ASSURANCE_WORDS,
    DIRECTION_WORDS,
    QUARTILE_WORDS,
    RAG_ORDER,
    RAG_WORDS,
    VARIATION_WORDS,
)
from tasks.presenting.wording import (
    EDITION_LABELS,
    NOT_PUBLISHED,
    SPC_NOT_SHOWN,
    committee_question,
    deep_dive_flag,
    exception_reasons,
    indicator_notes,
    owner_text,
    source_error_reasons,
    spc_too_few,
)
from tasks.reading.problems import sort_problems
from tasks.settings.config import Config, Unit
from tasks.settings.formatting import (
    SUPPRESSED,
    SUPPRESSION_NOTE,
    fmt_value,
    polarity_label,
    unit_label,
)
from tasks.settings.periods import label

if TYPE_CHECKING:
    from tasks.presenting.regional import Overview

Value = str | float | int | None
INDICATORS, EXCEPTIONS, DATA_QUALITY, BENCHMARKS, ABOUT = (
    "Indicators", "Exceptions", "Data quality", "Benchmarks", "About")
# Decimals as the paper prints each unit (tasks.settings.formatting).
DECIMALS = {Unit.PERCENT: 1, Unit.COUNT: 0, Unit.RATE_PER_10K: 1, Unit.DAYS: 0,
            Unit.NUMBER: 1, Unit.MONEY: 0}
VALUE_FORMATS = {Unit.PERCENT: "0.0%", Unit.COUNT: "#,##0", Unit.RATE_PER_10K: "#,##0.0",
                 Unit.DAYS: '#,##0" days"', Unit.NUMBER: "#,##0.0",
                 Unit.MONEY: '"£"#,##0;-"£"#,##0'}
# A change in a percentage is in percentage points; a zero change reads as the paper's.
CHANGE_FORMATS = {
    Unit.PERCENT: '+0.0#" pts";-0.0#" pts";"no change"',
    Unit.COUNT: '+#,##0;-#,##0;"no change"',
    Unit.RATE_PER_10K: '+#,##0.0;-#,##0.0;"no change"',
    Unit.DAYS: '+#,##0" days";-#,##0" days";"no change"',
    Unit.NUMBER: '+#,##0.0;-#,##0.0;"no change"',
    Unit.MONEY: '+"£"#,##0;-"£"#,##0;"no change"',
}


# The largest number a worksheet cell holds (Excel's limit); validate refuses figures far
# smaller (tasks.settings.config.FIGURE_LIMITS), a history stored before those limits may not.
EXCEL_LARGEST = 9.99999999999999e307


def places_of(unit: Unit, value: float, change: bool = False,
              decimals: int | None = None) -> int:
    """The decimal places the paper prints a figure to: the indicator's `decimals` (set
    from its source, tasks.checking.precision) or the unit's; a tiny change keeps one more, as the
    paper does (tasks.settings.formatting.fmt_change), so it never reads as 0."""
    places = DECIMALS[unit] if decimals is None else decimals
    if change and 0 < abs(value) < 0.5 * 10.0 ** -places:
        places += 1
    return places


def rounded(unit: Unit, value: float | None, change: bool = False,
            decimals: int | None = None) -> float | None:
    """A figure at the paper's precision."""
    if value is None or not math.isfinite(value) or abs(value) > EXCEL_LARGEST:
        return None  # no figure, as in the paper: round() of an infinity raises
    places = places_of(unit, value, change, decimals)
    return round(value, places) if places else float(round(value))


def value_format(unit: Unit, places: int, change: bool = False) -> str:
    """Excel's number format for a value (or a change) at `places` decimal places."""
    if places == DECIMALS[unit] or (change and unit is Unit.PERCENT and places == 2):
        return CHANGE_FORMATS[unit] if change else VALUE_FORMATS[unit]
    dec = "." + "0" * places if places else ""
    body = {Unit.PERCENT: f"0{dec}", Unit.MONEY: f'"£"#,##0{dec}'}.get(unit, f"#,##0{dec}")
    after = {Unit.DAYS: '" days"'}.get(unit, "")
    if change:
        after = '" pts"' if unit is Unit.PERCENT else after
        return f'+{body}{after};-{body}{after};"no change"'
    if unit is Unit.MONEY:
        return f"{body};-{body}"
    return f"{body}{'%' if unit is Unit.PERCENT else ''}{after}"


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its heading in the workbook and in the CSV, what it holds
    (text, a value or a change in the row's unit, a whole number) and its width."""

    header: str
    name: str
    kind: str = "text"  # text | value | change | int
    width: int = 14


@dataclass(frozen=True)
class Table:
    columns: Sequence[Column]
    rows: list[list[Value]]
    units: list[Unit | None]  # each row's unit, for its values' formats
    # each row's decimal places where its indicator sets them (None: the unit's)
    places: list[int | None] | None = None


def _shown(r: IndicatorResult, name: str, unit: Unit, value: float | None,
           change: bool = False, decimals: int | None = None) -> Value:
    return SUPPRESSED if r.is_withheld(name) else rounded(unit, value, change, decimals)


def _other(unit: Unit, decimals: int | None, b: BenchmarkResult,
           value: float | None) -> Value:
    """Another area's figure: a number in the indicator's unit, or for a count compared as
    a rate (tasks.analysing.benchmarks) the rate as the paper writes it, "37.1 per 10,000
    children"."""
    if b.basis:
        return f"{fmt_value(Unit.RATE_PER_10K, value)} {b.basis}" if value is not None else None
    return rounded(unit, value, decimals=decimals)


def _yes_no(flag: bool | None) -> str:
    return NOT_PUBLISHED if flag is None else "Yes" if flag else "No"


def _spc(r: IndicatorResult) -> tuple[str, str]:
    if r.spc_withheld:
        return SPC_NOT_SHOWN, ""
    if r.spc is None:
        return "", ""
    if not r.spc.enough:
        return spc_too_few(r.spc.n_chart, int(r.spc.settings["min_points"])), ""
    return VARIATION_WORDS[r.spc.variation][0], ASSURANCE_WORDS[r.spc.assurance][0]


INDICATOR_HEADINGS = (
    Column("Indicator", "indicator", width=44),
    Column("Code", "indicator_code", width=9),
    Column("Service area", "service_area", width=24),
    Column("Period", "period", width=18),
    Column("Unit", "unit", width=16),
    Column("Polarity", "polarity", width=18),
    Column("Value", "value", "value", 11),
    Column("Target", "target", "value", 11),
    Column("Rating", "rating", width=14),
    Column("Previous period", "previous_period", width=18),
    Column("Previous", "previous_value", "value", 11),
    Column("Change", "change", "change", 13),
    Column("Direction", "direction", width=14),
    Column("Year ago", "year_ago_value", "value", 11),
    Column("Against 3 periods before", "direction_3", width=14),
    Column("Against 6 periods before", "direction_6", width=14),
    Column("Against 12 periods before", "direction_12", width=14),
    Column("Deep dive", "deep_dive", width=18),
    Column("Exception", "exception", width=13),
    Column("England", "england", "value", 11),
    Column("Region", "region_name", width=16),
    Column("Region value", "region", "value", 11),
    Column("Statistical neighbours", "statistical_neighbours", "value", 12),
    Column("Rank", "rank", width=12),
    Column("Quartile", "quartile", width=18),
    Column("SPC variation", "spc_variation", width=28),
    Column("SPC assurance", "spc_assurance", width=22),
    Column("Owner", "owner", width=36),
    Column("Notes", "notes", width=50),
)


def indicator_table(config: Config, figures: EditionResults, cycle: str) -> Table:
    """The paper's indicator table, one row per indicator in the catalogue's order."""
    public = figures.public
    by_code = {r.code: r for r in figures.results}
    rows: list[list[Value]] = []
    units: list[Unit | None] = []
    places: list[int | None] = []
    rules = config.briefing.rules
    for ind in config.indicators:
        r = by_code[ind.code]
        u, d = ind.unit, ind.decimals
        b = r.benchmark
        trends = dict(r.trends)
        variation, assurance = _spc(r)
        rank = (f"{ordinal(b.rank)} of {b.of}"
                if b is not None and b.rank is not None and b.of is not None else "")
        quartile = (QUARTILE_WORDS[b.quartile]
                    if b is not None and b.quartile is not None else "")
        rows.append([
            ind.title, ind.code, ind.service_area, label(r.period), unit_label(u),
            polarity_label(ind.polarity), _shown(r, "value", u, r.value, decimals=d),
            rounded(u, ind.target, decimals=d), RAG_WORDS[r.rag] + r.could_be,
            label(r.previous_period) if r.previous_period else "",
            _shown(r, "previous", u, r.previous, decimals=d),
            _shown(r, "change", u, r.change, True, d),
            DIRECTION_WORDS[r.direction], _shown(r, "year_ago", u, r.year_ago, decimals=d),
            *(DIRECTION_WORDS[trends[k]] if k in trends else "" for k in (3, 6, 12)),
            deep_dive_flag(r), _yes_no(r.breach),
            _other(u, d, b, b.england) if b else None, b.region_name if b else "",
            _other(u, d, b, b.region) if b else None,
            _other(u, d, b, b.sn_mean) if b else None,
            rank, quartile, variation, assurance, owner_text(config, ind.owner, public),
            " ".join(indicator_notes(ind, r, cycle, rules.consecutive_declines, public,
                                     rules.min_denominator))])
        units.append(u)
        places.append(d)
    return Table(INDICATOR_HEADINGS, rows, units, places)


EXCEPTION_HEADINGS = (
    Column("Indicator", "indicator", width=44),
    Column("Code", "indicator_code", width=9),
    Column("Period", "period", width=18),
    Column("Value", "value", "value", 11),
    Column("Target", "target", "value", 11),
    Column("Rating", "rating", width=14),
    Column("Deep dive", "deep_dive", width=18),
    Column("Why it is listed", "why", width=60),
    Column("Owner", "owner", width=36),
    Column("Question for the committee", "question", width=60),
)


def exception_table(config: Config, figures: EditionResults) -> Table:
    """The exceptions, in the paper's order: by rating, deep dives first within each."""
    by_code = config.by_code()
    rank = {k: i for i, k in enumerate(RAG_ORDER)}
    listed = sorted((r for r in figures.results if r.breach is not False),
                    key=lambda r: (rank[r.rag], r.deep_dive is not True))
    needed = config.briefing.rules.consecutive_declines
    rows: list[list[Value]] = []
    units: list[Unit | None] = []
    places: list[int | None] = []
    for r in listed:
        ind = by_code[r.code]
        u, d = ind.unit, ind.decimals
        rows.append([ind.title, ind.code, label(r.period),
                     _shown(r, "value", u, r.value, decimals=d),
                     rounded(u, ind.target, decimals=d), RAG_WORDS[r.rag] + r.could_be,
                     deep_dive_flag(r),
                     " ".join(source_error_reasons(r) + exception_reasons(ind, r, needed)),
                     owner_text(config, ind.owner, figures.public),
                     committee_question(ind, r)])
        units.append(u)
        places.append(d)
    return Table(EXCEPTION_HEADINGS, rows, units, places)


DQ_HEADINGS = (
    Column("Severity", "severity", width=10),
    Column("File", "file", width=34),
    Column("Row", "row", "int", 7),
    Column("Column", "column", width=16),
    Column("Indicator", "indicator_code", width=10),
    Column("Period", "period", width=18),
    Column("Finding", "finding", width=90),
)


def data_quality_table(figures: EditionResults) -> Table:
    """The edition's data-quality findings: the public one already leaves out those that
    rest on small figures (tasks.editions.disclosure.public_problems)."""
    rows: list[list[Value]] = [
        [p.severity.value.capitalize(), p.file, p.row, p.column or "", p.indicator or "",
         label(p.period) if p.period else "", p.message]
        for p in sort_problems(figures.problems)]
    return Table(DQ_HEADINGS, rows, [None] * len(rows))


BENCHMARK_HEADINGS = (
    Column("Indicator", "indicator", width=44),
    Column("Code", "indicator_code", width=9),
    Column("Period", "period", width=18),
    Column("This authority", "value", "value", 12),
    Column("England", "england", "value", 11),
    Column("Region", "region_name", width=16),
    Column("Region value", "region", "value", 11),
    Column("Statistical neighbours (mean)", "sn_mean", "value", 14),
    Column("Statistical neighbours (median)", "sn_median", "value", 14),
    Column("Neighbours with a figure", "sn_count", "int", 12),
    Column("Neighbours not published", "sn_missing", width=30),
    Column("Rank", "rank", "int", 8),
    Column("Of", "of", "int", 8),
    Column("Quartile", "quartile", width=18),
)


def benchmark_table(config: Config, figures: EditionResults) -> Table:
    """England, region, statistical neighbours and rank, for indicators that have them."""
    by_code = {r.code: r for r in figures.results}
    rows: list[list[Value]] = []
    units: list[Unit | None] = []
    places: list[int | None] = []
    for ind in config.indicators:
        r = by_code[ind.code]
        b = r.benchmark
        if b is None:
            continue
        u, d = ind.unit, ind.decimals
        own = _shown(r, "value", u, r.value, decimals=d) if b.period == r.period else None
        if b.basis:  # this authority's own figure beside the others: its rate too
            own = (_other(u, d, b, b.own) if b.own is not None
                   else SUPPRESSED if r.is_withheld("value") else None)
        rows.append([ind.title, ind.code, label(b.period), own,
                     _other(u, d, b, b.england), b.region_name,
                     _other(u, d, b, b.region), _other(u, d, b, b.sn_mean),
                     _other(u, d, b, b.sn_median), b.sn_count,
                     ", ".join(b.sn_missing), b.rank, b.of,
                     QUARTILE_WORDS[b.quartile] if b.quartile is not None else ""])
        units.append(u)
        places.append(d)
    return Table(BENCHMARK_HEADINGS, rows, units, places)


# --- Writing ---------------------------------------------------------------------------------

def _cell_value(value: Value, kind: str, unit: Unit | None) -> Value:
    """A percentage goes into the workbook as a fraction, formatted as a percentage."""
    if kind == "value" and unit is Unit.PERCENT and isinstance(value, float):
        return value / 100.0
    return value


def _number_format(kind: str, unit: Unit | None, value: object = None,
                   decimals: int | None = None) -> str | None:
    if unit is None:
        return "0" if kind == "int" else None
    if kind in ("value", "change") and isinstance(value, float):
        change = kind == "change"
        return value_format(unit, places_of(unit, value, change, decimals), change)
    if kind == "value":
        return VALUE_FORMATS[unit]
    if kind == "change":
        return CHANGE_FORMATS[unit]
    return "0" if kind == "int" else None


def sheet_table(ws: Worksheet, table: Table, freeze: str = "B2") -> None:
    """A header row (bold, frozen, filtered), then the rows, each number with its format."""
    ws.append([c.header for c in table.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    places = table.places or [None] * len(table.rows)
    for r, (row, unit, d) in enumerate(zip(table.rows, table.units, places, strict=True),
                                       start=2):
        ws.append([_cell_value(v, c.kind, unit) for v, c in zip(row, table.columns,
                                                                strict=True)])
        # Each cell by its address: `ws[ws.max_row]` scans the whole sheet, and made a
        # sheet of 5,000 findings take half a minute.
        for j, (col, v) in enumerate(zip(table.columns, row, strict=True), start=1):
            cell = ws.cell(row=r, column=j)
            fmt = _number_format(col.kind, unit, v, d)
            if fmt and isinstance(v, int | float):
                cell.number_format = fmt
            elif v == SUPPRESSED:
                cell.alignment = Alignment(horizontal="right")
    for i, col in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = freeze
    last = get_column_letter(len(table.columns))
    ws.auto_filter.ref = f"A1:{last}{max(1, len(table.rows) + 1)}"


def sheet_about(ws: Worksheet, lines: list[tuple[str, str]]) -> None:
    for k, v in lines:
        ws.append([k, v])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 110


def _naive_utc(when: datetime) -> datetime:
    return (when.astimezone(UTC) if when.tzinfo else when).replace(tzinfo=None,
                                                                   microsecond=0)


def _text_not_formulas(wb: Workbook) -> None:
    """Every cell stays what it says. These workbooks hold no formulas, but openpyxl
    makes any text starting with "=" one: a title or name from an export such as
    `=HYPERLINK(...)` would run in the reader's spreadsheet. Such text is stored as text,
    marked so that editing the cell keeps it text."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                    cell.quotePrefix = True


# Characters that make a spreadsheet read a CSV cell as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """Text for a CSV cell that a spreadsheet will not run: a leading formula character
    gets an apostrophe before it. Numbers are written from floats, never through here."""
    return "'" + text if len(text) > 1 and text.startswith(FORMULA_STARTS) else text


def workbook_bytes(wb: Workbook, generated_at: datetime, title: str) -> bytes:
    """The workbook as .xlsx bytes that depend only on its content and `generated_at`:
    properties dated then (openpyxl's own save would stamp the time of saving), and every
    zip entry given that time and the same order."""
    when = _naive_utc(generated_at)
    _text_not_formulas(wb)
    props = wb.properties
    props.title, props.creator, props.lastModifiedBy = title, "scrutiny-briefing", None
    props.created = props.modified = when
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    stamp = max(when, datetime(1980, 1, 1)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


def briefing_workbook(config: Config, figures: EditionResults, cycle: str,
                      generated_at: datetime) -> bytes:
    """One edition's workbook: Indicators, Exceptions, Data quality, Benchmarks, About."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = INDICATORS
    sheet_table(ws, indicator_table(config, figures, cycle))
    sheet_table(wb.create_sheet(EXCEPTIONS), exception_table(config, figures))
    sheet_table(wb.create_sheet(DATA_QUALITY), data_quality_table(figures), freeze="A2")
    sheet_table(wb.create_sheet(BENCHMARKS), benchmark_table(config, figures))
    b = config.briefing
    sheet_about(wb.create_sheet(ABOUT), [
        ("Title", b.report_title), ("Authority", f"{b.authority.name} ({b.authority.code})"),
        ("Committee", b.committee), ("Reporting period", label(cycle)),
        ("Edition", EDITION_LABELS[figures.edition]),
        ("Generated", _naive_utc(generated_at).isoformat() + "Z"),
        ("c", SUPPRESSION_NOTE),
        ("Numbers", "Rounded as the paper prints them; percentages are stored as "
                    "percentages (52.3% is 0.523), changes in percentages in points."),
        ("Contact", f"{b.contact.name}, {b.contact.role}, {b.contact.email}")])
    return workbook_bytes(wb, generated_at, f"{b.report_title}: {label(cycle)}")


def _csv_text(value: Value, kind: str, unit: Unit | None, decimals: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and unit is not None and kind in ("value", "change"):
        places = places_of(unit, value, kind == "change", decimals)
        return f"{value:.{places}f}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    return csv_safe(str(value))


def open_data_csv(config: Config, figures: EditionResults, cycle: str) -> bytes:
    """The public indicator table as UTF-8 CSV (RFC 4180, no byte-order mark), one row per
    indicator, in the indicator's own units; `c` marks a small figure, as in DfE's files."""
    if not figures.public:
        raise ValueError("open data is the public edition's figures only")
    table = indicator_table(config, figures, cycle)
    a = config.briefing.authority
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["time_period", "la_code", "la_name", *(c.name for c in table.columns)])
    places = table.places or [None] * len(table.rows)
    for row, unit, d in zip(table.rows, table.units, places, strict=True):
        w.writerow([cycle, a.code, csv_safe(a.name), *(_csv_text(v, c.kind, unit, d)
                                              for v, c in zip(row, table.columns,
                                                              strict=True))])
    return out.getvalue().encode("utf-8")


# --- The regional overview -------------------------------------------------------------------

def overview_workbook(ov: Overview, generated_at: datetime) -> bytes:
    """The regional overview: a row per authority (worst first), with each indicator's
    published value, rating and deep dive; a second sheet names those not briefed."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Overview"
    columns: list[Column] = [Column("Authority", "authority", width=30),
                             Column("Code", "code", width=7),
                             Column("Red", "reds", "int", 6),
                             Column("Deep dives", "deep_dives", "int", 8)]
    for _code, title in ov.indicators:
        columns += [Column(title, "value", "value", 14),
                    Column(f"{title}: rating", "rating", width=14),
                    Column(f"{title}: deep dive", "deep_dive", width=14)]
    ws.append([c.header for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(ov.rows, start=2):
        values: list[Any] = [row.name, row.code, row.reds, row.deep_dives]
        formats: list[str | None] = [None, None, "0", "0"]
        for c in row.cells:
            unit = Unit(c.unit) if c.unit else None
            value: Value = SUPPRESSED if c.text == SUPPRESSED else (
                rounded(unit, c.value, decimals=c.decimals) if unit is not None else c.value)
            values += [_cell_value(value, "value", unit), c.rag_word,
                       _yes_no(c.deep_dive)]
            formats += [value_format(unit, places_of(unit, value, decimals=c.decimals))
                        if unit is not None and isinstance(value, float) else None, None,
                        None]
        ws.append(values)
        for j, fmt in enumerate(formats, start=1):
            if fmt:
                ws.cell(row=r, column=j).number_format = fmt
    for i, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(ov.rows) + 1}"
    failed = wb.create_sheet("Not briefed")
    failed.append(["Authority (reason)"])
    failed["A1"].font = Font(bold=True)
    for f in ov.failed:
        failed.append([f])
    failed.column_dimensions["A"].width = 90
    return workbook_bytes(wb, generated_at, f"{ov.title}: {ov.cycle_label}")


def read_cells(data: bytes) -> dict[str, list[list[Any]]]:
    """Every sheet's cell values, for comparing workbooks by what they say (tests, checks)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)]
                for ws in wb.worksheets}
    finally:
        wb.close()

