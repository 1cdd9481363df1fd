"""The regional flow over real DfE data: authorities mapped across processes, one failing
alone, and an overview that ranks them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.conftest import ROOT

DFE = ROOT.parent / "shared" / "data" / "dfe"
pytestmark = pytest.mark.skipif(not DFE.is_dir(), reason="../shared/data/dfe is not beside "
                                "the project")


def test_regional_run(prefect_harness: None, tmp_path: Path) -> None:
    from flows.regional_briefing import regional_briefing

    out = tmp_path / "out"
    folder = Path(regional_briefing(authorities=["880", "Barnet", "302", "nowhere", "835"],
                                    out_dir=str(out)))
    assert folder == out / "regional" / "2025"
    for code in ("880", "302"):
        s = json.loads((out / code / "2025" / "summary.json").read_text())
        assert s["authority"]["code"] == code and s["notifications"] == []
        assert (out / code / "2025" / "briefing-public.pdf").read_bytes().startswith(b"%PDF")
    soup = BeautifulSoup((folder / "overview.html").read_text(), "html.parser")
    rows = [th.get_text(" ", strip=True) for th in soup.select("tbody th[scope=row]")]
    assert sorted(rows) == ["Barnet (302)", "Torbay (880)"]  # Barnet once, by name or code
    text = soup.get_text()
    assert "No briefing for: nowhere (authority 'nowhere' is not a DfE code" in text
    # Dorset's old council (835) last reported in 2019: left out, and said why.
    assert "Dorset (no figures for reporting year 2025" in text
    assert not (out / "835").exists()
    # Worst first: Torbay has more red indicators than Barnet in 2025.
    assert rows[0] == "Torbay (880)"
    assert (folder / "overview.pdf").read_bytes().startswith(b"%PDF")


def test_parts_split_in_order_and_merge_without_losing_anyone(tmp_path: Path) -> None:
    from tasks.outputs import write_json_atomic
    from tasks.regional import merge_parts, read_part, split_parts

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
    assert part.parameters["authorities"] == ["880"]
    assert not (tmp_path / "out" / "880").exists()
