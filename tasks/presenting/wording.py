"""Sentences that more than one output says: written once, here, so that the paper, the
workbook, the emails, Prefect's artifacts and the deep-dive packs, read side by side, can
never say different things about the same figure.

The copies had drifted (issue 25): for a run of declines resting on figures an edition
withholds, the paper said "at least", the workbook did not; the workbook's notes, its
reasons for listing an exception, its suggested question for a neutral indicator and its
SPC words each differed from the paper's. Every output now takes its words from here;
`tests/unit/presenting/test_wording.py` holds them to it, edition by edition.
"""

from __future__ import annotations

from tasks.analysing.results import IndicatorResult, Rating
from tasks.reading.problems import CONTESTED_TEXT, WITHHELD_TEXT
from tasks.settings.config import Config, Indicator, Polarity
from tasks.settings.formatting import SUPPRESSED, Edition, fmt_change, fmt_value, target_label
from tasks.settings.periods import Frequency, frequency_of, label, shift

NOT_PUBLISHED = "Not published"  # a rating, direction, flag or reading that rests on c
SMALL_FIGURES = "figures about small numbers of children, which are not published"
SMALL_FIGURE_NOTE = "The figure is a small number and is not published (c)."
EDITION_LABELS = {
    Edition.PUBLIC: "Public edition: small numbers are not published (c)",
    Edition.RESTRICTED: "Restricted edition: not for publication. Contains figures about "
                        "small numbers of children",
}
SPC_NOT_SHOWN = "SPC not shown for small numbers"


def spc_too_few(points: int, needed: int) -> str:
    """An SPC reading that needs more points than the chart has."""
    return f"Too few points for SPC ({points} of {needed})"


def unit_of_time(period: str) -> str:
    """The periods an indicator is reported in, as a reader counts them."""
    return {Frequency.MONTHLY: "months", Frequency.QUARTERLY: "quarters",
            Frequency.ANNUAL: "years"}[frequency_of(period)]


def names_owners(config: Config, public: bool) -> bool:
    """Whether an edition names people (owners, authors) or gives their role alone: the
    public edition names them only when briefing.yaml's publish_owner_names says so."""
    return not public or config.briefing.publish_owner_names


def owner_text(config: Config, owner_id: str, public: bool) -> str:
    """An owner as an edition prints them: "name, role", or the role alone."""
    owner = config.owners[owner_id]
    return f"{owner.name}, {owner.role}" if names_owners(config, public) else owner.role


def deep_dive_reason(r: IndicatorResult, needed: int) -> str | None:
    """Why an indicator needs a deep dive, or why that is not published; None when it needs
    none. Without a closing full stop: callers end it."""
    unit = unit_of_time(r.period)
    if r.deep_dive is None:
        return (f"Deep dive not published: whether it got worse in each of the last {needed} "
                f"{unit} rests on {SMALL_FIGURES}")
    if r.deep_dive is not True:
        return None
    n = r.consecutive_declines
    if r.declines_exact:
        return (f"Deep dive: worse in each of the last {n} consecutive {unit} (the rule is "
                f"{needed}), since {label(shift(r.period, -n))}")
    return (f"Deep dive: worse in each of at least the last {n} consecutive {unit} (the rule "
            f"is {needed})")


def deep_dive_flag(r: IndicatorResult) -> str:
    """The deep-dive column: Yes (with the run), No, or not published."""
    if r.deep_dive is None:
        return NOT_PUBLISHED
    if not r.deep_dive:
        return "No"
    least = "" if r.declines_exact else "at least "
    return f"Yes ({least}{r.consecutive_declines} in a row)"


def no_deep_dives(needed: int, unknown: bool) -> str:
    """No indicator met the deep-dive rule (as far as the published figures show)."""
    return (f"No indicator has got worse in each of the last {needed} reporting periods"
            + (" as far as the published figures show." if unknown else "."))


def deep_dives_unknown(names: list[str]) -> str:
    """The indicators whose deep-dive flag rests on a figure the edition withholds."""
    n = len(names)
    return (f"Whether {n} more {'needs' if n == 1 else 'need'} a deep dive rests on "
            f"{SMALL_FIGURES}: " + "; ".join(names) + ".")


def shown_value(ind: Indicator, r: IndicatorResult, name: str, value: float | None) -> str:
    """A figure as the paper prints it: `c` when the edition withholds it."""
    return SUPPRESSED if r.is_withheld(name) else fmt_value(ind.unit, value, ind.decimals)


def source_error_reasons(r: IndicatorResult) -> list[str]:
    """A figure withheld for an error in the export: where, so it can be put right."""
    if r.source_error is None:
        return []
    if r.source_error == CONTESTED_TEXT:
        return [f"Not published in this edition: {CONTESTED_TEXT}."]
    return [f"{WITHHELD_TEXT[0].upper()}{WITHHELD_TEXT[1:]} ({r.source_error}): the figure "
            f"for {label(r.period)} is not used or stored until the export is corrected."]


def exception_reasons(ind: Indicator, r: IndicatorResult, needed: int) -> list[str]:
    """Why an indicator is listed among the exceptions, one sentence each: its rating, its
    run of declines, and why one that is not red is listed at all (said, never guessed)."""
    out: list[str] = []
    target = target_label(ind.unit, ind.target, ind.polarity, ind.decimals)
    if r.rag is Rating.RED and ind.target is not None:
        tail = ""
        if r.value is not None:
            gap = fmt_change(ind.unit, abs(r.value - ind.target),
                             decimals=ind.decimals).lstrip("+")
            tail = f", {gap} outside the target"
        out.append(f"Red: {shown_value(ind, r, 'value', r.value)} against a target of "
                   f"{target}{tail}.")
    elif r.rag is Rating.WITHHELD:
        out.append(f"Rating not published: whether it meets the target of {target} rests on "
                   f"{SMALL_FIGURES}.")
    if (dive := deep_dive_reason(r, needed)) is not None:
        out.append(f"{dive}.")
    rated = {Rating.GREEN: f"it is Green, meeting its target of {target}",
             Rating.AMBER: f"it is Amber, within the tolerance of its target of {target}",
             Rating.NONE: "it has no target, so no rating"}
    if r.breach is not False and r.deep_dive is True and r.rag in rated:
        out.append(f"Listed for the deep dive, not for its rating: {rated[r.rag]}.")
    return out


def indicator_notes(ind: Indicator, r: IndicatorResult, cycle: str, needed: int,
                    public: bool, min_denominator: float) -> list[str]:
    """What a reader needs to know to read the figure: its period, a gap, a small number,
    the quality of the return it was computed from."""
    notes: list[str] = []
    period = r.period
    hidden = r.is_withheld("value")
    has_figure = r.value is not None or hidden
    if period != cycle:
        how = {Frequency.ANNUAL: "annually"}.get(ind.frequency, ind.frequency.value)
        notes.append(f"Figure for {label(period)} (reported {how}).")
    if not has_figure and r.source_error is None:
        notes.append(f"No figure for {label(period)}: not collected or left blank in the "
                     "export.")
    prev = r.previous_period
    if prev and prev != shift(period, -1) and has_figure:
        notes.append(f"Compared with {label(prev)}, the last "
                     f"{unit_of_time(period)[:-1]} with a figure.")
    if r.chain_gap:
        notes.append(f"No figure for {label(r.chain_gap)}, so the rule of {needed} "
                     "consecutive declines cannot be checked across that gap; the run of "
                     "declines restarts after it.")
    if hidden:
        notes.append(SMALL_FIGURE_NOTE)
    elif r.small_number:
        cases = (f"fewer than {min_denominator:g}" if public or r.denominator is None
                 else f"only {r.denominator:g}")
        notes.append(f"A percentage of {cases} cases: one child moves it a long way, so it "
                     "is shown but does not trigger an alert by itself.")
    return notes + list(r.quality)  # a figure from a return's records: what may be wrong


def committee_question(ind: Indicator, r: IndicatorResult) -> str:
    """The question the committee may ask: the catalogue's, else one for the figure."""
    if r.source_error is not None and r.breach is False:
        return f"When will the corrected figure for {label(r.period)} be available?"
    if ind.question:
        return ind.question
    if ind.polarity is Polarity.NEUTRAL:
        return f"What is driving the level of {ind.title.lower()}, and is it what we expect?"
    return (f"What has caused the change in {ind.title.lower()}, what is being done, and when "
            "will the committee see the effect?")
