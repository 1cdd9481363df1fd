"""Every setting the briefing reads from the environment, in one model, read once.

The entry points (the `briefing` command, each flow as it starts, the failure hook) build
`Settings` and pass it, or what is built from it (the mailer, the store, the limits), down;
nothing under `tasks/` reads the environment itself. The names are the documented
`BRIEFING_*` variables (docs/configuration.md). Values stay as given here; the numeric
mail settings have their ranges in `NUMBERS`, checked by `check_numbers` at every entry
point before anything starts, and again where they are used (tasks.adapters.mail,
tasks.adapters.m365).
Passwords, secrets and the store's URL (which may carry a password) are
`SecretStr`: never shown by repr, str or a dump.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pydantic import Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

PREFIX = "BRIEFING_"
# Settings.from_env(mapping): the variables to read instead of os.environ (tests, a
# subprocess's environment).
_GIVEN: ContextVar[Mapping[str, str] | None] = ContextVar("briefing_settings_env",
                                                           default=None)




class SettingError(ValueError):
    """A setting's value is not a number, or outside its range: the message names the
    variable, what was found and the range allowed."""


@dataclass(frozen=True)
class Bound:
    """The allowed range of a numeric setting, inclusive; `whole`: no fractions."""

    low: float
    high: float
    whole: bool = False
    unit: str = ""

    def describe(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        return f"{kind} from {self.low:g} to {self.high:g}{self.unit}"


# Every numeric mail setting (SMTP and Microsoft 365), with the range it must be in. The
# bounds keep one message's worst case to minutes, not hours: at most 10 retries, waits
# doubling from the backoff and capped (tasks.adapters.mail.MAX_WAIT), each try at most 10 minutes.
NUMBERS: dict[str, Bound] = {
    "smtp_port": Bound(1, 65535, whole=True),
    "smtp_timeout": Bound(1, 600, unit=" seconds"),
    "smtp_retries": Bound(0, 10, whole=True),
    "smtp_backoff": Bound(0, 60, unit=" seconds"),
    "m365_timeout": Bound(1, 600, unit=" seconds"),
    "graph_timeout": Bound(1, 600, unit=" seconds"),
    "graph_retries": Bound(0, 10, whole=True),
    "graph_backoff": Bound(0, 60, unit=" seconds"),
    "graph_max_wait": Bound(0, 3600, unit=" seconds"),
}
_WHOLE = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def parse_number(raw: str, bound: Bound, variable: str) -> float:
    """`raw` as a finite number within `bound` (digits only: no nan, inf or 1_000), or a
    SettingError naming `variable`, what was found and the range."""
    text = raw.strip()
    pattern = _WHOLE if bound.whole else _DECIMAL
    value = float(text) if pattern.fullmatch(text) else math.nan
    if not (math.isfinite(value) and bound.low <= value <= bound.high):
        raise SettingError(f"{variable} must be {bound.describe()}, not {raw[:40]!r}")
    return value


class _MappingSource(EnvSettingsSource):
    """The environment source, reading a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._given = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._given, self.case_sensitive, self.env_ignore_empty,
                              self.env_parse_none_str)


def _secret(value: SecretStr | None) -> str | None:
    """The secret's text, or None when unset or empty (an empty variable counts as unset)."""
    return (value.get_secret_value() or None) if value is not None else None


class Settings(BaseSettings):
    """The environment's settings, as given (None: not set). Built once per entry point."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True,
                                      case_sensitive=False)

    # Mail: which transport, and SMTP (tasks.adapters.mail).
    mail_transport: str | None = None
    smtp_host: str | None = None
    smtp_port: str | None = None
    smtp_security: str | None = None
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_password_block: str | None = None  # a Prefect Secret block holding the password
    smtp_timeout: str | None = None
    smtp_ca_file: str | None = None
    smtp_retries: str | None = None
    smtp_backoff: str | None = None
    # Microsoft 365 (tasks.adapters.m365).
    m365_tenant_id: str | None = None
    m365_client_id: str | None = None
    m365_client_secret: SecretStr | None = None
    m365_client_secret_block: str | None = None
    m365_certificate: str | None = None
    m365_certificate_password: SecretStr | None = None
    m365_ca_file: str | None = None
    m365_authority_host: str | None = None
    m365_scope: str | None = None
    m365_timeout: str | None = None
    graph_url: str | None = None
    graph_timeout: str | None = None
    graph_retries: str | None = None
    graph_backoff: str | None = None
    graph_max_wait: str | None = None
    # The run.
    operators: str | None = None  # told when a run fails
    store_url: SecretStr | None = None  # may hold the database's password
    max_rows: str | None = None
    max_cells: str | None = None
    papers_url: str | None = None  # where <out> is published
    pause_before: str | None = None  # fault injection for tests/e2e/test_crash.py
    return_rules: str | None = None  # "off": DfE's rules are not run over the returns

    @property
    def runs_return_rules(self) -> bool:
        """Whether DfE's rules run over the returns (BRIEFING_RETURN_RULES, on unless off)."""
        return (self.return_rules or "").strip().lower() not in ("off", "0", "no", "false")
    # Prefect's own, read by this project too.
    prefect_api_url: str | None = Field(default=None, validation_alias="PREFECT_API_URL")
    prefect_ui_url: str | None = Field(default=None, validation_alias="PREFECT_UI_URL")
    worker_name: str | None = Field(default=None, validation_alias="PREFECT__WORKER_NAME")

    @classmethod
    def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment only (no .env file, no secrets folder), or the mapping given
        to `from_env`."""
        given = _GIVEN.get()
        return (init_settings, env_settings if given is None else
                _MappingSource(settings_cls, given))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """From the process's environment, or from `env` alone."""
        if env is None:
            return cls()
        with _reading(env):
            return cls()

    def secret(self, name: str) -> str | None:
        """A secret's text by field name (smtp_password...), None when not set or empty."""
        value = getattr(self, name)
        assert value is None or isinstance(value, SecretStr), name
        return _secret(value)

    def variable(self, name: str) -> str:
        """The environment variable that sets the field `name`."""
        info: FieldInfo = type(self).model_fields[name]
        alias = info.validation_alias
        return alias if isinstance(alias, str) else PREFIX + name.upper()

    def given(self, name: str) -> bool:
        """Whether the variable for `name` is set to something (not empty)."""
        value: Any = getattr(self, name)
        return bool(_secret(value) if isinstance(value, SecretStr) else value)

    def number(self, name: str, default: float) -> float:
        """A numeric setting (one of NUMBERS) checked against its range; `default` when
        unset or empty. Raises SettingError naming the variable."""
        raw: str | None = getattr(self, name)
        if raw is None or not raw.strip():
            return default
        return parse_number(raw, NUMBERS[name], self.variable(name))

    def check_numbers(self) -> None:
        """Every numeric mail setting that is set, checked now (before anything starts),
        whichever transport is in use: a bad value is a mistake wherever it is."""
        for name in NUMBERS:
            self.number(name, 0)


@contextmanager
def _reading(env: Mapping[str, str]) -> Iterator[None]:
    token = _GIVEN.set(env)
    try:
        yield
    finally:
        _GIVEN.reset(token)
