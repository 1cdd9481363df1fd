"""Figures that look related but are not linked, beyond running totals (`validate`).

The public edition protects only the links `indicators.yaml` declares (tasks.editions.linked).
A percentage given alone beside a published count that is its denominator gives its
numerator away (10% of 100 referrals is 10 children); a total published beside its part
gives the other parts away (the total less the part). Neither can be protected unless the
catalogue says so, so `validate` says where the figures look that way. Restricted: each
warning rests on the figures (kind LOOKALIKE, left out of the public edition).
"""

from __future__ import annotations

import math
import re

import pandas as pd

from tasks.editions.linked import LOOKALIKE
from tasks.reading.problems import Problem, Severity
from tasks.reading.values import opt_float
from tasks.settings.config import Config, Indicator, Unit

Series = dict[str, float]  # period -> value
_TOTAL_WORDS = re.compile(r"\b(total|all|overall)\b", re.I)
# Words too common in titles to show that two indicators count the same children.
_COMMON = frozenset({
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the",
    "to", "with", "within", "who", "children", "child", "young", "people", "number", "per",
    "cent", "percentage", "rate"})
_MIN_PERIODS = 3  # periods in common before figures are taken to behave alike


def unlinked_related(config: Config, records: pd.DataFrame) -> list[Problem]:
    """The warnings for percentages that cannot be counted and totals beside a part."""
    if records.empty:
        return []
    series = _series(records)
    out = uncountable_percentages(config, records, series)
    out += totals_beside_parts(config, series)
    return sorted(out, key=lambda p: p.indicator or "")


def _series(records: pd.DataFrame) -> dict[str, Series]:
    out: dict[str, Series] = {}
    for r in records.itertuples(index=False):
        v = opt_float(r.value)
        if v is not None and not math.isnan(v):
            out.setdefault(str(r.indicator), {})[str(r.period)] = v
    return out


def _words(title: str) -> set[str]:
    return {w for w in re.sub(r"[^\w]+", " ", title).lower().split()
            if w not in _COMMON and not w.isdigit()}


def _plain(title: str) -> str:
    return " ".join(re.sub(r"[^\w%]+", " ", title).lower().split())


def _counts_like(config: Config, ind: Indicator) -> list[Indicator]:
    """Published counts of the same frequency as `ind`, other than it."""
    return [i for i in config.indicators if i.code != ind.code and i.unit is Unit.COUNT
            and i.frequency == ind.frequency]


def uncountable_percentages(config: Config, records: pd.DataFrame,
                            series: dict[str, Series]) -> list[Problem]:
    """A warning for each percentage given without its counts and with no `denominator_from`
    (a rate per 10,000 has its own warning, tasks.editions.disclosure.uncounted_rates): the
    public edition cannot tell whether it is 1 to 5 children. Names the published counts
    that could be its denominator, the likeliest first."""
    alone = records[records["value"].notna() & records["numerator"].isna()
                    & records["denominator"].isna()]
    given_alone = set(alone["indicator"].astype(str))
    out = []
    for ind in config.indicators:
        if ind.unit is not Unit.PERCENT or ind.denominator_from is not None \
                or ind.code not in given_alone:
            continue
        likely = _likely_denominators(ind, _counts_like(config, ind), series)
        out.append(Problem(Severity.WARNING, "indicators.yaml", None, "denominator_from",
                           _uncountable_message(ind.code, likely), ind.code, kind=LOOKALIKE))
    return out


def _uncountable_message(code: str, likely: list[str]) -> str:
    said = (f"{code} is a percentage given without its numerator or denominator and has no "
            "denominator_from: the public edition cannot tell whether it is 1 to 5 children, "
            "and prints it. ")
    if likely:
        others = f" (or {', '.join(likely[1:3])})" if len(likely) > 1 else ""
        said += (f"It looks like a percentage of {likely[0]}{others}, published beside it, "
                 f"so a reader can count the children behind it: if so, say "
                 f"`denominator_from: {likely[0]}`; otherwise add")
    else:
        said += "Add"
    return said + (" numerator and denominator columns to the export, or name the count it "
                   "is a percentage of (denominator_from)")


def _likely_denominators(ind: Indicator, counts: list[Indicator],
                         series: dict[str, Series]) -> list[str]:
    """Counts that could be `ind`'s denominator: the percentage of the count is a whole
    number of children in every period both have, or the titles share a word. Those with
    both signs first."""
    mine, words = series.get(ind.code, {}), _words(ind.title)
    ranked: list[tuple[int, str]] = []
    for c in counts:
        theirs = series.get(c.code, {})
        both = [p for p in mine if p in theirs and theirs[p] > 0]
        whole = bool(both) and all(_whole(mine[p] * theirs[p] / 100) for p in both)
        shared = bool(words & _words(c.title))
        if whole or shared:
            ranked.append((-(2 * whole + shared), c.code))
    return [code for _, code in sorted(ranked)]


def _whole(x: float) -> bool:
    return abs(x - round(x)) < 1e-6 * max(1.0, abs(x))


def totals_beside_parts(config: Config, series: dict[str, Series]) -> list[Problem]:
    """A warning for each count whose title says it is a total (total, all, overall) and
    that has no `sum_of`, where another count of the same frequency is never above it in
    the periods both have and either the difference barely moves (the other parts are
    steady: the total less them gives the part) or the other's title is within its own."""
    out = []
    for ind in config.indicators:
        if ind.unit is not Unit.COUNT or ind.sum_of or not _TOTAL_WORDS.search(ind.title):
            continue
        parts = [c.code for c in _counts_like(config, ind)
                 if _looks_like_part(series.get(ind.code, {}), series.get(c.code, {}),
                                     ind.title, c.title)]
        if not parts:
            continue
        theirs = " and ".join(f"{p}'s" for p in parts)
        out.append(Problem(
            Severity.WARNING, "indicators.yaml", None, "sum_of",
            f"{ind.code} looks like a total of {', '.join(parts)} (its title says it is a total, "
            f"and {theirs} figures are never above "
            f"{ind.code}'s) but has no sum_of: if it is, say so, listing every part (sum_of: "
            f"[{', '.join(parts)}, ...]), or a reader may subtract to a figure the public "
            "edition hides",
            ind.code, kind=LOOKALIKE))
    return out


def _looks_like_part(total: Series, part: Series, total_title: str, part_title: str) -> bool:
    both = [p for p in total if p in part]
    if len(both) < _MIN_PERIODS or any(part[p] > total[p] for p in both):
        return False
    inner = _plain(_TOTAL_WORDS.sub(" ", part_title))
    if inner and f" {inner} " in f" {_plain(_TOTAL_WORDS.sub(' ', total_title))} ":
        return True
    gaps = [total[p] - part[p] for p in both]
    spread = max(gaps) - min(gaps)
    return min(gaps) > 0 and spread <= max(1.0, 0.05 * sorted(gaps)[len(gaps) // 2])
