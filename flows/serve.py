"""`briefing serve`: run the deployments in prefect.yaml on this machine, no other set-up.

prefect.yaml stays the one place where schedules and parameters are declared: this reads
it and serves the same deployments (Prefect's `serve`), which is also what a process
worker would run after `prefect deploy`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def load_flow(entrypoint: str) -> Any:
    """`flows/monthly_briefing.py:monthly_briefing` -> the flow, imported as a module so
    Prefect can find its source file."""
    path, name = entrypoint.split(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def schedules(spec: dict[str, Any]) -> list[Any]:
    from prefect.schedules import Cron, RRule

    out = []
    for s in spec.get("schedules") or []:
        if not s.get("active", True):
            continue
        if "rrule" in s:
            out.append(RRule(s["rrule"], timezone=s.get("timezone")))
        elif "cron" in s:
            out.append(Cron(s["cron"], timezone=s.get("timezone")))
    return out


def deployments(prefect_yaml: Path = ROOT / "prefect.yaml") -> list[Any]:
    spec = yaml.safe_load(prefect_yaml.read_text(encoding="utf-8"))
    out = []
    for d in spec["deployments"]:
        flow = load_flow(d["entrypoint"])
        out.append(flow.to_deployment(
            name=d["name"], parameters=d.get("parameters") or {},
            description=d.get("description"), schedules=schedules(d),
            concurrency_limit=d.get("concurrency_limit"), tags=d.get("tags") or []))
    return out


def serve(prefect_yaml: Path = ROOT / "prefect.yaml") -> None:
    from prefect import serve as prefect_serve

    prefect_serve(*deployments(prefect_yaml))
