"""The regional flow: a briefing per authority, then an overview that compares them.

On one machine the authorities are mapped across two processes. With `spread_to` naming a
deployment of `regional_part`, they are handed out in parts to that deployment's work pool,
so every worker (one per machine) takes parts; the history store is then the shared
database in BRIEFING_STORE_URL and `out_dir` a folder every worker can write.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, cast
from uuid import UUID

from prefect import flow, get_client, get_run_logger, unmapped
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run
from prefect.states import Cancelled, Cancelling
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner
from pydantic import Field

from tasks import steps
from tasks.adapters.outputs import write_json_atomic
from tasks.presenting import artifacts
from tasks.presenting.regional import (
    PartOutcome,
    merge_parts,
    named_failures,
    overview,
    read_part,
    split_parts,
)
from tasks.reading.authorities import published_index
from tasks.reading.files import Limits
from tasks.reading.sources import load_sources
from tasks.run.regional import write_overview
from tasks.settings.config import run_config
from tasks.settings.environment import Settings

ROOT = Path(__file__).resolve().parent.parent
DFE = str(ROOT.parent / "shared" / "data" / "dfe")

ReportingYear = Annotated[str | None, Field(pattern=r"^\d{4}$")]
EditionChoice = Literal["public", "restricted", "both"]

# Told of each authority as it finishes: (done, total, what). The `briefing regional`
# command sets it to draw a bar on a terminal; the flow runs in that same process.
PROGRESS_HOOK: Callable[[int, int, str], None] | None = None


def _runner(runner: TaskRunner[Any]) -> TaskRunner[PrefectFuture[Any]]:
    """Prefect types `flow(task_runner=...)` as TaskRunner[PrefectFuture[Any]], which none
    of the runners it ships is (the generic is invariant): one cast here, where it is said."""
    return cast(TaskRunner[PrefectFuture[Any]], runner)


class Progress:
    """'n of N' in the run's log, a progress artifact in the UI, and the command's bar."""

    def __init__(self, total: int, what: str) -> None:
        self.done, self.total, self.what = 0, total, what
        self.artifact: UUID | None = None
        try:
            self.artifact = cast(UUID, create_progress_artifact(
                0.0, key="regional-progress", description=f"{what}: 0 of {total}"))
        except Exception as exc:  # the UI's bar is a courtesy; the run goes on
            get_run_logger().warning("No progress artifact: %s", exc)
        self._tell(0, "starting")

    def _tell(self, done: int, line: str) -> None:
        if PROGRESS_HOOK is not None:
            try:
                PROGRESS_HOOK(done, self.total, line)
            except Exception as exc:  # a broken bar must not stop the run
                get_run_logger().warning("Progress bar: %s", exc)

    def advance(self, n: int, line: str) -> None:
        self.done += n
        get_run_logger().info("%d of %d: %s", self.done, self.total, line)
        if self.artifact is not None:
            try:
                update_progress_artifact(self.artifact, 100.0 * self.done / max(self.total, 1),
                                         description=f"{self.what}: {self.done} of "
                                                     f"{self.total}")
            except Exception as exc:
                get_run_logger().warning("Progress artifact not updated: %s", exc)
        self._tell(self.done, line)


def _brief_all(config_dir: str, exports_dir: str, codes: list[str], out_dir: str, cycle: str,
               edition: str, settings: Settings, today: date
               ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Map the authorities over the flow's task runner; one failing never stops the rest.
    Returns the overview's rows, and the reason for each authority (by code) not briefed,
    reporting progress as each one finishes (in whatever order)."""
    log = get_run_logger()
    futures = steps.brief_authority.map(unmapped(Path(config_dir)), unmapped(Path(exports_dir)),
                                  codes, unmapped(Path(out_dir)), unmapped(cycle),
                                  unmapped(edition), unmapped(None), unmapped(settings),
                                  today=unmapped(today))
    code_of = {id(f): code for code, f in zip(codes, futures, strict=True)}
    progress = Progress(len(codes), f"Briefing {len(codes)} authorities for {cycle}")
    results: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    for f in as_completed(list(futures)):
        code = code_of[id(f)]
        state = f.wait() or f.state
        if f.state.is_completed():
            row = f.result()
            results[code] = row
            progress.advance(1, f"{row['name']} ({code}) briefed")
        else:
            reason = f.result(raise_on_failure=False)
            failed[code] = str(reason)
            log.warning("No briefing for %s: %s", code, state)
            progress.advance(1, f"{code} not briefed")
    return ([results[c] for c in codes if c in results],
            {c: failed[c] for c in codes if c in failed})


def _parts_dir(out_dir: str, cycle: str) -> Path:
    return Path(out_dir) / "regional" / cycle / "parts"


def part_name(cycle: str, i: int, n: int) -> str:
    return f"regional-{cycle}-part-{i}-of-{n}"


def _regional_name() -> str:
    """`regional-<cycle>`, the latest reporting year resolved before the run starts."""
    p = flow_run.parameters
    cycle = p.get("cycle")
    if not cycle:
        try:
            _, cycle = published_index(Path(str(p.get("exports_dir"))),
                                       load_sources(Path(str(p.get("config_dir")))),
                                       Limits.from_settings(Settings.from_env()))
        except Exception:  # the run itself will say what is wrong
            cycle = None
    return f"regional-{cycle or 'latest'}"


@flow(name="regional-briefing-part",
      task_runner=_runner(ThreadPoolTaskRunner(max_workers=1)))
def regional_part(authorities: list[str], cycle: Annotated[str, Field(pattern=r"^\d{4}$")],
                  config_dir: str = "config/dfe", exports_dir: str = DFE,
                  out_dir: str = "outputs", edition: EditionChoice = "public") -> str:
    """One part of a spread regional run: brief these authorities one after another (the
    worker's machine gives one core to each part it runs) and leave the overview's rows
    where the regional run will read them. Named by the regional run that creates it
    (`regional-<cycle>-part-<i>-of-<n>`).

    Args:
        authorities: DfE codes of this part's authorities.
        cycle: The reporting year, e.g. 2025.
        config_dir: The DfE configuration (config/dfe).
        exports_dir: DfE's published files.
        out_dir: A folder every worker can write (a shared drive).
        edition: Which editions to write (public, restricted or both).
    """
    log = get_run_logger()
    settings = Settings.from_env()  # once, here (this part runs on its own worker)
    worker = settings.worker_name or ""
    log.info("Part of %d authorities on %s (worker %s)", len(authorities),
             socket.gethostname(), worker or "none")
    results, failed = _brief_all(config_dir, exports_dir, authorities, out_dir, cycle,
                                 edition, settings, date.today())
    path = _parts_dir(out_dir, cycle) / f"{flow_run.id}.json"
    write_json_atomic(path, {"results": results, "failed": failed, "worker": worker,
                             "host": socket.gethostname(), "authorities": authorities})
    return str(path)


def _spread(deployment: str, codes: list[str], part_size: int, config_dir: str,
            exports_dir: str, out_dir: str, cycle: str, edition: str,
            timeout_minutes: float) -> list[PartOutcome]:
    """Create one flow run per part on the deployment, then wait for all of them."""
    log = get_run_logger()
    runs = []
    parts = split_parts(codes, part_size)
    for i, part in enumerate(parts, 1):
        fr = run_deployment(deployment, timeout=0, flow_run_name=part_name(cycle, i, len(parts)),
                            parameters={"authorities": part, "cycle": cycle,
                                        "config_dir": config_dir, "exports_dir": exports_dir,
                                        "out_dir": out_dir, "edition": edition})
        if not isinstance(fr, FlowRun):  # called from sync code: the run, not a coroutine
            raise TypeError(f"run_deployment gave {type(fr).__name__}, not a flow run")
        runs.append((fr.id, part))
    log.info("Handed %d authorities to %s in %d parts", len(codes), deployment, len(runs))
    progress = Progress(len(codes), f"Briefing {len(codes)} authorities for {cycle} in "
                                    f"{len(runs)} parts")
    deadline = time.monotonic() + timeout_minutes * 60
    outcomes: dict[Any, PartOutcome] = {}
    with get_client(sync_client=True) as client:
        while len(outcomes) < len(runs):
            for run_id, part in runs:
                if run_id in outcomes:
                    continue
                state = client.read_flow_run(run_id).state
                final = state is not None and state.is_final()
                overdue = not final and time.monotonic() > deadline
                if overdue:
                    # Stop it, so that it cannot write its rows after the overview is made.
                    waiting = state is None or state.is_scheduled() or state.is_pending()
                    client.set_flow_run_state(run_id, Cancelled() if waiting else Cancelling(),
                                              force=True)
                if final or overdue:
                    name = (state.name or state.type.value) if final and state else (
                        f"still going after {timeout_minutes:g} minutes")
                    outcomes[run_id] = read_part(_parts_dir(out_dir, cycle) / f"{run_id}.json",
                                                 str(run_id), part, name)
                    log.info("Part %s: %s", run_id, outcomes[run_id].describe())
                    progress.advance(len(part), f"a part of {len(part)}: "
                                                f"{outcomes[run_id].describe()}")
            if len(outcomes) < len(runs):
                time.sleep(2)
    return [outcomes[run_id] for run_id, _ in runs]


@flow(name="regional-briefing", flow_run_name=_regional_name,
      task_runner=_runner(ProcessPoolTaskRunner(max_workers=2)))
def regional_briefing(config_dir: str = "config/dfe", exports_dir: str = DFE,
                      authorities: list[str] | None = None, out_dir: str = "outputs",
                      cycle: ReportingYear = None, edition: EditionChoice = "public",
                      spread_to: str | None = None,
                      part_size: Annotated[int, Field(ge=1)] = 10,
                      part_timeout_minutes: Annotated[float, Field(gt=0)] = 60) -> str:
    """A briefing for each authority (all in the published files when `authorities` is
    empty), then a regional overview under `<out>/regional/<cycle>/`. No mail is sent.

    Args:
        config_dir: The DfE configuration (config/dfe).
        exports_dir: DfE's published files.
        authorities: DfE codes or names to brief; empty: every authority in the files.
        out_dir: Where each authority's papers and the overview go.
        cycle: The reporting year, e.g. 2025 (the year to 31 March). Empty: the latest in
            the files.
        edition: Which editions to write for each authority (public, restricted or both);
            the overview is always built from the public figures.
        spread_to: A deployment of the part flow, e.g. regional-briefing-part/regional-part:
            the authorities are handed to its workers in parts. Empty: this machine, two
            processes.
        part_size: Authorities in each part, with spread_to.
        part_timeout_minutes: How long to wait for the parts; unfinished ones are then
            cancelled and their authorities named in the overview.
    """
    settings = Settings.from_env()  # once, here
    today = date.today()  # the run's clock: which periods have ended
    known, cycle, codes = _authorities(config_dir, exports_dir, authorities, cycle, settings)
    get_run_logger().info("Briefing %d authorities for %s", len(codes), cycle)
    if spread_to:
        parts = _spread(spread_to, codes, part_size, config_dir, exports_dir, out_dir, cycle,
                        edition, part_timeout_minutes)
        results, failed = merge_parts(parts, known)
    else:
        parts = []
        results, by_code = _brief_all(config_dir, exports_dir, codes, out_dir, cycle,
                                      edition, settings, today)
        failed = named_failures(by_code, known)
    if not results:
        raise RuntimeError("no authority could be briefed: " + "; ".join(failed))
    return str(_write_overview(config_dir, out_dir, cycle, results, failed, parts))


def _authorities(config_dir: str, exports_dir: str, authorities: list[str] | None,
                 cycle: str | None, settings: Settings) -> tuple[dict[str, str], str, list[str]]:
    """(every authority in the published files by code, the cycle, the codes to brief):
    one cycle for every row, the latest in the files unless one is given; names given
    turned to codes, each authority once (an unknown one fails alone, in its task)."""
    known, latest = published_index(Path(exports_dir), load_sources(Path(config_dir)),
                                    Limits.from_settings(settings))
    cycle = cycle or latest
    if cycle is None:
        raise FileNotFoundError(f"{exports_dir}: no published DfE file named in {config_dir}")
    by_name = {name.lower(): code for code, name in known.items()}
    codes = list(dict.fromkeys(by_name.get(a.strip().lower(), a.strip())
                               for a in authorities)) if authorities else sorted(known)
    return known, cycle, codes


def _write_overview(config_dir: str, out_dir: str, cycle: str, results: list[dict[str, Any]],
                    failed: list[str], parts: list[PartOutcome]) -> Path:
    """The overview of the authorities briefed, written under `<out>/regional/<cycle>/`
    with run.json (who was briefed, who failed, each part's outcome), and shown in the UI
    when it can be: its folder."""
    log = get_run_logger()
    ov = overview(run_config(Path(config_dir)), results, failed,
                  datetime.now().astimezone())
    folder = write_overview(ov, Path(out_dir) / "regional" / cycle)
    try:  # the overview's table in the UI; the overview is written without it
        artifacts.publish_overview(ov, failed)
    except Exception as exc:
        log.warning("Overview artifact not published: %s", exc)
    write_json_atomic(folder / "run.json", {
        "cycle": cycle, "briefed": [r["code"] for r in results], "failed": failed,
        "parts": [p.record() for p in parts]})
    log.info("Regional overview: %s (%d briefed, %d failed)", folder, len(results),
             len(failed))
    return folder
