"""The product on a real Prefect server: `briefing serve` serves prefect.yaml's deployments,
a run is triggered with parameters by `prefect deployment run`, completes, and its email
arrives at a real SMTP server; and the schedule's next runs across a clocks change.

One server for the module (starting one costs 20 to 40 s on these machines).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, Inbox, free_port

BIN = Path(sys.executable).parent


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def _post(url: str, body: dict[str, object]) -> object:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def _wait(what: str, check: object, timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got = check()  # type: ignore[operator]
            if got:
                return got
        except Exception:
            pass
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false"}
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait("the Prefect server", lambda: _get(f"{api}/health") is True, 180)
        yield api, env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def test_triggered_run_with_parameters_completes_and_emails(
        server: tuple[str, dict[str, str]], smtp_server: tuple[str, int, Inbox],
        tmp_path: Path) -> None:
    api, env = server
    host, port, inbox = smtp_server
    env = {**env, "BRIEFING_SMTP_HOST": host, "BRIEFING_SMTP_PORT": str(port),
           "BRIEFING_SMTP_SECURITY": "none"}
    serve = subprocess.Popen([str(BIN / "briefing"), "serve"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        _wait("the served deployments", lambda: len(_post(
            f"{api}/deployments/filter", {}) or []) >= 2, 120)  # type: ignore[arg-type]
        out = tmp_path / "out"
        started = time.monotonic()
        run = subprocess.run(
            [str(BIN / "prefect"), "deployment", "run", "monthly-briefing/demo",
             "-p", "cycle=2024-10", "-p", f"out_dir={out}", "-p", "send=true"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
        run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", run.stdout)
        assert run_id, run.stdout
        _wait("the first email", lambda: inbox.messages, 300)
        first_email = time.monotonic() - started
        state = _wait("the run to finish", lambda: (
            r := _get(f"{api}/flow_runs/{run_id.group(1)}"))["state"]["type"]  # type: ignore[index]
            in {"COMPLETED", "FAILED", "CRASHED"} and r, 300)
        assert state["state"]["type"] == "COMPLETED"  # type: ignore[index]
        assert state["name"] == "briefing-999-2024-10"  # type: ignore[index]
        assert state["parameters"]["cycle"] == "2024-10"  # type: ignore[index]
        summary = json.loads((out / "999" / "2024-10" / "summary.json").read_text())
        assert {n["status"] for n in summary["notifications"]} == {"sent"}
        assert len(inbox.messages) == len(summary["notifications"]) == 9
        print(f"\ntrigger to first email: {first_email:.1f} s")  # quoted in the README
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=60)


def test_monthly_schedule_across_the_clocks_changing() -> None:
    import asyncio

    from prefect.server.schemas.schedules import RRuleSchedule

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    monthly = next(d for d in spec["deployments"] if d["name"] == "monthly")
    (s,) = monthly["schedules"]
    sched = RRuleSchedule(rrule=s["rrule"], timezone=s["timezone"])
    got = asyncio.run(sched.get_dates(6, start=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)))
    utc = [d.astimezone(dt.UTC) for d in got]
    # Third weekday of each month at 07:00 in London: GMT until the clocks go forward on
    # 30 March 2025, then BST (06:00 UTC).
    assert [(d.year, d.month, d.day, d.hour) for d in utc] == [
        (2025, 1, 3, 7), (2025, 2, 5, 7), (2025, 3, 5, 7),
        (2025, 4, 3, 6), (2025, 5, 5, 6), (2025, 6, 4, 6)]
    autumn = asyncio.run(sched.get_dates(2, start=dt.datetime(2025, 10, 1, tzinfo=dt.UTC)))
    # Clocks go back on 26 October: October's run is BST, November's GMT.
    assert [(d.astimezone(dt.UTC).day, d.astimezone(dt.UTC).hour) for d in autumn] == [
        (3, 6), (5, 7)]
    assert all(d.hour == 7 for d in got + autumn)  # always 07:00 local time
