"""A file of children's records among the exports (CSV or workbook): known by its
header's child id column (DfE's SSDA903 tables name it CHILD; the CIN census, LAchildID),
it is refused whole as an export, naming the file and quoting no cell, so no child's id
can reach a finding, the console or a drafted config. A return's tables belong in a
folder a return source names.
"""

from __future__ import annotations

import csv
from pathlib import Path

from tasks.reading.files import check_workbook, open_regular, text_stream

CHILD_ID_COLUMNS = {"child": "CHILD", "lachildid": "LAchildID"}


XLSX_HEADER_ROWS = 10  # a workbook's header may sit below its title rows


def child_records(path: Path) -> str | None:
    """Why a CSV file or workbook is children's records and no export, or None."""
    suffix = path.suffix.lower()
    try:
        names = (_csv_ids(path) if suffix == ".csv" else
                 _xlsx_ids(path) if suffix == ".xlsx" else [])
    except Exception:  # a file that cannot be read at all: the export reader says why
        return None
    if not names:
        return None
    return (f"holds children's records (its header has a {names[0]} column, a child's id, "
            "as DfE's SSDA903 tables do), so it is not read as an export: put a return's "
            "tables in a folder of their own that a source of layout ssda903 names "
            "(docs/sources.md)")


def _csv_ids(path: Path) -> list[str]:
    """The child id columns of a CSV file's header (its first row), any case."""
    with open_regular(path) as fh:
        header = next(csv.reader(text_stream(fh)), [])
    return [CHILD_ID_COLUMNS[c] for c in (h.strip().lstrip("\ufeff").lower() for h in header)
            if c in CHILD_ID_COLUMNS]


def _xlsx_ids(path: Path) -> list[str]:
    """The child id headings (DfE's spelling) in a workbook's first rows of any sheet,
    read as the exports are: checked first, read-only, values not formulas."""
    from openpyxl import load_workbook

    wanted = set(CHILD_ID_COLUMNS.values())
    with open_regular(path) as fh:
        check_workbook(fh)
        wb = load_workbook(fh, read_only=True, data_only=True)
        try:
            return [str(c.value).strip() for ws in wb.worksheets
                    for row in ws.iter_rows(max_row=XLSX_HEADER_ROWS) for c in row
                    if isinstance(c.value, str) and c.value.strip() in wanted]
        finally:
            wb.close()
