"""The artifacts a run shows in Prefect's UI: built from the public edition only, so a figure
about 1 to 5 children is `c` there as in the public paper.

The demo's young people in custody (YJ03) were 5 this month and 4 the month before: the
restricted edition prints 5, 4 and +1 and a deep dive; the public one c, c, c and "Not
published". The run-level test reads a real run's artifacts back through Prefect's client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.adapters.outputs import in_set
from tasks.presenting.artifacts import (
    indicator_table,
    key_for,
    md,
    overview_table,
    paper_links,
    summary_key,
    summary_markdown,
    table_key,
)
from tasks.settings.formatting import Edition


def _views(ctx: Any) -> dict[str, Any]:
    return {v.code: v for area in ctx.areas for v in area.indicators}


def withheld_figures(rendered: Any) -> dict[str, set[str]]:
    """For each indicator the public edition shows as `c` or "Not published" anywhere: the
    restricted edition's text for those fields (what must never reach an artifact)."""
    public = _views(rendered.contexts[Edition.PUBLIC])
    restricted = _views(rendered.contexts[Edition.RESTRICTED])
    out: dict[str, set[str]] = {}
    for code, pv in public.items():
        rv = restricted[code]
        hidden = {getattr(rv, f) for f in ("value", "previous", "change", "year_ago",
                                           "direction_label", "deep_dive_text", "rag_label")
                  if getattr(pv, f) != getattr(rv, f)}
        if hidden:
            out[code] = hidden
    return out


def assert_no_withheld_figure(markdown: str, table: list[dict[str, str]],
                              hidden: dict[str, set[str]]) -> None:
    """No line of the summary and no row of the table about a withheld indicator carries
    the restricted edition's text for it."""
    assert hidden, "the demo has withheld figures; without them this checks nothing"
    for code, texts in hidden.items():
        (row,) = [r for r in table if r["Code"] == code]
        cells = set(row.values())
        assert not (cells & texts), (code, cells & texts)
        for line in markdown.splitlines():
            if f"({code})" in line:
                words = set(line.replace(";", " ").replace(":", " ").split())
                assert not any(t in line and (t in words or len(t) > 3) for t in texts), line


def test_demo_has_the_custody_figures_this_file_is_about(demo: tuple[Any, Any]) -> None:
    _, rendered = demo
    hidden = withheld_figures(rendered)
    assert {"5", "4", "+1", "Yes (3 in a row)"} <= hidden["YJ03"]


def test_summary_counts_exceptions_deep_dives_and_findings(demo: tuple[Any, Any],
                                                           tmp_path: Path) -> None:
    _, rendered = demo
    ctx = rendered.contexts[Edition.PUBLIC]
    folder = tmp_path / "999" / "2024-10"
    for name in ("briefing.pdf", "briefing.html", "briefing-public.xlsx",
                 "indicators-public.csv", "briefing-restricted.pdf"):
        in_set(folder, name).parent.mkdir(parents=True, exist_ok=True)
        in_set(folder, name).write_bytes(b"x")
    links = paper_links(folder, "999", "2024-10", base_url="")
    text = summary_markdown(ctx, links)
    assert text.startswith("# Children's services performance: Demo Borough Council (999), "
                           "October 2024\n")
    for word, n in (("Red", 5), ("Amber", 8), ("Green", 12), ("No rating", 8)):
        assert f" {word} | {n} |" in text
    exceptions = [line for line in text.splitlines() if line.startswith("- ") and "**" in line
                  and "; owner: " in line]
    assert len(exceptions) == len(ctx.exceptions) == 9
    assert ("- ■ Red: **Care leavers aged 19 to 21 not in education, employment or training** "
            "(CL01): 52.0% against at most 40.0%; deep dive: Yes (3 in a row)") in text
    assert ("- ○ No rating: **Young people in custody** (YJ03): c, no target; deep dive: Not "
            "published; owner: Head of Youth Justice Service") in text
    assert "## Deep dives (4)" in text
    assert "Young people in custody (YJ03)" in text.split("## Deep dives")[1]  # not published
    # The returns: the SSDA903's absent tables; CL01 given by it and the scorecard alike,
    # and AS01, CP03 and FD03 by the CIN census and the scorecard; DfE's rules not run over
    # either (BRIEFING_RETURN_RULES is off in the tests).
    assert "## Data quality\n\n9 finding(s) in the public edition: 8 info, 1 warning." in text
    # The public folder's files, and only those; on this machine without BRIEFING_PAPERS_URL.
    assert links == [(label, (folder / "public" / name).as_uri()) for label, name in (
        ("Briefing (PDF)", "briefing.pdf"), ("Briefing (HTML)", "briefing.html"),
        ("Workbook (Excel)", "briefing-public.xlsx"),
        ("Open data (CSV)", "indicators-public.csv"))]
    assert f"- [Open data (CSV)]({links[-1][1]})" in text
    web = paper_links(folder, "999", "2024-10", base_url="https://intranet.example/briefings/")
    assert web[0][1] == "https://intranet.example/briefings/999/2024-10/briefing.pdf"


def test_the_artifact_links_to_public_files_only(demo: tuple[Any, Any], tmp_path: Path) -> None:
    """Issue 23: the artifact, read by staff without restricted access, linked to the
    restricted paper, and BRIEFING_PAPERS_URL was where all of <out> was published."""
    _, rendered = demo
    folder = tmp_path / "999" / "2024-10"
    for name in ("briefing.pdf", "briefing-public.pdf", "briefing-restricted.pdf",
                 "briefing-restricted.html", "briefing-restricted.xlsx",
                 "999-deep-dive-YJ03-2024-10.pdf"):
        in_set(folder, name).parent.mkdir(parents=True, exist_ok=True)
        in_set(folder, name).write_bytes(b"x")
    for base in ("", "https://intranet.example/briefings"):
        text = summary_markdown(rendered.contexts[Edition.PUBLIC],
                                paper_links(folder, "999", "2024-10", base_url=base))
        papers = text.split("## Papers")[1]
        assert "briefing.pdf" in papers
        assert "restricted" not in papers, papers
        assert "deep-dive" not in papers


def test_artifacts_hold_no_figure_the_public_edition_withholds(demo: tuple[Any, Any]) -> None:
    _, rendered = demo
    ctx = rendered.contexts[Edition.PUBLIC]
    table = indicator_table(ctx)
    (custody,) = [r for r in table if r["Code"] == "YJ03"]
    assert (custody["Value"], custody["Previous"], custody["Change"]) == ("c", "c", "c")
    assert custody["Deep dive"] == "Not published"
    assert_no_withheld_figure(summary_markdown(ctx, []), table, withheld_figures(rendered))


def test_the_restricted_edition_is_refused(demo: tuple[Any, Any]) -> None:
    _, rendered = demo
    with pytest.raises(ValueError, match="public edition only"):
        summary_markdown(rendered.contexts[Edition.RESTRICTED], [])
    with pytest.raises(ValueError, match="public edition only"):
        indicator_table(rendered.contexts[Edition.RESTRICTED])


def test_keys_follow_prefects_rule_and_text_cannot_format() -> None:
    assert (summary_key("999"), table_key("880")) == ("briefing-999", "briefing-880-indicators")
    assert key_for("Briefing", "E10 000", "x") == "briefing-e10-000-x"
    assert md("Rate *per* 10,000 [see](http://x) | a") == \
        r"Rate \*per\* 10,000 \[see\](http://x) \| a"


def test_overview_table_is_the_overviews_public_cells() -> None:
    from datetime import datetime

    from tasks.presenting.regional import overview
    from tests.factories import make_config

    cfg = make_config([{"unit": "count", "polarity": "lower_is_better", "target": 4.0}])
    row = {"code": "998", "name": "Testshire", "cycle": "2025", "folder": "x",
           "indicators": {"X0": {"value": None, "withheld": True, "rag": "withheld",
                                 "deep_dive": None}}}
    ov = overview(cfg, [row], [], datetime(2025, 6, 1).astimezone())
    assert overview_table(ov) == [{"Authority": "Testshire (998)", "Red": 0, "Deep dives": 0,
                                   "X0": "c ◇ Not published"}]
