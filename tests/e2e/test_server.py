"""The product on Prefect, as a new user meets it: `briefing serve` alone on one machine (no
PREFECT_API_URL, no server started beforehand) serves prefect.yaml's deployments; a run
triggered with parameters by `prefect deployment run` completes, named for its authority
and cycle, its email arrives at a real SMTP server, its artifacts (read back through
Prefect's client) hold no figure the public edition withholds, and the Prefect UI in
headless Chromium shows the summary artifact on the run's page. A scheduled run on a day
that is not the run day ends at once, Completed, saying why.

One `briefing serve` (and so one server) for the module: it costs 15 to 40 s to start.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.adapters.outputs import in_set
from tests.conftest import ROOT, Inbox, free_port
from tests.integration.test_accessibility import need
from tests.integration.test_artifacts import assert_no_withheld_figure, withheld_figures

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def _post(url: str, body: dict[str, object]) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def _wait(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got = check()
            if got:
                return got
        except Exception:
            pass
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Served:
    def __init__(self, api: str, env: dict[str, str], inbox: Inbox, out: Path) -> None:
        self.api, self.env, self.inbox, self.out = api, env, inbox, out

    @property
    def ui(self) -> str:
        return self.api.removesuffix("/api")

    def trigger(self, deployment: str, *args: str) -> str:
        """`prefect deployment run`, as docs/operations.md tells a user to: the new run's id."""
        done = subprocess.run([str(BIN / "prefect"), "deployment", "run", deployment, *args],
                              cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=120, check=True)
        run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", done.stdout)
        assert run_id, done.stdout
        return run_id.group(1)

    def finished(self, run_id: str, timeout: float = 300) -> dict[str, Any]:
        return _wait(f"run {run_id} to finish", lambda: (
            r := _get(f"{self.api}/flow_runs/{run_id}"))["state"]["type"] in {
            "COMPLETED", "FAILED", "CRASHED", "CANCELLED"} and r, timeout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"PREFECT_API_URL", "PREFECT_UI_URL", "PREFECT_UI_ENABLED"}}
    env |= {"PREFECT_HOME": str(home), "BRIEFING_SMTP_HOST": "127.0.0.1",
            "BRIEFING_SMTP_PORT": str(smtp_port), "BRIEFING_SMTP_SECURITY": "none"}
    log = (home / "serve.log").open("wb")
    serve = subprocess.Popen([str(BIN / "briefing"), "serve", "--port", str(port)], cwd=ROOT,
                             env=env, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    api = f"http://127.0.0.1:{port}/api"
    try:
        _wait("the served deployments", lambda: serve.poll() is None and len(_post(
            f"{api}/deployments/filter", {})) >= 5, 240)
        # What serve told the user is what the user (and this test) then does.
        assert f"PREFECT_API_URL={api} prefect deployment run" in (home / "serve.log").read_text()
        yield Served(api, {**env, "PREFECT_API_URL": api}, inbox,
                     tmp_path_factory.mktemp("served-out"))
    finally:
        os.killpg(serve.pid, signal.SIGTERM)  # as a service manager stops it
        serve.wait(timeout=90)
        log.close()
        controller.stop()
    # Its server went with it.
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{api}/health", timeout=2)


@pytest.fixture(scope="module")
def demo_run(served: Served) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    run_id = served.trigger("monthly-briefing/demo", "-p", "cycle=2024-10",
                            "-p", f"out_dir={served.out}", "-p", "send=true")
    _wait("the first email", lambda: served.inbox.messages, 300)
    first_email = time.monotonic() - started
    run = served.finished(run_id)
    print(f"\ntrigger to first email: {first_email:.1f} s; to Completed: "
          f"{time.monotonic() - started:.1f} s")  # quoted in docs/operations.md
    return run, first_email


def test_triggered_run_with_parameters_completes_named_and_emails(
        served: Served, demo_run: tuple[dict[str, Any], float]) -> None:
    run, _ = demo_run
    assert run["state"]["type"] == "COMPLETED", run["state"]
    assert run["name"] == "briefing-999-2024-10"
    assert run["parameters"]["cycle"] == "2024-10"
    summary = json.loads(in_set(served.out / "999" / "2024-10", "summary.json").read_text())
    assert {n["status"] for n in summary["notifications"]} == {"sent"}
    assert len(served.inbox.messages) == len(summary["notifications"]) == 9


def test_run_artifacts_read_back_hold_no_withheld_figure(
        served: Served, demo_run: tuple[dict[str, Any], float], demo: tuple[Any, Any]) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    run, _ = demo_run
    with temporary_settings(updates={PREFECT_API_URL: served.api}), \
            get_client(sync_client=True) as client:
        got = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[run["id"]])))
    by_key = {a.key: a for a in got}
    assert set(by_key) == {"briefing-999", "briefing-999-indicators"}
    summary = str(by_key["briefing-999"].data)
    table = by_key["briefing-999-indicators"].data
    rows = json.loads(table) if isinstance(table, str) else table
    assert summary.startswith("# Children's services performance: Demo Borough Council (999)")
    assert "## Exceptions (9)" in summary and "## Papers" in summary
    assert in_set(served.out / "999" / "2024-10", "briefing.pdf").as_uri() in summary
    (custody,) = [r for r in rows if r["Code"] == "YJ03"]
    assert (custody["Value"], custody["Previous"]) == ("c", "c")  # 5 and 4, restricted
    assert_no_withheld_figure(summary, rows, withheld_figures(demo[1]))


def test_prefect_ui_shows_the_summary_artifact_on_the_runs_page(
        served: Served, demo_run: tuple[dict[str, Any], float]) -> None:
    need(shutil.which("node") is not None, "node")
    need((ROOT / "tools" / "a11y" / "node_modules" / "playwright-core").is_dir(),
         "tools/a11y/node_modules")
    need(Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).exists(), "chromium")
    run, _ = demo_run
    done = subprocess.run(["node", str(ROOT / "tests" / "prefect_ui.mjs"), served.ui,
                           run["id"], "briefing-999", "Exceptions (9)"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["title"].startswith("Flow Run: briefing-999-2024-10"), found
    assert found == {**found, "tab": True, "key": True, "text": True}, found


def test_served_deployment_has_the_typed_run_form_and_the_calendar_schedule(
        served: Served) -> None:
    d = _get(f"{served.api}/deployments/name/monthly-briefing/monthly")
    props = d["parameter_openapi_schema"]["properties"]
    assert props["edition"]["enum"] == ["both", "public", "restricted"]
    (pattern,) = [a["pattern"] for a in props["cycle"]["anyOf"] if "pattern" in a]
    assert re.match(pattern, "2024-10") and not re.match(pattern, "2024-13")
    assert all(p.get("description") for p in props.values())
    (s,) = d["schedules"]
    assert (s["schedule"]["cron"], s["schedule"]["timezone"]) == ("0 7 * * 1-5",
                                                                  "Europe/London")
    assert s["parameters"] == {"only_on_run_day": True}


def test_scheduled_run_on_another_day_completes_at_once_saying_why(served: Served) -> None:
    # Tuesday 5 May 2026 07:00 London: the third weekday of May, but the early May bank
    # holiday (Monday 4th) makes Wednesday 6th the third working day.
    run_id = served.trigger("monthly-briefing/monthly", "-p", "only_on_run_day=true",
                            "-p", f"out_dir={served.out / 'scheduled'}",
                            "--start-at", "2026-05-05T06:00:00+00:00")
    run = served.finished(run_id)
    assert run["state"]["type"] == "COMPLETED"
    assert run["state"]["message"] == (
        "Not the run day: the briefing runs on the 3rd working day of the month, Wednesday "
        "6 May 2026 (07:00 Europe/London); Tuesday 5 May is not")
    assert run["name"] == "briefing-999-not-run-day-2026-05-05"
    assert not (served.out / "scheduled").exists()
