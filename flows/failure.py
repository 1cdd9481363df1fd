"""Telling the operators when a run fails: the error, and a link to the run.

An `on_failure` hook of the flow. It must never raise (Prefect would only log it) and
never depend on the thing that failed: it reads the operators from BRIEFING_OPERATORS, else
from `briefing.yaml` if that loads, and sends by SMTP when BRIEFING_SMTP_HOST is set.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tasks.adapters.mail import header_safe, mail_configured, new_message
from tasks.adapters.mailers import mailer_for
from tasks.delivering.notify import MessagesNeedAttention, allowed_address
from tasks.reading.problems import ValidationFailed
from tasks.settings.config import check_address, run_config
from tasks.settings.environment import Settings

OPERATORS_ENV = "BRIEFING_OPERATORS"


def failure_message(flow_name: str, run_name: str, link: str, error: BaseException | None,
                    sender: str, operators: list[str]) -> EmailMessage:
    msg = new_message(sender, operators, header_safe(f"Briefing run failed: {run_name}"))
    lines = [f"The {flow_name} run {run_name} failed.", "", f"Run: {link}", ""]
    if isinstance(error, ValidationFailed):
        lines.append(str(error) + ":")
        lines += [p.as_line() for p in error.problems if p.severity.value == "error"][:50]
    elif isinstance(error, MessagesNeedAttention):  # owners and codes, never figures
        lines += ["The briefing was produced. " + str(error) + ":", ""]
        lines += [f"- {line}" for line in error.lines[:100]]
        lines += ["", "Until each is settled with `briefing ledger`, every run of this cycle "
                      "ends this way (exit 8)."]
    elif error is not None:
        lines.append(f"{type(error).__name__}: {error}")
        lines.append("")
        lines.append("".join(traceback.format_exception(error))[-4000:])
    msg.set_content("\n".join(lines))
    return msg


def operators_from_env(env: Mapping[str, str]) -> list[str]:
    """`operators` from the variables in `env` alone (a test's)."""
    return operators(Settings.from_env(env))


def operators(settings: Settings) -> list[str]:
    """BRIEFING_OPERATORS, each address checked; raises ValueError naming a bad one."""
    raw = settings.operators or ""
    out = []
    for a in (a.strip() for a in raw.split(",")):
        if a:
            try:
                out.append(check_address(a))
            except ValueError as exc:
                raise ValueError(f"{OPERATORS_ENV}: {a[:80]!r}: {exc}") from None
    return out


def notify_operators(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect `on_failure` hook."""
    try:
        params = dict(flow_run.parameters or {})
        settings = Settings.from_env()  # the hook is an entry point of its own
        try:
            to = operators(settings)
        except ValueError as exc:  # checked before a CLI run; a deployment may still differ
            print(f"briefing: {exc}; the operators in briefing.yaml are told instead",
                  file=sys.stderr)
            to = []
        sender = "briefing@localhost"
        try:
            cfg = run_config(Path(params.get("config_dir", "config")))  # the run's, if kept
            to = to or list(cfg.briefing.mail.operators)
            sender = cfg.briefing.mail.sender
            refused = [a for a in to
                       if not allowed_address(a, list(cfg.briefing.mail.allowed_domains))]
            if refused:  # the same rule as every other message (tasks.delivering.notify)
                print(f"briefing: no failure alert to {', '.join(refused)}: not in "
                      "mail.allowed_domains", file=sys.stderr)
                to = [a for a in to if a not in refused]
        except Exception:  # the config may be what failed; the environment still works
            pass
        if not to:
            return
        ui = (settings.prefect_ui_url or "").rstrip("/")
        link = f"{ui}/runs/flow-run/{flow_run.id}" if ui else f"flow run id {flow_run.id}"
        try:
            error: BaseException | None = state.result(raise_on_failure=False)
        except Exception as exc:
            error = exc
        msg = failure_message(flow.name, flow_run.name, link,
                              error if isinstance(error, BaseException) else None, sender, to)
        if not mail_configured(settings):
            # Nowhere to send it; writing it into the outputs would break "a failed run
            # writes nothing". The failure is in Prefect's UI and logs.
            print(f"briefing: run failed; no alert sent (no mail transport set): {error}",
                  file=sys.stderr)
            return
        mailer_for(settings).send(msg)  # SMTP, or Microsoft 365 (BRIEFING_MAIL_TRANSPORT)
    except Exception:  # a failing alert must not hide the original failure
        traceback.print_exc()

