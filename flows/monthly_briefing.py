"""The monthly briefing flow: validate, compare, render, store, notify, summarise."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from uuid import UUID

from flows import prefect_env

prefect_env.apply()

from prefect import flow, get_run_logger  # noqa: E402
from prefect.runtime import flow_run  # noqa: E402

from flows.failure import notify_operators  # noqa: E402
from tasks import steps  # noqa: E402
from tasks.formatting import Edition  # noqa: E402
from tasks.mail import choose_mailer  # noqa: E402
from tasks.outputs import cycle_dir  # noqa: E402
from tasks.problems import ValidationFailed, errors  # noqa: E402
from tasks.store import cycle_lock, store_for  # noqa: E402


def editions(choice: str) -> list[Edition]:
    if choice == "both":
        return list(Edition)
    try:
        return [Edition(choice)]
    except ValueError as exc:
        raise ValueError(f"edition must be both, public or restricted, not {choice!r}") from exc


def _rename(name: str) -> None:
    """Once the authority and cycle are known, the run takes their name (best effort)."""
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            run_id = flow_run.get_id()
            if run_id:
                client.update_flow_run(flow_run_id=UUID(run_id), name=name)
    except Exception as exc:  # naming is a courtesy; the briefing matters more
        get_run_logger().debug("could not rename the run: %s", exc)


def _run_name() -> str:
    """Runs are named for what they produce: authority and cycle, as asked."""
    p = flow_run.parameters
    who = p.get("authority") or Path(str(p.get("config_dir", "config"))).name
    return f"briefing-{who}-{p.get('cycle') or 'latest'}"


@flow(name="monthly-briefing", log_prints=False, flow_run_name=_run_name,
      on_failure=[notify_operators])
def monthly_briefing(config_dir: str, exports_dir: str, cycle: str | None = None,
                     out_dir: str = "outputs", send: bool = False,
                     resend: bool = False, authority: str | None = None,
                     edition: str = "both") -> dict[str, str]:
    """Produce the month's briefing (HTML, PDF, summary.json) and notify owners of breaches.

    Parameters: `config_dir` (indicators.yaml, owners.yaml, briefing.yaml, sources.yaml),
    `exports_dir` (the period's CSV and XLSX exports), `cycle` (YYYY-MM or YYYY; default the
    latest in the exports), `out_dir` (outputs and, by default, the history store),
    `send` (email through SMTP; otherwise .eml files in an outbox folder), `resend` (send
    again what this cycle already sent), `authority` (DfE code or name, instead of the one
    in briefing.yaml), `edition` (both, public or restricted).

    Raises ValidationFailed, writing and storing nothing, if the exports have errors.
    """
    log = get_run_logger()
    inputs = steps.validate_exports(Path(config_dir), Path(exports_dir), cycle,
                                    authority=authority)
    log.info("Read %d files: %d records, %d problems (%d errors) for cycle %s",
             len(inputs.files), len(inputs.records), len(inputs.problems),
             len(errors(inputs.problems)), inputs.cycle)
    if not inputs.ok:
        raise ValidationFailed(inputs.problems)
    out = Path(out_dir)
    code = inputs.config.briefing.authority.code
    _rename(f"briefing-{code}-{inputs.cycle}")
    mailer = choose_mailer(send, cycle_dir(out, code, inputs.cycle) / "outbox")
    store = store_for(out)
    with cycle_lock(store, code, inputs.cycle):  # the same cycle twice at once: one waits
        generated_at = datetime.now().astimezone()
        analysed = steps.compare_with_history(inputs, store)
        rendered = steps.render_briefing(inputs, analysed, generated_at, editions(edition))
        target = steps.store_and_publish(inputs, analysed, rendered, store, out)
        deliveries = steps.notify(inputs, rendered, store, mailer, resend)
        summary = steps.write_summary(inputs, analysed, deliveries, target, generated_at)
    log.info("Briefing written to %s; %d messages: %s", target, len(deliveries),
             ", ".join(sorted({d.status for d in deliveries})) or "none")
    return {"folder": str(target), "summary": str(summary), "cycle": inputs.cycle}
