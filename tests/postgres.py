"""A real PostgreSQL server for tests, from Debian's packages (scripts/setup.sh installs them).

Started on 127.0.0.1 on a free port, in a fresh data folder, with trust authentication for
a superuser `briefing`; thrown away afterwards. PostgreSQL refuses to run as root, so as
root it runs as the `postgres` user the Debian package creates.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import free_port

USER = "briefing"


def bindir() -> Path | None:
    """The newest installed PostgreSQL's programs, or None when it is not installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    return found[-1].parent if found else None


def require_postgres() -> Path:
    """PostgreSQL's bindir; skip without it, except in CI where setup must have put it."""
    found = bindir()
    if found is None:
        msg = "PostgreSQL is not installed (scripts/setup.sh installs it as root)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return found


@contextmanager
def postgres_server(databases: list[str]) -> Iterator[str]:
    """Start a server, create the databases; yields `user@127.0.0.1:port` for URLs."""
    bins = require_postgres()
    data = Path(tempfile.mkdtemp(prefix="briefing-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*as_user, str(bins / "initdb"), "-D", str(data / "db"), "-U", USER,
                    "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
                   check=True, capture_output=True)
    proc = subprocess.Popen(
        [*as_user, str(bins / "postgres"), "-D", str(data / "db"), "-p", str(port),
         "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
         "-c", "fsync=off", "-c", "max_connections=200"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while subprocess.run([str(bins / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                             capture_output=True).returncode != 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start (exit {proc.poll()})")
            time.sleep(0.3)
        import psycopg

        with psycopg.connect(f"postgresql://{USER}@127.0.0.1:{port}/postgres",
                             autocommit=True) as conn:
            for db in databases:
                conn.execute(f'CREATE DATABASE "{db}"')
        yield f"{USER}@127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # "fast" shutdown
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(data, ignore_errors=True)
