"""scripts/setup.sh waits, saying so, while another install holds the package manager's
lock, instead of failing with apt's bare lock error. Tested on lock files of its own, held
with the same kind of lock dpkg takes (fcntl)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "wait_for_apt.sh"


def wait_script(locks: list[Path], limit: int) -> subprocess.Popen[str]:
    env = {**os.environ, "SETUP_APT_LOCKS": " ".join(map(str, locks)),
           "SETUP_APT_WAIT": str(limit)}
    return subprocess.Popen(["bash", str(SCRIPT)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_free_locks_pass_at_once(tmp_path: Path) -> None:
    lock = tmp_path / "lock-frontend"
    lock.write_text("")
    done = wait_script([lock, tmp_path / "absent"], 10)
    out, err = done.communicate(timeout=30)
    assert done.returncode == 0 and out == "" and err == ""


@pytest.mark.slow
def test_a_held_lock_is_waited_for_with_a_message(tmp_path: Path) -> None:
    lock = tmp_path / "lock-frontend"
    lock.write_text("")
    with open(lock, "r+b") as held:
        fcntl.lockf(held, fcntl.LOCK_EX)
        proc = wait_script([lock], 60)
        release = threading.Timer(3.0, lambda: fcntl.lockf(held, fcntl.LOCK_UN))
        started = time.monotonic()
        release.start()
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert time.monotonic() - started >= 2.5
    assert f"another package install is running (it holds {lock}); waiting" in out
    assert "the package manager is free; going on" in out


@pytest.mark.slow
def test_a_lock_held_too_long_gives_up_clearly(tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    lock.write_text("")
    with open(lock, "r+b") as held:
        fcntl.lockf(held, fcntl.LOCK_EX)
        proc = wait_script([lock], 2)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "still busy after 2 s; run 'make setup' again" in err


def test_setup_uses_the_wait_and_apt_timeout() -> None:
    text = (ROOT / "scripts" / "setup.sh").read_text()
    assert "wait_for_apt" in text and text.count("DPkg::Lock::Timeout=600") == 2
