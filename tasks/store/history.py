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
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

import pandas as pd
import sqlalchemy as sa

from tasks.analysing.deep_dives import DeepDive, Status
from tasks.reading.questions import Kind, Tracked
from tasks.reading.values import opt_float
from tasks.settings.frames import FIGURES, PARTS, REVISION_LOG, REVISIONS

STORE_URL_ENV = "BRIEFING_STORE_URL"


@dataclass(frozen=True)
class LedgerEntry:
    """One message as planned in one cycle (tasks.delivering.notify keys it by owner, indicators and
    address). `status`: sending | sent | failed | uncertain | resend (tasks.delivering.notify)."""

    authority: str
    cycle: str
    key: str
    recipient: str
    status: str
    message_id: str = ""
    error: str = ""
    updated_at: str = ""


class HistoryStore(Protocol):
    """The store's frames are tasks.settings.frames': `history` FIGURES, `parts` PARTS,
    `revisions` REVISION_LOG."""

    def history(self, authority: str) -> pd.DataFrame: ...

    def commit_cycle(self, authority: str, cycle: str, records: pd.DataFrame,
                     revisions: pd.DataFrame, files: list[str],
                     parts: pd.DataFrame | None = None,
                     small: set[tuple[str, str]] | None = None) -> None: ...

    def revisions(self, authority: str) -> pd.DataFrame: ...

    def parts(self, authority: str) -> pd.DataFrame: ...

    def deep_dives(self, authority: str) -> list[DeepDive]: ...

    def small_figures(self, authority: str) -> set[tuple[str, str]]: ...

    def save_deep_dives(self, authority: str, dives: list[DeepDive]) -> None: ...

    def questions(self, authority: str) -> list[Tracked]: ...

    def save_questions(self, authority: str, questions: list[Tracked]) -> None: ...

    def ledger_get(self, authority: str, cycle: str, key: str) -> LedgerEntry | None: ...

    def ledger_put(self, entry: LedgerEntry) -> None: ...

    def ledger_entries(self, authority: str | None = None,
                       cycle: str | None = None) -> list[LedgerEntry]: ...

    def try_lock(self, authority: str, cycle: str, holder: str) -> bool: ...

    def renew(self, authority: str, cycle: str, holder: str) -> bool: ...

    def lock_holder(self, authority: str, cycle: str) -> str | None: ...

    def unlock(self, authority: str, cycle: str, holder: str) -> None: ...


class CycleBusy(Exception):
    """Another run is producing the same authority's cycle; two at once would interleave."""


# A run renews its lock's lease every LEASE_SECONDS / 4 while it lives. A lock whose holder
# is a process on this machine is judged by that process alone (gone, or its process id
# reused by another: the lock is free at once); one held from another machine is free once
# its lease has not been renewed for LEASE_SECONDS.
LEASE_SECONDS = 60.0


def _process_start(pid: int) -> str:
    """When the process started (clock ticks since boot), to tell it from a later process
    given the same id; empty where /proc does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but alive
    return True


def new_holder() -> str:
    """`host:pid:start:nonce`: enough for another run to tell whether this one is alive."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid)}:{uuid.uuid4().hex[:8]}"


def holder_alive(holder: str, renewed: float, now: float | None = None) -> bool:
    """Whether the run holding a lock is still alive: by its process on this machine, else
    by its lease."""
    parts = holder.split(":")
    if len(parts) == 4 and parts[0] == socket.gethostname() and parts[1].isdigit():
        pid, start = int(parts[1]), parts[2]
        if not _pid_alive(pid):
            return False
        return not start or _process_start(pid) in ("", start)
    return (time.time() if now is None else now) - renewed < LEASE_SECONDS


def describe_holder(holder: str | None) -> str:
    parts = (holder or "").split(":")
    if len(parts) == 4:
        return f"the run of process {parts[1]} on {parts[0]}"
    return "another run"


@contextmanager
def cycle_lock(store: HistoryStore, authority: str, cycle: str, wait: float = 600,
               poll: float = 2.0, lease: float = LEASE_SECONDS) -> Iterator[None]:
    """Hold the authority's cycle for one run: wait up to `wait` seconds, then refuse.

    A lock left by a run that died (killed, crashed, machine restarted) is taken over at
    once, or once its lease runs out; the lease is renewed by a thread while this one lives.
    """
    holder = new_holder()
    deadline = time.monotonic() + wait
    while not store.try_lock(authority, cycle, holder):
        if time.monotonic() >= deadline:
            who = describe_holder(store.lock_holder(authority, cycle))
            raise CycleBusy(f"{who} is producing {authority} {cycle}; waited {wait:.0f} s "
                            "for it to finish")
        time.sleep(poll)
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease / 4):
            try:
                store.renew(authority, cycle, holder)
            except Exception:  # a missed renewal is retried; the lease allows for several
                continue

    renewer = threading.Thread(target=renew, name=f"lease-{authority}-{cycle}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=5)
        store.unlock(authority, cycle, holder)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def find_revisions(stored: pd.DataFrame, incoming: pd.DataFrame) -> pd.DataFrame:
    """Incoming values that differ from what was stored for the same indicator and month,
    with the numerators and denominators of both (tasks.settings.frames.REVISIONS)."""
    if stored.empty or incoming.empty:
        return REVISIONS.empty()
    keep = FIGURES.columns
    m = incoming[keep].merge(stored[keep], on=["indicator", "period"],
                             suffixes=("_new", "_old"))
    old, new = m["value_old"], m["value_new"]
    changed = (old.isna() != new.isna()) | ((old - new).abs() > 1e-9)
    out = m.loc[changed, ["indicator", "period", "value_old", "value_new", "numerator_old",
                          "denominator_old", "numerator_new", "denominator_new"]]
    out.columns = pd.Index(REVISIONS.columns)
    return out.sort_values(["indicator", "period"]).reset_index(drop=True)


def _parts_by_figure(parts: pd.DataFrame | None, cycle: str
                     ) -> dict[tuple[str, str], list[dict[str, object]]]:
    """A cycle's parts, grouped by the figure (indicator, period) they break down."""
    out: dict[tuple[str, str], list[dict[str, object]]] = {}
    if parts is None or parts.empty:
        return out
    for r in parts.itertuples(index=False):
        out.setdefault((str(r.indicator), str(r.period)), []).append({
            "indicator": str(r.indicator), "period": str(r.period),
            "breakdown": str(r.breakdown), "part": str(r.part), "value": opt_float(r.value),
            "numerator": opt_float(r.numerator), "denominator": opt_float(r.denominator),
            "cycle": cycle})
    return out


def stored_in(cycle: str) -> str:
    """What a stored part gives as its `file`: the cycle that stored it."""
    return f"(stored in {cycle})"


def _parts_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Stored parts in the shape of tasks.settings.frames.PARTS; `file` says which cycle
    stored them, as a finding about them would."""
    if not rows:
        return PARTS.empty()
    columns = PARTS.columns
    frame = pd.DataFrame([{**{c: r.get(c) for c in columns},
                           "file": stored_in(str(r["cycle"])), "row": None} for r in rows],
                         columns=columns)
    for c in ("value", "numerator", "denominator"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    return frame


class MemoryHistoryStore:
    """In-memory store with the same behaviour, for tests of pure logic around storage."""

    def __init__(self) -> None:
        self._obs: dict[tuple[str, str, str], tuple[float | None, ...]] = {}
        self._revisions: list[dict[str, object]] = []
        self._ledger: dict[tuple[str, str, str], LedgerEntry] = {}
        self._locks: dict[tuple[str, str], tuple[str, float]] = {}
        self._guard = threading.Lock()
        self._dives: dict[tuple[str, str, str], DeepDive] = {}
        self._parts: dict[tuple[str, str, str], list[dict[str, object]]] = {}
        self._small: set[tuple[str, str, str]] = set()
        self._questions: dict[tuple[str, str], Tracked] = {}

    def history(self, authority: str) -> pd.DataFrame:
        rows = [{"indicator": k[1], "period": k[2], "value": v[0], "numerator": v[1],
                 "denominator": v[2]} for k, v in sorted(self._obs.items()) if k[0] == authority]
        if not rows:
            return FIGURES.empty()
        return pd.DataFrame(rows, columns=FIGURES.columns).astype(
            {"value": "float64", "numerator": "float64", "denominator": "float64"})

    def commit_cycle(self, authority: str, cycle: str, records: pd.DataFrame,
                     revisions: pd.DataFrame, files: list[str],
                     parts: pd.DataFrame | None = None,
                     small: set[tuple[str, str]] | None = None) -> None:
        self._small |= {(authority, i, p) for i, p in small or set()}
        by_figure = _parts_by_figure(parts, cycle)
        for r in records.itertuples(index=False):  # a re-run that no longer breaks it down
            key = (authority, str(r.indicator), str(r.period))
            if (key[1], key[2]) not in by_figure and any(
                    p["cycle"] == cycle for p in self._parts.get(key, [])):
                del self._parts[key]
        for fig, rows in by_figure.items():
            self._parts[(authority, *fig)] = rows
        for r in records.itertuples(index=False):
            self._obs[(authority, str(r.indicator), str(r.period))] = (
                opt_float(r.value), opt_float(r.numerator), opt_float(r.denominator))
        for r in revisions.itertuples(index=False):
            self._revisions.append({"indicator": r.indicator, "period": r.period,
                                    "old_value": r.old_value, "new_value": r.new_value,
                                    "cycle": cycle})

    def revisions(self, authority: str) -> pd.DataFrame:
        return pd.DataFrame(self._revisions, columns=REVISION_LOG.columns)

    def parts(self, authority: str) -> pd.DataFrame:
        return _parts_frame([r for k, rows in sorted(self._parts.items()) if k[0] == authority
                             for r in rows])

    def deep_dives(self, authority: str) -> list[DeepDive]:
        return [d for k, d in sorted(self._dives.items()) if k[0] == authority]

    def small_figures(self, authority: str) -> set[tuple[str, str]]:
        return {(i, p) for a, i, p in self._small if a == authority}

    def save_deep_dives(self, authority: str, dives: list[DeepDive]) -> None:
        for d in dives:
            self._dives[(authority, d.indicator, d.opened)] = d

    def questions(self, authority: str) -> list[Tracked]:
        return [q for k, q in sorted(self._questions.items()) if k[0] == authority]

    def save_questions(self, authority: str, questions: list[Tracked]) -> None:
        for q in questions:
            self._questions[(authority, q.ref)] = q

    def ledger_get(self, authority: str, cycle: str, key: str) -> LedgerEntry | None:
        return self._ledger.get((authority, cycle, key))

    def ledger_put(self, entry: LedgerEntry) -> None:
        self._ledger[(entry.authority, entry.cycle, entry.key)] = entry

    def ledger_entries(self, authority: str | None = None,
                       cycle: str | None = None) -> list[LedgerEntry]:
        return [e for k, e in sorted(self._ledger.items())
                if authority in (None, k[0]) and cycle in (None, k[1])]

    def try_lock(self, authority: str, cycle: str, holder: str) -> bool:
        with self._guard:
            held = self._locks.get((authority, cycle))
            if held is not None and holder_alive(*held):
                return False
            self._locks[(authority, cycle)] = (holder, time.time())
            return True

    def renew(self, authority: str, cycle: str, holder: str) -> bool:
        with self._guard:
            if self._locks.get((authority, cycle), ("", 0.0))[0] != holder:
                return False
            self._locks[(authority, cycle)] = (holder, time.time())
            return True

    def lock_holder(self, authority: str, cycle: str) -> str | None:
        held = self._locks.get((authority, cycle))
        return held[0] if held else None

    def unlock(self, authority: str, cycle: str, holder: str) -> None:
        with self._guard:
            if self._locks.get((authority, cycle), ("", 0.0))[0] == holder:
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
# The deep-dive register (tasks.analysing.deep_dives): one row per deep dive, keyed by when it
# opened.
_deep_dives = sa.Table(
    "deep_dives", _meta,
    sa.Column("authority", sa.String(16), primary_key=True),
    sa.Column("indicator", sa.String(64), primary_key=True),
    sa.Column("opened", sa.String(7), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("closed", sa.String(10), nullable=True),
    sa.Column("updated_at", sa.String(32), nullable=False),
)
# Breakdowns (tasks.analysing.breakdowns): the parts of an indicator's figure in each period, so a
# monthly export that gives only its own month's parts still has the month before's to
# compare with, and a deep-dive pack shows them over time.
_parts = sa.Table(
    "breakdown_parts", _meta,
    sa.Column("authority", sa.String(16), primary_key=True),
    sa.Column("indicator", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("breakdown", sa.String(200), primary_key=True),
    sa.Column("part", sa.String(200), primary_key=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("numerator", sa.Float, nullable=True),
    sa.Column("denominator", sa.Float, nullable=True),
    sa.Column("cycle", sa.String(7), nullable=False),
    sa.Column("stored_at", sa.String(32), nullable=False),
)
# Every figure a run found small (1 to 5 children) or contested, as it was then: what the
# run decided on it (the deep-dive register, its warnings) stays out of the public edition
# for good, whatever later exports revise (tasks.editions.disclosure, "remembered").
_small = sa.Table(
    "small_figures", _meta,
    sa.Column("authority", sa.String(16), primary_key=True),
    sa.Column("indicator", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("cycle", sa.String(7), nullable=False),  # the first run that found it small
    sa.Column("stored_at", sa.String(32), nullable=False),
)
# The committee's questions and recommendations (tasks.reading.questions): each one's history,
# asked (the meeting), answered (when, by whom, what) and closed. Created by create_all
# in a store made before it, as every table is: nothing else in the store changes.
_questions = sa.Table(
    "committee_questions", _meta,
    sa.Column("authority", sa.String(16), primary_key=True),
    sa.Column("ref", sa.String(40), primary_key=True),
    sa.Column("meeting", sa.String(10), nullable=False),
    sa.Column("indicator", sa.String(64), nullable=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=True),
    sa.Column("answered_by", sa.String(200), nullable=True),
    sa.Column("answered", sa.String(10), nullable=True),
    sa.Column("closed", sa.String(10), nullable=True),
    sa.Column("updated_at", sa.String(32), nullable=False),
)
_locks = sa.Table(
    "run_locks", _meta,
    sa.Column("authority", sa.String(16), primary_key=True),
    sa.Column("cycle", sa.String(7), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    # When the lease was last renewed (time.time()), not only when it was first taken.
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
            return FIGURES.empty()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=FIGURES.columns)
        for c in ("value", "numerator", "denominator"):
            frame[c] = frame[c].astype("float64")
        return frame

    def commit_cycle(self, authority: str, cycle: str, records: pd.DataFrame,
                     revisions: pd.DataFrame, files: list[str],
                     parts: pd.DataFrame | None = None,
                     small: set[tuple[str, str]] | None = None) -> None:
        """One transaction: the figures, revisions, parts, and the figures found small
        (kept for good: only ones not already kept are added)."""
        now = _now()
        by_figure = _parts_by_figure(parts, cycle)
        part_rows = [{"authority": authority, **r, "stored_at": now}
                     for rows in by_figure.values() for r in rows]
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
            if by_figure:  # a figure's parts as this cycle gives them replace the stored ones
                conn.execute(_parts.delete().where(
                    (_parts.c.authority == sa.bindparam("a"))
                    & (_parts.c.indicator == sa.bindparam("i"))
                    & (_parts.c.period == sa.bindparam("p"))),
                    [{"a": authority, "i": i, "p": p} for i, p in by_figure])
                conn.execute(_parts.insert(), part_rows)
            unbroken = [{"a": authority, "i": o["indicator"], "p": o["period"], "c": cycle}
                        for o in obs if (o["indicator"], o["period"]) not in by_figure]
            if unbroken:  # a re-run of this cycle that no longer breaks a figure down
                conn.execute(_parts.delete().where(
                    (_parts.c.authority == sa.bindparam("a"))
                    & (_parts.c.indicator == sa.bindparam("i"))
                    & (_parts.c.period == sa.bindparam("p"))
                    & (_parts.c.cycle == sa.bindparam("c"))), unbroken)
            self._remember_small(conn, authority, cycle, small or set(), now)
            conn.execute(_cycles.delete().where((_cycles.c.authority == authority)
                                                & (_cycles.c.cycle == cycle)))
            conn.execute(_cycles.insert(), [{"authority": authority, "cycle": cycle,
                                             "files": json.dumps(files), "records": len(obs),
                                             "stored_at": now}])

    @staticmethod
    def _remember_small(conn: sa.Connection, authority: str, cycle: str,
                        small: set[tuple[str, str]], now: str) -> None:
        if not small:
            return
        kept = {(r.indicator, r.period) for r in conn.execute(
            sa.select(_small.c.indicator, _small.c.period).where(_small.c.authority == authority))}
        new = sorted(small - kept)
        if new:
            conn.execute(_small.insert(), [{"authority": authority, "indicator": i,
                                            "period": p, "cycle": cycle, "stored_at": now}
                                           for i, p in new])

    def small_figures(self, authority: str) -> set[tuple[str, str]]:
        q = sa.select(_small.c.indicator, _small.c.period).where(_small.c.authority == authority)
        with self.engine.connect() as conn:
            return {(str(r.indicator), str(r.period)) for r in conn.execute(q)}

    def parts(self, authority: str) -> pd.DataFrame:
        q = (sa.select(_parts.c.indicator, _parts.c.period, _parts.c.breakdown, _parts.c.part,
                       _parts.c.value, _parts.c.numerator, _parts.c.denominator,
                       _parts.c.cycle)
             .where(_parts.c.authority == authority)
             .order_by(_parts.c.indicator, _parts.c.period, _parts.c.part))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return _parts_frame([dict(r._mapping) for r in rows])

    def revisions(self, authority: str) -> pd.DataFrame:
        q = (sa.select(_revisions.c.indicator, _revisions.c.period, _revisions.c.old_value,
                       _revisions.c.new_value, _revisions.c.cycle)
             .where(_revisions.c.authority == authority).order_by(_revisions.c.id))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return pd.DataFrame([tuple(r) for r in rows], columns=REVISION_LOG.columns)

    def deep_dives(self, authority: str) -> list[DeepDive]:
        t = _deep_dives
        q = (sa.select(t.c.indicator, t.c.opened, t.c.owner, t.c.status, t.c.closed)
             .where(t.c.authority == authority).order_by(t.c.indicator, t.c.opened))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [DeepDive(r.indicator, r.opened, r.owner, Status(r.status),
                         date.fromisoformat(r.closed) if r.closed else None) for r in rows]

    def save_deep_dives(self, authority: str, dives: list[DeepDive]) -> None:
        """Write the register's rows (one transaction); a deep dive is never deleted."""
        if not dives:
            return
        t, now = _deep_dives, _now()
        keys = [{"a": authority, "i": d.indicator, "o": d.opened} for d in dives]
        rows = [{"authority": authority, "indicator": d.indicator, "opened": d.opened,
                 "owner": d.owner, "status": d.status.value,
                 "closed": d.closed.isoformat() if d.closed else None, "updated_at": now}
                for d in dives]
        with self.engine.begin() as conn:
            conn.execute(t.delete().where((t.c.authority == sa.bindparam("a"))
                                          & (t.c.indicator == sa.bindparam("i"))
                                          & (t.c.opened == sa.bindparam("o"))), keys)
            conn.execute(t.insert(), rows)

    def questions(self, authority: str) -> list[Tracked]:
        t = _questions
        q = sa.select(t).where(t.c.authority == authority).order_by(t.c.meeting, t.c.ref)
        with self.engine.connect() as conn:
            rows = conn.execute(q).mappings().all()

        def day(text: str | None) -> date | None:
            return date.fromisoformat(text) if text else None

        return [Tracked(r["ref"], date.fromisoformat(r["meeting"]), r["indicator"],
                        r["owner"], Kind(r["kind"]), r["text"], r["answer"],
                        r["answered_by"], day(r["answered"]), day(r["closed"]))
                for r in rows]

    def save_questions(self, authority: str, questions: list[Tracked]) -> None:
        """Write each question's row (one transaction); a question is never deleted."""
        if not questions:
            return
        t, now = _questions, _now()

        def day(d: date | None) -> str | None:
            return d.isoformat() if d else None

        rows = [{"authority": authority, "ref": q.ref, "meeting": q.meeting.isoformat(),
                 "indicator": q.indicator, "owner": q.owner, "kind": q.kind.value,
                 "text": q.text, "answer": q.answer, "answered_by": q.answered_by,
                 "answered": day(q.answered), "closed": day(q.closed), "updated_at": now}
                for q in questions]
        with self.engine.begin() as conn:
            conn.execute(t.delete().where((t.c.authority == sa.bindparam("a"))
                                          & (t.c.ref == sa.bindparam("r"))),
                         [{"a": authority, "r": q.ref} for q in questions])
            conn.execute(t.insert(), rows)

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

    def ledger_entries(self, authority: str | None = None,
                       cycle: str | None = None) -> list[LedgerEntry]:
        """The ledger (of one authority, one cycle), in order of authority, cycle and key."""
        q = sa.select(_ledger).order_by(_ledger.c.authority, _ledger.c.cycle, _ledger.c.key)
        if authority is not None:
            q = q.where(_ledger.c.authority == authority)
        if cycle is not None:
            q = q.where(_ledger.c.cycle == cycle)
        with self.engine.connect() as conn:
            return [LedgerEntry(**row) for row in conn.execute(q).mappings()]

    def try_lock(self, authority: str, cycle: str, holder: str) -> bool:
        """Insert the lock row; the primary key makes a second insert fail, on any database.

        A row whose holder is dead is deleted first, matched on holder and lease time, so
        two runs taking over the same dead lock cannot both succeed.
        """
        key = (_locks.c.authority == authority) & (_locks.c.cycle == cycle)
        try:
            with self.engine.begin() as conn:
                row = conn.execute(sa.select(_locks.c.holder, _locks.c.acquired)
                                   .where(key)).first()
                if row is not None and not holder_alive(row.holder, row.acquired):
                    conn.execute(_locks.delete().where(key & (_locks.c.holder == row.holder)
                                                       & (_locks.c.acquired == row.acquired)))
                conn.execute(_locks.insert(), [{"authority": authority, "cycle": cycle,
                                                "holder": holder, "acquired": time.time()}])
        except sa.exc.IntegrityError:
            return False
        return True

    def renew(self, authority: str, cycle: str, holder: str) -> bool:
        """Extend this holder's lease; False if the lock is no longer its own."""
        with self.engine.begin() as conn:
            done = conn.execute(_locks.update().where(
                (_locks.c.authority == authority) & (_locks.c.cycle == cycle)
                & (_locks.c.holder == holder)).values(acquired=time.time()))
        return bool(done.rowcount)

    def lock_holder(self, authority: str, cycle: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(_locks.c.holder).where(
                (_locks.c.authority == authority) & (_locks.c.cycle == cycle))).scalar()

    def unlock(self, authority: str, cycle: str, holder: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(_locks.delete().where((_locks.c.authority == authority)
                                               & (_locks.c.cycle == cycle)
                                               & (_locks.c.holder == holder)))

    def dispose(self) -> None:
        self.engine.dispose()


def default_store_url(out_dir: Path) -> str:
    return f"sqlite:///{(Path(out_dir) / 'history.sqlite').resolve()}"


def store_for(out_dir: Path, url: str | None = None) -> HistoryStore:
    """The store a run uses: `url` (BRIEFING_STORE_URL, given by the entry point), else
    `<out>/history.sqlite`."""
    return open_store(url or default_store_url(out_dir))


def open_store(url: str) -> HistoryStore:
    """`memory://` gives the in-memory store; anything else is a SQLAlchemy URL."""
    if url == "memory://":
        return MemoryHistoryStore()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return SqlHistoryStore(url)
