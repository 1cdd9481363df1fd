"""Choosing the authority a briefing is for, by DfE code or by name, from published files."""

from __future__ import annotations

from pathlib import Path

from tasks.config import Authority, Config, ConfigError
from tasks.ingest import LA_LEVEL, read_dfe_csv
from tasks.sources import DfeSource, Sources


def known_authorities(exports_dir: Path, sources: Sources) -> dict[str, str]:
    """DfE code -> name, from the first published file among the exports."""
    return published_index(exports_dir, sources)[0]


def published_index(exports_dir: Path,
                    sources: Sources) -> tuple[dict[str, str], str | None]:
    """(DfE code -> name, the latest reporting year) from the first published file."""
    for path in sorted(Path(exports_dir).glob("*.csv")):
        if isinstance(sources.match(path.name), DfeSource):
            frame = read_dfe_csv(path)
            la = frame[frame["geographic_level"] == LA_LEVEL]
            return (dict(zip(la["old_la_code"].str.strip(), la["la_name"].str.strip(),
                             strict=True)), str(frame["time_period"].str.strip().max()))
    return {}, None


def resolve_authority(exports_dir: Path, sources: Sources, wanted: str,
                      config: Config) -> Authority:
    current = config.briefing.authority
    w = wanted.strip()
    if w in {current.code, current.name}:
        return current
    known = known_authorities(exports_dir, sources)
    if w in known:
        return Authority(code=w, name=known[w])
    by_name = {name.lower(): code for code, name in known.items()}
    if w.lower() in by_name:
        code = by_name[w.lower()]
        return Authority(code=code, name=known[code])
    close = sorted(n for n in known.values() if w.lower() in n.lower())
    hint = f"; did you mean {', '.join(close[:5])}?" if close else ""
    raise ConfigError(f"authority {wanted!r} is not a DfE code or name in the published "
                      f"files in {exports_dir}{hint}")


def with_authority(config: Config, authority: Authority) -> Config:
    briefing = config.briefing.model_copy(update={"authority": authority})
    return config.model_copy(update={"briefing": briefing})
