"""`briefing init`: a config drafted from the exports themselves, that `briefing validate`
passes or says exactly what is left to fill in, and that reads the same figures."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

from flows.cli import main
from tasks.adapters.outputs import in_set
from tasks.checking.reconcile import agree
from tasks.drafting.draft import draft_config, leftovers
from tasks.reading.sources import load_sources
from tasks.run.inputs import validate_exports
from tasks.settings.config import load_config
from tests.conftest import DEMO_CONFIG, DEMO_CYCLE, DEMO_EXPORTS, ROOT, TODAY
from tests.own_exports import CYCLE, write_council
from tests.unit.reading.test_published_layouts import absence_file


def figures(config: Path, exports: Path, cycle: str, today: date = TODAY) -> pd.DataFrame:
    inputs = validate_exports(config, exports, cycle, today=today)
    return inputs.records.set_index(["indicator", "period"]).sort_index()


@pytest.fixture(scope="module")
def demo_draft(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("init") / "config"
    draft_config(DEMO_EXPORTS, out)
    return out


def test_init_on_the_demo_gives_the_bundled_configs_figures(demo_draft: Path) -> None:
    bundled = figures(DEMO_CONFIG, DEMO_EXPORTS, DEMO_CYCLE)
    drafted = figures(demo_draft, DEMO_EXPORTS, DEMO_CYCLE)
    both = sorted(set(load_config(demo_draft).by_code()) & set(load_config(DEMO_CONFIG)
                                                              .by_code()))
    assert len(both) == 33  # every indicator the bundled catalogue has
    a = bundled.loc[bundled.index.get_level_values(0).isin(both)].copy()
    b = drafted.loc[drafted.index.get_level_values(0).isin(both)]
    # The bundled catalogue gives its rates per 10,000 a population (ONS), which stands as
    # their denominator; a draft cannot know it. Every figure is the same.
    populated = [i.code for i in load_config(DEMO_CONFIG).indicators if i.population]
    assert len(populated) == 4
    in_pop = a.index.get_level_values(0).isin(populated)
    assert not b.loc[b.index.get_level_values(0).isin(populated), "denominator"].notna().any()
    a.loc[in_pop, "denominator"] = float("nan")
    # The bundled catalogue computes four of the cycle's figures from the children's
    # records (its returns' `indicators:`); a draft leaves that to the analyst, so it reads
    # the scorecard's, which agree at the scorecard's precision (76.4 and 76.3889).
    computed = [(code, DEMO_CYCLE) for s in load_sources(DEMO_CONFIG).returns
                for code in s.indicators]
    assert sorted(c for c, _ in computed) == ["AS01", "CL01", "CP03", "FD03"]
    for key in computed:
        assert agree(float(a.at[key, "value"]), float(b.at[key, "value"])), key
        a.loc[key, ["value", "numerator", "denominator"]] = b.loc[
            key, ["value", "numerator", "denominator"]]
    pd.testing.assert_frame_equal(a, b)


def test_the_demo_draft_detects_layouts_and_says_what_each_guess_rests_on(
        demo_draft: Path) -> None:
    sources = load_sources(demo_draft).sources
    by_layout = {s.layout: s for s in sources}
    # The demo's SSDA903 folder and CIN census are drafted as returns (tasks.returns.drafting).
    assert set(by_layout) == {"long", "wide", "ssda903", "cin_census"}
    assert by_layout["ssda903"].files == "ssda903/*.csv"
    assert by_layout["cin_census"].files == "cin/*.xml"
    wide, long = by_layout["wide"], by_layout["long"]
    assert (wide.files, wide.sheet, wide.indicator_column, wide.title_column) == (  # type: ignore[union-attr]
        "analyst_scorecard_*.xlsx", "Scorecard", "Code", "Indicator")
    assert long.files == "mosaic_scorecard_*.csv"
    inds = load_config(demo_draft).by_code()
    assert inds["WF01"].title == "Social worker vacancy rate"
    assert inds["WF01"].service_area == "Workforce" and inds["YJ03"].service_area == "Youth justice"
    assert inds["WF01"].unit.value == "percent" and inds["YJ03"].unit.value == "count"
    assert inds["WF03"].unit.value == "number" and inds["FD01"].frequency.value == "monthly"
    text = (demo_draft / "indicators.yaml").read_text()
    assert "unit: percent  # guessed: written with %, or Excel percentage cells" in text
    assert "# TODO: higher_is_better or lower_is_better? The files do not say" in text


def test_validate_passes_the_draft_and_lists_what_is_left(
        demo_draft: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config", str(demo_draft), "--exports",
                 str(DEMO_EXPORTS)]) == 0
    out = capsys.readouterr().out.splitlines()
    todo = [line for line in out if line.startswith("TODO: ")]
    assert todo == leftovers(demo_draft) and len(todo) > 33
    assert any("indicators.yaml, line" in t and "owner: todo_owner" in t for t in todo)
    assert any("briefing.yaml" in t and "committee" in t for t in todo)
    assert out[-1].endswith(f"{len(todo)} TODO(s) left in the config")


def test_run_refuses_a_draft_until_the_todos_are_done(
        demo_draft: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--config", str(demo_draft), "--exports", str(DEMO_EXPORTS),
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "is a draft with" in err and "TODO" in err and not (tmp_path / "out").exists()


def test_init_on_a_councils_month_reads_its_targets_and_polarity(tmp_path: Path) -> None:
    config, exports = write_council(tmp_path)
    out = tmp_path / "draft"
    _, notes = draft_config(exports, out)
    inds = load_config(out).by_code()
    assert set(inds) == {"FD01", "CL01", "WF03", "YJ03", "ED03", "FN01"}
    assert (inds["FD01"].target, inds["FD01"].polarity.value) == (95, "higher_is_better")
    assert (inds["CL01"].target, inds["CL01"].polarity.value) == (40, "lower_is_better")
    assert (inds["WF03"].target, inds["WF03"].polarity.value) == (15, "lower_is_better")
    assert inds["ED03"].polarity.value == "lower_is_better"  # the scorecard's arrow
    assert inds["FN01"].unit.value == "money" and inds["CL01"].unit.value == "percent"
    assert inds["FD01"].title == "Contacts decided in 1 day"
    assert inds["CL01"].service_area == "Care leavers"
    text = (out / "indicators.yaml").read_text()
    assert "polarity: higher_is_better  # from the scorecard's 'Good is' column" in text
    assert "target: 95.0  # from the scorecard's 'Target' column" in text
    mosaic = next(s for s in load_sources(out).sources if s.layout == "long"
                  and s.files == "mosaic_*.csv")
    assert mosaic.columns == {"indicator": "Measure", "period": "Month",  # type: ignore[union-attr]
                              "value": "Result", "numerator": "Num", "denominator": "Den"}
    assert any("3 source(s), 6 indicator(s)" in n for n in notes)
    # The same figures as the hand-written config; the #DIV/0! withheld by both.
    nov = date(2024, 11, 1)
    assert figures(out, exports, CYCLE, nov).equals(figures(config, exports, CYCLE, nov))


def test_init_on_a_published_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    absence_file(exports / "outcomes_cin_absence_2022_to_2024.csv")
    out = tmp_path / "draft"
    draft_config(exports, out)
    (source,) = load_sources(out).sources
    assert source.layout == "dfe" and source.files == "outcomes_cin_absence_2022_to_2024.csv"
    measures = {m.indicator: m for m in source.measures}  # type: ignore[union-attr]
    pct = measures["PERSISTENT_ABSENCE_PERCENT"]
    # The most common breakdown (the autumn term row tips it), and the years, not the term.
    assert pct.where == {"social_care_group": "CLA", "time_identifier": "Academic year"}
    assert load_config(out).by_code()["PUPILS"].frequency.value == "annual"
    # What is left, the authority's code among them: with no code, there are no figures.
    assert main(["validate", "--config", str(out), "--exports", str(exports)]) == 2
    assert "TODO: the council's 3-digit DfE code" in capsys.readouterr().out
    brf = out / "briefing.yaml"
    brf.write_text(brf.read_text().replace("code: '000'  # TODO: the council's 3-digit DfE "
                                           "code", "code: '998'"))
    assert main(["validate", "--config", str(out), "--exports", str(exports)]) == 0
    assert figures(out, exports, "2024").loc[("PERSISTENT_ABSENCE_PERCENT", "2024"),
                                             "value"] == 23.9


def test_init_does_not_overwrite_without_force(demo_draft: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "config"
    shutil.copytree(demo_draft, out)
    (out / "briefing.yaml").write_text("kept: true\n")
    assert main(["init", "--exports", str(DEMO_EXPORTS), "--config", str(out)]) == 2
    assert "exists; give --force" in capsys.readouterr().err
    assert main(["init", "--exports", str(DEMO_EXPORTS), "--config", str(out),
                 "--force"]) == 0
    assert (out / "briefing.yaml").read_text() == "kept: true\n"  # never drafted over
    assert yaml.safe_load((out / "sources.yaml").read_text())["sources"]


def finish(draft: Path) -> None:
    """What the analyst does with the TODOs, done crudely: every placeholder kept as it is,
    the word TODO deleted."""
    import re

    for name in ("indicators.yaml", "owners.yaml", "briefing.yaml", "sources.yaml"):
        path = draft / name
        text = re.sub(r"\s*# TODO:.*", "", path.read_text())
        path.write_text(text.replace("TODO: ", ""))


@pytest.mark.slow
def test_from_the_files_to_the_first_paper(demo_draft: Path, tmp_path: Path,
                                           prefect_harness: None) -> None:
    """docs/sources.md, "Bring your own exports": init, finish, validate, run."""
    draft = tmp_path / "config"
    shutil.copytree(demo_draft, draft)
    finish(draft)
    assert leftovers(draft) == []
    assert main(["validate", "--config", str(draft), "--exports", str(DEMO_EXPORTS)]) == 0
    out = tmp_path / "out"
    assert main(["run", "--config", str(draft), "--exports", str(DEMO_EXPORTS),
                 "--out", str(out), "--cycle", DEMO_CYCLE]) == 0
    folder = out / "999" / DEMO_CYCLE
    assert in_set(folder, "briefing.pdf").read_bytes().startswith(b"%PDF")
    summary = yaml.safe_load(in_set(folder, "summary.json").read_text())
    assert len(summary["indicators"]) == 33


def test_one_stray_percent_cell_does_not_make_counts_a_percentage(tmp_path: Path) -> None:
    """A count written `12%` once, in slip, among eleven plain counts: the draft says count
    and names the slip; when most figures carry the sign, the sign decides."""
    exports = tmp_path / "exports"
    exports.mkdir()
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    rows = [f"LA09,Looked-after children placed far away,{p},{10 + i}"
            for i, p in enumerate(months)]
    rows[4] = rows[4].rsplit(",", 1)[0] + ",14%"
    rows += [f"LA10,Placement stability,{p},{60 + i}%" for i, p in enumerate(months)]
    rows[-1] = rows[-1].removesuffix("%")  # one without its sign
    (exports / "cms_2024-12.csv").write_text(
        "indicator,title,period,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    draft_config(exports, tmp_path / "draft")
    inds = load_config(tmp_path / "draft").by_code()
    assert inds["LA09"].unit.value == "count" and inds["LA10"].unit.value == "percent"
    text = (tmp_path / "draft" / "indicators.yaml").read_text()
    assert "but 1 of 12 figure(s) are written with %: check them" in text
    assert "written with %, or Excel percentage cells (11 of 12 figures)" in text


# Each measure of DfE's published files that the bundled config/dfe defines, by the code
# the draft gives it and the bundled config's.
DFE_SAME = {"REFERRAL_RATE": "REF_RATE", "REREFERRAL_PERCENT": "REREF",
            "NO_FURTHER_ACTION_PERCENT": "REF_NFA", "NOT_IN_NEED_PERCENT": "REF_NIN",
            "CPP_SUBSEQUENT_PERCENT": "CPP_REPEAT", "TURNOVER_RATE_FTE": "SW_TURNOVER",
            "AGENCY_RATE_FTE": "SW_AGENCY", "VACANCY_RATE_FTE": "SW_VACANCY",
            "CASELOAD_FTE": "SW_CASELOAD", "ABSENCE_RATE_FTE": "SW_ABSENCE",
            # one percentage per kind of row, over the file's "Total children" row
            "3_MORE_PLACEMENTS_YEAR": "CLA_3PLUS", "LIVING_SAME_CARER_2_YEARS": "CLA_LONGTERM"}


def test_init_on_dfes_published_files_drafts_measures_not_columns(tmp_path: Path) -> None:
    """A percentage's count is its numerator, not an indicator; a count of children is a
    rate per 10,000 with the population block drafted from ONS's file; "_rate" columns of
    the workforce file are percentages; a file with "Total" rows gives a percentage per
    kind of row over its total. With only the authority filled in, the draft gives
    the bundled config/dfe's figures for every measure both define (Torbay, 2013 to 2025)."""
    dfe = ROOT.parent / "shared" / "data" / "dfe"
    out = tmp_path / "draft"
    draft_config(dfe, out)
    brf = out / "briefing.yaml"
    brf.write_text(brf.read_text().replace("code: '000'", "code: '880'"))
    cfg = load_config(out)
    units = {i.code: i.unit.value for i in cfg.indicators}
    assert "REREFERRAL_COUNT" not in units and "POPULATION_ESTIMATE" not in units
    assert "CPP_SUBSEQUENT" not in units  # CPP_subsequent_percent's numerator
    assert "CHILDREN_COUNT" not in units and "CHILDREN_PERCENT" not in units
    assert cfg.by_code()["3_MORE_PLACEMENTS_YEAR"].title.startswith(
        "With 3 or more placements during the year (CLA on 31 March)")
    assert (units["REFERRAL_RATE"], units["TURNOVER_RATE_FTE"]) == ("rate_per_10k", "percent")
    assert [src.name for src in load_sources(out).sources] == [
        "Children in need referrals and rereferrals (DfE published statistics)",
        "Csww indicators (DfE published statistics)",
        "Cpps subsequent plan (DfE published statistics)",
        "La cla placement stability (DfE published statistics)"]  # not "C ... to"
    drafted = figures(out, dfe, "2025", date(2025, 6, 1))
    bundled = figures(ROOT / "config" / "dfe", dfe, "2025", date(2025, 6, 1))
    for mine, theirs in DFE_SAME.items():
        a, b = drafted.loc[mine, "value"], bundled.loc[theirs, "value"]
        assert len(a) >= 5 and a.equals(b), (mine, theirs)


@pytest.mark.parametrize(("title", "target"), [
    ("Re-referrals within 12 months (%)", ""),
    ("Re-referrals within 12 months", "<= 22%"),
    ("Percentage of re-referrals", ""),
])
def test_a_scorecards_percent_in_its_title_or_target_makes_a_percentage(
        title: str, target: str) -> None:
    """Issue 27: whole-number figures under a title "(%)" or a target "<= 22%" were drafted
    as counts (a regex put a word boundary before "%", which follows a bracket), so the
    council's "45%" cell was then an error."""
    from tasks.drafting.draft import _unit
    recs = pd.DataFrame({"value": [45.0, 38.0, 22.0], "numerator": [None] * 3,
                         "denominator": [None] * 3, "money_sign": [False] * 3,
                         "percent_sign": [False] * 3})
    assert _unit(recs, title, target).value == "percent"
    assert _unit(recs, "Re-referrals within 12 months", "<= 22").value == "count"
