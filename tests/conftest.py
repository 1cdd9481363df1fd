"""Shared fixtures: the demo inputs, small hand-made catalogues, a real SMTP server."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import threading
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Under pytest-xdist each worker is a process of its own, with its own Prefect home: the
# temporary servers that CLI runs start keep their database in PREFECT_HOME, and two workers
# must never share one. Set before Prefect is first imported (below), which reads it.
if _worker := os.environ.get("PYTEST_XDIST_WORKER"):
    _home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")
    os.environ["PREFECT_HOME"] = str(_home / f"xdist-{_worker}")

# DfE's rules over the demo's SSDA903 return take some 10 s of a core a run: the many runs
# of the demo here go without them (the figures' notes say so), and the tests that are
# about them turn them on (tests/integration/test_returns_run.py,
# tests/integration/test_returns_validators.py).
os.environ.setdefault("BRIEFING_RETURN_RULES", "off")

import flows  # noqa: F401  (applies Prefect's defaults before any test imports Prefect)

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "config"
DEMO_EXPORTS = ROOT / "demo" / "exports"
DEMO_CYCLE = "2024-10"
# The tests' clock: the day the suite runs, as `briefing` itself would see it.
TODAY = date.today()

# No per-example deadline: on a shared two-core machine an example's time says nothing
# about the code, and a deadline would make property tests fail at random.
settings.register_profile("briefing", deadline=None)
settings.load_profile("briefing")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a real server, PostgreSQL, a browser, the Prefect "
                            "engine or a whole CLI run: never in tests/unit/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Anything that starts Prefect's engine is slow: the marker follows the fixture. A
    slow test in tests/unit/ (marked however: a decorator, a module's pytestmark, a
    parameter's marks, the engine's fixture) stops the session: `make check` runs every
    unit test, and such a test belongs in tests/integration/ or tests/e2e/."""
    for item in items:
        if "prefect_harness" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
    wrong = slow_unit_tests(items)
    if wrong:
        raise pytest.UsageError("slow tests in tests/unit/ (move them to tests/integration/ "
                                "or tests/e2e/, docs/architecture.md): " + ", ".join(wrong))


def slow_unit_tests(items: Iterable[Any]) -> list[str]:
    """The ids of the items under tests/unit/ marked slow."""
    unit = ROOT / "tests" / "unit"
    return [item.nodeid for item in items if item.get_closest_marker("slow") is not None
            and Path(item.path).is_relative_to(unit)]


@pytest.fixture(scope="session", autouse=True)
def every_summary_follows_the_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the session: every summary.json any test wrote (in process or by a CLI run)
    validates against `briefing schema`. A failure here is an error at teardown."""
    yield
    import json

    import jsonschema

    from tasks.delivering.summary import schema

    validator = jsonschema.Draft202012Validator(schema())
    for path in sorted(tmp_path_factory.getbasetemp().rglob("summary.json")):
        errors = sorted(validator.iter_errors(json.loads(path.read_text(encoding="utf-8"))),
                        key=str)
        assert not errors, f"{path}: {errors[0].message} at {list(errors[0].absolute_path)}"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the whole session: starting one costs 10 to 30 s."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def demo() -> tuple[Any, Any]:
    """The demo's inputs and both editions, rendered once for the session."""
    from tasks.run.analysis import compare_with_history
    from tasks.run.inputs import validate_exports
    from tasks.run.papers import render_briefing
    from tasks.store.history import MemoryHistoryStore

    inputs = validate_exports(DEMO_CONFIG, DEMO_EXPORTS, today=TODAY)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    return inputs, render_briefing(inputs, analysed,
                                            datetime(2024, 11, 5, 9, 30).astimezone())


def render_without_pdfs(inputs: Any, analysed: Any, report_date: date | None = None) -> Any:
    """Both editions as `render_briefing` makes them (the same figures, dates,
    contexts and HTML) but without the PDFs, which are made from exactly this HTML and
    cost WeasyPrint seconds each: for tests of the contexts and the HTML alone."""
    from tasks.presenting.context import build_context
    from tasks.presenting.render import render_html
    from tasks.run.papers import Paper, Rendered, dates_for, edition_figures
    from tasks.settings.formatting import Edition

    dates = dates_for(inputs.config, inputs.cycle, report_date)
    figures = {e: edition_figures(inputs, analysed, e) for e in Edition}
    contexts = {e: build_context(inputs.config, figures[e], inputs.cycle, inputs.commentary,
                                 dates) for e in Edition}
    return Rendered({e: Paper(contexts[e], render_html(contexts[e]), b"")
                              for e in Edition}, contexts, figures)


@pytest.fixture
def demo_exports(tmp_path: Path) -> Path:
    """A private copy of the demo exports that a test may break."""
    dst = tmp_path / "exports"
    shutil.copytree(DEMO_EXPORTS, dst)
    return dst


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under a folder with its hash: to show that nothing changed."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """Messages received by the test SMTP server, as raw bytes with their envelope."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),  # type: ignore[attr-defined]
                                  envelope.original_content))  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, Inbox]]:
    """A real aiosmtpd server on 127.0.0.1 (plain SMTP, as allowed on this machine only)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, inbox
    finally:
        controller.stop()
