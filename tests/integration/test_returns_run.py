"""The returns in a run: sources of kind ssda903, their figures among the records, each
figure's data quality in both editions, the restricted data-quality workbook, and no child
id anywhere else (docs/returns.md)."""

from __future__ import annotations

import io
import logging
import re
import shutil
import zipfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pydantic import ValidationError

from tasks.analysing.results import Direction, IndicatorResult, Rating
from tasks.presenting.context import build_context
from tasks.presenting.render import render_html
from tasks.presenting.spreadsheets import briefing_workbook, open_data_csv
from tasks.reading.sources import Sources
from tasks.returns.figures_903 import Figure, date_faults
from tasks.returns.quality import (
    Quality,
    child_key,
    could_be,
    figure_quality,
    public_words,
    restricted_words,
    rule_problems,
)
from tasks.returns.reading import (
    Checks,
    Computed,
    ReturnRead,
    _done,
    collection_year_of,
    start_checks,
    unreadable_dates,
)
from tasks.returns.ssda903 import Return903
from tasks.returns.validators import RuleIssue, RuleNotRun, ValidationReport
from tasks.returns.workbook import failing_table, quality_workbook
from tasks.run.analysis import compare_with_history
from tasks.run.inputs import NoFiguresForCycle, validate_exports
from tasks.run.papers import edition_figures
from tasks.settings.config import load_config
from tasks.settings.formatting import Edition
from tasks.store.history import MemoryHistoryStore
from tests.conftest import DEMO_CONFIG, DEMO_CYCLE, ROOT, TODAY
from tests.returns_factory import COLUMNS, ssda903, write_table

NEET = load_config(DEMO_CONFIG).by_code()["CL01"]  # at most 40%, tolerance 2


def quality(numerator: int, denominator: int, failing: int, counted: int = 0) -> Quality:
    return Quality("CL01", "SSDA903", denominator, failing, counted, numerator, denominator,
                   ())


def result(value: float, rag: Rating, withheld: frozenset[str] = frozenset()
           ) -> IndicatorResult:
    return IndicatorResult("CL01", DEMO_CYCLE, value, None, None, None, None, rag,
                           Direction.NONE, (), 0, True, False, None, False, 100.0, False, (),
                           withheld=withheld)


def test_green_that_failing_records_could_make_red_says_so() -> None:
    """The issue's case: 38 of 100 not in education, employment or training (Green at
    most 40%), 14 with no activity recorded: at their worst 52%, Red."""
    q = quality(38, 100, 14)
    assert could_be(q, NEET, Rating.GREEN, 14, 0) is Rating.RED
    for words in (restricted_words, public_words):
        tail, _ = words(q, NEET, result(38.0, Rating.GREEN))
        assert tail == ", but could be Red: 14 records fail DfE rules"


def test_failing_records_that_cannot_cross_the_target_leave_the_rating_alone() -> None:
    q = quality(20, 100, 14)  # 20% to 34%: Green whatever the 14 are
    assert could_be(q, NEET, Rating.GREEN, 14, 0) is None
    tail, lines = restricted_words(q, NEET, result(20.0, Rating.GREEN))
    assert tail == "" and "14 records fail DfE rules" in lines[0]


def test_a_rating_never_checked_by_dfes_rules_is_not_a_plain_green() -> None:
    q = Quality("CL01", "SSDA903", 100, 0, 0, 20, 100, (), not_run="DfE's rules were not run")
    tail, _ = restricted_words(q, NEET, result(20.0, Rating.GREEN))
    assert tail == ", not checked against DfE's rules"


@pytest.mark.parametrize("failing", [1, 3, 5])
def test_public_wording_rests_on_no_count_of_1_to_5(failing: int) -> None:
    """A few failing records: "a few", and the rating judged at every count of 1 to 5, so
    the public words are the same whichever it is (and whichever are counted)."""
    said = {(tail, tuple(lines)) for c in range(failing + 1)
            for tail, lines in [public_words(quality(38, 100, failing, c), NEET,
                                             result(38.0, Rating.GREEN))]}
    ((tail, lines),) = said
    assert tail == ", but could be Red or Amber: a few records fail DfE rules"
    assert lines == ("Computed from 100 children's records, some of which have errors: a few "
                     "of them (5 or fewer) fail DfE's rules, so the figure may not be right.",)


def test_a_return_source_names_its_figures_and_refuses_unknown_ones() -> None:
    sources = Sources.model_validate({"sources": [
        {"name": "903", "files": "ssda903/*.csv", "layout": "ssda903",
         "indicators": {"CL01": "care_leavers_neet"}},
        {"name": "scorecard", "files": "*.csv", "layout": "long"}]})
    assert sources.is_return("ssda903/oc3.csv") and not sources.is_return("scorecard.csv")
    assert sources.match("scorecard.csv") is not None
    assert sources.priority("ssda903/oc3.csv") == 1 and sources.priority("scorecard.csv") == 0
    with pytest.raises(ValidationError, match="care_leavers_neat"):
        Sources.model_validate({"sources": [{"name": "903", "files": "x/*.csv",
                                             "layout": "ssda903",
                                             "indicators": {"CL01": "care_leavers_neat"}}]})


def test_a_cycle_no_export_briefs_is_not_made_by_a_return_alone(tmp_path: Path) -> None:
    """A return computes a figure for any cycle asked: a cycle with no exported figure (a
    typo in --cycle) is still "no figures for the cycle", not a paper of one figure."""
    exports = _exports(tmp_path)
    ssda903(exports / "ssda903")
    with pytest.raises(NoFiguresForCycle):
        validate_exports(DEMO_CONFIG, exports, "2024-11", today=TODAY,
                                  allow_empty=False)


def test_collection_year_of_a_cycle() -> None:
    assert [collection_year_of(c) for c in ("2024-03", "2024-04", "2024-10", "2025",
                                            "2024-Q4")] == [2024, 2025, 2025, 2025, 2025]


def _exports(tmp_path: Path) -> Path:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "scorecard.csv").write_text(
        "Indicator,Period,Value,Numerator,Denominator,Authority\n"
        f"FD01,{DEMO_CYCLE},95,,,999\n", encoding="utf-8")
    return exports


def test_a_return_for_another_year_stops_the_run_naming_the_file(tmp_path: Path) -> None:
    exports = _exports(tmp_path)
    with (exports / "scorecard.csv").open("a", encoding="utf-8") as fh:
        fh.write("FD01,2023-10,95,,,999\n")
    ssda903(exports / "ssda903")
    inputs = validate_exports(DEMO_CONFIG, exports, "2023-10", today=TODAY)
    assert not inputs.ok
    (fault,) = [p for p in inputs.problems if p.severity.value == "error"]
    assert fault.file == "ssda903/episodes.csv" and "year ending March 2024" in fault.message


def test_a_table_without_a_column_stops_the_run_naming_file_and_column(tmp_path: Path
                                                                        ) -> None:
    exports = _exports(tmp_path)
    ssda903(exports / "ssda903")
    oc3 = exports / "ssda903" / "oc3.csv"
    oc3.write_text(oc3.read_text().replace("ACTIV,", "ACTIVITY,"))
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    faults = [p for p in inputs.problems if p.severity.value == "error"]
    assert not inputs.ok and [(p.file, p.row) for p in faults if "no column ACTIV" in
                              p.message] == [("ssda903/oc3.csv", 1)]


def test_a_figure_the_council_also_exports_is_a_finding_naming_both(tmp_path: Path) -> None:
    """CL01 exported as 52% and computed from the records as 1 of 3: the records' figure
    is used, and the difference is a warning naming both files and both values."""
    exports = _exports(tmp_path)
    with (exports / "scorecard.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"CL01,{DEMO_CYCLE},52,52,100,999\n")
    ssda903(exports / "ssda903", unrecorded_activity=())
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    (finding,) = [p for p in inputs.problems if p.kind == "disagreement"]
    assert finding.severity.value == "warning" and finding.indicator == "CL01"
    # computed from the records: no row (it said "row 1", the file's header)
    assert "ssda903/oc3.csv: 33.3333" in finding.message and finding.row is None
    assert "scorecard.csv row 3: 52" in finding.message
    assert "ssda903/oc3.csv's figure is used (its source's priority, 1 over 0)" in \
        finding.message
    used = inputs.records.set_index(["indicator", "period"]).loc[("CL01", DEMO_CYCLE)]
    assert (used["numerator"], used["denominator"]) == (1, 3)


@pytest.mark.slow
def test_a_planted_oc3_error_gives_could_be_red_and_the_workbook_names_the_child(
        tmp_path: Path) -> None:
    """DfE's rules, run by the real validators over a return the test makes: a care leaver
    with no activity recorded (rule 132) could make CL01 Red; the restricted paper says so
    beside the figure, the data-quality workbook names the child and rule, and the public
    edition (the figure is about 3 children: withheld) names no child."""
    exports = _exports(tmp_path)
    ssda903(exports / "ssda903", unrecorded_activity=("CL2",))
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    assert inputs.ok and "ssda903/oc3.csv" in inputs.files
    start_checks(inputs.child_returns, True)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    restricted = edition_figures(inputs, analysed, Edition.RESTRICTED)
    ctx = build_context(inputs.config, restricted, DEMO_CYCLE)
    view = next(v for area in ctx.areas for v in area.indicators if v.code == "CL01")
    assert view.value == "33.3%"
    assert view.rag_label == "Green, but could be Red: 1 record fails DfE rules"
    assert any("rests on 3 records; 1 record fails DfE rules" in n and "rule 132" in n
               for n in view.notes)
    book = load_workbook(io.BytesIO(quality_workbook(inputs.child_returns, "999", DEMO_CYCLE,
                                                     ctx_time())))
    rows = list(book["Failing records"].iter_rows(min_row=2, values_only=True))
    assert ("CL2", "SSDA903", "OC3", "oc3.csv", 3, "132") in [r[:6] for r in rows]
    assert all(r[0] == "CL2" for r in rows if r[5] == "132")
    assert next(r for r in rows if r[5] == "132")[7] == "CL01"
    public = edition_figures(inputs, analysed, Edition.PUBLIC)
    html = render_html(build_context(inputs.config, public, DEMO_CYCLE))
    assert not {"CL1", "CL2", "CL3", "LAC1", "LAC2"} & set(BeautifulSoup(
        html, "html.parser").get_text(" ").split())


def ctx_time() -> datetime:
    return datetime(2024, 11, 8, 9, 0)


def xlsx_text(data: bytes) -> str:
    """Every part of a workbook as text (its cells are in the zipped XML)."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return "".join(book.read(n).decode("utf-8") for n in book.namelist())


LEAVER_CODES = ["F1", "P2", "F4", "G4", "G5", "G6", "", "0"]


@st.composite
def returns(draw: st.DrawFn) -> tuple[list[dict[str, str]], list[str]]:
    """A few care leavers with random ids, birthdays and activities; the ids DfE's rules
    are said to fail."""
    n = draw(st.integers(1, 14))
    ids = draw(st.lists(st.from_regex(r"ZQ[0-9A-Z]{5}", fullmatch=True), min_size=n,
                        max_size=n, unique=True))
    rows = []
    for child in ids:
        age, day = draw(st.integers(19, 21)), draw(st.integers(0, 200))
        born = f"{1 + day % 28:02d}/{4 + day // 40:02d}/{2024 - age}"
        rows.append({"CHILD": child, "DOB": born, "IN_TOUCH": "YES", "ACCOM": "B1",
                     "ACTIV": draw(st.sampled_from(LEAVER_CODES))})
    failing = draw(st.lists(st.sampled_from(ids), unique=True))
    return rows, failing


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=returns())
def test_no_child_id_in_any_public_output_or_log(
        tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture,
        drawn: tuple[list[dict[str, str]], list[str]]) -> None:
    """Over random small returns and random failing records: the public edition's paper,
    workbook, open data and every log line hold no child id; the restricted data-quality
    workbook is the one place they are (the paper names none either)."""
    leavers, failing = drawn
    exports = _exports(tmp_path_factory.mktemp("ids"))
    folder = exports / "ssda903"
    folder.mkdir()
    header = [{"CHILD": r["CHILD"], "SEX": "F", "DOB": r["DOB"], "ETHNIC": "WBRI"}
              for r in leavers]
    episode = {"CHILD": leavers[0]["CHILD"], "DECOM": "01/05/2024", "RNE": "S", "LS": "C2",
               "CIN": "N1", "PLACE": "U1", "PLACE_PROVIDER": "PR1"}
    for name, rows in (("header", header), ("episodes", [episode]), ("oc3", leavers)):
        write_table(folder, name, [{c: r.get(c, "") for c in COLUMNS[name]} for r in rows])
    caplog.set_level(logging.DEBUG)
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    assert inputs.ok
    report = ValidationReport("ssda903", 2025, messages={"132": "Activity not valid."},
                              issues=[RuleIssue("132", "OC3", "oc3.csv", i + 1, i + 2, child)
                                      for i, child in enumerate(failing)])
    ret: ReturnRead = inputs.child_returns[0]
    ret._future = _done(Checks(report))
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    ids = {r["CHILD"] for r in leavers}
    for edition in Edition:
        figures = edition_figures(inputs, analysed, edition)
        ctx = build_context(inputs.config, figures, DEMO_CYCLE)
        text = render_html(ctx) + repr(ctx)
        if edition is Edition.PUBLIC:
            text += xlsx_text(briefing_workbook(inputs.config, figures, DEMO_CYCLE,
                                                ctx_time()))
            text += open_data_csv(inputs.config, figures, DEMO_CYCLE).decode()
        assert not {i for i in ids if i in text}, edition
    assert not {i for i in ids if i in caplog.text}
    book = load_workbook(io.BytesIO(quality_workbook(inputs.child_returns, "999", DEMO_CYCLE,
                                                     ctx_time())))
    named = {r[0] for r in book["Failing records"].iter_rows(min_row=2, values_only=True)}
    assert named == set(failing)
    shutil.rmtree(exports)


def test_init_drafts_a_folder_of_903_tables_and_a_cin_census_as_returns(tmp_path: Path
                                                                       ) -> None:
    """`briefing init`: a folder holding DfE's SSDA903 tables becomes a source of kind
    ssda903 (its indicators a TODO), a CIN census one of kind cin_census; both parse."""
    import yaml

    from tasks.returns.drafting import draft_returns
    from tests.returns_factory import cin_census

    exports = _exports(tmp_path)
    ssda903(exports / "case system 903")
    (exports / "case system 903" / "notes.csv").write_text("a,b\n1,2\n")
    cin_census(exports / "cin.xml")
    lines, notes = draft_returns(exports)
    drafted = Sources.model_validate(yaml.safe_load("sources:\n" + "\n".join(lines)))
    assert [(s.layout, s.files) for s in drafted.sources] == [
        ("ssda903", "case system 903/*.csv"), ("cin_census", "cin.xml")]
    assert "Episodes, Header, OC3" in lines[2] and "TODO" in lines[3]
    assert notes[0].startswith("case system 903/: an SSDA903 return (3 tables)")


@pytest.mark.slow
def test_validate_runs_dfes_rules_and_prints_counts_never_a_child_id(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    from flows.cli import main

    exports = _exports(tmp_path)
    ssda903(exports / "ssda903", unrecorded_activity=("CL2",))
    monkeypatch.setenv("BRIEFING_RETURN_RULES", "on")
    main(["validate", "--config", str(DEMO_CONFIG), "--exports", str(exports), "--cycle",
          DEMO_CYCLE])
    out = capsys.readouterr().out
    assert ("WARNING: ssda903/*.csv: SSDA903 return: 1 record fails DfE rule 132 (Data entry "
            "for activity after leaving care is invalid)") in out
    assert not {"CL1", "CL2", "CL3", "LAC1", "LAC2"} & set(re.findall(r"\w+", out))


def _checked(issues: list[RuleIssue]) -> Checks:
    report = ValidationReport("ssda903", 2025, messages={"132": "ACTIV is not valid."},
                              issues=issues)
    return Checks(report)


def _neet(children: set[str], counted: set[str]) -> Computed:
    figure = Figure("care_leavers_neet", 100.0 * len(counted) / len(children), len(counted),
                    len(children), frozenset(children), frozenset(counted))
    return Computed("care_leavers_neet", figure, "OC3")


def test_a_child_id_in_lower_case_is_matched_to_the_validators_upper_cased_one() -> None:
    """DfE's SSDA903 reader upper-cases every cell: "cl2 " (as the council wrote it) fails
    rule 132 as "CL2 "; the figure resting on it must count it, not show a plain Green."""
    computed = _neet({"cl1", "cl2", "Cl3"}, {"cl1"})
    issue = RuleIssue("132", "OC3", "oc3.csv", 2, 3, "CL2 ")
    q = figure_quality("CL01", computed, _checked([issue]), "ssda903", frozenset(
        {"CL1", "CL2", "CL3"}))
    assert (q.failing, q.failing_counted, q.unmatched) == (1, 0, 0)
    assert child_key(" 007ab ", "ssda903") == "007AB"  # leading zeros kept, as theirs are
    assert child_key("ab", "cin_census") == "ab"  # the CIN reader keeps the case


def test_a_failing_record_the_run_cannot_match_counts_against_the_figure() -> None:
    """A finding with no id, or one no record of ours holds, could be any record of the
    table: it counts against the figure (at the worst in or out), never dropped."""
    computed = _neet({"A", "B"} | {f"K{i}" for i in range(98)}, {f"K{i}" for i in range(38)})
    lost = [RuleIssue("132", "OC3", "oc3.csv", 7, 8, None),
            RuleIssue("132", "OC3", "oc3.csv", 9, 10, "ZZ9")]
    q = figure_quality("CL01", computed, _checked(lost), "ssda903", frozenset({"A", "B"}))
    assert (q.failing, q.unmatched) == (2, 2)
    assert could_be(q, NEET, Rating.GREEN, q.failing, q.failing_counted) is None  # 36 to 40
    q14 = replace(q, failing=14, unmatched=14)
    assert could_be(q14, NEET, Rating.GREEN, 14, 0) is Rating.RED


def test_the_workbook_names_the_child_as_the_council_wrote_it(tmp_path: Path) -> None:
    """The validators' "CL2" is the council's "cl2": the workbook shows "cl2", and the
    indicators the record affects."""
    oc3 = pd.DataFrame({"CHILD": ["cl1", "cl2"], "DOB": ["01/01/2004"] * 2,
                        "IN_TOUCH": ["YES"] * 2, "ACTIV": ["G4", ""], "ACCOM": ["B1"] * 2})
    ret = ReturnRead("ssda903", "903", 2025, [tmp_path / "oc3.csv"], tmp_path,
                     figures={"CL01": _neet({"cl1", "cl2"}, {"cl1"})},
                     return_903=Return903(2025, {"OC3": oc3}, {"OC3": tmp_path / "oc3.csv"}),
                     _future=_done(_checked([RuleIssue("132", "OC3", "oc3.csv", 2, 3, "CL2")])))
    (row,) = failing_table([ret]).rows
    assert row[0] == "cl2" and row[7] == "CL01"


def test_a_date_that_is_no_real_day_counts_against_the_figure_and_is_named() -> None:
    """31/02/2004 left a care leaver out of NEET silently (52/100 became 40/80, Green): it
    is a finding on that record, which could be in the figure, so "could be Red"; and the
    workbook's row names the file, row, column, what was found and what was expected."""
    rows = [{"CHILD": f"k{i}", "DOB": "31/02/2004" if i < 20 else "01/06/2004",
             "IN_TOUCH": "YES", "ACTIV": "G4" if i < 52 else "F1", "ACCOM": "B1"}
            for i in range(100)]
    oc3 = pd.DataFrame(rows)
    assert [f.found for f in date_faults({"OC3": oc3})] == ["31/02/2004"] * 20
    ret = Return903(2025, {"OC3": oc3}, {"OC3": Path("oc3.csv")})
    faults = unreadable_dates(ret)
    assert (faults[0].file, faults[0].row, faults[0].detail) == (
        "oc3.csv", 2, "DOB is '31/02/2004': expected a date as DD/MM/YYYY")
    computed = _neet({f"k{i}" for i in range(20, 100)}, {f"k{i}" for i in range(20, 52)})
    q = figure_quality("CL01", computed, Checks(None, "DfE's rules were not run", True),
                       "ssda903", frozenset(f"K{i}" for i in range(100)), faults)
    assert (q.failing, q.unmatched) == (20, 20)
    tail, lines = restricted_words(q, NEET, result(40.0, Rating.GREEN))
    # Our date check is not one of DfE's rules: the words say which it is.
    assert tail == ", but could be Red: 20 records have a date the figures cannot read"
    assert "20 records have a date the figures cannot read: A date the figures" in lines[0]
    with_rule = figure_quality("CL01", computed, _checked([RuleIssue(
        "132", "OC3", "oc3.csv", 30, 31, "K25")]), "ssda903",
        frozenset(f"K{i}" for i in range(100)), faults)
    assert restricted_words(with_rule, NEET, result(40.0, Rating.GREEN))[0] == (
        ", but could be Red: 21 records fail DfE rules or have a date the figures cannot read")
    book = ReturnRead("ssda903", "903", 2025, [Path("oc3.csv")], Path("."),
                      figures={"CL01": computed}, return_903=ret, faults=faults,
                      _future=_done(_checked([])))
    first = failing_table([book]).rows[0]
    assert first[:6] == ["k0", "SSDA903", "OC3", "oc3.csv", 2, "date"] and first[7] == "CL01"


def test_a_rule_not_run_is_detailed_only_in_the_restricted_edition() -> None:
    """The public appendix showed "rule 231 could not be run: raised KeyError at
    lac_validator/rule_231.py line 27": it says only that some rules could not be run."""
    report = ValidationReport("ssda903", 2025, not_run=[RuleNotRun(
        "231", "raised KeyError at lac_validator/rule_231.py line 27")])
    ret = ReturnRead("ssda903", "903", 2025, [], Path("."), pattern="ssda903/*.csv",
                     _future=_done(Checks(report)))
    public = [p.as_line() for p in rule_problems([ret], Edition.PUBLIC)]
    assert public == ["INFO: ssda903/*.csv: SSDA903 return: some of DfE's rules could not "
                      "be run over it"]
    restricted = " ".join(p.message for p in rule_problems([ret], Edition.RESTRICTED))
    assert "rule 231 could not be run: raised KeyError at lac_validator" in restricted


def _with_team(config: Path, oc3: Path, teams: list[str]) -> None:
    """The demo's config with its SSDA903 broken down by TEAM, and that column in OC3."""
    import csv

    import yaml

    shutil.copytree(DEMO_CONFIG, config)
    sources = yaml.safe_load((config / "sources.yaml").read_text())
    (s903,) = [s for s in sources["sources"] if s["layout"] == "ssda903"]
    s903["breakdowns"] = ["TEAM"]
    (config / "sources.yaml").write_text(yaml.safe_dump(sources))
    with oc3.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with oc3.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, [*rows[0], "TEAM"])
        out.writeheader()
        out.writerows({**r, "TEAM": t} for r, t in zip(rows, teams, strict=True))


def test_a_computed_figure_is_broken_down_by_the_returns_own_team_column(tmp_path: Path
                                                                         ) -> None:
    """CL01 from three care leavers, CL3 not in education, employment or training: by TEAM,
    North 1 of 2 (CL1, CL3) and "Not recorded" 0 of 1 (CL2's cell blank); the parts add
    up to the figure, so no breakdown finding, and they replace the scorecard's own parts
    for the cycle (the computed figure is the one used)."""
    exports = _exports(tmp_path)
    shutil.copy(ROOT / "demo" / "exports" / "mosaic_breakdowns_2024-10.csv", exports)
    ssda903(exports / "ssda903", unrecorded_activity=())
    config = tmp_path / "config"
    _with_team(config, exports / "ssda903" / "oc3.csv", ["North", "", "North"])
    inputs = validate_exports(config, exports, DEMO_CYCLE, today=TODAY)
    assert inputs.ok
    parts = inputs.breakdowns[(inputs.breakdowns["indicator"] == "CL01")
                              & (inputs.breakdowns["period"] == DEMO_CYCLE)]
    got = sorted((r.breakdown, r.part, r.numerator, r.denominator)
                 for r in parts.itertuples())
    assert got == [("TEAM", "North", 1.0, 2.0), ("TEAM", "Not recorded", 0.0, 1.0)]
    assert not [p for p in inputs.problems if p.kind == "breakdown"
                and (p.indicator, p.period) == ("CL01", DEMO_CYCLE)]
    earlier = inputs.breakdowns[(inputs.breakdowns["indicator"] == "CL01")
                                & (inputs.breakdowns["period"] == "2024-09")]
    assert set(earlier["part"]) == {"Leaving Care North", "Leaving Care South"}


def test_a_breakdown_column_the_table_lacks_is_a_warning_naming_it(tmp_path: Path) -> None:
    exports = _exports(tmp_path)
    ssda903(exports / "ssda903", unrecorded_activity=())
    config = tmp_path / "config"
    _with_team(config, exports / "ssda903" / "oc3.csv", ["North", "", "North"])
    oc3 = exports / "ssda903" / "oc3.csv"
    oc3.write_text(oc3.read_text().replace("TEAM", "LOCALITY"))
    inputs = validate_exports(config, exports, DEMO_CYCLE, today=TODAY)
    (warning,) = [p for p in inputs.problems if p.column == "TEAM"]
    assert warning.severity.value == "warning" and warning.file == "ssda903/oc3.csv"
    assert "the OC3 table has no column TEAM: CL01 is not broken down by it" in \
        warning.message


def test_childrens_records_among_the_exports_are_refused_quoting_no_cell(tmp_path: Path
                                                                         ) -> None:
    """The SSDA903's tables beside the scorecard, not in a folder of their own: `init`
    drafted episodes.csv as a wide scorecard whose indicator codes were child ids (261 in
    indicators.yaml) and printed them; a run would quote them in its findings. A file whose
    header has a child id column is refused whole, naming it, quoting no cell."""
    from tasks.drafting.draft import draft_config

    exports = _exports(tmp_path)
    for path in ssda903(tmp_path / "903"):
        shutil.copy(path, exports / path.name)
    # The same records as a workbook, their header under a title row, the id spelt as the
    # CIN census spells it.
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["Children in need, October"], ["LAchildID", "Referral"],
                ["CL1", "2024-06-01"], ["CL2", "2024-07-01"]):
        sheet.append(row)
    book.save(exports / "cin_children.xlsx")
    ids = {"LAC1", "LAC2", "CL1", "CL2", "CL3"}
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    refused = [p for p in inputs.problems if "holds children's records" in p.message]
    assert sorted(p.file for p in refused) == ["cin_children.xlsx", "episodes.csv",
                                               "header.csv", "oc3.csv"]
    assert all(p.severity.value == "error" for p in refused)
    assert not any(i in p.message for p in inputs.problems for i in ids)
    written, notes = draft_config(exports, tmp_path / "config")
    text = "\n".join(notes) + "".join(p.read_text() for p in written)
    assert not {i for i in ids if i in text}
    assert sum("holds children's records" in n for n in notes) == 4
