"""Every YAML file we read (the config, owners' commentary, the deep-dive register) gives
one clear message naming the file, whatever PyYAML makes of a value: never a traceback,
never a silent guess (a key given twice, a number taken for a date)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tasks.analysing.deep_dives import DEEP_DIVES_FILE, read_deep_dives
from tasks.reading.commentary import read_commentary
from tasks.reading.problems import Severity
from tasks.settings.config import ConfigError, load_config
from tests.conftest import DEMO_CONFIG
from tests.factories import make_config

# Values PyYAML itself fails to build, each with a different exception.
UNBUILDABLE = {
    "impossible tagged date": "!!timestamp 2024-02-30",
    "tagged text as a date": "!!timestamp garbage",
    "tagged text as a whole number": "!!int abc",
    "tagged text as a decimal": "!!float abc",
    "tagged text as yes or no": "!!bool maybe",
    "a number of 5,000 digits": "1" * 5000,
    "a thousand nested lists": "[" * 1000 + "]" * 1000,
}


def config_copy(tmp_path: Path) -> Path:
    cfg = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, cfg, ignore=shutil.ignore_patterns("dfe"))
    return cfg


@pytest.mark.parametrize("value", UNBUILDABLE.values(), ids=UNBUILDABLE.keys())
def test_a_config_value_pyyaml_cannot_build_names_the_file(tmp_path: Path, value: str) -> None:
    cfg = config_copy(tmp_path)
    text = (cfg / "briefing.yaml").read_text()
    assert "meetings: [2024-11-28," in text
    (cfg / "briefing.yaml").write_text(text.replace("meetings: [2024-11-28,",
                                                    f"meetings: [{value},"))
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    assert str(exc.value).startswith(f"{cfg / 'briefing.yaml'}: ")
    assert len(str(exc.value)) < 400


@pytest.mark.parametrize("value", UNBUILDABLE.values(), ids=UNBUILDABLE.keys())
def test_a_commentary_or_register_value_pyyaml_cannot_build_is_a_finding(
        tmp_path: Path, value: str) -> None:
    (tmp_path / "commentary.yaml").write_text(
        f"- indicator: FD01\n  period: 2024-10\n  author: A\n  date: {value}\n  text: t\n")
    items, problems = read_commentary(tmp_path)
    assert items == [] and [(p.severity, p.file) for p in problems] == [
        (Severity.ERROR, "commentary.yaml")]
    config = make_config([{"code": "K1"}])
    (tmp_path / DEEP_DIVES_FILE).write_text(f"- indicator: K1\n  closed: {value}\n")
    items2, problems2 = read_deep_dives(tmp_path, config, "2024-10")
    assert items2 == [] and [(p.severity, p.file) for p in problems2] == [
        (Severity.ERROR, DEEP_DIVES_FILE)]


def test_a_key_given_twice_is_an_error_not_the_last_one_silently(tmp_path: Path) -> None:
    """A second `head_cla:` appended to owners.yaml would have sent its mail elsewhere."""
    cfg = config_copy(tmp_path)
    owners = (cfg / "owners.yaml").read_text()
    assert "\nhead_front_door:\n" in owners
    (cfg / "owners.yaml").write_text(owners.rstrip("\n") + "\nhead_front_door:\n  name: "
                                     "Someone Else\n  role: Head\n  email: x@example.gov.uk\n")
    with pytest.raises(ConfigError, match="the key 'head_front_door' is given twice"):
        load_config(cfg)
    (tmp_path / "commentary.yaml").write_text(
        "- indicator: FD01\n  period: 2024-10\n  author: A\n  author: B\n"
        "  date: 2024-10-01\n  text: t\n")
    _, problems = read_commentary(tmp_path)
    assert len(problems) == 1 and "given twice" in problems[0].message


@pytest.mark.parametrize("number", ["0", "20241128", "1.5"])
def test_a_number_is_not_taken_for_a_date(tmp_path: Path, number: str) -> None:
    """pydantic reads a bare number as seconds since 1970: `meetings: [0]` was 1 January
    1970, silently."""
    cfg = config_copy(tmp_path)
    text = (cfg / "briefing.yaml").read_text()
    (cfg / "briefing.yaml").write_text(text.replace("meetings: [2024-11-28,",
                                                    f"meetings: [{number},"))
    with pytest.raises(ConfigError, match="expected a date such as 2024-09-30, found the "
                                          "number"):
        load_config(cfg)


def test_commentary_that_is_not_utf8_is_refused_not_mangled(tmp_path: Path) -> None:
    (tmp_path / "commentary.yaml").write_bytes(
        b"- indicator: FD01\n  period: 2024-10\n  author: A\n  date: 2024-10-01\n"
        b"  text: caf\xe9\n")
    items, problems = read_commentary(tmp_path)
    assert items == [] and len(problems) == 1
    assert "not UTF-8 text (byte 79); save it as UTF-8" in problems[0].message


def test_a_config_file_that_is_a_pipe_or_a_folder_says_so(tmp_path: Path) -> None:
    cfg = config_copy(tmp_path)
    (cfg / "briefing.yaml").unlink()
    os.mkfifo(cfg / "briefing.yaml")
    with pytest.raises(ConfigError, match=r"briefing\.yaml: not a regular file"):
        load_config(cfg)
    (cfg / "briefing.yaml").unlink()
    (cfg / "briefing.yaml").mkdir()
    with pytest.raises(ConfigError, match=r"briefing\.yaml: not a regular file"):
        load_config(cfg)
    from tasks.reading.sources import load_sources

    (cfg / "sources.yaml").unlink()
    (cfg / "sources.yaml").mkdir()  # was taken for "no sources.yaml", silently
    with pytest.raises(ConfigError, match=r"sources\.yaml: not a regular file"):
        load_sources(cfg)


def test_a_thousand_bad_entries_are_still_one_readable_line(tmp_path: Path) -> None:
    cfg = config_copy(tmp_path)
    (cfg / "indicators.yaml").write_text("- {}\n" * 1000)
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    assert len(str(exc.value)) < 3000 and "more" in str(exc.value)


def test_a_link_out_of_the_config_folder_says_config_folder(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("- indicator: K1\n")
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / DEEP_DIVES_FILE).symlink_to(outside)
    _, problems = read_deep_dives(folder, make_config([{"code": "K1"}]), "2024-10")
    assert [p.message for p in problems] == [
        "a link to a file outside the config folder; not read"]
