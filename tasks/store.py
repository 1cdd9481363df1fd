"""The history of every cycle, and the ledger of messages sent, behind one small interface.

`SqlHistoryStore` is the real one (a SQLite file by default, any SQLAlchemy URL);
`MemoryHistoryStore` is for unit tests of the logic around it. `open_store` chooses by URL.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pandas as pd
import sqlalchemy as sa

from tasks.values import opt_float

HISTORY_COLUMNS = ["indicator", "period", "value", "numerator", "denominator"]
REVISION_COLUMNS = ["indicator", "period", "old_value", "new_value"]
STORE_URL_ENV = "BRIEFING_STORE_URL"


@dataclass(frozen=True)
class LedgerEntry:
    """One message for one recipient in one cycle. `status`: sending | sent | failed."""

    authority: str
    cycle: str
    key: str
    recipient: str
    status: str
    message_id: str = ""
    error: str = ""
    updated_at: str = ""


class HistoryStore(Protocol):
    def history(self, authority: str) -> pd.DataFrame: ...

    def commit_cycle(self, authority: str, cycle: str, records: pd.DataFrame,
                     revisions: pd.DataFrame, files: list[str]) -> None: ...

    def revisions(self, authority: str) -> pd.DataFrame: ...

    def ledger_get(self, authority: str, cycle: str, key: str) -> LedgerEntry | None: ...

    def ledger_put(self, entry: LedgerEntry) -> None: ...

    def try_lock(self, authority: str, cycle: str, holder: str) -> bool: ...

    def unlock(self, authority: str, cycle: str, holder: str) -> None: ...


class CycleBusy(Exception):
    """Another run is producing the same authority's cycle; two at once would interleave."""


STALE_LOCK_SECONDS = 2 * 3600  # a run killed mid-way leaves its lock; after this, it is stale


@contextmanager
def cycle_lock(store: HistoryStore, authority: str, cycle: str, wait: float = 600,
               poll: float = 2.0) -> Iterator[None]:
    """Hold the authority's cycle for one run: wait up to `wait` seconds, then refuse."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + wait
    while not store.try_lock(authority, cycle, holder):
        if time.monotonic() >= deadline:
            raise CycleBusy(f"another run is producing {authority} {cycle}; waited {wait:.0f} s")
        time.sleep(poll)
    try:
        yield
    finally:
        store.unlock(authority, cycle, holder)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def find_revisions(stored: pd.DataFrame, incoming: pd.DataFrame) -> pd.DataFrame:
    """Incoming values that differ from what was stored for the same indicator and month."""
    if stored.empty or incoming.empty:
        return pd.DataFrame(columns=REVISION_COLUMNS)
    m = incoming.merge(stored, on=["indicator", "period"], suffixes=("_new", "_old"))
    old, new = m["value_old"], m["value_new"]
    changed = (old.isna() != new.isna()) | ((old - new).abs() > 1e-9)
    out = m.loc[changed, ["indicator", "period", "value_old", "value_new"]]
    out.columns = pd.Index(REVISION_COLUMNS)
    return out.sort_values(["indicator", "period"]).reset_index(drop=True)


def _empty_history() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("value", "numerator",
                                                               "denominator") else "object")
                         for c in HISTORY_COLUMNS})


class MemoryHistoryStore:
    """In-memory store with the same behaviour, for tests of pure logic around storage."""

    def __init__(self) -> None:
        self._obs: dict[tuple[str, str, str], tuple[float | None, ...]] = {}
        self._revisions: list[dict[str, object]] = []
        self._ledger: dict[tuple[str, str, str], LedgerEntry] = {}
        self._locks: dict[tuple[str, str], str] = {}
        self._guard = threading.Lock()

    def history(self, authority: str) -> pd.DataFrame:
        rows = [{"indicator": k[1], "period": k[2], "value": v[0], "numerator": v[1],
                 "denominator": v[2]} for k, v in sorted(self._obs.items()) if k[0] == authority]
        if not rows:
            return _empty_history()
        return pd.DataFrame(rows, columns=HISTORY_COLUMNS).astype(
            {"value": "float64", "numerator": "float64", "denominator": "float64"})

    def commit_cycle(self, authority: str, cycle: str, records: pd.DataFrame,
                     revisions: pd.DataFrame, files: list[str]) -> None:
        for r in records.itertuples(index=False):
            self._obs[(authority, str(r.indicator), str(r.period))] = (
                opt_float(r.value), opt_float(r.numerator), opt_float(r.denominator))
        for r in revisions.itertuples(index=False):
            self._revisions.append({"indicator": r.indicator, "period": r.period,
                                    "old_value": r.old_value, "new_value": r.new_value,
                                    "cycle": cycle})

    def revisions(self, authority: str) -> pd.DataFrame:
        return pd.DataFrame(self._revisions, columns=[*REVISION_COLUMNS, "cycle"])

    def ledger_get(self, authority: str, cycle: str, key: str) -> LedgerEntry | None:
        return self._ledger.get((authority, cycle, key))

    def ledger_put(self, entry: LedgerEntry) -> None:
        self._ledger[(entry.authority, entry.cycle, entry.key)] = entry

    def try_lock(self, authority: str, cycle: str, holder: str) -> bool:
        with self._guard:
            if (authority, cycle) in self._locks:
                return False
            self._locks[(authority, cycle)] = holder
            return True

    def unlock(self, authority: str, cycle: str, holder: str) -> None:
        with self._guard:
            if self._locks.get((authority, cycle)) == holder:
                del self._locks[(authority, cycle)]


_meta = sa.MetaData()
_observations = sa.Table(
    "observations", _meta,
    sa.Column("authority", sa.String(16), primary_key=True),
    sa.Column("indicator", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("numerator", sa.Float, nullable=True),
    sa.Column("denominator", sa.Float, nullable=True),
    sa.Column("cycle", sa.String(7), nullable=False),
    sa.Column("stored_at", sa.String(32), nullable=False),
)
_revisions = sa.Table(
    "revisions", _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("authority", sa.String(16), nullable=False),
    sa.Column("indicator", sa.String(64), nullable=False),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("old_value", sa.Float, nullable=True),
    sa.Column("new_value", sa.Float, nullable=True),
    sa.Column("cycle", sa.String(7), nullable=False),
    sa.Column("revised_at", sa.String(32), nullable=False),
)
_cycles = sa.Table(
    "cycles", _meta,
    sa.Column("authority", sa.String(16), primary_key=True),
    sa.Column("cycle", sa.String(7), primary_key=True),
    sa.Column("files", sa.Text, nullable=False),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("stored_at", sa.String(32), nullable=False),
)
_locks = sa.Table(
    "run_locks", _meta,
    sa.Column("authority", sa.String(16), primary_key=True),
    sa.Column("cycle", sa.String(7), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("acquired", sa.Float, nullable=False),
)
_ledger = sa.Table(
    "ledger", _meta,
    sa.Column("authority", sa.String(16), primary_key=True),
    sa.Column("cycle", sa.String(7), primary_key=True),
    sa.Column("key", sa.String(320), primary_key=True),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message_id", sa.String(320), nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
)


_DDL_LOCK = 0x4252_4945_4649_4E47  # "BRIEFING": PostgreSQL advisory lock key for the DDL


def _create_tables(engine: sa.Engine, tries: int = 5) -> None:
    """Create the tables if missing, safely when many processes open a new store at once
    (the parts of a spread regional run): "does it exist? create it" is a race. PostgreSQL
    serialises it with an advisory lock; elsewhere the loser sees the tables on a retry."""
    for attempt in range(tries):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": _DDL_LOCK})
                _meta.create_all(conn)
            return
        except sa.exc.DBAPIError:
            if attempt == tries - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


class SqlHistoryStore:
    """History and ledger in any SQLAlchemy database; each cycle is one transaction."""

    def __init__(self, url: str):
        self.url = url
        self.engine = sa.create_engine(url)
        _create_tables(self.engine)

    def history(self, authority: str) -> pd.DataFrame:
        q = (sa.select(_observations.c.indicator, _observations.c.period, _observations.c.value,
                       _observations.c.numerator, _observations.c.denominator)
             .where(_observations.c.authority == authority)
             .order_by(_observations.c.indicator, _observations.c.period))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        if not rows:
            return _empty_history()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=HISTORY_COLUMNS)
        for c in ("value", "numerator", "denominator"):
            frame[c] = frame[c].astype("float64")
        return frame

    def commit_cycle(self, authority: str, cycle: str, records: pd.DataFrame,
                     revisions: pd.DataFrame, files: list[str]) -> None:
        now = _now()
        obs = [{"authority": authority, "indicator": str(r.indicator), "period": str(r.period),
                "value": opt_float(r.value), "numerator": opt_float(r.numerator),
                "denominator": opt_float(r.denominator), "cycle": cycle, "stored_at": now}
               for r in records.itertuples(index=False)]
        keys = [{"a": authority, "i": o["indicator"], "p": o["period"]} for o in obs]
        revs = [{"authority": authority, "indicator": str(r.indicator), "period": str(r.period),
                 "old_value": opt_float(r.old_value), "new_value": opt_float(r.new_value),
                 "cycle": cycle, "revised_at": now} for r in revisions.itertuples(index=False)]
        with self.engine.begin() as conn:
            if keys:
                conn.execute(_observations.delete().where(
                    (_observations.c.authority == sa.bindparam("a"))
                    & (_observations.c.indicator == sa.bindparam("i"))
                    & (_observations.c.period == sa.bindparam("p"))), keys)
                conn.execute(_observations.insert(), obs)
            if revs:
                conn.execute(_revisions.insert(), revs)
            conn.execute(_cycles.delete().where((_cycles.c.authority == authority)
                                                & (_cycles.c.cycle == cycle)))
            conn.execute(_cycles.insert(), [{"authority": authority, "cycle": cycle,
                                             "files": json.dumps(files), "records": len(obs),
                                             "stored_at": now}])

    def revisions(self, authority: str) -> pd.DataFrame:
        q = (sa.select(_revisions.c.indicator, _revisions.c.period, _revisions.c.old_value,
                       _revisions.c.new_value, _revisions.c.cycle)
             .where(_revisions.c.authority == authority).order_by(_revisions.c.id))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return pd.DataFrame([tuple(r) for r in rows], columns=[*REVISION_COLUMNS, "cycle"])

    def ledger_get(self, authority: str, cycle: str, key: str) -> LedgerEntry | None:
        q = sa.select(_ledger).where((_ledger.c.authority == authority)
                                     & (_ledger.c.cycle == cycle) & (_ledger.c.key == key))
        with self.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
        return LedgerEntry(**row) if row else None

    def ledger_put(self, entry: LedgerEntry) -> None:
        values = {**entry.__dict__, "updated_at": _now()}
        with self.engine.begin() as conn:
            conn.execute(_ledger.delete().where((_ledger.c.authority == entry.authority)
                                                & (_ledger.c.cycle == entry.cycle)
                                                & (_ledger.c.key == entry.key)))
            conn.execute(_ledger.insert(), [values])

    def try_lock(self, authority: str, cycle: str, holder: str) -> bool:
        """Insert the lock row; the primary key makes a second insert fail, on any database."""
        key = (_locks.c.authority == authority) & (_locks.c.cycle == cycle)
        try:
            with self.engine.begin() as conn:
                conn.execute(_locks.delete().where(
                    key & (_locks.c.acquired < time.time() - STALE_LOCK_SECONDS)))
                conn.execute(_locks.insert(), [{"authority": authority, "cycle": cycle,
                                                "holder": holder, "acquired": time.time()}])
        except sa.exc.IntegrityError:
            return False
        return True

    def unlock(self, authority: str, cycle: str, holder: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(_locks.delete().where((_locks.c.authority == authority)
                                               & (_locks.c.cycle == cycle)
                                               & (_locks.c.holder == holder)))

    def dispose(self) -> None:
        self.engine.dispose()


def default_store_url(out_dir: Path) -> str:
    return f"sqlite:///{(Path(out_dir) / 'history.sqlite').resolve()}"


def store_for(out_dir: Path) -> HistoryStore:
    """The store a run uses: BRIEFING_STORE_URL, else `<out>/history.sqlite`."""
    return open_store(os.environ.get(STORE_URL_ENV) or default_store_url(out_dir))


def open_store(url: str) -> HistoryStore:
    """`memory://` gives the in-memory store; anything else is a SQLAlchemy URL."""
    if url == "memory://":
        return MemoryHistoryStore()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return SqlHistoryStore(url)
