"""The CIN census's records, read into tables as DfE's validator reads them.

The census is one XML file: a Header, then Children, each Child with its identifiers,
characteristics and CIN episodes (CINdetails), which hold assessments, CIN plans, section
47 enquiries and child protection plans (with their reviews). The tables here have the
names, columns and row order of the maintained validator's reader (cin_validator's
`XMLtoCSV`, ingress.py), with its generated ids (CINdetailsID within the child,
AssessmentID and CPPID within the episode, numbered from 1), so that a finding of DfE's
rules, which names a table and a row, is row for row a record here.

The file is first checked whole by `tasks.returns.cin.xml_fault` (expat, any DOCTYPE
refused, so no entity is declared or expanded), then read as a stream, each Child dropped
once its rows are taken: a large census is not held in memory as a tree beside the tables.
Child ids stay in the frames: never in a repr, never logged.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from tasks.reading.files import CELLS_ENV, ROWS_ENV, FileRefused, Limits, open_regular
from tasks.returns.cin import xml_fault

Row = tuple[str | None, ...]

# Each table's columns, in cin_validator's order (ingress.py, XMLtoCSV); the tables in the
# order it declares them (its Header and AssessmentFactorsList are not read here).
TABLES: dict[str, tuple[str, ...]] = {
    "ChildIdentifiers": ("LAchildID", "UPN", "FormerUPN", "UPNunknown", "PersonBirthDate",
                         "ExpectedPersonBirthDate", "GenderCurrent", "Sex", "PersonDeathDate"),
    "ChildCharacteristics": ("LAchildID", "Ethnicity"),
    "Disabilities": ("LAchildID", "Disability"),
    "CINdetails": ("LAchildID", "CINdetailsID", "CINreferralDate", "ReferralSource",
                   "PrimaryNeedCode", "CINclosureDate", "ReasonForClosure", "DateOfInitialCPC",
                   "ReferralNFA"),
    "Assessments": ("LAchildID", "CINdetailsID", "AssessmentID", "AssessmentActualStartDate",
                    "AssessmentInternalReviewDate", "AssessmentAuthorisationDate",
                    "AssessmentFactors"),
    "CINplanDates": ("LAchildID", "CINdetailsID", "CINPlanStartDate", "CINPlanEndDate"),
    "Section47": ("LAchildID", "CINdetailsID", "S47ActualStartDate", "InitialCPCtarget",
                  "DateOfInitialCPC", "ICPCnotRequired"),
    "ChildProtectionPlans": ("LAchildID", "CINdetailsID", "CPPID", "CPPstartDate",
                             "CPPendDate", "InitialCategoryOfAbuse", "LatestCategoryOfAbuse",
                             "NumberOfPreviousCPP"),
    "Reviews": ("LAchildID", "CINdetailsID", "CPPID", "CPPreviewDate"),
}
# The columns that the reader makes rather than finds in the element.
GENERATED = frozenset({"LAchildID", "CINdetailsID", "AssessmentID", "CPPID"})
# An assessment's factors, each a code of its own in the file, are one cell here.
FACTOR_SEPARATOR = ","


@dataclass(frozen=True, eq=False)
class CinReturn:
    """A CIN census's tables (text, DfE's names). The repr gives row counts only; two
    are equal only when they are the same read (frames have no plain equality)."""

    path: Path
    tables: dict[str, pd.DataFrame] = field(repr=False)

    def __repr__(self) -> str:
        rows = {name: len(frame) for name, frame in self.tables.items()}
        return f"CinReturn(path={self.path!r}, rows={rows})"


def read_cin(path: Path, limits: Limits | None = None) -> CinReturn:
    """The census's tables; raises ValueError saying what is wrong with the file (not
    well-formed XML, a DOCTYPE, more children or cells than the limits allow)."""
    fault = xml_fault(path)
    if fault is not None:
        raise ValueError(fault)
    rows: dict[str, list[Row]] = {name: [] for name in TABLES}
    limits = limits or Limits()
    try:
        with open_regular(path) as fh:
            _read_children(fh, rows, limits)
    except FileRefused as refused:
        raise ValueError(str(refused)) from None
    except ET.ParseError as parse_fault:  # the file changed since it was checked
        line, column = parse_fault.position
        raise ValueError(f"is not well-formed XML (line {line}, character {column + 1})"
                         ) from None
    return CinReturn(path, {name: pd.DataFrame(rows[name], columns=list(columns),
                                               dtype="object")
                            for name, columns in TABLES.items()})


def _local(tag: object) -> str:
    """A tag without its namespace: a default xmlns reads as plain tags do."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children_of(fh: BinaryIO) -> Iterator[ET.Element]:
    """Each Child of the root's first Children, whole, as its end is read; the caller's
    use of it over, it is cleared and let go (as cin_validator, only these are read)."""
    depth, holder, seen_children = 0, None, False
    for event, element in ET.iterparse(fh, events=("start", "end")):
        if event == "start":
            depth += 1
            if depth == 2 and _local(element.tag) == "Children" and not seen_children:
                holder, seen_children = element, True
            continue
        depth -= 1
        if depth == 1 and element is holder:
            holder = None
        elif depth == 2 and holder is not None and _local(element.tag) == "Child":
            for part in element.iter():
                part.tag = _local(part.tag)
            yield element
            element.clear()
            holder.remove(element)


def _read_children(fh: BinaryIO, rows: dict[str, list[Row]], limits: Limits) -> None:
    cells = 0
    for children, child in enumerate(_children_of(fh), start=1):
        if children > limits.rows:
            raise ValueError(f"has more than {limits.rows:,} children (the limit per file, "
                             f"{ROWS_ENV}); stopped reading at child {children:,}")
        before = {name: len(found) for name, found in rows.items()}
        _read_child(child, rows)
        cells += sum(len(TABLES[name]) * (len(found) - before[name])
                     for name, found in rows.items())
        if cells > limits.cells:
            raise ValueError(f"has more than {limits.cells:,} cells (the limit per file, "
                             f"{CELLS_ENV}); stopped reading at child {children:,}")


def _text(block: ET.Element | None, tag: str) -> str | None:
    """The first `tag` directly in `block`, as stripped text; None if absent or empty."""
    found = block.find(tag) if block is not None else None
    return _stripped(found)


def _stripped(element: ET.Element | None) -> str | None:
    text = (element.text or "").strip() if element is not None else ""
    return text or None


def _found(table: str, block: ET.Element | None, ids: Row) -> Row:
    """A row of `table`: the generated ids given, then each other column from `block`."""
    return ids + tuple(_text(block, column) for column in TABLES[table]
                       if column not in GENERATED)


def _read_child(child: ET.Element, rows: dict[str, list[Row]]) -> None:
    """One child's rows into every table, in cin_validator's order."""
    identifiers = child.find("ChildIdentifiers")
    child_id = _text(identifiers, "LAchildID")
    rows["ChildIdentifiers"].append(
        tuple(_text(identifiers, column) for column in TABLES["ChildIdentifiers"]))
    characteristics = child.find("ChildCharacteristics")
    rows["ChildCharacteristics"].append(_found("ChildCharacteristics", characteristics,
                                               (child_id,)))
    disabilities = characteristics.find("Disabilities") if characteristics is not None else None
    for disability in disabilities if disabilities is not None else ():
        rows["Disabilities"].append((child_id, _stripped(disability)))
    for number, episode in enumerate(child.findall("CINdetails"), start=1):
        _read_episode(episode, (child_id, str(number)), rows)


def _read_episode(episode: ET.Element, ids: Row, rows: dict[str, list[Row]]) -> None:
    """A CIN episode's row, then its assessments, CIN plans, section 47 enquiries and
    child protection plans with their reviews (`ids`: the child's, the episode's)."""
    rows["CINdetails"].append(_found("CINdetails", episode, ids))
    for number, assessment in enumerate(episode.findall("Assessments"), start=1):
        row = _found("Assessments", assessment, (*ids, str(number)))
        rows["Assessments"].append((*row[:-1], _factors(assessment)))
    for plan_dates in episode.findall("CINPlanDates"):
        rows["CINplanDates"].append(_found("CINplanDates", plan_dates, ids))
    for enquiry in episode.findall("Section47"):
        rows["Section47"].append(_found("Section47", enquiry, ids))
    for number, plan in enumerate(episode.findall("ChildProtectionPlans"), start=1):
        plan_ids = (*ids, str(number))
        rows["ChildProtectionPlans"].append(_found("ChildProtectionPlans", plan, plan_ids))
        # As cin_validator: a Reviews block holding a CPPreviewDate is a row, its first date.
        for review in plan.findall("Reviews"):
            if review.find("CPPreviewDate") is not None:
                rows["Reviews"].append(_found("Reviews", review, plan_ids))


def _factors(assessment: ET.Element) -> str | None:
    """The factors identified at the assessment, in the file's order, as one cell."""
    block = assessment.find("FactorsIdentifiedAtAssessment")
    codes = [code for code in map(_stripped, block if block is not None else ()) if code]
    return FACTOR_SEPARATOR.join(codes) or None
