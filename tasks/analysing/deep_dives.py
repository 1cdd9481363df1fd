"""The deep-dive register and the impact of its actions, as pure typed functions.

The committee's rule (`tasks.analysing.compare.decline_runs`) says when a deep dive is required. The
register remembers it: the rule firing opens one deep dive for the indicator, which stays
open across cycles until `deep_dives.yaml` (in the config folder, beside owners.yaml)
closes it; the rule firing again while one is open opens no other, and re-running a cycle
changes nothing. The file also carries what the board learnt (findings) and did (actions
with owner, due date and the date each was put in place), from which the status follows:
open, findings reported, actions agreed, closed.

Impact of an action is judged on the indicator's own figures: the mean of up to
`IMPACT_PERIODS` periods before the action's period against the mean of up to as many
after it (the action's own period, half before and half after, is in neither). The rule
(docs/deep-dives.md):

- fewer than `MIN_PERIODS_AFTER` figures after the action: too early to tell;
- no figure before it: nothing to compare with;
- a neutral indicator: the two means, with no verdict;
- otherwise improved (or worse) when the mean after is better (or worse) than the mean
  before by more than the margin, and no change yet within it. The margin is the larger of
  the indicator's `min_change` and twice the standard error of the difference of the two
  means, with the XmR sigma of the periods before (their average moving range / 1.128):
  the change that chance alone would seldom give.

Whether SPC shows a special cause since the action is read from the indicator's SPC points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import TypeAdapter, ValidationError

from tasks.analysing.compare import EPS
from tasks.analysing.results import SpcResult
from tasks.reading.deep_dive_entries import Action, DeepDiveEntry
from tasks.reading.files import FileRefused, one_line, quote, read_small, utf8_text
from tasks.reading.problems import Problem, Severity
from tasks.settings import yaml_text
from tasks.settings.config import Config, Indicator, Polarity
from tasks.settings.formatting import fmt_value
from tasks.settings.periods import (
    Frequency,
    frequency_of,
    is_period,
    latest_of_kind,
    period_from_index,
    period_index,
)

DEEP_DIVES_FILE = "deep_dives.yaml"
MAX_DEEP_DIVES_BYTES = 1 << 20
IMPACT_PERIODS = 6  # periods each side of an action that its impact is judged on
MIN_PERIODS_AFTER = 3  # fewer figures after an action than this: too early to tell
D2 = 1.128  # XmR: sigma is the average moving range over d2
DEEP_DIVE = "deep_dive"  # Problem.kind of findings about the register


class Status(StrEnum):
    OPEN = "open"
    FINDINGS = "findings_reported"
    ACTIONS = "actions_agreed"
    CLOSED = "closed"


STATUS_WORDS = {Status.OPEN: "Open", Status.FINDINGS: "Findings reported",
                Status.ACTIONS: "Actions agreed", Status.CLOSED: "Closed"}


@dataclass(frozen=True)
class DeepDive:
    """One deep dive in the history store's register."""

    indicator: str
    opened: str  # the cycle it opened in
    owner: str  # the indicator's owner (an id in owners.yaml)
    status: Status
    closed: date | None = None


_EXPECTED = {
    "date_from_datetime_parsing": "expected a date such as 2024-09-30",
    "date_parsing": "expected a date such as 2024-09-30",
    "date_type": "expected a date such as 2024-09-30",
    "missing": "is required",
    "string_type": "expected text",
    "list_type": "expected a list of entries",
    "dict_type": "expected a mapping of field: value",
    "model_type": "expected a mapping of field: value",
    "string_too_short": "expected some text, found none",
    "string_too_long": "is too long",
}
_FIELDS = {"entry": ", ".join(DeepDiveEntry.model_fields),
           "action": ", ".join(Action.model_fields)}


def _entry_name(raw: object, i: int) -> str:
    code = raw[i].get("indicator") if isinstance(raw, list) and isinstance(raw[i], dict) else None
    return f"entry {i + 1}" + (f" ({code})" if isinstance(code, str) else "")


def _where(raw: object, loc: tuple[int | str, ...]) -> str:
    """`entry 2 (CL01), field actions[1].due` from a pydantic error location."""
    if not loc or not isinstance(loc[0], int):
        return "the file"
    name = _entry_name(raw, loc[0])
    path = ""
    for part in loc[1:]:
        path += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if path else part)
    return f"{name}, field {path}" if path else name


def _message(err: Any) -> str:
    kind = str(err["type"])
    loc = tuple(err["loc"])
    if kind == "extra_forbidden":
        where = "action" if "actions" in loc else "entry"
        return f"is not a field of a deep dive's {where} (expected one of: {_FIELDS[where]})"
    text = _EXPECTED.get(kind, str(err["msg"]))
    if kind != "missing" and "input" in err and not isinstance(err["input"], dict | list):
        text += f", found {quote(str(err['input']))}"
    return text


def read_deep_dives(config_dir: Path, config: Config, cycle: str
                    ) -> tuple[list[DeepDiveEntry], list[Problem]]:
    """`deep_dives.yaml` from the config folder, checked as strictly as an export: every
    fault is an error naming the file, the entry and the field, and stops the run."""
    path = Path(config_dir) / DEEP_DIVES_FILE
    if not path.exists() and not path.is_symlink():
        return [], []

    def error(column: str | None, message: str, indicator: str | None = None) -> Problem:
        return Problem(Severity.ERROR, path.name, None, column, message, indicator)

    try:
        data = read_small(Path(config_dir), path, MAX_DEEP_DIVES_BYTES, "config folder")
        raw = yaml_text.load(utf8_text(data)) or []
    except FileRefused as exc:
        return [], [error(None, str(exc))]
    except yaml.YAMLError as exc:
        return [], [error(None, f"not valid YAML: {one_line(exc)}")]
    if not isinstance(raw, list):
        return [], [error(None, "expected a list of deep dives, each starting '- indicator:'")]
    try:
        items = TypeAdapter(list[DeepDiveEntry]).validate_python(raw)
    except ValidationError as exc:
        return [], [error(_where(raw, tuple(e["loc"])), _message(e)) for e in exc.errors()]
    problems = _cross_check(items, config, cycle, error)
    return [e for e in items if not _after(e, config, cycle)], problems


def _after(e: DeepDiveEntry, config: Config, cycle: str) -> bool:
    """An entry for a deep dive opened after the cycle being reported (a paper re-run for
    an earlier month): it does not exist yet in that cycle, so it is left out, not an
    error."""
    ind = config.by_code().get(e.indicator)
    if ind is None or e.opened is None or not is_period(e.opened) \
            or frequency_of(e.opened) is not ind.frequency:
        return False
    return period_index(e.opened) > period_index(latest_of_kind(ind.frequency, cycle))


def _cross_check(items: list[DeepDiveEntry], config: Config, cycle: str,
                 error: Any) -> list[Problem]:
    """What the models cannot check alone: codes, owners, periods, dates in order."""
    problems: list[Problem] = []
    catalogue = config.by_code()
    seen: set[tuple[str, str]] = set()
    for i, e in enumerate(items):
        name = f"entry {i + 1} ({e.indicator})"
        ind = catalogue.get(e.indicator)
        if ind is None:
            problems.append(error(f"{name}, field indicator",
                                  f"indicator code {quote(e.indicator)} is not in "
                                  "indicators.yaml", e.indicator))
            continue
        if e.opened is not None:
            latest = latest_of_kind(ind.frequency, cycle)
            if not is_period(e.opened) or frequency_of(e.opened) is not ind.frequency:
                problems.append(error(f"{name}, field opened",
                                      f"expected a {ind.frequency.value} period such as "
                                      f"{latest}, found {quote(e.opened)}", e.indicator))
            elif (e.indicator, e.opened) in seen:
                problems.append(error(f"{name}, field opened",
                                      f"a second entry for the deep dive into {e.indicator} "
                                      f"opened {e.opened}", e.indicator))
            seen.add((e.indicator, e.opened))
        for k, a in enumerate(e.actions, 1):
            if a.owner not in config.owners:
                problems.append(error(f"{name}, field actions[{k}].owner",
                                      f"expected an owner id in owners.yaml, found "
                                      f"{quote(a.owner)}", e.indicator))
        if e.closed is not None and e.opened is not None and is_period(e.opened) \
                and _month(e.closed) < _first_month(e.opened):
            problems.append(error(f"{name}, field closed",
                                  f"expected a date after it opened ({e.opened}), found "
                                  f"{e.closed.isoformat()}", e.indicator))
    return problems


def _month(d: date) -> int:
    return d.year * 12 + d.month - 1


def _first_month(period: str) -> int:
    """Month index of a period's first month."""
    freq = frequency_of(period)
    year = int(period[:4])
    if freq is Frequency.MONTHLY:
        return period_index(period)
    if freq is Frequency.QUARTERLY:
        return year * 12 + (int(period[6]) - 1) * 3
    return (year - 1) * 12 + 3  # April of the year before (a year to 31 March)


def period_of(d: date, freq: Frequency) -> str:
    """The period of kind `freq` that a date falls in (a year ends in March)."""
    m = _month(d)
    if freq is Frequency.MONTHLY:
        return period_from_index(m)
    if freq is Frequency.QUARTERLY:
        return period_from_index(m // 3, freq)
    return f"{d.year if d.month <= 3 else d.year + 1:04d}"


def status_of(entry: DeepDiveEntry | None, stored: Status = Status.OPEN) -> Status:
    """What the board has got to: closed, actions agreed, findings reported, or open."""
    if entry is None:
        return stored
    if entry.closed is not None:
        return Status.CLOSED
    if entry.actions:
        return Status.ACTIONS
    if entry.findings:
        return Status.FINDINGS
    return Status.OPEN


def update_register(stored: list[DeepDive], firing: list[str], entries: list[DeepDiveEntry],
                    config: Config, cycle: str
                    ) -> tuple[list[DeepDive], dict[tuple[str, str], DeepDiveEntry],
                               list[Problem]]:
    """The register after this cycle: (deep dives, the file's entry for each, findings).

    An entry with `opened` names its deep dive (adding it to the register if the store
    has none, as for one opened before the briefing was used); one without it is the open
    deep dive for its indicator, or the one it closed in an earlier run (same date). The
    rule firing for an indicator with no open deep dive opens one in this cycle, unless
    its last one closed in this cycle or later (the figures that fired the rule are those
    it was closed on). Pure: the caller stores it.
    """
    catalogue = config.by_code()
    reg = _Register({(d.indicator, d.opened): d for d in stored})
    named = [e for e in entries if e.opened is not None and e.indicator in catalogue]
    for e in named:
        key = (e.indicator, str(e.opened))
        if key not in reg.dives:
            reg.dives[key] = DeepDive(e.indicator, str(e.opened), catalogue[e.indicator].owner,
                                      Status.OPEN)
    reg.matched = {(e.indicator, str(e.opened)): e for e in named}
    for code in firing:
        ind = catalogue.get(code)
        if ind is not None:
            reg.open_by_rule(code, latest_of_kind(ind.frequency, cycle), ind.owner)
    problems = [p for e in entries if e.opened is None and e.indicator in catalogue
                if (p := reg.match(e)) is not None]
    return reg.after(), reg.matched, problems


@dataclass
class _Register:
    """The register as update_register builds it: every deep dive by (indicator, cycle
    opened), and deep_dives.yaml's entry for each."""

    dives: dict[tuple[str, str], DeepDive]
    matched: dict[tuple[str, str], DeepDiveEntry] = field(default_factory=dict)

    def current(self, code: str) -> DeepDive | None:
        """The indicator's open deep dive (the latest opened), or None."""
        mine = [d for k, d in self.dives.items() if k[0] == code
                and status_of(self.matched.get(k), d.status) is not Status.CLOSED]
        return max(mine, key=lambda d: period_index(d.opened)) if mine else None

    def closed_on(self, key: tuple[str, str], d: DeepDive) -> date | None:
        e = self.matched.get(key)
        if status_of(e, d.status) is not Status.CLOSED:
            return None
        return e.closed if e is not None and e.closed is not None else d.closed

    def open_by_rule(self, code: str, opened: str, owner: str) -> None:
        """The rule fired: a deep dive opens, unless one is open, or the last closed in
        this cycle or later (the figures that fired the rule are those it closed on)."""
        if self.current(code) is not None:
            return
        last_closed = max((c for k, d in self.dives.items()
                           if k[0] == code and (c := self.closed_on(k, d)) is not None),
                          default=None)
        if (code, opened) in self.dives or (last_closed is not None
                                            and _month(last_closed) >= _first_month(opened)):
            return
        self.dives[(code, opened)] = DeepDive(code, opened, owner, Status.OPEN)

    def match(self, e: DeepDiveEntry) -> Problem | None:
        """An entry without `opened`: the deep dive it closed in an earlier run, else the
        open one; a finding when there is neither."""
        d = next((x for x in self.dives.values() if x.indicator == e.indicator
                  and e.closed is not None and x.closed == e.closed), None) \
            or self.current(e.indicator)
        if d is None:
            return Problem(
                Severity.WARNING, DEEP_DIVES_FILE, None, f"entry for {e.indicator}",
                f"no deep dive into {e.indicator} is open in the register; give the cycle "
                "it opened as 'opened:'", e.indicator, kind=DEEP_DIVE)
        self.matched[(d.indicator, d.opened)] = e
        return None

    def after(self) -> list[DeepDive]:
        """Every deep dive with its status (and closing date) as its entry says."""
        out = []
        for key, d in sorted(self.dives.items(),
                             key=lambda kv: (kv[0][0], period_index(kv[0][1]))):
            found = self.matched.get(key)
            status = status_of(found, d.status)
            closed = (found.closed if found is not None and found.closed is not None
                      else d.closed)
            out.append(DeepDive(d.indicator, d.opened, d.owner, status,
                                closed if status is Status.CLOSED else None))
        return out


def pack_name(authority: str, indicator: str, opened: str, suffix: str = "pdf") -> str:
    """`999-deep-dive-CL01-2024-10.pdf`: the deep-dive pack's file (tasks.presenting.packs); with no
    suffix, the name without one."""
    return f"{authority}-deep-dive-{indicator}-{opened}" + (f".{suffix}" if suffix else "")


class Verdict(StrEnum):
    IMPROVED = "improved"
    NO_CHANGE = "no_change"
    WORSE = "worse"
    TOO_EARLY = "too_early"
    NO_BASELINE = "no_baseline"
    NOT_JUDGED = "not_judged"  # neither higher nor lower is better


@dataclass(frozen=True)
class Impact:
    """An action's effect on its indicator: the means either side, and the verdict."""

    period: str  # the period the action was put in place in
    before: float | None
    after: float | None
    periods_before: int  # figures the mean before is of
    periods_after: int
    margin: float | None  # the change that counts (docs/deep-dives.md), in the indicator's units
    verdict: Verdict
    special_since: str | None  # improvement | concern | neutral: SPC's latest since


def _figures(history: pd.DataFrame, code: str, freq: Frequency
             ) -> dict[int, float]:
    rows = history[history["indicator"] == code]
    out: dict[int, float] = {}
    for p, v in zip(rows["period"], rows["value"], strict=True):
        if is_period(str(p)) and frequency_of(str(p)) is freq and v == v:
            out.setdefault(period_index(str(p)), float(v))
    return out


def impact(ind: Indicator, when: date, history: pd.DataFrame, cycle: str,
           spc: SpcResult | None = None) -> Impact:
    """The indicator before and after an action put in place on `when` (module docstring)."""
    freq = ind.frequency
    at = period_index(period_of(when, freq))
    now = period_index(latest_of_kind(freq, cycle))
    figures = _figures(history, ind.code, freq)
    before = [figures[i] for i in range(at - IMPACT_PERIODS, at) if i in figures]
    after = [figures[i] for i in range(at + 1, min(at + IMPACT_PERIODS, now) + 1)
             if i in figures]
    b = sum(before) / len(before) if before else None
    a = sum(after) / len(after) if after else None
    period = period_from_index(at, freq)
    special = None
    if spc is not None:
        since = [p.special for p in spc.points
                 if p.special and period_index(p.period) > at]
        special = since[-1] if since else None
    margin: float | None = None
    if len(after) < MIN_PERIODS_AFTER:
        verdict = Verdict.TOO_EARLY
    elif b is None:
        verdict = Verdict.NO_BASELINE
    elif ind.polarity is Polarity.NEUTRAL:
        verdict = Verdict.NOT_JUDGED
    else:
        assert a is not None
        margin = max(ind.min_change, _noise(before, len(after)))
        sign = 1.0 if ind.polarity is Polarity.HIGHER_IS_BETTER else -1.0
        better = (a - b) * sign
        verdict = (Verdict.IMPROVED if better > margin + EPS else
                   Verdict.WORSE if better < -margin - EPS else Verdict.NO_CHANGE)
    return Impact(period, b, a, len(before), len(after), margin, verdict, special)


def _noise(before: list[float], n_after: int) -> float:
    """Twice the standard error of the difference of the two means, with the XmR sigma of
    the figures before (0 with fewer than two of them)."""
    if len(before) < 2:
        return 0.0
    ranges = [abs(x - y) for x, y in zip(before[1:], before[:-1], strict=True)]
    sigma = sum(ranges) / len(ranges) / D2
    return 2.0 * sigma * math.sqrt(1.0 / len(before) + 1.0 / n_after)


def verdict_text(ind: Indicator, i: Impact) -> str:
    """The verdict in the paper's words: "improved since the action (52.0% to 44.1%)"."""
    def v(x: float | None) -> str:
        return fmt_value(ind.unit, x, ind.decimals)

    since = f"{i.periods_after} period{'s' if i.periods_after != 1 else ''} since"
    figures = f"({v(i.before)} to {v(i.after)})"
    return {
        Verdict.IMPROVED: f"improved since the action {figures}",
        Verdict.WORSE: f"worse since the action {figures}",
        Verdict.NO_CHANGE: f"no change yet ({since}; {v(i.before)} to {v(i.after)})",
        Verdict.TOO_EARLY: f"too early to tell ({since})",
        Verdict.NO_BASELINE: "no figures before the action to compare with",
        Verdict.NOT_JUDGED: f"{v(i.before)} before the action, {v(i.after)} since "
                            "(neither higher nor lower is better)",
    }[i.verdict]


@dataclass(frozen=True)
class ActionResult:
    description: str
    owner: str
    due: date
    done: date | None
    impact: Impact | None  # None: not yet put in place, or withheld (public edition)


@dataclass(frozen=True)
class DeepDiveResult:
    """One deep dive as an edition shows it."""

    indicator: str
    opened: str
    owner: str
    status: Status
    closed: date | None
    age: int  # cycles (periods of the indicator's kind) since it opened
    opened_now: bool  # it opened in this cycle
    findings: str | None
    actions: tuple[ActionResult, ...]
    impact_withheld: bool = False  # public edition: the figures rest on small numbers


def deep_dive_results(register: list[DeepDive],
                      entries: dict[tuple[str, str], DeepDiveEntry], config: Config,
                      cycle: str, history: pd.DataFrame,
                      spc: dict[str, SpcResult | None]) -> list[DeepDiveResult]:
    """Each deep dive in the register with its actions' impact, open ones first."""
    catalogue = config.by_code()
    out = []
    for d in register:
        ind = catalogue.get(d.indicator)
        if ind is None:
            continue
        e = entries.get((d.indicator, d.opened))
        now = latest_of_kind(ind.frequency, cycle)
        actions = tuple(
            ActionResult(a.description, a.owner, a.due, a.done,
                         impact(ind, a.done, history, cycle, spc.get(d.indicator))
                         if a.done is not None else None)
            for a in (e.actions if e is not None else []))
        # The owner stored when it opened, while still in owners.yaml; else today's owner.
        owner = d.owner if d.owner in config.owners else ind.owner
        out.append(DeepDiveResult(
            d.indicator, d.opened, owner, d.status, d.closed,
            max(0, period_index(now) - period_index(d.opened))
            if frequency_of(d.opened) is ind.frequency else 0,
            d.opened == now, e.findings if e is not None else None, actions))
    return sorted(out, key=lambda r: (r.status is Status.CLOSED, r.indicator,
                                      period_index(r.opened)))
