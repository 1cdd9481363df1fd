"""Reading an SSDA903 return as CSV tables: file faults are clear errors naming the file."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.returns.ssda903 import REQUIRED, TABLES, ReturnFault, read_903
from tests.conftest import ROOT
from tests.returns_factory import ssda903


def faults(files: list[Path], year: int = 2025) -> list[str]:
    with pytest.raises(ReturnFault) as caught:
        read_903(files, year)
    return [p.as_line() for p in caught.value.problems]


def rewrite(path: Path, drop: str | None = None, add: tuple[str, str] | None = None) -> None:
    """The CSV again without column `drop`, or with a column (name, value) added."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    columns = [c for c in rows[0] if c != drop] + ([add[0]] if add else [])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({**row, **({add[0]: add[1]} if add else {})} for row in rows)


def test_a_whole_return_reads_with_the_absent_tables_as_warnings(tmp_path: Path) -> None:
    ret = read_903(ssda903(tmp_path), 2025)
    assert set(ret.tables) == set(REQUIRED)
    assert list(ret.tables["OC3"]["CHILD"]) == ["CL1", "CL2", "CL3"]
    assert ret.files["Episodes"].name == "episodes.csv"
    assert "WARNING: SSDA903 return: has no Missing table: DfE's rules on it will not run" in [
        p.as_line() for p in ret.problems]
    assert len(ret.problems) == len(TABLES) - len(REQUIRED)


def test_a_missing_table_names_it_and_its_columns(tmp_path: Path) -> None:
    files = [p for p in ssda903(tmp_path) if p.name != "oc3.csv"]
    assert faults(files) == ["ERROR: SSDA903 return: has no OC3 table: expected a CSV file "
                             "with the columns CHILD, DOB, IN_TOUCH, ACTIV, ACCOM"]


def test_a_missing_column_names_the_file_and_the_column(tmp_path: Path) -> None:
    files = ssda903(tmp_path)
    rewrite(tmp_path / "episodes.csv", drop="URN")
    assert faults(files) == [
        "ERROR: episodes.csv, row 1: the Episodes table has no column URN: expected CHILD, "
        "DECOM, RNE, LS, CIN, PLACE, PLACE_PROVIDER, DEC, REC, REASON_PLACE_CHANGE, "
        "HOME_POST, PL_POST, URN"]  # and not "has no Episodes table" too: it has one


def test_a_column_missing_is_said_once_not_as_a_missing_table_too(tmp_path: Path) -> None:
    """OC3 without ACTIV: the file lacks a column; the return does not lack an OC3 table."""
    files = ssda903(tmp_path)
    rewrite(tmp_path / "oc3.csv", drop="ACTIV")
    assert faults(files) == ["ERROR: oc3.csv, row 1: the OC3 table has no column ACTIV: "
                             "expected CHILD, DOB, IN_TOUCH, ACTIV, ACCOM"]


@pytest.mark.parametrize("text", ["", "\n"])
def test_an_empty_file_is_one_line_naming_it_not_a_traceback(tmp_path: Path, text: str
                                                              ) -> None:
    """`: > oc3.csv` raised pandas' EmptyDataError through validate and run."""
    files = ssda903(tmp_path)
    (tmp_path / "oc3.csv").write_text(text, encoding="utf-8")
    assert faults(files) == ["ERROR: oc3.csv: is empty: expected a CSV file with a header row "
                             "of one of DfE's tables"]


def test_a_file_of_no_table_and_a_table_twice_are_named(tmp_path: Path) -> None:
    files = ssda903(tmp_path)
    other = tmp_path / "budget.csv"
    other.write_text("Service,Spend\nFostering,12\n", encoding="utf-8")
    twice = tmp_path / "oc3_copy.csv"
    twice.write_bytes((tmp_path / "oc3.csv").read_bytes())
    assert faults([*files, other, twice]) == [
        "ERROR: budget.csv, row 1: is no table of the SSDA903: its columns ('Service', "
        "'Spend') are not those of any of DfE's tables",
        "ERROR: oc3_copy.csv: gives the OC3 table, as oc3.csv does: expected one file a table"]


def test_a_return_for_another_year_is_an_error(tmp_path: Path) -> None:
    files = ssda903(tmp_path)  # the year ending March 2025
    assert faults(files, year=2027) == [
        "ERROR: episodes.csv, column 'DECOM': its latest episode date (2024) is before the "
        "collection year 1 April 2026 to 31 March 2027: expected the return for the year "
        "ending March 2027"]
    assert faults(files, year=2024) == [
        "ERROR: episodes.csv, column 'DECOM': 1 of its 2 episodes start after the collection "
        "year 1 April 2023 to 31 March 2024: expected the return for the year ending March "
        "2024"]


DEMO_RETURN = ROOT / "demo" / "exports" / "ssda903"


def test_the_demo_return_is_made_again_byte_for_byte(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_returns.py"),
                           str(tmp_path / "ssda903")], capture_output=True, text=True,
                          check=True)
    assert "100 care leavers; 19 planted input errors" in done.stdout
    made = sorted(p.name for p in (tmp_path / "ssda903").iterdir())
    assert made == sorted(p.name for p in DEMO_RETURN.iterdir())
    for name in made:
        assert (tmp_path / "ssda903" / name).read_bytes() == (DEMO_RETURN / name).read_bytes()


