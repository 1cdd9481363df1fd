"""The daily reminders flow: commentary reminders to owners, a late-paper notice to the clerk."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from flows import prefect_env

prefect_env.apply()

from prefect import flow, get_run_logger  # noqa: E402

from tasks.commentary import read_commentary  # noqa: E402
from tasks.config import load_config  # noqa: E402
from tasks.mail import choose_mailer  # noqa: E402
from tasks.outputs import cycle_dir  # noqa: E402
from tasks.reminders import due_reminders, plan_for, send_reminders  # noqa: E402
from tasks.store import store_for  # noqa: E402


@flow(name="meeting-reminders", log_prints=False)
def meeting_reminders(config_dir: str, exports_dir: str, out_dir: str = "outputs",
                      today: str | None = None, send: bool = False) -> list[tuple[str, str]]:
    """Parameters: `today` (YYYY-MM-DD, default today) to re-run a day; `send` as for the
    briefing (false: .eml files in `<out>/<authority>/reminders/`)."""
    log = get_run_logger()
    config = load_config(Path(config_dir))
    day = date.fromisoformat(today) if today else date.today()
    plan = plan_for(config, day)
    if plan is None:
        log.info("No meeting ahead in briefing.yaml; nothing to do")
        return []
    out = Path(out_dir)
    code = config.briefing.authority.code
    summary_path = cycle_dir(out, code, plan.cycle) / "summary.json"
    summary = (json.loads(summary_path.read_text(encoding="utf-8"))
               if summary_path.is_file() else None)
    comments, _ = read_commentary(Path(exports_dir))
    commented = {c.indicator for c in comments if c.period == plan.cycle}
    reminders = due_reminders(config, day, summary, commented)
    if not reminders:
        log.info("Meeting %s: nothing due on %s", plan.meeting, day)
        return []
    mailer = choose_mailer(send, out / code / "reminders")
    store = store_for(out)
    results = send_reminders(reminders, config, plan, mailer, store)
    log.info("Meeting %s: %d reminder(s): %s", plan.meeting, len(results),
             ", ".join(s for _, s in results))
    return results
