"""A real `briefing` run killed with `kill -9` at each stage, then run again: the re-run
takes over the cycle at once and finishes it (every message sent exactly once, the one
that was in flight reported as uncertain, summary.json written, nothing half-written), and
the killed run's child processes (Prefect's temporary server, the PDF helpers) end with it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tasks.lifeline import descendants, processes
from tests.conftest import Inbox, free_port

pytestmark = pytest.mark.slow
BRIEFING = str(Path(sys.executable).parent / "briefing")
MESSAGES = 9  # the demo's: 8 owners with breaches, and the clerk


class SlowInbox(Inbox):
    """Takes each message, then waits before saying 250: a kill lands mid-send."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return reply


@pytest.fixture
def smtp() -> Iterator[tuple[int, SlowInbox]]:
    inbox, port = SlowInbox(0.0), free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    yield port, inbox
    ctl.stop()


class Run:
    """`briefing demo --send` as a person starts it, its stderr read as it comes."""

    def __init__(self, out: Path, port: int, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [BRIEFING, "demo", "--out", str(out), "--send"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
            env={**os.environ, "BRIEFING_SMTP_HOST": "127.0.0.1",
                 "BRIEFING_SMTP_PORT": str(port), "BRIEFING_SMTP_SECURITY": "none",
                 "BRIEFING_SMTP_TIMEOUT": "30", **env})
        self.err: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)

    def wait_for(self, ready: Callable[[], bool], what: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            assert self.proc.poll() is None, f"ended before {what}:\n{''.join(self.err)}"
            assert time.monotonic() < deadline, f"never reached {what}:\n{''.join(self.err)}"
            time.sleep(0.05)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.err)

    def kill(self) -> dict[int, str]:
        """kill -9, returning the children it had (id and start time) just before."""
        children = descendants(self.proc.pid, processes())
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        return children


def alive(children: dict[int, str]) -> list[int]:
    table = processes()
    return [pid for pid, start in children.items() if pid in table and table[pid][1] == start]


def finish(out: Path, port: int, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str],
                                                                float]:
    started = time.monotonic()
    done = subprocess.run(
        [BRIEFING, "demo", "--out", str(out), "--send"], capture_output=True, text=True,
        timeout=400, check=False,
        env={**os.environ, "BRIEFING_SMTP_HOST": "127.0.0.1", "BRIEFING_SMTP_PORT": str(port),
             "BRIEFING_SMTP_SECURITY": "none", **env})
    return done, time.monotonic() - started


def check_finished(out: Path, inbox: Inbox, done: subprocess.CompletedProcess[str],
                   took: float, uncertain: int = 0) -> dict[str, int]:
    assert done.returncode == 0, done.stderr[-3000:]
    assert took < 300 and "waited" not in done.stderr  # the dead run's lock did not hold it
    folder = out / "999" / "2024-10"
    summary = json.loads((folder / "summary.json").read_text())
    statuses = Counter(n["status"] for n in summary["notifications"])
    assert len(summary["notifications"]) == MESSAGES
    assert statuses["uncertain"] == uncertain and not statuses["failed"]
    received = Counter(to for _, tos, _ in inbox.messages for to in tos)
    assert len(received) == MESSAGES and set(received.values()) == {1}, received
    assert not list(out.rglob("*.part")), "a half-written file was left"
    assert (folder / "briefing.pdf").read_bytes().startswith(b"%PDF-")
    with sqlite3.connect(out / "history.sqlite") as db:
        assert db.execute("select count(*) from run_locks").fetchone() == (0,)
        assert db.execute("select count(*) from cycles").fetchone() == (1,)
    return dict(statuses)


@pytest.fixture(scope="module")
def engine(prefect_harness: None) -> dict[str, str]:
    """A running Prefect server for the runs that do not test the temporary one."""
    from prefect.settings import PREFECT_API_URL

    return {"PREFECT_API_URL": str(PREFECT_API_URL.value())}


def test_killed_while_validating(tmp_path: Path, smtp: tuple[int, SlowInbox],
                                 engine: dict[str, str]) -> None:
    port, inbox = smtp
    out = tmp_path / "out"
    run = Run(out, port, engine)
    run.wait_for(lambda: run.said("Beginning flow run"), "the flow's start")
    run.kill()
    assert not (out / "999").exists() and not inbox.messages
    done, took = finish(out, port, engine)
    assert check_finished(out, inbox, done, took) == {"sent": MESSAGES}


def test_killed_while_rendering_with_the_temporary_engine(
        tmp_path: Path, smtp: tuple[int, SlowInbox], monkeypatch: pytest.MonkeyPatch) -> None:
    """No PREFECT_API_URL: the run starts its own server, which must end with it."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    port, inbox = smtp
    out = tmp_path / "out"
    run = Run(out, port, {})

    def helpers() -> bool:
        kids = descendants(run.proc.pid, processes())
        return any("spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
                   for pid in kids if Path(f"/proc/{pid}/cmdline").exists())

    run.wait_for(helpers, "the PDF helpers")
    children = run.kill()
    assert len(children) >= 3  # the watchdog, the temporary server, a PDF helper
    deadline = time.monotonic() + 15
    while alive(children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(children), f"outlived the run: {alive(children)}"
    assert not inbox.messages
    done, took = finish(out, port, {})
    assert check_finished(out, inbox, done, took) == {"sent": MESSAGES}


def test_killed_while_publishing(tmp_path: Path, smtp: tuple[int, SlowInbox],
                                 engine: dict[str, str]) -> None:
    port, inbox = smtp
    out = tmp_path / "out"
    run = Run(out, port, {**engine, "BRIEFING_PAUSE_BEFORE": "publish"})
    run.wait_for(lambda: run.said("paused before publish"), "publishing")
    run.kill()
    assert not (out / "999" / "2024-10" / "briefing.pdf").exists() and not inbox.messages
    done, took = finish(out, port, engine)
    assert check_finished(out, inbox, done, took) == {"sent": MESSAGES}


def test_killed_while_sending(tmp_path: Path, smtp: tuple[int, SlowInbox],
                              engine: dict[str, str]) -> None:
    port, inbox = smtp
    inbox.delay = 1.0
    out = tmp_path / "out"
    run = Run(out, port, engine)
    run.wait_for(lambda: len(inbox.messages) >= 3, "the third message")
    run.kill()
    assert not (out / "999" / "2024-10" / "summary.json").exists()
    inbox.delay = 0.0
    done, took = finish(out, port, engine)
    statuses = check_finished(out, inbox, done, took, uncertain=1)
    assert statuses == {"already_sent": 2, "uncertain": 1, "sent": MESSAGES - 3}
    assert "Uncertain:" in done.stdout and "--resend" in done.stdout


def test_killed_before_the_summary(tmp_path: Path, smtp: tuple[int, SlowInbox],
                                   engine: dict[str, str]) -> None:
    port, inbox = smtp
    out = tmp_path / "out"
    run = Run(out, port, {**engine, "BRIEFING_PAUSE_BEFORE": "summary"})
    run.wait_for(lambda: run.said("paused before summary"), "the summary")
    run.kill()
    assert len(inbox.messages) == MESSAGES
    done, took = finish(out, port, engine)
    assert check_finished(out, inbox, done, took) == {"already_sent": MESSAGES}


def test_the_parent_death_signal_ends_a_child_with_its_parent(tmp_path: Path) -> None:
    """The kernel's parent-death signal on its own: a middle process starts a child that
    asks for it, then the middle process is killed; the child must go too."""
    script = tmp_path / "middle.py"
    script.write_text(
        "import subprocess, sys, os, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import os, time; "
        "from tasks.lifeline import die_with_parent; "
        "die_with_parent(os.getppid()); print(os.getpid(), flush=True); time.sleep(60)'],"
        " stdout=subprocess.PIPE, text=True)\n"
        "print(child.stdout.readline().strip(), flush=True)\n"
        "time.sleep(60)\n")
    middle = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parent.parent)
    assert middle.stdout is not None
    child = int(middle.stdout.readline())
    start = processes()[child][1]
    os.kill(middle.pid, signal.SIGKILL)
    middle.wait()
    deadline = time.monotonic() + 10
    while alive({child: start}) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive({child: start})
