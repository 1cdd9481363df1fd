"""The regional flow over real DfE data: authorities mapped across processes, one failing
alone, and an overview that ranks them."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from tasks.adapters.outputs import in_set
from tasks.presenting.spreadsheets import overview_workbook
from tests.conftest import ROOT, TODAY

DFE = ROOT.parent / "shared" / "data" / "dfe"
pytestmark = pytest.mark.skipif(not DFE.is_dir(), reason="../shared/data/dfe is not beside "
                                "the project")


def test_regional_run(prefect_harness: None, tmp_path: Path) -> None:
    from flows import regional_briefing as regional

    out = tmp_path / "out"
    told: list[tuple[int, int]] = []
    regional.PROGRESS_HOOK = lambda done, total, _: told.append((done, total))
    try:
        state = regional.regional_briefing(
            authorities=["880", "Barnet", "302", "nowhere", "835"], out_dir=str(out),
            return_state=True)
    finally:
        regional.PROGRESS_HOOK = None
    folder = Path(state.result())
    assert folder == out / "regional" / "2025"
    # Progress as each authority finished: the command's bar was told, in order.
    assert told == [(n, 4) for n in range(5)]
    check_run_in_prefect(state.state_details.flow_run_id)
    for code in ("880", "302"):
        s = json.loads(in_set(out / code / "2025", "summary.json").read_text())
        assert s["authority"]["code"] == code and s["notifications"] == []
        assert in_set(out / code / "2025", "briefing-public.pdf").read_bytes().startswith(b"%PDF")
    soup = BeautifulSoup((folder / "overview.html").read_text(), "html.parser")
    rows = [th.get_text(" ", strip=True) for th in soup.select("tbody th[scope=row]")]
    assert sorted(rows) == ["Barnet (302)", "Torbay (880)"]  # Barnet once, by name or code
    text = soup.get_text()
    assert "No briefing for: nowhere (authority 'nowhere' is not a DfE code" in text
    # Dorset's old council (835) last reported in 2019: left out, and said why.
    assert ("Dorset (no figures for the year to 31 March 2025: its latest are for the year "
            "to 31 March 2019" in " ".join(text.split()))
    assert not (out / "835").exists()
    # Worst first: Torbay has more red indicators than Barnet in 2025.
    assert rows[0] == "Torbay (880)"
    assert (folder / "overview.pdf").read_bytes().startswith(b"%PDF")
    # DfE publishes placement stability as whole percentages: printed so, not "16.0%".
    ws = load_workbook(folder / "overview.xlsx")["Overview"]
    shown = {ws.cell(1, c).value: (ws.cell(2, c).value, ws.cell(2, c).number_format)
             for c in range(5, ws.max_column + 1, 3)}
    assert shown["Children looked after with 3 or more placements in the year"] == (0.16, "0%")
    assert shown["Re-referrals within 12 months"] == (0.243, "0.0%")
    assert "16%" in text and "16.0%" not in text


def check_run_in_prefect(run_id: Any) -> None:
    """Named for its cycle, each authority's task for its code, "n of 4" in the log, the
    progress artifact at 100 and the overview's table, all read back from the server."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=[run_id])))
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
        deadline = time.monotonic() + 30  # logs reach the server in batches
        while True:
            logs = [entry.message for entry in client.read_logs(log_filter=LogFilter(
                flow_run_id=LogFilterFlowRunId(any_=[run_id])))]
            if any("4 of 4" in m for m in logs) or time.monotonic() > deadline:
                break
            time.sleep(1)
    assert run.name == "regional-2025"
    assert {t.name for t in tasks} >= {"brief-880-2025", "brief-302-2025", "brief-835-2025",
                                       "brief-nowhere-2025"}
    assert [m.split(":")[0] for m in logs if " of 4:" in m] == [f"{n} of 4" for n in range(1, 5)]
    by_key = {a.key: a for a in found}
    assert by_key["regional-progress"].data == 100.0
    assert by_key["regional-progress"].description.endswith(": 4 of 4")
    rows = by_key["regional-overview"].data
    rows = json.loads(rows) if isinstance(rows, str) else rows
    assert [r["Authority"] for r in rows] == ["Torbay (880)", "Barnet (302)"]
    assert "nowhere" in by_key["regional-overview"].description


def test_parts_split_in_order_and_merge_without_losing_anyone(tmp_path: Path) -> None:
    from tasks.adapters.outputs import write_json_atomic
    from tasks.presenting.regional import merge_parts, read_part, split_parts

    codes = [str(c) for c in range(301, 306)]
    assert split_parts(codes, 2) == [["301", "302"], ["303", "304"], ["305"]]
    assert split_parts(codes, 10) == [codes]
    with pytest.raises(ValueError, match="part_size"):
        split_parts(codes, 0)
    row = {"code": "301", "name": "A", "cycle": "2025", "indicators": {}}
    write_json_atomic(tmp_path / "r1.json", {
        "results": [row], "failed": {"302": "no figures for 2025"},
        "worker": "worker-a", "host": "h1", "authorities": ["301", "302"]})
    done = read_part(tmp_path / "r1.json", "r1", ["301", "302"], "Completed")
    # A part whose run crashed before writing its file: its authorities are not dropped.
    crashed = read_part(tmp_path / "r2.json", "r2", ["303", "304"], "Crashed")
    # A part still running at the deadline, its file empty so far.
    write_json_atomic(tmp_path / "r3.json", {"results": [], "failed": {},
                                             "authorities": ["305"]})
    late = read_part(tmp_path / "r3.json", "r3", ["305"], "still going after 60 minutes")
    results, failed = merge_parts([done, crashed, late], {"302": "B", "303": "C", "304": "D"})
    assert results == [row]
    assert failed == ["B (no figures for 2025)",
                      "C (no result from its part: run Crashed)",
                      "D (no result from its part: run Crashed)",
                      "305 (no result from its part: run still going after 60 minutes)"]
    assert done.describe() == "Completed by worker-a on h1: 1 briefed, 1 failed, 0 without " \
                              "an answer"
    assert crashed.record()["briefed"] == [] and crashed.missing == ["303", "304"]


def test_spread_run_whose_parts_are_never_taken_cancels_them_and_says_so(
        prefect_harness: None, tmp_path: Path) -> None:
    """A deployment with no worker: the part waits, the deadline passes, the part is
    cancelled (so it cannot write late), and the authority is named, not dropped."""
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from flows.regional_briefing import regional_briefing, regional_part

    deployment_id = regional_part.to_deployment(name="nobody-works-here").apply()
    with pytest.raises(RuntimeError) as failed:
        regional_briefing(authorities=["Torbay"], out_dir=str(tmp_path / "out"),
                          spread_to="regional-briefing-part/nobody-works-here",
                          part_timeout_minutes=0.05)
    assert ("no authority could be briefed: Torbay (no result from its part: run still "
            "going after 0.05 minutes)") in str(failed.value)
    with get_client(sync_client=True) as client:
        (part,) = client.read_flow_runs(limit=5, deployment_filter=DeploymentFilter(
            id=DeploymentFilterId(any_=[deployment_id])))
    assert part.state is not None and part.state.is_cancelled()
    assert part.name == "regional-2025-part-1-of-1"
    assert part.parameters["authorities"] == ["880"]
    assert not (tmp_path / "out" / "880").exists()


def test_overview_rows_are_public_figures() -> None:
    from datetime import datetime

    from tasks.presenting.regional import overview
    from tests.factories import make_config

    cfg = make_config([{"unit": "count", "polarity": "lower_is_better", "target": 4.0},
                       {"unit": "percent"}, {"unit": "percent"}])
    row = {"code": "998", "name": "Testshire", "cycle": "2024-10", "folder": "x",
           "indicators": {"X0": {"value": None, "withheld": True, "rag": "withheld",
                                 "deep_dive": None},
                          "X1": {"value": 52.0, "withheld": False, "rag": "red",
                                 "deep_dive": True},
                          # a whole-number percentage in DfE's file (tasks.checking.precision)
                          "X2": {"value": 16.0, "withheld": False, "rag": "none",
                                 "deep_dive": False, "decimals": 0}}}
    ov = overview(cfg, [row], [], datetime(2024, 11, 5).astimezone())
    hidden, shown, whole = ov.rows[0].cells
    assert (hidden.text, hidden.rag_word, hidden.deep_dive) == ("c", "Not published", None)
    assert (shown.text, shown.rag_word, shown.deep_dive) == ("52.0%", "Red", True)
    assert whole.text == "16%"  # not "16.0%": the source gives no decimal
    assert ov.rows[0].deep_dives == 1 and ov.rule_periods == 2
    ws = load_workbook(io.BytesIO(overview_workbook(ov, datetime(2024, 11, 5))))["Overview"]
    assert (ws["H2"].value, ws["H2"].number_format) == (0.52, "0.0%")
    assert (ws["K2"].value, ws["K2"].number_format) == (0.16, "0%")


@pytest.mark.slow
def test_regional_and_monthly_runs_of_one_cycle_take_turns(tmp_path: Path) -> None:
    """The regional flow's briefing of an authority takes the same cycle lock as the monthly
    flow: while a monthly run of Torbay 2025 holds it, the regional one waits, then runs."""
    import threading
    import time

    from tasks.run.regional import brief_authority
    from tasks.store.history import cycle_lock, store_for

    out = tmp_path / "out"
    store = store_for(out)
    done: list[object] = []
    with cycle_lock(store, "880", "2025"):  # as a monthly run of the same cycle would
        t = threading.Thread(target=lambda: done.append(brief_authority(
            ROOT / "config" / "dfe", DFE, "880", out, "2025", today=TODAY)))
        t.start()
        time.sleep(8)
        assert t.is_alive() and not done, "the regional run should wait for the lock"
        assert not in_set(out / "880" / "2025", "summary.json").exists()
    t.join(timeout=120)
    assert done and in_set(out / "880" / "2025", "summary.json").is_file()


def test_regional_command_draws_a_bar_on_a_terminal(prefect_harness: None,
                                                    tmp_path: Path) -> None:
    """`briefing regional` on a terminal (a real pseudo-terminal): the bar and its count
    below the "n of N" log lines; the same command into a pipe has the lines, no bar."""
    import os
    import pty
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "COLUMNS": "120"}
    cmd = [str(Path(sys.executable).parent / "briefing"), "regional", "--authority", "880",
           "--out", str(tmp_path / "out")]
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=follower, stdout=follower,
                            stderr=follower, close_fds=True)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 0
    os.close(leader)
    text = seen.decode(errors="replace")
    assert "1 of 1: Torbay (880) briefed" in text
    assert "Authorities briefed" in text and "━" in text  # the bar, drawn
    last_bar = text.rsplit("Authorities briefed", 1)[1].splitlines()[0]
    assert "1 of 1" in last_bar  # and it ended full
    piped = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=300, check=True)
    assert "1 of 1: Torbay (880) briefed" in piped.stderr + piped.stdout
    assert "Authorities briefed" not in piped.stderr + piped.stdout
