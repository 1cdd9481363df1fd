"""The regional overview: every authority's headline ratings side by side, one page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tasks.config import Config
from tasks.context import RAG_SYMBOLS, RAG_WORDS
from tasks.formatting import fmt_value
from tasks.periods import label
from tasks.render import environment, render_pdf


@dataclass(frozen=True)
class Cell:
    text: str
    rag: str
    rag_word: str
    symbol: str
    deep_dive: bool


@dataclass(frozen=True)
class Row:
    code: str
    name: str
    cells: list[Cell]
    reds: int
    deep_dives: int


@dataclass(frozen=True)
class Overview:
    title: str
    cycle_label: str
    generated_on: str
    indicators: list[tuple[str, str]]  # (code, title)
    rows: list[Row]
    failed: list[str]


def overview(config: Config, results: list[dict[str, Any]], failed: list[str],
             generated_at: datetime) -> Overview:
    """Rows sorted by the number of red indicators, then deep dives: worst first."""
    inds = config.indicators
    rows = []
    for r in results:
        cells = []
        for ind in inds:
            v = r["indicators"].get(ind.code, {"value": None, "rag": "none", "deep_dive": False})
            cells.append(Cell(fmt_value(ind.unit, v["value"]), v["rag"], RAG_WORDS[v["rag"]],
                              RAG_SYMBOLS[v["rag"]], bool(v["deep_dive"])))
        rows.append(Row(r["code"], r["name"], cells, sum(c.rag == "red" for c in cells),
                        sum(c.deep_dive for c in cells)))
    rows.sort(key=lambda row: (-row.reds, -row.deep_dives, row.name))
    cycle = results[0]["cycle"] if results else ""
    return Overview("Regional overview: children's social care", label(cycle) if cycle else "",
                    generated_at.strftime("%-d %B %Y"),
                    [(i.code, i.title) for i in inds], rows, failed)


def write_overview(ov: Overview, folder: Path) -> Path:
    from tasks.outputs import write_bytes_atomic, write_text_atomic

    env = environment()
    html = env.get_template("overview.html.j2").render(ov=ov)
    write_text_atomic(folder / "overview.html", html)
    write_bytes_atomic(folder / "overview.pdf", render_pdf(html))
    return folder
