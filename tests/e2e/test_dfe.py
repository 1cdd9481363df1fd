"""DfE's published files read through config/dfe/sources.yaml, checked against the published
figures, and the real-data briefing for Torbay and for any authority by code or name."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from tasks.reading.files import Limits
from tasks.reading.sources import load_sources
from tasks.run.analysis import Analysed, compare_with_history
from tasks.run.inputs import Inputs, validate_exports
from tasks.run.papers import edition_figures, render_briefing
from tasks.settings.config import ConfigError
from tasks.store.history import MemoryHistoryStore
from tests.conftest import ROOT, TODAY, render_without_pdfs

DFE = ROOT.parent / "shared" / "data" / "dfe"
CONFIG = ROOT / "config" / "dfe"
pytestmark = pytest.mark.skipif(not DFE.is_dir(), reason="../shared/data/dfe is not beside "
                                "the project")


@pytest.fixture(scope="module")
def torbay() -> tuple[Inputs, Analysed]:
    inputs = validate_exports(CONFIG, DFE, today=TODAY)
    return inputs, compare_with_history(inputs, MemoryHistoryStore())


def test_every_shared_file_is_mapped() -> None:
    sources = load_sources(CONFIG)
    for path in sorted(DFE.glob("*.csv")):
        assert sources.match(path.name) or sources.is_reference(path.name), path.name


def test_torbay_values_match_the_published_ones(
        torbay: tuple[Inputs, Analysed]) -> None:
    inputs, _ = torbay
    assert inputs.ok and inputs.cycle == "2025"
    assert inputs.config.briefing.authority.name == "Torbay"
    own = inputs.records.set_index(["indicator", "period"])["value"]
    assert own[("REREF", "2025")] == 24.3
    assert own[("REREF", "2014")] == 20.8 and own[("REREF", "2013")] == 29.4
    assert own[("CLA_3PLUS", "2021")] == 11.0
    # 1,768 referrals over the mid-2024 population of 0 to 17 year olds, per 10,000.
    assert own[("REF_RATE", "2025")] == 712.6
    assert len(inputs.records) == 120


@pytest.mark.parametrize(("code", "england"), [
    ("REREF", 22.6), ("CPP_REPEAT", 24.5), ("SW_CASELOAD", 15.2), ("SW_AGENCY", 13.0),
    ("SW_VACANCY", 14.2), ("SW_TURNOVER", 11.8), ("CLA_3PLUS", 10.0), ("CLA_LONGTERM", 69.0),
    ("REF_RATE", 519.4),
])
def test_england_benchmarks_2025(torbay: tuple[Inputs, Analysed], code: str,
                                 england: float) -> None:
    b = torbay[1].benchmarks.set_index("code")
    assert b.loc[code, "england"] == england and b.loc[code, "period"] == "2025"
    assert b.loc[code, "region_name"] == "South West"


def test_neighbours_leave_out_suppressed_values_with_reason(
        torbay: tuple[Inputs, Analysed]) -> None:
    inputs, analysed = torbay
    b = analysed.benchmarks.set_index("code").loc["REF_NFA"]
    assert b["sn_count"] == 9 and b["sn_missing"] == ["Redcar and Cleveland (c)"]
    pub = inputs.benchmarks
    sn = pub[(pub["indicator"] == "REF_NFA") & (pub["period"] == "2025")
             & pub["area"].isin(inputs.neighbours["880"])
             & (pub["level"] == "Local authority")]
    assert sn["value"].isna().sum() == 1 and (sn["reason"] == "c").sum() == 1
    assert b["sn_mean"] == pytest.approx(sn["value"].dropna().mean())
    # Never zero: counting the suppressed cell as 0 would give a different, lower mean.
    assert b["sn_mean"] != pytest.approx(sn["value"].fillna(0).mean())


def test_rank_and_quartile(torbay: tuple[Inputs, Analysed]) -> None:
    inputs, analysed = torbay
    b = analysed.benchmarks.set_index("code").loc["REREF"]
    pub = inputs.benchmarks
    la = pub[(pub["indicator"] == "REREF") & (pub["period"] == "2025")
             & (pub["level"] == "Local authority")]["value"].dropna()
    assert b["of"] == len(la) and b["rank"] == int((la < 24.3).sum()) + 1  # lower is better
    assert b["quartile"] == 4
    # Neither higher nor lower is better: ranked from the highest, a place, not a verdict.
    rate = analysed.benchmarks.set_index("code").loc["REF_RATE"]
    la = pub[(pub["indicator"] == "REF_RATE") & (pub["period"] == "2025")
             & (pub["level"] == "Local authority")]["value"].dropna()
    assert rate["rank"] == int((la > 712.6).sum()) + 1 and rate["of"] == len(la)


def test_ties_share_a_rank_and_the_next_is_skipped() -> None:
    """As Excel's RANK and DfE's LA Interactive Tool rank: 1, 2, 2, 4."""
    from tasks.analysing.benchmarks import rank_among
    from tasks.settings.config import Polarity

    values = pd.Series([10.0, 12.0, 12.0, 15.0])
    lower = [rank_among(values, v, Polarity.LOWER_IS_BETTER)[0] for v in values]
    higher = [rank_among(values, v, Polarity.HIGHER_IS_BETTER)[0] for v in values]
    assert lower == [1, 2, 2, 4] and higher == [4, 2, 2, 1]
    assert rank_among(values, 12.0, Polarity.NEUTRAL) == (2, 4, 2)  # from the highest


def test_totals_row_denominators(torbay: tuple[Inputs, Analysed]) -> None:
    """Looked-after children's denominators sit in a "Total children" row."""
    own = torbay[0].records.set_index(["indicator", "period"])
    assert own.loc[("CLA_3PLUS", "2025"), ["numerator", "denominator"]].tolist() == [44, 282]
    assert own.loc[("CLA_LONGTERM", "2025"), ["numerator", "denominator"]].tolist() == [65, 102]


def test_any_authority_by_code_or_name() -> None:
    by_name = validate_exports(CONFIG, DFE, authority="barnet", today=TODAY)
    by_code = validate_exports(CONFIG, DFE, authority="302", today=TODAY)
    assert by_name.config.briefing.authority.code == "302"
    assert by_code.config.briefing.authority.name == "Barnet"
    assert by_name.records.equals(by_code.records) and len(by_name.records) > 50
    with pytest.raises(ConfigError, match="did you mean Torbay"):
        validate_exports(CONFIG, DFE, authority="Torb", today=TODAY)


@pytest.mark.slow  # both editions' PDFs
def test_real_briefing_renders_with_benchmarks(
        torbay: tuple[Inputs, Analysed]) -> None:
    inputs, analysed = torbay
    rendered = render_briefing(inputs, analysed, datetime(2025, 11, 1).astimezone())
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert "Torbay" in soup.get_text()
    heads = [th.get_text(strip=True) for th in soup.select("#areas table.indicators thead th")]
    assert {"England", "Neighbours", "Rank"} <= set(heads)
    row = soup.select_one("#row-REREF")
    assert row is not None and "129th of 153" in row.get_text()
    assert "Redcar and Cleveland (c)" in soup.get_text()
    assert rendered.pdf.startswith(b"%PDF")


def test_history_and_year_ago_for_annual_cycles(
        torbay: tuple[Inputs, Analysed]) -> None:
    a = torbay[1].analysis.set_index("code")
    assert a.loc["REREF", "previous_period"] == "2024"
    assert a.loc["REREF", "year_ago"] == a.loc["REREF", "previous"]
    assert a.loc["SW_ABSENCE", "deep_dive"] and a.loc["SW_ABSENCE", "consecutive_declines"] >= 2


def test_published_files_are_read_once_per_process(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A regional run briefs every authority from the same files: each is parsed once,
    every authority gets its own records and the same findings, and a file that changes
    is read again."""
    from tasks.reading import ingest

    exports = tmp_path / "dfe"
    shutil.copytree(DFE, exports)
    reads: list[str] = []
    real = ingest.read_dfe_csv

    def counting(path: Path, limits: Limits | None = None) -> pd.DataFrame:
        reads.append(path.name)
        return real(path, limits)

    monkeypatch.setattr(ingest, "read_dfe_csv", counting)
    sources = load_sources(CONFIG)
    torbay = ingest.read_exports(exports, sources, "880")
    first = len(reads)
    barnet = ingest.read_exports(exports, sources, "302")
    again = ingest.read_exports(exports, sources, "880")
    assert len(reads) == first == 6  # four tidy files, population, neighbours
    assert set(torbay.records["authority"]) == {"880"} and set(barnet.records["authority"]) \
        == {"302"}
    pd.testing.assert_frame_equal(again.records, torbay.records)
    assert again.problems == torbay.problems and again.neighbours == torbay.neighbours
    changed = exports / "csww_indicators_2017_to_2025.csv"
    changed.write_text(changed.read_text() + "\n")
    ingest.read_exports(exports, sources, "880")
    assert reads[first:] == [changed.name]


def test_whole_number_percentages_print_as_published(
        torbay: tuple[Inputs, Analysed]) -> None:
    """DfE publishes placement stability as whole percentages (16, 19): the paper, both
    editions, the workbook and the owner's email print 16% and a change of −3 pts, not
    16.0% and −3.0 pts. A rate the run works out (referrals per 10,000) and a percentage
    published to a tenth keep one place."""
    import io

    from openpyxl import load_workbook

    from tasks.delivering.notify import plan_notices
    from tasks.presenting.spreadsheets import briefing_workbook
    from tasks.settings.formatting import Edition

    inputs, analysed = torbay
    decimals = {i.code: i.decimals for i in inputs.config.indicators}
    assert decimals["CLA_3PLUS"] == 0 and decimals["CLA_LONGTERM"] == 0
    assert decimals["REREF"] is None and decimals["REF_RATE"] is None
    rendered = render_without_pdfs(inputs, analysed)
    for edition, paper in rendered.editions.items():
        row = BeautifulSoup(paper.html, "html.parser").select_one("#row-CLA_3PLUS")
        assert row is not None, edition
        cells = [" ".join(td.get_text(" ", strip=True).split()) for td in row.select("td")]
        assert cells[0] == "16%" and cells[3] == "19%", (edition, cells)
        card = BeautifulSoup(paper.html, "html.parser").select_one("#exc-CLA_3PLUS tbody")
        assert card is not None
        figures = [" ".join(td.get_text(" ", strip=True).split()) for td in card.select("td")]
        assert figures[:3] == ["16%", "at most 10%", "19%"], figures
        assert figures[3].startswith("−3 pts"), figures
        reref = BeautifulSoup(paper.html, "html.parser").select_one("#row-REREF")
        assert reref is not None and "24.3%" in reref.get_text()
    figures = edition_figures(inputs, analysed, Edition.PUBLIC)
    wb = load_workbook(io.BytesIO(briefing_workbook(inputs.config, figures, inputs.cycle,
                                                    datetime(2025, 11, 1).astimezone())))
    ws = wb["Indicators"]
    head = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == "CLA_3PLUS")
    value, change = row[head.index("Value")], row[head.index("Change")]
    assert value.value == 0.16 and value.number_format == "0%"
    assert change.value == -3 and change.number_format == '+0" pts";-0" pts";"no change"'
    owner = next(n for n in plan_notices(inputs.config, rendered.contexts)
                 if "CLA_3PLUS" in n.indicators)
    assert "16%" in owner.text and "16.0%" not in owner.text


def test_decimals_in_indicators_yaml_still_decide(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    text = (config / "indicators.yaml").read_text()
    at = text.index("code: CLA_3PLUS")
    (config / "indicators.yaml").write_text(
        text[:at] + "decimals: 1\n  " + text[at:])
    inputs = validate_exports(config, DFE, today=TODAY)
    assert inputs.config.by_code()["CLA_3PLUS"].decimals == 1


def count_config(tmp_path: Path, population: bool = True) -> Path:
    """config/dfe with a count beside the rate: referrals in the year (Torbay 1,768)."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    with (config / "indicators.yaml").open("a") as fh:
        fh.write("- code: REF_COUNT\n  title: Referrals in the year\n  service_area: Front "
                 "door\n  unit: count\n  polarity: neutral\n  frequency: annual\n  owner: "
                 "head_front_door\n  definition: Referrals in the year.\n")
    src = config / "sources.yaml"
    text = src.read_text().replace(
        "      - indicator: REREF\n",
        "      - indicator: REF_COUNT\n        value: referral_count\n        where: "
        "{category: Referrals and Re-referrals}\n      - indicator: REREF\n", 1)
    if not population:  # no population block, and so no rate worked out from one
        text = text.replace("      - indicator: REF_RATE\n        rate_per_10k_of: "
                            "referral_count\n", "      - indicator: REF_RATE\n        "
                            "value: referral_count\n", 1)
        start = text.index("population:")
        text = text[:start] + text[text.index("sources:"):]
    src.write_text(text)
    return config


def test_a_count_is_compared_with_others_only_as_a_rate(tmp_path: Path) -> None:
    """Torbay's 1,768 referrals are not set beside England's hundreds of thousands, nor
    ranked by raw count: England, the region, the neighbours and the rank are per 10,000
    children, the same as the published rate's, and the paper says so."""
    inputs = validate_exports(count_config(tmp_path), DFE, today=TODAY)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    b = analysed.benchmarks.set_index("code")
    assert inputs.records.set_index(["indicator", "period"]).loc[("REF_COUNT", "2025"),
                                                                  "value"] == 1768
    assert b.loc["REF_COUNT", "basis"] == "per 10,000 children"
    for field in ("england", "region", "own", "rank", "of"):
        want = 712.6 if field == "own" else b.loc["REF_RATE", field]
        assert b.loc["REF_COUNT", field] == pytest.approx(want, abs=0.05), field
    for paper in render_without_pdfs(inputs, analysed).editions.values():
        row = BeautifulSoup(paper.html, "html.parser").select_one("#row-REF_COUNT")
        assert row is not None
        text = " ".join(row.get_text(" ", strip=True).split())
        assert "1,768" in text and "519.4 per 10,000 children; this authority 712.6" in text


def test_a_count_with_no_population_is_not_compared(tmp_path: Path) -> None:
    inputs = validate_exports(count_config(tmp_path, population=False), DFE,
                                       today=TODAY)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    assert "REF_COUNT" not in set(analysed.benchmarks["code"])
    said = [p.message for p in analysed.problems if p.indicator == "REF_COUNT"]
    assert said == ["REF_COUNT is a count: not compared with other authorities (England, "
                    "region, neighbours, rank), as no population makes it a rate per 10,000 "
                    "children (sources.yaml population:)"]


@pytest.mark.slow
def test_every_published_authority_is_briefed_or_named_without_figures() -> None:
    """Every authority in DfE's files is read, checked, compared and given its public paper
    (the HTML the PDF is made from), or has no figures for the year, as a regional run
    finds it: the whole of the published data, without the engine and the 158 PDFs
    (tests/e2e/test_scale_out.py spreads a sample of them over two workers)."""
    from tasks.presenting.context import build_context
    from tasks.presenting.render import render_html
    from tasks.reading.authorities import published_index
    from tasks.settings.formatting import Edition

    known, cycle = published_index(DFE, load_sources(CONFIG))
    briefed, without = [], []
    for code in sorted(known):
        inputs = validate_exports(CONFIG, DFE, str(cycle), authority=code,
                                           today=TODAY)
        assert inputs.ok, (code, [p.as_line() for p in inputs.problems][:3])
        if not (inputs.records["period"] == inputs.cycle).any():
            without.append(code)
            continue
        analysed = compare_with_history(inputs, MemoryHistoryStore())
        public = edition_figures(inputs, analysed, Edition.PUBLIC)
        html = render_html(build_context(inputs.config, public, inputs.cycle,
                                         inputs.commentary))
        assert known[code] in BeautifulSoup(html, "html.parser").get_text(), code
        briefed.append(code)
    assert len(briefed) >= 150 and "835" in without  # Dorset's old council: none since 2019
    assert len(briefed) + len(without) == len(known)
