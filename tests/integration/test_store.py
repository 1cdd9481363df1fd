"""The history store and ledger: a real SQLite file, a real PostgreSQL server, and the
in-memory twin, alike."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from tasks.settings.frames import FIGURES, REVISIONS
from tasks.store.history import (
    HistoryStore,
    LedgerEntry,
    MemoryHistoryStore,
    SqlHistoryStore,
    find_revisions,
    open_store,
)

NO_REVISIONS = REVISIONS.empty()


def recs(rows: list[tuple[str, str, float | None]]) -> pd.DataFrame:
    rows_ = [{"indicator": i, "period": p, "value": v, "numerator": None, "denominator": None}
             for i, p, v in rows]
    return pd.DataFrame(rows_, columns=FIGURES.columns).astype(
        {"value": "float64", "numerator": "float64", "denominator": "float64"})


@pytest.fixture(scope="module")
def postgres() -> Iterator[Callable[[], str]]:
    """A real PostgreSQL server for the module; each call gives a new empty database."""
    import psycopg

    from tests.postgres import postgres_server

    with postgres_server([]) as where:
        made = itertools.count()

        def new_database() -> str:
            name = f"t{next(made)}"
            with psycopg.connect(f"postgresql://{where}/postgres", autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
            return f"postgresql+psycopg://{where}/{name}"

        yield new_database


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], HistoryStore]:
    if request.param == "sqlite":
        return lambda: SqlHistoryStore(f"sqlite:///{tmp_path / 'h.sqlite'}")
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres")()
        return lambda: SqlHistoryStore(url)
    mem = MemoryHistoryStore()
    return lambda: mem


def test_cycles_accumulate_and_reingest_replaces(make_store: Callable[[], HistoryStore]) -> None:
    store = make_store()
    store.commit_cycle("999", "2024-09", recs([("A", "2024-09", 10.0)]), NO_REVISIONS, ["a.csv"])
    store.commit_cycle("999", "2024-10", recs([("A", "2024-10", 11.0)]), NO_REVISIONS, ["b.csv"])
    incoming = recs([("A", "2024-09", 12.0), ("A", "2024-10", 11.0)])
    revisions = find_revisions(store.history("999"), incoming)
    assert revisions[["indicator", "period", "old_value", "new_value"]].to_dict("records") == [
        {"indicator": "A", "period": "2024-09", "old_value": 10.0, "new_value": 12.0}]
    store.commit_cycle("999", "2024-10", incoming, revisions, ["b.csv"])
    again = make_store()  # a fresh connection reads what was committed
    hist = again.history("999")
    assert list(zip(hist["period"], hist["value"], strict=True)) == [("2024-09", 12.0),
                                                                     ("2024-10", 11.0)]
    assert list(again.revisions("999")["new_value"]) == [12.0]
    assert again.history("123").empty


def test_ledger_round_trip(make_store: Callable[[], HistoryStore]) -> None:
    store = make_store()
    assert store.ledger_get("999", "2024-10", "k") is None
    store.ledger_put(LedgerEntry("999", "2024-10", "k", "a@example.gov.uk", "sending", "<id>"))
    store.ledger_put(LedgerEntry("999", "2024-10", "k", "a@example.gov.uk", "sent", "<id>"))
    got = make_store().ledger_get("999", "2024-10", "k")
    assert got is not None and got.status == "sent" and got.message_id == "<id>"
    assert make_store().ledger_get("999", "2024-11", "k") is None


def test_one_run_at_a_time_per_cycle(make_store: Callable[[], HistoryStore]) -> None:
    first, second = make_store(), make_store()  # two connections, as two workers would be
    assert first.try_lock("999", "2024-10", "run-1")
    assert not second.try_lock("999", "2024-10", "run-2")
    assert second.try_lock("999", "2024-11", "run-2")  # another cycle is free
    second.unlock("999", "2024-10", "run-2")  # not its lock: nothing happens
    assert not second.try_lock("999", "2024-10", "run-2")
    first.unlock("999", "2024-10", "run-1")
    assert second.try_lock("999", "2024-10", "run-2")


def test_revision_from_blank_counts() -> None:
    stored = recs([("A", "2024-09", None)])
    assert len(find_revisions(stored, recs([("A", "2024-09", 3.0)]))) == 1
    assert find_revisions(stored, recs([("A", "2024-09", None)])).empty


def test_open_store_by_url(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryHistoryStore)
    url = f"sqlite:///{tmp_path / 'sub' / 'h.sqlite'}"
    assert isinstance(open_store(url), SqlHistoryStore)
    assert (tmp_path / "sub" / "h.sqlite").exists()


def test_one_query_per_step_whatever_the_size(tmp_path: Path) -> None:
    """The analysis reads an authority's history in one query, and a cycle is stored in a
    fixed number of statements: never one per indicator or per month."""
    import sqlalchemy as sa

    from tasks.run.analysis import compare_with_history
    from tasks.run.inputs import validate_exports
    from tests.conftest import DEMO_CONFIG, DEMO_EXPORTS, TODAY

    store = SqlHistoryStore(f"sqlite:///{tmp_path / 'h.sqlite'}")
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda conn, cursor, sql, *rest: statements.append(sql))
    inputs = validate_exports(DEMO_CONFIG, DEMO_EXPORTS, today=TODAY)
    assert inputs.records["indicator"].nunique() > 30 and len(inputs.records) > 1000
    assert len(inputs.breakdowns) > 20
    store.commit_cycle("999", inputs.cycle, inputs.records, NO_REVISIONS, ["x.csv"],
                       inputs.breakdowns)
    assert len(statements) <= 7, statements
    statements.clear()
    analysed = compare_with_history(inputs, store)
    # One for the history, one for the deep-dive register, one for the breakdowns, one for
    # the figures earlier runs found small, one for the committee's questions.
    assert [s.split()[0] for s in statements] == ["SELECT"] * 5
    assert len(analysed.history) == len(inputs.records)
    assert len(analysed.parts) == len(inputs.breakdowns)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_many_workers_opening_a_new_store_at_once(kind: str, tmp_path: Path,
                                                  request: pytest.FixtureRequest) -> None:
    """Parts of a spread regional run start together, each creating the tables if missing:
    a race in CREATE TABLE once failed an authority on PostgreSQL."""
    import threading

    url = (f"sqlite:///{tmp_path / 'h.sqlite'}" if kind == "sqlite"
           else request.getfixturevalue("postgres")())
    start, errors = threading.Barrier(8), []

    def open_it() -> None:
        start.wait()
        try:
            SqlHistoryStore(url).dispose()
        except Exception as exc:  # collected, so every thread's outcome is seen
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert SqlHistoryStore(url).history("999").empty


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_breakdowns_are_kept_so_the_month_before_is_there_to_compare_with(
        kind: str, tmp_path: Path) -> None:
    """A monthly export gives only its own month's parts: the month before's come from the
    store, and a figure's parts given again replace the stored ones (not added to them)."""
    from tasks.analysing.breakdowns import breakdown_for
    from tasks.run.analysis import merge_parts
    from tests.factories import make_config

    store = (MemoryHistoryStore() if kind == "memory"
             else SqlHistoryStore(f"sqlite:///{tmp_path / 'h.sqlite'}"))

    def parts(period: str, north: float, south: float) -> pd.DataFrame:
        return pd.DataFrame([{"indicator": "C1", "period": period, "breakdown": "Team",
                              "part": n, "value": v, "numerator": None, "denominator": None,
                              "file": f"cms_{period}.csv", "row": k + 2}
                             for k, (n, v) in enumerate((("North", north), ("South", south)))])

    store.commit_cycle("999", "2024-09", recs([("C1", "2024-09", 10.0)]), NO_REVISIONS,
                       ["a.csv"], parts("2024-09", 7, 3))
    store.commit_cycle("999", "2024-09", recs([("C1", "2024-09", 10.0)]), NO_REVISIONS,
                       ["a.csv"], parts("2024-09", 6, 4))  # re-run: replaced
    stored = store.parts("999")
    assert sorted(zip(stored["part"], stored["value"], strict=True)) == [("North", 6.0),
                                                                         ("South", 4.0)]
    assert set(stored["file"]) == {"(stored in 2024-09)"}
    now = parts("2024-10", 9, 3)
    merged = merge_parts(now, stored)
    totals = pd.DataFrame([{"indicator": "C1", "period": p, "value": v, "numerator": None,
                            "denominator": None} for p, v in (("2024-09", 10.0),
                                                              ("2024-10", 12.0))])
    ind = make_config([{"code": "C1", "unit": "count"}]).by_code()["C1"]
    b = breakdown_for(ind, merged, totals, "2024-10", "2024-09")
    assert b is not None and b.change == 2.0
    assert {c.name: c.total for c in b.contributions} == {"North": 3.0, "South": -1.0}
    assert breakdown_for(ind, now, totals, "2024-10", "2024-09").contributions == ()  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_rerun_that_no_longer_breaks_a_figure_down_takes_its_own_parts_away(
        kind: str, tmp_path: Path) -> None:
    """Parts the same cycle stored belong to the export it has replaced; parts an earlier
    cycle stored stay, as that cycle's figures do."""
    store = (MemoryHistoryStore() if kind == "memory"
             else SqlHistoryStore(f"sqlite:///{tmp_path / 'h.sqlite'}"))

    def parts(period: str) -> pd.DataFrame:
        return pd.DataFrame([{"indicator": "C1", "period": period, "breakdown": "Team",
                              "part": n, "value": v, "numerator": None, "denominator": None,
                              "file": "cms.csv", "row": k + 2}
                             for k, (n, v) in enumerate((("North", 7.0), ("South", 3.0)))])

    both = pd.concat([parts("2024-09"), parts("2024-10")], ignore_index=True)
    store.commit_cycle("999", "2024-09", recs([("C1", "2024-09", 10.0)]), NO_REVISIONS,
                       ["a.csv"], parts("2024-09"))
    store.commit_cycle("999", "2024-10", recs([("C1", "2024-10", 10.0)]), NO_REVISIONS,
                       ["a.csv"], both.loc[both["period"] == "2024-10"])
    assert sorted(set(store.parts("999")["period"])) == ["2024-09", "2024-10"]
    # October again, from an export that gives both months' totals and no parts at all
    store.commit_cycle("999", "2024-10", recs([("C1", "2024-09", 10.0), ("C1", "2024-10", 11.0)]),
                       NO_REVISIONS, ["a.csv"], None)
    stored = store.parts("999")
    assert list(stored["period"]) == ["2024-09", "2024-09"]
    assert set(stored["file"]) == {"(stored in 2024-09)"}
