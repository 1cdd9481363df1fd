"""Every deployment in prefect.yaml points at a flow that imports (Dagster's defs test)."""

from __future__ import annotations

import importlib.util

import yaml
from prefect import Flow

from tests.conftest import ROOT


def test_every_entrypoint_imports_a_flow() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    deployments = spec["deployments"]
    assert {d["name"] for d in deployments} >= {"monthly"}
    for d in deployments:
        path, name = d["entrypoint"].split(":")
        module_spec = importlib.util.spec_from_file_location(f"entry_{d['name']}", ROOT / path)
        assert module_spec and module_spec.loader
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        flow = getattr(module, name)
        assert isinstance(flow, Flow)
        # Every parameter the deployment sets is one the flow takes.
        assert set(d.get("parameters", {})) <= set(flow.parameters.properties)


def test_monthly_schedule_is_london_time_and_one_at_a_time() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    monthly = next(d for d in spec["deployments"] if d["name"] == "monthly")
    (sched,) = monthly["schedules"]
    assert sched["timezone"] == "Europe/London" and "BYSETPOS=3" in sched["rrule"]
    assert monthly["concurrency_limit"] == 1


def test_serve_builds_every_deployment_from_prefect_yaml() -> None:
    from flows.serve import deployments

    built = {d.name: d for d in deployments()}
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    assert set(built) == {d["name"] for d in spec["deployments"]}
    assert built["monthly"].schedules and not built["demo"].schedules
    assert built["demo"].parameters["exports_dir"] == "demo/exports"
