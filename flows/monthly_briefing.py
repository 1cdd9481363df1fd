"""The monthly briefing flow: validate, compare, render, store, notify, summarise."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Literal

from prefect import flow, get_run_logger
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Completed
from pydantic import BaseModel, ConfigDict, Field

from flows import stopping
from flows.failure import notify_operators
from flows.faults import classify
from tasks import steps
from tasks.adapters.mailers import choose_mailer
from tasks.adapters.outputs import outbox_dir
from tasks.delivering.notify import (
    BRIEFING,
    Delivery,
    MessagesNeedAttention,
    attention_lines,
    tally,
)
from tasks.presenting import artifacts, render
from tasks.reading.files import Limits
from tasks.reading.problems import ValidationFailed, errors
from tasks.run.cycle import CycleRun, Resources, run_cycle
from tasks.run.inputs import Inputs, validate_exports
from tasks.settings.calendar import LONDON, not_run_day
from tasks.settings.config import run_config
from tasks.settings.environment import Settings
from tasks.settings.formatting import Edition
from tasks.store.history import store_for

# A period as `tasks.settings.periods` reads it: the run form in Prefect's UI checks it as typed.
CYCLE_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2]|Q[1-4]))?$"


Cycle = Annotated[str | None, Field(pattern=CYCLE_PATTERN)]
EditionChoice = Literal["both", "public", "restricted"]


class BriefingDone(BaseModel):
    """What a run gives back to whoever started it (the `briefing` command): typed, so that
    a count arrives as a number and a folder as a path, not as text to be parsed again."""

    model_config = ConfigDict(frozen=True)

    folder: Path
    summary: Path
    cycle: str
    headline: str  # the public edition's counts, for a console anyone may read
    withheld: int  # figures withheld for an error in their cell
    cell_errors: int  # errors in the exports' cells (each withholds a figure)


def editions(choice: str) -> list[Edition]:
    if choice == "both":
        return list(Edition)
    try:
        return [Edition(choice)]
    except ValueError as exc:
        raise ValueError(f"edition must be both, public or restricted, not {choice!r}") from exc


class _OutcomeNotCrash(logging.Filter):
    """A run stopped by errors in its exports has an outcome to report, not a crash to
    debug. Prefect logs a flow's exception with its traceback, printed above the errors
    themselves; for this one the traceback is dropped and its one line kept. The run still
    ends Failed (the operators are alerted), and the errors follow, one a line. The same
    for a fault of the store, Prefect's API or the output folder (flows.faults): the
    command says it in one line with its own exit code. The same for messages that need
    attention (the paper was produced; some mail is uncertain)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and (isinstance(error, ValidationFailed | MessagesNeedAttention)
                                  or classify(error)):
            record.exc_info, record.exc_text = None, None
        return True


for _logger in ("prefect.flow_runs", "prefect.task_runs"):
    logging.getLogger(_logger).addFilter(_OutcomeNotCrash())


PAUSE_ENV = "BRIEFING_PAUSE_BEFORE"


RESUME_ENV = "BRIEFING_PAUSE_RESUME"  # a file whose appearance ends the pause


def pause_before(wanted: str | None) -> Callable[[str], None]:
    """Fault injection: with BRIEFING_PAUSE_BEFORE=<stage> the run holds there (saying so
    on stderr) so that a test can kill it at that point for real (tests/e2e/test_crash.py), or
    break something under it and let it go on (BRIEFING_PAUSE_RESUME names a file: the run
    goes on when it appears)."""
    resume = os.environ.get(RESUME_ENV)

    def pause(stage: str) -> None:
        if wanted == stage:
            print(f"briefing: paused before {stage} ({PAUSE_ENV})", file=sys.stderr,
                  flush=True)
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline and not (resume and Path(resume).exists()):
                time.sleep(0.1)

    return pause


def _when() -> datetime:
    """The moment the run was scheduled for (a late start still counts as its day)."""
    scheduled = flow_run.scheduled_start_time
    return scheduled if isinstance(scheduled, datetime) else datetime.now(UTC)


def _skip_reason(config_dir: str) -> str | None:
    """Why a scheduled run does nothing today, or None on the run day."""
    config = run_config(Path(config_dir))
    return not_run_day(_when(), config.briefing.papers.run_working_day)


def run_identity(config_dir: str, exports_dir: str, cycle: str | None,
                 authority: str | None, today: date,
                 limits: Limits | None = None, allow_empty: bool = True) -> tuple[str, str]:
    """(authority code, cycle) that a run will brief, "latest" resolved. Reads the exports
    only when it must: for the latest cycle, or an authority given by name; and then keeps
    them for the run (validate_exports(keep=True)), read as the run reads them
    (`allow_empty`). `today`: the day "latest" is judged on."""
    code = run_config(Path(config_dir)).briefing.authority.code
    given = (authority or "").strip()
    named = bool(given) and not (given.isdigit() and len(given) == 3)
    if named or cycle is None:
        inputs = validate_exports(Path(config_dir), Path(exports_dir), cycle,
                                           today=today, authority=authority, limits=limits,
                                           allow_empty=allow_empty, keep=True)
        code = inputs.config.briefing.authority.code if named else code
        cycle = inputs.cycle
    return (given if given and not named else code), cycle


def _run_name() -> str:
    """`briefing-<authority code>-<cycle>`, known before the run starts, so the UI, the
    logs and the failure email all use it; `briefing-<code>-not-run-day-<date>` for a
    scheduled run on another day."""
    p = flow_run.parameters
    config_dir, exports_dir = str(p.get("config_dir")), str(p.get("exports_dir"))
    cycle, authority = p.get("cycle"), p.get("authority")
    try:
        if p.get("only_on_run_day") and _skip_reason(config_dir):
            code = run_config(Path(config_dir)).briefing.authority.code
            return f"briefing-{code}-not-run-day-{_when().astimezone(LONDON):%Y-%m-%d}"
        limits = Limits.from_settings(Settings.from_env())  # the name is made before the run
        code, cycle = run_identity(config_dir, exports_dir, cycle, authority, date.today(),
                                   limits, bool(p.get("allow_empty", False)))
    except Exception:  # the run itself will say what is wrong; the name is a courtesy
        code = authority or Path(config_dir).name
    return f"briefing-{code}-{cycle or 'latest'}"


def briefing_mail(deliveries: list[Delivery]) -> str:
    """The briefing's messages to its recipients, counted; owners' messages are not: one
    goes to an owner whose figures breach, which may rest on a hidden figure."""
    counted = tally([(d.status, d.transport) for d in deliveries if d.kind == BRIEFING])
    return (f"The briefing to its recipients: {counted}; owners' messages are in the "
            "restricted summary.json")


@flow(name="monthly-briefing", log_prints=False, flow_run_name=_run_name,
      on_failure=[notify_operators])
def monthly_briefing(config_dir: str, exports_dir: str, cycle: Cycle = None,
                     out_dir: str = "outputs", send: bool = False,
                     resend: bool = False, authority: str | None = None,
                     edition: EditionChoice = "both", allow_empty: bool = False,
                     only_on_run_day: bool = False,
                     strict: bool | None = None,
                     report_date: date | None = None) -> BriefingDone | State:
    """Produce the month's briefing (HTML, PDF, summary.json) and notify owners of breaches.

    Raises ValidationFailed, writing and storing nothing, if the exports have an error about
    a whole file (or any error, when strict), and NoFiguresForCycle if the cycle asked for
    has no figures (unless `allow_empty`). An error in one cell withholds that figure: the
    briefing says where, and the result's `withheld` counts them.

    Args:
        config_dir: Folder with indicators.yaml, owners.yaml, briefing.yaml and
            sources.yaml (relative to the checkout, or absolute).
        exports_dir: Folder of the month's CSV and XLSX exports.
        cycle: The period to brief: YYYY-MM (a month), YYYY-Qn (a quarter) or YYYY (a DfE
            reporting year). Empty: the latest period in the exports.
        out_dir: The output folder: each cycle's papers in <out>/<authority>/<cycle>/,
            public/ (publish this folder, and only this) and restricted/ (with
            summary.json); the history store (history.sqlite) unless BRIEFING_STORE_URL.
        send: Email through SMTP (BRIEFING_SMTP_* settings). Off: .eml files in
            <out>/<authority>/outbox/<cycle>/.
        resend: Send again the messages this cycle already sent.
        authority: Brief this authority (DfE code or name, from the published files among
            the exports) instead of the one in briefing.yaml.
        edition: Which editions to write: both, public (published with the agenda) or
            restricted (every figure, for officers).
        allow_empty: Brief a cycle that has no figures at all; otherwise such a cycle (a
            typo) stops the run.
        only_on_run_day: Set by the schedule: run only on the month's run day (the Nth
            working day, papers.run_working_day in briefing.yaml, bank holidays excluded);
            on any other day end at once, Completed, saying when the run day is.
        strict: Any error in the exports stops the run, even one in a single cell (which
            otherwise withholds only that figure). Empty: rules.strict in briefing.yaml.
        report_date: The date of the report on the paper's cover. Empty: the publication
            day of the meeting in briefing.yaml's meetings that takes this cycle's paper
            (five clear working days before it), else "to be confirmed".
    """
    stopping.watch()  # a SIGTERM heard before the engine acts on it (flows.stopping)
    settings = Settings.from_env()  # once, here: everything below is given what it needs
    settings.check_numbers()  # a deployment's run stops here on a bad mail setting
    if only_on_run_day and (why := _skip_reason(config_dir)):
        get_run_logger().info("%s", why)
        return Completed(message=why)
    render.warm_up(len(editions(edition)))  # PDF helpers start while the exports are read
    inputs = _valid_inputs(config_dir, exports_dir, cycle, authority, allow_empty, strict,
                           settings)
    resources = _resources(inputs, Path(out_dir), send, report_date, settings)
    done = run_cycle(inputs, resources, editions(edition), resend, steps)
    result = _done(inputs, done, settings)
    attention = attention_lines(done.deliveries)
    if attention:  # never a success: the run is Failed and the operators are told
        raise MessagesNeedAttention(attention, result)
    return result


def _valid_inputs(config_dir: str, exports_dir: str, cycle: str | None,
                  authority: str | None, allow_empty: bool, strict: bool | None,
                  settings: Settings) -> Inputs:
    """The exports read and checked (the validate-exports task), counted in the log; and
    ValidationFailed, before anything is written or stored, when their errors stop the run."""
    inputs = steps.validate_exports(Path(config_dir), Path(exports_dir), cycle,
                                    today=date.today(), authority=authority,
                                    allow_empty=allow_empty, strict=strict,
                                    limits=Limits.from_settings(settings))
    # Staff without restricted access read this log: no count here may rest on a figure
    # about 1 to 5 children (how many findings there are can: docs/public-edition.md).
    get_run_logger().info(
        "Read %d files: %d records for cycle %s; %d errors in the exports' cells",
        len(inputs.files), len(inputs.records), inputs.cycle, len(errors(inputs.problems)))
    if not inputs.ok:
        raise ValidationFailed(inputs.problems)
    return inputs


def _resources(inputs: Inputs, out: Path, send: bool, report_date: date | None,
               settings: Settings) -> Resources:
    """What the run works with, from the settings read once: the history store, the
    output folder, the mail (SMTP, or the cycle's outbox), the pause a test may ask for."""
    code = inputs.config.briefing.authority.code
    mailer = choose_mailer(send, outbox_dir(out, code, inputs.cycle), settings)
    return Resources(store_for(out, settings.secret("store_url")), out, mailer,
                     pause=pause_before(settings.pause_before), report_date=report_date,
                     return_rules=settings.runs_return_rules)


def _done(inputs: Inputs, done: CycleRun, settings: Settings) -> BriefingDone:
    """The run's headlines on the run itself (the UI's Artifacts tab, the log), from the
    public edition, and its typed result."""
    log = get_run_logger()
    public = done.rendered.contexts[Edition.PUBLIC]
    try:
        artifacts.publish_briefing(public, done.folder, settings.papers_url)
    except Exception as exc:
        log.warning("Artifacts not published: %s", exc)
    log.info("Briefing written to %s: %s. %s", done.folder, artifacts.headline(public),
             briefing_mail(done.deliveries))
    return BriefingDone(folder=done.folder, summary=done.summary, cycle=inputs.cycle,
                        headline=artifacts.headline(public), withheld=len(inputs.withheld),
                        cell_errors=len(errors(inputs.problems)))
