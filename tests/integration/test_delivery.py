"""Delivery against real SMTP servers on 127.0.0.1 (aiosmtpd): STARTTLS with AUTH, implicit
TLS, a server that drops the connection mid-message, a server that is down, an address
outside the allowed domains. Each ends with the right messages received exactly once."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tasks.adapters.mail import SmtpMailer, SmtpSettings
from tasks.run.delivery import notify
from tasks.run.inputs import Inputs
from tasks.run.papers import Rendered
from tasks.store.history import MemoryHistoryStore
from tests.conftest import Inbox, free_port
from tests.tls import make_cert

USER, PASSWORD = "briefing", "correct horse battery staple"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("tls"))


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


def server_ctx(cert: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*cert)
    return ctx


def _serve(**tls: Any) -> Iterator[tuple[int, Inbox]]:
    """An aiosmtpd server on 127.0.0.1 that requires AUTH, with the given TLS options."""
    inbox, port = Inbox(), free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                     auth_required=True, **tls)
    ctl.start()
    yield port, inbox
    ctl.stop()


@pytest.fixture
def starttls_server(cert: tuple[Path, Path]) -> Iterator[tuple[int, Inbox]]:
    yield from _serve(tls_context=server_ctx(cert), require_starttls=True)


@pytest.fixture
def implicit_tls_server(cert: tuple[Path, Path]) -> Iterator[tuple[int, Inbox]]:
    # The whole connection is TLS, so AUTH needs no STARTTLS first.
    yield from _serve(ssl_context=server_ctx(cert), auth_require_tls=False)


def mailer(port: int, security: str, cert: Path | None = None,
           password: str = PASSWORD) -> SmtpMailer:
    env = {"BRIEFING_SMTP_HOST": "127.0.0.1", "BRIEFING_SMTP_PORT": str(port),
           "BRIEFING_SMTP_SECURITY": security, "BRIEFING_SMTP_TIMEOUT": "5",
           "BRIEFING_SMTP_BACKOFF": "0.01"}
    if security != "none":
        env |= {"BRIEFING_SMTP_USERNAME": USER, "BRIEFING_SMTP_PASSWORD": password,
                "BRIEFING_SMTP_CA_FILE": str(cert)}
    return SmtpMailer(SmtpSettings.from_env(env))


def recipients(inbox: Inbox) -> list[str]:
    return sorted(to for _, tos, _ in inbox.messages for to in tos)


def test_starttls_with_auth(demo: tuple[Inputs, Rendered],
                            starttls_server: tuple[int, Inbox], cert: tuple[Path, Path]) -> None:
    inputs, rendered = demo
    port, inbox = starttls_server
    store = MemoryHistoryStore()
    out = notify(inputs, rendered, store, mailer(port, "starttls", cert[0]), False)
    assert {d.status for d in out} == {"sent"} and len(inbox.messages) == len(out) == 9
    again = notify(inputs, rendered, store, mailer(port, "starttls", cert[0]), False)
    assert {d.status for d in again} == {"already_sent"} and len(inbox.messages) == 9


def test_wrong_password_fails_every_message_without_leaking_it(
        demo: tuple[Inputs, Rendered], starttls_server: tuple[int, Inbox],
        cert: tuple[Path, Path]) -> None:
    inputs, rendered = demo
    port, inbox = starttls_server
    out = notify(inputs, rendered, MemoryHistoryStore(),
                          mailer(port, "starttls", cert[0], password="wrong-secret"), False)
    assert {d.status for d in out} == {"failed"} and not inbox.messages
    assert all("wrong-secret" not in d.error and "535" in d.error for d in out)


def test_implicit_tls(demo: tuple[Inputs, Rendered],
                      implicit_tls_server: tuple[int, Inbox], cert: tuple[Path, Path]) -> None:
    inputs, rendered = demo
    port, inbox = implicit_tls_server
    out = notify(inputs, rendered, MemoryHistoryStore(), mailer(port, "ssl", cert[0]),
                          False)
    assert {d.status for d in out} == {"sent"} and len(inbox.messages) == 9


def test_untrusted_certificate_is_refused(demo: tuple[Inputs, Rendered],
                                          implicit_tls_server: tuple[int, Inbox],
                                          tmp_path: Path) -> None:
    inputs, rendered = demo
    port, inbox = implicit_tls_server
    other, _ = make_cert(tmp_path)  # a different CA than the server's
    out = notify(inputs, rendered, MemoryHistoryStore(), mailer(port, "ssl", other),
                          False)
    assert {d.status for d in out} == {"failed"} and not inbox.messages
    assert "CERTIFICATE_VERIFY_FAILED" in out[0].error


class DropsFirstDelivery(Inbox):
    """Drops the connection in the middle of the first message, as a flaky relay does."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.dropped == 0:
            self.dropped += 1
            server.transport.close()
            return "421 connection lost"
        return await super().handle_DATA(server, session, envelope)


def test_dropped_connection_is_retried_and_delivered_once(
        demo: tuple[Inputs, Rendered]) -> None:
    inputs, rendered = demo
    inbox, port = DropsFirstDelivery(), free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        out = notify(inputs, rendered, MemoryHistoryStore(), mailer(port, "none"),
                              False)
    finally:
        ctl.stop()
    assert inbox.dropped == 1
    assert {d.status for d in out} == {"sent"}
    expected = sorted(d.to for d in out)
    assert recipients(inbox) == expected  # each exactly once


def test_transient_failures_back_off_then_give_up() -> None:
    waits: list[float] = []
    m = SmtpMailer(SmtpSettings.from_env({"BRIEFING_SMTP_HOST": "127.0.0.1",
                                          "BRIEFING_SMTP_PORT": str(free_port()),
                                          "BRIEFING_SMTP_SECURITY": "none",
                                          "BRIEFING_SMTP_RETRIES": "3",
                                          "BRIEFING_SMTP_BACKOFF": "1.5"}), sleep=waits.append)
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["To"], msg["From"], msg["Subject"] = "a@example.gov.uk", "b@example.gov.uk", "x"
    with pytest.raises(ConnectionRefusedError):
        m.send(msg)
    assert waits == [1.5, 3.0, 6.0]


def test_address_outside_allowed_domains_fails_alone(
        demo: tuple[Inputs, Rendered], smtp_server: tuple[str, int, Inbox],
        tmp_path: Path) -> None:
    inputs, rendered = demo
    _host, port, inbox = smtp_server
    owners = dict(inputs.config.owners)
    owners["head_cla"] = owners["head_cla"].model_copy(update={"email": "martin@gmail.com"})
    config = inputs.config.model_copy(update={"owners": owners})
    out = notify(Inputs(config, inputs.cycle, inputs.records, [], []),
                          rendered, MemoryHistoryStore(), mailer(port, "none"), False)
    failed = [d for d in out if d.status == "failed"]
    assert [d.to for d in failed] == ["martin@gmail.com"]
    assert "allowed_domains" in failed[0].error and len(inbox.messages) == 8


def bypassed(port: int, **numbers: float) -> SmtpSettings:
    """Settings whose numbers were set past their checks (defence in depth: the send loop
    must be safe whatever it is given)."""
    s = SmtpSettings.from_env({"BRIEFING_SMTP_HOST": "127.0.0.1", "BRIEFING_SMTP_PORT": str(port),
                               "BRIEFING_SMTP_SECURITY": "none", "BRIEFING_SMTP_TIMEOUT": "5"})
    for name, value in numbers.items():
        object.__setattr__(s, name, value)
    return s


def a_message() -> Any:
    from tasks.adapters.mail import new_message

    return new_message("briefing@example.gov.uk", "owner@example.gov.uk", "x")


def test_negative_retries_still_send_once_or_raise(smtp_server: tuple[str, int, Inbox]) -> None:
    """Issue 24: retries -1 made the loop run no times and return as if sent."""
    _host, port, inbox = smtp_server
    SmtpMailer(bypassed(port, retries=-1)).send(a_message())
    assert recipients(inbox) == ["owner@example.gov.uk"]
    with pytest.raises(ConnectionRefusedError):
        SmtpMailer(bypassed(free_port(), retries=-1)).send(a_message())


def test_a_billion_retries_stop_at_ten_with_capped_waits() -> None:
    waits: list[float] = []

    def sleep(wait: float) -> None:
        waits.append(wait)
        assert len(waits) <= 10, "retrying without end"  # today: a billion times

    m = SmtpMailer(bypassed(free_port(), retries=10**9, backoff=100.0), sleep=sleep)
    with pytest.raises(ConnectionRefusedError):
        m.send(a_message())
    assert len(waits) == 10 and max(waits) == 300.0


def test_a_recipient_refused_among_several_is_not_sent() -> None:
    """smtplib returns the refused recipients when others were taken; that is not `sent`."""
    from aiosmtpd.smtp import SMTP as Server

    class RefusesOne(Inbox):
        async def handle_RCPT(self, server: Server, session: Any, envelope: Any,
                              address: str, options: list[str]) -> str:
            if address.startswith("gone@"):
                return "550 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    import smtplib

    from tasks.adapters.mail import new_message

    inbox, port = RefusesOne(), free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        msg = new_message("briefing@example.gov.uk",
                          ["ok@example.gov.uk", "gone@example.gov.uk"], "x")
        with pytest.raises(smtplib.SMTPRecipientsRefused, match="gone@"):
            SmtpMailer(bypassed(port)).send(msg)
    finally:
        ctl.stop()
