"""Commentary reminders and late-paper notices, ahead of the meeting on 28 November 2024
(papers by 20 November, commentary by 15 November, reminders from 13 November)."""

from __future__ import annotations

from datetime import date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from flows.reminders import meeting_reminders
from tasks.adapters.outputs import in_set
from tasks.delivering.notify import XLSX_SUBTYPE
from tasks.delivering.summary import Summary
from tasks.presenting.return_workbooks import ExceptionRow, OwnerReturn, return_workbook
from tasks.reading.owner_returns import return_key
from tasks.run.analysis import compare_with_history
from tasks.run.delivery import write_summary
from tasks.run.inputs import validate_exports
from tasks.settings.config import load_config
from tasks.store.history import MemoryHistoryStore
from tests.conftest import DEMO_CONFIG, DEMO_EXPORTS, TODAY

CONFIG = load_config(DEMO_CONFIG)


@pytest.fixture(scope="module")
def demo_summary(tmp_path_factory: pytest.TempPathFactory) -> Summary:
    """The demo's own summary.json, written and read back by the pipeline's model."""
    inputs = validate_exports(DEMO_CONFIG, DEMO_EXPORTS, today=TODAY)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    path = write_summary(inputs, analysed, [], tmp_path_factory.mktemp("s"),
                                  datetime(2024, 11, 5, 9, 30).astimezone())
    return Summary.read(path)


def summary(s: Summary, *breaches: tuple[str, str]) -> Summary:
    """The demo's summary with only these (code, owner) indicators in breach."""
    wanted = {code for code, _ in breaches}
    assert {(i.code, i.owner) for i in s.indicators} >= set(breaches)
    return s.model_copy(update={"indicators": [i.model_copy(update={"breach": i.code in wanted})
                                               for i in s.indicators]})


def test_owners_are_reminded_only_in_the_window_and_only_for_missing_commentary(
        demo_summary: Summary) -> None:
    from tasks.delivering.reminders import due_reminders

    s = summary(demo_summary, ("CL01", "head_care_leavers"), ("AS01", "head_assessment"),
                ("AS02", "head_assessment"))
    commented = {"CL01", "AS01"}
    assert due_reminders(CONFIG, date(2024, 11, 12), s, commented) == []  # too early
    on_time = due_reminders(CONFIG, date(2024, 11, 13), s, commented)
    assert [r.to for r in on_time] == ["tom.bradley@example.gov.uk"]
    assert "Average days to complete an assessment" in on_time[0].text
    assert "Assessments completed within 45 working days" not in on_time[0].text
    assert "15 November 2024" in on_time[0].text
    assert len(due_reminders(CONFIG, date(2024, 11, 15), s, commented)) == 1
    assert due_reminders(CONFIG, date(2024, 11, 18), s, commented) == []  # past due


def test_the_clerk_hears_when_the_paper_is_late(demo_summary: Summary) -> None:
    from tasks.delivering.reminders import due_reminders

    assert due_reminders(CONFIG, date(2024, 11, 20), None, set()) == []  # due today
    late = due_reminders(CONFIG, date(2024, 11, 21), None, set())
    assert [r.to for r in late] == ["scrutiny.clerk@example.gov.uk"]
    assert "20 November 2024" in late[0].text and "October 2024" in late[0].text
    assert due_reminders(CONFIG, date(2024, 11, 21), summary(demo_summary), set()) == []  # produced


def test_reminders_flow_sends_each_once(prefect_harness: None, tmp_path: Path,
                                      demo_summary: Summary) -> None:
    out = tmp_path / "out"
    folder = out / "999" / "2024-10"
    folder.mkdir(parents=True)
    summary(demo_summary, ("AS02", "head_assessment"), ("CL01", "head_care_leavers")).write(
        in_set(folder, "summary.json"))
    # CL01's commentary came back in Aisha Rahman's return (no commentary.yaml): she is not
    # reminded; Tom Bradley's reminder carries the return workbook the cycle's run wrote.
    exports = tmp_path / "exports"
    path = exports / "returned.xlsx"
    exports.mkdir()
    path.write_bytes(return_workbook(_return("head_care_leavers", "CL01"),
                                     datetime(2024, 11, 5), return_key(DEMO_CONFIG)))
    wb = load_workbook(path)
    wb["Commentary"]["H2"] = "The rise follows the end of the apprenticeship scheme."
    wb.save(path)
    workbook = return_workbook(_return("head_assessment", "AS02"), datetime(2024, 11, 5),
                               return_key(DEMO_CONFIG))
    (folder / "restricted" / "999-2024-10-return-head_assessment.xlsx").write_bytes(workbook)
    args = {"config_dir": str(DEMO_CONFIG), "exports_dir": str(exports),
            "out_dir": str(out), "today": "2024-11-14"}
    # The flow's return value, which Prefect keeps where staff read it, names nobody: who
    # is reminded follows the restricted exceptions (issue 23). The outbox says who was.
    assert meeting_reminders(**args) is None
    assert meeting_reminders(**args) is None
    emls = list((out / "999" / "reminders").glob("*.eml"))
    assert len(emls) == 1 and "Commentary due 15 November" in emls[0].read_text()
    assert "tom.bradley@example.gov.uk" in emls[0].name
    msg = message_from_bytes(emls[0].read_bytes(), policy=default)
    assert isinstance(msg, EmailMessage)
    (att,) = msg.iter_attachments()
    assert att.get_filename() == "999-2024-10-return-head_assessment.xlsx"
    assert att.get_content() == workbook


def _return(owner: str, code: str) -> OwnerReturn:
    o = CONFIG.owners[owner]
    return OwnerReturn("999", "Demo", "2024-10", owner, o.name, o.role, "Jo",
                       (ExceptionRow(code, code, "2024-10", "1", "2", "Red", "Red", None),),
                       (), tuple(CONFIG.owners))


def test_reminders_obey_allowed_domains_and_the_ledger(demo_summary: Summary) -> None:
    """Reminders go through the one delivery path: a domain outside mail.allowed_domains
    fails that message alone; a sent one is never sent twice."""
    from tasks.adapters.mail import MemoryMailer
    from tasks.delivering.reminders import due_reminders, plan_for, send_reminders

    mail = CONFIG.briefing.mail.model_copy(update={"allowed_domains": ["elsewhere.gov.uk"]})
    closed = CONFIG.model_copy(update={"briefing": CONFIG.briefing.model_copy(
        update={"mail": mail})})
    day = date(2024, 11, 14)
    plan = plan_for(CONFIG, day)
    assert plan is not None
    due = due_reminders(CONFIG, day, summary(demo_summary, ("AS02", "head_assessment")), set())
    mailer, store = MemoryMailer(), MemoryHistoryStore()
    assert send_reminders(due, closed, plan, mailer, store) == [
        ("tom.bradley@example.gov.uk", "failed")]
    assert mailer.sent == []
    assert send_reminders(due, CONFIG, plan, mailer, store) == [
        ("tom.bradley@example.gov.uk", "sent")]
    assert send_reminders(due, CONFIG, plan, mailer, store) == [
        ("tom.bradley@example.gov.uk", "already_sent")]
    assert len(mailer.sent) == 1 and not mailer.sent[0].get_body(("html",))


def test_a_reminder_carries_the_owners_return_workbook(demo_summary: Summary) -> None:
    from tasks.adapters.mail import MemoryMailer
    from tasks.delivering.reminders import due_reminders, plan_for, send_reminders

    day = date(2024, 11, 14)
    plan = plan_for(CONFIG, day)
    assert plan is not None
    s = summary(demo_summary, ("AS02", "head_assessment"))
    assert "return workbook" not in due_reminders(CONFIG, day, s, set())[0].text
    (due,) = due_reminders(CONFIG, day, s, set(), frozenset({"head_assessment"}))
    assert "Your return workbook for this cycle is attached" in due.text
    mailer = MemoryMailer()
    name = "999-2024-10-return-head_assessment.xlsx"
    send_reminders([due], CONFIG, plan, mailer, MemoryHistoryStore(),
                   {"head_assessment": [(b"workbook", name)], "head_cla": [(b"x", "x.xlsx")]})
    (att,) = mailer.sent[0].iter_attachments()
    assert (att.get_filename(), att.get_content()) == (name, b"workbook")
    assert att.get_content_type() == f"application/{XLSX_SUBTYPE}"


def test_an_owner_with_the_committees_questions_unanswered_is_asked_for_answers(
        demo_summary: Summary) -> None:
    """An owner with no exception but a question from the last meeting is reminded of it
    (the workbook that carries it is attached); a question closed, answered in the record
    or in a return, or asked at a later meeting, is not asked again."""
    from tasks.delivering.reminders import due_reminders, unanswered
    from tasks.reading.questions import Kind, Tracked

    def q(ref: str, owner: str, **kw: Any) -> Tracked:
        return Tracked(ref, kw.pop("meeting", date(2024, 10, 17)), None, owner,
                       Kind.QUESTION, f"Why {ref}?", **kw)

    asked = unanswered([q("Q1", "head_cla"), q("Q2", "head_cla", closed=date(2024, 11, 1)),
                        q("Q3", "head_cla", answer="Because."), q("Q4", "head_cla"),
                        q("Q5", "head_cla", meeting=date(2024, 11, 28))],
                       {"Q4"}, date(2024, 11, 28))
    assert asked == {"head_cla": ["Q1: Why Q1?"]}
    s = summary(demo_summary, ("AS02", "head_assessment"))
    tom, martin = due_reminders(CONFIG, date(2024, 11, 14), s, set(),
                                frozenset({"head_cla"}), asked)
    assert tom.subject.startswith("Commentary due") and "Q1" not in tom.text
    assert (martin.owner, martin.subject) == (
        "head_cla", "Answers due 15 November: Children and Young People Overview and "
                    "Scrutiny Board")
    assert "with no answer yet:\n\n* Q1: Why Q1?\n" in martin.text
    assert "no commentary" not in martin.text and "workbook" in martin.text
