"""Stages 4 and 7 of a run: the cycle into the store and its files into a staging folder,
then the staged set switched in whole.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tasks.adapters.outputs import (
    RESTRICTED_DIR,
    OutputUnwritable,
    cycle_dir,
    in_set,
    start_staging,
    switch_in,
    write_bytes_atomic,
    write_marker,
    write_text_atomic,
)
from tasks.returns.workbook import QUALITY_BOOK
from tasks.run.analysis import Analysed
from tasks.run.inputs import Inputs
from tasks.run.papers import HTML_NAME, OPEN_DATA_NAME, PDF_NAME, Rendered
from tasks.run.progress import PROGRESS
from tasks.settings.formatting import Edition
from tasks.store.history import HistoryStore

SUMMARY_NAME = "summary.json"


def store_and_publish(inputs: Inputs, analysed: Analysed, rendered: Rendered,
                      store: HistoryStore, out_dir: Path) -> Path:
    """Store the cycle (one transaction), then write the set of files into a staging
    folder beside the cycle's (tasks.adapters.outputs): nothing a reader sees changes until the
    set is complete and `publish` switches it in. Returns the staging folder."""
    authority = inputs.config.briefing.authority.code
    store.commit_cycle(authority, inputs.cycle, inputs.records, analysed.revisions, inputs.files,
                       inputs.breakdowns, small=analysed.small)
    store.save_deep_dives(authority, analysed.register)
    store.save_questions(authority, analysed.questions)
    PROGRESS.stored = True
    staging, notes = start_staging(cycle_dir(out_dir, authority, inputs.cycle))
    PROGRESS.notes += notes
    PROGRESS.staging = staging
    try:
        _write_set(rendered, staging)
    except OSError as exc:
        raise OutputUnwritable(exc.errno, f"{staging}: the cycle's set could not be "
                                          f"written ({exc.strerror})") from None
    return staging


def _write_set(rendered: Rendered, staging: Path) -> None:
    """Each file into its side of the set: public (what may be published) or restricted."""
    for edition, paper in rendered.editions.items():
        name = f"briefing-{edition.value}"
        write_text_atomic(in_set(staging, f"{name}.html"), paper.html)
        write_bytes_atomic(in_set(staging, f"{name}.pdf"), paper.pdf)
        if edition in rendered.sheets:
            write_bytes_atomic(in_set(staging, f"{name}.xlsx"), rendered.sheets[edition])
    if rendered.open_data is not None:
        write_bytes_atomic(in_set(staging, OPEN_DATA_NAME), rendered.open_data)
    for name, (_, html, pdf) in rendered.packs.items():
        write_text_atomic(staging / RESTRICTED_DIR / f"{name}.html", html)
        write_bytes_atomic(staging / RESTRICTED_DIR / f"{name}.pdf", pdf)
    for data, name in rendered.returns.values():
        write_bytes_atomic(staging / RESTRICTED_DIR / name, data)
    if rendered.quality_book is not None:  # child ids: the restricted side, always
        write_bytes_atomic(staging / RESTRICTED_DIR / QUALITY_BOOK, rendered.quality_book)
    # The contract's names: the public edition, the one safe to pass on.
    if Edition.PUBLIC in rendered.editions:
        write_text_atomic(in_set(staging, HTML_NAME), rendered.public.html)
        write_bytes_atomic(in_set(staging, PDF_NAME), rendered.public.pdf)


def publish(inputs: Inputs, staging: Path, out_dir: Path, generated_at: datetime,
            editions: list[Edition]) -> Path:
    """The marker, written last, then the staged set switched in for the previous one
    (tasks.adapters.outputs.switch_in). Returns the cycle's folder."""
    live = cycle_dir(out_dir, inputs.config.briefing.authority.code, inputs.cycle)
    try:
        write_marker(staging, {"authority": inputs.config.briefing.authority.code,
                               "cycle": inputs.cycle,
                               "generated_at": generated_at.isoformat(timespec="seconds"),
                               "editions": [e.value for e in editions]})
    except OSError as exc:
        raise OutputUnwritable(exc.errno, f"{staging}: the set's marker could not be "
                                          f"written ({exc.strerror})") from None
    PROGRESS.notes += switch_in(staging, live)
    PROGRESS.published = live
    return live
