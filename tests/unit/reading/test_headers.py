"""Mail headers keep their meaning: a display name with commas stays one recipient after the
message is written out (parsed back from the bytes sent, and as a real SMTP server sees the
envelope), and nothing with a line break or a second address gets into a header."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from flows.failure import failure_message, operators_from_env
from tasks.adapters.mail import (
    OutboxMailer,
    SmtpMailer,
    SmtpSettings,
    envelope_recipients,
    mailbox,
    new_message,
)
from tasks.delivering.notify import BREACH, Notice, build_message
from tasks.settings.config import Email, Owner, check_address
from tasks.settings.formatting import Edition
from tests.conftest import Inbox
from tests.factories import make_config

LONG_NAME = ("Smith, John (Head of Children's Services, Quality Assurance and Improvement) "
             "x@evil.example")
AUTHORITY = "Borough of Testshire, Children's Services Directorate, \"Scrutiny\" Unit"


def notice(name: str = LONG_NAME, to: str = "john.smith@example.gov.uk") -> Notice:
    return Notice(BREACH, "o1", to, name, ["X0"], "Performance briefing October 2024: "
                  "1 indicator you own needs attention, with a long subject that runs on",
                  "text", "<p>html</p>", Edition.RESTRICTED)


def message() -> EmailMessage:
    cfg = make_config([{}])
    briefing = cfg.briefing.model_copy(update={"authority": cfg.briefing.authority.model_copy(
        update={"name": AUTHORITY})})
    return build_message(notice(), cfg.model_copy(update={"briefing": briefing}),
                         b"%PDF-1.7 test", "998-2024-10-briefing-restricted.pdf")


def parsed(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_long_display_names_with_commas_survive_being_written_out() -> None:
    raw = bytes(message())
    back = parsed(raw)
    to = back["To"].addresses
    assert [(a.display_name, a.addr_spec) for a in to] == [(LONG_NAME,
                                                            "john.smith@example.gov.uk")]
    frm = back["From"].addresses
    assert [(a.display_name, a.addr_spec) for a in frm] == [(AUTHORITY, "perf@example.gov.uk")]
    assert back["Subject"].startswith("Performance briefing October 2024")
    headers = raw.split(b"\n\n", 1)[0]
    assert all(len(line) <= 998 for line in headers.splitlines())


def test_a_real_server_receives_exactly_the_one_recipient(
        smtp_server: tuple[str, int, Inbox]) -> None:
    host, port, inbox = smtp_server
    mailer = SmtpMailer(SmtpSettings.from_env({"BRIEFING_SMTP_HOST": host,
                                               "BRIEFING_SMTP_PORT": str(port),
                                               "BRIEFING_SMTP_SECURITY": "none"}))
    mailer.send(message())
    [(mail_from, rcpts, raw)] = inbox.messages
    assert rcpts == ["john.smith@example.gov.uk"] and mail_from == "perf@example.gov.uk"
    back = parsed(raw)
    assert [a.addr_spec for a in back["To"].addresses] == ["john.smith@example.gov.uk"]
    assert back["To"].addresses[0].display_name == LONG_NAME


def test_the_outbox_file_parses_back_the_same(tmp_path: Path) -> None:
    OutboxMailer(tmp_path).send(message())
    [eml] = list(tmp_path.glob("*.eml"))
    assert eml.name == "breach-john.smith@example.gov.uk.eml"
    back = parsed(eml.read_bytes())
    assert [(a.display_name, a.addr_spec) for a in back["To"].addresses] == [
        (LONG_NAME, "john.smith@example.gov.uk")]


@pytest.mark.parametrize("subject", ["Briefing\r\nBcc: x@evil.example", "a\nb", "bell\x07"])
def test_a_header_with_a_line_break_is_refused_when_built(subject: str) -> None:
    with pytest.raises(ValueError, match="line break or control character"):
        new_message("perf@example.gov.uk", "a@example.gov.uk", subject)


def test_the_envelope_is_taken_from_parsed_addresses() -> None:
    msg = new_message("perf@example.gov.uk", ["a@example.gov.uk", "b@example.gov.uk"], "s")
    assert envelope_recipients(msg) == ["a@example.gov.uk", "b@example.gov.uk"]


@pytest.mark.parametrize("good", ["tom.bradley@example.gov.uk", "o'neil@example.gov.uk",
                                  "first+tag@sub.example.org"])
def test_ordinary_addresses_pass(good: str) -> None:
    assert check_address(good) == good


@pytest.mark.parametrize("bad", ["a@example.gov.uk,b@evil.example", "a@example.gov.uk;b@x.org",
                                 '"a,b"@example.gov.uk', "a@example.gov.uk\r\n", "a b@x.org",
                                 "Tom <tom@example.gov.uk>", "tom@", "@example.gov.uk",
                                 "tom@example", "tom@localhost", "a@b@example.gov.uk", ""])
def test_anything_but_one_mailbox_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Email).validate_python(bad)


def test_owner_names_must_be_one_line() -> None:
    with pytest.raises(ValidationError, match="line break"):
        Owner(name="Tom\u2028Bradley", role="Head", email="t@example.gov.uk")
    with pytest.raises(ValidationError, match="control character"):
        Owner(name="Tom\u202eBradley", role="Head", email="t@example.gov.uk")


def test_the_failure_alert_survives_a_hostile_run_name() -> None:
    msg = failure_message("monthly-briefing", "briefing-Tor\r\nBcc: x@evil.example-2024-10",
                          "link", None, "perf@example.gov.uk", ["ops@example.gov.uk"])
    back = parsed(bytes(msg))
    assert back["Bcc"] is None and "\n" not in back["Subject"]
    assert [a.addr_spec for a in back["To"].addresses] == ["ops@example.gov.uk"]


def test_operators_from_the_environment_are_checked() -> None:
    assert operators_from_env({"BRIEFING_OPERATORS": "a@example.gov.uk, b@example.gov.uk"}) == [
        "a@example.gov.uk", "b@example.gov.uk"]
    with pytest.raises(ValueError, match="BRIEFING_OPERATORS"):
        operators_from_env({"BRIEFING_OPERATORS": "a@example.gov.uk;b@evil.example"})


def test_non_ascii_names_with_commas_round_trip() -> None:
    name = "Siân Jones, Pennaeth Gwasanaethau Plant (Diogelu ac Ansawdd), Cyngor Sir Ynys Môn"
    msg = new_message("perf@example.gov.uk", mailbox("sian@example.gov.uk", name),
                      "Hydref 2024 — Pwyllgor Craffu")
    msg.set_content("x")
    back = parsed(bytes(msg))
    assert [(a.display_name, a.addr_spec) for a in back["To"].addresses] == [
        (name, "sian@example.gov.uk")]
    assert back["Subject"] == "Hydref 2024 — Pwyllgor Craffu"
