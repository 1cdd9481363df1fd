"""Sentences shared by outputs read side by side say the same thing in each (issue 25): the
paper and the workbook, for each edition, built by the real pipeline from files."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from bs4 import BeautifulSoup

from tasks.analysing.results import Direction, IndicatorResult, Rating
from tasks.delivering.notify import plan_notices
from tasks.editions.disclosure import EditionResults
from tasks.presenting.artifacts import md, summary_markdown
from tasks.presenting.context import build_context
from tasks.presenting.render import render_html
from tasks.presenting.spreadsheets import briefing_workbook, read_cells
from tasks.presenting.wording import (
    committee_question,
    deep_dive_flag,
    deep_dive_reason,
    deep_dives_unknown,
    exception_reasons,
    indicator_notes,
    no_deep_dives,
    owner_text,
)
from tasks.run.papers import edition_figures
from tasks.settings.config import Config, load_config
from tasks.settings.formatting import Edition
from tests.conftest import DEMO_CONFIG
from tests.disclosure_scenarios import CYCLE, GENERATED, Scenario, run, series

# Lower is better: 6%, then 1 to 5 children of 50 (2% to 10%), then 12%, 13%, 14%. From
# the hidden figure on, worse every month whatever it is; the month before it is worse
# only when it is 4 or 5 of 50. The public edition may say "at least the last 3"; the
# restricted one, knowing the figure (5 here), says "the last 4", since June.
INEXACT_RUN = Scenario(
    kind="percent", polarity="lower_is_better", target=None, tolerance=0.0, min_change=0.0,
    consecutive=2, counts=series(6, 0, 12, 13, 14),
    denominators=(100.0, 50.0, 100.0, 100.0, 100.0), hidden_at=1)


def paper_text(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def why_listed(xlsx: bytes, code: str) -> str:
    rows = read_cells(xlsx)["Exceptions"]
    col = rows[0].index("Why it is listed")
    (row,) = [r for r in rows[1:] if code in r]
    return str(row[col])


@pytest.mark.parametrize(("edition", "expected"), [
    (Edition.PUBLIC, "Deep dive: worse in each of at least the last 3 consecutive months "
                     "(the rule is 2)"),
    (Edition.RESTRICTED, "Deep dive: worse in each of the last 4 consecutive months "
                         "(the rule is 2), since June 2024")])
def test_paper_and_workbook_give_the_same_reason_for_a_run_of_declines(
        edition: Edition, expected: str) -> None:
    out = run(INEXACT_RUN, 5)
    figures = edition_figures(out.inputs, out.analysed, edition)
    (result,) = [r for r in figures.results if r.code == "K1"]
    assert result.declines_exact is (edition is Edition.RESTRICTED)
    assert deep_dive_reason(result, 2) == expected
    paper = paper_text(render_html(out.rendered.contexts[edition]))
    workbook = why_listed(briefing_workbook(out.inputs.config, figures, CYCLE, GENERATED),
                          "K1")
    assert f"{expected}." in paper
    assert expected in workbook
    # Neither says the other edition's words, nor any other run of declines.
    runs = re.compile(r"worse in each of (?:at least )?the last \d+[^.;]*")
    assert set(runs.findall(workbook)) == {expected.removeprefix("Deep dive: ")}
    assert expected.removeprefix("Deep dive: ") in set(runs.findall(paper))


# --- Every output, built from one result (pure: no files, store or engine) ----------------

NOTHING = IndicatorResult(
    code="", period=CYCLE, value=None, previous=None, previous_period=None, change=None,
    year_ago=None, rag=Rating.NONE, direction=Direction.NONE, trends=(),
    consecutive_declines=0, declines_exact=True, deep_dive=False, chain_gap=None,
    breach=False, denominator=None, small_number=False, chart=())


# FD01 (a percentage, higher is better, target 95) and FD02 (a neutral rate, no question in
# the catalogue): each case a result an edition could hold, and the sentences it must get.
CASES = {
    "red, inexact run, few cases": ("FD01", dict(
        value=80.0, rag=Rating.RED, consecutive_declines=3, declines_exact=False,
        deep_dive=True, breach=True, small_number=True, denominator=8.0)),
    "rating and deep dive withheld": ("FD01", dict(
        rag=Rating.WITHHELD, deep_dive=None, breach=None, withheld=frozenset({"value"}))),
    "listed for the run alone, neutral": ("FD02", dict(
        value=310.0, previous_period="2024-08", consecutive_declines=2, deep_dive=True,
        breach=True)),
}


def _one_indicator(code: str) -> Config:
    config = load_config(DEMO_CONFIG)
    return config.model_copy(update={"indicators": [config.by_code()[code]]})


def _sheet_row(xlsx: bytes, sheet: str, code: str) -> dict[str, object]:
    rows = read_cells(xlsx)[sheet]
    (row,) = [r for r in rows[1:] if code in r]
    return dict(zip(rows[0], row, strict=True))


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("edition", list(Edition))
def test_each_output_says_the_same_sentences(case: str, edition: Edition) -> None:
    """The paper, the workbook, the owner's email and Prefect's artifact take the words
    for one figure from tasks.presenting.wording: reasons, notes, question, flag and owner alike."""
    code, fields = CASES[case]
    config = _one_indicator(code)
    ind = config.by_code()[code]
    r = replace(NOTHING, code=code, **fields)
    public = edition is Edition.PUBLIC
    figures = EditionResults(edition, [r], [], public)
    ctx = build_context(config, figures, CYCLE)
    needed = config.briefing.rules.consecutive_declines
    reasons = exception_reasons(ind, r, needed)
    notes = indicator_notes(ind, r, CYCLE, needed, public,
                            config.briefing.rules.min_denominator)
    question, owner = committee_question(ind, r), owner_text(config, ind.owner, public)
    assert reasons and question and owner
    paper = paper_text(render_html(ctx))
    for sentence in [*reasons, *notes, question, f"Owner: {owner}"]:
        assert sentence in paper, sentence
    xlsx = briefing_workbook(config, figures, CYCLE, GENERATED)
    exception = _sheet_row(xlsx, "Exceptions", code)
    assert exception["Why it is listed"] == " ".join(reasons)
    assert exception["Question for the committee"] == question
    assert exception["Owner"] == owner
    row = _sheet_row(xlsx, "Indicators", code)
    assert (row["Notes"] or "") == " ".join(notes)
    assert row["Deep dive"] == exception["Deep dive"] == deep_dive_flag(r)
    if public:  # the artifact is the public edition's; owners' emails the restricted one
        artifact = summary_markdown(ctx, [])
        assert f"deep dive: {deep_dive_flag(r)}; owner: {owner}" in artifact
        if r.deep_dive is not True:  # the paper's summary and the artifact's deep dives
            said = no_deep_dives(needed, r.deep_dive is None)
            assert said in paper and said in artifact
        if r.deep_dive is None:
            assert deep_dives_unknown([ind.title]) in paper
            assert deep_dives_unknown([f"{md(ind.title)} ({code})"]) in artifact
    else:
        # (The recipients' messages, planned from the public context too, are not read.)
        (email,) = [n.text for n in plan_notices(config, dict.fromkeys(Edition, ctx))
                    if n.owner == ind.owner]
        email = " ".join(email.split())
        for sentence in [*reasons, *notes, question]:
            assert sentence in email, sentence
