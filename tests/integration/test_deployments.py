"""Every deployment in prefect.yaml points at a flow that imports (Dagster's defs test), its
schedule is the calendar's, and its run form is typed: choices, a pattern, a description
for each field."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import pytest
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
        # Every parameter the deployment and its schedules set is one the flow takes.
        for params in [d.get("parameters", {})] + [s.get("parameters", {})
                                                   for s in d.get("schedules") or []]:
            assert set(params) <= set(flow.parameters.properties)


def test_monthly_schedule_checks_each_working_morning_in_london_one_at_a_time() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    monthly = next(d for d in spec["deployments"] if d["name"] == "monthly")
    (sched,) = monthly["schedules"]
    assert (sched["cron"], sched["timezone"]) == ("0 7 * * 1-5", "Europe/London")
    # Scheduled runs brief only on the calendar's run day; runs by hand always brief.
    assert sched["parameters"] == {"only_on_run_day": True}
    assert "only_on_run_day" not in monthly["parameters"]
    assert monthly["concurrency_limit"] == 1


def test_serve_builds_every_deployment_from_prefect_yaml() -> None:
    from flows.serve import deployments

    built = {d.name: d for d in deployments()}
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    assert set(built) == {d["name"] for d in spec["deployments"]}
    assert built["monthly"].schedules and not built["demo"].schedules
    (monthly,) = built["monthly"].schedules
    assert monthly.parameters == {"only_on_run_day": True}
    assert monthly.schedule.cron == "0 7 * * 1-5"  # type: ignore[union-attr]
    assert built["demo"].parameters["exports_dir"] == "demo/exports"


def _schema(name: str) -> dict[str, Any]:
    from flows.serve import deployments

    (d,) = [d for d in deployments() if d.name == name]
    return d._parameter_openapi_schema.model_dump()  # type: ignore[no-any-return]


def _pattern(prop: dict[str, Any]) -> str:
    (pattern,) = [alt["pattern"] for alt in prop.get("anyOf", [prop]) if "pattern" in alt]
    return str(pattern)


def test_monthly_run_form_has_choices_a_pattern_and_help_for_every_field() -> None:
    props = _schema("monthly")["properties"]
    assert props["edition"]["enum"] == ["both", "public", "restricted"]
    cycle = re.compile(_pattern(props["cycle"]))
    for good in ("2024-10", "2024-Q3", "2025"):
        assert cycle.match(good)
    for bad in ("2024-13", "2024-1", "Oct 2024", "2024-Q5", "latest"):
        assert not cycle.match(bad)
    descriptions = {name: p.get("description", "") for name, p in props.items()}
    assert all(descriptions.values()), [n for n, d in descriptions.items() if not d]
    assert len(set(descriptions.values())) == len(descriptions)  # each its own


def test_regional_run_form_is_typed_too() -> None:
    props = _schema("regional")["properties"]
    assert props["edition"]["enum"] == ["public", "restricted", "both"]
    assert _pattern(props["cycle"]) == r"^\d{4}$"
    assert props["part_size"]["minimum"] == 1
    assert all(p.get("description") for p in props.values())
    reminders = _schema("reminders")["properties"]
    assert re.match(_pattern(reminders["today"]), "2026-05-06")


def test_a_typed_parameter_is_refused_before_the_run_does_anything() -> None:
    from flows.monthly_briefing import monthly_briefing

    with pytest.raises(Exception, match="edition"):
        monthly_briefing.validate_parameters({"config_dir": "config", "exports_dir": "x",
                                              "edition": "everything"})
    with pytest.raises(Exception, match="cycle"):
        monthly_briefing.validate_parameters({"config_dir": "config", "exports_dir": "x",
                                              "cycle": "2024-13"})


def test_failure_automation_is_one_prefect_accepts() -> None:
    """The Automation in docs/operations.md: valid for Prefect's own model once a block is
    named, and it fires on the failed and crashed runs of this project's flows only."""
    import uuid

    from prefect.events.schemas.automations import AutomationCore, EventTrigger

    text = (ROOT / "automations" / "run-failed.yaml").read_text()
    block = str(uuid.uuid4())
    (spec,) = yaml.safe_load(text.replace("BLOCK_DOCUMENT_ID", block))["automations"]
    automation = AutomationCore.model_validate(spec)
    trigger = automation.trigger
    assert isinstance(trigger, EventTrigger)
    assert trigger.expect == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
    flows = trigger.match_related.get("prefect.resource.name")  # type: ignore[union-attr]
    assert set(flows) == {"monthly-briefing", "regional-briefing",  # type: ignore[arg-type]
                          "regional-briefing-part", "meeting-reminders"}
    (action,) = automation.actions
    assert str(action.block_document_id) == block  # type: ignore[union-attr]
    assert "{{ flow_run|ui_url }}" in action.body  # type: ignore[union-attr]
