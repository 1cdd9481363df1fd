"""`sources.yaml`: how each export maps to canonical records, so a new export is YAML only.

Three layouts:
- `long`: one row per indicator and period (the canonical export), with optional renames;
- `wide`: a scorecard, one row per indicator and one column per month, with title rows
  above the header and notes or totals below;
- `dfe`: DfE's published tidy files (explore-education-statistics), one value column per
  measure, filtered by breakdown columns, every geography kept for benchmarks.
A file that no source matches is read as `long` with the canonical column names.
Two more kinds are child-level returns, whose figures are computed from the records
(`tasks.returns`): `ssda903` (DfE's tables as CSV, or its XML) and `cin_census` (DfE's XML).

Every source may say which cell texts mean "not available" (`missing:`, added to or taken
from the default markers) and how much it is trusted when another source gives the same
figure (`priority:`, see `tasks.checking.reconcile`).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

SOURCES_FILE = "sources.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Cell texts that mean "no figure", read as missing with the text kept as the reason (never
# as zero). DfE's published markers, then what councils' own scorecards and case-management
# exports write. Compared without case and surrounding spaces; a blank cell is missing too.
PUBLISHED_MARKERS = {"c": "suppressed (small number)", "x": "not available",
                     ":": "not available", "z": "not applicable", "u": "low reliability",
                     "low": "rounds to zero"}
NOT_AVAILABLE_MARKERS = {"n/a": "not available", "na": "not available",
                         "-": "not available", "\u2013": "not available",
                         "..": "not available", "*": "not available"}
DEFAULT_MARKERS = {**PUBLISHED_MARKERS, **NOT_AVAILABLE_MARKERS}


class Missing(_Strict):
    """`missing:` on a source: marker texts to add to the defaults, or to take away (a
    scorecard where `-` means zero)."""

    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)

    @field_validator("add", "remove")
    @classmethod
    def _not_blank(cls, v: list[str]) -> list[str]:
        if any(not m.strip() for m in v):
            raise ValueError("a marker is blank; a blank cell is always missing")
        return v

    @model_validator(mode="after")
    def _removable(self) -> Missing:
        unknown = sorted({m for m in self.remove if m.strip().lower() not in DEFAULT_MARKERS})
        if unknown:
            raise ValueError(f"remove: {', '.join(repr(m) for m in unknown)} not among the "
                             f"default markers ({', '.join(DEFAULT_MARKERS)})")
        return self


def markers(missing: Missing | None) -> dict[str, str]:
    """Marker text (lower case) -> the reason it stands for, for one source."""
    out = dict(DEFAULT_MARKERS)
    if missing is not None:
        for m in missing.remove:
            out.pop(m.strip().lower(), None)
        for m in missing.add:
            out[m.strip().lower()] = "not available"
    return out


class _Source(_Strict):
    name: str
    files: str = Field(description="glob matched against file names in the exports folder")
    # Which record is used when two sources give the same indicator and period: the higher
    # number. Equal priorities: the record with numerator and denominator
    # (tasks.checking.reconcile).
    priority: int = 0
    missing: Missing | None = None


class LongSource(_Source):
    layout: Literal["long"]
    sheet: str | None = None
    columns: dict[Literal["indicator", "period", "value", "numerator", "denominator",
                          "authority"], str] = Field(default_factory=dict)
    # Headings of breakdown columns (team, locality, age band): a row with a value in one
    # is a part of its indicator's figure (tasks.analysing.breakdowns), a row with none the figure.
    breakdowns: list[str] = Field(default_factory=list)


class WideSource(_Source):
    layout: Literal["wide"]
    sheet: str | None = None
    indicator_column: str = "indicator"
    # The scorecard's own columns about each indicator, by heading: read by `briefing init`
    # to draft the catalogue, and checked against indicators.yaml on every run.
    title_column: str | None = None
    target_column: str | None = None
    polarity_column: str | None = None
    # Headings of breakdown columns: a row with a value in one is a part of an indicator
    # (its own code, or the indicator of the rows above when its code cell is blank).
    breakdowns: list[str] = Field(default_factory=list)


class RowRef(_Strict):
    """A numerator or denominator from another row of the same file and geography: the
    measure's `where`, with these columns changed (care leavers' or looked-after children's
    totals sit in a "Total children" row)."""

    column: str
    where: dict[str, str] = Field(default_factory=dict)


class DfeMeasure(_Strict):
    indicator: str
    value: str | None = None
    numerator: str | RowRef | None = None
    denominator: str | RowRef | None = None
    # A rate per 10,000 children: this count over the population source.
    rate_per_10k_of: str | None = None
    where: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_value(self) -> DfeMeasure:
        if (self.value is None) == (self.rate_per_10k_of is None):
            raise ValueError(f"{self.indicator}: give one of value (a column) or "
                             "rate_per_10k_of (a count over the population source)")
        return self


class DfeSource(_Source):
    layout: Literal["dfe"]
    measures: list[DfeMeasure]


class Population(_Strict):
    files: str
    column: str
    where: dict[str, str] = Field(default_factory=dict)
    # Mid-year estimates lag the reporting year: reporting year 2025 uses mid-2024.
    year_offset: int = -1


# The SSDA903 indicators computed from the records (tasks.returns.figures_903), by name.
Figure903 = Literal["looked_after_at_end", "looked_after_rate", "started", "ceased",
                    "three_or_more_placements", "long_term_stability", "care_leavers_in_eet",
                    "care_leavers_neet", "care_leavers_activity_not_known",
                    "care_leavers_suitably_housed", "went_missing"]
# The CIN census indicators computed from the records (tasks.returns.figures_cin), by name.
FigureCin = Literal["referrals", "referrals_rate", "referrals_nfa", "re_referrals",
                    "assessments_in_45_days", "icpc_in_15_days", "cp_plans_at_end",
                    "cp_plans_rate", "cp_second_or_subsequent", "cp_lasting_two_years"]


class _ReturnSource(_Source):
    """A child-level return: its files (a glob that may name a folder of the exports
    folder, such as `ssda903/*.csv`) are read as one return, never as exports. Its figures
    are computed from the records, so they outrank a figure someone added up (priority 1)."""

    priority: int = 1
    # The collection year (ending 31 March) of the return; None: the cycle's.
    collection_year: int | None = Field(default=None, ge=2020, le=2100)


class Ssda903Source(_ReturnSource):
    layout: Literal["ssda903"]
    # Indicator code -> the figure computed for it (docs/returns.md).
    indicators: dict[str, Figure903] = Field(default_factory=dict)
    # Columns of the council's own beside DfE's (a team, a locality) in the table a figure
    # is computed from: each figure (not a rate) is broken down by them, as an export's
    # breakdown columns are (tasks.analysing.breakdowns).
    breakdowns: list[str] = Field(default_factory=list)


class CinCensusSource(_ReturnSource):
    layout: Literal["cin_census"]
    # Indicator code -> the figure computed for it (docs/returns.md).
    indicators: dict[str, FigureCin] = Field(default_factory=dict)


ReturnSource = Ssda903Source | CinCensusSource
ExportSource = LongSource | WideSource | DfeSource
Source = Annotated[LongSource | WideSource | DfeSource | Ssda903Source | CinCensusSource,
                   Field(discriminator="layout")]


class Sources(_Strict):
    sources: list[Source] = Field(default_factory=list)
    neighbours: str | None = Field(default=None,
                                   description="glob of DfE's statistical neighbour model")
    population: Population | None = None

    def match(self, filename: str) -> ExportSource | None:
        """The export source a file is read by (a return's files are not exports)."""
        for s in self.sources:
            if not isinstance(s, ReturnSource) and fnmatch.fnmatch(filename, s.files):
                return s
        return None

    @property
    def returns(self) -> list[ReturnSource]:
        return [s for s in self.sources if isinstance(s, ReturnSource)]

    def is_return(self, filename: str) -> bool:
        """A file of a child-level return: read by tasks.returns, not as an export."""
        return any(fnmatch.fnmatch(filename, s.files) for s in self.returns)

    def priority(self, filename: str) -> int:
        for r in self.returns:  # a return's figures are filed under its tables' paths
            if fnmatch.fnmatch(filename, r.files):
                return r.priority
        source = self.match(filename)
        return source.priority if source is not None else 0

    def is_reference(self, filename: str) -> bool:
        """Files read for benchmarks or denominators, not as indicator exports."""
        globs = [g for g in (self.neighbours, self.population.files if self.population else None)
                 if g]
        return any(fnmatch.fnmatch(filename, g) for g in globs)


def load_sources(config_dir: Path) -> Sources:
    """The sources file, or the default (everything canonical) when there is none."""
    from tasks.settings.config import ConfigError, describe_validation_error, read_yaml

    path = Path(config_dir) / SOURCES_FILE
    if not path.exists() and not path.is_symlink():
        return Sources()  # none at all: read_yaml says what is wrong with anything else
    try:
        return Sources.model_validate(read_yaml(path) or {})
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, path)) from exc
