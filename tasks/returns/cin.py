"""The CIN census file's own faults, from its header: not a CIN census, another year,
another authority, or not XML at all.

The census is one XML file whose header names its collection, year, reference date and
the authority (LEA, DfE's three-digit code). The whole file is first checked to be
well-formed XML as a stream, by expat with any DOCTYPE refused (no entity is expanded),
so `briefing validate` refuses what the run would; then the header alone is read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tasks.reading import safe_xml
from tasks.reading.files import FileRefused, open_regular, quote
from tasks.reading.problems import Problem, Severity


@dataclass(frozen=True)
class CinHeader:
    collection: str | None
    year: str | None
    reference_date: str | None
    lea: str | None


def read_cin_header(path: Path) -> CinHeader:
    """The header's fields; raises ValueError saying what is wrong with the file."""
    found: dict[str, str | None] = {}
    try:
        with open_regular(path) as fh:
            _read_header(fh, found)
    except FileRefused as refused:
        raise ValueError(str(refused)) from None
    except ET.ParseError as fault:
        line, column = fault.position
        raise ValueError(f"is not well-formed XML (line {line}, character {column + 1})"
                         ) from None
    return CinHeader(found.get("Collection"), found.get("Year"), found.get("ReferenceDate"),
                     found.get("LEA"))


def _read_header(fh: BinaryIO, found: dict[str, str | None]) -> None:
    for _, element in ET.iterparse(fh, events=("end",)):
        tag = element.tag.rsplit("}", 1)[-1]  # without a namespace, if it has one
        if tag in ("Collection", "Year", "ReferenceDate", "LEA"):
            found[tag] = (element.text or "").strip() or None
        elif tag == "Header":
            break
        elif tag in ("Child", "Children"):
            raise ValueError("has no Header before its children: expected a CIN census "
                             "(Message, then Header with CollectionDetails and Source)")
    else:
        raise ValueError("has no Header: expected a CIN census (Message, then Header "
                         "with CollectionDetails and Source)")


def xml_fault(path: Path) -> str | None:
    """What makes the whole file no well-formed XML, or None (tasks.reading.safe_xml)."""
    return safe_xml.xml_fault(path, "a CIN census")


def cin_file_faults(path: Path, collection_year: int, lea: str | None) -> list[Problem]:
    """Errors naming the file when it is not the CIN census of the collection year ending
    March `collection_year` for authority `lea` (None: any authority), or not well-formed
    XML as a whole (the header alone is read for the rest)."""
    fault = xml_fault(path)
    if fault is not None:
        return [_error(path, fault)]
    try:
        header = read_cin_header(path)
    except ValueError as fault_in_header:
        return [_error(path, str(fault_in_header))]
    if header.collection != "CIN":
        return [_error(path, f"is not a CIN census: its header's Collection is "
                             f"{quote(header.collection or '')}, expected 'CIN'")]
    problems = []
    if header.year != str(collection_year):
        problems.append(_error(path, f"is the CIN census for the year ending March "
                                     f"{quote(header.year or '')}: expected {collection_year}"))
    expected_end = f"{collection_year}-03-31"
    if header.year == str(collection_year) and (header.reference_date or "")[:10] != expected_end:
        problems.append(_error(path, f"has reference date {quote(header.reference_date or '')}"
                                     f": expected {expected_end}, the end of its year"))
    if lea is not None and header.lea != lea:
        problems.append(_error(path, f"is for the authority with DfE code "
                                     f"{quote(header.lea or '')}: expected {lea}"))
    return problems


def _error(path: Path, message: str) -> Problem:
    return Problem(Severity.ERROR, path.name, None, None, message)
