"""Stage 2 of a run: this cycle's records over the stored history, the committee's rules,
SPC, benchmarks and the deep-dive register, as `Analysed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from tasks.analysing.benchmarks import compare_with_others, not_compared
from tasks.analysing.compare import analyse
from tasks.analysing.deep_dives import DeepDive, update_register
from tasks.analysing.spc import analyse_spc
from tasks.checking.plausibility import implausible_jumps
from tasks.editions.disclosure import disclosed, revision_problems, small_figures, with_population
from tasks.editions.linked import with_denominators
from tasks.presenting.packs import opened_now
from tasks.reading.deep_dive_entries import DeepDiveEntry
from tasks.reading.problems import Problem, Severity
from tasks.reading.questions import Tracked, track
from tasks.run.inputs import Inputs
from tasks.settings.frames import ANALYSIS, COMPARISONS, FIGURES, PARTS, REVISIONS, SPC
from tasks.store.history import HistoryStore, find_revisions, stored_in


@dataclass
class Analysed:
    """What stage 2 hands on; its frames are tasks.settings.frames': `history` FIGURES,
    `analysis` and `disclosed` ANALYSIS, `revisions` REVISIONS, `benchmarks` COMPARISONS,
    `spc` SPC, `parts` PARTS."""

    history: pd.DataFrame
    analysis: pd.DataFrame
    revisions: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    benchmarks: pd.DataFrame = field(default_factory=COMPARISONS.empty)
    spc: pd.DataFrame = field(default_factory=SPC.empty)
    # The deep-dive register after this cycle, deep_dives.yaml's entry for each, and the
    # deep dives this run opened (tasks.analysing.deep_dives).
    register: list[DeepDive] = field(default_factory=list)
    register_entries: dict[tuple[str, str], DeepDiveEntry] = field(default_factory=dict)
    opened: list[DeepDive] = field(default_factory=list)
    # The same, without the figures only the public edition withholds (Inputs.contested);
    # None when there are none.
    public: Analysed | None = None
    # Breakdowns: this cycle's parts over the stored ones (a figure's parts as this cycle
    # gives them replace the stored), so the period before is there to compare with.
    parts: pd.DataFrame = field(default_factory=PARTS.empty)
    # Figures earlier runs found small (the store's `small_figures`), and those this run
    # finds small or contested, which it stores: what the register decided on them stays
    # out of the public edition for good (tasks.editions.disclosure.edition_results).
    remembered: set[tuple[str, str]] = field(default_factory=set)
    small: set[tuple[str, str]] = field(default_factory=set)
    # The committee's questions after this cycle (tasks.reading.questions.track), to store.
    questions: list[Tracked] = field(default_factory=list)
    # Those remembered figures whose value comes from the store, no export giving them
    # again: a linked one stays hidden (tasks.editions.linked).
    carried: set[tuple[str, str]] = field(default_factory=set)
    # The public edition's analysis (tasks.editions.disclosure.disclosed): the rules over
    # every value each small figure in `history` could hold, and those small figures.
    # Worked out here, once, for the analysis the public edition prints (this one, or
    # `public`); None on the other.
    disclosed: pd.DataFrame | None = None
    hidden: set[tuple[str, str]] = field(default_factory=set)


def compare_with_history(inputs: Inputs, store: HistoryStore) -> Analysed:
    """Merge this run's records over the stored history and apply the committee's rules,
    and update the deep-dive register; again without the contested figures, for the public
    edition, when there are any (the register is the full analysis's)."""
    authority = inputs.config.briefing.authority.code
    history = FIGURES.check(store.history(authority), "the store's history, store → analysing")
    stored = with_denominators(with_population(history, inputs.config), inputs.config)
    analysed = _analyse(inputs, inputs.records, stored, set(inputs.withheld))
    firing = [str(c) for c, d in zip(analysed.analysis["code"],
                                     analysed.analysis["deep_dive"], strict=True) if bool(d)]
    register, entries, dive_problems = update_register(store.deep_dives(authority), firing,
                                                       inputs.deep_dives, inputs.config,
                                                       inputs.cycle)
    parts = merge_parts(inputs.breakdowns,
                        PARTS.check(store.parts(authority), "the store's parts, store → analysing"),
                        inputs.records, inputs.cycle)
    remembered = store.small_figures(authority)
    carried = _carried(remembered, inputs.records)
    shown, hidden = (None, small_figures(analysed.history, inputs.config, carried)) \
        if inputs.contested else disclosed(analysed.history, inputs.config, inputs.cycle,
                                           carried)
    small = hidden | inputs.contested
    analysed = replace(analysed, problems=analysed.problems + dive_problems,
                       register=register, register_entries=entries,
                       opened=opened_now(register, inputs.config, inputs.cycle), parts=parts,
                       remembered=remembered, small=small, carried=carried, disclosed=shown,
                       hidden=hidden if shown is not None else set(),
                       questions=track(inputs.questions, inputs.answers,
                                       store.questions(authority), inputs.config))
    if inputs.contested:
        left_out = set(inputs.withheld) | inputs.contested
        key = pd.MultiIndex.from_frame(inputs.records[["indicator", "period"]])
        public = _analyse(inputs, inputs.records[~key.isin(list(left_out))], stored, left_out)
        public_shown, public_hidden = disclosed(public.history, inputs.config, inputs.cycle,
                                                carried)
        analysed.public = replace(public, problems=public.problems + dive_problems,
                                  register=register, register_entries=entries,
                                  opened=analysed.opened, parts=parts,
                                  remembered=remembered, small=small, carried=carried,
                                  questions=analysed.questions,
                                  disclosed=public_shown, hidden=public_hidden)
    return _handed_on(analysed)


def _handed_on(analysed: Analysed, name: str = "Analysed") -> Analysed:
    """Analysed as stage 2 hands it to the editions and the store, its frames (and the
    public edition's) checked against their schemas (tasks.settings.frames)."""
    for frame, schema, what in (
            (analysed.history, FIGURES, "history"), (analysed.analysis, ANALYSIS, "analysis"),
            (analysed.revisions, REVISIONS, "revisions"),
            (analysed.benchmarks, COMPARISONS, "benchmarks"), (analysed.spc, SPC, "spc"),
            (analysed.parts, PARTS, "parts"), (analysed.disclosed, ANALYSIS, "disclosed")):
        if frame is not None:
            schema.check(frame, f"{name}.{what}, analysing → editions")
    if analysed.public is not None:
        _handed_on(analysed.public, f"{name}.public")
    return analysed


def _carried(remembered: set[tuple[str, str]],
             records: pd.DataFrame) -> set[tuple[str, str]]:
    """The remembered figures no export gives a value for again: their value is the
    store's (what an earlier run hid, as it saw it), or none (left out, marked `c`, an
    error in the cell), and a figure holding them still holds what was hidden
    (tasks.editions.linked)."""
    if not remembered:
        return set()
    known = records[records["value"].notna()]
    return remembered - set(zip(known["indicator"].astype(str),
                                known["period"].astype(str), strict=True))


def merge_parts(current: pd.DataFrame, stored: pd.DataFrame,
                records: pd.DataFrame | None = None, cycle: str = "") -> pd.DataFrame:
    """This cycle's parts, and the stored parts of every figure this cycle does not break
    down itself; less the parts an earlier run of this same cycle stored for a figure
    `records` now give without them (a re-run's export no longer breaks it down), as
    tasks.store.history's commit_cycle will take them away."""
    if records is not None and not records.empty and not stored.empty:
        figures = pd.MultiIndex.from_frame(records[["indicator", "period"]])
        stale = ((stored["file"] == stored_in(cycle))
                 & pd.MultiIndex.from_frame(stored[["indicator", "period"]]).isin(figures))
        stored = stored[~stale]
    if stored.empty:
        return current
    if current.empty:
        return stored
    given = pd.MultiIndex.from_frame(current[["indicator", "period"]])
    older = stored[~pd.MultiIndex.from_frame(stored[["indicator", "period"]]).isin(given)]
    return pd.concat([current, older], ignore_index=True)


def _analyse(inputs: Inputs, records: pd.DataFrame, stored: pd.DataFrame,
             left_out: set[tuple[str, str]]) -> Analysed:
    if left_out:  # a figure withheld now is not shown from an earlier run either
        key = pd.MultiIndex.from_frame(stored[["indicator", "period"]])
        stored = stored[~key.isin(list(left_out))]
    revisions = find_revisions(stored, records)
    problems = revision_problems(revisions, inputs.cycle)
    keys = ["indicator", "period"]
    merged = with_denominators(
        pd.concat([records, stored], ignore_index=True).drop_duplicates(keys), inputs.config)
    analysis = analyse(merged, inputs.config, inputs.cycle)
    problems += implausible_jumps(merged, analysis, inputs.config)
    others = compare_with_others(analysis, inputs.benchmarks, inputs.neighbours, inputs.config)
    problems += [Problem(Severity.INFO, "(published files)", None, None,
                         f"{code} is a count: not compared with other authorities (England, "
                         "region, neighbours, rank), as no population makes it a rate per "
                         "10,000 children (sources.yaml population:)", code)
                 for code in not_compared(inputs.benchmarks, inputs.config)]
    spc = analyse_spc(merged, analysis, inputs.config)
    return Analysed(merged, analysis, revisions, problems, others, spc)
