"""Runs are named for what they brief, read back from the Prefect server: a CLI run is
`briefing-<authority code>-<cycle>` with "latest" resolved to the real cycle and an
authority given by name resolved to its code, whatever the config folder is called."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.cli import main
from tests.conftest import ROOT, TODAY

DFE = ROOT.parent / "shared" / "data" / "dfe"


def latest_run(flow_name: str) -> Any:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        (run,) = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
            sort=FlowRunSort.START_TIME_DESC, limit=1)
    return run


def test_cli_demo_run_is_named_for_authority_and_latest_cycle(
        prefect_harness: None, tmp_path: Path) -> None:
    assert main(["demo", "--out", str(tmp_path / "out"), "--edition", "public"]) == 0
    run = latest_run("monthly-briefing")
    assert run.parameters.get("cycle") is None  # asked for the latest
    assert run.name == "briefing-999-2024-10"
    assert run.state is not None and run.state.is_completed()


@pytest.mark.skipif(not DFE.is_dir(), reason="../shared/data/dfe is not beside the project")
def test_cli_run_for_an_authority_by_name_is_named_by_its_code(
        prefect_harness: None, tmp_path: Path) -> None:
    assert main(["demo", "--real", "--authority", "Barnet", "--out", str(tmp_path / "out"),
                 "--edition", "public"]) == 0
    run = latest_run("monthly-briefing")
    assert run.parameters["authority"] == "Barnet"
    assert run.name == "briefing-302-2025"  # not briefing-Barnet-latest or briefing-dfe-…


def test_run_identity_resolves_the_latest_cycle() -> None:
    from flows.monthly_briefing import run_identity

    assert run_identity("config", "demo/exports", "2024-09", None, TODAY) == ("999", "2024-09")
    assert run_identity("config", "demo/exports", None, "999", TODAY) == ("999", "2024-10")
    with pytest.raises(Exception, match="not found"):
        run_identity("no-such-config", "demo/exports", None, None, TODAY)
