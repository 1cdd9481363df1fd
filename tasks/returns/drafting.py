"""`briefing init` for child-level returns: a folder of the exports holding DfE's SSDA903
tables (CSV files known by their headers) or its XML (known by its root, EXPSSDA903), or
a CIN census (XML known by its header), is drafted as a source of kind `ssda903` or
`cin_census`, its indicators left for the analyst to name (which figure feeds which of
their codes is theirs to say)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tasks.reading.files import FileRefused, open_regular, refusal, text_stream
from tasks.returns.cin import read_cin_header
from tasks.returns.ssda903 import TABLES
from tasks.returns.ssda903_xml import ROOT_TAG, root_tag

TODO = "TODO"
CIN_EXAMPLE = "# e.g. AS01: assessments_in_45_days"


def _header(path: Path) -> list[str]:
    """The first row of a CSV file, or nothing if it cannot be read as one."""
    try:
        with open_regular(path) as fh:
            row = next(csv.reader(text_stream(fh)), [])
    except (FileRefused, OSError, UnicodeDecodeError, csv.Error):
        return []
    return [c.strip().lstrip("\ufeff") for c in row]


def ssda903_tables(folder: Path) -> dict[str, str]:
    """File name -> the SSDA903 table its header holds, for the CSV files in `folder`."""
    found = {}
    for path in sorted(folder.glob("*.csv")):
        have = set(_header(path))
        whole = [name for name, cols in TABLES.items() if set(cols) <= have]
        if whole:
            found[path.name] = max(whole, key=lambda name: len(TABLES[name]))
    return found


def is_cin_census(path: Path) -> bool:
    try:
        return read_cin_header(path).collection == "CIN"
    except ValueError:
        return False


def is_ssda903_xml(path: Path) -> bool:
    return root_tag(path) == ROOT_TAG


def _ssda903_xml(folder: Path, xmls: list[Path], beside_csv: bool
                 ) -> tuple[list[str], list[str]]:
    """An SSDA903 given as XML in `folder`: drafted as `folder/*.xml` when that glob gives
    it alone (a return is one XML file), else by its name."""
    found = [x for x in xmls if is_ssda903_xml(x)]
    lines: list[str] = []
    notes: list[str] = []
    for xml in found:
        files = f"{folder.name}/*.xml" if len(xmls) == 1 else f"{folder.name}/{xml.name}"
        name = f"SSDA903 return in {folder.name}/" + (f" ({xml.name})" if beside_csv else "")
        lines += _source(name, files, "ssda903",
                         "DfE's SSDA903 XML (EXPSSDA903)", ["# e.g. CL01: care_leavers_neet"])
        notes.append(f"{folder.name}/{xml.name}: an SSDA903 return (XML); name the "
                     "indicators computed from it in sources.yaml")
    return lines, notes


def draft_returns(exports: Path) -> tuple[list[str], list[str]]:
    """(sources.yaml lines, notes) for each return found in the exports folder: a folder of
    SSDA903 tables or its XML, or a CIN census (in a folder of its own, or beside the exports)."""
    lines: list[str] = []
    notes: list[str] = []
    places = [p for p in sorted(exports.iterdir()) if not p.name.startswith(".")
              and p.is_dir() and not p.is_symlink()]
    for folder in places:
        tables = ssda903_tables(folder)
        if tables:
            names = ", ".join(sorted(set(tables.values())))
            lines += _source(f"SSDA903 return in {folder.name}/", f"{folder.name}/*.csv",
                             "ssda903", f"DfE's SSDA903 tables: {names}",
                             ["# e.g. CL01: care_leavers_neet"])
            notes.append(f"{folder.name}/: an SSDA903 return ({len(tables)} tables); name "
                         "the indicators computed from it in sources.yaml")
        xmls = [x for x in sorted(folder.glob("*.xml")) if refusal(exports, x) is None]
        drafted = _ssda903_xml(folder, xmls, bool(tables))
        lines += drafted[0]
        notes += drafted[1]
        for xml in xmls:
            if is_cin_census(xml):
                # The folder's glob when the census is its one XML, so next month's file
                # (named for its month) is read too.
                files = (f"{folder.name}/*.xml" if len(xmls) == 1
                         else f"{folder.name}/{xml.name}")
                lines += _source(f"CIN census in {folder.name}/", files, "cin_census",
                                 "a CIN census (its header)", [CIN_EXAMPLE])
                notes.append(f"{folder.name}/{xml.name}: a CIN census")
    for xml in sorted(exports.glob("*.xml")):
        if refusal(exports, xml) is None and is_cin_census(xml):
            lines += _source(f"CIN census {xml.name}", xml.name, "cin_census",
                             "a CIN census (its header)", [CIN_EXAMPLE])
            notes.append(f"{xml.name}: a CIN census")
    return lines, notes


def _source(name: str, files: str, layout: str, why: str, examples: list[str]) -> list[str]:
    out = [f"  - name: {json.dumps(name)}", f"    files: {json.dumps(files)}",
           f"    layout: {layout}  # detected: {why}"]
    out.append(f"    indicators: {{}}  # {TODO}: indicator code -> figure computed from "
               "the records (docs/returns.md)")
    out += [f"    {e}" for e in examples]
    return out
