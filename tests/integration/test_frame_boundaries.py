"""The frames of real runs pass every stage boundary they cross (tasks/settings/frames.py):
the demo's two cycles through a SQLite store, the published files' run, and a broken frame
stops the run naming its boundary. The schemas' own unit tests:
tests/unit/settings/test_frames.py.
"""


from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from tasks.run.analysis import Analysed, _handed_on, compare_with_history
from tasks.run.inputs import validate_exports
from tasks.settings.frames import (
    FIGURES,
    FrameError,
    Schema,
)
from tasks.store.history import MemoryHistoryStore, SqlHistoryStore
from tests.conftest import DEMO_CONFIG, DEMO_EXPORTS, ROOT, TODAY

WHERE = "the test's boundary, here → there"


DFE = ROOT.parent / "shared" / "data" / "dfe"
BOUNDARIES = {
    ("records", "the exports' records, reading → checking"),
    ("records", "the returns' records, returns → checking"),
    ("figures", "Inputs.records, checking → analysing"),
    ("benchmarks", "Inputs.benchmarks, checking → analysing"),
    ("parts", "Inputs.breakdowns, checking → analysing"),
    ("figures", "the store's history, store → analysing"),
    ("parts", "the store's parts, store → analysing"),
    ("figures", "Analysed.history, analysing → editions"),
    ("analysis", "Analysed.analysis, analysing → editions"),
    ("revisions", "Analysed.revisions, analysing → editions"),
    ("comparisons", "Analysed.benchmarks, analysing → editions"),
    ("SPC", "Analysed.spc, analysing → editions"),
    ("parts", "Analysed.parts, analysing → editions"),
    ("analysis", "Analysed.disclosed, analysing → editions"),
}


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, int]]]:
    """Every check made: (schema, boundary, rows), each passed (a failing one raises)."""
    made: list[tuple[str, str, int]] = []
    check = Schema.check

    def recorded(self: Schema, frame: pd.DataFrame, where: str) -> pd.DataFrame:
        out = check(self, frame, where)
        made.append((self.name, where, len(frame)))
        return out

    monkeypatch.setattr(Schema, "check", recorded)
    yield made


def test_the_demos_frames_pass_every_boundary(checks: list[tuple[str, str, int]],
                                              tmp_path: Path) -> None:
    """Two cycles, the first stored, so that the store gives history, parts and revisions;
    the SQLite store, as a run has it."""
    store = SqlHistoryStore(f"sqlite:///{tmp_path / 'history.sqlite'}")
    first = validate_exports(DEMO_CONFIG, DEMO_EXPORTS, "2024-09", today=TODAY)
    analysed = compare_with_history(first, store)
    store.commit_cycle("999", "2024-09", first.records, analysed.revisions, first.files,
                       first.breakdowns)
    checks.clear()
    then = validate_exports(DEMO_CONFIG, DEMO_EXPORTS, "2024-10", today=TODAY)
    compare_with_history(then, store)
    assert {(name, where) for name, where, _ in checks} == BOUNDARIES
    rows = {where: n for _, where, n in checks}
    assert rows["the store's history, store → analysing"] > 1000
    assert rows["the store's parts, store → analysing"] > 0
    assert rows["Analysed.revisions, analysing → editions"] > 0


@pytest.mark.skipif(not DFE.is_dir(), reason="../shared/data/dfe is not beside the project")
def test_the_published_files_frames_pass_every_boundary(
        checks: list[tuple[str, str, int]]) -> None:
    """DfE's files: every geography's values, and the authority's comparisons with them."""
    inputs = validate_exports(ROOT / "config" / "dfe", DFE, today=TODAY)
    compare_with_history(inputs, MemoryHistoryStore())
    rows = {where: n for _, where, n in checks}
    assert rows["Inputs.benchmarks, checking → analysing"] > 10000
    assert rows["Analysed.benchmarks, analysing → editions"] > 0


class _Store(MemoryHistoryStore):
    """A store that gives back what it is told to, for its history."""

    def __init__(self, history: Callable[[], pd.DataFrame]) -> None:
        super().__init__()
        self._history = history

    def history(self, authority: str) -> pd.DataFrame:
        return self._history()


def test_a_broken_frame_at_a_boundary_stops_the_run_naming_it() -> None:
    inputs = validate_exports(DEMO_CONFIG, DEMO_EXPORTS, "2024-10", today=TODAY)
    broken = _Store(lambda: FIGURES.empty().drop(columns="numerator"))
    with pytest.raises(FrameError, match=r"the figures frame at the store's history, store "
                                         r"→ analysing .*missing column\(s\) 'numerator'"):
        compare_with_history(inputs, broken)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    public = Analysed(analysed.history, analysed.analysis.drop(columns="rag"),
                      analysed.revisions)
    with pytest.raises(FrameError, match=r"Analysed\.public\.analysis, analysing → editions"):
        _handed_on(Analysed(analysed.history, analysed.analysis, analysed.revisions,
                            public=public))
