"""Sending mail behind one small interface: SMTP for real (or Microsoft 365, tasks.adapters.m365),
an outbox folder, or memory; tasks.adapters.mailers chooses among them.

Settings come from environment variables only (never YAML), read once at the entry point
(tasks.settings.environment), and a missing one fails loudly before anything is sent. Passwords are
never logged or put into error messages.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from tasks.adapters.outputs import write_bytes_atomic
from tasks.settings.environment import NUMBERS, SettingError, Settings

ENV_PREFIX = "BRIEFING_SMTP_"
TRANSPORT_ENV = "BRIEFING_MAIL_TRANSPORT"
# smtp: user name and password (or none); smtp-oauth: SMTP AUTH XOAUTH2 with a Microsoft 365
# token; graph: Microsoft Graph sendMail (tasks.adapters.m365).
TRANSPORTS = ("smtp", "smtp-oauth", "graph")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
# Python 3.11's header folding can split a quoted display name and drop its quotes, so
# "Smith, John" <js@...> becomes two recipients when folded. Header text is validated to
# be short (tasks.settings.config.HEADER_TEXT_LIMIT), so our headers never need folding: lines up to
# RFC 5322's hard limit of 998 characters are written whole, and keep their meaning.
MAIL_POLICY = policy.default.clone(max_line_length=998)


class Mailer(Protocol):
    """`send` returns only once the message was accepted (by the server for every
    recipient, or written whole); anything else raises. The ledger records `sent` by it."""

    transport: str

    def send(self, message: EmailMessage) -> None: ...


# Every transport that reaches real mailboxes records under one name in the ledger, so a
# message sent by SMTP is not sent again by Graph when a council changes over mid-cycle.
REAL_MAIL = {"smtp", "smtp-oauth", "graph"}


def ledger_name(mailer: Mailer) -> str:
    return "smtp" if mailer.transport in REAL_MAIL else mailer.transport


class MailConfigError(Exception):
    """SMTP settings are missing or unsafe; the message names the environment variable."""


# The longest wait between two tries, however far the backoff has doubled; the most retries
# any transport makes of one message, whatever it is given.
MAX_WAIT = 300.0
MAX_RETRIES = int(NUMBERS["smtp_retries"].high)


def check_ranges(prefix: str, values: Mapping[str, float], field_prefix: str) -> None:
    """Each value within its setting's range (tasks.settings.environment.NUMBERS), else
    MailConfigError naming the setting: what a transport is given is never out of range."""
    for name, value in values.items():
        bound = NUMBERS[field_prefix + name]
        whole = not bound.whole or float(value).is_integer()
        if not (whole and bound.low <= value <= bound.high):  # False for nan too
            raise MailConfigError(f"{prefix}{name.upper()} must be {bound.describe()}, "
                                  f"not {value!r}")


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

    def __post_init__(self) -> None:
        """Built by hand or from the environment, the numbers are in their ranges (the
        same as the settings', tasks.settings.environment.NUMBERS)."""
        check_ranges(ENV_PREFIX, {"port": self.port, "timeout": self.timeout,
                                  "retries": self.retries, "backoff": self.backoff}, "smtp_")

    def __repr__(self) -> str:  # never show the password
        return (f"SmtpSettings(host={self.host!r}, port={self.port}, security={self.security!r}, "
                f"username={self.username!r}, password={'***' if self.password else None})")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings:
        """From the variables in `env` alone (a test's, a subprocess's)."""
        return cls.from_settings(Settings.from_env(env))

    @classmethod
    def from_settings(cls, s: Settings, default_host: str | None = None) -> SmtpSettings:
        """Checked now, before anything is sent; `default_host` is used when
        BRIEFING_SMTP_HOST is not set at all (Microsoft 365's server for smtp-oauth)."""
        host = (s.smtp_host if s.smtp_host is not None else default_host or "").strip()
        if not host:
            raise MailConfigError(f"{ENV_PREFIX}HOST is not set: --send needs an SMTP server "
                                  "(see docs/email.md)")
        security = (s.smtp_security if s.smtp_security is not None else "starttls"
                    ).strip().lower()
        if security not in {"starttls", "ssl", "none"}:
            raise MailConfigError(f"{ENV_PREFIX}SECURITY must be starttls, ssl or none, "
                                  f"not {security!r}")
        if security == "none" and host not in LOCAL_HOSTS:
            raise MailConfigError(f"{ENV_PREFIX}SECURITY=none is only allowed for a server on "
                                  f"this machine, not {host!r}")
        default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
        try:
            port = int(s.number("smtp_port", default_port))
            timeout = s.number("smtp_timeout", 30.0)
            retries = int(s.number("smtp_retries", 3))
            backoff = s.number("smtp_backoff", 2.0)
        except SettingError as exc:
            raise MailConfigError(str(exc)) from None
        user = s.smtp_username or None
        password = s.secret("smtp_password")
        block = s.smtp_password_block or None
        if password is None and block:
            password = secret_from_prefect(block)
        if bool(user) != bool(password):
            raise MailConfigError(f"set both {ENV_PREFIX}USERNAME and {ENV_PREFIX}PASSWORD "
                                  f"(or {ENV_PREFIX}PASSWORD_BLOCK), or neither")
        ca_file = s.smtp_ca_file or None
        if ca_file and not Path(ca_file).is_file():
            raise MailConfigError(f"{ENV_PREFIX}CA_FILE: {ca_file} not found")
        return cls(host, port, security, user, password, timeout, ca_file, retries, backoff)


def secret_from_prefect(name: str, variable: str = ENV_PREFIX + "PASSWORD_BLOCK") -> str:
    """A secret (the SMTP password, a client secret) from a Prefect Secret block, for
    deployments that keep it there; `variable` is the setting that named the block."""
    try:
        from prefect.blocks.system import Secret

        value = Secret.load(name, _sync=True).get()  # type: ignore[call-arg,union-attr]
    except Exception as exc:
        raise MailConfigError(f"{variable}: could not load the Prefect Secret "
                              f"block {name!r} ({type(exc).__name__})") from exc
    return str(value)


def is_transient(exc: BaseException) -> bool:
    """Worth trying again: the connection failed or dropped, or the server said 4xx (or,
    for an HTTP transport, the error says so in its `transient`)."""
    transient = getattr(exc, "transient", None)
    if isinstance(transient, bool):
        return transient
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
                 sleep: Callable[[float], None] = time.sleep,
                 authenticate: Callable[[smtplib.SMTP, EmailMessage], None] | None = None):
        self.settings = settings
        self.ssl_context = ssl_context or ssl.create_default_context(cafile=settings.ca_file)
        self.sleep = sleep
        # Instead of user name and password: another AUTH (XOAUTH2, tasks.adapters.m365).
        self.authenticate = authenticate

    def send(self, message: EmailMessage) -> None:
        """Returns only once the server has accepted the message for every recipient;
        anything else raises. At least one try whatever the settings say."""
        delay, tries = self.settings.backoff, 0
        while True:
            tries += 1
            try:
                self._send_once(message)
                return
            except Exception as exc:
                if tries > min(self.settings.retries, MAX_RETRIES) or not is_transient(exc):
                    raise
                self.sleep(min(delay, MAX_WAIT))
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
            if self.authenticate is not None:
                self.authenticate(smtp, message)
            elif s.username and s.password:
                _login(smtp, s.username, s.password)
            # The envelope comes from the header's parsed addresses, never from re-reading
            # its text, so what the server is told matches what was checked.
            refused = smtp.send_message(message, to_addrs=envelope_recipients(message))
            if refused:  # some recipients refused: not sent to them, so not sent
                raise smtplib.SMTPRecipientsRefused(refused)


def envelope_recipients(message: EmailMessage) -> list[str]:
    """The bare addresses in To, Cc and Bcc, from their structured header objects."""
    out: list[str] = []
    for name in ("To", "Cc", "Bcc"):
        for header in message.get_all(name, []):
            out += [a.addr_spec for a in getattr(header, "addresses", ())]
    if not out:
        raise ValueError("the message has no recipients")
    return out


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH PLAIN when offered (one round trip; a refusal is a clear 535), else smtplib's
    own choice. Only ever over TLS or to this machine (see SmtpSettings)."""
    smtp.ehlo_or_helo_if_needed()
    if "PLAIN" in smtp.esmtp_features.get("auth", "").upper().split():
        smtp.user, smtp.password = user, password
        smtp.auth("PLAIN", smtp.auth_plain)
    else:
        smtp.login(user, password)


def mail_configured(settings: Settings) -> bool:
    """Is there anywhere to send real mail (an operator's alert), by any transport?"""
    return settings.given("smtp_host") or (settings.mail_transport or "").strip().lower() in (
        "smtp-oauth", "graph")


def transport_name(settings: Settings) -> str:
    """The real transport's name, as the run's report says it."""
    return settings.mail_transport or "smtp"


def header_safe(text: str, limit: int = 200) -> str:
    """Text from outside the config (a run's name) made fit for a header: control
    characters replaced, whitespace runs made single spaces, cut short."""
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def mailbox(address: str, name: str = "") -> Address:
    """A header address from its parts: the display name is never parsed, so a comma or
    quote in it stays part of the name."""
    return Address(display_name=name, addr_spec=address)


def new_message(sender: Address | str, to: Address | str | Sequence[Address | str],
                subject: str) -> EmailMessage:
    """A message with the headers every one of ours carries: From, To, Subject, Date and a
    Message-ID in the sender's domain. Addresses are given as parts (`mailbox`), or as bare
    addresses; a header value with a line break or control character is refused."""
    def as_address(a: Address | str) -> Address:
        return a if isinstance(a, Address) else mailbox(a)

    msg = EmailMessage(policy=MAIL_POLICY)
    for value in (subject, *(a for a in (sender, to) if isinstance(a, str))):
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("a mail header may not contain a line break or control character")
    frm = as_address(sender)
    msg["From"] = frm
    msg["To"] = [as_address(a) for a in ([to] if isinstance(to, Address | str) else to)]
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=frm.domain or "localhost")
    return msg


class OutboxMailer:
    """Writes each message as an .eml file: the default when not sending for real. Two
    messages to one address in a run (owners who share a mailbox) get two files."""

    transport = "outbox"

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._written: set[str] = set()

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        to = re.sub(r"[^A-Za-z0-9.@_-]+", "_", ",".join(envelope_recipients(message)))
        kind = re.sub(r"[^a-z-]+", "", str(message.get("X-Briefing-Kind", "message")))
        name, n = f"{kind}-{to}", 1
        while name + ".eml" in self._written:
            n += 1
            name = f"{kind}-{to}-{n}"
        self._written.add(name + ".eml")
        write_bytes_atomic(self.folder / f"{name}.eml", bytes(message))

    def delivered(self, message_id: str) -> bool:
        """Whether a message with this Message-ID is in the outbox (each file is written
        whole or not at all): the evidence a stopped run's message needs."""
        from email.parser import BytesHeaderParser

        parser = BytesHeaderParser(policy=MAIL_POLICY)
        for path in self.folder.glob("*.eml") if self.folder.is_dir() else ():
            with open(path, "rb") as fh:
                if str(parser.parse(fh).get("Message-ID", "")).strip() == message_id.strip():
                    return True
        return False


class MemoryMailer:
    transport = "memory"

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)
