"""Telling the operators when a run fails: the error, and a link to the run.

An `on_failure` hook of the flow. It must never raise (Prefect would only log it) and
never depend on the thing that failed: it reads the operators from BRIEFING_OPERATORS, else
from `briefing.yaml` if that loads, and sends by SMTP when BRIEFING_SMTP_HOST is set.
"""

from __future__ import annotations

import os
import traceback
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tasks.config import load_config
from tasks.mail import SmtpMailer, SmtpSettings, new_message
from tasks.problems import ValidationFailed

OPERATORS_ENV = "BRIEFING_OPERATORS"


def failure_message(flow_name: str, run_name: str, link: str, error: BaseException | None,
                    sender: str, operators: list[str]) -> EmailMessage:
    msg = new_message(sender, ", ".join(operators), f"Briefing run failed: {run_name}")
    lines = [f"The {flow_name} run {run_name} failed.", "", f"Run: {link}", ""]
    if isinstance(error, ValidationFailed):
        lines.append(str(error) + ":")
        lines += [p.as_line() for p in error.problems if p.severity.value == "error"][:50]
    elif error is not None:
        lines.append(f"{type(error).__name__}: {error}")
        lines.append("")
        lines.append("".join(traceback.format_exception(error))[-4000:])
    msg.set_content("\n".join(lines))
    return msg


def notify_operators(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect `on_failure` hook."""
    try:
        params = dict(flow_run.parameters or {})
        operators = [a.strip() for a in os.environ.get(OPERATORS_ENV, "").split(",") if a.strip()]
        sender = "briefing@localhost"
        try:
            cfg = load_config(Path(params.get("config_dir", "config")))
            operators = operators or list(cfg.briefing.mail.operators)
            sender = cfg.briefing.mail.sender
        except Exception:  # the config may be what failed; the environment still works
            pass
        if not operators:
            return
        ui = os.environ.get("PREFECT_UI_URL", "").rstrip("/")
        link = f"{ui}/runs/flow-run/{flow_run.id}" if ui else f"flow run id {flow_run.id}"
        try:
            error: BaseException | None = state.result(raise_on_failure=False)
        except Exception as exc:
            error = exc
        msg = failure_message(flow.name, flow_run.name, link,
                              error if isinstance(error, BaseException) else None, sender,
                              operators)
        if not os.environ.get("BRIEFING_SMTP_HOST"):
            # Nowhere to send it; writing it into the outputs would break "a failed run
            # writes nothing". The failure is in Prefect's UI and logs.
            print(f"briefing: run failed; no alert sent (BRIEFING_SMTP_HOST not set): {error}")
            return
        SmtpMailer(SmtpSettings.from_env()).send(msg)
    except Exception:  # a failing alert must not hide the original failure
        traceback.print_exc()
