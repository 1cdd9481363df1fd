"""Figures printed as precisely as their source gives them, and no more.

DfE publishes many percentages as whole numbers (11, not 11.0): printed to the unit's one
decimal place they would read "11.0%" and a change "−3.0 pts", as if known to a tenth. An
indicator read from DfE's published files (`published_as_read`) without `decimals:` in
indicators.yaml is printed at the most decimal places
among the figures this run read for it (its own and its parts', the figures set beside
each other), never more than the unit's own places. A figure the run worked out itself
(a rate per 10,000 from a count and a population) keeps the unit's places. A figure about
1 to 5 children (`tasks.checking.small_numbers.is_small`) has no say: the places a hidden 1 of 3
(33.3%) is written to differ from a 2 of 5's (40%), and the precision is printed in
both editions, so it must not depend on a figure the public edition hides. Setting the
indicator's `decimals` on the config carries it to every place a figure is printed: both
editions, the workbooks, the emails and the deep-dive packs.
"""

from __future__ import annotations

import pandas as pd

from tasks.checking.reconcile import decimals_of
from tasks.checking.small_numbers import is_small
from tasks.reading.sources import DfeSource, Sources
from tasks.reading.values import opt_float
from tasks.settings.config import Config, Indicator
from tasks.settings.formatting import unit_places


def published_as_read(sources: Sources) -> set[str]:
    """Indicators whose figures come from DfE's published files as DfE wrote them (not a
    rate the run works out from a published count and a population). Only these take the
    source's precision: published statistics are public already, so the places they are
    written to tell nothing; a council's own export could write a hidden 1 of 3 as 33.3
    beside whole numbers, and the places printed in both editions would then depend on it
    (found by the disclosure property: "at most 20%" against "at most 20.0%")."""
    return {m.indicator for s in sources.sources if isinstance(s, DfeSource)
            for m in s.measures if not m.rate_per_10k_of}


def source_places(values: pd.Series) -> int | None:
    """The most decimal places among `values` as read (None: no figure at all)."""
    known = [float(v) for v in values.dropna()]
    return max((decimals_of(v) for v in known), default=None)


def _not_small(ind: Indicator, rows: pd.DataFrame) -> pd.Series:
    """The values of `rows` that are not about 1 to 5 children."""
    keep = [not is_small(ind.unit, opt_float(r.value), opt_float(r.numerator),
                         opt_float(r.denominator))
            for r in rows.itertuples(index=False)]
    return rows.loc[keep, "value"] if keep else rows["value"]


def _places(ind: Indicator, records: pd.DataFrame, parts: pd.DataFrame) -> int | None:
    mine = _not_small(ind, records.loc[records["indicator"] == ind.code])
    theirs = (_not_small(ind, parts.loc[parts["indicator"] == ind.code])
              if not parts.empty else None)
    found = [p for p in (source_places(mine),
                         source_places(theirs) if theirs is not None else None)
             if p is not None]
    return max(found) if found else None


def with_source_precision(config: Config, records: pd.DataFrame, parts: pd.DataFrame,
                          published: set[str]) -> Config:
    """The config with each indicator's `decimals` set to its source's precision where
    that is less than its unit's own places and indicators.yaml sets none."""
    changed = []
    for ind in config.indicators:
        places = None
        if ind.decimals is None and ind.code in published:
            places = _places(ind, records, parts)
        if places is not None and places < unit_places(ind.unit):
            changed.append(ind.model_copy(update={"decimals": places}))
        else:
            changed.append(ind)
    if all(a is b for a, b in zip(changed, config.indicators, strict=True)):
        return config
    return config.model_copy(update={"indicators": changed})
