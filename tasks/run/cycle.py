"""The one run sequence, for every flow: the steps of tasks/run/ in order, under the cycle's
lock, with one timestamp. `tasks.steps` gives the same steps as Prefect tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from tasks.adapters.mail import Mailer
from tasks.adapters.outputs import in_set
from tasks.delivering.notify import Delivery
from tasks.returns.reading import start_checks
from tasks.run import analysis, delivery, papers, publishing
from tasks.run.analysis import Analysed
from tasks.run.inputs import Inputs
from tasks.run.papers import Rendered
from tasks.run.progress import PROGRESS
from tasks.run.publishing import SUMMARY_NAME
from tasks.settings.formatting import Edition
from tasks.store.history import HistoryStore, cycle_lock


def _now() -> datetime:
    return datetime.now().astimezone()


def _no_pause(stage: str) -> None:
    """The default between stages: go straight on (tests hold a run here to kill it)."""


@dataclass(frozen=True)
class Resources:
    """What one run works with, chosen once at the entry point: the history store (and
    ledger), the output folder, how mail goes (None: no mail, as in a regional run), the
    clock that stamps the run, a hook called before each stage, and the date of the report
    on the paper's cover (None: the calendar's, from briefing.yaml's meetings)."""

    store: HistoryStore
    out_dir: Path
    mailer: Mailer | None = None
    clock: Callable[[], datetime] = _now
    pause: Callable[[str], None] = _no_pause
    report_date: date | None = None
    return_rules: bool = True  # DfE's rules over the returns (BRIEFING_RETURN_RULES=off)


class Steps(Protocol):
    """The coarse steps: PLAIN_STEPS, or `tasks.steps` (the same as Prefect tasks, so each
    shows in the flow run)."""

    @property
    def compare_with_history(self) -> Callable[[Inputs, HistoryStore], Analysed]: ...

    @property
    def render_briefing(self) -> Callable[[Inputs, Analysed, datetime, list[Edition],
                                           date | None, bool], Rendered]: ...

    @property
    def store_and_publish(self) -> Callable[[Inputs, Analysed, Rendered, HistoryStore, Path],
                                            Path]: ...

    @property
    def notify(self) -> Callable[[Inputs, Rendered, HistoryStore, Mailer, bool],
                                 list[Delivery]]: ...

    @property
    def write_summary(self) -> Callable[[Inputs, Analysed, list[Delivery], Path, datetime],
                                        Path]: ...

    @property
    def publish(self) -> Callable[[Inputs, Path, Path, datetime, list[Edition]], Path]: ...


@dataclass(frozen=True)
class PlainSteps:
    """The steps as plain functions, for a run outside a flow (the regional step, tests)."""

    compare_with_history: Callable[[Inputs, HistoryStore],
                                   Analysed] = analysis.compare_with_history
    render_briefing: Callable[[Inputs, Analysed, datetime, list[Edition], date | None, bool],
                              Rendered] = papers.render_briefing
    store_and_publish: Callable[[Inputs, Analysed, Rendered, HistoryStore, Path],
                                Path] = publishing.store_and_publish
    notify: Callable[[Inputs, Rendered, HistoryStore, Mailer, bool],
                     list[Delivery]] = delivery.notify
    write_summary: Callable[[Inputs, Analysed, list[Delivery], Path, datetime],
                            Path] = delivery.write_summary
    publish: Callable[[Inputs, Path, Path, datetime, list[Edition]], Path] = publishing.publish


PLAIN_STEPS = PlainSteps()


@dataclass(frozen=True)
class CycleRun:
    folder: Path
    summary: Path
    deliveries: list[Delivery]
    rendered: Rendered


def run_cycle(inputs: Inputs, resources: Resources, editions: list[Edition],
              resend: bool = False, steps: Steps | None = None) -> CycleRun:
    """The one run sequence, for every flow: under the cycle's lock, with one timestamp,
    compare, render, store and publish, notify, write the summary. `inputs` must be valid.
    """
    do: Steps = steps if steps is not None else PLAIN_STEPS
    PROGRESS.reset()  # this run's, from the start
    store, code = resources.store, inputs.config.briefing.authority.code
    start_checks(inputs.child_returns, resources.return_rules)  # beside the comparing
    with cycle_lock(store, code, inputs.cycle):  # the same cycle twice at once: one waits
        generated_at = resources.clock()
        analysed = do.compare_with_history(inputs, store)
        resources.pause("render")
        rendered = do.render_briefing(inputs, analysed, generated_at, editions,
                                      resources.report_date, resources.mailer is not None)
        resources.pause("publish")
        staging = do.store_and_publish(inputs, analysed, rendered, store, resources.out_dir)
        resources.pause("notify")
        deliveries = ([] if resources.mailer is None else
                      do.notify(inputs, rendered, store, resources.mailer, resend))
        resources.pause("summary")
        do.write_summary(inputs, analysed, deliveries, staging, generated_at)
        resources.pause("switch")
        folder = do.publish(inputs, staging, resources.out_dir, generated_at,
                            list(rendered.editions))
    return CycleRun(folder, in_set(folder, SUMMARY_NAME), deliveries, rendered)
