"""Choosing the authority a briefing is for, by DfE code or by name, from published files."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from tasks.reading.files import FileRefused, Limits, quote
from tasks.reading.ingest import LA_LEVEL, export_files, read_dfe_csv
from tasks.reading.sources import DfeSource, Sources
from tasks.settings.config import Authority, Config, ConfigError


def known_authorities(exports_dir: Path, sources: Sources,
                      limits: Limits | None = None) -> dict[str, str]:
    """DfE code -> name, from the first published file among the exports."""
    return published_index(exports_dir, sources, limits)[0]


def published_index(exports_dir: Path, sources: Sources,
                    limits: Limits | None = None) -> tuple[dict[str, str], str | None]:
    """(DfE code -> name, the latest reporting year) from the first published file."""
    files, _ = export_files(Path(exports_dir))  # regular files inside the folder only
    for path in files:
        if path.suffix.lower() == ".csv" and isinstance(sources.match(path.name), DfeSource):
            try:
                frame = read_dfe_csv(path, limits)
            except FileRefused as exc:
                raise ConfigError(f"{path}: {exc}") from exc
            la = frame[frame["geographic_level"] == LA_LEVEL]
            return (dict(zip(la["old_la_code"].str.strip(), la["la_name"].str.strip(),
                             strict=True)), str(frame["time_period"].str.strip().max()))
    return {}, None


def resolve_authority(exports_dir: Path, sources: Sources, wanted: str,
                      config: Config, limits: Limits | None = None) -> Authority:
    current = config.briefing.authority
    w = wanted.strip()
    if w in {current.code, current.name}:
        return current
    known = known_authorities(exports_dir, sources, limits)
    by_name = {name.lower(): code for code, name in known.items()}
    code = w if w in known else by_name.get(w.lower())
    if code is not None:
        try:
            return Authority(code=code, name=known[code])
        except ValidationError as exc:  # the published row itself is odd
            what = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"authority {quote(wanted)}: its row in the published files in "
                              f"{exports_dir} has code {quote(code)} and name "
                              f"{quote(known[code])}, which cannot be used ({what}); expected a "
                              "3-digit DfE code and a one-line name") from None
    close = sorted(n for n in known.values() if w.lower() in n.lower())
    hint = f"; did you mean {', '.join(close[:5])}?" if close else ""
    raise ConfigError(f"authority {quote(wanted)} is not a DfE code or name in the published "
                      f"files in {exports_dir}{hint}")


def with_authority(config: Config, authority: Authority) -> Config:
    briefing = config.briefing.model_copy(update={"authority": authority})
    return config.model_copy(update={"briefing": briefing})
