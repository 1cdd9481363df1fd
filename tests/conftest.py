"""Shared fixtures: the demo inputs, small hand-made catalogues, a real SMTP server."""

from __future__ import annotations

import hashlib
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from flows import prefect_env

prefect_env.apply()

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "config"
DEMO_EXPORTS = ROOT / "demo" / "exports"
DEMO_CYCLE = "2024-10"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the whole session: starting one costs 10 to 30 s."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def demo() -> tuple[Any, Any]:
    """The demo's inputs and both editions, rendered once for the session."""
    from tasks import pipeline
    from tasks.store import MemoryHistoryStore

    inputs = pipeline.validate_exports(DEMO_CONFIG, DEMO_EXPORTS)
    analysed = pipeline.compare_with_history(inputs, MemoryHistoryStore())
    return inputs, pipeline.render_briefing(inputs, analysed,
                                            datetime(2024, 11, 5, 9, 30).astimezone())


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
