"""The paper as a councillor reads it in print, for both editions of the demo and of Torbay
(DfE's published figures): page 1, the dates, comparisons, where tables, captions and
exceptions fall on the pages, and the size of charts and of every piece of text.

Everything is read back from the real PDF (text per page, and the geometry of text runs
and tagged figures in the content streams) and compared with the context the paper was
made from, never with a stored file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

import pytest
from bs4 import BeautifulSoup, Tag
from pypdf import PdfReader

from tasks.presenting.context import BriefingContext
from tasks.run.analysis import compare_with_history
from tasks.run.inputs import Inputs, validate_exports
from tasks.run.papers import Rendered, render_briefing
from tasks.settings.formatting import Edition
from tasks.store.history import MemoryHistoryStore
from tests.conftest import ROOT, TODAY, render_without_pdfs
from tests.pdf_reading import PageGeometry, iter_runs, page_texts, read_geometry, words

DFE = ROOT.parent / "shared" / "data" / "dfe"
TEXT_COLUMN = (210 - 18 - 18) / 25.4 * 72  # the A4 page less its side margins, in points
PAPERS = ["demo-public", "demo-restricted", "torbay-public", "torbay-restricted"]


@dataclass
class Paper:
    context: BriefingContext
    html: BeautifulSoup
    pages: list[str]  # text of each page
    geometry: list[PageGeometry]


@cache
def _torbay() -> Rendered:
    inputs = validate_exports(ROOT / "config" / "dfe", DFE, today=TODAY)
    return render_briefing(inputs, compare_with_history(
        inputs, MemoryHistoryStore()), datetime(2025, 11, 1).astimezone())


@pytest.fixture(scope="module", params=PAPERS)
def paper(request: pytest.FixtureRequest,
          demo: tuple[Inputs, Rendered]) -> Paper:
    name, edition = str(request.param).split("-")
    if name == "torbay" and not DFE.is_dir():
        pytest.skip("../shared/data/dfe is not beside the project")
    rendered = demo[1] if name == "demo" else _torbay()
    p = rendered.editions[Edition(edition)]
    reader = PdfReader(io.BytesIO(p.pdf))
    return Paper(p.context, BeautifulSoup(p.html, "html.parser"), page_texts(reader),
                 read_geometry(reader))


def text(el: Tag) -> str:
    return words(el.get_text(" "))


def test_first_page_tells_a_councillor_what_matters(paper: Paper) -> None:
    ctx, first = paper.context, paper.pages[0]
    for fact in (ctx.authority_name, ctx.committee, f"{ctx.title}: {ctx.cycle_title}",
                 f"Date of meeting {ctx.meeting_date}", f"Date of report {ctx.report_date}",
                 "1. Key points and summary", "Indicators by rating"):
        assert words(fact) in first, fact
    for line in ctx.key_points:
        assert words(line) in first, line
    assert f"Exceptions at a glance, {ctx.cycle_label}" in first
    assert ctx.exceptions, "both papers have exceptions"
    for ind in ctx.exceptions:  # every one, with why it is listed, in the order of the table
        assert f"{words(ind.title)} {ind.value}" in first, ind.title
        assert words(ind.why_listed) in first, ind.why_listed
    rows = paper.html.select("table.glance tbody tr")
    assert [text(r.th) for r in rows] == [words(ind.title) for ind in ctx.exceptions]


def test_dates_come_from_the_meeting_calendar_never_the_clock(paper: Paper) -> None:
    ctx = paper.context
    if ctx.authority_code == "999":  # meetings: 2024-11-28 takes the October 2024 paper
        assert (ctx.meeting_date, ctx.report_date) == ("28 November 2024", "20 November 2024")
        assert "published with the agenda" in ctx.report_date_note
    else:  # no meeting in config/dfe takes an annual paper: the clerk confirms it
        assert (ctx.meeting_date, ctx.report_date) == ("To be confirmed", "To be confirmed")
        assert "to be confirmed by the clerk" in ctx.report_date_note
    today = date.today().strftime("%-d %B %Y")
    if today not in (ctx.meeting_date, ctx.report_date):
        assert today not in " ".join(paper.pages)
    cover = text(paper.html.select_one(".cover-facts"))  # type: ignore[arg-type]
    assert f"Date of report {ctx.report_date}" in cover


def test_a_given_report_date_is_printed(demo: tuple[Inputs, Rendered]) -> None:
    inputs, _ = demo
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    ctx = render_without_pdfs(inputs, analysed, date(2024, 11, 18)).contexts[Edition.PUBLIC]
    assert (ctx.report_date, ctx.meeting_date) == ("18 November 2024", "28 November 2024")
    assert ctx.report_date_note == "The date of the report was given when the paper was produced."


def test_annual_papers_say_the_year_and_compare_once(paper: Paper) -> None:
    ctx, everything = paper.context, " ".join(paper.pages)
    assert "reporting year" not in everything
    annual = ctx.authority_code != "999"
    for ind in ctx.exceptions:
        card = paper.html.select_one(f"#exc-{ind.code}")
        heads = [text(th) for th in card.select("table.facts thead th")]  # type: ignore[union-attr]
        # The figure, the target, the previous period's, the change; a year ago only when
        # that is another period: each period's figure once.
        assert heads[:4] == [ind.period_short, "Target", ind.previous_period, "Change"], heads
        assert len(set(heads)) == len(heads)
        assert heads.count(ind.year_ago_period) == 1 and ind.year_ago_shown is not annual
    for table in paper.html.select("table.indicators"):
        heads = [text(th) for th in table.select("thead th")]
        assert ("Year ago" in heads) is not annual, heads
    if annual:
        assert "Year to 31 March 2025" in paper.pages[0] and "Year ago" not in everything
        # Each figure once: the previous year's, never again as "a year ago".
        for ind in ctx.exceptions:
            assert not ind.year_ago_shown and ind.previous_period == "2024"
    else:
        assert "Oct 24 Target Sep 24 Change Oct 23" in everything


def test_every_exception_says_why_it_is_listed(paper: Paper) -> None:
    for ind in paper.context.exceptions:
        card = paper.html.select_one(f"#exc-{ind.code}")
        assert card is not None and ind.why_listed
        reasons = text(card.select_one(".reasons"))  # type: ignore[arg-type]
        if ind.rag == "red":
            assert ind.why_listed.startswith("Red rating") and "Red:" in reasons
        if ind.rag in ("green", "amber") and ind.deep_dive:
            assert f"Listed for the deep dive, not for its rating: it is {ind.rag_label}" \
                in reasons
    green = [i for i in paper.context.exceptions if i.rag == "green"]
    assert green, "both papers list a Green indicator for its deep dive"


def _page_of(pages: list[str], needle: str, start: int = 0) -> int:
    for i in range(start, len(pages)):
        if needle in pages[i]:
            return i
    raise AssertionError(f"not in the PDF: {needle!r}")


def test_captions_stay_with_their_tables_and_no_table_splits_after_one_row(
        paper: Paper) -> None:
    pages = paper.pages
    checked = 0
    for table in paper.html.select("table"):
        caption = words(text(table.caption))  # type: ignore[arg-type]
        rows = [words(text(r.find(["th", "td"]))) for r in table.select("tbody tr")]
        page = _page_of(pages, caption)
        after = pages[page][pages[page].index(caption) + len(caption):]
        assert rows[0] in after, (caption, rows[0])  # the caption's page holds its table
        if len(rows) > 1:
            assert rows[1] in after[after.index(rows[0]) + len(rows[0]):], (caption, rows[1])
            last = _page_of(pages, rows[-1], page)
            if last > page:  # carried over: with the row before it, never alone
                assert rows[-2] in pages[last], (caption, rows[-2])
        checked += 1
    assert checked >= 10


def test_exception_cards_are_not_split(paper: Paper) -> None:
    for ind in paper.context.exceptions:
        start = _page_of(paper.pages, words(f"{ind.title} {ind.rag_symbol}"))
        assert words(ind.question) in paper.pages[start], ind.title


def test_charts_are_full_width_and_no_text_is_below_8pt(paper: Paper) -> None:
    sizes = [r.size for r in iter_runs(paper.geometry)]
    assert sizes and min(sizes) >= 7.99, min(sizes)
    figures = [f for p in paper.geometry for f in p.figures]
    charted = [i for i in paper.context.exceptions if i.chart is not None]
    assert charted
    for ind in charted:
        box = [f for f in figures if f.alt == f"{ind.title}: trend" and f.width > 200]
        assert len(box) == 1, ind.title
        assert box[0].width >= 0.95 * TEXT_COLUMN and box[0].height >= 100, box[0]
        runs = [r for p in paper.geometry for r in p.runs if r.figure == box[0].alt]
        # Labelled axes and target: y ticks, x ticks, both titles, the target's label.
        assert len(runs) >= 8 and min(r.size for r in runs) >= 8, ind.title
    # Every other indicator has its trend line in its row: no text in it to misread.
    sparks = [f for f in figures if f.width < 100]
    assert len(sparks) == sum(1 for a in paper.context.areas for i in a.indicators
                              if i.spark is not None)
    assert not [r for r in iter_runs(paper.geometry)
                if r.figure and any(r.figure == f.alt for f in sparks)
                and not any(r.figure == f.alt for f in figures if f.width > 200)]


def test_chart_axes_start_where_the_data_does(paper: Paper) -> None:
    for ind in paper.context.exceptions:
        if ind.chart is None:
            assert ind.chart_note.startswith("No chart:")
            continue
        caption = text(paper.html.select_one(f"#exc-{ind.code} figcaption"))  # type: ignore[arg-type]
        assert caption.startswith(f"{ind.chart.first_label} to {ind.chart.last_label}.")
        assert ind.chart.segments and ind.chart.segments[0][0].x == ind.chart.plot_left
    if paper.context.authority_code == "880":  # the workforce census starts in 2017
        sw = next(i for i in paper.context.exceptions if i.code == "SW_ABSENCE")
        assert sw.chart is not None and sw.chart.first_label == "2017"
