"""Before each meeting: remind owners whose exceptions have no commentary, and tell the
clerk when the paper is late. Pure planning; the flow sends through a Mailer and the
ledger, so each reminder goes once."""

from __future__ import annotations

from datetime import date

from tasks.adapters.mail import Mailer
from tasks.delivering.notify import LATE, REMINDER, Notice, deliver
from tasks.delivering.summary import Summary
from tasks.reading.questions import Tracked
from tasks.settings.calendar import MeetingPlan, next_meeting, plan_meeting, working_days_before
from tasks.settings.config import Config
from tasks.settings.periods import label
from tasks.store.history import HistoryStore


def plan_for(config: Config, today: date) -> MeetingPlan | None:
    m = next_meeting(config.briefing.meetings, today)
    if m is None:
        return None
    p = config.briefing.papers
    return plan_meeting(m, p.clear_days, p.commentary_working_days, p.data_ready_days)


def due_reminders(config: Config, today: date, summary: Summary | None,
                  commented: set[str], workbooks: frozenset[str] = frozenset(),
                  unanswered: dict[str, list[str]] | None = None) -> list[Notice]:
    """What should go out today. `summary` is the cycle's summary.json, if produced;
    `commented` the indicators with commentary for the cycle (from commentary.yaml or a
    return); `workbooks` the owners whose return workbook the cycle's run wrote (it goes
    with their reminder); `unanswered` each owner's open questions from the committee
    with no answer yet ("Q24-11-1: Why ...?"), asked of them in the same reminder."""
    plan = plan_for(config, today)
    if plan is None:
        return []
    b = config.briefing
    out: list[Notice] = []
    meeting = plan.meeting.strftime("%-d %B %Y")
    remind_from = working_days_before(plan.commentary_due, b.papers.remind_working_days)
    if summary is not None and remind_from <= today <= plan.commentary_due:
        missing: dict[str, list[str]] = {}
        for ind in summary.indicators:
            if ind.breach and ind.code not in commented:
                missing.setdefault(ind.owner, []).append(ind.title)
        asked = {o: q for o, q in (unanswered or {}).items() if q and o in config.owners}
        for owner_id in [*missing, *(o for o in asked if o not in missing)]:
            owner = config.owners[owner_id]
            due = plan.commentary_due.strftime("%-d %B")
            out.append(Notice(
                REMINDER, owner_id, owner.email, owner.name, [],
                f"{'Commentary' if owner_id in missing else 'Answers'} due {due}: "
                f"{b.committee}",
                _asking(config, plan, owner_id, missing.get(owner_id, []),
                        asked.get(owner_id, []), owner_id in workbooks), None, None))
    if today > plan.publish_by and summary is None and b.clerk is not None:
        out.append(Notice(
            LATE, None, b.clerk.email, b.clerk.name, [],
            f"Late paper: {b.committee}, {meeting}",
            f"Dear {b.clerk.name},\n\nThe performance paper for the {b.committee} on {meeting} "
            f"({label(plan.cycle)}) was due to be published by "
            f"{plan.publish_by.strftime('%-d %B %Y')} and has not been produced. "
            f"{b.contact.name} ({b.contact.email}, {b.contact.phone}) has been told.\n",
            None, None))
    return out


_WORKBOOK = ("\nYour return workbook for this cycle is attached: type your commentary and "
             "answers in its yellow cells and send it back as it is (any file name).\n")


def unanswered(questions: list[Tracked], answered: set[str], before: date
               ) -> dict[str, list[str]]:
    """Each owner's open questions asked before `before` (the next meeting) and answered
    neither in the record nor in a return (`answered`): "Q24-11-1: Why ...?"."""
    out: dict[str, list[str]] = {}
    for q in questions:
        if q.closed is None and not q.answer and q.ref not in answered and q.meeting < before:
            out.setdefault(q.owner, []).append(f"{q.ref}: {q.text}")
    return out


def _asking(config: Config, plan: MeetingPlan, owner_id: str, titles: list[str],
            questions: list[str], workbook: bool) -> str:
    """The reminder's text: the exceptions with no commentary, the committee's questions
    with no answer, the workbook to answer in."""
    b, owner = config.briefing, config.owners[owner_id]
    text = (f"Dear {owner.name},\n\nThe {b.committee} meets on "
            f"{plan.meeting.strftime('%-d %B %Y')}. Its paper reports {label(plan.cycle)} "
            f"and is published by {plan.publish_by.strftime('%-d %B %Y')}.")
    if titles:
        text += (" These indicators you own are exceptions with no commentary yet:\n\n"
                 + "".join(f"* {t}\n" for t in titles))
    if questions:
        text += ("\nThe committee asked you these, with no answer yet:\n\n"
                 + "".join(f"* {q}\n" for q in questions))
    return (text + (_WORKBOOK if workbook else "")
            + f"\nPlease send commentary to {b.contact.name} ({b.contact.email}) by "
              f"{plan.commentary_due.strftime('%-d %B %Y')}.\n")


def send_reminders(reminders: list[Notice], config: Config, plan: MeetingPlan,
                   mailer: Mailer, store: HistoryStore,
                   workbooks: dict[str, list[tuple[bytes, str]]] | None = None
                   ) -> list[tuple[str, str]]:
    """Send each once per cycle, through the one delivery path every message takes
    (allowed domains, the crash-safe ledger, retries, the circuit); (to, status) pairs.
    `workbooks`: owner id -> their return workbook, attached to their reminder."""
    sent = deliver(reminders, config, {}, mailer, store, plan.cycle, packs=workbooks,
                   kinds=frozenset({REMINDER, LATE}))
    return [(d.to, d.status) for d in sent]
