"""What the paper and summary.json say about SPC: the rule set and its settings in the
method appendix (read from the analysis, never fixed in the template), "too few points for
SPC" under the SQL tool's rule, and NHSRplotthedots' short-series warning on the icons."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag

from tasks.delivering.summary import Summary, build_summary
from tasks.presenting.context import build_context
from tasks.presenting.render import render_html
from tasks.run.analysis import compare_with_history
from tasks.run.inputs import validate_exports
from tasks.run.papers import edition_figures
from tasks.settings.config import Config, SpcMethod
from tasks.settings.formatting import Edition
from tasks.store.history import MemoryHistoryStore
from tests.conftest import DEMO_CONFIG, DEMO_EXPORTS, ROOT, TODAY

DFE = ROOT.parent / "shared" / "data" / "dfe"
NOW = datetime(2025, 11, 5, 9, 30).astimezone()
needs_dfe = pytest.mark.skipif(not DFE.is_dir(), reason="../shared/data/dfe is not beside "
                               "the project")


def with_rules(config: Config, **rules: Any) -> Config:
    r = config.briefing.rules.model_copy(update=rules)
    return config.model_copy(update={"briefing": config.briefing.model_copy(update={"rules": r})})


def paper(config_dir: Path, exports: Path, **rules: Any) -> tuple[BeautifulSoup, dict[str, Any]]:
    """The public edition's HTML (no PDF) and summary.json's dictionary."""
    inputs = validate_exports(config_dir, exports, today=TODAY)
    inputs.config = with_rules(inputs.config, **rules)
    a = compare_with_history(inputs, MemoryHistoryStore())
    figures = edition_figures(inputs, a, Edition.PUBLIC)
    ctx = build_context(inputs.config, figures, inputs.cycle, inputs.commentary)
    restricted = edition_figures(inputs, a, Edition.RESTRICTED)
    summary = build_summary(inputs.config, restricted.results, restricted.problems, [],
                            inputs.cycle, NOW, a.revisions)
    # As written to summary.json, and read back through the model that defines it.
    summary = Summary.model_validate_json(summary.model_dump_json())
    return BeautifulSoup(render_html(ctx), "html.parser"), summary.model_dump(mode="json")


def text(node: Tag | None) -> str:
    assert node is not None
    return " ".join(node.get_text(" ").split())


def spc_bullet(soup: BeautifulSoup) -> str:
    items = [text(li) for li in soup.select("#method li")]
    return next(t for t in items if t.startswith("Statistical process control"))


def test_the_appendix_names_the_rule_set_and_its_settings() -> None:
    soup, summary = paper(DEMO_CONFIG, DEMO_EXPORTS)
    bullet = spc_bullet(soup)
    assert "Rule set “plotthedots”, the defaults of NHSRplotthedots 0.2.x" in bullet
    assert "a shift is 7 or more points" in bullet and "a trend is 7 or more points" in bullet
    assert "3.267 times their average" in bullet and "fewer than 13 points" in bullet
    assert "first of: beyond a limit, then a trend, then 2 of 3, then a shift" in bullet
    spc = next(i for i in summary["indicators"] if i["code"] == "CL01")["spc"]
    assert spc["method"] == "plotthedots" and spc["settings"]["shift"] == 7
    assert spc["settings"]["screen_outliers"] is True and spc["enough_points"] is True


def test_the_appendix_follows_the_config() -> None:
    soup, summary = paper(DEMO_CONFIG, DEMO_EXPORTS, spc_method=SpcMethod.NHSE, spc_shift=8)
    bullet = spc_bullet(soup)
    assert "Rule set “nhse”, the defaults of NHS England's SPC charts SQL tool v2.6" in bullet
    assert "a shift is 8 or more points" in bullet and "a trend is 6 or more points" in bullet
    assert not re.search(r"\b7\b", bullet)
    assert "on or beyond a process limit" in bullet and "concern unless set" in bullet
    assert {i["spc"]["settings"]["shift"] for i in summary["indicators"]} == {8}


def test_indicators_on_another_rule_set_are_named(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    for f in DEMO_CONFIG.glob("*.yaml"):
        (config_dir / f.name).write_text(f.read_text())
    inds = (config_dir / "indicators.yaml").read_text()
    inds = inds.replace("- code: CL01\n", "- code: CL01\n  spc_method: nhse\n"
                        "  spc_conflict: improvement\n", 1)
    (config_dir / "indicators.yaml").write_text(inds)
    soup, summary = paper(config_dir, DEMO_EXPORTS)
    bullet = spc_bullet(soup)
    assert bullet.count("Rule set") == 2
    nhse_part = bullet[bullet.index("Rule set “nhse”"):]
    assert "Used for: Care leavers aged 19 to 21 not in education, employment or training." \
        in nhse_part
    assert "Care leavers aged 19 to 21" not in bullet[:bullet.index("Rule set “nhse”")]
    cl01 = next(i for i in summary["indicators"] if i["code"] == "CL01")["spc"]
    assert cl01["method"] == "nhse" and cl01["settings"]["two_signals"] == "improvement"


def spc_icons(soup: BeautifulSoup, code: str) -> Tag | None:
    """An indicator's SPC icons: in its service area's table, or, for an exception, on its
    card (the table then points to the card, so they are printed once)."""
    found = soup.find(id=f"spc-{code}") or soup.find(id=f"exc-spc-{code}")
    return found if isinstance(found, Tag) else None


@needs_dfe
def test_nhse_says_too_few_points_instead_of_icons() -> None:
    soup, summary = paper(ROOT / "config" / "dfe", DFE, spc_method=SpcMethod.NHSE)
    spc = {i["code"]: i["spc"] for i in summary["indicators"]}
    short = [c for c, s in spc.items() if s["points_in_chart"] < 13]
    assert short and all(not spc[c]["enough_points"] for c in short)
    assert all(spc[c]["variation"] == "none" and spc[c]["upper_limit"] is None for c in short)
    for code, s in spc.items():
        icons = spc_icons(soup, code)
        assert icons is not None
        if code in short:
            assert text(icons) == f"Too few points for SPC ({s['points_in_chart']} of 13)"
            assert not icons.select(".mdc")
        else:
            assert icons.select(".mdc") and "Too few" not in text(icons)
    assert "Too few points for SPC (9 of 13)" in text(spc_icons(soup, "SW_TURNOVER"))


@needs_dfe
def test_plotthedots_icons_carry_the_short_series_warning() -> None:
    soup, summary = paper(ROOT / "config" / "dfe", DFE)
    spc = {i["code"]: i["spc"] for i in summary["indicators"]}
    for code, s in spc.items():
        icons = spc_icons(soup, code)
        assert icons is not None and icons.select(".mdc")
        warning = icons.select_one(".spc-warning")
        if s["points_in_chart"] < 13:
            assert s["trial_limits"] is True
            assert text(warning) == (f"Warning: only {s['points_in_chart']} points: fewer "
                                     "than 13 give trial limits, revised with each new point.")
        else:
            assert warning is None
