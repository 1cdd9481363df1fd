"""The regional run spread over two workers, with PostgreSQL behind everything.

The production shape on one machine: PostgreSQL (Debian's packages) holding both the Prefect
server's database and the history store; a Prefect server on it; a process work pool with two
workers, each with its own PREFECT_HOME as if on its own machine; the deployments created by
`prefect deploy` from prefect.yaml; the regional run triggered by `prefect deployment run`.
It hands a sample of DfE's authorities to the workers in parts (the smallest and the
largest, one with no figures for the year among them), and each one's briefing, its stored
history and its row in the overview are checked. That every authority in the files can be
briefed is tested without the engine (tests/e2e/test_dfe.py): the spreading does not depend on
how many there are, and all 158 cost five minutes of the suite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tasks.adapters.outputs import in_set
from tests.conftest import ROOT, free_port
from tests.e2e.test_server import _get, _wait
from tests.postgres import postgres_server

BIN = Path(sys.executable).parent
DFE = ROOT.parent / "shared" / "data" / "dfe"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not DFE.is_dir(), reason="../shared/data/dfe is not beside "
                                 "the project")]
# City of London (the smallest, most figures suppressed), Birmingham (the largest), Torbay,
# Barnet, Knowsley, Gateshead, Hampshire, and Dorset's old council (835: no figures since
# 2019, named in the overview): four parts, so that both workers take some.
SAMPLE = ["201", "330", "880", "302", "340", "390", "850", "835"]
NO_FIGURES = {"835"}
PART_SIZE = 2


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], str]]:
    """PostgreSQL, a Prefect server on it, the deployments, and two workers."""
    tmp = tmp_path_factory.mktemp("cluster")
    with postgres_server(["prefect", "history"]) as pg:
        api = f"http://127.0.0.1:{free_port()}/api"
        env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_HOME": str(tmp / "server-home"),
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false",
               "PREFECT_API_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://{pg}/prefect",
               "BRIEFING_HOME": str(ROOT),
               "BRIEFING_STORE_URL": f"postgresql+psycopg://{pg}/history",
               "PREFECT_WORKER_QUERY_SECONDS": "2"}
        port = api.split(":")[2].split("/")[0]
        procs = [_start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                         "--port", port], env, tmp / "server.log")]
        try:
            _wait("the Prefect server", lambda: _get(f"{api}/health") is True, 180)
            for cmd in (["work-pool", "create", "briefing", "--type", "process"],
                        ["--no-prompt", "deploy", "--name", "regional", "--name",
                         "regional-part"]):
                done = subprocess.run([str(BIN / "prefect"), *cmd], cwd=ROOT, env=env,
                                      capture_output=True, text=True, timeout=180)
                assert done.returncode == 0, done.stdout + done.stderr
            for name in ("worker-a", "worker-b"):
                home = tmp / f"{name}-home"  # as if on its own machine
                procs.append(_start([str(BIN / "prefect"), "worker", "start", "--pool",
                                     "briefing", "--name", name, "--limit", "2"],
                                    {**env, "PREFECT_HOME": str(home)}, tmp / f"{name}.log"))
            yield env, pg
        finally:
            for proc in reversed(procs):
                _stop(proc)


def test_regional_run_spread_over_two_workers_on_postgresql(
        cluster: tuple[dict[str, str], str], tmp_path: Path) -> None:
    import psycopg

    from tasks.reading.authorities import published_index
    from tasks.reading.sources import load_sources

    env, pg = cluster
    known, cycle = published_index(DFE, load_sources(ROOT / "config" / "dfe"))
    out = tmp_path / "out"
    assert set(SAMPLE) <= set(known)
    params = {"exports_dir": str(DFE), "out_dir": str(out), "part_size": PART_SIZE,
              "authorities": SAMPLE, "spread_to": "regional-briefing-part/regional-part"}
    started = time.monotonic()
    run = subprocess.run([str(BIN / "prefect"), "deployment", "run",
                          "regional-briefing/regional", "--params", json.dumps(params)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    run_id = run.stdout.split("UUID:")[1].split()[0]
    api = env["PREFECT_API_URL"]
    final = _wait("the regional run", lambda: (
        r := _get(f"{api}/flow_runs/{run_id}"))["state"]["type"]  # type: ignore[index]
        in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"} and r, 1500)
    print(f"\nregional run over {len(SAMPLE)} authorities on two workers: "
          f"{time.monotonic() - started:.0f} s")
    assert final["state"]["type"] == "COMPLETED", final["state"]  # type: ignore[index]

    folder = out / "regional" / str(cycle)
    record = json.loads((folder / "run.json").read_text())
    # Every part ran to completion, and both workers took parts.
    parts = record["parts"]
    assert len(parts) == -(-len(SAMPLE) // PART_SIZE)
    assert {p["state"] for p in parts} == {"Completed"}
    assert {p["worker"] for p in parts} == {"worker-a", "worker-b"}
    assert sorted(a for p in parts for a in p["authorities"]) == sorted(SAMPLE)

    # Every authority either has its briefing or is named in the overview with the reason.
    briefed = set(record["briefed"])
    assert {f.split(" (")[0] for f in record["failed"]} == {known[c] for c in NO_FIGURES}
    assert len(briefed) + len(record["failed"]) == len(SAMPLE)
    assert all("no figures for" in f for f in record["failed"]), record["failed"]
    assert briefed == set(SAMPLE) - NO_FIGURES
    soup = BeautifulSoup((folder / "overview.html").read_text(), "html.parser")
    rows = {th.get_text(" ", strip=True) for th in soup.select("tbody th[scope=row]")}
    assert rows == {f"{known[c]} ({c})" for c in briefed}
    for code in briefed:
        summary = json.loads(in_set(out / code / str(cycle), "summary.json").read_text())
        assert summary["authority"]["code"] == code and summary["cycle"] == str(cycle)
        pdf = in_set(out / code / str(cycle), "briefing-public.pdf")
        assert pdf.read_bytes().startswith(b"%PDF"), code
    assert (folder / "overview.pdf").read_bytes().startswith(b"%PDF")

    # The history is in PostgreSQL, one cycle stored per authority; so are Prefect's runs.
    with psycopg.connect(f"postgresql://{pg}/history") as conn:
        stored = dict(conn.execute("SELECT authority, count(*) FROM cycles GROUP BY authority"
                                   ).fetchall())
    assert set(stored) == briefed and set(stored.values()) == {1}
    with psycopg.connect(f"postgresql://{pg}/prefect") as conn:
        (runs,) = conn.execute("SELECT count(*) FROM flow_run").fetchone()  # type: ignore[misc]
    assert runs == len(parts) + 1
