"""The YAML under `config/`, loaded into strict pydantic models.

Unknown keys are errors (`extra="forbid"`): a misspelt `tolerence` must not silently
become a default of 0. Secrets never live here; see `tasks.adapters.mail` for SMTP settings.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

import yaml
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from tasks.settings import yaml_text
from tasks.settings.periods import Frequency, is_period
from tasks.settings.yaml_text import TextDate

INDICATORS_FILE = "indicators.yaml"
OWNERS_FILE = "owners.yaml"
BRIEFING_FILE = "briefing.yaml"


class Unit(StrEnum):
    PERCENT = "percent"
    COUNT = "count"
    RATE_PER_10K = "rate_per_10k"
    DAYS = "days"
    NUMBER = "number"
    MONEY = "money"  # pounds sterling: spend per child, cost of a placement, a variance


# The largest figure each unit can plausibly hold, in size: a figure beyond it is an error
# in its cell (tasks.checking.validate: that figure is withheld), a target beyond it an error in
# indicators.yaml. Far above any council's figures (a county has about 250,000 children and
# a budget of about £1,000,000,000), and far below what arithmetic on figures (changes,
# SPC limits, chart axes) could overflow. Only money may be negative, to the same size.
FIGURE_LIMITS: dict[Unit, float] = {
    Unit.PERCENT: 100.0, Unit.COUNT: 1e9, Unit.RATE_PER_10K: 1e6, Unit.DAYS: 1e5,
    Unit.NUMBER: 1e12, Unit.MONEY: 1e12}
# Numerators, denominators and populations are counts of children or events.
COUNT_LIMIT = FIGURE_LIMITS[Unit.COUNT]


def expected_range(unit: Unit) -> str:
    """The figures `unit` may hold, in words: "0 to 1,000,000,000"."""
    top = FIGURE_LIMITS[unit]
    if unit is Unit.MONEY:
        return f"−£{top:,.0f} to £{top:,.0f}"
    return f"0 to {top:,.0f}"


def beyond_limit(unit: Unit, value: float) -> bool:
    """Whether `value` is not a finite figure within FIGURE_LIMITS for `unit`."""
    low = -FIGURE_LIMITS[unit] if unit is Unit.MONEY else 0.0
    return not low <= value <= FIGURE_LIMITS[unit]  # NaN and infinities are beyond


class Polarity(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    NEUTRAL = "neutral"


class SpcMethod(StrEnum):
    """A named SPC rule set: the defaults of a tool analysts are trained on
    (tasks.analysing.spc)."""

    PLOTTHEDOTS = "plotthedots"  # NHSRplotthedots 0.2.x, the NHS-R Community's R package
    NHSE = "nhse"  # NHS England's SPC charts SQL tool v2.6


class SpcConflict(StrEnum):
    """How `nhse` reads a point with both an improvement and a concern signal."""

    IMPROVEMENT = "improvement"
    CONCERN = "concern"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_address(value: str) -> str:
    """One mailbox, checked by email-validator (syntax only: no DNS here), normalised.

    `,` and `;` are refused outright: a header or an SMTP envelope would read them as two
    addresses, and the allowed-domains check would see only one.
    """
    if "," in value or ";" in value:
        raise ValueError("an address must be a single mailbox: ',' and ';' are not allowed")
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None


def check_domain(value: str) -> str:
    """A mail domain (for `allowed_domains`), checked as the domain of an address would be."""
    if "@" in value:
        raise ValueError("expected a domain such as example.gov.uk, not an address")
    return check_address(f"postmaster@{value}").split("@", 1)[1]


HEADER_TEXT_LIMIT = 120


def check_one_line(value: str) -> str:
    """Text that can reach a mail header (a name, a subject): one line, no control or
    invisible formatting characters, and short enough that a header never needs folding."""
    for i, ch in enumerate(value):
        cat = unicodedata.category(ch)
        if cat[0] == "C" or cat in ("Zl", "Zp"):
            what = "a line break" if ch in "\r\n\u2028\u2029\x85" else "a control character"
            raise ValueError(f"contains {what} (U+{ord(ch):04X}) at position {i + 1}; names "
                             "and subjects go into mail headers and must be one line of text")
    if len(value) > HEADER_TEXT_LIMIT:
        raise ValueError(f"is {len(value)} characters long; at most {HEADER_TEXT_LIMIT} "
                         "(it goes into mail headers)")
    if not value.strip():
        raise ValueError("is blank")
    return value


Email = Annotated[str, AfterValidator(check_address)]
Domain = Annotated[str, AfterValidator(check_domain)]
# Names, roles, titles: anything that may be put into a From, To or Subject header.
Line = Annotated[str, AfterValidator(check_one_line)]


class Indicator(_Strict):
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    title: Line
    service_area: Line
    unit: Unit
    polarity: Polarity
    target: float | None = None
    tolerance: Annotated[float, Field(ge=0)] = 0.0
    owner: str
    definition: str
    question: str | None = None
    frequency: Frequency = Frequency.MONTHLY
    # Decimal places the paper prints (default: the unit's own, tasks.settings.formatting).
    decimals: Annotated[int, Field(ge=0, le=4)] | None = None
    # A change no bigger than this (in the indicator's units) is "no change": 22.0% to 22.1%
    # is not a decline worth a deep dive. 0 keeps every change.
    min_change: Annotated[float, Field(ge=0)] = 0.0
    # Recalculate the SPC limits from this period on (a known change in the process).
    rebase: str | None = None
    # This indicator's SPC rule set, when not the briefing's `rules.spc_method`.
    spc_method: SpcMethod | None = None
    # With `nhse`: a point with both an improvement and a concern signal reads as this
    # (default `rules.spc_conflict`). `plotthedots` settles it by its order of rules instead.
    spc_conflict: SpcConflict | None = None
    # For a rate per 10,000: the children it is per 10,000 of (the ONS mid-year estimate for
    # the authority, such as its 10 to 17 year olds). It stands as the denominator where an
    # export gives the rate alone, so the public edition can tell when the rate is 1 to 5
    # children: a reader with the same published population could (tasks.editions.disclosure).
    population: Annotated[float, Field(gt=0)] | None = None
    # Links to other indicators (tasks.editions.linked): figures a reader could subtract from one
    # another. A count may be the year to date (April on), the calendar quarter or the
    # rolling 12 months of a monthly count, or the sum of other counts; a percentage or rate
    # may take its denominator from a count. The public edition then hides what differencing
    # would give away. Checked at load (check_links).
    year_to_date_of: str | None = None
    quarter_of: str | None = None
    rolling_12_months_of: str | None = None
    sum_of: list[str] | None = None
    denominator_from: str | None = None

    def links(self) -> dict[str, list[str]]:
        """Each link key set on this indicator -> the codes it names."""
        out: dict[str, list[str]] = {}
        for key in LINK_KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = list(value) if isinstance(value, list) else [value]
        return out

    @model_validator(mode="after")
    def _percent_target_in_range(self) -> Indicator:
        if self.population is not None and self.unit is not Unit.RATE_PER_10K:
            raise ValueError(f"population is for a rate per 10,000 (rate_per_10k), not a "
                             f"{self.unit.value}")
        if self.unit is Unit.PERCENT and self.target is not None and not 0 <= self.target <= 100:
            raise ValueError(f"target {self.target} is not a percentage between 0 and 100")
        if self.rebase is not None and not is_period(self.rebase):
            raise ValueError(f"rebase {self.rebase!r} is not a period (YYYY-MM, YYYY-Qn or YYYY)")
        return self

    @model_validator(mode="after")
    def _within_limits(self) -> Indicator:
        """A target, tolerance or smallest change the paper could not draw or work with
        (FIGURE_LIMITS), or a population no authority has, is refused naming the key."""
        for key in ("target", "tolerance", "min_change"):
            value = getattr(self, key)
            if value is not None and beyond_limit(self.unit, value):
                raise ValueError(f"{key} {value:.6g} is beyond what a "
                                 f"{self.unit.value.replace('_', ' ')} figure can be: expected "
                                 f"{expected_range(self.unit)}")
        if self.population is not None and self.population > COUNT_LIMIT:
            raise ValueError(f"population {self.population:.6g} is more than "
                             f"{COUNT_LIMIT:,.0f}")
        return self


AGGREGATE_KEYS = ("year_to_date_of", "quarter_of", "rolling_12_months_of", "sum_of")
LINK_KEYS = (*AGGREGATE_KEYS, "denominator_from")
# What each aggregate link needs of the two frequencies: (the aggregate's, its parts').
LINK_FREQUENCIES: dict[str, tuple[Frequency, Frequency] | None] = {
    "year_to_date_of": (Frequency.MONTHLY, Frequency.MONTHLY),
    "quarter_of": (Frequency.QUARTERLY, Frequency.MONTHLY),
    "rolling_12_months_of": (Frequency.MONTHLY, Frequency.MONTHLY),
    "sum_of": None,  # the parts as frequent as the total
}


def check_links(indicators: list[Indicator]) -> list[str]:
    """Every fault in the catalogue's links, each naming the indicator and key: an unknown
    code, a link to itself, units that cannot relate, frequencies that cannot, more than
    one kind of total on one indicator, and links that go round in a cycle."""
    by_code = {i.code: i for i in indicators}
    faults: list[str] = []
    for ind in indicators:
        links = ind.links()
        kinds = [k for k in AGGREGATE_KEYS if k in links]
        if len(kinds) > 1:
            faults.append(f"{ind.code}: {' and '.join(kinds)} both set; an indicator is one "
                          "kind of total")
        for key, codes in links.items():
            faults += _link_faults(ind, key, codes, by_code)
    if not faults:
        faults += _link_cycles(indicators)
    return faults


def _link_faults(ind: Indicator, key: str, codes: list[str],
                 by_code: dict[str, Indicator]) -> list[str]:
    """What is wrong with one link key of one indicator."""
    where = f"{ind.code}.{key}"
    if key == "sum_of" and (len(codes) < 2 or len(set(codes)) < len(codes)):
        return [f"{where}: expected two or more different indicators, found {codes}"]
    out = []
    for code in codes:
        other = by_code.get(code)
        if other is None:
            out.append(f"{where}: {code!r} is not an indicator in {INDICATORS_FILE}")
        elif code == ind.code:
            out.append(f"{where}: an indicator cannot be linked to itself")
        elif key == "denominator_from":
            if ind.unit not in (Unit.PERCENT, Unit.RATE_PER_10K) or other.unit is not Unit.COUNT:
                out.append(f"{where}: a percent or rate_per_10k takes its denominator from a "
                           f"count; found {ind.unit.value} over {other.unit.value} {code}")
            elif ind.population is not None:
                out.append(f"{where}: give population or denominator_from, not both")
            elif other.frequency is not ind.frequency:
                out.append(f"{where}: {code} is {other.frequency.value}, {ind.code} is "
                           f"{ind.frequency.value}; a denominator is for the same periods")
        elif ind.unit is not Unit.COUNT or other.unit is not Unit.COUNT:
            out.append(f"{where}: links of totals are between counts of children; found "
                       f"{ind.unit.value} and {other.unit.value} {code}")
        else:
            want = LINK_FREQUENCIES[key] or (ind.frequency, ind.frequency)
            if (ind.frequency, other.frequency) != want:
                out.append(f"{where}: expected a {want[0].value} indicator of a "
                           f"{want[1].value} one; found {ind.frequency.value} of "
                           f"{other.frequency.value} {code}")
    return out


def _link_cycles(indicators: list[Indicator]) -> list[str]:
    """Links that lead back to where they started (A the year to date of B, B the sum of
    A and C): no figure could be worked out from the others."""
    edges = {i.code: [c for codes in i.links().values() for c in codes] for i in indicators}
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for start in sorted(edges):
        path: list[str] = []
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            code, at = stack.pop()
            if at == 0:
                if state.get(code) == 2:
                    continue
                if state.get(code) == 1:
                    loop = [*path[path.index(code):], code]
                    return [f"{loop[0]}: its links go round in a cycle: {' -> '.join(loop)}"]
                state[code] = 1
                path.append(code)
            if at < len(edges.get(code, [])):
                stack.append((code, at + 1))
                stack.append((edges[code][at], 0))
            else:
                state[code] = 2
                path.pop()
    return []


class Owner(_Strict):
    name: Line
    role: Line
    email: Email


class Authority(_Strict):
    name: Line
    code: Annotated[str, Field(pattern=r"^\d{3}$", description="DfE 3-digit LA code")]


class Contact(_Strict):
    name: Line
    role: Line
    phone: Line
    email: Email


class Recipient(_Strict):
    name: Line
    email: Email
    edition: Literal["public", "restricted"] = "public"
    # The edition's workbook (.xlsx) attached beside its PDF, for those who analyse it.
    spreadsheet: bool = False


class Rules(_Strict):
    consecutive_declines: Annotated[int, Field(ge=1, le=24)] = 2
    # A percentage over fewer cases than this is shown but does not breach by itself.
    min_denominator: Annotated[float, Field(ge=0)] = 10
    # The SPC rule set for every indicator that does not name its own.
    spc_method: SpcMethod = SpcMethod.PLOTTHEDOTS
    # Points in a shift / trend. Unset: the rule set's own (plotthedots 7, nhse 6); set, it
    # replaces that for every indicator, whatever its rule set.
    spc_shift: Annotated[int, Field(ge=6, le=9)] | None = None
    spc_trend: Annotated[int, Field(ge=6, le=9)] | None = None
    # With `nhse`, how a point with both an improvement and a concern signal reads, unless
    # the indicator says otherwise: concern, so that a deterioration is never hidden.
    spc_conflict: SpcConflict = SpcConflict.CONCERN
    chart_periods: Annotated[int, Field(ge=3, le=60)] = 24
    # True: any error in the exports stops the run, as `--strict` does. False (default): a
    # fault in one cell withholds that figure and the rest of the paper is produced.
    strict: bool = False


class Mail(_Strict):
    sender: Email
    reply_to: Email | None = None
    subject_prefix: Line = "Performance briefing"
    # Mail goes only to these domains (empty: any); anything else fails that message alone.
    allowed_domains: list[Domain] = Field(default_factory=list)
    # Told by email when a run fails (with the error and the run's link).
    operators: list[Email] = Field(default_factory=list)


class Papers(_Strict):
    """The committee timetable's rules (see tasks.settings.calendar)."""

    clear_days: Annotated[int, Field(ge=1, le=20)] = 5
    commentary_working_days: Annotated[int, Field(ge=0, le=20)] = 3
    data_ready_days: Annotated[int, Field(ge=0, le=40)] = 10
    remind_working_days: Annotated[int, Field(ge=0, le=20)] = 2
    # The monthly run: 07:00 (Europe/London) on this working day of the month.
    run_working_day: Annotated[int, Field(ge=1, le=15)] = 3


class Bounds(_Strict):
    """How much one briefing may hold (`limits:` in briefing.yaml): what a council can read
    and a run can make in minutes. Each is refused or summarised with a message saying
    which limit and where to change it (docs/configuration.md, "Limits")."""

    # Indicators in one catalogue: refused at load (validate and run alike). 1,000 took a
    # run 4.5 min and 1.9 GB and sent one owner a 17 MB email; a council's scorecard has
    # tens to a couple of hundred.
    indicators: Annotated[int, Field(ge=1, le=1000)] = 300
    # Data-quality findings printed in each paper's Appendix A (errors first); the rest are
    # counted in one line there, and every one is in the edition's workbook.
    findings_per_paper: Annotated[int, Field(ge=10, le=1000)] = 100
    # The largest email, in MiB as sent (attachments encoded): over it a message goes
    # without its attachments, saying why and where they are.
    email_mib: Annotated[float, Field(ge=1, le=150)] = 10


class Briefing(_Strict):
    authority: Authority
    committee: Line
    report_title: Line = "Children's services performance"
    contact: Contact
    recipients: list[Recipient] = Field(default_factory=list)
    # In the public edition, owners appear by role only when this is false.
    publish_owner_names: bool = True
    rules: Rules = Rules()
    mail: Mail
    meetings: list[TextDate] = Field(default_factory=list)
    papers: Papers = Papers()
    clerk: Recipient | None = None
    limits: Bounds = Bounds()
    # Owners' returns are read from the exports folder and from this folder too (relative
    # to the config folder): where the performance team keeps them (docs/owners.md).
    returns_folder: Line | None = None


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
    def _within_bounds(self) -> Config:
        if why := too_many_indicators(len(self.indicators), self.briefing.limits):
            raise ValueError(why)
        return self

    @model_validator(mode="after")
    def _links_hold(self) -> Config:
        if faults := check_links(self.indicators):
            raise ValueError(f"{INDICATORS_FILE}: links: " + "; ".join(faults))
        return self

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


# indicators.yaml for two hundred indicators is about 50 KB.
MAX_CONFIG_BYTES = 4 * 2**20


class ConfigError(Exception):
    """A config file is missing or wrong; the message names the file and the field."""


def read_yaml(path: Path) -> Any:
    """A config file's YAML; every way it can be unreadable is one ConfigError naming it."""
    return parse_yaml(path, read_text(path))


def read_text(path: Path) -> str:
    """A config file's text: a regular file, within MAX_CONFIG_BYTES, UTF-8 (else one
    ConfigError naming it)."""
    if not path.exists() and not path.is_symlink():
        raise ConfigError(f"{path}: file not found")
    try:
        st = path.stat()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{path}: not a regular file (a folder, pipe, device or socket); "
                          "expected a YAML file")
    if st.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 2**20} MiB; a config "
                          "file is a few pages of YAML")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start + 1}); save it as UTF-8")\
            from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc


def parse_yaml(path: Path, text: str) -> Any:
    """The YAML in `text` (read from `path`, which a ConfigError names)."""
    try:
        return yaml_text.load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc


def listed(text: str) -> int:
    """How many entries a YAML list at the top of `text` has, counted from its lines (each
    starts `- ` in the first column) without parsing it: parsing 10,000 indicators takes
    PyYAML many seconds, counting them a few milliseconds."""
    return sum(1 for line in text.splitlines() if line == "-" or line.startswith("- "))


def describe_validation_error(exc: ValidationError, path: Path, shown: int = 10) -> str:
    """One line naming the file and each key at fault (never echoing the bad value whole);
    past `shown` problems, how many more, so a file of a thousand bad entries is still one
    readable line."""
    parts = []
    for err in exc.errors()[:shown]:
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"at {loc or '(top)'}: {err['msg'].removeprefix('Value error, ')[:200]}")
    more = exc.error_count() - len(parts)
    return (f"{path}: {exc.error_count()} problem(s): " + "; ".join(parts)
            + (f"; and {more:,} more" if more > 0 else ""))


def too_many_indicators(n: int, limits: Bounds) -> str | None:
    """Why a catalogue of `n` indicators is refused, or None."""
    if n <= limits.indicators:
        return None
    return (f"{n:,} indicators; at most {limits.indicators:,} in one catalogue "
            f"(limits.indicators in {BRIEFING_FILE}, default {Bounds().indicators}, up to "
            "1,000): a paper of more is more than a committee can read and takes a run "
            "minutes and gigabytes; split the catalogue, or raise the limit")


def load_config(config_dir: Path) -> Config:
    """Read the three files and check them against each other; raise ConfigError if wrong.
    briefing.yaml is checked first: its limits bound the catalogue before that is checked
    entry by entry (10,000 indicators are refused in one line, not validated for minutes)."""
    config_dir = Path(config_dir)
    ind_path = config_dir / INDICATORS_FILE
    ind_text = read_text(ind_path)
    raw_own = read_yaml(config_dir / OWNERS_FILE)
    raw_brf = read_yaml(config_dir / BRIEFING_FILE)
    parts: dict[str, Any] = {}
    for name, raw, model, path in (
        ("briefing", raw_brf, Briefing, config_dir / BRIEFING_FILE),
        ("indicators", None, list[Indicator], ind_path),
        ("owners", raw_own, dict[str, Owner], config_dir / OWNERS_FILE),
    ):
        if name == "indicators":
            if why := too_many_indicators(listed(ind_text), parts["briefing"].limits):
                raise ConfigError(f"{path}: {why}")
            raw = parse_yaml(path, ind_text)
        try:
            parts[name] = TypeAdapter(model).validate_python(raw)
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc, path)) from exc
    if faults := check_links(parts["indicators"]):
        raise ConfigError(f"{ind_path}: {len(faults)} problem(s) in links between "
                          "indicators: " + "; ".join(faults))
    try:
        return Config(**parts)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, config_dir)) from exc


Fingerprint = tuple[tuple[str, int, int], ...]
T = TypeVar("T")


def fingerprint(*folders: Path) -> Fingerprint:
    """Every file under the folders as it now is: path, size and modification time. Two
    equal fingerprints: nothing was added, removed or rewritten in between."""
    out: list[tuple[str, int, int]] = []
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                try:
                    st = os.stat(os.path.join(root, name), follow_symlinks=False)
                except OSError:
                    continue
                out.append((os.path.join(root, name), st.st_size, st.st_mtime_ns))
    return tuple(out)


class Kept(Generic[T]):
    """What one run read from its folders, kept for the run itself: whoever needs it first
    (the command's checks before the engine starts, the run's name, which Prefect works out
    before the flow's body, all in the run's process) keeps it, and the run uses it rather
    than reading the folders again. Kept with the folders' fingerprint: a file changed in
    between is read again."""

    def __init__(self) -> None:
        self._held: dict[object, tuple[Fingerprint, T]] = {}

    def keep(self, key: object, folders: tuple[Path, ...], value: T) -> T:
        self._held[key] = (fingerprint(*folders), value)
        return value

    def get(self, key: object, folders: tuple[Path, ...], take: bool = False) -> T | None:
        """The value kept for `key` if the folders are unchanged since; with `take`, it is
        kept no longer (the run has it)."""
        held = self._held.pop(key, None) if take else self._held.get(key)
        if held is None or held[0] != fingerprint(*folders):
            return None
        return held[1]


# The config a run loaded, kept for the rest of the run (Kept).
CONFIGS: Kept[Config] = Kept()


def run_config(config_dir: Path) -> Config:
    """The config folder's settings and catalogue, loaded once per run: whoever loads them
    first (the command's checks, the run's name, the run) keeps them for the others, while
    the folder is unchanged."""
    folder = Path(config_dir)
    key = folder.resolve()
    return CONFIGS.get(key, (folder,)) or CONFIGS.keep(key, (folder,), load_config(folder))
