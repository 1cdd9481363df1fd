"""Reading an SSDA903 return given as DfE's XML (one file) into the tables the CSV route
gives, so every figure and DfE's rules read an XML return as they read CSV tables.

The layout is DfE's, as the validators' own reader reads it (lac_validator.ingress):
EXPSSDA903 > CHILD > HEADER (the child's fields: CHILDID, SEX, DOB, ..., UASC and DUC, the
care leaver's IN_TOUCH, ACTIV, ACCOM, the adoption's DATE_INT ...; and its AREVIEW,
AMISSING, OC2, PERMANENCE and AD_PLACED records) and EPISODE records. Tags are DfE's
(CHILDID is the CHILD column, PL the PLACE column); every value is kept as text as written,
dates as DD/MM/YYYY as DfE's SSDA903 XML has them (the CIN census's are YYYY-MM-DD), an
empty or absent element as "", as the CSV route gives a blank cell.

The whole file is first checked to be well-formed XML as a stream by expat with any
DOCTYPE refused (so no entity is ever declared or expanded), then read as a stream: each
element is dropped once read, so memory holds one child's records, counted against the
limit on rows (a record of any table is a row).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from xml.parsers import expat

import pandas as pd

from tasks.reading import safe_xml
from tasks.reading.files import Counter, FileRefused, Limits, open_regular, quote

ROOT_TAG, CHILD_TAG = "EXPSSDA903", "CHILD"
LAYOUT = "DfE's SSDA903 XML (EXPSSDA903, then a CHILD for each child)"
# A child's records of a table of many a child, by the element that holds each.
RECORDS = {"EPISODE": "Episodes", "AREVIEW": "Reviews", "AMISSING": "Missing", "OC2": "OC2",
           "PERMANENCE": "PrevPerm", "AD_PLACED": "PlacedAdoption"}
# DfE's XML names two fields otherwise than its CSV tables do.
RENAMED = {"CHILDID": "CHILD", "PL": "PLACE"}
# Tables of one record a child at most, from its own fields: a record where one is given.
OWN_FIELDS = {"OC3": ("IN_TOUCH", "ACTIV", "ACCOM"),
              "AD1": ("DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR",
                      "LS_ADOPTR")}


class XmlFault(Exception):
    """The file is not an SSDA903 in DfE's XML: what was found and what was expected."""


def is_xml(path: Path) -> bool:
    return path.suffix.lower() == ".xml"


class _Root(Exception):
    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


def xml_fault(path: Path) -> str | None:
    """What makes the whole file no well-formed XML, or None (tasks.reading.safe_xml)."""
    return safe_xml.xml_fault(path, LAYOUT)


def root_tag(path: Path) -> str | None:
    """The file's first element's name, read no further (for `briefing init`); None if
    there is none before a fault or a DOCTYPE."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = safe_xml.refuse_doctype

    def first(name: str, _: object) -> None:
        raise _Root(name)

    parser.StartElementHandler = first
    try:
        with open_regular(path) as fh:
            while chunk := fh.read(1 << 16):
                parser.Parse(chunk, False)
    except _Root as found:
        return found.tag
    except (FileRefused, OSError, safe_xml.Doctype, expat.ExpatError):
        return None
    return None


@dataclass
class _Child:
    """One CHILD being read: its own fields, and its records of the other tables."""

    fields: dict[str, str] = field(default_factory=dict)
    records: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@dataclass
class _Open:
    element: ET.Element
    nested: bool = False  # an element has started inside it: it is not a field


def read_903_xml(path: Path, columns: dict[str, tuple[str, ...]], limits: Limits | None = None
                 ) -> dict[str, pd.DataFrame]:
    """The file's tables (`columns`: DfE's tables and columns), each of text columns in
    the order of the file. Raises XmlFault or FileRefused saying what is wrong."""
    rows: dict[str, list[dict[str, str]]] = {
        name: [] for name in columns if name in ("Header", "UASC", *OWN_FIELDS, *RECORDS.values())}
    with open_regular(path) as fh:
        for child in _children(fh, Counter(limits or Limits())):
            for table, record in _child_records(child):
                rows[table].append(record)
    return {name: pd.DataFrame([[r.get(c, "") for c in columns[name]] for r in found],
                               columns=list(columns[name]), dtype=str)
            for name, found in rows.items()}


def _children(fh: BinaryIO, counter: Counter) -> Iterator[_Child]:
    """Each CHILD of the file as it ends. Every element is dropped from the tree once
    read, so the tree holds no more than the path to the element being read; each record
    (a child's own fields, an EPISODE, an AREVIEW ...) is a row against the limit."""
    path: list[_Open] = []
    child: _Child | None = None
    record: dict[str, str] | None = None
    for event, element in ET.iterparse(fh, events=("start", "end")):
        if event == "start":
            _opened(element, path)
            if len(path) == 2:
                child = _Child()
            elif element.tag in RECORDS and child is not None:
                if record is not None:
                    raise XmlFault(f"has a {element.tag} inside another record: expected "
                                   f"each of {', '.join(RECORDS)} directly in a CHILD")
                record = {}
            continue
        opened = path.pop()
        if len(path) == 1 and child is not None:
            counter.add(counter.rows + 1, len(child.fields))
            yield child
            child = None
        elif element.tag in RECORDS and child is not None and record is not None:
            counter.add(counter.rows + 1, len(record))
            child.records.append((RECORDS[element.tag], record))
            record = None
        elif child is not None and not opened.nested:  # a field
            name = RENAMED.get(element.tag, element.tag)
            (child.fields if record is None else record)[name] = element.text or ""
        if path:
            path[-1].element.remove(element)


def _opened(element: ET.Element, path: list[_Open]) -> None:
    """Checks an element's place: the root is EXPSSDA903, its elements CHILDs."""
    if not path and element.tag != ROOT_TAG:
        raise XmlFault(f"is not an SSDA903 return: its root element is "
                       f"{quote(element.tag, 80)}, expected {LAYOUT}")
    if len(path) == 1 and element.tag != CHILD_TAG:
        raise XmlFault(f"has {quote(element.tag, 40)} in {ROOT_TAG}: expected only "
                       f"{CHILD_TAG} elements, one for each child")
    if path:
        path[-1].nested = True
    path.append(_Open(element))


def _child_records(child: _Child) -> Iterator[tuple[str, dict[str, str]]]:
    """The child's Header record, then its records of the other tables, each with the
    child's id and date of birth (and sex, for UASC) from its own fields."""
    own = child.fields
    yield "Header", own
    if own.get("UASC", "").strip() == "1" or own.get("DUC", "").strip():
        yield "UASC", own
    for table, names in OWN_FIELDS.items():
        if any(own.get(n, "").strip() for n in names):
            yield table, own
    for table, record in child.records:
        yield table, {"CHILD": own.get("CHILD", ""), "DOB": own.get("DOB", ""), **record}
