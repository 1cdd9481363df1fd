"""The workbooks (one per edition), the open-data CSV and the regional overview's workbook,
opened with openpyxl and read against the paper: every value the paper prints, as a real
number with its format, or `c` where the public paper prints `c`."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tasks.adapters.mail import MemoryMailer
from tasks.adapters.outputs import in_set
from tasks.presenting.context import BriefingContext, IndicatorView
from tasks.presenting.regional import overview
from tasks.presenting.spreadsheets import (
    INDICATOR_HEADINGS,
    briefing_workbook,
    open_data_csv,
    overview_workbook,
    read_cells,
)
from tasks.run.analysis import compare_with_history
from tasks.run.delivery import notify
from tasks.run.inputs import Inputs
from tasks.run.papers import Rendered
from tasks.run.publishing import store_and_publish
from tasks.settings.config import Unit
from tasks.settings.formatting import SUPPRESSED, Edition, fmt_value
from tasks.store.history import MemoryHistoryStore

Demo = tuple[Inputs, Rendered]
SHEETS = ["Indicators", "Exceptions", "Data quality", "Benchmarks", "About"]
HEAD = [c.header for c in INDICATOR_HEADINGS]


def views(ctx: BriefingContext) -> dict[str, IndicatorView]:
    return {v.code: v for a in ctx.areas for v in a.indicators}


def as_paper(unit: Unit, cell: Any) -> str:
    """A workbook cell as the paper would print it."""
    if cell == SUPPRESSED:
        return SUPPRESSED
    return fmt_value(unit, None if cell is None else cell * 100 if unit is Unit.PERCENT
                     else cell)


@pytest.mark.parametrize("edition", list(Edition))
def test_workbook_values_and_formats_match_the_paper(demo: Demo, edition: Edition) -> None:
    inputs, rendered = demo
    wb = load_workbook(io.BytesIO(rendered.sheets[edition]))
    assert wb.sheetnames == SHEETS
    ws = wb["Indicators"]
    assert [c.value for c in ws[1]] == HEAD and all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:AC{len(inputs.config.indicators) + 1}"
    paper = views(rendered.contexts[edition])
    units = {i.code: i.unit for i in inputs.config.indicators}
    col = {h: i for i, h in enumerate(HEAD)}
    rows = list(ws.iter_rows(min_row=2))
    assert [r[col["Code"]].value for r in rows] == [i.code for i in inputs.config.indicators]
    for r in rows:
        code = r[col["Code"]].value
        v, unit = paper[code], units[code]
        for name, text in (("Value", v.value), ("Previous", v.previous),
                           ("Year ago", v.year_ago)):
            cell = r[col[name]]
            assert as_paper(unit, cell.value) == text, (code, name, cell.value, text)
            if isinstance(cell.value, float):
                assert cell.number_format == {
                    Unit.PERCENT: "0.0%", Unit.COUNT: "#,##0", Unit.RATE_PER_10K: "#,##0.0",
                    Unit.DAYS: '#,##0" days"', Unit.NUMBER: "#,##0.0"}[unit]
        assert r[col["Rating"]].value == v.rag_label
        assert r[col["Direction"]].value == v.direction_label
        assert r[col["Deep dive"]].value == v.deep_dive_text
        assert (r[col["Owner"]].value or "") == v.owner
        if v.target != "No target":
            assert v.target.endswith(as_paper(unit, r[col["Target"]].value))
    by_code = {r[col["Code"]].value: r for r in rows}
    yj03, cl01 = by_code["YJ03"], by_code["CL01"]  # 5 young people in custody; 52.0% NEET
    assert yj03[col["Value"]].value == (SUPPRESSED if edition is Edition.PUBLIC else 5)
    assert cl01[col["Value"]].value == pytest.approx(0.52)
    assert cl01[col["Change"]].number_format.startswith('+0.0#" pts"')
    exceptions = list(wb["Exceptions"].iter_rows(min_row=2, values_only=True))
    assert [e[1] for e in exceptions] == [x.code for x in rendered.contexts[edition].exceptions]


def test_public_workbook_names_owners_as_the_public_paper_does(demo: Demo) -> None:
    inputs, rendered = demo
    cells = read_cells(rendered.sheets[Edition.PUBLIC])
    names = {o.name for o in inputs.config.owners.values()}
    text = " ".join(str(v) for rows in cells.values() for row in rows for v in row)
    assert not any(n in text for n in names)  # publish_owner_names: false
    restricted = read_cells(rendered.sheets[Edition.RESTRICTED])
    assert any(n in str(restricted["Exceptions"]) for n in names)


def test_open_data_csv_is_the_public_table(demo: Demo) -> None:
    inputs, rendered = demo
    assert rendered.open_data is not None and not rendered.open_data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(rendered.open_data.decode("utf-8"))))
    assert len(rows) == len(inputs.config.indicators)
    paper = views(rendered.contexts[Edition.PUBLIC])
    units = {i.code: i.unit for i in inputs.config.indicators}
    for row in rows:
        assert row["time_period"] == "2024-10" and row["la_code"] == "999"
        v = paper[row["indicator_code"]]
        value = row["value"]
        shown = SUPPRESSED if value == SUPPRESSED else fmt_value(
            units[row["indicator_code"]], float(value) if value else None)
        assert shown == v.value and row["rating"] == v.rag_label
    yj03 = next(r for r in rows if r["indicator_code"] == "YJ03")
    assert yj03["value"] == "c" and yj03["change"] in ("c", "")
    with pytest.raises(ValueError):
        open_data_csv(inputs.config, rendered.figures[Edition.RESTRICTED], "2024-10")


def test_same_figures_same_bytes(demo: Demo) -> None:
    inputs, rendered = demo
    figures = rendered.figures[Edition.PUBLIC]
    at = datetime(2024, 11, 5, 9, 30).astimezone()
    assert briefing_workbook(inputs.config, figures, "2024-10", at) == \
        rendered.sheets[Edition.PUBLIC]
    later = briefing_workbook(inputs.config, figures, "2024-10",
                              datetime(2024, 11, 6, 9, 30).astimezone())
    assert later != rendered.sheets[Edition.PUBLIC]
    wb = load_workbook(io.BytesIO(later))
    assert wb.properties.created == wb.properties.modified
    assert wb.properties.created.date().isoformat() == "2024-11-06"


def test_files_are_written_beside_the_paper(demo: Demo, tmp_path: Path) -> None:
    inputs, rendered = demo
    from tasks.store.history import MemoryHistoryStore as Store

    analysed = compare_with_history(inputs, Store())
    target = store_and_publish(inputs, analysed, rendered, Store(), tmp_path)
    assert in_set(target, "briefing-public.xlsx").read_bytes() == rendered.sheets[Edition.PUBLIC]
    assert in_set(target, "briefing-restricted.xlsx").read_bytes() == \
        rendered.sheets[Edition.RESTRICTED]
    assert in_set(target, "indicators-public.csv").read_bytes() == rendered.open_data
    assert not list(target.rglob(".*.part"))


def test_recipients_who_ask_get_the_workbook_beside_the_pdf(demo: Demo) -> None:
    inputs, rendered = demo
    b = inputs.config.briefing
    recipients = [r.model_copy(update={"spreadsheet": r.email.startswith("dcs@")})
                  for r in b.recipients]
    config = inputs.config.model_copy(update={"briefing": b.model_copy(
        update={"recipients": recipients})})
    mailer = MemoryMailer()
    notify(Inputs(config, inputs.cycle, inputs.records, [], []), rendered,
                    MemoryHistoryStore(), mailer, False)
    files = {str(m["To"]): {p.get_filename(): p for p in m.iter_attachments()}
             for m in mailer.sent}
    dcs = files["Director of Children's Services <dcs@example.gov.uk>"]
    sheet = dcs["999-2024-10-briefing-public.xlsx"]
    assert sheet.get_content_type() == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert sheet.get_content() == rendered.sheets[Edition.PUBLIC]
    # Nobody else gets the briefing's workbook (owners' messages carry their own return
    # workbook and may carry their deep-dive packs).
    assert all(not any(n.endswith(".xlsx") and "-return-" not in n for n in f)
               for to, f in files.items() if "dcs@" not in to)
    assert any("-return-" in n for to, f in files.items() for n in f if "dcs@" not in to)


def test_regional_overview_workbook() -> None:
    from tests.factories import make_config

    cfg = make_config([{"code": "A1", "unit": "percent", "target": 50.0},
                       {"code": "A2", "unit": "count"}])
    results = [
        {"code": "880", "name": "Torbay", "cycle": "2025", "indicators": {
            "A1": {"value": 61.25, "withheld": False, "rag": "green", "deep_dive": False},
            "A2": {"value": None, "withheld": True, "rag": "withheld", "deep_dive": None}}},
        {"code": "302", "name": "Barnet", "cycle": "2025", "indicators": {
            "A1": {"value": 40.0, "withheld": False, "rag": "red", "deep_dive": True},
            "A2": {"value": 12.0, "withheld": False, "rag": "none", "deep_dive": False}}},
    ]
    ov = overview(cfg, results, ["Dorset (no figures for reporting year 2025)"],
                  datetime(2025, 6, 1, 12).astimezone())
    data = overview_workbook(ov, datetime(2025, 6, 1, 12).astimezone())
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Overview", "Not briefed"]
    ws = wb["Overview"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][:4] == ("Barnet", "302", 1, 1)  # worst first
    assert rows[1][4:] == (pytest.approx(0.4), "Red", "Yes", 12, "No rating", "No")
    # 61.25 rounds as the paper prints it ("61.2%", Python's rounding of the float)
    assert rows[2][4:] == (pytest.approx(0.612), "Green", "No", "c", "Not published",
                           "Not published")
    assert ws.cell(2, 5).number_format == "0.0%" and ws.cell(2, 8).number_format == "#,##0"
    assert ws.freeze_panes == "C2" and ws.auto_filter.ref == "A1:J3"
    assert [r[0] for r in wb["Not briefed"].iter_rows(min_row=2, values_only=True)] == [
        "Dorset (no figures for reporting year 2025)"]
    assert overview_workbook(ov, datetime(2025, 6, 1, 12).astimezone()) == data


def test_text_that_looks_like_a_formula_stays_text(demo: Demo) -> None:
    """A title from an export (briefing init copies them) or a name in the config that
    starts like a formula is text in the workbooks and the CSV, never something to run."""
    import zipfile

    inputs, rendered = demo
    evil = '=HYPERLINK("http://evil.example","Open")'
    first = inputs.config.indicators[0].model_copy(update={"title": evil})
    authority = inputs.config.briefing.authority.model_copy(update={"name": "@SUM(1+1)"})
    briefing = inputs.config.briefing.model_copy(update={"authority": authority,
                                                         "committee": "+cmd|' /C calc'!A0"})
    config = inputs.config.model_copy(update={"indicators": [first,
                                                             *inputs.config.indicators[1:]],
                                              "briefing": briefing})
    figures = rendered.figures[Edition.PUBLIC]
    data = briefing_workbook(config, figures, "2024-10", datetime(2024, 11, 5, 9, 30))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in s for s in sheets)
    wb = load_workbook(io.BytesIO(data))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if c.value == evil]
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)
    rows = list(csv.reader(io.StringIO(open_data_csv(config, figures, "2024-10").decode())))
    first_row = dict(zip(rows[0], rows[1], strict=True))
    assert first_row["la_name"] == "'@SUM(1+1)"
    assert "'" + evil in rows[1] and evil not in rows[1]
    # Numbers, negative changes included, are written as numbers.
    assert any(v.startswith("-") and v[1:].replace(".", "").isdigit()
               for r in rows[1:] for v in r)
