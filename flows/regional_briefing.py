"""The regional flow: a briefing per authority, mapped across processes, and an overview."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flows import prefect_env

prefect_env.apply()

from prefect import flow, get_run_logger, task, unmapped  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.task_runners import ProcessPoolTaskRunner  # noqa: E402

from tasks import pipeline  # noqa: E402
from tasks.authorities import published_index  # noqa: E402
from tasks.config import load_config  # noqa: E402
from tasks.regional import overview, write_overview  # noqa: E402
from tasks.sources import load_sources  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

brief_authority = task(name="brief-authority", cache_policy=NO_CACHE, retries=0)(
    pipeline.brief_authority)


@flow(name="regional-briefing",
      task_runner=ProcessPoolTaskRunner(max_workers=2))  # type: ignore[arg-type]
def regional_briefing(config_dir: str = "config/dfe",
                      exports_dir: str = str(ROOT.parent / "shared" / "data" / "dfe"),
                      authorities: list[str] | None = None, out_dir: str = "outputs",
                      cycle: str | None = None, edition: str = "public") -> str:
    """A briefing for each authority (all in the published files when `authorities` is
    empty), then a regional overview under `<out>/regional/<cycle>/`. No mail is sent."""
    log = get_run_logger()
    sources = load_sources(Path(config_dir))
    known, latest = published_index(Path(exports_dir), sources)
    cycle = cycle or latest  # one cycle for every row
    by_name = {name.lower(): code for code, name in known.items()}
    # Names to codes, each authority once; an unknown one fails alone in its task.
    codes = list(dict.fromkeys(by_name.get(a.strip().lower(), a.strip())
                               for a in authorities)) if authorities else sorted(known)
    log.info("Briefing %d authorities", len(codes))
    futures = brief_authority.map(unmapped(Path(config_dir)), unmapped(Path(exports_dir)),
                                  codes, unmapped(Path(out_dir)), unmapped(cycle),
                                  unmapped(edition))
    results, failed = [], []
    for code, f in zip(codes, futures, strict=True):
        state = f.wait() or f.state
        if f.state.is_completed():
            results.append(f.result())
        else:
            reason = f.result(raise_on_failure=False)
            failed.append(f"{known.get(code, code)} ({reason})")
            log.warning("No briefing for %s: %s", code, state)
    if not results:
        raise RuntimeError("no authority could be briefed")
    ov = overview(load_config(Path(config_dir)), results, failed,
                  datetime.now().astimezone())
    folder = write_overview(ov, Path(out_dir) / "regional" / str(results[0]["cycle"]))
    log.info("Regional overview: %s (%d briefed, %d failed)", folder, len(results),
             len(failed))
    return str(folder)
