"""Each shipped config file loads, and a wrong one says which file and which field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import TypeAdapter

from tasks.settings.config import Briefing, ConfigError, Indicator, Owner, load_config
from tests.conftest import DEMO_CONFIG


def test_shipped_indicators_yaml_loads() -> None:
    raw = yaml.safe_load((DEMO_CONFIG / "indicators.yaml").read_text())
    inds = TypeAdapter(list[Indicator]).validate_python(raw)
    assert len(inds) >= 30
    assert {i.service_area for i in inds} >= {"Front door", "Assessment", "Child protection",
                                              "Children looked after", "Care leavers",
                                              "Workforce", "Youth justice", "Education"}
    assert all(i.definition.strip() for i in inds)


def test_shipped_owners_yaml_loads() -> None:
    raw = yaml.safe_load((DEMO_CONFIG / "owners.yaml").read_text())
    owners = TypeAdapter(dict[str, Owner]).validate_python(raw)
    assert all("@" in o.email for o in owners.values())


def test_shipped_briefing_yaml_loads() -> None:
    raw = yaml.safe_load((DEMO_CONFIG / "briefing.yaml").read_text())
    b = Briefing.model_validate(raw)
    assert b.authority.code == "999"
    assert b.rules.consecutive_declines == 2


def test_shipped_config_cross_checks() -> None:
    cfg = load_config(DEMO_CONFIG)
    assert set(cfg.owners) >= {i.owner for i in cfg.indicators}


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, dst)
    return dst


def test_unknown_key_is_an_error_naming_file_and_field(tmp_path: Path) -> None:
    cfg = _copy(tmp_path)
    text = (cfg / "indicators.yaml").read_text().replace("  tolerance: 3\n", "  tolerence: 3\n", 1)
    (cfg / "indicators.yaml").write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    msg = str(exc.value)
    assert "indicators.yaml" in msg and "tolerence" in msg


def test_an_impossible_date_names_the_file_and_field(tmp_path: Path) -> None:
    """PyYAML reads `2024-11-31` as a date itself and raised a bare ValueError: a traceback
    from `briefing validate`, with no file or field. The model reads it now."""
    cfg = _copy(tmp_path)
    text = (cfg / "briefing.yaml").read_text()
    assert "meetings: [2024-11-28," in text
    (cfg / "briefing.yaml").write_text(text.replace("meetings: [2024-11-28,",
                                                    "meetings: [2024-11-31,"))
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    assert "briefing.yaml" in str(exc.value) and "at meetings.0:" in str(exc.value)


def test_owner_not_in_owners_file(tmp_path: Path) -> None:
    cfg = _copy(tmp_path)
    text = (cfg / "indicators.yaml").read_text().replace("owner: head_cla", "owner: nobody", 1)
    (cfg / "indicators.yaml").write_text(text)
    with pytest.raises(ConfigError, match="nobody"):
        load_config(cfg)


def test_bad_enum_and_percent_target(tmp_path: Path) -> None:
    cfg = _copy(tmp_path)
    text = (cfg / "indicators.yaml").read_text()
    (cfg / "indicators.yaml").write_text(text.replace("unit: percent", "unit: percentage", 1))
    with pytest.raises(ConfigError, match="unit"):
        load_config(cfg)
    (cfg / "indicators.yaml").write_text(text.replace("target: 95", "target: 950", 1))
    with pytest.raises(ConfigError, match="not a percentage"):
        load_config(cfg)


def test_a_population_belongs_to_a_rate_per_10k(tmp_path: Path) -> None:
    cfg = _copy(tmp_path)
    text = re.sub(r"\n  population: [^\n]*", "", (cfg / "indicators.yaml").read_text())
    rate = text.replace("unit: rate_per_10k", "unit: rate_per_10k\n  population: 23000", 1)
    (cfg / "indicators.yaml").write_text(rate)
    assert [i.population for i in load_config(cfg).indicators].count(23000.0) == 1
    (cfg / "indicators.yaml").write_text(text.replace("unit: percent",
                                                      "unit: percent\n  population: 23000", 1))
    with pytest.raises(ConfigError, match="population is for a rate per 10,000"):
        load_config(cfg)
    (cfg / "indicators.yaml").write_text(rate.replace("population: 23000", "population: 0"))
    with pytest.raises(ConfigError, match="population"):
        load_config(cfg)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    cfg = _copy(tmp_path)
    (cfg / "owners.yaml").unlink()
    with pytest.raises(ConfigError, match=r"owners\.yaml: file not found"):
        load_config(cfg)
    (cfg / "owners.yaml").write_text("a: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(cfg)


def test_duplicate_codes(tmp_path: Path) -> None:
    cfg = _copy(tmp_path)
    text = (cfg / "indicators.yaml").read_text().replace("code: FD02", "code: FD01", 1)
    (cfg / "indicators.yaml").write_text(text)
    with pytest.raises(ConfigError, match="FD01"):
        load_config(cfg)


@pytest.mark.parametrize("folder", ["config", "config/dfe"])
def test_shipped_sources_yaml_loads(folder: str) -> None:
    from tasks.reading.sources import RowRef, load_sources
    from tests.conftest import ROOT

    sources = load_sources(ROOT / folder)
    assert sources.sources
    if folder == "config/dfe":  # looked-after children's totals sit in their own row
        stability = next(s for s in sources.sources if s.name.startswith("Looked-after"))
        dens = [m.denominator for m in stability.measures]  # type: ignore[union-attr]
        assert all(isinstance(d, RowRef) and d.where == {"placement_stability":
                                                          "Total children"} for d in dens)


@pytest.mark.parametrize(("source", "key"), [
    ({"layout": "long", "prority": 1}, "prority"),
    ({"layout": "wide", "target_colum": "Target"}, "target_colum"),
    ({"layout": "long", "missing": {"ad": ["tbc"]}}, "ad"),
    ({"layout": "dfe", "measures": [{"indicator": "X", "value": "v",
                                     "denominator": {"column": "c", "wher": {}}}]}, "wher"),
])
def test_a_mistyped_sources_key_names_file_and_key(tmp_path: Path, source: dict[str, object],
                                                   key: str) -> None:
    from tasks.reading.sources import load_sources

    (tmp_path / "sources.yaml").write_text(yaml.safe_dump(
        {"sources": [{"name": "s", "files": "*.csv", **source}]}))
    with pytest.raises(ConfigError) as exc:
        load_sources(tmp_path)
    assert "sources.yaml" in str(exc.value) and key in str(exc.value)


def test_strict_and_money_in_config(tmp_path: Path) -> None:
    cfg = _copy(tmp_path)
    brf = yaml.safe_load((cfg / "briefing.yaml").read_text())
    brf.setdefault("rules", {})["strict"] = True
    (cfg / "briefing.yaml").write_text(yaml.safe_dump(brf))
    assert load_config(cfg).briefing.rules.strict is True
    raw = yaml.safe_load((cfg / "indicators.yaml").read_text())
    raw[0].update(unit="money", decimals=2, target=5500)
    (cfg / "indicators.yaml").write_text(yaml.safe_dump(raw))
    first = load_config(cfg).indicators[0]
    assert (first.unit.value, first.decimals) == ("money", 2)
