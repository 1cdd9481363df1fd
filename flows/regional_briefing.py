"""The regional flow: a briefing per authority, then an overview that compares them.

On one machine the authorities are mapped across two processes. With `spread_to` naming a
deployment of `regional_part`, they are handed out in parts to that deployment's work pool,
so every worker (one per machine) takes parts; the history store is then the shared
database in BRIEFING_STORE_URL and `out_dir` a folder every worker can write.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from flows import prefect_env

prefect_env.apply()

from prefect import flow, get_client, get_run_logger, task, unmapped  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.deployments import run_deployment  # noqa: E402
from prefect.runtime import flow_run  # noqa: E402
from prefect.states import Cancelled, Cancelling  # noqa: E402
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner  # noqa: E402

from tasks import pipeline  # noqa: E402
from tasks.authorities import published_index  # noqa: E402
from tasks.config import load_config  # noqa: E402
from tasks.outputs import write_json_atomic  # noqa: E402
from tasks.regional import (  # noqa: E402
    PartOutcome,
    merge_parts,
    named_failures,
    overview,
    read_part,
    split_parts,
    write_overview,
)
from tasks.sources import load_sources  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DFE = str(ROOT.parent / "shared" / "data" / "dfe")

brief_authority = task(name="brief-authority", cache_policy=NO_CACHE, retries=0)(
    pipeline.brief_authority)


def _brief_all(config_dir: str, exports_dir: str, codes: list[str], out_dir: str, cycle: str,
               edition: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Map the authorities over the flow's task runner; one failing never stops the rest.
    Returns the overview's rows, and the reason for each authority (by code) not briefed."""
    log = get_run_logger()
    futures = brief_authority.map(unmapped(Path(config_dir)), unmapped(Path(exports_dir)),
                                  codes, unmapped(Path(out_dir)), unmapped(cycle),
                                  unmapped(edition))
    results, failed = [], {}
    for code, f in zip(codes, futures, strict=True):
        state = f.wait() or f.state
        if f.state.is_completed():
            results.append(f.result())
        else:
            reason = f.result(raise_on_failure=False)
            failed[code] = str(reason)
            log.warning("No briefing for %s: %s", code, state)
    return results, failed


def _parts_dir(out_dir: str, cycle: str) -> Path:
    return Path(out_dir) / "regional" / cycle / "parts"


@flow(name="regional-briefing-part",
      task_runner=ThreadPoolTaskRunner(max_workers=1))  # type: ignore[arg-type]
def regional_part(authorities: list[str], cycle: str, config_dir: str = "config/dfe",
                  exports_dir: str = DFE, out_dir: str = "outputs",
                  edition: str = "public") -> str:
    """One part of a spread regional run: brief these authorities one after another (the
    worker's machine gives one core to each part it runs) and leave the overview's rows
    where the regional run will read them."""
    log = get_run_logger()
    worker = os.environ.get("PREFECT__WORKER_NAME", "")
    log.info("Part of %d authorities on %s (worker %s)", len(authorities),
             socket.gethostname(), worker or "none")
    results, failed = _brief_all(config_dir, exports_dir, authorities, out_dir, cycle,
                                 edition)
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
    for part in split_parts(codes, part_size):
        fr = run_deployment(deployment, timeout=0, parameters={
            "authorities": part, "cycle": cycle, "config_dir": config_dir,
            "exports_dir": exports_dir, "out_dir": out_dir, "edition": edition})
        runs.append((fr.id, part))  # type: ignore[union-attr]
    log.info("Handed %d authorities to %s in %d parts", len(codes), deployment, len(runs))
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
            if len(outcomes) < len(runs):
                time.sleep(2)
    return [outcomes[run_id] for run_id, _ in runs]


@flow(name="regional-briefing",
      task_runner=ProcessPoolTaskRunner(max_workers=2))  # type: ignore[arg-type]
def regional_briefing(config_dir: str = "config/dfe", exports_dir: str = DFE,
                      authorities: list[str] | None = None, out_dir: str = "outputs",
                      cycle: str | None = None, edition: str = "public",
                      spread_to: str | None = None, part_size: int = 10,
                      part_timeout_minutes: float = 60) -> str:
    """A briefing for each authority (all in the published files when `authorities` is
    empty), then a regional overview under `<out>/regional/<cycle>/`. No mail is sent.

    `spread_to`: a deployment of `regional_part` ("regional-briefing-part/<name>"); the
    authorities go to its workers in parts of `part_size`.
    """
    log = get_run_logger()
    sources = load_sources(Path(config_dir))
    known, latest = published_index(Path(exports_dir), sources)
    cycle = cycle or latest  # one cycle for every row
    if cycle is None:
        raise FileNotFoundError(f"{exports_dir}: no published DfE file named in {config_dir}")
    by_name = {name.lower(): code for code, name in known.items()}
    # Names to codes, each authority once; an unknown one fails alone in its task.
    codes = list(dict.fromkeys(by_name.get(a.strip().lower(), a.strip())
                               for a in authorities)) if authorities else sorted(known)
    log.info("Briefing %d authorities for %s", len(codes), cycle)
    if spread_to:
        parts = _spread(spread_to, codes, part_size, config_dir, exports_dir, out_dir, cycle,
                        edition, part_timeout_minutes)
        results, failed = merge_parts(parts, known)
    else:
        parts = []
        results, by_code = _brief_all(config_dir, exports_dir, codes, out_dir, cycle,
                                      edition)
        failed = named_failures(by_code, known)
    if not results:
        raise RuntimeError("no authority could be briefed: " + "; ".join(failed))
    ov = overview(load_config(Path(config_dir)), results, failed,
                  datetime.now().astimezone())
    folder = write_overview(ov, Path(out_dir) / "regional" / cycle)
    write_json_atomic(folder / "run.json", {
        "cycle": cycle, "briefed": [r["code"] for r in results], "failed": failed,
        "parts": [p.record() for p in parts]})
    log.info("Regional overview: %s (%d briefed, %d failed)", folder, len(results),
             len(failed))
    return str(folder)
