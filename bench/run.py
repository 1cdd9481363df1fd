"""Benchmark: where a briefing's time goes, and what the rules cost at national scale.

Run with `.venv/bin/python bench/run.py` (about a minute; add `--regional` for the run over
every authority, a few minutes more). Prints one table; the README quotes its output.
Numbers are wall-clock seconds on the machine that runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows import prefect_env  # noqa: E402

prefect_env.apply()

from tasks import pipeline  # noqa: E402
from tasks.mail import OutboxMailer  # noqa: E402
from tasks.spc import assurance, variation, xmr  # noqa: E402
from tasks.store import SqlHistoryStore  # noqa: E402

ROWS: list[tuple[str, str]] = []


def row(what: str, value: str) -> None:
    ROWS.append((what, value))
    print(f"{what:<72} {value}", flush=True)


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def cold(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env={**os.environ})
    return time.perf_counter() - t


FLOOR = """
from flows import prefect_env
prefect_env.apply()
from prefect import flow, task
@task
def step(x): return x + 1
@flow
def floor():
    x = 0
    for _ in range(6):
        x = step(x)
    return x
floor()
"""


def stages(label: str, config: Path, exports: Path) -> None:
    t, inputs = timed(lambda: pipeline.validate_exports(config, exports))
    row(f"{label}: read and validate exports ({len(inputs.records)} records)", f"{t:.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlHistoryStore(f"sqlite:///{tmp}/h.sqlite")
        t, analysed = timed(lambda: pipeline.compare_with_history(inputs, store), 3)
        row(f"{label}: compare (rules, benchmarks, SPC, plausibility)", f"{t:.3f} s")
        now = datetime.now().astimezone()
        from tasks.context import build_context
        from tasks.render import render_html, render_pdf

        t, ctx = timed(lambda: build_context(
            inputs.config, analysed.analysis, analysed.history, inputs.cycle,
            inputs.problems + analysed.problems, now, analysed.benchmarks, analysed.spc), 3)
        row(f"{label}: template context (charts' geometry included)", f"{t:.3f} s")
        t, html = timed(lambda: render_html(ctx), 3)
        charts = html.count('class="chart"')
        row(f"{label}: HTML from Jinja ({charts} inline SVG charts, "
            f"{t / max(charts, 1) * 1000:.2f} ms a chart at most)", f"{t:.3f} s")
        t, pdf = timed(lambda: render_pdf(html))
        import io

        from pypdf import PdfReader

        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        row(f"{label}: PDF by WeasyPrint ({pages} pages, {len(pdf) // 1024} KiB)", f"{t:.3f} s")
        chromium_peer(label, html)
        t, rendered = timed(lambda: pipeline.render_briefing(inputs, analysed, now))
        row(f"{label}: both editions (public, restricted), HTML and PDF", f"{t:.3f} s")
        out = Path(tmp) / "out"
        t, target = timed(lambda: pipeline.store_and_publish(inputs, analysed, rendered, store,
                                                             out))
        row(f"{label}: store the cycle (SQLite) and publish files", f"{t:.3f} s")
        t, deliveries = timed(lambda: pipeline.notify(inputs, rendered, store,
                                                      OutboxMailer(target / "outbox"), False))
        row(f"{label}: notify ({len(deliveries)} messages to the outbox)", f"{t:.3f} s")


CHROMIUM = "/usr/bin/chromium"


def chromium_peer(label: str, html: str) -> None:
    """The same HTML printed to PDF by headless Chromium, as a peer for WeasyPrint (the
    browser's start included: that is what a run would pay)."""
    if not os.path.exists(CHROMIUM):
        row(f"{label}: PDF by headless Chromium (peer)", "not installed")
        return
    import io

    from pypdf import PdfReader

    with tempfile.TemporaryDirectory() as tmp:
        page, pdf = Path(tmp) / "briefing.html", Path(tmp) / "briefing.pdf"
        page.write_text(html, encoding="utf-8")
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer",
               f"--print-to-pdf={pdf}", page.as_uri()]
        t = min(cold(cmd) for _ in range(2))
        pages = len(PdfReader(io.BytesIO(pdf.read_bytes())).pages)
        row(f"{label}: PDF by headless Chromium, peer ({pages} pages, "
            f"{pdf.stat().st_size // 1024} KiB, browser start included)", f"{t:.3f} s")


def store_scale(demo_config: Path, demo_exports: Path) -> None:
    """History of 153 authorities x 60 indicators x 10 years of months in one SQLite file:
    loading it, one authority's history, and the demo's analysis beside it vs alone."""
    import pandas as pd

    from tasks.store import HISTORY_COLUMNS, REVISION_COLUMNS

    rng = np.random.default_rng(7)
    periods = [f"{y}-{m:02d}" for y in range(2015, 2025) for m in range(1, 13)]
    indicators = [f"IND{i:02d}" for i in range(60)]
    grid = pd.MultiIndex.from_product([indicators, periods], names=["indicator", "period"])
    frame = grid.to_frame(index=False)
    frame["numerator"] = rng.integers(0, 400, len(frame)).astype("float64")
    frame["denominator"] = 400.0
    frame["value"] = frame["numerator"] / 4
    frame = frame[HISTORY_COLUMNS]
    none = pd.DataFrame(columns=REVISION_COLUMNS)
    inputs = pipeline.validate_exports(demo_config, demo_exports)
    with tempfile.TemporaryDirectory() as tmp:
        alone = SqlHistoryStore(f"sqlite:///{tmp}/alone.sqlite")
        t_alone, _ = timed(lambda: pipeline.compare_with_history(inputs, alone), 3)
        store = SqlHistoryStore(f"sqlite:///{tmp}/h.sqlite")
        codes = [str(800 + i) for i in range(152)]

        def load() -> None:
            for code in codes:
                store.commit_cycle(code, "2024-12", frame, none, ["bench"])

        t_load, _ = timed(load)
        rows = len(codes) * len(frame)
        size = Path(f"{tmp}/h.sqlite").stat().st_size / 2**20
        row(f"store: load 152 authorities x 60 indicators x 120 months ({rows:,} rows, "
            f"SQLite, {size:.0f} MiB)", f"{t_load:.1f} s")
        t_one, hist = timed(lambda: store.history("900"), 5)
        row(f"store: one authority's history from it ({len(hist):,} rows, one query)",
            f"{t_one:.3f} s")
        t_full, _ = timed(lambda: pipeline.compare_with_history(inputs, store), 3)
        row("store: demo compare step, alone in its store vs beside that history",
            f"{t_alone:.3f} s vs {t_full:.3f} s")


def spc_scale() -> None:
    rng = np.random.default_rng(1)
    series, points = 153 * 40, 120
    x = rng.normal(50, 5, (series, points))
    x[rng.random(x.shape) < 0.02] = np.nan
    sign = np.where(rng.random(series) < 0.5, 1.0, -1.0)
    tracemalloc.start()

    def run() -> None:
        r = xmr(x)
        variation(r, sign)
        assurance(r, np.full(series, 50.0), sign)

    t, _ = timed(run, 3)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    row("SPC: 153 authorities x 40 indicators x 120 periods, one call", f"{t:.3f} s, "
        f"{peak / 2**20:.0f} MiB peak")


REGIONAL = """
import sys
from flows.regional_briefing import regional_briefing
if __name__ == "__main__":
    regional_briefing(out_dir=sys.argv[1])
"""


def regional(dfe: Path) -> None:
    """Every authority in the DfE files, public edition, two processes; cold process."""
    import resource

    from tasks.authorities import known_authorities
    from tasks.sources import load_sources

    n = len(known_authorities(dfe, load_sources(ROOT / "config" / "dfe")))
    out = tempfile.mkdtemp()
    script = Path(out) / "regional_bench.py"
    script.write_text(REGIONAL)
    t = cold([sys.executable, str(script), out])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    briefed = len(list(Path(out).glob("*/2025/briefing-public.pdf")))
    row(f"regional: {briefed} of {n} authorities' briefings and the overview, cold process",
        f"{t:.0f} s, {briefed / t * 60:.0f} a minute, {peak:.0f} MiB peak (largest process)")


def main() -> None:
    print(f"{'what':<72} time", flush=True)
    py = sys.executable
    row("Prefect floor: trivial flow, 6 tasks, cold process (temporary server)",
        f"{cold([py, '-c', FLOOR]):.1f} s")
    row("`briefing demo`, cold process, whole command",
        f"{cold([py, '-m', 'flows.cli', 'demo', '--out', tempfile.mkdtemp()]):.1f} s")
    stages("demo", ROOT / "config", ROOT / "demo" / "exports")
    dfe = ROOT.parent / "shared" / "data" / "dfe"
    if dfe.is_dir():
        row("`briefing demo --real` (Torbay), cold process, whole command",
            f"{cold([py, '-m', 'flows.cli', 'demo', '--real', '--out', tempfile.mkdtemp()]):.1f} s")
        stages("real (Torbay)", ROOT / "config" / "dfe", dfe)
    spc_scale()
    store_scale(ROOT / "config", ROOT / "demo" / "exports")
    if dfe.is_dir() and "--regional" in sys.argv:
        regional(dfe)


if __name__ == "__main__":
    main()
