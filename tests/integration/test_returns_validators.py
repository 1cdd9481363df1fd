"""DfE's rules over child-level returns, run by the real validators in .venv-validators
(made by `make setup`) on small returns made here. Slow: each run starts the validators'
own Python, pandas and some 300 rules (about 6 s)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tasks.returns import validators
from tasks.returns.validators import (
    ReturnFile,
    RuleIssue,
    ValidationReport,
    ValidatorsError,
    run_validators,
)
from tests.returns_factory import cin_census, ssda903

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report_903(tmp_path_factory: pytest.TempPathFactory) -> ValidationReport:
    files = ssda903(tmp_path_factory.mktemp("ssda903"))
    return run_validators("ssda903", [ReturnFile(p) for p in files], 2025,
                          local_authority="E09000033")


def test_a_care_leaver_whose_activity_is_not_recorded_fails_rule_132(
        report_903: ValidationReport) -> None:
    assert report_903.ruleset == "lac2024_25"
    assert report_903.failing("132") == [
        RuleIssue("132", "OC3", "oc3.csv", record=2, row=3, child="CL2")]
    assert report_903.messages["132"] == "Data entry for activity after leaving care is invalid."
    assert {"Header", "Episodes", "OC3"} <= set(report_903.tables)


def test_the_rule_year_follows_the_collection_year(tmp_path: Path) -> None:
    files = ssda903(tmp_path, unrecorded_activity=())
    report = run_validators("ssda903", [ReturnFile(p) for p in files], 2027, only={"132", "703"})
    assert report.ruleset == "lac2026_27"
    assert sorted(report.done + report.skipped) == ["132", "703"]
    assert report.failing("132") == []


def test_a_rule_that_raises_is_reported_and_the_others_still_run(
        report_903: ValidationReport) -> None:
    """Rule 231 (2024-25) reads Header column UASC_STATUS, a name the library's reader
    never gives; given the reader's UASC flag under that name, it still cannot run on a
    return with no UASC table, where the reader makes no flag."""
    lines = [n.as_line() for n in report_903.not_run]
    assert lines == ["rule 231 could not be run: raised KeyError at "
                     "lac_validator/rule_231.py line 27"]
    assert len(report_903.done) > 100 and "132" in report_903.done


def test_rules_reading_a_column_by_another_name_are_given_it(tmp_path: Path) -> None:
    """Rule 231 reads UASC_STATUS and rule 233 DATE_EPISODE_CEASED (2026-27), names the
    validators' readers never give (the UASC flag, DEC): without our alias both raise."""
    files = ssda903(tmp_path, uasc=True, open_episode_reason="CARPL")
    report = run_validators("ssda903", [ReturnFile(p) for p in files], 2027,
                            only={"231", "233"})
    assert report.not_run == [] and sorted(report.done) == ["231", "233"]
    assert report.failing("231") == [
        RuleIssue("231", "Header", "header.csv", record=1, row=2, child="LAC1")]
    assert report.failing("233") == [
        RuleIssue("233", "Episodes", "episodes.csv", record=1, row=2, child="LAC1")]


def test_a_cin_census_names_the_child_and_rule(tmp_path: Path) -> None:
    xml = cin_census(tmp_path / "cin.xml")
    report = run_validators("cin_census", [ReturnFile(xml)], 2025)
    assert report.ruleset == "cin2024_25" and report.not_run == []
    assert report.header == {"Year": "2025", "ReferenceDate": "2025-03-31", "LEA": "201"}
    assert report.failing("8520") == [
        RuleIssue("8520", "ChildIdentifiers", "cin.xml", record=2, row=None, child="CIN2")]
    assert [i.child for i in report.failing("8590")] == ["CIN3"]


def test_a_rule_over_its_time_is_not_run_and_the_run_ends(tmp_path: Path) -> None:
    files = ssda903(tmp_path)
    report = run_validators("ssda903", [ReturnFile(p) for p in files], 2025,
                            only={"132", "101", "153"}, rule_s=1e-6)
    assert report.done == [] and report.issues == []
    assert sorted(n.as_line() for n in report.not_run) == [
        f"rule {code} could not be run: took longer than 1e-06 s" for code in ("101", "132",
                                                                               "153")]


def test_the_whole_run_is_bounded_in_time(tmp_path: Path) -> None:
    files = ssda903(tmp_path)
    started = time.monotonic()
    with pytest.raises(ValidatorsError) as caught:
        run_validators("ssda903", [ReturnFile(p) for p in files], 2025, timeout_s=0.5)
    assert time.monotonic() - started < 5
    assert str(caught.value) == ("the SSDA903 validators took longer than 0.5 s before "
                                 "running any rule")


def test_the_run_is_bounded_in_memory(tmp_path: Path) -> None:
    files = ssda903(tmp_path)
    with pytest.raises(ValidatorsError) as caught:
        run_validators("ssda903", [ReturnFile(p) for p in files], 2025,
                       memory_bytes=50 * 1024**2)
    assert str(caught.value) == ("the SSDA903 validators ran out of memory (limit 50 MiB) "
                                 "before running any rule")


def _kill_the_child_in_a_rule(after_rules: int, killed: list[str]) -> None:
    """Watches for the validators' process (our child) and kills it once it has finished
    `after_rules` rules and started another, as the kernel would kill it for memory."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not killed:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cmdline = (entry / "cmdline").read_bytes()
                events = list(Path(os.readlink(entry / "cwd")).glob("events-*.jsonl"))
            except OSError:
                continue
            if int(stat[1]) != os.getpid() or b"_validator_child.py" not in cmdline:
                continue
            lines = [line for e in events for line in e.read_text().splitlines()]
            started = [line for line in lines if '"rule_start"' in line]
            if len(started) > after_rules and '"rule_start"' in lines[-1]:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(started[-1].split('"code": "')[1].split('"')[0])
                return
        time.sleep(0.005)


def test_a_process_killed_in_a_rule_loses_that_rule_only(tmp_path: Path) -> None:
    files = ssda903(tmp_path)
    killed: list[str] = []
    watcher = threading.Thread(target=_kill_the_child_in_a_rule, args=(5, killed))
    watcher.start()
    report = run_validators("ssda903", [ReturnFile(p) for p in files], 2025)
    watcher.join()
    assert len(killed) == 1
    # The rule running when the signal landed (the watcher may have seen the one before).
    lost = [n for n in report.not_run if "signal" in n.reason]
    assert [n.as_line() for n in lost] == [
        f"rule {lost[0].rule} could not be run: the validators' process was ended by signal 9"]
    accounted = report.done + report.skipped + [n.rule for n in report.not_run]
    assert sorted(accounted) == sorted(report.messages)
    assert report.failing("132") or lost[0].rule == "132"


def test_no_validators_env_says_to_run_make_setup(tmp_path: Path) -> None:
    with pytest.raises(ValidatorsError) as caught:
        run_validators("ssda903", [], 2025, env=tmp_path / "nowhere")
    assert str(caught.value).endswith("bin/python not found): run `make setup`")
    assert "DfE's return validators are not installed" in str(caught.value)


def test_no_rule_set_for_the_year_is_a_clear_error(tmp_path: Path) -> None:
    xml = cin_census(tmp_path / "cin.xml")
    with pytest.raises(ValidatorsError) as caught:
        run_validators("cin_census", [ReturnFile(xml)], 2019)
    assert str(caught.value).startswith(
        "the CIN census validators cannot read the return: the installed validators have no "
        "rule set for the collection year ending March 2019 (they have cin2022_23")


def test_the_command_prints_counts_never_a_child_id(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = ssda903(tmp_path)
    assert validators.main(["ssda903", "2025", *map(str, files)]) == 0
    out, err = capsys.readouterr()
    assert "rule 132: 1 records: Data entry for activity after leaving care is invalid." in out
    assert not any(child in out + err for child in ("LAC1", "LAC2", "CL1", "CL2", "CL3"))
