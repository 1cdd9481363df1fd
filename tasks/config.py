"""The YAML under `config/`, loaded into strict pydantic models.

Unknown keys are errors (`extra="forbid"`): a misspelt `tolerence` must not silently
become a default of 0. Secrets never live here; see `tasks.mail` for SMTP settings.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from tasks.periods import Frequency, is_period

INDICATORS_FILE = "indicators.yaml"
OWNERS_FILE = "owners.yaml"
BRIEFING_FILE = "briefing.yaml"


class Unit(StrEnum):
    PERCENT = "percent"
    COUNT = "count"
    RATE_PER_10K = "rate_per_10k"
    DAYS = "days"
    NUMBER = "number"


class Polarity(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    NEUTRAL = "neutral"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class Indicator(_Strict):
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    title: str
    service_area: str
    unit: Unit
    polarity: Polarity
    target: float | None = None
    tolerance: Annotated[float, Field(ge=0)] = 0.0
    owner: str
    definition: str
    question: str | None = None
    frequency: Frequency = Frequency.MONTHLY
    # A change no bigger than this (in the indicator's units) is "no change": 22.0% to 22.1%
    # is not a decline worth a deep dive. 0 keeps every change.
    min_change: Annotated[float, Field(ge=0)] = 0.0
    # Recalculate the SPC limits from this period on (a known change in the process).
    rebase: str | None = None

    @model_validator(mode="after")
    def _percent_target_in_range(self) -> Indicator:
        if self.unit is Unit.PERCENT and self.target is not None and not 0 <= self.target <= 100:
            raise ValueError(f"target {self.target} is not a percentage between 0 and 100")
        if self.rebase is not None and not is_period(self.rebase):
            raise ValueError(f"rebase {self.rebase!r} is not a period (YYYY-MM, YYYY-Qn or YYYY)")
        return self


class Owner(_Strict):
    name: str
    role: str
    email: Email


class Authority(_Strict):
    name: str
    code: Annotated[str, Field(pattern=r"^\d{3}$", description="DfE 3-digit LA code")]


class Contact(_Strict):
    name: str
    role: str
    phone: str
    email: Email


class Recipient(_Strict):
    name: str
    email: Email
    edition: Literal["public", "restricted"] = "public"


class Rules(_Strict):
    consecutive_declines: Annotated[int, Field(ge=1, le=24)] = 2
    # A percentage over fewer cases than this is shown but does not breach by itself.
    min_denominator: Annotated[float, Field(ge=0)] = 10
    spc_shift: Annotated[int, Field(ge=6, le=9)] = 7
    spc_trend: Annotated[int, Field(ge=6, le=9)] = 7
    chart_periods: Annotated[int, Field(ge=3, le=60)] = 24


class Mail(_Strict):
    sender: Email
    reply_to: Email | None = None
    subject_prefix: str = "Performance briefing"
    # Mail goes only to these domains (empty: any); anything else fails that message alone.
    allowed_domains: list[str] = Field(default_factory=list)
    # Told by email when a run fails (with the error and the run's link).
    operators: list[Email] = Field(default_factory=list)


class Papers(_Strict):
    """The committee timetable's rules (see tasks.calendar)."""

    clear_days: Annotated[int, Field(ge=1, le=20)] = 5
    commentary_working_days: Annotated[int, Field(ge=0, le=20)] = 3
    data_ready_days: Annotated[int, Field(ge=0, le=40)] = 10
    remind_working_days: Annotated[int, Field(ge=0, le=20)] = 2


class Briefing(_Strict):
    authority: Authority
    committee: str
    report_title: str = "Children's services performance"
    contact: Contact
    recipients: list[Recipient] = Field(default_factory=list)
    # In the public edition, owners appear by role only when this is false.
    publish_owner_names: bool = True
    rules: Rules = Rules()
    mail: Mail
    meetings: list[date] = Field(default_factory=list)
    papers: Papers = Papers()
    clerk: Recipient | None = None


class Config(_Strict):
    """Everything a run needs from `config/`, cross-checked."""

    indicators: list[Indicator]
    owners: dict[str, Owner]
    briefing: Briefing

    @field_validator("indicators")
    @classmethod
    def _unique_codes(cls, v: list[Indicator]) -> list[Indicator]:
        codes = [i.code for i in v]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"indicator codes appear more than once: {', '.join(dupes)}")
        if not v:
            raise ValueError("the catalogue lists no indicators")
        return v

    @model_validator(mode="after")
    def _owners_exist(self) -> Config:
        missing = sorted({i.owner for i in self.indicators if i.owner not in self.owners})
        if missing:
            raise ValueError(
                f"indicators name owners not in {OWNERS_FILE}: {', '.join(missing)}"
            )
        return self

    def by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}


class ConfigError(Exception):
    """A config file is missing or wrong; the message names the file and the field."""


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def describe_validation_error(exc: ValidationError, path: Path) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s)"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        lines.append(f"  at {loc or '(top)'}: {err['msg']}")
    return "\n".join(lines)


def load_config(config_dir: Path) -> Config:
    """Read the three files and check them against each other; raise ConfigError if wrong."""
    config_dir = Path(config_dir)
    raw_ind = _read_yaml(config_dir / INDICATORS_FILE)
    raw_own = _read_yaml(config_dir / OWNERS_FILE)
    raw_brf = _read_yaml(config_dir / BRIEFING_FILE)
    parts: dict[str, Any] = {}
    for name, raw, model, path in (
        ("indicators", raw_ind, list[Indicator], config_dir / INDICATORS_FILE),
        ("owners", raw_own, dict[str, Owner], config_dir / OWNERS_FILE),
        ("briefing", raw_brf, Briefing, config_dir / BRIEFING_FILE),
    ):
        try:
            parts[name] = TypeAdapter(model).validate_python(raw)
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc, path)) from exc
    try:
        return Config(**parts)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, config_dir)) from exc
