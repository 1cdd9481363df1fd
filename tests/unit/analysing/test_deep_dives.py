"""The deep-dive register, deep_dives.yaml, and the impact of the actions agreed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup

from tasks.analysing.deep_dives import (
    DEEP_DIVES_FILE,
    DeepDive,
    Status,
    Verdict,
    impact,
    period_of,
    read_deep_dives,
    update_register,
    verdict_text,
)
from tasks.delivering.summary import Summary, build_summary
from tasks.presenting.context import build_context
from tasks.presenting.render import render_html
from tasks.reading.deep_dive_entries import Action, DeepDiveEntry
from tasks.reading.problems import Severity
from tasks.run.analysis import Analysed, compare_with_history
from tasks.run.inputs import Inputs, validate_exports
from tasks.run.papers import dates_for, edition_figures
from tasks.settings.formatting import Edition
from tasks.settings.periods import Frequency, shift
from tasks.store.history import SqlHistoryStore, default_store_url
from tests.conftest import TODAY
from tests.factories import make_config, make_history

CONFIG = make_config([{"code": "K1", "title": "Plans reviewed on time",
                       "polarity": "higher_is_better"},
                      {"code": "K2", "title": "Repeat referrals", "polarity": "lower_is_better",
                       "owner": "o2", "min_change": 0.5},
                      {"code": "K3", "title": "Contacts", "polarity": "neutral"}])
IND = CONFIG.by_code()


# --- deep_dives.yaml ------------------------------------------------------------------------

def _read(tmp_path: Path, text: str, cycle: str = "2024-10") -> list[str]:
    (tmp_path / DEEP_DIVES_FILE).write_text(text, encoding="utf-8")
    _, problems = read_deep_dives(tmp_path, CONFIG, cycle)
    assert all(p.severity is Severity.ERROR and p.file == DEEP_DIVES_FILE for p in problems)
    return [f"{p.column}: {p.message}" for p in problems]


def test_a_good_file_reads(tmp_path: Path) -> None:
    (tmp_path / DEEP_DIVES_FILE).write_text(yaml.safe_dump([
        {"indicator": "K1", "opened": "2024-08", "findings": "Two teams short-staffed.",
         "actions": [{"description": "Agency cover", "owner": "o1", "due": "2024-09-30",
                      "done": "2024-09-02"}]},
        {"indicator": "K2"}]), encoding="utf-8")
    items, problems = read_deep_dives(tmp_path, CONFIG, "2024-10")
    assert problems == []
    assert items[0].actions[0].done == date(2024, 9, 2) and items[1].opened is None


def test_an_entry_opened_after_the_cycle_is_left_out_of_that_cycle(tmp_path: Path) -> None:
    """A paper re-run for an earlier month: a deep dive opened later does not exist yet."""
    (tmp_path / DEEP_DIVES_FILE).write_text("- indicator: K1\n  opened: 2024-11\n"
                                            "- indicator: K2\n  opened: 2024-09\n")
    items, problems = read_deep_dives(tmp_path, CONFIG, "2024-10")
    assert problems == [] and [e.indicator for e in items] == ["K2"]
    items, problems = read_deep_dives(tmp_path, CONFIG, "2024-11")
    assert problems == [] and [e.indicator for e in items] == ["K1", "K2"]


def test_no_file_is_no_register(tmp_path: Path) -> None:
    assert read_deep_dives(tmp_path, CONFIG, "2024-10") == ([], [])


@pytest.mark.parametrize(("text", "expected"), [
    ("- indicator: NOPE\n",
     "entry 1 (NOPE), field indicator: indicator code 'NOPE' is not in indicators.yaml"),
    ("- indicator: K1\n  actions:\n    - description: x\n      owner: o1\n      due: soon\n",
     "entry 1 (K1), field actions[1].due: expected a date such as 2024-09-30, found 'soon'"),
    ("- indicator: K1\n  owner: o1\n",
     "entry 1 (K1), field owner: is not a field of a deep dive's entry (expected one of: "
     "indicator, opened, findings, actions, closed)"),
    ("- indicator: K1\n  actions:\n    - description: x\n      owner: o1\n",
     "entry 1 (K1), field actions[1].due: is required"),
    ("- indicator: K1\n- indicator: K2\n  actions:\n    - description: x\n      owner: zz\n"
     "      due: 2024-10-01\n",
     "entry 2 (K2), field actions[1].owner: expected an owner id in owners.yaml, found 'zz'"),
    ("- indicator: K1\n  actions:\n    - description: x\n      owner: o1\n"
     "      due: 2024-13-45\n",
     "entry 1 (K1), field actions[1].due: expected a date such as 2024-09-30, found "
     "'2024-13-45'"),
    ("- indicator: K1\n  opened: 2024-Q2\n",
     "entry 1 (K1), field opened: expected a monthly period such as 2024-10, found '2024-Q2'"),
    ("- indicator: K1\n  opened: 2024-06\n  closed: 2024-05-31\n",
     "entry 1 (K1), field closed: expected a date after it opened (2024-06), found "
     "2024-05-31"),
    ("indicator: K1\n", "None: expected a list of deep dives, each starting '- indicator:'"),
    ("- indicator: [K1\n", None),
])
def test_bad_entries_name_the_file_entry_and_field(tmp_path: Path, text: str,
                                                   expected: str | None) -> None:
    found = _read(tmp_path, text)
    if expected is None:
        assert len(found) == 1 and "not valid YAML" in found[0]
    else:
        assert expected in found


def test_a_bad_file_stops_the_run(tmp_path: Path) -> None:
    import shutil

    config = tmp_path / "config"
    shutil.copytree("config", config)
    (config / DEEP_DIVES_FILE).write_text("- indicator: XX99\n", encoding="utf-8")
    inputs = validate_exports(config, Path("demo/exports"), "2024-10", today=TODAY)
    assert not inputs.ok
    assert any(p.file == DEEP_DIVES_FILE and "XX99" in p.message for p in inputs.problems)


# --- the register ---------------------------------------------------------------------------

def test_the_register_across_three_cycles_in_a_real_store(tmp_path: Path) -> None:
    """Opens once, stays open (re-runs and the rule firing again add nothing), closes; and
    a later firing after the close opens a new one."""
    store = SqlHistoryStore(default_store_url(tmp_path))

    def run(cycle: str, firing: list[str], entries: list[DeepDiveEntry]) -> list[DeepDive]:
        dives, _, problems = update_register(store.deep_dives("998"), firing, entries,
                                             CONFIG, cycle)
        assert problems == []
        store.save_deep_dives("998", dives)
        return store.deep_dives("998")

    first = run("2024-08", ["K1"], [])
    assert first == [DeepDive("K1", "2024-08", "o1", Status.OPEN)]
    assert run("2024-08", ["K1"], []) == first  # the same cycle again
    found = DeepDiveEntry(indicator="K1", findings="Short-staffed.")
    second = run("2024-09", ["K1"], [found])
    assert second == [DeepDive("K1", "2024-08", "o1", Status.FINDINGS)]
    agreed = found.model_copy(update={"actions": [Action(description="Cover", owner="o1",
                                                         due=date(2024, 10, 1))]})
    assert run("2024-09", [], [agreed])[0].status is Status.ACTIONS
    closed = agreed.model_copy(update={"closed": date(2024, 10, 20)})
    third = run("2024-10", ["K1"], [closed])  # still firing in the month it closed
    assert third == [DeepDive("K1", "2024-08", "o1", Status.CLOSED, date(2024, 10, 20))]
    fourth = run("2024-11", ["K1"], [closed])
    assert [(d.opened, d.status) for d in fourth] == [("2024-08", Status.CLOSED),
                                                      ("2024-11", Status.OPEN)]
    store.dispose()
    # A new process reads the same register from the file.
    again = SqlHistoryStore(default_store_url(tmp_path))
    assert again.deep_dives("998") == fourth
    again.dispose()


def test_an_entry_with_its_opened_cycle_adds_a_past_deep_dive() -> None:
    entry = DeepDiveEntry(indicator="K2", opened="2023-06", closed=date(2024, 2, 14))
    dives, matched, problems = update_register([], [], [entry], CONFIG, "2024-10")
    assert dives == [DeepDive("K2", "2023-06", "o2", Status.CLOSED, date(2024, 2, 14))]
    assert matched[("K2", "2023-06")] is entry and problems == []


def test_an_entry_without_an_open_deep_dive_is_a_finding() -> None:
    _, _, problems = update_register([], [], [DeepDiveEntry(indicator="K1")], CONFIG,
                                     "2024-10")
    assert len(problems) == 1 and "no deep dive into K1 is open" in problems[0].message


# --- impact ---------------------------------------------------------------------------------

def _impact(code: str, before: list[float], after: list[float | None], cycle: str = "2024-10",
            done: date | None = None) -> tuple[Verdict, str]:
    """Figures before the action's month, its month (a figure in neither mean), after it."""
    values: list[float | None] = [*before, 99.0, *after]
    history = make_history({code: values}, cycle)
    action_period = shift(cycle, -len(after))
    when = done or date(int(action_period[:4]), int(action_period[5:]), 15)
    i = impact(IND[code], when, history, cycle)
    return i.verdict, verdict_text(IND[code], i)


def test_improved_and_worse_worded_by_polarity() -> None:
    assert _impact("K2", [52.0] * 6, [44.1] * 6) == (
        Verdict.IMPROVED, "improved since the action (52.0% to 44.1%)")
    assert _impact("K1", [52.0] * 6, [44.1] * 6) == (
        Verdict.WORSE, "worse since the action (52.0% to 44.1%)")


def test_the_margin_is_the_smallest_change_that_counts_at_its_boundary() -> None:
    # K2: lower is better, min_change 0.5; steady figures before, so no noise to allow for.
    assert _impact("K2", [50.0] * 6, [49.5] * 3)[0] is Verdict.NO_CHANGE
    assert _impact("K2", [50.0] * 6, [49.49] * 3)[0] is Verdict.IMPROVED
    assert _impact("K2", [50.0] * 6, [50.5] * 3)[0] is Verdict.NO_CHANGE
    assert _impact("K2", [50.0] * 6, [50.51] * 3)[0] is Verdict.WORSE
    assert _impact("K2", [50.0] * 6, [50.3] * 3) == (
        Verdict.NO_CHANGE, "no change yet (3 periods since; 50.0% to 50.3%)")


def test_the_margin_allows_for_noise_before_the_action() -> None:
    # Before alternates 48/52: average moving range 4, sigma 4/1.128 = 3.546; with six
    # figures each side the margin is 2 * 3.546 * sqrt(1/3) = 4.095.
    before = [48.0, 52.0] * 3
    assert _impact("K1", before, [54.09] * 6)[0] is Verdict.NO_CHANGE
    assert _impact("K1", before, [54.10] * 6)[0] is Verdict.IMPROVED


def test_too_early_with_fewer_than_three_periods_after() -> None:
    assert _impact("K2", [52.0] * 6, [30.0, 30.0]) == (
        Verdict.TOO_EARLY, "too early to tell (2 periods since)")
    assert _impact("K2", [52.0] * 6, [])[0] is Verdict.TOO_EARLY
    # A missing month after the action is not a period with a figure.
    assert _impact("K2", [52.0] * 6, [30.0, None, 30.0]) == (
        Verdict.TOO_EARLY, "too early to tell (2 periods since)")
    assert _impact("K2", [52.0] * 6, [30.0] * 3)[0] is Verdict.IMPROVED


def test_at_most_six_periods_each_side() -> None:
    history = make_history({"K2": [10.0] * 6 + [50.0] * 6 + [99.0] + [40.0] * 6 + [0.0] * 3},
                           "2024-10")
    i = impact(IND["K2"], date(2024, 1, 10), history, "2024-10")
    assert (i.before, i.after, i.periods_before, i.periods_after) == (50.0, 40.0, 6, 6)


def test_neutral_and_no_baseline() -> None:
    assert _impact("K3", [50.0] * 6, [60.0] * 3) == (
        Verdict.NOT_JUDGED,
        "50.0% before the action, 60.0% since (neither higher nor lower is better)")
    assert _impact("K2", [], [60.0] * 3)[0] is Verdict.NO_BASELINE


def test_dates_fall_in_periods_of_the_indicators_kind() -> None:
    assert period_of(date(2024, 3, 31), Frequency.MONTHLY) == "2024-03"
    assert period_of(date(2024, 3, 31), Frequency.QUARTERLY) == "2024-Q1"
    assert period_of(date(2024, 3, 31), Frequency.ANNUAL) == "2024"
    assert period_of(date(2024, 4, 1), Frequency.ANNUAL) == "2025"


# --- the paper and summary.json -------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_run() -> tuple[Inputs, Analysed]:
    from tasks.store.history import MemoryHistoryStore

    inputs = validate_exports(Path("config"), Path("demo/exports"), "2024-10", today=TODAY)
    assert inputs.ok
    return inputs, compare_with_history(inputs, MemoryHistoryStore())


def _section(inputs: Inputs, analysed: Analysed,
             edition: Edition) -> BeautifulSoup:
    figures = edition_figures(inputs, analysed, edition)
    context = build_context(inputs.config, figures, inputs.cycle, inputs.commentary,
                            dates_for(inputs.config, inputs.cycle))
    soup = BeautifulSoup(render_html(context), "html.parser")
    section = soup.select_one("#deep-dives")
    assert section is not None
    return section


def test_the_demo_paper_shows_open_overdue_and_closed(
        demo_run: tuple[Inputs, Analysed]) -> None:
    inputs, analysed = demo_run
    section = _section(inputs, analysed, Edition.RESTRICTED)
    text = section.get_text(" ", strip=True)
    assert "Care leavers aged 19 to 21" in text and "open for 1 month" in text
    overdue = [li.get_text(" ", strip=True) for li in section.select(".overdue-actions li")]
    assert len(overdue) == 1 and "Employment offer" in overdue[0]
    assert "due 31 October 2024" in overdue[0]
    closed = section.select_one(".deep-dive.closed")
    assert closed is not None
    assert "Outcome: improved since the action (20.0% to 17.9%)" in closed.get_text(" ")
    # The rule fired for the first time this cycle: opened now, no actions yet.
    assert {d.indicator for d in analysed.opened} == {"CP04", "FD04", "LA02", "YJ03"}
    public = _section(inputs, analysed, Edition.PUBLIC).get_text(" ", strip=True)
    assert "restricted edition only" in public
    # Young people in custody is a count of 1 to 5 at times: left to the restricted edition.
    assert "Young people in custody" in text and "Young people in custody" not in public


def test_summary_carries_the_register(demo_run: tuple[Inputs, Analysed],
                                      tmp_path: Path) -> None:
    inputs, analysed = demo_run
    figures = edition_figures(inputs, analysed, Edition.RESTRICTED)
    summary = build_summary(inputs.config, figures.results, figures.problems, [],
                            inputs.cycle, pd.Timestamp("2024-11-05T09:30").to_pydatetime(),
                            analysed.revisions, figures.deep_dives)
    summary.write(tmp_path / "summary.json")
    back = Summary.read(tmp_path / "summary.json")
    by_code = {d.indicator: d for d in back.deep_dives}
    wf = by_code["WF02"]
    assert (wf.status, wf.opened, wf.closed, wf.owner) == (
        Status.CLOSED, "2023-06", "2024-02-14", "principal_social_worker")
    i = wf.actions[0].impact
    assert i is not None and i.verdict is Verdict.IMPROVED
    assert (i.periods_before, i.periods_after) == (6, 6)
    assert i.before == pytest.approx(20.033333, abs=1e-5)
    assert by_code["CL01"].actions[0].impact is None and by_code["CL01"].age_cycles == 1


def test_the_console_counts_the_rule_and_the_register_apart(
        demo_run: tuple[Inputs, Analysed]) -> None:
    """The console said "5 deep dive(s)" (the rule firing) while 7 were open."""
    from tasks.presenting.artifacts import deep_dive_words
    inputs, analysed = demo_run
    figures = edition_figures(inputs, analysed, Edition.RESTRICTED)
    ctx = build_context(inputs.config, figures, inputs.cycle, inputs.commentary)
    fired = sum(1 for a in ctx.areas for v in a.indicators if v.deep_dive)
    still = ctx.deep_dives_open
    new = [d for d in still if d.opened_now]
    assert fired and still and new
    assert deep_dive_words(ctx) == (f"{fired} meeting the deep-dive rule, {len(still)} "
                                    f"deep dive(s) open ({len(new)} opened this cycle)")
    assert deep_dive_words(replace(ctx, deep_dives_open=[], deep_dives_closed=[])) == (
        f"{fired} meeting the deep-dive rule")


def test_exception_charts_mark_the_actions(
        demo_run: tuple[Inputs, Analysed]) -> None:
    inputs, analysed = demo_run
    figures = edition_figures(inputs, analysed, Edition.RESTRICTED)
    context = build_context(inputs.config, figures, inputs.cycle, inputs.commentary)
    soup = BeautifulSoup(render_html(context), "html.parser")
    card = soup.select_one("#exc-WF02")  # red this month; its deep dive's action July 2023
    assert card is not None
    labels = [t.get_text() for t in card.select("svg text.action-label")]
    assert labels == ["A1"] and len(card.select("svg path.action-mark")) == 1
    others = soup.select_one("#exc-CL01")
    assert others is not None and not others.select(".action-mark")


def test_a_deep_dive_whose_stored_owner_has_gone_is_shown_with_todays_owner() -> None:
    from tasks.analysing.deep_dives import deep_dive_results

    gone = [DeepDive("K1", "2024-09", "left_the_council", Status.OPEN)]
    history = make_history({"K1": [50.0] * 3}, "2024-10")
    (result,) = deep_dive_results(gone, {}, CONFIG, "2024-10", history, {})
    assert result.owner == "o1" and result.age == 1 and not result.opened_now
