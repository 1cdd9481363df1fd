"""The briefing read by meaning: HTML structure and content, PDF text, pages and metadata."""

from __future__ import annotations

import dataclasses
import io
import itertools
import re
from datetime import datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from jinja2 import UndefinedError
from pypdf import PdfReader

from tasks.presenting.render import ProjectFilesOnly, environment, render_html
from tasks.run.inputs import Inputs
from tasks.run.papers import Rendered
from tests.conftest import ROOT

GENERATED = datetime(2024, 11, 5, 9, 30).astimezone()


@pytest.fixture(scope="module")
def rendered(demo: tuple[Inputs, Rendered]) -> Rendered:
    return demo[1]


@pytest.fixture(scope="module")
def soup(rendered: Rendered) -> BeautifulSoup:
    return BeautifulSoup(rendered.html, "html.parser")


def text(el: Tag) -> str:
    return " ".join(el.get_text(" ").split())


def test_headings_in_order_and_sections(soup: BeautifulSoup) -> None:
    html = soup.find("html")
    assert isinstance(html, Tag) and html["lang"] == "en-GB"
    levels = [int(h.name[1]) for h in soup.find_all(re.compile(r"^h[1-6]$"))]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    ids = [s["id"] for s in soup.select("main > section")]
    assert ids == ["summary", "exceptions", "areas", "deep-dives", "data-quality",
                   "definitions", "method"]
    all_ids = [t["id"] for t in soup.find_all(id=True)]
    assert len(all_ids) == len(set(all_ids))


def test_tables_have_captions_and_header_cells(soup: BeautifulSoup) -> None:
    tables = soup.find_all("table")
    assert len(tables) > 10
    for t in tables:
        assert t.find("caption") and text(t.find("caption")), t
        assert t.find("th"), t


def test_every_chart_and_icon_has_a_text_alternative(soup: BeautifulSoup) -> None:
    charts = soup.find_all("svg")
    assert len(charts) >= 33
    for svg in charts:
        assert svg["role"] == "img"
        for ref in svg["aria-labelledby"].split():
            target = soup.find(id=ref)
            assert target is not None and text(target)
        assert svg.find("title") and svg.find("desc")
    icons = soup.select(".mdc")
    assert len(icons) >= 33
    for icon in icons:
        assert icon["role"] == "img" and icon["aria-label"].strip()


def test_spc_readings_in_plain_english(soup: BeautifulSoup) -> None:
    cl01 = text(soup.select_one("#exc-CL01 .spc-reading"))
    assert "Special cause concern: the latest point is above the upper process limit" in cl01
    assert "consistently failing" in cl01 and "will not be met" in cl01
    labels = {text(s) for s in soup.select(".spc-label")}
    for kind in ("Common cause variation", "Special cause improvement",
                 "Special cause concern", "Special cause, neither good nor bad: high",
                 "Special cause, neither good nor bad: low"):
        assert any(label.startswith(kind) for label in labels), kind
    for kind in ("consistently passing", "consistently failing", "hit and miss"):
        assert any(kind in label for label in labels), kind
    # Small numbers: no SPC signal is shown for the suppressed youth custody counts.
    assert "not shown for small numbers" in text(soup.select_one("#exc-YJ03"))
    yj = soup.find(id="exc-chart-YJ03-t").find_parent("svg")  # type: ignore[union-attr]
    assert not yj.select(".spc-mean") and not yj.select(".special")
    cl = soup.find(id="exc-chart-CL01-t").find_parent("svg")  # type: ignore[union-attr]
    assert cl.select(".spc-mean") and cl.select(".special-concern")


def test_rag_never_by_colour_alone(soup: BeautifulSoup) -> None:
    for badge in soup.select(".rag"):
        assert re.search(r"Red|Amber|Green|No rating", text(badge))
        assert text(badge.select_one(".rag-symbol")) in {"■", "▲", "●", "○"}


def test_exceptions_lead_with_the_neet_case(soup: BeautifulSoup) -> None:
    exc = soup.select("#exceptions article")
    assert exc[0]["id"] == "exc-CL01"
    first = text(exc[0])
    assert "52.0%" in first and "at most 40.0%" in first and "Deep dive required" in first
    assert "12.0 pts outside the target" in first
    codes = {a["id"].removeprefix("exc-") for a in exc}
    assert {"CL01", "LA02", "AS01", "WF02"} <= codes
    assert "CP03" not in codes  # amber, and its run of declines is broken by a gap


def test_summary_counts_match_tables(soup: BeautifulSoup, rendered: Rendered) -> None:
    summary = text(soup.select_one("#summary"))
    badges = [text(b) for b in soup.select("#areas table.indicators .rag")]
    reds = sum("Red" in b for b in badges)
    assert f"{reds} are red" in summary
    # Young people in custody declined three months running, but through counts of 1 to 5:
    # the public edition does not say so, and says why, in the same words every time.
    assert "4 indicators need a deep dive" in summary
    assert ("Whether 1 more needs a deep dive rests on figures about small numbers of "
            "children, which are not published: Young people in custody.") in summary
    assert "Care leavers in suitable accommodation" in summary  # not collected
    restricted = text(BeautifulSoup(rendered.restricted.html, "html.parser")
                      .select_one("#summary"))
    assert "5 indicators need a deep dive" in restricted and "Young people in custody" in \
        restricted and "Whether" not in restricted


def test_gap_and_missing_and_suppressed(soup: BeautifulSoup) -> None:
    rows = {r["id"].removeprefix("row-"): r for r in soup.select("#areas table.indicators tr[id]")}
    assert len(rows) == 33
    cp03 = text(rows["CP03"])
    assert "No figure for September 2024" in cp03 and "Compared with August 2024" in cp03
    cl02 = rows["CL02"]
    assert text(cl02.find_all("td")[0]) == "–"
    yj03 = rows["YJ03"]
    assert next(text(td) for td in yj03.find_all("td")) == "c"
    assert text(yj03.find_all("td")[3]) == "c"  # the previous month (4) is suppressed too
    chart = soup.find(id="exc-chart-YJ03-d")
    assert chart is not None and "latest c" in text(chart)
    # No suppressed count is drawn: the YJ03 chart plots only the zero months, on an axis
    # of whole children from 0 (not the -1 to 1 of an empty scale).
    svg = soup.find(id="exc-chart-YJ03-t").find_parent("svg")  # type: ignore[union-attr]
    ys = {p.split(",")[1] for line in svg.select(".series") for p in line["points"].split()}
    ys |= {d.split(",")[1].removesuffix("h0") for d in svg.select_one(".dot")["d"].split("M")
           if d} if svg.select_one(".dot") else set()
    assert len(ys) == 1
    ticks = [text(t) for t in svg.find_all("text") if t.get("text-anchor") == "end"]
    assert ticks == ["0", "1"]


def test_data_quality_section_lists_findings(soup: BeautifulSoup) -> None:
    dq = text(soup.select_one("#data-quality"))
    assert "Care leavers in suitable accommodation" in dq and "not collected" in dq


def test_autoescape_and_strict_undefined(rendered: Rendered) -> None:
    ctx = dataclasses.replace(rendered.context, committee="<script>alert(1)</script> & Co")
    html = render_html(ctx)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    with pytest.raises(UndefinedError):
        environment().from_string("{{ missing_field }}").render()


def test_url_fetcher_reads_only_project_files(tmp_path: Path) -> None:
    fetch = ProjectFilesOnly()
    css = ROOT / "templates" / "briefing.css"
    assert b"@page" in fetch.fetch(css.as_uri()).read()
    outside = tmp_path / "secret.txt"
    outside.write_text("x")
    for url in (outside.as_uri(), "http://127.0.0.1/x.css", "https://example.org/a.png",
                css.as_uri().replace("templates/briefing.css", "templates/../pyproject.toml")):
        with pytest.raises(ValueError, match="refused"):
            fetch.fetch(url)


def test_pdf_text_pages_and_metadata(rendered: Rendered) -> None:
    reader = PdfReader(io.BytesIO(rendered.pdf))
    n = len(reader.pages)
    assert 6 <= n <= 40
    first = reader.pages[0].extract_text()
    assert "Demo Borough Council" in first and "October 2024" in first
    assert f"Page 1 of {n}" in first
    assert f"Page {n} of {n}" in reader.pages[-1].extract_text()
    everything = "\n".join(p.extract_text() for p in reader.pages)
    for heading in ("Key points and summary", "Exceptions", "Service areas",
                    "Appendix A: Data quality", "Appendix B: Indicator definitions"):
        assert heading in everything
    assert "52.0%" in everything
    assert reader.metadata is not None and "October 2024" in str(reader.metadata.title)
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB" and root["/MarkInfo"]["/Marked"]
    def flat(items: list) -> list[str]:  # type: ignore[type-arg]
        return [t for o in items for t in (flat(o) if isinstance(o, list) else [o.title])]

    titles = flat(reader.outline)
    assert "1. Key points and summary" in titles and "2. Exceptions" in titles
    box = reader.pages[0].mediabox  # A4 in points
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_two_editions(rendered: Rendered) -> None:
    public = BeautifulSoup(rendered.public.html, "html.parser")
    restricted = BeautifulSoup(rendered.restricted.html, "html.parser")
    assert "Public edition" in text(public.select_one(".edition"))
    assert "Restricted edition" in text(restricted.select_one(".edition"))
    # Young people in custody: 5 this month, 4 the month before.
    pub = [text(td) for td in public.select_one("#row-YJ03").find_all("td")]
    res = [text(td) for td in restricted.select_one("#row-YJ03").find_all("td")]
    assert (pub[0], pub[3]) == ("c", "c") and (res[0], res[3]) == ("5", "4")
    assert restricted.find(id="exc-chart-YJ03-t").find_parent("svg").select(".spc-mean")  # type: ignore[union-attr]
    # Owners by role in public (publish_owner_names: false), by name in restricted.
    assert "Aisha Rahman" not in rendered.public.html
    assert "Aisha Rahman" in rendered.restricted.html
    assert rendered.public.pdf != rendered.restricted.pdf


def test_owner_commentary_attributed_dated_escaped(soup: BeautifulSoup) -> None:
    block = soup.select_one("#exc-CL01 .commentary")
    assert block is not None
    assert "checked the figure against case records" in text(block)
    assert "Head of Service, Care Leavers, 4 November 2024" in text(block.find("footer"))
    as01 = soup.select_one("#exc-AS01 .commentary")
    assert as01 is not None and "caseloads > 20" in text(as01)
    assert "caseloads &gt; 20" in str(as01)  # escaped, not markup
    missing = text(soup.select_one("#missing-commentary").find_next("ul"))
    assert "Agency social worker rate" in missing and "Care leavers" not in missing
