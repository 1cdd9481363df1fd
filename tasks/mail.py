"""Sending mail behind one small interface: SMTP for real, an outbox folder, or memory.

SMTP settings come from environment variables only (never YAML), and a missing one fails
loudly before anything is sent. Passwords are never logged or put into error messages.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

from tasks.outputs import write_bytes_atomic

ENV_PREFIX = "BRIEFING_SMTP_"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class Mailer(Protocol):
    transport: str

    def send(self, message: EmailMessage) -> None: ...


class MailConfigError(Exception):
    """SMTP settings are missing or unsafe; the message names the environment variable."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls | ssl | none
    username: str | None
    password: str | None
    timeout: float
    ca_file: str | None = None  # an internal relay's own certificate authority
    retries: int = 3
    backoff: float = 2.0  # seconds before the first retry, doubling each time

    def __repr__(self) -> str:  # never show the password
        return (f"SmtpSettings(host={self.host!r}, port={self.port}, security={self.security!r}, "
                f"username={self.username!r}, password={'***' if self.password else None})")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SmtpSettings:
        e = dict(os.environ if env is None else env)
        host = e.get(ENV_PREFIX + "HOST", "").strip()
        if not host:
            raise MailConfigError(f"{ENV_PREFIX}HOST is not set: --send needs an SMTP server "
                                  "(see README, 'Sending email')")
        security = e.get(ENV_PREFIX + "SECURITY", "starttls").strip().lower()
        if security not in {"starttls", "ssl", "none"}:
            raise MailConfigError(f"{ENV_PREFIX}SECURITY must be starttls, ssl or none, "
                                  f"not {security!r}")
        if security == "none" and host not in LOCAL_HOSTS:
            raise MailConfigError(f"{ENV_PREFIX}SECURITY=none is only allowed for a server on "
                                  f"this machine, not {host!r}")
        default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
        try:
            port = int(e.get(ENV_PREFIX + "PORT", default_port))
            timeout = float(e.get(ENV_PREFIX + "TIMEOUT", 30))
        except ValueError as exc:
            raise MailConfigError(f"{ENV_PREFIX}PORT and {ENV_PREFIX}TIMEOUT must be numbers")\
                from exc
        user = e.get(ENV_PREFIX + "USERNAME") or None
        password = e.get(ENV_PREFIX + "PASSWORD") or None
        block = e.get(ENV_PREFIX + "PASSWORD_BLOCK") or None
        if password is None and block:
            password = _secret_from_prefect(block)
        if bool(user) != bool(password):
            raise MailConfigError(f"set both {ENV_PREFIX}USERNAME and {ENV_PREFIX}PASSWORD "
                                  f"(or {ENV_PREFIX}PASSWORD_BLOCK), or neither")
        ca_file = e.get(ENV_PREFIX + "CA_FILE") or None
        if ca_file and not Path(ca_file).is_file():
            raise MailConfigError(f"{ENV_PREFIX}CA_FILE: {ca_file} not found")
        try:
            retries = int(e.get(ENV_PREFIX + "RETRIES", 3))
            backoff = float(e.get(ENV_PREFIX + "BACKOFF", 2.0))
        except ValueError as exc:
            raise MailConfigError(f"{ENV_PREFIX}RETRIES and {ENV_PREFIX}BACKOFF must be "
                                  "numbers") from exc
        return cls(host, port, security, user, password, timeout, ca_file, retries, backoff)


def _secret_from_prefect(name: str) -> str:
    """The SMTP password from a Prefect Secret block, for deployments that keep it there."""
    try:
        from prefect.blocks.system import Secret

        value = Secret.load(name, _sync=True).get()  # type: ignore[call-arg,union-attr]
    except Exception as exc:
        raise MailConfigError(f"{ENV_PREFIX}PASSWORD_BLOCK: could not load the Prefect Secret "
                              f"block {name!r} ({type(exc).__name__})") from exc
    return str(value)


def is_transient(exc: BaseException) -> bool:
    """Worth trying again: the connection failed or dropped, or the server said 4xx."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError
                      | ConnectionError | TimeoutError | OSError)


class SmtpMailer:
    """SMTP with STARTTLS, implicit TLS, or plain on this machine; retries transient faults
    with backoff, never a message the server accepted or refused for good."""

    transport = "smtp"

    def __init__(self, settings: SmtpSettings, ssl_context: ssl.SSLContext | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.ssl_context = ssl_context or ssl.create_default_context(cafile=settings.ca_file)
        self.sleep = sleep

    def send(self, message: EmailMessage) -> None:
        delay = self.settings.backoff
        for attempt in range(self.settings.retries + 1):
            try:
                self._send_once(message)
                return
            except Exception as exc:
                if attempt == self.settings.retries or not is_transient(exc):
                    raise
                self.sleep(delay)
                delay *= 2

    def _send_once(self, message: EmailMessage) -> None:
        s = self.settings
        smtp: smtplib.SMTP
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self.ssl_context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        with smtp:
            if s.security == "starttls":
                smtp.starttls(context=self.ssl_context)
            if s.username and s.password:
                _login(smtp, s.username, s.password)
            smtp.send_message(message)


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH PLAIN when offered (one round trip; a refusal is a clear 535), else smtplib's
    own choice. Only ever over TLS or to this machine (see SmtpSettings)."""
    smtp.ehlo_or_helo_if_needed()
    if "PLAIN" in smtp.esmtp_features.get("auth", "").upper().split():
        smtp.user, smtp.password = user, password
        smtp.auth("PLAIN", smtp.auth_plain)
    else:
        smtp.login(user, password)


def choose_mailer(send: bool, outbox: Path) -> Mailer:
    """SMTP (settings from the environment) when sending for real, else the outbox."""
    return SmtpMailer(SmtpSettings.from_env()) if send else OutboxMailer(outbox)


def new_message(sender: str, to: str, subject: str) -> EmailMessage:
    """A message with the headers every one of ours carries: From, To, Subject, Date and a
    Message-ID in the sender's domain."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rsplit("@", 1)[-1])
    return msg


class OutboxMailer:
    """Writes each message as an .eml file: the default when not sending for real."""

    transport = "outbox"

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        to = re.sub(r"[^A-Za-z0-9.@_-]+", "_", parseaddr(str(message["To"]))[1])
        kind = re.sub(r"[^a-z-]+", "", str(message.get("X-Briefing-Kind", "message")))
        write_bytes_atomic(self.folder / f"{kind}-{to}.eml", bytes(message))


class MemoryMailer:
    transport = "memory"

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)
