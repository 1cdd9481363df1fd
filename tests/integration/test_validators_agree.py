"""DfE's own validators (run in their own environment, .venv-validators) over the demo's
returns and the returns the tests make: they find exactly the planted errors, read the
XML as they read the CSV, and read the census row for row as our reader does. These run
the validators' Python, so they are integration tests; the returns' unit tests are in
tests/unit/returns/.
"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tasks.returns.cin_records import TABLES, read_cin
from tasks.returns.reading import Checks, ReturnRead, _done
from tasks.returns.ssda903 import read_903, validate_903
from tasks.returns.validators import ReturnFile, RuleIssue, run_validators
from tasks.returns.workbook import failing_table
from tests.returns_factory import Node, cin_census_of, ssda903
from tests.unit.returns.test_demo_census import CENSUS, DEMO_CENSUS
from tests.unit.returns.test_returns_903_xml import DEMO_RETURN, demo_csv, demo_xml
from tests.unit.returns.test_returns_cin_figures import _child, theirs
from tests.unit.returns.test_returns_ssda903 import rewrite

pytestmark = pytest.mark.slow


@pytest.mark.slow
def test_the_validators_find_the_same_rules_failing_over_the_xml(tmp_path: Path) -> None:
    """DfE's rules read the XML itself (their own XML reader): the same rules fail on the
    same children as over the CSV tables, each finding naming the file and its record,
    with no row (an XML file has none)."""
    xml = demo_xml(tmp_path)
    over_csv = validate_903(demo_csv(), local_authority="E09000033")
    ret = read_903([xml], 2025)
    over_xml = validate_903(ret, local_authority="E09000033")
    assert over_xml.rules_failed() == over_csv.rules_failed()
    # Every rule runs: a table the XML has no record of (OC2 ...) reaches the rules absent,
    # as over CSV, not as a frame with no columns on which 87 rules raised KeyError; and
    # Header's UASC flag (0 or 1 in DfE's XML, rule 105) lets rule 231 run.
    assert over_xml.not_run == [] and "105" in over_xml.done
    assert {"103", "132", "153", "356"} <= set(over_xml.rules_failed())
    for rule in over_csv.rules_failed():
        assert sorted(i.child or "" for i in over_xml.failing(rule)) == sorted(
            i.child or "" for i in over_csv.failing(rule)), rule
    assert {t.csv for t in over_xml.tables.values()} == {False}
    issues = over_xml.failing("132")
    assert len(issues) == 14 and {(i.table, i.file, i.row) for i in issues} == {
        ("OC3", "ssda903.xml", None)}
    oc3 = ret.tables["OC3"]
    assert all(oc3["CHILD"].iloc[i.record - 1] == i.child and oc3["ACTIV"].iloc[i.record - 1]
               == "" for i in issues if i.record is not None)
    # The restricted workbook names the file and no row, the council's id as written.
    read = ReturnRead("ssda903", "SSDA903", 2025, [xml], tmp_path, return_903=ret)
    read._future = _done(Checks(over_xml))
    rows = [r for r in failing_table([read]).rows if r[5] == "132"]
    assert len(rows) == 14 and {(r[3], r[4]) for r in rows} == {("ssda903.xml", None)}
    with (DEMO_RETURN / "oc3.csv").open(newline="", encoding="utf-8") as fh:
        blank = {row["CHILD"] for row in csv.DictReader(fh) if not row["ACTIV"]}
    assert {r[0] for r in rows} == blank


@pytest.mark.slow
def test_the_validators_find_the_demo_census_planted_errors_and_no_others() -> None:
    planted = json.loads((DEMO_CENSUS / "planted.json").read_text())
    report = run_validators("cin_census", [ReturnFile(CENSUS)], 2025)
    assert report.ruleset == "cin2024_25" and not report.not_run and not report.skipped
    found = {rule: sorted({i.child or "" for i in report.failing(rule)})
             for rule in report.rules_failed()}
    expected = {kind.rsplit("(", 1)[1].rstrip(")"): ids for kind, ids in planted.items()}
    assert set(expected) == {"8608", "8615", "4220", "1510"}
    assert found == expected
    assert len(found["8608"]) == 4 and len(found["8615"]) == 2


# Some 2 s: one run of the validators' Python for 8 censuses, 3 times. Not shrunk: each
# try would start it again (minutes); the failing census is shown as drawn.
@settings(max_examples=3, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(censuses=st.lists(st.lists(_child(), min_size=1, max_size=4), min_size=8, max_size=8))
def test_read_cin_tables_are_row_for_row_those_of_cin_validator(
        censuses: list[list[list[Node]]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = [cin_census_of(Path(folder) / f"cin{i}.xml", children)
                 for i, children in enumerate(censuses)]
        ours = [read_cin(path).tables for path in paths]
        found = theirs(paths)
    for mine, other in zip(ours, found, strict=True):
        for name, frame in mine.items():
            columns = other[name]["columns"]
            shared = [c for c in frame.columns if c in columns]
            assert shared == list(TABLES[name]), name  # they have every column we have
            picked = [[row[columns.index(c)] for c in shared] for row in other[name]["rows"]]
            assert frame[shared].values.tolist() == picked, name


@pytest.mark.slow
def test_columns_beyond_dfes_reach_the_validators_trimmed(tmp_path: Path) -> None:
    """The validators' reader refuses a table with any column of its own (a team, for
    breakdowns); the return keeps it and the validators get DfE's columns only."""
    files = ssda903(tmp_path)
    rewrite(tmp_path / "oc3.csv", add=("TEAM", "North"))
    ret = read_903(files, 2025)
    assert list(ret.tables["OC3"]["TEAM"]) == ["North"] * 3
    report = validate_903(ret, only={"132"})
    assert report.failing("132") == [
        RuleIssue("132", "OC3", "oc3.csv", record=2, row=3, child="CL2")]


@pytest.mark.slow
def test_the_validators_find_the_demo_returns_planted_errors_and_no_others() -> None:
    planted = json.loads((DEMO_RETURN / "planted.json").read_text())
    ret = read_903(sorted(DEMO_RETURN.glob("*.csv")), 2025)
    assert len(ret.tables["OC3"]) == 100 and ret.tables["Header"]["CHILD"].is_unique
    report = validate_903(ret, local_authority="E09000033")
    children = {rule: sorted({i.child for i in report.failing(rule)})
                for rule in report.rules_failed()}
    activity = planted["activity not recorded (OC3 ACTIV blank)"]
    assert len(activity) == 14
    assert children["132"] == children["153"] == activity
    assert children["356"] == planted["episode ends before it starts (DEC before DECOM)"]
    assert children["103"] == planted["ethnicity code not valid (ETHNIC)"]
    # The rest follow from the planted episode ends (a continuation no longer continues).
    assert set(children) == {"103", "132", "153", "356", "388", "433"}
    assert set(children["388"]) | set(children["433"]) <= set(children["356"])
