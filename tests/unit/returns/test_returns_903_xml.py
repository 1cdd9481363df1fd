"""An SSDA903 given as DfE's XML is read by our own reader into the tables the CSV route
gives, so its figures are computed as for CSV; its faults are errors naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.drafting.draft import draft_config
from tasks.reading.files import Limits
from tasks.reading.sources import Ssda903Source, load_sources
from tasks.returns import figures_903 as f903
from tasks.returns.reading import (
    FIGURES_903,
    period_of,
    unreadable_dates,
)
from tasks.returns.ssda903 import TABLES, Return903, ReturnFault, read_903
from tests.conftest import DEMO_CYCLE, ROOT
from tests.returns_factory import cin_census, ssda903_as_xml

DEMO_RETURN = ROOT / "demo" / "exports" / "ssda903"
DEMO_TABLES = sorted(DEMO_RETURN.glob("*.csv"))
POPULATION = 50_000  # children under 18, for the rate: any number, the same both ways


def demo_csv() -> Return903:
    return read_903(DEMO_TABLES, 2025)


def demo_xml(folder: Path, name: str = "ssda903.xml") -> Path:
    """The demo's CSV return written out as DfE's XML."""
    tables = {name: frame[list(TABLES[name])].to_dict("records")
              for name, frame in demo_csv().tables.items()}
    folder.mkdir(parents=True, exist_ok=True)
    return ssda903_as_xml(tables, folder / name)


def faults(files: list[Path], year: int = 2025, limits: Limits | None = None) -> list[str]:
    with pytest.raises(ReturnFault) as caught:
        read_903(files, year, limits)
    return [p.as_line() for p in caught.value.problems]


def test_the_demo_as_xml_gives_the_csv_routes_tables(tmp_path: Path) -> None:
    xml = demo_xml(tmp_path)
    from_csv, from_xml = demo_csv(), read_903([xml], 2025)
    assert from_xml.xml == xml and from_csv.xml is None
    for name, frame in from_csv.tables.items():
        assert from_xml.tables[name].equals(frame[list(TABLES[name])]), name
    assert len(from_xml.tables["Episodes"]) == 665 and len(from_xml.tables["OC3"]) == 100
    # The tables DfE's XML can give and the demo has none of are there, with no records.
    extra = set(from_xml.tables) - set(from_csv.tables)
    assert extra == {"UASC", "OC2", "AD1", "PlacedAdoption", "PrevPerm"}
    assert all(from_xml.tables[name].empty for name in extra)
    assert set(from_xml.files.values()) == {xml} and set(from_xml.files) == set(from_xml.tables)
    assert [p.as_line() for p in from_xml.problems] == [
        f"WARNING: SSDA903 return: has no {name} table (DfE's XML gives none): DfE's rules "
        f"on it will not run" for name in ("SWEpisodes", "DoLo")]


def test_the_demo_as_xml_gives_every_figure_the_csv_gives(tmp_path: Path) -> None:
    from_csv, from_xml = demo_csv(), read_903([demo_xml(tmp_path)], 2025)
    period = period_of(DEMO_CYCLE)
    compared = 0
    for name, (compute, _) in FIGURES_903.items():
        if compute is None:
            got = [f903.looked_after_rate(r.tables, period, POPULATION)
                   for r in (from_csv, from_xml)]
        else:
            got = [compute(r.tables, period) for r in (from_csv, from_xml)]
        assert got[0] == got[1], name  # value, counts and the children it rests on
        assert got[0].numerator > 0, name
        compared += 1
    assert compared == len(FIGURES_903) == 11


def test_a_date_the_figures_cannot_read_in_xml_names_the_record_and_no_row(
        tmp_path: Path) -> None:
    xml = demo_xml(tmp_path)
    text = xml.read_text(encoding="utf-8")
    xml.write_text(text.replace("<DECOM>17/10/2023</DECOM>", "<DECOM>31/02/2024</DECOM>", 1),
                   encoding="utf-8")
    found = unreadable_dates(read_903([xml], 2025))
    assert [(f.table, f.file, f.record, f.row) for f in found] == [
        ("Episodes", "ssda903.xml", 1, None)]
    assert read_903([xml], 2025).row_of(1) is None and demo_csv().row_of(1) == 2


def test_xml_not_well_formed_names_the_file(tmp_path: Path) -> None:
    xml = demo_xml(tmp_path)
    xml.write_bytes(xml.read_bytes()[:5000])  # cut short
    [line] = faults([xml])
    assert line.startswith("ERROR: ssda903.xml: is not well-formed XML (line 2, character ")


def test_a_doctype_is_refused_before_any_entity_is_read(tmp_path: Path) -> None:
    xml = tmp_path / "laughs.xml"
    xml.write_text('<?xml version="1.0"?>\n<!DOCTYPE EXPSSDA903 [<!ENTITY a "aaaaaaaaaa">'
                   '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
                   "<EXPSSDA903><CHILD><HEADER><CHILDID>&b;</CHILDID></HEADER></CHILD>"
                   "</EXPSSDA903>", encoding="utf-8")
    assert faults([xml]) == [
        "ERROR: laughs.xml: declares a document type (DOCTYPE, line 2): expected DfE's "
        "SSDA903 XML (EXPSSDA903, then a CHILD for each child) with none, as DfE's schema "
        "has none; its entities are not read"]


def test_xml_that_is_no_ssda903_says_what_it_is_and_what_was_expected(tmp_path: Path) -> None:
    census = cin_census(tmp_path / "cin.xml")
    assert faults([census]) == [
        "ERROR: cin.xml: is not an SSDA903 return: its root element is 'Message', expected "
        "DfE's SSDA903 XML (EXPSSDA903, then a CHILD for each child)"]
    stray = tmp_path / "stray.xml"
    stray.write_text("<EXPSSDA903><CHILD><HEADER><CHILDID>C1</CHILDID></HEADER></CHILD>"
                     "<HEADER/></EXPSSDA903>", encoding="utf-8")
    assert faults([stray]) == [
        "ERROR: stray.xml: has 'HEADER' in EXPSSDA903: expected only CHILD elements, one "
        "for each child"]


def test_csv_and_xml_in_one_return_name_each_csv_file(tmp_path: Path) -> None:
    xml = demo_xml(tmp_path)
    header = DEMO_RETURN / "header.csv"
    assert faults([xml, header]) == [
        "ERROR: header.csv: is a CSV table beside the XML return ssda903.xml: expected CSV "
        "tables or one XML file, not both"]


def test_two_xml_files_name_the_second(tmp_path: Path) -> None:
    first = demo_xml(tmp_path, "a.xml")
    second = demo_xml(tmp_path, "b.xml")
    assert faults([second, first]) == [
        "ERROR: b.xml: is a second XML file, beside a.xml: expected one XML file for the "
        "return"]


def test_the_row_limit_stops_the_xml_read_with_the_limits_wording(tmp_path: Path) -> None:
    xml = demo_xml(tmp_path)
    assert faults([xml], limits=Limits(rows=100)) == [
        "ERROR: ssda903.xml: has more than 100 rows (the limit per file, BRIEFING_MAX_ROWS);"
        " stopped reading at row 101"]
    assert len(read_903([xml], 2025, Limits(rows=420 + 665 + 306 + 28)).tables["Header"]) \
        == 420  # each child's own fields are a row, and each of its records


def test_an_xml_return_for_another_year_names_the_file(tmp_path: Path) -> None:
    xml = demo_xml(tmp_path)
    [line] = faults([xml], year=2027)
    assert line.startswith("ERROR: ssda903.xml, column 'DECOM': its latest episode date "
                           "(2025) is before the collection year 1 April 2026")


def test_init_drafts_a_folder_holding_an_ssda903_xml(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    demo_xml(exports / "looked_after", "lac_2025.xml")
    config = tmp_path / "config"
    _, notes = draft_config(exports, config)
    [source] = load_sources(config).sources
    assert isinstance(source, Ssda903Source)
    assert (source.files, source.layout, source.indicators) == (
        "looked_after/*.xml", "ssda903", {})
    assert "looked_after/lac_2025.xml: an SSDA903 return (XML); name the indicators " \
           "computed from it in sources.yaml" in "\n".join(notes)
    assert "# detected: DfE's SSDA903 XML (EXPSSDA903)" in (config / "sources.yaml").read_text()


def test_init_names_the_xml_when_the_folder_holds_a_census_too(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    demo_xml(exports / "returns", "lac.xml")
    cin_census(exports / "returns" / "cin.xml")
    draft_config(exports, tmp_path / "config")
    found = {s.layout: s.files for s in load_sources(tmp_path / "config").sources}
    assert found == {"ssda903": "returns/lac.xml", "cin_census": "returns/cin.xml"}


def test_a_uasc_record_is_a_child_flagged_uasc_not_every_flag_given(tmp_path: Path) -> None:
    """DfE's XML gives every child a UASC flag (0 or 1): only the 1s (or a date UASC
    ceased) are records of the UASC table, as the CSV's UASC table holds."""
    xml = tmp_path / "uasc.xml"
    children = "".join(
        f"<CHILD><HEADER><CHILDID>{child}</CHILDID><SEX>{sex}</SEX><DOB>01/05/2008</DOB>"
        f"<UASC>{flag}</UASC><DUC>{duc}</DUC></HEADER><EPISODE><DECOM>01/06/2024</DECOM>"
        f"<PL>U1</PL></EPISODE></CHILD>"
        for child, sex, flag, duc in (("U1", "M", "1", "01/05/2026"), ("U2", "F", "0", "")))
    xml.write_text(f"<EXPSSDA903>{children}</EXPSSDA903>", encoding="utf-8")
    ret = read_903([xml], 2025)
    assert ret.tables["UASC"].to_dict("records") == [
        {"CHILD": "U1", "SEX": "M", "DOB": "01/05/2008", "DUC": "01/05/2026"}]
    assert list(ret.tables["Episodes"]["PLACE"]) == ["U1", "U1"]  # PL is the PLACE column
    assert list(ret.tables["Episodes"]["DEC"]) == ["", ""]  # absent: blank, as in CSV
