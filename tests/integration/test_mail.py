"""Delivery through a real SMTP server on 127.0.0.1, the ledger, and SMTP settings."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tasks.adapters.mail import (
    MailConfigError,
    MemoryMailer,
    OutboxMailer,
    SmtpMailer,
    SmtpSettings,
)
from tasks.delivering.notify import XLSX_SUBTYPE, plan_notices
from tasks.run.delivery import notify
from tasks.run.inputs import Inputs
from tasks.run.papers import Rendered
from tasks.store.history import LedgerEntry, MemoryHistoryStore, open_store
from tests.conftest import Inbox, free_port


def smtp(host: str, port: int) -> SmtpMailer:
    return SmtpMailer(SmtpSettings.from_env({"BRIEFING_SMTP_HOST": host,
                                             "BRIEFING_SMTP_PORT": str(port),
                                             "BRIEFING_SMTP_SECURITY": "none",
                                             "BRIEFING_SMTP_TIMEOUT": "5",
                                             # real retries, without 2 + 4 + 8 s of waiting
                                             "BRIEFING_SMTP_BACKOFF": "0.05"}))


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_plan_one_message_per_owner_listing_all_their_breaches(
        demo: tuple[Inputs, Rendered]) -> None:
    inputs, rendered = demo
    notices = plan_notices(inputs.config, {e: p.context for e, p in rendered.editions.items()})
    owners = [n.owner for n in notices if n.kind == "breach"]
    assert len(owners) == len(set(owners))
    by_owner = {n.owner: n for n in notices if n.kind == "breach"}
    assert by_owner["head_assessment"].indicators == ["AS01", "AS02"]
    assert "52.0%" in by_owner["head_care_leavers"].text
    assert "Deep dive" in by_owner["head_care_leavers"].text
    assert [n.to for n in notices if n.kind == "briefing"] == ["scrutiny.clerk@example.gov.uk",
                                                              "dcs@example.gov.uk"]
    # Owners are officers: their email and attachment are the restricted edition, with the
    # real small count; the clerk's (published with the agenda) is the public edition.
    yj = by_owner["head_youth_justice"]
    assert "Young people in custody (YJ03): 5," in yj.text and yj.edition == "restricted"
    clerk = next(n for n in notices if n.to == "scrutiny.clerk@example.gov.uk")
    assert clerk.edition == "public"


def test_real_smtp_delivery_attachment_is_the_pdf_and_rerun_sends_nothing(
        demo: tuple[Inputs, Rendered],
        smtp_server: tuple[str, int, Inbox]) -> None:
    inputs, rendered = demo
    host, port, inbox = smtp_server
    store = MemoryHistoryStore()
    first = notify(inputs, rendered, store, smtp(host, port), resend=False)
    assert {d.status for d in first} == {"sent"}
    assert len(inbox.messages) == len(first) == 9
    sender, rcpts, raw = inbox.messages[0]
    assert sender == "performance@example.gov.uk" and rcpts == ["aisha.rahman@example.gov.uk"]
    msg = parse(raw)
    assert msg["Date"] and msg["Message-ID"] and "October 2024" in msg["Subject"]
    att, workbook = msg.iter_attachments()  # the paper, and the owner's return to fill in
    assert att.get_content_type() == "application/pdf"
    assert att.get_filename() == "999-2024-10-briefing-restricted.pdf"
    assert att.get_content() == rendered.restricted.pdf  # byte for byte
    assert workbook.get_filename() == "999-2024-10-return-head_care_leavers.xlsx"
    assert workbook.get_content_type() == f"application/{XLSX_SUBTYPE}"
    assert workbook.get_content() == rendered.returns["head_care_leavers"][0]
    clerk = parse(next(raw for _, to, raw in inbox.messages
                       if to == ["scrutiny.clerk@example.gov.uk"]))
    (public,) = clerk.iter_attachments()
    assert public.get_filename() == "999-2024-10-briefing-public.pdf"
    assert public.get_content() == rendered.public.pdf
    body = msg.get_body(("plain",))
    assert body is not None and "Care leavers aged 19 to 21" in body.get_content()
    assert msg.get_body(("html",)) is not None

    second = notify(inputs, rendered, store, smtp(host, port), resend=False)
    assert {d.status for d in second} == {"already_sent"}
    assert len(inbox.messages) == 9
    third = notify(inputs, rendered, store, smtp(host, port), resend=True)
    assert {d.status for d in third} == {"sent"} and len(inbox.messages) == 18


def test_server_down_records_failure_and_next_run_sends(
        demo: tuple[Inputs, Rendered],
        smtp_server: tuple[str, int, Inbox]) -> None:
    inputs, rendered = demo
    host, port, inbox = smtp_server
    store = MemoryHistoryStore()
    down = notify(inputs, rendered, store, smtp(host, free_port()), resend=False)
    assert {d.status for d in down} == {"failed"} and all(d.error for d in down)
    assert not inbox.messages
    up = notify(inputs, rendered, store, smtp(host, port), resend=False)
    assert {d.status for d in up} == {"sent"} and len(inbox.messages) == 9


def test_a_refused_recipient_fails_alone(demo: tuple[Inputs, Rendered]) -> None:
    from aiosmtpd.controller import Controller

    class Refusing(Inbox):
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                              rcpt_options: list[str]) -> str:
            if address.startswith("dcs@"):
                return "550 No such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    inbox = Refusing()
    port = free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        inputs, rendered = demo
        out = notify(inputs, rendered, MemoryHistoryStore(), smtp("127.0.0.1", port),
                              resend=False)
    finally:
        ctl.stop()
    failed = [d for d in out if d.status == "failed"]
    assert [d.to for d in failed] == ["dcs@example.gov.uk"] and "550" in failed[0].error
    assert len(inbox.messages) == 8


def test_interrupted_send_is_not_repeated_without_resend(
        demo: tuple[Inputs, Rendered]) -> None:
    inputs, rendered = demo
    store = MemoryHistoryStore()

    class Dies(MemoryMailer):
        def send(self, message: EmailMessage) -> None:
            raise KeyboardInterrupt  # the process is stopped mid-send

    with pytest.raises(KeyboardInterrupt):
        notify(inputs, rendered, store, Dies(), resend=False)
    mailer = MemoryMailer()
    mailer.transport = "memory"
    again = notify(inputs, rendered, store, mailer, resend=False)
    assert again[0].status == "uncertain" and "--resend" in again[0].error
    assert [d.status for d in again[1:]] == ["sent"] * 8 and len(mailer.sent) == 8


def test_smtp_settings_from_environment() -> None:
    with pytest.raises(MailConfigError, match="BRIEFING_SMTP_HOST"):
        SmtpSettings.from_env({})
    with pytest.raises(MailConfigError, match="only allowed for a server on this machine"):
        SmtpSettings.from_env({"BRIEFING_SMTP_HOST": "smtp.example.org",
                               "BRIEFING_SMTP_SECURITY": "none"})
    with pytest.raises(MailConfigError, match="USERNAME and BRIEFING_SMTP_PASSWORD"):
        SmtpSettings.from_env({"BRIEFING_SMTP_HOST": "smtp.example.org",
                               "BRIEFING_SMTP_USERNAME": "u"})
    s = SmtpSettings.from_env({"BRIEFING_SMTP_HOST": "smtp.example.org",
                               "BRIEFING_SMTP_USERNAME": "u",
                               "BRIEFING_SMTP_PASSWORD": "hunter2-secret"})
    assert (s.port, s.security) == (587, "starttls")
    assert "hunter2" not in repr(s)


def sharing(inputs: Inputs, address: str, *owners: str) -> Inputs:
    """The demo with these owners given one team mailbox (common in councils)."""
    mine = dict(inputs.config.owners)
    for o in owners:
        mine[o] = mine[o].model_copy(update={"email": address})
    config = inputs.config.model_copy(update={"owners": mine})
    return Inputs(config, inputs.cycle, inputs.records, [], [])


def test_owners_sharing_a_mailbox_each_get_their_notice(
        demo: tuple[Inputs, Rendered],
        smtp_server: tuple[str, int, Inbox], tmp_path: Path) -> None:
    """Issue 24: the ledger was keyed by address, so the second owner's breaches were
    recorded `already_sent` and never mailed."""
    inputs, rendered = demo
    _host, port, inbox = smtp_server
    team = "performance.team@example.gov.uk"
    shared = sharing(inputs, team, "head_assessment", "head_care_leavers")
    store = open_store(f"sqlite:///{tmp_path / 'history.sqlite'}")
    first = notify(shared, rendered, store, smtp("127.0.0.1", port), resend=False)
    assert {d.status for d in first} == {"sent"} and len(inbox.messages) == 9
    to_team = [parse(raw) for _, rcpts, raw in inbox.messages if rcpts == [team]]
    assert len(to_team) == 2
    bodies = sorted(str(m.get_body(("plain",)).get_content()) for m in to_team)  # type: ignore[union-attr]
    assert "(AS01)" in bodies[0] + bodies[1] and "(CL01)" in bodies[0] + bodies[1]
    assert not ("(AS01)" in bodies[0] and "(CL01)" in bodies[0])  # one owner's each
    again = notify(shared, rendered, store, smtp("127.0.0.1", port), resend=False)
    assert {d.status for d in again} == {"already_sent"} and len(inbox.messages) == 9
    # The outbox keeps both too (one file each), and the ledger one entry per owner.
    box = OutboxMailer(tmp_path / "outbox")
    notify(shared, rendered, MemoryHistoryStore(), box, resend=False)
    assert len(list((tmp_path / "outbox").glob(f"breach-{team}*.eml"))) == 2


def test_a_ledger_from_before_still_counts_for_the_first_owner(
        demo: tuple[Inputs, Rendered]) -> None:
    """A cycle half sent by the release before (keys of kind and address) is not sent
    again to the owner that run had mailed, and the other owner at that address gets theirs."""
    inputs, rendered = demo
    team = "performance.team@example.gov.uk"
    shared = sharing(inputs, team, "head_assessment", "head_care_leavers")
    store = MemoryHistoryStore()
    store.ledger_put(LedgerEntry("999", inputs.cycle, f"memory:breach:{team}", team, "sent"))
    mailer = MemoryMailer()
    out = notify(shared, rendered, store, mailer, resend=False)
    to_team = [d for d in out if d.to == team]
    assert [d.status for d in to_team] == ["already_sent", "sent"]


class StopsMidSend(MemoryMailer):
    """The process is stopped (SIGTERM, as Prefect raises it) while the server holds the
    message; `after` says whether it was written first (an outbox) or not."""

    def __init__(self, inner: Any = None, after: bool = False) -> None:
        super().__init__()
        self.inner, self.after, self.calls = inner, after, 0
        self.transport = inner.transport if inner is not None else "memory"  # its ledger

    def send(self, message: EmailMessage) -> None:
        self.calls += 1
        if self.calls == 2:
            if self.after and self.inner is not None:
                self.inner.send(message)
            raise KeyboardInterrupt
        (self.inner or super()).send(message)


def stopped_mid_send(inputs: Inputs, rendered: Rendered, port: int,
                     out: Path) -> tuple[Any, SmtpMailer]:
    """The demo's messages through a real SMTP server, the run stopped while sending the
    second: its store (a real SQLite file in `out`, as `briefing ledger` reads it) and the
    mailer to run again with."""
    store = open_store(f"sqlite:///{out / 'history.sqlite'}")
    real = smtp("127.0.0.1", port)
    real.transport = "smtp"
    with pytest.raises(KeyboardInterrupt):
        notify(inputs, rendered, store, StopsMidSend(real), resend=False)
    return store, real


def test_a_message_stopped_mid_send_is_uncertain_until_the_operator_settles_it(
        demo: tuple[Inputs, Rendered], smtp_server: tuple[str, int, Inbox],
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 24: the re-run counted it a success. Now it stays uncertain, named with its
    owner and indicators, until `briefing ledger --confirm-sent` or `--resend`."""
    from flows.cli import main
    from tasks.delivering.notify import attention_lines, ledger_id

    inputs, rendered = demo
    _host, port, inbox = smtp_server
    out = tmp_path / "out"
    store, real = stopped_mid_send(inputs, rendered, port, out)
    [stopped] = [e for e in store.ledger_entries() if e.status != "sent"]
    assert stopped.status == "uncertain"
    for _ in range(2):  # not settled by running again
        again = notify(inputs, rendered, store, real, resend=False)
        lines = attention_lines(again)
        assert len(lines) == 1 and "for head_assessment (AS01, AS02)" in lines[0]
        assert len(inbox.messages) == 1 + 7
    ident = ledger_id(next(e for e in store.ledger_entries() if e.status == "uncertain"))
    assert f"--confirm-sent {ident}" in lines[0]
    assert main(["ledger", "--out", str(out)]) == 0
    assert f"{ident}  uncertain" in capsys.readouterr().out
    assert main(["ledger", "--out", str(out), "--resend", ident]) == 0
    third = notify(inputs, rendered, store, real, resend=False)
    assert not attention_lines(third) and len(inbox.messages) == 9
    assert main(["ledger", "--out", str(out), "--confirm-sent", "nope"]) == 2


def test_the_outbox_settles_a_stopped_message_by_its_file(
        demo: tuple[Inputs, Rendered], tmp_path: Path) -> None:
    """Written before the stop: it is there, so sent. Not written: sent again."""
    from tasks.delivering.notify import attention_lines

    inputs, rendered = demo
    for written in (True, False):
        box, store = OutboxMailer(tmp_path / str(written)), MemoryHistoryStore()
        with pytest.raises(KeyboardInterrupt):
            notify(inputs, rendered, store, StopsMidSend(box, after=written), False)
        again = notify(inputs, rendered, store, OutboxMailer(box.folder), False)
        assert not attention_lines(again)
        statuses = [d.status for d in again]
        assert statuses[1] == ("already_sent" if written else "sent")
        assert len(list(box.folder.glob("*.eml"))) == 9


def test_an_uncertain_message_this_run_no_longer_plans_is_still_said(
        demo: tuple[Inputs, Rendered], smtp_server: tuple[str, int, Inbox],
        tmp_path: Path) -> None:
    """Found from outside (issue 24): after a stop mid-send, a re-run whose plan had
    changed (that owner's indicators moved) exited 0 and never named the uncertain message
    again, while `briefing ledger` still listed it. Every run says it until it is settled."""
    from dataclasses import replace

    from flows.cli import main
    from tasks.delivering.notify import attention_lines, deliver, ledger_id

    inputs, rendered = demo
    _host, port, inbox = smtp_server
    out = tmp_path / "out"
    store, real = stopped_mid_send(inputs, rendered, port, out)
    contexts = {e: p.context for e, p in rendered.editions.items()}
    notices = plan_notices(inputs.config, contexts)
    stopped = notices[1]
    assert stopped.owner == "head_assessment" and len(stopped.indicators) > 1
    changed = [replace(n, indicators=n.indicators[:1]) if n is stopped else n
               for n in notices]
    pdfs = {e: (p.pdf, f"{e.value}.pdf") for e, p in rendered.editions.items()}
    for _ in range(2):  # said on every run, never a success
        again = deliver(changed, inputs.config, pdfs, real, store, inputs.cycle)
        lines = attention_lines(again)
        assert len(lines) == 1, lines
        assert "for head_assessment" in lines[0] and "no longer plans it" in lines[0]
    (entry,) = [e for e in store.ledger_entries() if e.status == "uncertain"]
    assert main(["ledger", "--out", str(out), "--confirm-sent", ledger_id(entry)]) == 0
    settled = deliver(changed, inputs.config, pdfs, real, store, inputs.cycle)
    assert not attention_lines(settled)
    assert sum(1 for d in settled if d.status == "sent") == 0  # sent on the first re-run
    assert len(inbox.messages) == len(notices)
