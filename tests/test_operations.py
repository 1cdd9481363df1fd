"""Running it safely: one run per cycle at a time, failure alerts to the operators, the
SMTP password from a Prefect Secret block."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from flows.monthly_briefing import monthly_briefing
from tasks.mail import SmtpSettings
from tasks.problems import ValidationFailed
from tasks.store import CycleBusy, MemoryHistoryStore, SqlHistoryStore, cycle_lock
from tests.conftest import DEMO_CONFIG, DEMO_EXPORTS, Inbox, tree_digest


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_one_run_per_cycle_at_a_time(kind: str, tmp_path: Path) -> None:
    store = (SqlHistoryStore(f"sqlite:///{tmp_path / 'h.sqlite'}") if kind == "sqlite"
             else MemoryHistoryStore())
    order: list[str] = []
    with cycle_lock(store, "999", "2024-10"):
        # A second run of the same cycle waits, then is refused; another cycle goes ahead.
        with (pytest.raises(CycleBusy, match="999 2024-10"),
              cycle_lock(store, "999", "2024-10", wait=0.3, poll=0.05)):
            pass
        with cycle_lock(store, "999", "2024-11", wait=0):
            order.append("other cycle")

        def second() -> None:
            with cycle_lock(store, "999", "2024-10", wait=10, poll=0.05):
                order.append("second")

        t = threading.Thread(target=second)
        t.start()
        time.sleep(0.3)
        order.append("first done")
    t.join(timeout=10)
    assert order == ["other cycle", "first done", "second"]


def test_failed_run_alerts_the_operators_and_writes_nothing(
        prefect_harness: None, smtp_server: tuple[str, int, Inbox], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    host, port, inbox = smtp_server
    monkeypatch.setenv("BRIEFING_SMTP_HOST", host)
    monkeypatch.setenv("BRIEFING_SMTP_PORT", str(port))
    monkeypatch.setenv("BRIEFING_SMTP_SECURITY", "none")
    monkeypatch.setenv("PREFECT_UI_URL", "http://127.0.0.1:4200")
    exports = tmp_path / "exports"
    shutil.copytree(DEMO_EXPORTS, exports)
    # A whole file the run cannot read stops it (a bad cell would only withhold a figure).
    (exports / "broken.csv").write_text("indicator,period\nFD01,2024-10\n")
    out = tmp_path / "out"
    with pytest.raises(ValidationFailed):
        monthly_briefing(config_dir=str(DEMO_CONFIG), exports_dir=str(exports),
                         out_dir=str(out), send=True)
    assert tree_digest(out) == {}
    (_, rcpts, raw) = inbox.messages[0]
    assert rcpts == ["performance@example.gov.uk"] and len(inbox.messages) == 1
    text = raw.decode()
    assert "failed" in text and "http://127.0.0.1:4200/runs/flow-run/" in text
    assert "ERROR: broken.csv, row 1: no header row with the columns indicator" in text


def test_smtp_password_from_a_prefect_secret_block(prefect_harness: None) -> None:
    from prefect.blocks.system import Secret

    Secret(value="from-the-block").save("briefing-smtp-test", overwrite=True)
    s = SmtpSettings.from_env({"BRIEFING_SMTP_HOST": "smtp.example.org",
                               "BRIEFING_SMTP_USERNAME": "u",
                               "BRIEFING_SMTP_PASSWORD_BLOCK": "briefing-smtp-test"})
    assert s.password == "from-the-block" and "from-the-block" not in repr(s)


def dead_process() -> tuple[int, str]:
    """The id and start time of a process that has ended."""
    import subprocess
    import sys

    from tasks.store import _process_start

    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    start = _process_start(p.pid)
    p.kill()
    p.wait()
    return p.pid, start


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_a_lock_left_by_a_dead_run_is_taken_over_at_once(kind: str, tmp_path: Path) -> None:
    import socket

    store = (SqlHistoryStore(f"sqlite:///{tmp_path / 'h.sqlite'}") if kind == "sqlite"
             else MemoryHistoryStore())
    pid, start = dead_process()
    host = socket.gethostname()
    assert store.try_lock("999", "2024-10", f"{host}:{pid}:{start}:dead0001")
    started = time.monotonic()
    with cycle_lock(store, "999", "2024-10", wait=30, poll=0.05):
        assert store.lock_holder("999", "2024-10").split(":")[1] == str(os.getpid())
    assert time.monotonic() - started < 5


def test_a_reused_process_id_does_not_keep_a_lock(tmp_path: Path) -> None:
    """The holder's id now belongs to another process (this one): its start time differs."""
    import socket

    store = SqlHistoryStore(f"sqlite:///{tmp_path / 'h.sqlite'}")
    assert store.try_lock("999", "2024-10", f"{socket.gethostname()}:{os.getpid()}:1:old00001")
    with cycle_lock(store, "999", "2024-10", wait=0):
        pass


def test_a_live_run_on_this_machine_keeps_its_lock_and_is_named(tmp_path: Path) -> None:
    store = SqlHistoryStore(f"sqlite:///{tmp_path / 'h.sqlite'}")
    with (cycle_lock(store, "999", "2024-10"),
          pytest.raises(CycleBusy, match=f"the run of process {os.getpid()} on "),
          cycle_lock(store, "999", "2024-10", wait=0.2, poll=0.05)):
        pass


def test_a_lock_from_another_machine_lasts_as_long_as_its_lease(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from tasks.store import LEASE_SECONDS

    store = SqlHistoryStore(f"sqlite:///{tmp_path / 'h.sqlite'}")
    holder = "elsewhere.example:1234:999:far00001"
    assert store.try_lock("999", "2024-10", holder)
    with pytest.raises(CycleBusy, match=r"process 1234 on elsewhere\.example"), \
            cycle_lock(store, "999", "2024-10", wait=0.2, poll=0.05):
        pass
    with store.engine.begin() as conn:  # its lease last renewed longer ago than allowed
        conn.execute(sa.text("update run_locks set acquired = :t"),
                     {"t": time.time() - LEASE_SECONDS - 1})
    with cycle_lock(store, "999", "2024-10", wait=0):
        pass


def test_the_lease_is_renewed_while_the_run_lives(tmp_path: Path) -> None:
    import sqlalchemy as sa

    store = SqlHistoryStore(f"sqlite:///{tmp_path / 'h.sqlite'}")

    def renewed() -> float:
        with store.engine.connect() as conn:
            return float(conn.execute(sa.text("select acquired from run_locks")).scalar_one())

    with cycle_lock(store, "999", "2024-10", lease=0.4):
        first = renewed()
        time.sleep(0.6)
        assert renewed() > first
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from run_locks")).scalar_one() == 0
