"""Running it safely: one run per cycle at a time, failure alerts to the operators, the
SMTP password from a Prefect Secret block."""

from __future__ import annotations

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
    (exports / "broken.csv").write_text("indicator,period,value\nFD01,2024-10,lots\n")
    out = tmp_path / "out"
    with pytest.raises(ValidationFailed):
        monthly_briefing(config_dir=str(DEMO_CONFIG), exports_dir=str(exports),
                         out_dir=str(out), send=True)
    assert tree_digest(out) == {}
    (_, rcpts, raw) = inbox.messages[0]
    assert rcpts == ["performance@example.gov.uk"] and len(inbox.messages) == 1
    text = raw.decode()
    assert "failed" in text and "http://127.0.0.1:4200/runs/flow-run/" in text
    assert "ERROR: broken.csv, row 2, column 'value'" in text


def test_smtp_password_from_a_prefect_secret_block(prefect_harness: None) -> None:
    from prefect.blocks.system import Secret

    Secret(value="from-the-block").save("briefing-smtp-test", overwrite=True)
    s = SmtpSettings.from_env({"BRIEFING_SMTP_HOST": "smtp.example.org",
                               "BRIEFING_SMTP_USERNAME": "u",
                               "BRIEFING_SMTP_PASSWORD_BLOCK": "briefing-smtp-test"})
    assert s.password == "from-the-block" and "from-the-block" not in repr(s)
