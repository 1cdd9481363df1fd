"""A CIN census in a run: a source of kind cin_census read once by our own reader, its
figures computed for the cycle among the records, each with its data quality from DfE's
rules (the real validators), the restricted data-quality workbook naming the child by
LAchildID, and no child id in the public edition (docs/returns.md)."""

from __future__ import annotations

import io
import logging
import shutil
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from tasks.presenting.context import build_context
from tasks.presenting.render import render_html
from tasks.presenting.spreadsheets import briefing_workbook, open_data_csv
from tasks.returns.quality import known_children, rule_problems
from tasks.returns.reading import Checks, _done, start_checks
from tasks.returns.validators import RuleIssue, ValidationReport
from tasks.returns.workbook import quality_workbook
from tasks.run.analysis import compare_with_history
from tasks.run.inputs import validate_exports
from tasks.run.papers import edition_figures
from tasks.settings.formatting import Edition
from tasks.store.history import MemoryHistoryStore
from tests.conftest import DEMO_CONFIG, DEMO_CYCLE, TODAY
from tests.integration.test_returns_run import _exports, xlsx_text

# (child id, assessment start, authorised): three within 45 working days, and CA4's
# authorised before it started (DfE rule 8608): in the total, not in time, as DfE counts a
# conference dated before its enquiry.
ASSESSMENTS = (("CA1", "2024-05-01", "2024-06-10"), ("CA2", "2024-06-03", "2024-07-01"),
               ("CA3", "2024-07-01", "2024-08-20"), ("CA4", "2024-08-12", "2024-08-02"))


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def census(path: Path, assessments: tuple[tuple[str, str, str], ...] = ASSESSMENTS, *,
           lea: str = "999", year: str = "2025") -> Path:
    """A CIN census in DfE's schema: each child referred on the day an assessment starts
    that is authorised (the episode still open)."""
    root = ET.Element("Message")
    header = _add(root, "Header")
    details = _add(header, "CollectionDetails")
    for tag, text in (("Collection", "CIN"), ("Year", year),
                      ("ReferenceDate", f"{year}-03-31")):
        _add(details, tag, text)
    source = _add(header, "Source")
    for tag, text in (("SourceLevel", "L"), ("LEA", lea), ("SoftwareCode", "Local"),
                      ("Release", "ver 1"), ("SerialNo", "1"),
                      ("DateTime", "2024-11-01T10:00:00")):
        _add(source, tag, text)
    children = _add(root, "Children")
    for child_id, start, authorised in assessments:
        child = _add(children, "Child")
        ids = _add(child, "ChildIdentifiers")
        for tag, text in (("LAchildID", child_id), ("UPN", "A123456789012"),
                          ("PersonBirthDate", "2015-04-01"), ("Sex", "M")):
            _add(ids, tag, text)
        _add(_add(child, "ChildCharacteristics"), "Ethnicity", "WBRI")
        episode = _add(child, "CINdetails")
        for tag, text in (("CINreferralDate", start), ("ReferralSource", "1A"),
                          ("PrimaryNeedCode", "N1"), ("ReferralNFA", "false")):
            _add(episode, tag, text)
        assessment = _add(episode, "Assessments")
        _add(assessment, "AssessmentActualStartDate", start)
        _add(assessment, "AssessmentAuthorisationDate", authorised)
        _add(_add(assessment, "FactorsIdentifiedAtAssessment"), "AssessmentFactors", "1A")
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def test_a_census_figure_is_computed_for_the_cycle_and_filed_under_its_file(
        tmp_path: Path) -> None:
    """AS01 from the census: 3 of 4 assessments authorised within 45 working days (CA4's,
    authorised before it started, is in the total and not in time)."""
    exports = _exports(tmp_path)
    census(exports / "cin" / "cin_census.xml")
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    assert inputs.ok, [p.message for p in inputs.problems if p.severity.value == "error"]
    used = inputs.records.set_index(["indicator", "period"]).loc[("AS01", DEMO_CYCLE)]
    assert (used["value"], used["numerator"], used["denominator"]) == (75.0, 3, 4)
    assert "cin/cin_census.xml" in inputs.files
    (ret,) = inputs.child_returns
    assert known_children(ret) == frozenset({"CA1", "CA2", "CA3", "CA4"})


def test_a_census_for_another_authority_stops_the_run_naming_the_file(tmp_path: Path
                                                                      ) -> None:
    exports = _exports(tmp_path)
    census(exports / "cin" / "cin_census.xml", lea="201")
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    (fault,) = [p for p in inputs.problems if p.severity.value == "error"]
    assert not inputs.ok and fault.file == "cin/cin_census.xml"
    assert "authority with DfE code '201': expected 999" in fault.message


def test_two_census_files_for_one_source_stop_the_run_naming_both(tmp_path: Path) -> None:
    exports = _exports(tmp_path)
    census(exports / "cin" / "a.xml")
    census(exports / "cin" / "b.xml")
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    (fault,) = [p for p in inputs.problems if p.severity.value == "error"]
    assert "cin/a.xml, cin/b.xml" in fault.message and "expected one CIN census" in \
        fault.message


def test_a_census_date_that_is_no_real_day_leaves_the_figure_and_is_named(tmp_path: Path
                                                                         ) -> None:
    exports = _exports(tmp_path)
    census(exports / "cin" / "cin_census.xml",
           (*ASSESSMENTS[:3], ("CA4", "2024-08-12", "2024-02-31")))
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    used = inputs.records.set_index(["indicator", "period"]).loc[("AS01", DEMO_CYCLE)]
    assert (used["numerator"], used["denominator"]) == (3, 3)  # CA4's leaves the figure
    (ret,) = inputs.child_returns
    (fault,) = ret.faults
    assert (fault.table, fault.file, fault.record) == ("Assessments", "cin/cin_census.xml", 4)
    assert "AssessmentAuthorisationDate is '2024-02-31'" in (fault.detail or "")


@pytest.mark.slow
def test_a_planted_census_error_gives_could_be_green_and_the_workbook_names_the_child(
        tmp_path: Path) -> None:
    """The real validators over the census: CA4's assessment authorised before it started
    (rule 8608) is not in time, so AS01 is Red (75%), but had it been in time it would be
    Green (100%): the restricted paper says so, the workbook names CA4 and the rule, and
    the public edition names no child."""
    exports = _exports(tmp_path)
    census(exports / "cin" / "cin_census.xml")
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    start_checks(inputs.child_returns, True)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    restricted = edition_figures(inputs, analysed, Edition.RESTRICTED)
    ctx = build_context(inputs.config, restricted, DEMO_CYCLE)
    view = next(v for area in ctx.areas for v in area.indicators if v.code == "AS01")
    assert view.value == "75.0%"
    assert view.rag_label == "Red, but could be Green: 1 record fails DfE rules"
    assert any("Computed from the CIN census return: rests on 4 records" in n
               and "rule 8608" in n for n in view.notes)
    book = load_workbook(io.BytesIO(quality_workbook(
        inputs.child_returns, "999", DEMO_CYCLE, datetime(2024, 11, 5, 9, 0))))
    rows = list(book["Failing records"].iter_rows(min_row=2, values_only=True))
    planted = [r for r in rows if r[5] == "8608"]
    assert [(r[0], r[1], r[2], r[3]) for r in planted] == [
        ("CA4", "CIN census", "Assessments", "cin_census.xml")]
    assert planted[0][7] == "AS01"
    public = edition_figures(inputs, analysed, Edition.PUBLIC)
    html = render_html(build_context(inputs.config, public, DEMO_CYCLE))
    assert not {"CA1", "CA2", "CA3", "CA4"} & set(BeautifulSoup(
        html, "html.parser").get_text(" ").split())


def test_a_record_with_no_child_id_counts_against_the_figure_and_is_named(tmp_path: Path
                                                                        ) -> None:
    """A blank LAchildID left its assessment out of AS01 without a word (3 of 3, Green):
    it is a finding on its record, counted against the figure as one that may be in or
    out, so "could be Red", named in the appendix and in the workbook by record."""
    exports = _exports(tmp_path)
    census(exports / "cin" / "cin_census.xml", (*ASSESSMENTS[:3], ("", "2024-08-12",
                                                                   "2024-10-30")))
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    used = inputs.records.set_index(["indicator", "period"]).loc[("AS01", DEMO_CYCLE)]
    assert (used["numerator"], used["denominator"]) == (3, 3)
    (ret,) = inputs.child_returns
    blank = [f for f in ret.faults if f.rule == "id"]
    assert [(f.table, f.record, f.detail) for f in blank] == [
        ("ChildIdentifiers", 4, "LAchildID is blank: expected the child's id"),
        ("ChildCharacteristics", 4, "LAchildID is blank: expected the child's id"),
        ("CINdetails", 4, "LAchildID is blank: expected the child's id"),
        ("Assessments", 4, "LAchildID is blank: expected the child's id")]
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    ctx = build_context(inputs.config, edition_figures(inputs, analysed, Edition.RESTRICTED),
                        DEMO_CYCLE)
    view = next(v for area in ctx.areas for v in area.indicators if v.code == "AS01")
    assert view.rag_label.startswith("Green, but could be Red: 1 record has no child id")
    assert any("4 records with no child id" in p.message
               for p in rule_problems(inputs.child_returns, Edition.RESTRICTED))


def test_a_census_source_names_its_figures_and_refuses_unknown_ones() -> None:
    from pydantic import ValidationError

    from tasks.reading.sources import CinCensusSource, Sources

    sources = Sources.model_validate({"sources": [
        {"name": "CIN", "files": "cin/*.xml", "layout": "cin_census",
         "indicators": {"AS01": "assessments_in_45_days", "CP01": "cp_plans_rate"}}]})
    (source,) = sources.sources
    assert isinstance(source, CinCensusSource) and source.indicators["CP01"] == "cp_plans_rate"
    with pytest.raises(ValidationError, match="assessments_in_45_day"):
        Sources.model_validate({"sources": [{"name": "CIN", "files": "cin/*.xml",
                                             "layout": "cin_census",
                                             "indicators": {"AS01": "assessments_in_45_day"}}]})


def test_init_drafts_a_census_with_its_indicators_left_to_the_analyst(tmp_path: Path
                                                                      ) -> None:
    import yaml

    from tasks.reading.sources import Sources
    from tasks.returns.drafting import draft_returns

    exports = _exports(tmp_path)
    census(exports / "cin" / "census.xml")
    lines, notes = draft_returns(exports)
    drafted = Sources.model_validate(yaml.safe_load("sources:\n" + "\n".join(lines)))
    # The folder's glob: next month's census, named for its month, is read too.
    assert [(s.layout, s.files) for s in drafted.sources] == [("cin_census", "cin/*.xml")]
    assert any("indicators: {}" in line and "TODO" in line for line in lines)
    assert any("assessments_in_45_days" in line for line in lines)
    assert notes == ["cin/census.xml: a CIN census"]


def test_a_rate_from_the_census_without_a_population_is_an_error_naming_it(
        tmp_path: Path) -> None:
    """CP01 is a rate per 10,000: computed as cp_plans_rate it needs its population."""
    import shutil

    import yaml

    config = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, config)
    sources = yaml.safe_load((config / "sources.yaml").read_text())
    (cin,) = [s for s in sources["sources"] if s["layout"] == "cin_census"]
    cin["indicators"] = {"CP01": "cp_plans_rate"}
    sources.pop("population", None)
    (config / "sources.yaml").write_text(yaml.safe_dump(sources))
    indicators = yaml.safe_load((config / "indicators.yaml").read_text())
    for ind in indicators:
        ind.pop("population", None)
    (config / "indicators.yaml").write_text(yaml.safe_dump(indicators))
    exports = _exports(tmp_path)
    census(exports / "cin" / "cin_census.xml")
    inputs = validate_exports(config, exports, DEMO_CYCLE, today=TODAY)
    (fault,) = [p for p in inputs.problems if p.severity.value == "error"]
    assert fault.file == "indicators.yaml" and fault.indicator == "CP01"
    assert "computed as cp_plans_rate" in fault.message and "population" in fault.message


@st.composite
def censuses(draw: st.DrawFn) -> tuple[tuple[tuple[str, str, str], ...], list[str]]:
    """A few children with random ids, each with an assessment started and authorised on
    random days; the ids DfE's rules are said to fail."""
    n = draw(st.integers(1, 12))
    ids = draw(st.lists(st.from_regex(r"ZQ[0-9A-Z]{5}", fullmatch=True), min_size=n,
                        max_size=n, unique=True))
    rows = []
    for child in ids:
        start = date(2024, 4, 1) + timedelta(days=draw(st.integers(0, 180)))
        authorised = start + timedelta(days=draw(st.integers(-5, 80)))
        rows.append((child, start.isoformat(), authorised.isoformat()))
    return tuple(rows), draw(st.lists(st.sampled_from(ids), unique=True))


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=censuses())
def test_no_census_child_id_in_any_public_output_or_log(
        tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture,
        drawn: tuple[tuple[tuple[str, str, str], ...], list[str]]) -> None:
    """Over random small censuses and random failing records: both editions' papers, the
    public workbook and open data, and every log line hold no LAchildID; the restricted
    data-quality workbook is the one place they are."""
    assessments, failing = drawn
    exports = _exports(tmp_path_factory.mktemp("ids"))
    census(exports / "cin" / "cin_census.xml", assessments)
    caplog.set_level(logging.DEBUG)
    inputs = validate_exports(DEMO_CONFIG, exports, DEMO_CYCLE, today=TODAY)
    assert inputs.ok
    (ret,) = inputs.child_returns
    row = {child: n + 1 for n, (child, _, _) in enumerate(assessments)}
    ret._future = _done(Checks(ValidationReport(
        "cin_census", 2025, messages={"8608": "Assessment Start Date cannot be later."},
        issues=[RuleIssue("8608", "Assessments", "cin_census.xml", row[c], None, c)
                for c in failing])))
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    ids = {child for child, _, _ in assessments}
    for edition in Edition:
        figures = edition_figures(inputs, analysed, edition)
        ctx = build_context(inputs.config, figures, DEMO_CYCLE)
        text = render_html(ctx) + repr(ctx) + repr(ret)
        if edition is Edition.PUBLIC:
            when = datetime(2024, 11, 8, 9, 0)
            text += xlsx_text(briefing_workbook(inputs.config, figures, DEMO_CYCLE, when))
            text += open_data_csv(inputs.config, figures, DEMO_CYCLE).decode()
        assert not {i for i in ids if i in text}, edition
    assert not {i for i in ids if i in caplog.text}
    book = load_workbook(io.BytesIO(quality_workbook(inputs.child_returns, "999", DEMO_CYCLE,
                                                     datetime(2024, 11, 8, 9, 0))))
    named = {r[0] for r in book["Failing records"].iter_rows(min_row=2, values_only=True)}
    assert named == set(failing)
    shutil.rmtree(exports)


@pytest.mark.slow
def test_a_namespaced_census_is_checked_by_dfes_rules_as_a_plain_one(tmp_path: Path) -> None:
    """The validators' reader found no tag of a census with a default namespace and raised
    before any rule ran, so the paper showed a plain rating "not checked"."""
    from tasks.returns.validators import ReturnFile, run_validators

    plain = census(tmp_path / "plain.xml")
    spaced = tmp_path / "spaced.xml"
    spaced.write_text(plain.read_text(encoding="utf-8").replace(
        "<Message>", '<Message xmlns="http://www.dfe.gov.uk/CIN">'), encoding="utf-8")
    report = run_validators("cin_census", [ReturnFile(spaced)], 2025, only={"8608"})
    assert not report.not_run
    assert [i.child for i in report.failing("8608")] == ["CA4"]
