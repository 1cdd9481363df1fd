"""Small child-level returns made by the tests: an SSDA903 as CSV tables with DfE's column
names, and a CIN census as XML, for the collection year ending March 2025."""

from __future__ import annotations

import csv
from pathlib import Path
from xml.etree import ElementTree as ET

COLUMNS = {
    "header": ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"],
    "episodes": ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                 "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"],
    "oc3": ["CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"],
    "uasc": ["CHILD", "SEX", "DOB", "DUC"],
}


def write_table(folder: Path, name: str, rows: list[dict[str, str]]) -> Path:
    path = folder / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, COLUMNS[name])
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in COLUMNS[name]})
    return path


def ssda903(folder: Path, *, unrecorded_activity: tuple[str, ...] = ("CL2",),
            uasc: bool = False, open_episode_reason: str = "") -> list[Path]:
    """Two children in care and three care leavers aged 19 to 21; the care leavers in
    `unrecorded_activity` have no activity recorded in OC3 (the inspectors' case). With
    `uasc`, a UASC table where LAC1 (aged 8 in 2025) is an unaccompanied asylum-seeking child;
    `open_episode_reason` is a reason for a placement change on LAC1's open episode."""
    folder.mkdir(parents=True, exist_ok=True)
    header = [
        {"CHILD": "LAC1", "SEX": "M", "DOB": "14/05/2016", "ETHNIC": "WBRI",
         "UPN": "A123456789012"},
        {"CHILD": "LAC2", "SEX": "F", "DOB": "02/11/2009", "ETHNIC": "MWBC",
         "UPN": "B123456789012"},
    ]
    episodes = [
        {"CHILD": "LAC1", "DECOM": "03/06/2024", "RNE": "S", "LS": "C2", "CIN": "N1",
         "PLACE": "U1", "PLACE_PROVIDER": "PR1", "HOME_POST": "SW1A 1AA",
         "PL_POST": "SW1A 2AA", "REASON_PLACE_CHANGE": open_episode_reason},
        {"CHILD": "LAC2", "DECOM": "20/01/2023", "RNE": "S", "LS": "C2", "CIN": "N2",
         "PLACE": "U4", "PLACE_PROVIDER": "PR1", "HOME_POST": "SW1A 1AA",
         "PL_POST": "SW1A 2AA"},
    ]
    leavers = [("CL1", "10/06/2005", "F1"), ("CL2", "22/01/2005", "F2"),
               ("CL3", "30/09/2004", "G4")]
    oc3 = []
    for child, dob, activity in leavers:
        header.append({"CHILD": child, "SEX": "F", "DOB": dob, "ETHNIC": "WBRI", "UPN": "UN2"})
        oc3.append({"CHILD": child, "DOB": dob, "IN_TOUCH": "YES", "ACCOM": "S",
                    "ACTIV": "" if child in unrecorded_activity else activity})
    files = [write_table(folder, "header", header), write_table(folder, "episodes", episodes),
             write_table(folder, "oc3", oc3)]
    if uasc:
        files.append(write_table(folder, "uasc", [{"CHILD": "LAC1", "SEX": "M",
                                                   "DOB": "14/05/2016"}]))
    return files


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _cin_child(children: ET.Element, child_id: str, born: str, referral: str | None) -> None:
    child = _add(children, "Child")
    ids = _add(child, "ChildIdentifiers")
    for tag, text in (("LAchildID", child_id), ("UPN", "A123456789012"),
                      ("PersonBirthDate", born), ("GenderCurrent", "1"), ("Sex", "M")):
        _add(ids, tag, text)
    characteristics = _add(child, "ChildCharacteristics")
    _add(characteristics, "Ethnicity", "WBRI")
    _add(_add(characteristics, "Disabilities"), "Disability", "NONE")
    if referral is not None:
        details = _add(child, "CINdetails")
        for tag, text in (("CINreferralDate", referral), ("ReferralSource", "1A"),
                          ("PrimaryNeedCode", "N1"), ("ReferralNFA", "false")):
            _add(details, tag, text)


def cin_census(path: Path, *, lea: str = "201") -> Path:
    """Three children: CIN1 in order; CIN2 born after the census period ends (rule 8520);
    CIN3 with no CIN episode (rule 8590)."""
    root = ET.Element("Message")
    header = _add(root, "Header")
    details = _add(header, "CollectionDetails")
    for tag, text in (("Collection", "CIN"), ("Year", "2025"), ("ReferenceDate", "2025-03-31")):
        _add(details, tag, text)
    source = _add(header, "Source")
    for tag, text in (("SourceLevel", "L"), ("LEA", lea), ("SoftwareCode", "Local"),
                      ("Release", "ver 1"), ("SerialNo", "1"),
                      ("DateTime", "2025-04-20T10:00:00")):
        _add(source, tag, text)
    children = _add(root, "Children")
    _cin_child(children, "CIN1", "2015-04-01", "2024-06-01")
    _cin_child(children, "CIN2", "2025-04-15", "2024-09-10")
    _cin_child(children, "CIN3", "2012-08-08", None)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


# A census built from trees: each node is (tag, text), (tag, None) for an empty element,
# or (tag, [nodes]) for an element holding others, in the order DfE's schema gives them.
Node = tuple[str, "str | list[Node] | None"]


def _grow(parent: ET.Element, nodes: list[Node]) -> None:
    for tag, content in nodes:
        element = _add(parent, tag)
        if isinstance(content, list):
            _grow(element, content)
        else:
            element.text = content


def cin_census_of(path: Path, children: list[list[Node]], *, lea: str = "201",
                  namespace: str | None = None) -> Path:
    """A CIN census for the year ending March 2025 whose children are the trees given:
    each child the nodes inside its Child element (ChildIdentifiers, ChildCharacteristics,
    CINdetails...). With `namespace`, the file declares it as its default (xmlns)."""
    root = ET.Element("Message")
    if namespace is not None:
        root.set("xmlns", namespace)
    _grow(root, [("Header", [
        ("CollectionDetails", [("Collection", "CIN"), ("Year", "2025"),
                               ("ReferenceDate", "2025-03-31")]),
        ("Source", [("SourceLevel", "L"), ("LEA", lea), ("SoftwareCode", "Local"),
                    ("Release", "ver 1"), ("SerialNo", "1"),
                    ("DateTime", "2025-04-20T10:00:00")])])])
    _grow(root, [("Children", [("Child", child) for child in children])])
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


# DfE's SSDA903 XML: each table of many a record a child, by the element holding each
# record, and the child's own fields (in HEADER) in the order the validators' fixture has.
XML_RECORDS = {"Reviews": "AREVIEW", "Missing": "AMISSING", "PrevPerm": "PERMANENCE",
               "PlacedAdoption": "AD_PLACED", "OC2": "OC2"}
XML_OWN = {"Header": ("CHILD", "UPN", "SEX", "DOB", "ETHNIC"), "UASC": ("DUC",),
           "OC3": ("IN_TOUCH", "ACTIV", "ACCOM"),
           "AD1": ("DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR",
                   "LS_ADOPTR")}
XML_TAGS = {"CHILD": "CHILDID", "PLACE": "PL"}


def ssda903_as_xml(tables: dict[str, list[dict[str, str]]], path: Path) -> Path:
    """An SSDA903 return's tables (table name -> its rows, every child in Header) written
    as DfE's XML: EXPSSDA903, a CHILD for each child, in Header's order, with its HEADER
    (own fields, then its AREVIEW, AMISSING ... records) and its EPISODEs. A blank value
    is an empty element, as case systems write one."""
    root = ET.Element("EXPSSDA903")
    by_child: dict[str, dict[str, list[dict[str, str]]]] = {}
    for table, rows in tables.items():
        for row in rows:
            by_child.setdefault(row["CHILD"], {}).setdefault(table, []).append(row)
    for row in tables["Header"]:
        own = by_child[row["CHILD"]]
        child = _add(root, "CHILD")
        header = _add(child, "HEADER")
        for column in XML_OWN["Header"]:
            _add(header, XML_TAGS.get(column, column), row[column] or None)
        _add(header, "UASC", "1" if "UASC" in own else "0")  # DfE's XML: 0 or 1 (rule 105)
        _add(header, "DUC", own["UASC"][0]["DUC"] if "UASC" in own else None)
        for table in ("Reviews", "Missing"):
            for record in own.get(table, []):
                _add_record(header, XML_RECORDS[table], record)
        _add(header, "MOTHER", row["MOTHER"] or None)
        _add(header, "MC_DOB", row["MC_DOB"] or None)
        for table in ("PrevPerm", "PlacedAdoption", "OC2"):
            for record in own.get(table, []):
                _add_record(header, XML_RECORDS[table], record)
        for table in ("OC3", "AD1"):
            for column in XML_OWN[table]:
                _add(header, column, (own[table][0][column] or None) if table in own else None)
        for record in own.get("Episodes", []):
            _add_record(child, "EPISODE", record)
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)
    return path


def _add_record(parent: ET.Element, tag: str, record: dict[str, str]) -> None:
    element = _add(parent, tag)
    for column, value in record.items():
        if column not in ("CHILD", "DOB"):
            _add(element, XML_TAGS.get(column, column), value or None)
