"""The `briefing` command: help, validate, and a bad run that changes nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from flows.cli import main
from tasks.adapters.outputs import in_set
from tests.conftest import DEMO_CONFIG, ROOT, TODAY, tree_digest


def help_text(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What `briefing ARGS` prints, in process: argparse prints help and exits 0."""
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"], ["run", "--help"],
                                  ["validate", "--help"], ["serve", "--help"],
                                  ["regional", "--help"], ["schema", "--help"],
                                  ["calendar", "--help"], ["init", "--help"]])
def test_help(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    out = help_text(args, capsys)
    assert out.startswith("usage: briefing")
    if args == ["--help"]:
        for word in ("demo", "run", "validate", "serve", "regional", "schema", "init",
                     "Exit codes"):
            assert word in out
    if args[0] == "run":
        for flag in ("--config", "--exports", "--cycle", "--out", "--send", "--resend",
                     "--strict"):
            assert flag in out
        # --cycle names every period kind
        flat = " ".join(out.split())
        for kind in ("a month 2024-10", "a calendar quarter 2024-Q3", "a year 2025",
                     "financial, academic and calendar years"):
            assert kind in flat, kind
    if args[0] == "regional":
        for flag in ("--authority", "--cycle", "--out", "--spread-to", "--part-size"):
            assert flag in out


@pytest.mark.slow
def test_installed_console_script_has_help() -> None:
    exe = shutil.which("briefing", path=str(Path(sys.executable).parent))
    assert exe, "the briefing command is installed beside this Python"
    done = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0 and "validate" in done.stdout


def test_validate_demo_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config", str(DEMO_CONFIG), "--exports",
                 str(ROOT / "demo" / "exports")]) == 0
    out = capsys.readouterr().out
    assert "WARNING: (all exports): CL02" in out and "0 error(s)" in out


def test_validate_bad_exports_names_the_place(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.csv").write_text("indicator,period,value\nFD01,2024-10,95\nFD03,2024-10,lots\n"
                                    "CL01,2024-13,52\n")
    # Errors in cells: a run would withhold those figures and go on (exit 4); --strict, and
    # a run would stop (exit 1). Every finding is listed either way.
    for extra, code in (([], 4), (["--strict"], 1)):
        assert main(["validate", "--config", str(DEMO_CONFIG), "--exports", str(tmp_path),
                     *extra]) == code
        lines = capsys.readouterr().out.splitlines()
        assert "ERROR: x.csv, row 3, column 'value': expected a number such as 52 or 52%, " \
               "found 'lots'; FD03 October 2024 withheld: error in the source" in lines
        assert any(line.startswith("ERROR: x.csv, row 4, column 'period'") for line in lines)
        assert ("a run would stop" in lines[-1]) == (code == 1)


def test_config_error_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config", str(tmp_path), "--exports", str(tmp_path)]) == 2
    assert "indicators.yaml: file not found" in capsys.readouterr().err
    assert main(["validate", "--config", str(DEMO_CONFIG), "--exports", str(tmp_path),
                 "--cycle", "October"]) == 2


def test_send_without_smtp_settings_fails_loudly_before_writing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        prefect_harness: None) -> None:
    monkeypatch.delenv("BRIEFING_SMTP_HOST", raising=False)
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--send"]) == 2
    assert "BRIEFING_SMTP_HOST is not set" in capsys.readouterr().err
    assert tree_digest(out) == {}


def test_run_help_documents_the_manual_trigger_flags(
        capsys: pytest.CaptureFixture[str]) -> None:
    out = help_text(["run", "--help"], capsys)
    for flag in ("--send, --no-send", "--edition {both,public,restricted}", "--authority"):
        assert flag in out


def test_public_edition_only(tmp_path: Path, prefect_harness: None,
                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--edition", "public",
                 "--report-date", "2024-11-18"]) == 0
    folder = out / "999" / "2024-10"
    names = {p.name for p in folder.rglob("*")}
    assert "briefing-public.pdf" in names and "briefing-restricted.pdf" not in names
    # The packs and the owners' return workbooks are restricted too.
    assert not [n for n in names if "deep-dive" in n or "-return-" in n]
    # The date given reaches the cover through the flow; the meeting is the calendar's.
    cover = in_set(folder, "briefing.html").read_text()
    assert "<th scope=\"row\">Date of report</th><td>18 November 2024</td>" in cover
    assert "<td>28 November 2024</td>" in cover
    # Only the public recipients' messages go; the owners' (restricted) wait, not "sent".
    emls = list((out / "999" / "outbox" / "2024-10").glob("*.eml"))
    assert sorted(e.name.split("-", 1)[1] for e in emls) == [
        "dcs@example.gov.uk.eml", "scrutiny.clerk@example.gov.uk.eml"]
    assert all("briefing-public.pdf" in e.read_text() for e in emls)
    summary = json.loads(in_set(folder, "summary.json").read_text())
    waiting = [n for n in summary["notifications"] if n["status"] == "waiting"]
    assert len(waiting) == 7 and {n["kind"] for n in waiting} == {"breach"}
    # Said without counting them: how many owners get one may rest on a hidden figure.
    console = capsys.readouterr().out
    assert "Owners' messages carry the restricted edition, which this run did not write" \
        in console and "7 message" not in console
    # A later run that writes both editions sends those, and nothing twice.
    assert main(["demo", "--out", str(out)]) == 0
    summary = json.loads(in_set(folder, "summary.json").read_text())
    statuses = sorted(n["status"] for n in summary["notifications"])
    assert statuses == ["already_sent"] * 2 + ["sent"] * 7


def test_spreading_without_a_server_is_refused_before_anything_starts(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert main(["regional", "--spread-to", "regional-briefing-part/regional-part"]) == 2
    assert "set PREFECT_API_URL" in capsys.readouterr().err


def test_report_date_flag(capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import parser

    args = parser().parse_args(["demo", "--report-date", "2024-11-18"])
    assert args.report_date == date(2024, 11, 18)
    assert parser().parse_args(["run", "--config", "c", "--exports", "e"]).report_date is None
    with pytest.raises(SystemExit) as done:
        parser().parse_args(["demo", "--report-date", "18/11/2024"])
    assert done.value.code == 2
    assert "expected a date such as 2024-11-20, not '18/11/2024'" in capsys.readouterr().err


def test_schema_is_the_contract_every_summary_follows(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import jsonschema

    from tasks.run.analysis import compare_with_history
    from tasks.run.delivery import write_summary
    from tasks.run.inputs import validate_exports
    from tasks.store.history import MemoryHistoryStore

    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "summary.json"
    inputs = validate_exports(DEMO_CONFIG, ROOT / "demo" / "exports", today=TODAY)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    from datetime import datetime

    path = write_summary(inputs, analysed, [], tmp_path, datetime.now().astimezone())
    written = json.loads(path.read_text())
    jsonschema.validate(written, schema)
    assert {i["code"] for i in written["indicators"]} >= {"CL01", "YJ03"}
    # A renamed or unknown field is not the contract.
    written["indicators"][0]["rating"] = written["indicators"][0].pop("rag")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(written, schema)


def test_calendar_prints_each_cycles_run_day_deadline_and_commentary_due(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, config)
    briefing = config / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace(
        "meetings: [2024-11-28, 2025-01-23, 2025-03-20]",
        "meetings: [2026-02-26, 2026-04-23]"))
    assert main(["calendar", "--year", "2026", "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "on the 3rd working day of each month" in lines[0]
    rows = {line[:7]: line for line in lines[2:]}
    assert list(rows) == ["2025-12"] + [f"2026-{m:02d}" for m in range(1, 12)]
    # Good Friday and Easter Monday 2026 move April's run to Tuesday the 7th.
    assert rows["2026-03"].split() == ["2026-03", "Tue", "7", "Apr", "2026", "Thu", "23",
                                       "Apr", "2026", "Wed", "15", "Apr", "2026", "Fri", "10",
                                       "Apr", "2026"]
    assert rows["2026-01"].split()[1:5] == ["Wed", "4", "Feb", "2026"]
    assert "Wed 18 Feb 2026" in rows["2026-01"] and "Fri 13 Feb 2026" in rows["2026-01"]
    assert rows["2026-05"].endswith("no meeting listed")
    assert main(["calendar", "--year", "99"]) == 2


def _bench() -> Any:
    """bench/run.py as a module, in this process (its imports are the project's, loaded
    already: a subprocess spent seconds importing them again)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("argv", "code"), [(["--help"], 0), (["--fast"], 2)])
def test_bench_help_says_what_it_takes_and_runs_nothing(
        argv: list[str], code: int, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["bench/run.py", *argv])
    with pytest.raises(SystemExit) as done:
        _bench().main()
    assert done.value.code == code
    said = capsys.readouterr().out
    assert "--regional" in said and "--suite" in said
    assert "load average" not in said  # no measurement started


def test_bench_suite_says_each_time_against_its_target(tmp_path: Path) -> None:
    """`bench/run.py --suite`'s line for one command: its time against the target, pytest's
    count, the load it started at; a failed command says its exit code and is not met."""
    bench = _bench()
    assert bench.SUITE_TARGETS == {".ci/run": 1500.0, "check": 60.0, "test": 900.0}
    passing = [sys.executable, "-c", "print('===== 3 passed, 1 skipped in 0.01s =====')"]
    what, took = bench.timed_command("`make check`", passing, tmp_path, dict(os.environ),
                                     tmp_path / "check.log", 60.0)
    assert re.fullmatch(r"`make check`, fresh clone, load \d+\.\d at the start", what)
    assert re.fullmatch(r"\d+ s \(target 60 s: met\); 3 passed, 1 skipped in 0\.01s", took)
    assert "3 passed" in (tmp_path / "check.log").read_text()
    failing = [sys.executable, "-c", "import sys; print('1 failed, 2 passed in 1s'); "
               "sys.exit(1)"]
    _, took = bench.timed_command("`make test`", failing, tmp_path, dict(os.environ),
                                  tmp_path / "test.log", 900.0)
    assert took.endswith("(target 15.0 min: NOT met); 1 failed, 2 passed in 1s; EXIT 1")


def count_reading(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often a run loads the config and reads the exports, from now on (nothing kept
    from an earlier test in this process)."""

    from tasks.run import inputs
    from tasks.settings import config

    calls = {"load_config": 0, "read_exports": 0}
    for module, name in ((config, "load_config"), (inputs, "read_exports")):
        real = getattr(module, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            calls[_name] += 1
            return _real(*args, **kw)

        monkeypatch.setattr(module, name, counted)
    monkeypatch.setattr(config, "CONFIGS", config.Kept())
    monkeypatch.setattr(inputs, "READ", config.Kept())
    return calls


def test_console_says_written_to_the_outbox_and_what_a_withheld_cell_held(
        demo_exports: Path, tmp_path: Path, prefect_harness: None,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Not sending, nothing is "sent": the console says the messages were written to the
    outbox; a figure withheld for a bad cell says what the cell held and what was expected,
    as validate does."""
    export = demo_exports / "mosaic_scorecard_2024-10.csv"
    text = export.read_text(encoding="utf-8-sig")
    export.write_text(text.replace("FD02,2024-10,584.5,", "FD02,2024-10,abc,"))
    out = tmp_path / "out"
    calls = count_reading(monkeypatch)
    assert main(["run", "--config", str(DEMO_CONFIG), "--exports", str(demo_exports),
                 "--out", str(out), "--cycle", "2024-10", "--report-date",
                 "2024-11-18"]) == 4
    # Read once in the run: by the command's checks, and kept for the run (issue 25).
    assert calls == {"load_config": 1, "read_exports": 1}
    lines = capsys.readouterr().out.splitlines()
    email = next(line for line in lines if line.startswith("  Email (outbox "))
    # The briefing's recipients counted; the owners' messages, restricted, are not.
    assert email.endswith("): the briefing to its recipients: 2 written to the outbox; "
                          "owners' messages: in summary.json (restricted)")
    assert " sent" not in email
    withheld = next(line for line in lines if line.startswith("    FD02 2024-10: withheld"))
    assert withheld == ("    FD02 2024-10: withheld: error in the source (mosaic_scorecard_"
                        "2024-10.csv, row 3, column 'Value': expected a number such as 52 or "
                        "52%, found 'abc')")
