"""tools/relayout.py: the flat `tasks` names rewritten to the stage packages, and only once."""

from __future__ import annotations

import importlib.util

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("relayout", ROOT / "tools" / "relayout.py")
assert _spec is not None and _spec.loader is not None
relayout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(relayout)

OLD = """from tasks import artifacts, pipeline, settings as env  # noqa: E402
from tasks.settings import Settings
from tasks.pipeline import (
    PROGRESS,
    run_cycle,
)
import tasks.store
monkeypatch.setattr("tasks.ingest.MAX_TABLE_CELLS", 40)
inputs = pipeline.validate_exports(pipeline.load_config(c), e)
See `tasks/store.py`, tasks.spc.settings(),
tasks.pipeline.brief_authority.
"""
NEW = """from tasks.presenting import artifacts  # noqa: E402
from tasks.settings import environment as env  # noqa: E402
from tasks.settings.config import load_config  # noqa: E402
from tasks.run.inputs import validate_exports  # noqa: E402
from tasks.settings.environment import Settings
from tasks.run.progress import PROGRESS
from tasks.run.cycle import run_cycle
import tasks.store.history
monkeypatch.setattr("tasks.reading.ingest.MAX_TABLE_CELLS", 40)
inputs = validate_exports(load_config(c), e)
See `tasks/store/history.py`, tasks.analysing.spc.settings(),
tasks.run.regional.brief_authority.
"""


def test_every_form_is_rewritten_and_a_second_run_changes_nothing() -> None:
    assert relayout.rewrite(OLD) == NEW
    assert relayout.rewrite(NEW) == NEW


def test_every_old_module_has_moved() -> None:
    for old, (package, module) in relayout.MOVES.items():
        assert not (ROOT / "tasks" / f"{old}.py").exists(), old
        assert (ROOT / "tasks" / package / f"{module}.py").is_file(), old


def test_a_name_that_moved_between_modules_is_imported_from_its_new_home() -> None:
    old = ("from tasks.mail import MailConfigError, mailer_for\n"
           "from tasks.disclosure import (\n    EditionResults,\n    is_small,\n)\n")
    new = ("from tasks.adapters.mail import MailConfigError\n"
           "from tasks.adapters.mailers import mailer_for\n"
           "from tasks.editions.disclosure import EditionResults\n"
           "from tasks.checking.small_numbers import is_small\n")
    assert relayout.rewrite(old) == new
    assert relayout.rewrite(new) == new
