"""`briefing serve`: run the deployments in prefect.yaml on this machine, no other set-up.

prefect.yaml stays the one place where schedules and parameters are declared: this reads
it and serves the same deployments (Prefect's runner), which is also what a process
worker would run after `prefect deploy`.

Why serve starts a real server when PREFECT_API_URL is not set: Prefect's temporary
server lives inside the process that started it. A served run is a new process, which
would start a temporary server of its own; the deployment's concurrency lease, taken by
the first server and kept in its memory, is unknown to the second, so the run ended
Cancelled ("Deployment concurrency slot lost during provisioning"). One `prefect server`
on 127.0.0.1 for as long as serve runs, named by PREFECT_API_URL for serve and every run
it starts, is the same server the UI and `prefect deployment run` talk to.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tasks.adapters.lifeline import die_with_parent

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STARTUP_SECONDS = 180.0  # a first start migrates the database: 20 to 60 s on these machines


class ServeError(Exception):
    """The local server could not be started (the port taken, or it died): one line."""


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
        common = {"timezone": s.get("timezone"), "parameters": s.get("parameters") or {},
                  "slug": s.get("slug")}
        if "rrule" in s:
            out.append(RRule(s["rrule"], **common))
        elif "cron" in s:
            out.append(Cron(s["cron"], day_or=s.get("day_or", True), **common))
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


def port_free(port: int, host: str = HOST) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds it
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _healthy(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def server_env(api: str, ui: str) -> dict[str, str]:
    """The server's environment: its own address, and the UI on unless the user said
    otherwise (flows/prefect_env.py turns it off for the temporary server only)."""
    from flows import prefect_env

    env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_UI_URL": ui,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    if "PREFECT_UI_ENABLED" in prefect_env.APPLIED:
        env["PREFECT_UI_ENABLED"] = "true"
    return env


@contextmanager
def local_server(port: int, log_path: Path) -> Iterator[str]:
    """A `prefect server start` on 127.0.0.1:port for the life of the block; yields its
    API URL. It ends with this process however this one ends: with the block, by the
    kernel's parent-death signal, or by the `briefing` command's watchdog."""
    if not port_free(port):
        raise ServeError(f"{HOST}:{port} is in use: give another --port, or point "
                         "PREFECT_API_URL at the Prefect server already there")
    api, ui = f"http://{HOST}:{port}/api", f"http://{HOST}:{port}"
    prefect = Path(sys.executable).parent / "prefect"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    parent = os.getpid()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [str(prefect), "server", "start", "--host", HOST, "--port", str(port)],
            env=server_env(api, ui), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=lambda: die_with_parent(parent, signal.SIGTERM))
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(api):
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
                raise ServeError(f"the Prefect server stopped while starting (exit "
                                 f"{proc.returncode}): {' '.join(tail)[:300]} (log: "
                                 f"{log_path})")
            if time.monotonic() > deadline:
                raise ServeError(f"the Prefect server did not answer within "
                                 f"{STARTUP_SECONDS:.0f} s (log: {log_path})")
            time.sleep(0.5)
        yield api
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _runner_class() -> type:
    from prefect.runner import Runner

    class BriefingRunner(Runner):
        def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
            """SIGTERM stops serving as Ctrl-C does. (Prefect 3.8.8's own handler calls
            its async `stop` from inside the running loop, where it is never awaited, and
            the process did not end.)"""
            raise KeyboardInterrupt

    return BriefingRunner


def _serve(prefect_yaml: Path) -> None:
    runner = _runner_class()(pause_on_shutdown=True)
    for d in deployments(prefect_yaml):
        runner.add_deployment(d)
    try:
        asyncio.run(runner.start())
    except KeyboardInterrupt:
        print("briefing serve: stopped", file=sys.stderr, flush=True)


def serve(prefect_yaml: Path = ROOT / "prefect.yaml", port: int = 4200) -> None:
    """Serve against PREFECT_API_URL (environment or Prefect profile); without one, start
    a server on 127.0.0.1:port and serve against that, saying where its UI is."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_UI_URL,
        get_current_settings,
        temporary_settings,
    )

    if get_current_settings().api.url:
        _serve(prefect_yaml)
        return
    home = Path(get_current_settings().home)
    with local_server(port, home / "briefing-serve-server.log") as api:
        ui = api.removesuffix("/api")
        # Every run this starts is a child process and inherits these.
        os.environ["PREFECT_API_URL"], os.environ["PREFECT_UI_URL"] = api, ui
        print(f"briefing serve: Prefect server at {ui} (the UI); trigger a run with\n"
              f"  PREFECT_API_URL={api} prefect deployment run monthly-briefing/demo",
              file=sys.stderr, flush=True)
        with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_UI_URL: ui}):
            _serve(prefect_yaml)
