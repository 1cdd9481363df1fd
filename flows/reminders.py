"""The daily reminders flow: commentary reminders to owners, a late-paper notice to the clerk."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from prefect import flow, get_run_logger
from pydantic import Field

from tasks.adapters.mailers import choose_mailer
from tasks.adapters.outputs import RESTRICTED_DIR, cycle_dir, in_set
from tasks.delivering.notify import UNCERTAIN, MessagesNeedAttention
from tasks.delivering.reminders import due_reminders, plan_for, send_reminders, unanswered
from tasks.delivering.summary import Summary
from tasks.reading.commentary import read_commentary
from tasks.reading.owner_returns import read_returns, return_key, return_name, returns_folders
from tasks.reading.questions import read_questions
from tasks.settings.config import Config, run_config
from tasks.settings.environment import Settings
from tasks.store.history import store_for


@flow(name="meeting-reminders", log_prints=False)
def meeting_reminders(config_dir: str, exports_dir: str, out_dir: str = "outputs",
                      today: Annotated[str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
                      send: bool = False) -> None:
    """Remind owners whose exceptions have no commentary as the due date nears; tell the
    clerk if the paper for the next meeting is late. Each reminder goes once.

    Returns nothing: Prefect keeps a flow's return value where staff without restricted
    access read it, and who is reminded follows the restricted exceptions (issue 23).
    Who was, and how each message went, is in the outbox and the ledger (restricted).

    Args:
        config_dir: Folder with briefing.yaml (its meetings and papers timetable).
        exports_dir: Folder of the exports, where commentary.yaml is read.
        out_dir: The briefing's output folder (its summary.json and history store).
        today: The day to act for, YYYY-MM-DD (to re-run a day); empty: today.
        send: Email through SMTP; off: .eml files in <out>/<authority>/reminders/.
    """
    log = get_run_logger()
    settings = Settings.from_env()  # once, here
    config = run_config(Path(config_dir))
    day = date.fromisoformat(today) if today else date.today()
    plan = plan_for(config, day)
    if plan is None:
        log.info("No meeting ahead in briefing.yaml; nothing to do")
        return None
    out = Path(out_dir)
    code = config.briefing.authority.code
    summary_path = in_set(cycle_dir(out, code, plan.cycle), "summary.json")
    summary = Summary.read(summary_path) if summary_path.is_file() else None
    comments, _ = read_commentary(Path(exports_dir))
    # An owner who sent their return is not reminded of it.
    returned = read_returns(returns_folders(Path(config_dir), Path(exports_dir), config),
                            config, plan.cycle, return_key(Path(config_dir)), day)
    commented = {c.indicator for c in comments + returned.commentary if c.period == plan.cycle}
    workbooks = _workbooks(cycle_dir(out, code, plan.cycle), code, plan.cycle, config)
    # The committee's questions as the cycle's run stored them, less those answered since.
    store = store_for(out, settings.secret("store_url")) if summary is not None else None
    # A question the clerk deleted from the record is withdrawn (docs/owners.md).
    recorded = {e.ref for e in read_questions(Path(config_dir), config)[0]}
    asked = unanswered([q for q in store.questions(code) if q.ref in recorded],
                       {a.ref for a in returned.answers}, plan.meeting) \
        if store is not None else {}
    reminders = due_reminders(config, day, summary, commented, frozenset(workbooks), asked)
    results = []
    if reminders:
        mailer = choose_mailer(send, out / code / "reminders", settings)
        store = store or store_for(out, settings.secret("store_url"))
        results = send_reminders(reminders, config, plan, mailer, store, workbooks)
    # The same words whether any owner was reminded: who is follows the restricted
    # exceptions, and staff without restricted access read this log.
    log.info("Meeting %s: owners' reminders for %s done (who was reminded is in the "
             "restricted outbox and ledger)", plan.meeting, day)
    stranded = ["a reminder: a run stopped while sending it (briefing ledger lists it)"
                for _, status in results if status == UNCERTAIN]
    if stranded:  # never a success: the run is Failed until the operator settles them
        raise MessagesNeedAttention(stranded, {})
    return None


def _workbooks(folder: Path, code: str, cycle: str, config: Config
               ) -> dict[str, list[tuple[bytes, str]]]:
    """Each owner's return workbook that the cycle's run wrote (restricted), to go with
    their reminder: owner id -> [(bytes, file name)]."""
    out = {}
    for owner in config.owners:
        path = folder / RESTRICTED_DIR / return_name(code, cycle, owner)
        if path.is_file():
            out[owner] = [(path.read_bytes(), path.name)]
    return out
