"""Before each meeting: remind owners whose exceptions have no commentary, and tell the
clerk when the paper is late. Pure planning; the flow sends through a Mailer and the
ledger, so each reminder goes once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from email.utils import formataddr
from typing import Any

from tasks.calendar import MeetingPlan, next_meeting, plan_meeting, working_days_before
from tasks.config import Config
from tasks.mail import Mailer, new_message
from tasks.periods import label
from tasks.store import HistoryStore, LedgerEntry


@dataclass(frozen=True)
class Reminder:
    key: str
    to: str
    to_name: str
    subject: str
    text: str


def plan_for(config: Config, today: date) -> MeetingPlan | None:
    m = next_meeting(config.briefing.meetings, today)
    if m is None:
        return None
    p = config.briefing.papers
    return plan_meeting(m, p.clear_days, p.commentary_working_days, p.data_ready_days)


def due_reminders(config: Config, today: date, summary: dict[str, Any] | None,
                  commented: set[str]) -> list[Reminder]:
    """What should go out today. `summary` is the cycle's summary.json, if produced;
    `commented` the indicators with commentary for the cycle."""
    plan = plan_for(config, today)
    if plan is None:
        return []
    b = config.briefing
    out: list[Reminder] = []
    meeting = plan.meeting.strftime("%-d %B %Y")
    remind_from = working_days_before(plan.commentary_due, b.papers.remind_working_days)
    if summary is not None and remind_from <= today <= plan.commentary_due:
        missing: dict[str, list[str]] = {}
        for ind in summary["indicators"]:
            if ind["breach"] and ind["code"] not in commented:
                missing.setdefault(ind["owner"], []).append(ind["title"])
        for owner_id, titles in missing.items():
            owner = config.owners[owner_id]
            out.append(Reminder(
                f"reminder:{owner.email.lower()}", owner.email, owner.name,
                f"Commentary due {plan.commentary_due.strftime('%-d %B')}: {b.committee}",
                f"Dear {owner.name},\n\nThe {b.committee} meets on {meeting}. Its paper "
                f"reports {label(plan.cycle)} and is published by "
                f"{plan.publish_by.strftime('%-d %B %Y')}. These indicators you own are "
                "exceptions with no commentary yet:\n\n"
                + "".join(f"* {t}\n" for t in titles)
                + f"\nPlease send commentary to {b.contact.name} ({b.contact.email}) by "
                  f"{plan.commentary_due.strftime('%-d %B %Y')}.\n"))
    if today > plan.publish_by and summary is None and b.clerk is not None:
        out.append(Reminder(
            f"late:{b.clerk.email.lower()}", b.clerk.email, b.clerk.name,
            f"Late paper: {b.committee}, {meeting}",
            f"Dear {b.clerk.name},\n\nThe performance paper for the {b.committee} on {meeting} "
            f"({label(plan.cycle)}) was due to be published by "
            f"{plan.publish_by.strftime('%-d %B %Y')} and has not been produced. "
            f"{b.contact.name} ({b.contact.email}, {b.contact.phone}) has been told.\n"))
    return out


def send_reminders(reminders: list[Reminder], config: Config, plan: MeetingPlan,
                   mailer: Mailer, store: HistoryStore) -> list[tuple[str, str]]:
    """Send each reminder once per cycle; returns (to, status) pairs."""
    authority = config.briefing.authority.code
    mail = config.briefing.mail
    results = []
    for r in reminders:
        key = f"{mailer.transport}:{r.key}"
        prior = store.ledger_get(authority, plan.cycle, key)
        if prior is not None and prior.status == "sent":
            results.append((r.to, "already_sent"))
            continue
        msg = new_message(formataddr((config.briefing.authority.name, mail.sender)),
                          formataddr((r.to_name, r.to)), r.subject)
        msg["X-Briefing-Kind"] = r.key.split(":", 1)[0]
        msg.set_content(r.text)
        try:
            mailer.send(msg)
        except Exception as exc:
            store.ledger_put(LedgerEntry(authority, plan.cycle, key, r.to, "failed", "",
                                         f"{type(exc).__name__}: {exc}"[:500]))
            results.append((r.to, "failed"))
            continue
        store.ledger_put(LedgerEntry(authority, plan.cycle, key, r.to, "sent",
                                     str(msg["Message-ID"])))
        results.append((r.to, "sent"))
    return results
