"""What a run shows in Prefect's UI: the briefing's headlines as artifacts.

Prefect's UI can be read by more people than the restricted paper is meant for, so every
artifact is built from the public edition alone: its context (`Rendered.contexts[PUBLIC]`,
itself built from `tasks.editions.disclosure.edition_results`), never the restricted figures. A
figure about 1 to 5 children is `c` here exactly as in the public paper, and a rating or
deep dive that rests on one says "Not published".

Keys are per authority (`briefing-999`, `briefing-999-indicators`), so the UI keeps each
month's version under one key: the monthly history. The regional run has its progress
(`regional-progress`) and its overview table (`regional-overview`).

The builders here are plain functions (tested without a server); `publish_*` hand their
output to Prefect.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from tasks.adapters.outputs import PUBLIC_DIR
from tasks.presenting.context import (
    RAG_ORDER,
    RAG_SYMBOLS,
    RAG_WORDS,
    BriefingContext,
    IndicatorView,
)
from tasks.presenting.regional import Overview
from tasks.presenting.wording import NOT_PUBLISHED, deep_dives_unknown, no_deep_dives
from tasks.settings.formatting import Edition

PAPERS_URL_ENV = "BRIEFING_PAPERS_URL"  # where public/ folders are published (else file:)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")  # enough that text cannot format or link


def key_for(*parts: str) -> str:
    """An artifact key: lowercase letters, digits and dashes only (Prefect's rule)."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", "-".join(parts).lower())).strip("-")


def summary_key(code: str) -> str:
    return key_for("briefing", code)


def table_key(code: str) -> str:
    return key_for("briefing", code, "indicators")


def md(text: str) -> str:
    """Text from the config or exports, escaped so Markdown shows it as written."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _indicators(ctx: BriefingContext) -> list[IndicatorView]:
    return [v for area in ctx.areas for v in area.indicators]


PUBLIC_LINKS = (("Briefing (PDF)", "briefing.pdf"), ("Briefing (HTML)", "briefing.html"),
                ("Workbook (Excel)", "briefing-public.xlsx"),
                ("Open data (CSV)", "indicators-public.csv"))


def paper_links(folder: Path, code: str, cycle: str,
                base_url: str | None = None) -> list[tuple[str, str]]:
    """(label, address) of each public file in the cycle's public folder, and only those
    (tasks.adapters.outputs): under BRIEFING_PAPERS_URL, where each cycle's public folder is
    published as <url>/<authority>/<cycle>/, else the file on this machine. The artifact
    is read by staff without restricted access: it never links to the restricted side."""
    base = (base_url or "").rstrip("/")
    public = Path(folder) / PUBLIC_DIR
    return [(label, f"{base}/{code}/{cycle}/{name}" if base
             else (public / name).resolve().as_uri())
            for label, name in PUBLIC_LINKS if (public / name).is_file()]


def summary_markdown(ctx: BriefingContext, links: list[tuple[str, str]]) -> str:
    """The run's headlines: ratings counted, each exception in a line, deep dives,
    data-quality findings counted, and the papers."""
    if ctx.edition != Edition.PUBLIC.value:
        raise ValueError("artifacts are built from the public edition only")
    views = _indicators(ctx)
    lines = [f"# {md(ctx.title)}: {md(ctx.authority_name)} ({ctx.authority_code}), "
             f"{ctx.cycle_label}", "", f"{md(ctx.edition_label)}.", "",
             "## Ratings", "", "| Rating | Indicators |", "| --- | ---: |"]
    for rating in RAG_ORDER:
        lines.append(f"| {RAG_SYMBOLS[rating]} {RAG_WORDS[rating]} | "
                     f"{ctx.counts.get(rating.value, 0)} |")
    lines += [f"| Total | {ctx.total} |", "", f"## Exceptions ({len(ctx.exceptions)})", ""]
    for v in ctx.exceptions:
        against = (f" against {md(v.target)}" if v.target != "No target" else ", no target")
        lines.append(f"- {v.rag_symbol} {v.rag_label}: **{md(v.title)}** ({md(v.code)}): "
                     f"{md(v.value)}{against}; deep dive: "
                     f"{md(v.deep_dive_text)}; owner: {md(v.owner)}")
    if not ctx.exceptions:
        lines.append("None this month.")
    dives = [v for v in views if v.deep_dive]
    unknown = [v for v in views if v.deep_dive_text == NOT_PUBLISHED]
    lines += ["", f"## Deep dives ({len(dives)})", ""]
    lines += [f"- **{md(v.title)}** ({md(v.code)}): {md(v.deep_dive_text)}" for v in dives]
    if not dives:
        lines.append(no_deep_dives(ctx.rule_periods, bool(unknown)))
    if unknown:
        lines += ["", deep_dives_unknown([f"{md(v.title)} ({md(v.code)})" for v in unknown])]
    by_severity = Counter(p.severity for p in ctx.data_quality)
    counted = ", ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}"
                        for s, n in sorted(by_severity.items())) or "none"
    lines += ["", "## Data quality", "",
              f"{len(ctx.data_quality)} finding(s) in the public edition: {counted}.",
              f"Indicators with no figure this cycle: {len(ctx.not_collected)}."]
    lines += ["", "## Papers", ""] + [f"- [{label}]({url})" for label, url in links]
    return "\n".join(lines) + "\n"


def deep_dive_words(ctx: BriefingContext) -> str:
    """The rule firing this cycle and the register are different counts: an indicator may
    meet the rule again while its deep dive is already open, and a deep dive stays open
    after its figures recover. Both are said, as the paper's section 4 does."""
    fired = sum(1 for v in _indicators(ctx) if v.deep_dive)
    words = f"{fired} meeting the deep-dive rule"
    if ctx.deep_dives_open or ctx.deep_dives_closed:
        new = sum(1 for d in ctx.deep_dives_open if d.opened_now)
        words += f", {len(ctx.deep_dives_open)} deep dive(s) open ({new} opened this cycle)"
    return words


def headline(ctx: BriefingContext) -> str:
    """The run's headline for the console and the flow-run log, which staff without
    restricted access read: counted from the public edition, so no count rests on a
    figure about 1 to 5 children (the restricted figures are in summary.json)."""
    if ctx.edition != Edition.PUBLIC.value:
        raise ValueError("the headline is built from the public edition only")
    rated = ", ".join(f"{ctx.counts.get(r.value, 0)} {RAG_WORDS[r].lower()}"
                      for r in RAG_ORDER)
    return (f"{rated}; {deep_dive_words(ctx)}; {len(ctx.data_quality)} data-quality "
            "finding(s) (public edition)")


TABLE_HEADINGS = ("Code", "Indicator", "Service area", "Value", "Previous", "Change", "Target",
                  "Rating", "Direction", "Deep dive")


def indicator_table(ctx: BriefingContext) -> list[dict[str, str]]:
    """One row per indicator, as the public paper prints it."""
    if ctx.edition != Edition.PUBLIC.value:
        raise ValueError("artifacts are built from the public edition only")
    return [dict(zip(TABLE_HEADINGS, (
        v.code, v.title, v.service_area, v.value, v.previous, v.change, v.target,
        v.rag_label, v.direction_label, v.deep_dive_text), strict=True))
        for v in _indicators(ctx)]


def overview_table(ov: Overview) -> list[dict[str, Any]]:
    """The regional overview (already public figures), one row per authority."""
    rows = []
    for r in ov.rows:
        row: dict[str, Any] = {"Authority": f"{r.name} ({r.code})", "Red": r.reds,
                               "Deep dives": r.deep_dives}
        for (code, _), cell in zip(ov.indicators, r.cells, strict=True):
            row[code] = f"{cell.text} {cell.symbol} {cell.rag_word}"
        rows.append(row)
    return rows


def publish_briefing(ctx: BriefingContext, folder: Path,
                     papers_url: str | None = None) -> list[UUID]:
    """The monthly run's artifacts: the summary and the table of indicators; the papers'
    links under `papers_url` (BRIEFING_PAPERS_URL) when given."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    code = ctx.authority_code
    links = paper_links(folder, code, ctx.cycle, papers_url)
    # (Prefect's sync-or-async dispatch types these as either; called here, they are sync.)
    return [
        cast(UUID, create_markdown_artifact(
            summary_markdown(ctx, links), key=summary_key(code),
            description=f"Briefing for {ctx.authority_name}, {ctx.cycle_label} (public "
                        "edition)")),
        cast(UUID, create_table_artifact(
            indicator_table(ctx), key=table_key(code),
            description=f"Indicators for {ctx.authority_name}, {ctx.cycle_label}, as the "
                        "public edition prints them")),
    ]


def publish_overview(ov: Overview, failed: list[str]) -> UUID:
    from prefect.artifacts import create_table_artifact

    note = f"; not briefed: {'; '.join(failed)}" if failed else ""
    return cast(UUID, create_table_artifact(
        overview_table(ov), key="regional-overview",
        description=f"{ov.title}, {ov.cycle_label}: {len(ov.rows)} authorities, worst "
                    f"first{note}"))
