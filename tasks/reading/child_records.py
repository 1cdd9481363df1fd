"""A file of children's records among the exports: known by its header's child id column
(DfE's SSDA903 tables name it CHILD; the CIN census, LAchildID), it is refused whole as an
export, naming the file and quoting no cell, so no child's id can reach a finding, the
console or a drafted config. A return's tables belong in a folder a return source names.
"""

from __future__ import annotations

import csv
from pathlib import Path

from tasks.reading.files import FileRefused, open_regular, text_stream

CHILD_ID_COLUMNS = {"child": "CHILD", "lachildid": "LAchildID"}


def child_records(path: Path) -> str | None:
    """Why a CSV file is children's records and no export, or None."""
    if path.suffix.lower() != ".csv":
        return None
    try:
        with open_regular(path) as fh:
            header = next(csv.reader(text_stream(fh)), [])
    except (FileRefused, OSError, UnicodeDecodeError, csv.Error):
        return None  # the export reader says what is wrong with it
    names = [CHILD_ID_COLUMNS[c] for c in (h.strip().lstrip("\ufeff").lower() for h in header)
             if c in CHILD_ID_COLUMNS]
    if not names:
        return None
    return (f"holds children's records (its header has a {names[0]} column, a child's id, "
            "as DfE's SSDA903 tables do), so it is not read as an export: put a return's "
            "tables in a folder of their own that a source of layout ssda903 names "
            "(docs/sources.md)")
