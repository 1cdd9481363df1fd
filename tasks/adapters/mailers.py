"""Which Mailer a run sends through: SMTP, Microsoft 365 (tasks.adapters.m365) or the outbox,
chosen once at the entry point from its settings. Apart from tasks.adapters.mail so that
both transports can build on that module without either importing the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tasks.adapters.m365 import m365_mailer
from tasks.adapters.mail import (
    TRANSPORT_ENV,
    TRANSPORTS,
    MailConfigError,
    Mailer,
    OutboxMailer,
    SmtpMailer,
    SmtpSettings,
)
from tasks.settings.environment import Settings


def mailer_from_env(env: Mapping[str, str]) -> Mailer:
    """`mailer_for` the variables in `env` alone (a test's, a subprocess's)."""
    return mailer_for(Settings.from_env(env))


def mailer_for(settings: Settings) -> Mailer:
    """The transport BRIEFING_MAIL_TRANSPORT names, its settings checked now (without
    touching the network), so that a missing one stops the run before anything is written."""
    transport = (settings.mail_transport if settings.mail_transport is not None else "smtp"
                 ).strip().lower() or "smtp"
    if transport not in TRANSPORTS:
        raise MailConfigError(f"{TRANSPORT_ENV} must be one of {', '.join(TRANSPORTS)}, not "
                              f"{transport!r}")
    if transport == "smtp":
        return SmtpMailer(SmtpSettings.from_settings(settings))
    return m365_mailer(transport, settings)


def choose_mailer(send: bool, outbox: Path, settings: Settings) -> Mailer:
    """Real mail (the transport and settings given) when sending, else the outbox."""
    return mailer_for(settings) if send else OutboxMailer(outbox)
