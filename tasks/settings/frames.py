"""The DataFrames that pass between a run's stages, each named once with its columns.

A `Schema` is a frame's columns in order and the kind of each (text, number, flag, or any
Python value), with who makes it and who reads it. `empty()` makes the frame with no rows;
`check(frame, where)` raises FrameError, naming the schema, the boundary `where`, and the
columns missing, unexpected or of the wrong kind, when a frame breaks it. The check reads
column names and dtypes, no Python loop over rows, so a boundary costs nothing to check. An
object column said to hold text has its values' type inferred (one pass, in pandas' C),
as an object dtype holds anything: a number among the text is refused. A column's values
are otherwise looked at only when its dtype is not of its kind, to see whether it has any:
a column with no value in it (no rows, or every value missing) is of any kind, as pandas
gives such a column whatever dtype it likes. Anything but a DataFrame is refused too. The
order of the columns is how a frame is made (`empty()`, and the modules that build one),
not checked: a frame is read by name.

The checks are at the boundaries of a run's steps (docs/architecture.md, "Frames between
stages"): tasks.run.inputs (the records read; Inputs, handed to the analysis) and
tasks.run.analysis (the store's history and parts; Analysed, handed to the editions and
the store).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

import pandas as pd
from pandas.api import types


class Kind(Enum):
    """What a column holds, as its dtype says."""

    TEXT = "text"  # strings (missing as None or NaN): an object or str dtype
    NUMBER = "number"  # ints or floats (missing as NaN): a numeric dtype, not bool
    FLAG = "flag"  # True or False: a bool dtype
    ANY = "any"  # Python values not checked: a list, a dict, a row number or None


TEXT, NUMBER, FLAG, ANY = Kind.TEXT, Kind.NUMBER, Kind.FLAG, Kind.ANY
# The dtype each kind's column has in an empty frame.
EMPTY_DTYPES = {TEXT: "object", NUMBER: "float64", FLAG: "bool", ANY: "object"}


class FrameError(Exception):
    """A frame that breaks its schema where one stage hands it to the next: a fault in the
    code that made it (its traceback is wanted), not in the exports."""


def _of_kind(column: pd.Series, kind: Kind) -> bool:
    """Whether a column holds `kind`: from its dtype, and for text in an object column from
    the type pandas infers of its values (strings, or none at all)."""
    dtype = column.dtype
    if kind is TEXT:
        if types.is_object_dtype(dtype):
            return types.infer_dtype(column, skipna=True) in ("string", "empty")
        return types.is_string_dtype(dtype)
    if kind is NUMBER:
        return (types.is_numeric_dtype(dtype) and not types.is_bool_dtype(dtype)
                and not types.is_complex_dtype(dtype))
    if kind is FLAG:
        return types.is_bool_dtype(dtype)
    return True


@dataclass(frozen=True, eq=False)
class Schema:
    """A frame's name, who makes it and who reads it (`doc`), and its columns in order
    with their kinds."""

    name: str
    doc: str
    kinds: Mapping[str, Kind]

    @property
    def columns(self) -> list[str]:
        """The columns in order (a new list: a caller may add to it)."""
        return list(self.kinds)

    def empty(self) -> pd.DataFrame:
        """The frame with no rows: each column of its kind's dtype (EMPTY_DTYPES)."""
        return pd.DataFrame({c: pd.Series(dtype=EMPTY_DTYPES[k])
                             for c, k in self.kinds.items()})

    def check(self, frame: pd.DataFrame, where: str) -> pd.DataFrame:
        """`frame`, when it has this schema's columns, each of its kind; else FrameError
        naming the schema, the boundary `where` and every column at fault."""
        if not isinstance(frame, pd.DataFrame):
            raise FrameError(f"the {self.name} frame at {where} is not a DataFrame: "
                             f"{type(frame).__name__} (tasks.settings.frames)")
        given = list(frame.columns)
        faults = []
        missing = [c for c in self.kinds if c not in given]
        if missing:
            faults.append(f"missing column(s) {_names(missing)}")
        unexpected = [c for c in given if c not in self.kinds]
        if unexpected:
            faults.append(f"unexpected column(s) {_names(unexpected)}")
        repeated = sorted({str(c) for c in given if given.count(c) > 1})
        if repeated:
            faults.append(f"column(s) given more than once {_names(repeated)}")
        wrong = [f"{c!r} is {_held(frame[c])}, not {self.kinds[c].value}"
                 for c in given if c in self.kinds and c not in repeated
                 and not _of_kind(frame[c], self.kinds[c])
                 and not frame[c].isna().all()]
        if wrong:
            faults.append(f"wrong kind: {'; '.join(wrong)}")
        if faults:
            raise FrameError(f"the {self.name} frame at {where} breaks its schema "
                             f"(tasks.settings.frames): {'; '.join(faults)}")
        return frame


def _held(column: pd.Series) -> str:
    """What a column holds, for a message: its dtype, and for an object column what pandas
    infers of its values ("object of mixed-integer")."""
    if types.is_object_dtype(column.dtype):
        return f"object of {types.infer_dtype(column, skipna=True)}"
    return str(column.dtype)


def _names(columns: list[str]) -> str:
    return ", ".join(repr(str(c)) for c in columns)


# Each frame, in the order a run makes them.

RECORDS = Schema("records", (
    "Canonical records, one per value cell read: made by tasks.reading.ingest (the "
    "exports) and tasks.returns (figures computed from child-level returns); read by "
    "tasks.checking (validate, reconcile), which choose FIGURES from them. `error`: the "
    "heading of a cell found faulty (its figure is withheld, never stored), or None."), {
        "file": TEXT, "row": NUMBER, "column": TEXT, "indicator": TEXT, "period": TEXT,
        "value": NUMBER, "numerator": NUMBER, "denominator": NUMBER, "authority": TEXT,
        "percent_sign": FLAG, "reason": TEXT, "error": TEXT, "money_sign": FLAG})

BENCHMARKS = Schema("benchmarks", (
    "Every geography's published values, from DfE's files: made by tasks.reading.ingest "
    "(Inputs.benchmarks); read by tasks.analysing.benchmarks, which makes COMPARISONS. "
    "`population`: the area's children, to make a count a rate."), {
        "indicator": TEXT, "period": TEXT, "level": TEXT, "area": TEXT, "name": TEXT,
        "region": TEXT, "value": NUMBER, "reason": TEXT, "population": NUMBER})

PARTS = Schema("parts", (
    "The parts of figures (by team, locality, age band): made by tasks.reading.ingest "
    "(breakdown columns) and tasks.returns (computed parts), checked by "
    "tasks.analysing.breakdowns.check_parts (Inputs.breakdowns), and returned by the store "
    "(HistoryStore.parts, `file` naming the cycle that stored them); read by "
    "tasks.analysing.breakdowns (Analysed.parts) for the editions and papers. `sign`: % or "
    "£ when the value was written with one; `column`: the value's heading; `row`: the row, "
    "or None for a stored part."), {
        "indicator": TEXT, "period": TEXT, "breakdown": TEXT, "part": TEXT, "value": NUMBER,
        "numerator": NUMBER, "denominator": NUMBER, "file": TEXT, "row": ANY,
        "authority": TEXT, "sign": TEXT, "column": TEXT})

FIGURES = Schema("figures", (
    "One figure per indicator and period, as the briefing uses it: made by "
    "tasks.checking.reconcile from RECORDS (Inputs.records) and returned by the store "
    "(HistoryStore.history: earlier cycles'); the two merged are Analysed.history. Read by "
    "tasks.analysing (compare, spc), tasks.editions (disclosure, linked), the papers and "
    "the store (commit_cycle)."), {
        "indicator": TEXT, "period": TEXT, "value": NUMBER, "numerator": NUMBER,
        "denominator": NUMBER})

_REVISED = {"indicator": TEXT, "period": TEXT, "old_value": NUMBER, "new_value": NUMBER}
REVISIONS = Schema("revisions", (
    "This run's figures that differ from the stored ones, with both figures' counts (so "
    "that the public edition can tell a small one): made by "
    "tasks.store.history.find_revisions in tasks.run.analysis (Analysed.revisions); read by "
    "tasks.editions.disclosure, the summary and the store (commit_cycle)."), {
        **_REVISED, "old_numerator": NUMBER, "old_denominator": NUMBER,
        "new_numerator": NUMBER, "new_denominator": NUMBER})

REVISION_LOG = Schema("revision log", (
    "Every revision the store has committed for an authority, with the cycle that made "
    "it: returned by the store (HistoryStore.revisions), for an audit; no stage reads it."),
    {**_REVISED, "cycle": TEXT})

ANALYSIS = Schema("analysis", (
    "One row per catalogue indicator at its latest period, with every comparison the "
    "briefing shows: made by tasks.analysing.compare.analyse (Analysed.analysis; and "
    "Analysed.disclosed, the public edition's, over the ranges small figures could hold); "
    "read by tasks.editions.disclosure (edition_results) for the papers. The last four "
    "columns say what a hidden figure leaves undetermined; `withheld`: the numbers hidden, "
    "as a list."), {
        "code": TEXT, "period": TEXT, "value": NUMBER, "target": NUMBER, "tolerance": NUMBER,
        "polarity": TEXT, "rag": TEXT, "previous": NUMBER, "previous_period": TEXT,
        "change": NUMBER, "direction": TEXT, "consecutive_declines": NUMBER,
        "deep_dive": FLAG, "chain_gap": TEXT, "year_ago": NUMBER, "owner": TEXT,
        "breach": FLAG, "direction_3": TEXT, "direction_6": TEXT, "direction_12": TEXT,
        "denominator": NUMBER, "small_number": FLAG, "min_change": NUMBER,
        "deep_dive_possible": FLAG, "declines_most": NUMBER, "breach_possible": FLAG,
        "withheld": ANY})

SPC = Schema("SPC", (
    "Statistical process control for each indicator over its chart window: made by "
    "tasks.analysing.spc.analyse_spc (Analysed.spc); read by tasks.analysing.results "
    "(spc_result) for the editions, papers, packs and summary. `settings`: the rule set's "
    "(a dict); `rules`, `points`, `segments`: lists."), {
        "code": TEXT, "method": TEXT, "settings": ANY, "n": NUMBER, "n_chart": NUMBER,
        "enough_points": FLAG, "mean": NUMBER, "lower": NUMBER, "upper": NUMBER,
        "near_lower": NUMBER, "near_upper": NUMBER, "trial": FLAG, "variation": TEXT,
        "assurance": TEXT, "rules": ANY, "latest_side": TEXT, "both_ways": FLAG,
        "points": ANY, "segments": ANY})

COMPARISONS = Schema("comparisons", (
    "How the authority compares with England, its region and its statistical neighbours, "
    "and its rank, one row per indicator with published values for its period: made by "
    "tasks.analysing.benchmarks.compare_with_others from BENCHMARKS (Analysed.benchmarks); "
    "read by tasks.editions.disclosure (edition_results). `sn_missing`: the neighbours "
    "with no figure, as a list."), {
        "code": TEXT, "period": TEXT, "england": NUMBER, "region": NUMBER,
        "region_name": TEXT, "sn_mean": NUMBER, "sn_median": NUMBER, "sn_count": NUMBER,
        "sn_missing": ANY, "rank": NUMBER, "of": NUMBER, "quartile": NUMBER, "basis": TEXT,
        "own": NUMBER})

SCHEMAS = (RECORDS, BENCHMARKS, PARTS, FIGURES, REVISIONS, REVISION_LOG, ANALYSIS, SPC,
           COMPARISONS)
