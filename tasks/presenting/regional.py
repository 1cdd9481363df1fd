"""The regional overview: every authority's headline ratings side by side, one page.

It is published, so its rows are each authority's public edition (tasks.editions.disclosure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tasks.presenting.context import RAG_SYMBOLS, RAG_WORDS
from tasks.settings.config import Config
from tasks.settings.formatting import SUPPRESSED, fmt_value
from tasks.settings.periods import label


@dataclass(frozen=True)
class Cell:
    text: str
    rag: str
    rag_word: str
    symbol: str
    deep_dive: bool | None  # None: not published (rests on small numbers)
    value: float | None = None  # the published figure (None when withheld), for the .xlsx
    unit: str = ""
    # as its source gives it (tasks.checking.precision); None: the unit's
    decimals: int | None = None


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
    rule_periods: int
    generated_at: datetime | None = None


def split_parts(codes: list[str], size: int) -> list[list[str]]:
    """Consecutive parts of at most `size` authorities, in the order given."""
    if size < 1:
        raise ValueError(f"part_size must be at least 1, got {size}")
    return [codes[i:i + size] for i in range(0, len(codes), size)]


@dataclass(frozen=True)
class PartOutcome:
    """What one part of a spread regional run came back with."""

    run_id: str
    authorities: list[str]
    state: str
    results: list[dict[str, Any]]
    failed: dict[str, str]  # code -> reason
    worker: str = ""
    host: str = ""

    @property
    def missing(self) -> list[str]:
        """Authorities the part gave no answer for (its run crashed or never ran)."""
        answered = {r["code"] for r in self.results} | set(self.failed)
        return [a for a in self.authorities if a not in answered]

    def describe(self) -> str:
        where = f" by {self.worker or '?'} on {self.host or '?'}" if self.host else ""
        return (f"{self.state}{where}: {len(self.results)} briefed, {len(self.failed)} "
                f"failed, {len(self.missing)} without an answer")

    def record(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "state": self.state, "worker": self.worker,
                "host": self.host, "authorities": self.authorities,
                "briefed": [r["code"] for r in self.results],
                "failed": self.failed}


def read_part(path: Path, run_id: str, authorities: list[str], state: str) -> PartOutcome:
    """The part's file, or an empty outcome when the part's run left none."""
    import json

    if not path.is_file():
        return PartOutcome(run_id, authorities, state, [], {})
    got = json.loads(path.read_text(encoding="utf-8"))
    return PartOutcome(run_id, authorities, state, got["results"], got["failed"],
                       got.get("worker", ""), got.get("host", ""))


def named_failures(failed: dict[str, str], names: dict[str, str]) -> list[str]:
    """"Name (reason)" for each authority that was not briefed, as the overview shows it."""
    return [f"{names.get(code, code)} ({reason})" for code, reason in failed.items()]


def merge_parts(parts: list[PartOutcome], names: dict[str, str]
                ) -> tuple[list[dict[str, Any]], list[str]]:
    """All parts' rows and failures; an authority whose part ended without answering is a
    failure that names the part's end, so nothing drops out of the overview silently."""
    results: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    for p in parts:
        results += p.results
        failed |= p.failed
        failed |= {a: f"no result from its part: run {p.state}"
                   for a in p.missing}
    return results, named_failures(failed, names)


def overview(config: Config, results: list[dict[str, Any]], failed: list[str],
             generated_at: datetime) -> Overview:
    """Rows sorted by the number of red indicators, then deep dives: worst first."""
    inds = config.indicators
    rows = []
    for r in results:
        cells = []
        for ind in inds:
            v = r["indicators"].get(ind.code, {"value": None, "rag": "none", "deep_dive": False})
            # Each authority's figure as precisely as its source gives it ("16%" for a
            # whole-number DfE percentage), or as the catalogue says.
            places = v.get("decimals", ind.decimals)
            text = SUPPRESSED if v.get("withheld") else fmt_value(ind.unit, v["value"], places)
            cells.append(Cell(text, v["rag"], RAG_WORDS[v["rag"]], RAG_SYMBOLS[v["rag"]],
                              v["deep_dive"], None if v.get("withheld") else v["value"],
                              ind.unit.value, places))
        rows.append(Row(r["code"], r["name"], cells, sum(c.rag == "red" for c in cells),
                        sum(c.deep_dive is True for c in cells)))
    rows.sort(key=lambda row: (-row.reds, -row.deep_dives, row.name))
    cycle = results[0]["cycle"] if results else ""
    return Overview("Regional overview: children's social care", label(cycle) if cycle else "",
                    generated_at.strftime("%-d %B %Y"),
                    [(i.code, i.title) for i in inds], rows, failed,
                    config.briefing.rules.consecutive_declines, generated_at)
