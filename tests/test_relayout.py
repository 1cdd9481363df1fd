"""tools/relayout.py: the flat `tasks` names rewritten to the stage packages, and only once."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("relayout", ROOT / "tools" / "relayout.py")
assert _spec is not None and _spec.loader is not None
relayout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(relayout)

OLD = """from tasks import artifacts, pipeline, settings as env  # noqa: E402
from tasks.settings.environment import Settings
import tasks.store.history
monkeypatch.setattr("tasks.reading.ingest.MAX_TABLE_CELLS", 40)
See `tasks/store/history.py` and tasks.analysing.spc.settings().
"""
NEW = """from tasks.presenting import artifacts  # noqa: E402
from tasks import pipeline
from tasks.settings import environment as env
from tasks.settings.environment import Settings
import tasks.store.history
monkeypatch.setattr("tasks.reading.ingest.MAX_TABLE_CELLS", 40)
See `tasks/store/history.py` and tasks.analysing.spc.settings().
"""


def test_every_form_is_rewritten_and_a_second_run_changes_nothing() -> None:
    assert relayout.rewrite(OLD) == NEW
    assert relayout.rewrite(NEW) == NEW


def test_every_old_module_has_moved() -> None:
    for old, (package, module) in relayout.MOVES.items():
        assert not (ROOT / "tasks" / f"{old}.py").exists(), old
        assert (ROOT / "tasks" / package / f"{module}.py").is_file(), old
