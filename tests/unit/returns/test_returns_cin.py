"""The CIN census file's own faults, from its header: each an error naming the file."""

from __future__ import annotations

from pathlib import Path

from tasks.returns.cin import CinHeader, cin_file_faults, read_cin_header
from tests.returns_factory import cin_census


def lines(path: Path, year: int = 2025, lea: str | None = "201") -> list[str]:
    return [p.as_line() for p in cin_file_faults(path, year, lea)]


def test_the_census_of_the_year_and_authority_has_no_fault(tmp_path: Path) -> None:
    xml = cin_census(tmp_path / "cin.xml")
    assert read_cin_header(xml) == CinHeader("CIN", "2025", "2025-03-31", "201")
    assert lines(xml) == [] and lines(xml, lea=None) == []


def test_a_census_for_another_year_or_authority_is_named(tmp_path: Path) -> None:
    xml = cin_census(tmp_path / "cin.xml", lea="202")
    assert lines(xml, year=2026) == [
        "ERROR: cin.xml: is the CIN census for the year ending March '2025': expected 2026",
        "ERROR: cin.xml: is for the authority with DfE code '202': expected 201"]


def test_a_wrong_reference_date_is_named(tmp_path: Path) -> None:
    xml = cin_census(tmp_path / "cin.xml")
    xml.write_text(xml.read_text().replace("2025-03-31", "2024-03-31"))
    assert lines(xml) == ["ERROR: cin.xml: has reference date '2024-03-31': expected "
                          "2025-03-31, the end of its year"]


def test_files_that_are_no_cin_census_are_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<Message><Header>\n<Collection>CIN</Header></Message>")
    other = cin_census(tmp_path / "school.xml")
    other.write_text(other.read_text().replace(">CIN<", ">SCHOOL<"))
    headless = tmp_path / "headless.xml"
    headless.write_text("<Message><Children><Child/></Children></Message>")
    assert lines(broken) == [
        "ERROR: broken.xml: is not well-formed XML (line 2, character 18)"]
    assert lines(other) == ["ERROR: school.xml: is not a CIN census: its header's Collection "
                            "is 'SCHOOL', expected 'CIN'"]
    assert lines(headless) == [
        "ERROR: headless.xml: has no Header before its children: expected a CIN census "
        "(Message, then Header with CollectionDetails and Source)"]


def test_a_census_cut_short_or_declaring_entities_is_refused_naming_it(tmp_path: Path
                                                                       ) -> None:
    """`briefing validate` read the header alone, so it passed a census cut short after it,
    and one declaring entities (a file it should read, "billion laughs"): the whole file is
    read, with any DOCTYPE refused before an entity is declared."""
    whole = cin_census(tmp_path / "cin.xml").read_text()
    cut = tmp_path / "cut.xml"
    cut.write_text(whole[: whole.index("</Header>") + 40])
    assert lines(cut)[0].startswith("ERROR: cut.xml: is not well-formed XML (line ")
    doctypes = {"xxe": '<!DOCTYPE Message [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
                "lol": '<!DOCTYPE Message [<!ENTITY a "aa"><!ENTITY b "&a;&a;&a;&a;">]>'}
    for name, doctype in doctypes.items():
        path = tmp_path / f"{name}.xml"
        path.write_text(whole.replace("<Message", doctype + "\n<Message", 1))
        assert lines(path) == [f"ERROR: {name}.xml: declares a document type (DOCTYPE, line "
                               f"{2 if whole.startswith('<?xml') else 1}): expected a CIN "
                               "census with none, as DfE's schema has none; its entities "
                               "are not read"]


def test_a_census_fault_names_the_file_by_its_path_in_the_exports(tmp_path: Path) -> None:
    """It said "cin.xml" for exports/cin/cin.xml, where an SSDA903 file's path is given."""
    from tasks.reading.sources import Sources
    from tasks.returns.reading import read_child_returns
    from tasks.settings.config import load_config
    from tests.conftest import DEMO_CONFIG

    (tmp_path / "cin").mkdir()
    (tmp_path / "cin" / "cin.xml").write_text("<Message><Header>", encoding="utf-8")
    sources = Sources.model_validate({"sources": [{
        "name": "CIN census", "files": "cin/*.xml", "layout": "cin_census",
        "collection_year": 2025}]})
    read = read_child_returns(tmp_path, sources, load_config(DEMO_CONFIG), "2024-10")
    assert [p.file for p in read.problems] == ["cin/cin.xml"]
