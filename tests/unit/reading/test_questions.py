"""The committee's questions: recorded by the clerk, carried in the owner's return, answered,
tracked in the store, and printed in the next paper. Pure (no engine)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from openpyxl import Workbook, load_workbook

from tasks.presenting.context import ANSWER_NOT_PUBLISHED, build_context
from tasks.presenting.render import render_html
from tasks.presenting.return_workbooks import (
    OwnerReturn,
    QuestionRow,
    owner_returns,
    return_workbook,
)
from tasks.reading.owner_returns import read_returns
from tasks.reading.questions import (
    Answer,
    Kind,
    Tracked,
    last_meeting,
    merge_answers,
    read_questions,
    track,
)
from tasks.run.analysis import compare_with_history
from tasks.run.inputs import validate_exports
from tasks.run.papers import edition_figures
from tasks.settings.calendar import PaperDates
from tasks.settings.config import Config, load_config
from tasks.settings.formatting import Edition
from tasks.store.history import MemoryHistoryStore, SqlHistoryStore, default_store_url
from tests.conftest import DEMO_CONFIG, DEMO_EXPORTS, ROOT, TODAY
from tests.factories import make_config

KEY = b"questions-test-key"
GOOD = """\
- ref: Q24-11-1
  meeting: 2024-11-28
  indicator: X0
  text: Why has the figure risen three months running?
- ref: Q24-11-2
  meeting: 2024-11-28
  owner: o2
  kind: recommendation
  text: Report the agency spend each quarter.
  answer: Agreed; from the January paper.
  answered_by: Owner Two
  answered: 2024-12-02
"""


@pytest.fixture(scope="module")
def config() -> Config:
    return make_config([{}, {"owner": "o2"}])


def test_the_clerks_record_reads(tmp_path: Path, config: Config) -> None:
    (tmp_path / "questions.yaml").write_text(GOOD)
    entries, problems = read_questions(tmp_path, config)
    assert problems == [] and [e.ref for e in entries] == ["Q24-11-1", "Q24-11-2"]
    asked = track(entries, [], [], config)
    assert [(t.owner, t.kind, t.status) for t in asked] == [
        ("o1", Kind.QUESTION, "asked"), ("o2", Kind.RECOMMENDATION, "answered")]


BAD = [
    ("  indicator: ZZ9\n", "entry 1 (Q1), field indicator",
     "indicator code 'ZZ9' is not in indicators.yaml"),
    ("  owner: nobody\n", "entry 1 (Q1), field owner", "expected an owner id in owners.yaml"),
    ("  closed: soon\n", "entry 1, field closed", "expected a date such as 2024-11-28, found "
                                                  "'soon'"),
    ("  colour: red\n", "entry 1, field colour", "is not a field of a question"),
    ("  closed: 2024-01-01\n", "entry 1 (Q1), field closed",
     "expected a date on or after the meeting (2024-11-28), found 2024-01-01"),
]


@pytest.mark.parametrize(("extra", "where", "message"), BAD, ids=[b[1] for b in BAD])
def test_a_fault_names_the_file_entry_and_field(tmp_path: Path, config: Config, extra: str,
                                                where: str, message: str) -> None:
    (tmp_path / "questions.yaml").write_text(
        "- ref: Q1\n  meeting: 2024-11-28\n  text: Why?\n  indicator: X0\n"
        .replace("  indicator: X0\n", "" if "indicator" in extra else "  indicator: X0\n")
        + extra)
    _, problems = read_questions(tmp_path, config)
    (p,) = problems
    assert (p.file, p.column) == ("questions.yaml", where) and message in p.message


def test_the_clerk_may_keep_a_workbook_instead(tmp_path: Path, config: Config) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["ref", "meeting", "indicator", "owner", "kind", "text"])
    ws.append(["Q1", datetime(2024, 11, 28), "X1", None, "question", "Why?"])
    ws.append(["Q1", datetime(2024, 11, 28), None, "o9", None, "Again?"])
    wb.save(tmp_path / "questions.xlsx")
    entries, problems = read_questions(tmp_path, config)
    assert [(e.ref, e.indicator) for e in entries] == [("Q1", "X1"), ("Q1", None)]
    assert [p.as_line() for p in problems] == [
        "ERROR: questions.xlsx, row 3, column 'owner': expected an owner id in owners.yaml, "
        "found 'o9'",
        "ERROR: questions.xlsx, row 3, column 'ref': a second question with the reference "
        "'Q1'"]


def _return(questions: tuple[QuestionRow, ...]) -> OwnerReturn:
    return OwnerReturn("998", "Testshire", "2024-12", "o1", "Owner One", "Head of Tests", "C",
                       (), (), ("o1", "o2"), questions)


def test_the_owners_return_carries_their_questions_and_brings_the_answer(
        tmp_path: Path, config: Config) -> None:
    (tmp_path / "questions.yaml").write_text(GOOD)
    entries, _ = read_questions(tmp_path, config)
    asked = track(entries, [], [], config)
    (mine, theirs) = owner_returns(config, [], [], {}, [], "2024-12", {}, asked)
    assert [q.ref for q in mine.questions] == ["Q24-11-1"]
    assert [q.answer for q in theirs.questions] == ["Agreed; from the January paper."]
    folder = tmp_path / "back"
    folder.mkdir()
    path = folder / "answered.xlsx"
    path.write_bytes(return_workbook(mine, datetime(2024, 12, 4, tzinfo=UTC), KEY))
    wb = load_workbook(path)
    assert wb["Questions"]["E2"].value == "Why has the figure risen three months running?"
    assert wb["Questions"]["E2"].protection.locked and not wb["Questions"]["F2"].protection.locked
    wb["Questions"]["F2"] = "Two teams carried vacancies; cover starts in December."
    wb["Questions"]["H2"] = datetime(2024, 12, 9)
    wb.save(path)
    got = read_returns([folder], config, "2024-12", KEY)
    assert got.problems == []
    assert got.answers == [Answer("Q24-11-1", "Two teams carried vacancies; cover starts in "
                                  "December.", "Owner One, Head of Tests", date(2024, 12, 9),
                                  "o1")]
    (q1, _) = track(entries, got.answers, [], config)
    assert (q1.status, q1.answered) == ("answered", date(2024, 12, 9))


def test_the_tracker_keeps_each_questions_history_in_the_store(tmp_path: Path,
                                                                config: Config) -> None:
    """asked, answered (from a return, kept when the return is gone), closed; in a real
    database file, and in a store made before the table existed."""
    url = default_store_url(tmp_path)
    store = SqlHistoryStore(url)
    with store.engine.begin() as conn:  # a store from before: no such table
        conn.execute(sa.text("DROP TABLE committee_questions"))
    store.dispose()
    store = SqlHistoryStore(url)
    (tmp_path / "questions.yaml").write_text(GOOD)
    entries, _ = read_questions(tmp_path, config)
    store.save_questions("998", track(entries, [], store.questions("998"), config))
    assert [t.status for t in store.questions("998")] == ["asked", "answered"]
    answer = Answer("Q24-11-1", "Cover from December.", "Owner One", date(2024, 12, 9))
    store.save_questions("998", track(entries, [answer], store.questions("998"), config))
    closed = GOOD.replace("  text: Why has", "  closed: 2025-01-23\n  text: Why has")
    (tmp_path / "questions.yaml").write_text(closed)
    entries, _ = read_questions(tmp_path, config)
    store.save_questions("998", track(entries, [], store.questions("998"), config))
    q1 = store.questions("998")[0]
    assert (q1.answer, q1.answered, q1.closed, q1.status) == (
        "Cover from December.", date(2024, 12, 9), date(2025, 1, 23), "closed")
    store.dispose()


QUESTIONS = """\
- ref: Q1
  meeting: 2024-10-17
  indicator: AS01
  text: An older meeting's question.
- ref: Q2
  meeting: 2024-11-28
  indicator: FD04
  text: What lies behind the rise in referrals with no further action?
  answer: Triage staff were added in October.
  answered_by: Priya Shah
  answered: 2024-12-03
- ref: Q3
  meeting: 2024-11-28
  indicator: YJ03
  text: How many young people are in custody, and why?
  answer: Five, each on remand for serious offences.
  answered_by: Daniel Price
  answered: 2024-12-03
- ref: Q4
  meeting: 2024-11-28
  owner: head_cla
  kind: recommendation
  text: Visit a children's home before the next meeting.
"""


def test_the_next_paper_has_the_last_meetings_questions(tmp_path: Path) -> None:
    """The November cycle's paper (for 23 January) answers the 28 November meeting's
    questions; the public edition prints every question, and withholds the answer about
    YJ03, whose exception status rests on a figure of 5 children, as its commentary."""
    config = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, config)
    (config / "questions.yaml").write_text(QUESTIONS)
    inputs = validate_exports(config, DEMO_EXPORTS, "2024-10", today=TODAY)
    assert inputs.ok
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    dates = PaperDates(date(2025, 1, 23), None, False)  # the November cycle's meeting
    said = {}
    for edition in Edition:
        figures = edition_figures(inputs, analysed, edition)
        ctx = build_context(inputs.config, figures, inputs.cycle, inputs.commentary, dates,
                            analysed.questions)
        soup = BeautifulSoup(render_html(ctx), "html.parser")
        section = soup.select_one("#questions")
        assert section is not None and "28 November 2024" in section.get_text()
        said[edition] = {a["id"]: " ".join(a.select_one(".answer").get_text().split())
                         for a in section.select("article.question")}
        assert "#questions" in [a["href"] for a in soup.select("nav.contents a")]
    restricted, public = said[Edition.RESTRICTED], said[Edition.PUBLIC]
    assert list(restricted) == list(public) == ["q-Q2", "q-Q3", "q-Q4"]  # not Q1's meeting
    assert restricted["q-Q3"].startswith("Answer: Five, each on remand")
    assert public["q-Q3"] == f"Answer: {ANSWER_NOT_PUBLISHED}"
    assert public["q-Q2"].startswith("Answer: Triage staff were added in October.")
    assert restricted["q-Q4"] == public["q-Q4"] == "Answer: No answer received."
    assert "Priya Shah" not in public["q-Q2"]  # publish_owner_names: false, as commentary
    # No question from a meeting before this paper's: no section, no line in the contents.
    ctx = build_context(inputs.config, figures, inputs.cycle, inputs.commentary,
                        PaperDates(date(2024, 10, 17), None, False), analysed.questions)
    assert ctx.questions == [] and 'id="questions"' not in render_html(ctx)


def test_the_docs_example_is_a_good_record(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "owners.md").read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "questions.yaml").write_text(block)
    entries, problems = read_questions(tmp_path, load_config(DEMO_CONFIG))
    assert problems == [] and [e.ref for e in entries] == ["Q24-11-1"]


def test_an_owner_may_not_answer_another_owners_question(tmp_path: Path,
                                                          config: Config) -> None:
    """Q24-11-1 is o1's (its indicator's owner): o2's return answering it is an error naming
    the return's sheet and row as written, and the answer is not used."""
    (tmp_path / "questions.yaml").write_text(GOOD)
    entries, _ = read_questions(tmp_path, config)
    forged = Answer("Q24-11-1", "Answered as o1", "Owner Two", date(2024, 12, 9), "o2")
    mine = Answer("Q24-11-1", "Answered by o1", "Owner One", date(2024, 12, 9), "o1")
    place = {"Q24-11-1": "b.xlsx, sheet 'Questions', row 2"}
    used, problems = merge_answers(entries, [forged], place, config)
    assert used == [] and [p.as_line() for p in problems] == [
        "ERROR: b.xlsx, sheet 'Questions', row 2: an answer to Q24-11-1, a question for 'o1', "
        "in a return of 'o2': an owner answers their own questions only; not used"]
    assert merge_answers(entries, [mine], place, config) == ([mine], [])


def test_an_answer_to_no_question_names_its_place_as_written(config: Config) -> None:
    """Not "column 'sheet 'Questions', row 2'" (the wording of commit a047a8c)."""
    a = Answer("Q9", "text", "Owner One", date(2024, 12, 9), "o1")
    _, problems = merge_answers([], [a], {"Q9": "b.xlsx, sheet 'Questions', row 2"}, config)
    assert problems[0].as_line().startswith("WARNING: b.xlsx, sheet 'Questions', row 2: an answer")


def test_a_paper_with_no_meeting_never_shows_a_later_meetings_questions() -> None:
    def asked(when: date) -> Tracked:
        return Tracked("Q", when, None, "o1", Kind.QUESTION, "t")

    tracked = [asked(date(2024, 9, 26)), asked(date(2024, 11, 28)), asked(date(2025, 1, 23))]
    assert last_meeting(tracked, None, date(2024, 12, 10)) == date(2024, 11, 28)
    assert last_meeting(tracked, None, date(2024, 11, 28)) == date(2024, 11, 28)
    assert last_meeting(tracked, date(2024, 11, 28), date(2024, 12, 31)) == date(2024, 9, 26)
    assert last_meeting(tracked, None, date(2024, 9, 1)) is None


def test_a_formula_in_the_clerks_workbook_is_refused(tmp_path: Path, config: Config) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["ref", "meeting", "indicator", "text"])
    ws.append(["Q1", date(2024, 11, 28), "X0", "=A1&B1"])
    wb.save(tmp_path / "questions.xlsx")
    entries, problems = read_questions(tmp_path, config)
    assert entries == [] and [p.as_line() for p in problems] == [
        "ERROR: questions.xlsx, row 2, column 'text': holds a formula ('=A1&B1'): type the "
        "text itself"]


def test_a_question_the_clerk_deletes_is_withdrawn(tmp_path: Path, config: Config) -> None:
    """Deleted from questions.yaml: no longer tracked for papers, returns or reminders; the
    store keeps its row as it was."""
    store = MemoryHistoryStore()
    (tmp_path / "questions.yaml").write_text(GOOD)
    entries, _ = read_questions(tmp_path, config)
    store.save_questions("998", track(entries, [], store.questions("998"), config))
    kept = [e for e in entries if e.ref != "Q24-11-1"]
    now = track(kept, [], store.questions("998"), config)
    assert [t.ref for t in now] == ["Q24-11-2"]
    store.save_questions("998", now)
    assert [t.ref for t in store.questions("998")] == ["Q24-11-1", "Q24-11-2"]
