"""Sentences shared by outputs read side by side say the same thing in each (issue 25): the
paper and the workbook, for each edition, built by the real pipeline from files."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from tasks import pipeline
from tasks.presenting.render import render_html
from tasks.presenting.spreadsheets import briefing_workbook, read_cells
from tasks.presenting.wording import deep_dive_reason
from tasks.settings.formatting import Edition
from tests.test_disclosure import CYCLE, GENERATED, Scenario, run, series

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
    figures = pipeline.edition_figures(out.inputs, out.analysed, edition)
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
