"""Why a cycle has no figures: how far each export's rows got before none were left.

Worked out only when a briefing would be empty, so that the error names the real cause
(the authority, the source's row filters, the catalogue or the cycle) rather than blaming
the cycle for an authority code left at a draft's '000'. Rows are counted stage by stage:
read, for the authority, kept by the source's `where` filters, for an indicator in the
catalogue, for the cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tasks.reading.files import FileRefused, Limits
from tasks.reading.ingest import LA_LEVEL, area_codes, read_dfe_csv, select_rows
from tasks.reading.sources import DfeSource, Sources
from tasks.settings.config import Config

STAGES = ("read", "authority", "filters", "catalogue")


@dataclass(frozen=True)
class Reach:
    """One export's rows at each stage; `authorities` the authority codes a published
    file has (none for a council's own export, which is all one authority's)."""

    file: str
    read: int
    authority: int
    filters: int
    catalogue: int
    authorities: list[str] = field(default_factory=list)

    def lost_at(self) -> str | None:
        """The first stage that left no rows (None: some rows reached the catalogue)."""
        counts = (self.read, self.authority, self.filters, self.catalogue)
        return next((s for s, n in zip(STAGES, counts, strict=True) if n == 0), None)


def _published_reach(path: Path, source: DfeSource, code: str, catalogue: int,
                     limits: Limits | None) -> Reach:
    frame = read_dfe_csv(path, limits)
    if "geographic_level" not in frame.columns:
        return Reach(path.name, len(frame), 0, 0, catalogue)
    area = area_codes(frame).str.strip()
    is_la = frame["geographic_level"].str.strip() == LA_LEVEL
    mine = frame[is_la & (area == code)]
    kept: set[object] = set()
    for m in source.measures:
        if set(m.where) <= set(frame.columns):
            kept |= set(select_rows(mine, m.where).index)
    codes = sorted({a for a in area[is_la] if a})
    return Reach(path.name, len(frame), len(mine), len(kept), catalogue, codes)


def reach(exports_dir: Path, files: list[str], sources: Sources, config: Config,
          records: pd.DataFrame, limits: Limits | None = None) -> list[Reach]:
    """How far each export read (`files`) got. A council's own export is one authority's
    and has no row filters: its records are its rows."""
    code = config.briefing.authority.code
    known = records["indicator"].isin({i.code for i in config.indicators})
    out = []
    for name in files:
        if sources.is_reference(name):
            continue
        mine = records["file"] == name
        catalogue = int((mine & known).sum())
        source = sources.match(name)
        if isinstance(source, DfeSource):
            try:
                out.append(_published_reach(Path(exports_dir) / name, source, code,
                                            catalogue, limits))
            except (FileRefused, OSError, ValueError):
                continue  # already a finding about the whole file
        else:
            n = int(mine.sum())
            out.append(Reach(name, n, n, n, catalogue))
    return out


def _authorities(r: Reach, code: str) -> str:
    shown = ", ".join(r.authorities[:3])
    return (f"the file has {len(r.authorities)} authorities, e.g. {shown}; none is {code}"
            if r.authorities else "the file has no local authority rows")


def _one(r: Reach, code: str) -> str:
    """One export's story, up to the stage that lost its rows."""
    said = f"{r.file}: {r.read:,} rows read"
    lost = r.lost_at()
    if lost == "read":
        return said
    said += f", {r.authority:,} for authority {code}"
    if lost == "authority":
        return f"{said} ({_authorities(r, code)})"
    if r.filters != r.authority or lost == "filters":
        said += f", {r.filters:,} kept by its filters (sources.yaml where:)"
    return said + f", {r.catalogue:,} for an indicator in the catalogue"


CAUSES = {
    "read": "no export has any rows",
    "authority": ("no export has rows for authority {code}: check authority.code in "
                  "briefing.yaml (or give --authority)"),
    "filters": ("the rows for authority {code} are all left out by the sources' row "
                "filters: check each measure's where: in sources.yaml against the file"),
    "catalogue": ("no row is for an indicator in the catalogue: check the codes in "
                  "indicators.yaml against the exports"),
}


def cause(reaches: list[Reach], code: str) -> str | None:
    """What left no figures, said with each export's counts; None when some export has
    figures for the catalogue (then it is the cycle that has none)."""
    if not reaches or any(r.lost_at() is None for r in reaches):
        return None
    furthest = max(STAGES.index(str(r.lost_at())) for r in reaches)
    why = CAUSES[STAGES[furthest]].format(code=code)
    more = f"; and {len(reaches) - 6} more" if len(reaches) > 6 else ""
    return f"{why} ({'; '.join(_one(r, code) for r in reaches[:6])}{more})"
