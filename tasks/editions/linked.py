"""Figures a reader can subtract from one another: disclosure across linked indicators.

`indicators.yaml` may say that a count is the year to date, the quarter or the rolling 12
months of a monthly count, or the sum of other counts (tasks.settings.config: `year_to_date_of`,
`quarter_of`, `rolling_12_months_of`, `sum_of`), and that a percentage or rate takes its
denominator from a count (`denominator_from`). Each link is a set of equations between
figures: October's year to date is September's plus October's month; a total is its parts.

The public edition hides, besides each small figure (tasks.editions.disclosure):

- every figure whose value holds a hidden one: the year to date from the hidden month to
  the year's end, the quarter and the rolling 12 months that hold it, the total of a
  hidden part. A reader who knows the rest subtracts to it otherwise;
- the figure that gives away a month (or part) recoverable by differencing: when the
  equation's other figures are published and the one left (October's year to date less
  September's, the total less the other parts) could be 1 to 5 children, or when the
  published figures of an equation fail to add up by 1 to 5;
- a percentage or rate whose denominator is a hidden figure (its value moves with it);
- a linked figure an earlier run hid whose value now comes from the store (no export
  gives it again): it is what that run saw.

Decided from the published figures alone, in one fixed order, so the same figures are
hidden whatever a hidden value is (DfE's secondary suppression across a table, made
deterministic). A hidden figure stands for a range that does not move with the hidden
value either: its value less the hidden parts it holds, plus their ranges.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pandas as pd

from tasks.reading.problems import Problem, Severity
from tasks.reading.values import opt_float
from tasks.settings.config import FIGURE_LIMITS, Config, Unit
from tasks.settings.periods import frequency_of, period_from_index, period_index, shift

Key = tuple[str, str]  # (indicator, period)
SMALL_LO, SMALL_HI = 1, 5
YEAR_STARTS = 4  # April: the reporting year DfE's annual periods use (tasks.settings.periods)


@dataclass(frozen=True)
class Relation:
    """`total` = the sum of `parts`, each with its sign (+1 or -1)."""

    total: Key
    parts: tuple[tuple[int, Key], ...]


@dataclass(frozen=True)
class Hidden:
    """A hidden figure: its range, and its value where the range was worked out from it
    (None: a range that stands for anything, so nothing holding it is narrowed)."""

    lo: float
    hi: float
    value: float | None


def with_denominators(records: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Records in which a percentage or rate with `denominator_from` and no denominator of
    its own takes that count's figure for the same period as its denominator, as a reader
    with both published figures would: then `is_small` counts the children behind it."""
    links = {i.code: i.denominator_from for i in config.indicators
             if i.denominator_from is not None}
    if not links or records.empty:
        return records
    counts = {(str(r.indicator), str(r.period)): opt_float(r.value)
              for r in records.itertuples(index=False)
              if str(r.indicator) in set(links.values())}
    dens = [counts.get((links.get(str(i), ""), str(p)))
            for i, p in zip(records["indicator"], records["period"], strict=True)]
    fill = records["denominator"].isna() & pd.Series(
        [d is not None and not math.isnan(d) for d in dens], index=records.index)
    if not fill.any():
        return records
    out = records.copy()
    out.loc[fill, "denominator"] = [d for d, f in zip(dens, fill, strict=True) if f]
    return out


def relations(config: Config, periods: dict[str, set[str]]) -> list[Relation]:
    """Every equation the catalogue's links make between figures, for the periods each
    aggregate has figures in (`periods`: indicator -> its periods), in a fixed order."""
    out: list[Relation] = []
    for ind in config.indicators:
        mine = [period_index(p) for p in periods.get(ind.code, set())
                if frequency_of(p) is ind.frequency]
        # Every period from its first figure to its last: one left out, or marked c, is
        # what a reader may work out from those either side.
        for i in range(min(mine, default=0), max(mine, default=-1) + 1):
            out += _equations(ind.code, ind.links(), period_from_index(i, ind.frequency))
    return out


def _equations(code: str, links: dict[str, list[str]], period: str) -> list[Relation]:
    """The equations one aggregate figure takes part in as the total."""
    me = (code, period)
    if "sum_of" in links:
        return [Relation(me, tuple((1, (p, period)) for p in links["sum_of"]))]
    if "quarter_of" in links:
        base, year, q = links["quarter_of"][0], period[:4], int(period[6])
        return [Relation(me, tuple((1, (base, f"{year}-{3 * (q - 1) + m:02d}"))
                                   for m in (1, 2, 3)))]
    if "year_to_date_of" in links:
        base = links["year_to_date_of"][0]
        if int(period[5:7]) == YEAR_STARTS:
            return [Relation(me, ((1, (base, period)),))]
        return [Relation(me, ((1, (code, shift(period, -1))), (1, (base, period))))]
    if "rolling_12_months_of" in links:
        base = links["rolling_12_months_of"][0]
        return [Relation(me, tuple((1, (base, shift(period, -k))) for k in range(12))),
                Relation(me, ((1, (code, shift(period, -1))), (1, (base, period)),
                              (-1, (base, shift(period, -12)))))]
    return []


def linked_codes(config: Config) -> set[str]:
    """Every indicator that takes part in a link, on either side."""
    return {i.code for i in config.indicators if i.links()} | {
        c for i in config.indicators for codes in i.links().values() for c in codes}


def _small(x: float) -> bool:
    """Could `x` children be 1 to 5 (after float arithmetic)?"""
    return math.ceil(x - 1e-6) <= SMALL_HI and math.floor(x + 1e-6) >= SMALL_LO


def _wide(unit: Unit) -> Hidden:
    return Hidden(0.0, 100.0 if unit is Unit.PERCENT else FIGURE_LIMITS[unit], None)


def linked_hidden(history: pd.DataFrame, config: Config, hidden: dict[Key, Hidden],
                  carried: set[Key] | None = None) -> dict[Key, Hidden]:
    """The figures hidden because of links, with their ranges, beyond `hidden` (the small
    figures, each with its range and value). `carried`: figures an earlier run found
    hidden, to which no export gives a value again: the store's is what that run hid, and
    one with no value now is still a hidden part of any total holding it."""
    linked = linked_codes(config)
    if not linked:
        return {}
    units = {i.code: i.unit for i in config.indicators}
    values: dict[Key, float] = {}
    for r in history.itertuples(index=False):
        v = opt_float(r.value)
        key = (str(r.indicator), str(r.period))
        if v is not None and not math.isnan(v) and key[0] in linked:
            values.setdefault(key, v)
    out = dict(hidden)
    for key in sorted(carried or set()):
        if key[0] in units and key[0] in linked and key not in out:
            out[key] = _wide(units[key[0]])  # with no value now: still a hidden part
    periods: dict[str, set[str]] = {}
    for code, period in values:
        periods.setdefault(code, set()).add(period)
    rels = relations(config, periods)
    state = _State(values, out)
    while _contain(rels, state) or _difference(rels, state):
        pass
    _over_hidden_denominators(config, values, out)
    return {k: h for k, h in out.items()
            if k in values and (k not in hidden or h != hidden[k])}


@dataclass
class _State:
    """What a reader of the public edition has, as the decisions are made."""

    values: dict[Key, float]  # every linked figure's value
    hidden: dict[Key, Hidden]  # the figures hidden so far
    # Figures not published that a reader works out from published ones: a part that could
    # be 1 to 5 (or a figure holding one), and any other.
    derived: dict[Key, Hidden] = field(default_factory=dict)
    known: dict[Key, float] = field(default_factory=dict)

    def published(self, key: Key) -> bool:
        return key in self.values and key not in self.hidden

    def shown(self, key: Key) -> float | None:
        """The value a reader has for `key`: published, or worked out; else None."""
        return self.values[key] if self.published(key) else self.known.get(key)


def _contain(rels: list[Relation], state: _State) -> bool:
    """Hide each total a reader has (published, or worked out) that holds a hidden or
    derived part; whether any was. A worked-out one becomes a derived part in turn, so
    the published total a reader worked it out from is hidden next."""
    changed = False
    for rel in rels:
        total = state.shown(rel.total)
        if total is None or rel.total in state.derived:
            continue
        inside = [(sign, state.hidden.get(k) or state.derived[k]) for sign, k in rel.parts
                  if k in state.hidden or k in state.derived]
        if not inside:
            continue
        if any(h.value is None for _, h in inside):
            found = Hidden(0.0, FIGURE_LIMITS[Unit.COUNT], None)
        else:
            rest = total - sum(sign * (h.value or 0.0) for sign, h in inside)
            lo = rest + sum(min(sign * h.lo, sign * h.hi) for sign, h in inside)
            hi = rest + sum(max(sign * h.lo, sign * h.hi) for sign, h in inside)
            found = Hidden(max(0.0, lo), hi, total)
        if state.published(rel.total):
            state.hidden[rel.total] = found
        else:
            state.derived[rel.total] = found
            del state.known[rel.total]
        changed = True
    return changed


def _difference(rels: list[Relation], state: _State) -> bool:
    """Work out what an equation gives a reader: the one figure it leaves unknown (marked
    derived when it could be 1 to 5, as a month that is the year to date less last
    month's); and hide a published total whose published parts fall short of it, or pass
    it, by 1 to 5. Whether anything was."""
    changed = False
    for rel in rels:
        if rel.total in state.hidden or rel.total in state.derived \
                or any(k in state.derived for _, k in rel.parts):
            continue
        total = state.shown(rel.total)
        unknown = [(s, k) for s, k in rel.parts if state.shown(k) is None]
        parts = sum(s * (state.shown(k) or 0.0) for s, k in rel.parts if (s, k) not in unknown)
        if total is None:
            if not unknown and rel.total not in state.hidden:
                state.known[rel.total] = parts  # a total given by its parts
                changed = True
            continue
        if not unknown:
            if state.published(rel.total) and all(state.published(k) for _, k in rel.parts) \
                    and _small(abs(total - parts)):
                state.hidden[rel.total] = Hidden(0.0, FIGURE_LIMITS[Unit.COUNT], None)
                changed = True
            continue
        sign, key = unknown[0]
        if len(unknown) > 1 or key in state.hidden:
            continue
        if _small(sign * (total - parts)):
            state.derived[key] = Hidden(SMALL_LO, SMALL_HI, sign * (total - parts))
        else:
            state.known[key] = sign * (total - parts)
        changed = True
    return changed


def _over_hidden_denominators(config: Config, values: dict[Key, float],
                              hidden: dict[Key, Hidden]) -> None:
    """Hide each percentage or rate whose denominator is a hidden count, over a range that
    does not move with it (its value, and how small it looked, do)."""
    for ind in config.indicators:
        if ind.denominator_from is None:
            continue
        for key in sorted(k for k in values if k[0] == ind.code):
            if (ind.denominator_from, key[1]) in hidden:
                hidden[key] = _wide(ind.unit)


# --- Figures that look related but are not linked (`validate`), and links `init` drafts ---

LOOKALIKE = "lookalike"  # Problem.kind: a link the catalogue may be missing (restricted)
# A title naming its kind of total, and the link key for it.
_TITLE_KINDS = (
    (re.compile(r"\b(year[ -]to[ -]date|ytd|financial year to date|fytd)\b", re.I),
     "year_to_date_of"),
    (re.compile(r"\brolling\b|\b(last|previous|past) 12 months\b", re.I),
     "rolling_12_months_of"),
)


def _base_title(title: str, pattern: re.Pattern[str]) -> str:
    """A title without its kind of total and the punctuation around it, for comparing:
    'New referrals (year to date)' -> 'new referrals'."""
    words = re.sub(r"\b12 months\b", " ", pattern.sub(" ", title), flags=re.I)
    return " ".join(re.sub(r"[^\w%]+", " ", words).lower().split())


def drafted_links(titles: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """code -> (link key, the code it is of, or None when no other title matches) for each
    title that names a year to date or a rolling 12 months."""
    out: dict[str, tuple[str, str | None]] = {}
    plain = {code: " ".join(re.sub(r"[^\w%]+", " ", t).lower().split())
             for code, t in titles.items()}
    for code, title in titles.items():
        for pattern, key in _TITLE_KINDS:
            if not pattern.search(title):
                continue
            base = _base_title(title, pattern)
            match = sorted(c for c, t in plain.items() if c != code and t == base)
            out[code] = (key, match[0] if match else None)
            break
    return out


def lookalikes(config: Config, records: pd.DataFrame) -> list[Problem]:
    """A warning for each indicator that looks like a year to date or a rolling total and
    is not linked: by its title, or because it never falls within a reporting year and is
    never below another monthly count. Restricted (it rests on the figures)."""
    unlinked = [i for i in config.indicators if not i.links()]
    titles = drafted_links({i.code: i.title for i in config.indicators})
    out = []
    for ind in unlinked:
        if ind.code in titles:
            key, base = titles[ind.code]
            out.append(_lookalike(ind.code, key, base, "its title says so"))
    running = _running_totals(config, records, {i.code for i in unlinked} - set(titles))
    for code, base in running:
        out.append(_lookalike(code, "year_to_date_of", base,
                              f"its figures never fall within a year and are never below "
                              f"{base}'s"))
    return sorted(out, key=lambda p: p.indicator or "")


def _lookalike(code: str, key: str, base: str | None, why: str) -> Problem:
    said = f"{key}: {base}" if base else key
    return Problem(Severity.WARNING, "indicators.yaml", None, key,
                   f"{code} looks like a total of another indicator ({why}) but has no link: "
                   f"if it is, say so ({said}), or a reader may subtract to a figure the "
                   "public edition hides", code, kind=LOOKALIKE)


def _running_totals(config: Config, records: pd.DataFrame,
                    candidates: set[str]) -> list[tuple[str, str]]:
    """(code, base) for each monthly count among `candidates` that behaves like a running
    total (`_rises_and_resets`) and is at least
    another monthly count's figure every month both have, and above it in some."""
    counts = {i.code for i in config.indicators
              if i.unit is Unit.COUNT and i.frequency.value == "monthly"}
    if records.empty:
        return []
    by_code: dict[str, dict[int, float]] = {}
    for r in records.itertuples(index=False):
        v, code = opt_float(r.value), str(r.indicator)
        if code in counts and v is not None and not math.isnan(v) \
                and frequency_of(str(r.period)).value == "monthly":
            by_code.setdefault(code, {})[period_index(str(r.period))] = v
    out = []
    for code in sorted(candidates & set(by_code)):
        mine = by_code[code]
        if not _rises_and_resets(mine):
            continue
        for base in sorted(set(by_code) - {code}):
            both = set(mine) & set(by_code[base])
            if len(both) >= 3 and all(mine[i] >= by_code[base][i] for i in both) \
                    and any(mine[i] > by_code[base][i] for i in both):
                out.append((code, base))
                break
    return out


def _rises_and_resets(mine: dict[int, float]) -> bool:
    """Never falls month on month within a reporting year (three months or more), rises
    within one, and falls at each April the figures cross. A level series (30 every
    month) is not a running total: a year to date grows as the year does."""
    steps = [(i, mine[i - 1], v) for i, v in mine.items() if i - 1 in mine]
    within = [(before, v) for i, before, v in steps if (i % 12) + 1 != YEAR_STARTS]
    resets = [(before, v) for i, before, v in steps if (i % 12) + 1 == YEAR_STARTS]
    return len(within) >= 2 and all(v >= before for before, v in within) \
        and any(v > before for before, v in within) and all(v < before for before, v in resets)
