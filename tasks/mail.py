"""Sending mail behind one small interface: SMTP for real, an outbox folder, or memory.

SMTP settings come from environment variables only (never YAML), and a missing one fails
loudly before anything is sent. Passwords are never logged or put into error messages.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
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
        if bool(user) != bool(password):
            raise MailConfigError(f"set both {ENV_PREFIX}USERNAME and {ENV_PREFIX}PASSWORD, "
                                  "or neither")
        return cls(host, port, security, user, password, timeout)


class SmtpMailer:
    transport = "smtp"

    def __init__(self, settings: SmtpSettings, ssl_context: ssl.SSLContext | None = None):
        self.settings = settings
        self.ssl_context = ssl_context or ssl.create_default_context()

    def send(self, message: EmailMessage) -> None:
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
                smtp.login(s.username, s.password)
            smtp.send_message(message)


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
