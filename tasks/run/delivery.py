"""Stages 5 and 6 of a run: owners' and recipients' emails, once each by the ledger, and
summary.json.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tasks.adapters.mail import Mailer
from tasks.adapters.outputs import OutputUnwritable, in_set
from tasks.delivering.notify import Delivery, deliver, plan_notices
from tasks.delivering.summary import build_summary
from tasks.run.analysis import Analysed
from tasks.run.inputs import Inputs
from tasks.run.papers import Rendered, edition_figures
from tasks.run.progress import PROGRESS
from tasks.run.publishing import SUMMARY_NAME
from tasks.settings.formatting import Edition
from tasks.store.history import HistoryStore


def notify(inputs: Inputs, rendered: Rendered, store: HistoryStore, mailer: Mailer,
           resend: bool) -> list[Delivery]:
    """Every recipient gets the edition configured for them, or waits for it: a message
    whose edition this run did not write is reported `waiting`, and sent by a later run."""
    contexts = rendered.contexts or {e: p.context for e, p in rendered.editions.items()}
    notices = plan_notices(inputs.config, contexts)
    authority = inputs.config.briefing.authority.code
    pdfs = {e: (p.pdf, f"{authority}-{inputs.cycle}-briefing-{e.value}.pdf")
            for e, p in rendered.editions.items()}
    sheets = {e: (data, f"{authority}-{inputs.cycle}-briefing-{e.value}.xlsx")
              for e, data in rendered.sheets.items()}
    packs: dict[str, list[tuple[bytes, str]]] = {}
    for name, (owner, _, pdf) in rendered.packs.items():
        packs.setdefault(owner, []).append((pdf, f"{name}.pdf"))
    for owner, (data, name) in rendered.returns.items():  # the owner's return to fill in
        packs.setdefault(owner, []).append((data, name))
    PROGRESS.sending = True
    PROGRESS.deliveries = deliver(notices, inputs.config, pdfs, mailer, store, inputs.cycle,
                                  resend=resend, sheets=sheets, packs=packs)
    return PROGRESS.deliveries


def write_summary(inputs: Inputs, analysed: Analysed, deliveries: list[Delivery],
                  target: Path, generated_at: datetime) -> Path:
    """summary.json: the restricted edition's results, every figure as it is."""
    figures = edition_figures(inputs, analysed, Edition.RESTRICTED)
    summary = build_summary(inputs.config, figures.results, figures.problems, deliveries,
                            inputs.cycle, generated_at, analysed.revisions,
                            figures.deep_dives, figures.breakdowns)
    path = in_set(target, SUMMARY_NAME)
    try:
        summary.write(path)
    except OSError as exc:
        raise OutputUnwritable(exc.errno, f"{path}: could not be written ({exc.strerror})") \
            from None
    return path
