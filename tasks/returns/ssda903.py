"""Reading an SSDA903 return given as CSV tables with DfE's column names, or as DfE's XML.

Each file is known by its header, as DfE's tables are (file names vary between case
systems). A file fault stops the return with a message naming the file: a table the
figures need is missing, a table lacks a column, a file is no table of the 903, two files
give one table, or the return is for another year. Columns beyond DfE's are kept (a team
or locality for breakdowns); the copy written for the validators has DfE's columns only,
as their reader refuses any other. A CSV return says nothing of its authority: that rests
on the folder it is read from (docs/returns.md).

One XML file (DfE's SSDA903 XML, which many case systems export) gives the same tables,
read by `tasks.returns.ssda903_xml`; a return is CSV tables or one XML file, never both.
"""

from __future__ import annotations

import csv
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from tasks.reading.files import FileRefused, Limits, quote
from tasks.reading.ingest import read_dfe_csv
from tasks.reading.problems import Problem, Severity
from tasks.returns.ssda903_xml import XmlFault, is_xml, read_903_xml, xml_fault
from tasks.returns.validators import ReturnFile, ValidationReport, run_validators

# DfE's SSDA903 tables and their columns, as the CSV version of the return names them.
TABLES: dict[str, tuple[str, ...]] = {
    "Header": ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"),
    "Episodes": ("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                 "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"),
    "Reviews": ("CHILD", "DOB", "REVIEW", "REVIEW_CODE"),
    "UASC": ("CHILD", "SEX", "DOB", "DUC"),
    "OC2": ("CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK",
            "IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE",
            "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED"),
    "OC3": ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"),
    "AD1": ("CHILD", "DOB", "DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR",
            "LS_ADOPTR"),
    "PlacedAdoption": ("CHILD", "DOB", "DATE_PLACED", "DATE_PLACED_CEASED",
                       "REASON_PLACED_CEASED"),
    "PrevPerm": ("CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"),
    "Missing": ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"),
    "SWEpisodes": ("CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"),
    "DoLo": ("CHILD", "DOB", "DOLO_START", "DOLO_END"),
}
# Without these there is no figure to compute: children in care are Header and Episodes,
# care leavers OC3. The rest may be absent (no adoptions this year); their rules are skipped.
REQUIRED = ("Header", "Episodes", "OC3")
RETURN = "SSDA903 return"
ANY = "*"  # in read_903's `faulty`: a file unread, which could have been any table


class ReturnFault(Exception):
    """The return cannot be used: `problems` names each file fault."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(p.as_line() for p in problems))
        self.problems = problems


@dataclass
class Return903:
    """One year's return: each table as text columns (DfE's first, then any others)."""

    collection_year: int  # the year ending 31 March
    tables: dict[str, pd.DataFrame]
    files: dict[str, Path]
    problems: list[Problem] = field(default_factory=list)  # warnings only
    xml: Path | None = None  # the one XML file it was read from; None: CSV tables

    def row_of(self, record: int) -> int | None:
        """The spreadsheet row of a table's record (header row 1); None in an XML return,
        which has no rows (its findings name the record only)."""
        return None if self.xml is not None else record + 1

    def write_for_validators(self, folder: Path) -> list[Path]:
        """Each table of a CSV return as CSV with DfE's columns only, for the validators."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in self.tables.items():
            path = folder / self.files[name].name
            frame[list(TABLES[name])].to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
            written.append(path)
        return written


def collection_dates(year: int) -> tuple[date, date]:
    """The collection year ending in March `year`: 1 April `year - 1` to 31 March `year`."""
    return date(year - 1, 4, 1), date(year, 3, 31)


def read_903(files: Sequence[Path], collection_year: int,
             limits: Limits | None = None) -> Return903:
    """The tables of an SSDA903 return; raises ReturnFault naming every file fault."""
    if any(is_xml(p) for p in files):
        return _read_xml(sorted(files), collection_year, limits)
    errors: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    sources: dict[str, Path] = {}
    # Tables given by a file with a column missing, said once; ANY: a file that could not be
    # read at all could be any table, so no table is said to be missing as well.
    faulty: set[str] = set()
    for path in sorted(files):
        found = _read_table(path, limits, errors, faulty)
        if found is None:
            continue
        name, frame = found
        if name in sources:
            errors.append(_error(path.name, None, None, f"gives the {name} table, as "
                                 f"{sources[name].name} does: expected one file a table"))
            continue
        tables[name], sources[name] = frame, path
    errors += [_error(RETURN, None, None, f"has no {name} table: expected a CSV file with the "
                      f"columns {', '.join(TABLES[name])}") for name in REQUIRED
               if name not in tables and name not in faulty and ANY not in faulty]
    if "Episodes" in tables:
        errors += _another_year(sources["Episodes"].name, tables["Episodes"], collection_year)
    if errors:
        raise ReturnFault(errors)
    warnings = [Problem(Severity.WARNING, RETURN, None, None,
                        f"has no {name} table: DfE's rules on it will not run")
                for name in TABLES if name not in tables]
    return Return903(collection_year, tables, sources, warnings)


def _read_xml(files: list[Path], collection_year: int, limits: Limits | None) -> Return903:
    """A return given as one XML file: DfE's tables from it, each pointing at the file."""
    xml = [p for p in files if is_xml(p)]
    errors = [_error(p.name, None, None, f"is a CSV table beside the XML return {xml[0].name}"
                     ": expected CSV tables or one XML file, not both")
              for p in files if not is_xml(p)]
    errors += [_error(p.name, None, None, f"is a second XML file, beside {xml[0].name}: "
                      "expected one XML file for the return") for p in xml[1:]]
    path = xml[0]
    fault = None if errors else xml_fault(path)
    tables: dict[str, pd.DataFrame] = {}
    if fault is None and not errors:
        try:
            tables = read_903_xml(path, TABLES, limits)
        except (XmlFault, FileRefused) as refused:
            fault = str(refused)
        except ET.ParseError as broken:
            fault = f"is not well-formed XML (line {broken.position[0]})"
    if fault is not None:
        errors.append(_error(path.name, None, None, fault))
    if "Episodes" in tables:
        errors += _another_year(path.name, tables["Episodes"], collection_year)
    if errors:
        raise ReturnFault(errors)
    warnings = [Problem(Severity.WARNING, RETURN, None, None, f"has no {name} table (DfE's "
                        f"XML gives none): DfE's rules on it will not run")
                for name in TABLES if name not in tables]
    return Return903(collection_year, tables, {name: path for name in tables}, warnings, path)


def _error(file: str, row: int | None, column: str | None, message: str) -> Problem:
    return Problem(Severity.ERROR, file, row, column, message)


def _read_table(path: Path, limits: Limits | None, errors: list[Problem], faulty: set[str]
                ) -> tuple[str, pd.DataFrame] | None:
    try:
        frame = read_dfe_csv(path, limits)
    except FileRefused as refused:
        errors.append(_error(path.name, None, None, str(refused)))
    except pd.errors.EmptyDataError:  # no header row: pandas has nothing to read
        errors.append(_error(path.name, None, None, "is empty: expected a CSV file with a "
                             "header row of one of DfE's tables"))
    except (UnicodeDecodeError, pd.errors.ParserError, csv.Error) as fault:
        errors.append(_error(path.name, None, None, f"cannot be read as CSV ({fault})"))
    else:
        return _as_table(path, frame, errors, faulty)
    faulty.add(ANY)
    return None


def _as_table(path: Path, frame: pd.DataFrame, errors: list[Problem], faulty: set[str]
              ) -> tuple[str, pd.DataFrame] | None:
    name = _which_table(path.name, list(frame.columns), errors, faulty)
    if name is None:
        return None
    ours = list(TABLES[name])
    return name, frame[ours + [c for c in frame.columns if c not in ours]]


def _which_table(file: str, columns: list[str], errors: list[Problem], faulty: set[str]
                 ) -> str | None:
    """The table whose columns the header holds; else the closest, with what is missing."""
    have = set(columns)
    whole = [name for name, cols in TABLES.items() if set(cols) <= have]
    if whole:  # the table with most columns: Header's columns are a part of none other's
        return max(whole, key=lambda name: len(TABLES[name]))
    closest = max(TABLES, key=lambda name: len(set(TABLES[name]) & have))
    shared = set(TABLES[closest]) & have
    if "CHILD" in have and len(shared) >= 3:
        missing = [c for c in TABLES[closest] if c not in have]
        faulty.add(closest)
        errors.append(_error(file, 1, None, f"the {closest} table has no column "
                             f"{', '.join(missing)}: expected {', '.join(TABLES[closest])}"))
    else:
        shown = ", ".join(quote(c, 30) for c in columns[:6]) or "none"
        errors.append(_error(file, 1, None, f"is no table of the SSDA903: its columns ({shown})"
                             f" are not those of any of DfE's tables"))
    return None


def _another_year(file: str, episodes: pd.DataFrame, year: int) -> list[Problem]:
    """A return for another year: its latest episode date is before the collection year
    (an earlier return), or a tenth or more of its episodes start after the year ends (a
    later one). A few episodes out of the year are input errors, for DfE's rules."""
    start, end = collection_dates(year)
    began = pd.to_datetime(episodes["DECOM"], format="%d/%m/%Y", errors="coerce")
    ended = pd.to_datetime(episodes["DEC"], format="%d/%m/%Y", errors="coerce")
    latest = pd.concat([began, ended]).max()
    if pd.isna(latest):
        return []
    span = f"the collection year {start:%-d %B %Y} to {end:%-d %B %Y}"
    expected = f"expected the return for the year ending March {year}"
    if latest < pd.Timestamp(start):
        return [_error(file, None, "DECOM", f"its latest episode date ({latest:%Y}) is before "
                       f"{span}: {expected}")]
    after = int((began > pd.Timestamp(end)).sum())
    if after * 10 >= int(began.notna().sum()):
        return [_error(file, None, "DECOM", f"{after:,} of its {int(began.notna().sum()):,} "
                       f"episodes start after {span}: {expected}")]
    return []


def validate_903(ret: Return903, local_authority: str | None = None,
                 **bounds: Any) -> ValidationReport:
    """DfE's rules over a return read by `read_903`, by the real validators (their bounds:
    tasks.returns.validators.run_validators). Rows and files are the return's own: the
    copy they read has the same names and rows, only its extra columns dropped. An XML
    return is given them as it is: their XML reader reads it (its records, no rows)."""
    if ret.xml is not None:
        return run_validators("ssda903", [ReturnFile(ret.xml)], ret.collection_year,
                              local_authority=local_authority, **bounds)
    with tempfile.TemporaryDirectory(prefix="briefing-903-") as work:
        files = ret.write_for_validators(Path(work))
        return run_validators("ssda903", [ReturnFile(p) for p in files], ret.collection_year,
                              local_authority=local_authority, **bounds)
