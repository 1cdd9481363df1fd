"""Running it safely: one run per cycle at a time, failure alerts to the operators, the
SMTP password from a Prefect Secret block."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flows.faults import EXIT_OUTPUT, EXIT_PREFECT, EXIT_STORE
from flows.monthly_briefing import monthly_briefing
from tasks.adapters.mail import SmtpSettings
from tasks.reading.problems import ValidationFailed
from tasks.store.history import (
    CycleBusy,
    LedgerEntry,
    MemoryHistoryStore,
    SqlHistoryStore,
    cycle_lock,
)
from tests.conftest import DEMO_CONFIG, DEMO_EXPORTS, Inbox, free_port, tree_digest


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

    from tasks.store.history import _process_start

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

    from tasks.store.history import LEASE_SECONDS

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


# --- faults of the machinery: each its own exit code, one line, nothing written -------------

def _fault(argv: list[str], capsys: pytest.CaptureFixture[str], code: int) -> str:
    from tests.e2e.test_usage_errors import usage_error

    return usage_error(argv, capsys, code)


def _run_args(out: Path) -> list[str]:
    return ["run", "--config", str(DEMO_CONFIG), "--exports", str(DEMO_EXPORTS), "--out",
            str(out)]


def _store(out: Path) -> Path:
    """A real history store with the tables a run makes, and a cycle's worth of rows."""
    store = SqlHistoryStore(f"sqlite:///{out / 'history.sqlite'}")
    store.dispose()
    with sqlite3.connect(out / "history.sqlite") as db:
        db.execute("create table filler (n integer, text text)")
        db.executemany("insert into filler values (?, ?)",
                       [(n, "x" * 200) for n in range(2000)])
    return out / "history.sqlite"


def test_a_store_locked_by_another_process_is_named(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 24: exit 1, "the exports have errors", tracebacks. Another process holds a
    write transaction open on the store for the whole of this run."""
    out = tmp_path / "out"
    out.mkdir()
    path = _store(out)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         f"db = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
         "db.execute('begin immediate'); db.execute('insert into filler values (0, 1)')\n"
         "print('held', flush=True); time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        before = tree_digest(out)
        line = _fault(_run_args(out), capsys, EXIT_STORE)
    finally:
        holder.kill()
        holder.wait()
    assert "is locked by another process" in line and str(path) in line, line
    assert "nothing was started, stored, written or sent" in line
    assert "exports" not in line
    assert tree_digest(out) == before


def test_a_damaged_store_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A store whose pages were overwritten (a disk fault, a half-copied backup) but whose
    header is intact: the engine started, and the run failed as if the exports had errors."""
    out = tmp_path / "out"
    out.mkdir()
    path = _store(out)
    data = bytearray(path.read_bytes())
    data[8192:16384] = b"\xa5" * 8192  # two pages of a table, garbled
    path.write_bytes(bytes(data))
    before = tree_digest(out)
    line = _fault(_run_args(out), capsys, EXIT_STORE)
    assert "is damaged" in line and "Restore the history store from a backup" in line, line
    assert tree_digest(out) == before


def test_a_store_locked_during_the_run_is_named(tmp_path: Path) -> None:
    """The lock taken after the checks at the start: the store's own error, from a real
    SQLite file, is still classed as the store's fault, not the exports'."""
    from flows.faults import StoreFault, classify

    path = _store(tmp_path)
    store = SqlHistoryStore(f"sqlite:///{path}?timeout=0.2")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("begin immediate")
    try:
        with pytest.raises(Exception) as caught:
            store.save_deep_dives("999", [])
            store.ledger_put(LedgerEntry("999", "2024-10", "k", "a@example.gov.uk", "sent"))
    finally:
        holder.close()
        store.dispose()
    fault = classify(caught.value)
    assert isinstance(fault, StoreFault) and fault.code == EXIT_STORE
    assert "locked by another process" in fault.line("nothing was stored")


def test_an_unreachable_prefect_api_is_named_before_the_engine(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 24: 113 lines and three tracebacks, exit 1."""
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    started = time.monotonic()
    line = _fault(_run_args(tmp_path / "out"), capsys, EXIT_PREFECT)
    assert time.monotonic() - started < 30
    assert "Prefect's API cannot be reached" in line and "PREFECT_API_URL" in line, line
    assert not (tmp_path / "out").exists()


def test_an_out_folder_that_cannot_be_made_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 24: `--out /proc/nope` passed the check (root may write anywhere, says
    os.access), started the engine and ended in two tracebacks."""
    line = _fault(_run_args(Path("/proc/nope")), capsys, EXIT_OUTPUT)
    assert line.startswith("Error: --out /proc/nope: /proc cannot be written"), line


def test_a_cycle_folder_is_switched_whole_and_leftovers_cleared(tmp_path: Path) -> None:
    """tasks.adapters.outputs on a real folder: a run that died between the two renames has its
    previous set put back; staging and aside folders left by failed runs are cleared by
    the next run of the cycle; the switch replaces the set whole."""
    from tasks.adapters.outputs import MARKER_NAME, start_staging, switch_in

    live = tmp_path / "999" / "2024-10"

    def a_set(folder: Path, run: str) -> None:
        (folder / "public").mkdir(parents=True, exist_ok=True)
        (folder / "public" / "briefing.pdf").write_text(run)
        (folder / MARKER_NAME).write_text(run)

    # A run died after renaming the live set aside and before renaming the new one in.
    a_set(tmp_path / "999" / ".2024-10.previous-dead", "first")
    (tmp_path / "999" / ".2024-10.staging-dead" / "public").mkdir(parents=True)
    staging, notes = start_staging(live)
    assert notes == [] and (live / MARKER_NAME).read_text() == "first"
    assert sorted(p.name for p in live.parent.iterdir()) == sorted(["2024-10", staging.name])
    a_set(staging, "second")
    assert switch_in(staging, live) == []
    assert (live / "public" / "briefing.pdf").read_text() == "second"
    assert [p.name for p in live.parent.iterdir()] == ["2024-10"]


def test_what_a_stopped_run_says_it_sent_counts_earlier_runs_too() -> None:
    """Found from outside (issue 24): stopped after a run in which every message had gone
    before, the line said '0 of 9 message(s) sent'."""
    from tasks.delivering.notify import Delivery
    from tasks.run.progress import Progress

    progress = Progress(stored=True, published=Path("out/999/2024-10"), sending=True)
    progress.deliveries = [Delivery("breach", "o", "a@x.gov.uk", ["K1"], "already_sent", "smtp"),
                           Delivery("briefing", None, "b@x.gov.uk", [], "sent", "smtp"),
                           Delivery("briefing", None, "c@x.gov.uk", [], "failed", "smtp")]
    assert progress.describe().endswith("; 2 of 3 message(s) sent (1 by an earlier run)")
