"""`sources.yaml`: how each export maps to canonical records, so a new export is YAML only.

Three layouts:
- `long`: one row per indicator and period (the canonical export), with optional renames;
- `wide`: a scorecard, one row per indicator and one column per month, with title rows
  above the header and notes or totals below;
- `dfe`: DfE's published tidy files (explore-education-statistics), one value column per
  measure, filtered by breakdown columns, every geography kept for benchmarks.
A file that no source matches is read as `long` with the canonical column names.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

SOURCES_FILE = "sources.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LongSource(_Strict):
    name: str
    files: str = Field(description="glob matched against file names in the exports folder")
    layout: Literal["long"]
    sheet: str | None = None
    columns: dict[Literal["indicator", "period", "value", "numerator", "denominator",
                          "authority"], str] = Field(default_factory=dict)


class WideSource(_Strict):
    name: str
    files: str
    layout: Literal["wide"]
    sheet: str | None = None
    indicator_column: str = "indicator"


class DfeMeasure(_Strict):
    indicator: str
    value: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    # A rate per 10,000 children: this count over the population source.
    rate_per_10k_of: str | None = None
    where: dict[str, str] = Field(default_factory=dict)


class DfeSource(_Strict):
    name: str
    files: str
    layout: Literal["dfe"]
    measures: list[DfeMeasure]


class Population(_Strict):
    files: str
    column: str
    where: dict[str, str] = Field(default_factory=dict)
    # Mid-year estimates lag the reporting year: reporting year 2025 uses mid-2024.
    year_offset: int = -1


Source = Annotated[LongSource | WideSource | DfeSource, Field(discriminator="layout")]


class Sources(_Strict):
    sources: list[Source] = Field(default_factory=list)
    neighbours: str | None = Field(default=None,
                                   description="glob of DfE's statistical neighbour model")
    population: Population | None = None

    def match(self, filename: str) -> Source | None:
        for s in self.sources:
            if fnmatch.fnmatch(filename, s.files):
                return s
        return None

    def is_reference(self, filename: str) -> bool:
        """Files read for benchmarks or denominators, not as indicator exports."""
        globs = [g for g in (self.neighbours, self.population.files if self.population else None)
                 if g]
        return any(fnmatch.fnmatch(filename, g) for g in globs)


def load_sources(config_dir: Path) -> Sources:
    """The sources file, or the default (everything canonical) when there is none."""
    from tasks.config import ConfigError, describe_validation_error

    path = Path(config_dir) / SOURCES_FILE
    if not path.is_file():
        return Sources()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Sources.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, path)) from exc
