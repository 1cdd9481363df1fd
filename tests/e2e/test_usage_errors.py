"""Every mistake in calling `briefing` or in its config: exit 2, one line on stderr naming
what is wrong, no traceback, before Prefect's engine starts and before anything is written."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.cli import main
from tests.conftest import DEMO_CONFIG, DEMO_EXPORTS, ROOT, TODAY, tree_digest

REAL_DFE = ROOT.parent / "shared" / "data" / "dfe"


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str], expect: int = 2) -> str:
    """Run in process; return the one line on stderr after checking the exit code (2, or
    a fault's own: flows.faults)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == expect, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    assert "Traceback" not in err
    return lines[0]


def run_args(out: Path, *extra: str, exports: Path = DEMO_EXPORTS,
             config: Path = DEMO_CONFIG) -> list[str]:
    return ["run", "--config", str(config), "--exports", str(exports), "--out", str(out),
            *extra]


@pytest.mark.parametrize("cycle", ["October", "2024-13", "2024-1", "24-10", "2024-Q5",
                                   " 2024-10", "2024-10\n", "0000-01", "9999-12",
                                   "\uff12\uff10\uff12\uff14-10",  # full-width digits
                                   "\u0662\u0660\u0662\u0664"])    # Arabic-Indic digits
def test_a_bad_cycle(cycle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = usage_error(run_args(tmp_path / "out", "--cycle", cycle), capsys)
    assert "--cycle must be a period such as 2024-10" in line
    assert not (tmp_path / "out").exists()


def test_a_missing_exports_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = usage_error(run_args(tmp_path / "out", exports=tmp_path / "nope"), capsys)
    assert line == f"Error: --exports {tmp_path / 'nope'}: no such folder"


def test_an_empty_exports_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("nothing here")
    line = usage_error(run_args(tmp_path / "out", exports=tmp_path / "empty"), capsys)
    assert line.endswith("no .csv or .xlsx exports in this folder")
    line = usage_error(["validate", "--config", str(DEMO_CONFIG), "--exports",
                        str(tmp_path / "empty")], capsys)
    assert line.endswith("no .csv or .xlsx exports in this folder")


def test_exports_naming_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "one.csv"
    f.write_text("indicator,period,value\n")
    assert "not a folder" in usage_error(run_args(tmp_path / "out", exports=f), capsys)


def test_out_naming_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "out.txt"
    f.write_text("keep me")
    line = usage_error(run_args(f), capsys)
    assert line == f"Error: --out {f}: is a file, not a folder (give the folder outputs go in)"
    assert "is a file, so the folder cannot be made" in usage_error(run_args(f / "sub"), capsys)
    assert f.read_text() == "keep me"
    assert "is a file" in usage_error(["demo", "--out", str(f)], capsys)


def test_argparse_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--edition" in usage_error(run_args(tmp_path, "--edition", "draft"), capsys)
    assert "--config" in usage_error(["run", "--exports", str(DEMO_EXPORTS)], capsys)
    assert "--frobnicate" in usage_error(["demo", "--frobnicate"], capsys)
    assert "--part-size" in usage_error(["regional", "--part-size", "0"], capsys)


def test_no_figures_for_the_cycle_names_the_latest(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    line = usage_error(run_args(tmp_path / "out", "--cycle", "2024-11"), capsys)
    assert time.monotonic() - started < 20  # no engine was started
    assert line.startswith("Error: no figures for 2024-11 (November 2024) in the exports: "
                           "the latest with figures is 2024-10 (October 2024)")
    assert "--allow-empty" in line
    assert not (tmp_path / "out").exists()
    line = usage_error(["validate", "--config", str(DEMO_CONFIG), "--exports",
                        str(DEMO_EXPORTS), "--cycle", "2031-01"], capsys)
    assert "the latest with figures is 2024-10" in line


def dfe_config(tmp_path: Path, code: str = "880", where: str = "") -> Path:
    """A copy of config/dfe for authority `code`; with `where`, every measure's row filter
    on the referrals file asks for that category instead."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config" / "dfe", config)
    brf = config / "briefing.yaml"
    brf.write_text(brf.read_text().replace('code: "880"', f'code: "{code}"'))
    if where:
        src = config / "sources.yaml"
        src.write_text(src.read_text().replace("{category: Referrals and Re-referrals}",
                                               f"{{category: {where}}}"))
    return config


@pytest.mark.skipif(not REAL_DFE.is_dir(), reason="../shared/data/dfe is not beside the project")
def test_no_figures_blames_the_authority_when_no_file_has_its_rows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A draft's authority left at '000': the error names the authority and the codes the
    files do have, with each file's rows, and never blames the cycle."""
    line = usage_error(["validate", "--config", str(dfe_config(tmp_path, "000")),
                        "--exports", str(REAL_DFE), "--cycle", "2025"], capsys)
    assert line.startswith("Error: no figures for 2025 (")
    assert "no export has rows for authority 000: check authority.code in briefing.yaml" in line
    assert ("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv: 2,132 rows read, "
            "0 for authority 000 (the file has 158 authorities, e.g. 201, 202, 203; none is "
            "000)") in line
    assert "--cycle" not in line and "latest with figures" not in line


@pytest.mark.skipif(not REAL_DFE.is_dir(), reason="../shared/data/dfe is not beside the project")
def test_no_figures_blames_the_filters_when_they_leave_no_rows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Torbay's rows are there, but the sources' where: picks none of them."""
    config = dfe_config(tmp_path, where="Referals")
    exports = tmp_path / "exports"
    exports.mkdir()
    for name in ("c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
                 "ons_mid-year_population_estimates_2012_to_2024.csv"):
        shutil.copy(REAL_DFE / name, exports / name)
    line = usage_error(["validate", "--config", str(config), "--exports", str(exports),
                        "--cycle", "2025"], capsys)
    assert "the rows for authority 880 are all left out by the sources' row filters" in line
    assert ("2,132 rows read, 13 for authority 880, 0 kept by its filters (sources.yaml "
            "where:)") in line
    assert "--cycle" not in line


def test_allow_empty_lets_an_empty_cycle_be_checked(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--config", str(DEMO_CONFIG), "--exports", str(DEMO_EXPORTS),
                 "--cycle", "2024-11", "--allow-empty"])
    out = capsys.readouterr().out
    assert code == 0 and "no figure for November 2024" in out


def test_the_flow_refuses_an_empty_cycle_by_itself(tmp_path: Path) -> None:
    """A deployment run does not pass the CLI: the validation step checks too."""
    from tasks.run.inputs import NoFiguresForCycle, validate_exports

    with pytest.raises(NoFiguresForCycle, match="latest with figures is 2024-10"):
        validate_exports(DEMO_CONFIG, DEMO_EXPORTS, "2024-12", allow_empty=False, today=TODAY)
    assert validate_exports(DEMO_CONFIG, DEMO_EXPORTS, "2024-12", today=TODAY).cycle == "2024-12"


@pytest.mark.skipif(not REAL_DFE.is_dir(), reason="DfE's published files are not here")
@pytest.mark.parametrize(("code", "name"), [("3O2", "Barnet"), ("302", "Bar\rnet"),
                                           ("3020", "Barnet")])
def test_an_authority_whose_published_row_is_odd(code: str, name: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    exports = tmp_path / "dfe"
    shutil.copytree(REAL_DFE, exports)
    f = exports / "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
    text = f.read_text(encoding="utf-8-sig")
    assert ",302,E09000003,Barnet," in text
    f.write_text(text.replace(",302,E09000003,Barnet,", f",{code},E09000003,\"{name}\","),
                 encoding="utf-8")
    for wanted in ("Barnet", code) if code != "302" else ("302",):
        line = usage_error(run_args(tmp_path / "out", "--authority", wanted, exports=exports,
                                    config=ROOT / "config" / "dfe"), capsys)
        assert "its row in the published files" in line and "3-digit DfE code" in line
    assert not (tmp_path / "out").exists()


def broken_config(tmp_path: Path, file: str, old: str, new: str) -> Path:
    cfg = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, cfg, ignore=shutil.ignore_patterns("dfe"))
    text = (cfg / file).read_text()
    assert old in text
    (cfg / file).write_text(text.replace(old, new, 1))
    return cfg


@pytest.mark.parametrize(("file", "old", "new", "expect"), [
    ("owners.yaml", "name: Tom Bradley", 'name: "Tom\\r\\nBcc: x@evil.example"',
     "line break (U+000D)"),
    ("owners.yaml", "name: Tom Bradley", 'name: "Tom\\u0007Bradley"', "control character"),
    ("owners.yaml", "tom.bradley@example.gov.uk", '"tom.bradley@example.gov.uk,x@evil.example"',
     "',' and ';' are not allowed"),
    ("owners.yaml", "tom.bradley@example.gov.uk", '"tom@example.gov.uk; x@evil.example"',
     "',' and ';' are not allowed"),
    ("owners.yaml", "tom.bradley@example.gov.uk", "tom.bradley@", "not a valid email address"),
    ("briefing.yaml", "committee: ", 'committee: "Children\\nBcc: x@evil.example" #',
     "line break"),
    ("briefing.yaml", "subject_prefix: ", "subject_prefix: " + "x" * 200 + " #",
     "at most 120"),
])
def test_config_text_that_would_reach_a_header(file: str, old: str, new: str, expect: str,
                                               tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cfg = broken_config(tmp_path, file, old, new)
    out = tmp_path / "out"
    line = usage_error(run_args(out, "--send", config=cfg), capsys)
    assert f"{cfg / file}" in line and expect in line and " at " in line
    assert "evil.example" not in line.split(":", 3)[-1].split("at ")[0]
    assert tree_digest(out) == {}


def test_a_bad_operators_variable_is_a_usage_error(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BRIEFING_OPERATORS", "ops@example.gov.uk;x@evil.example")
    line = usage_error(run_args(tmp_path / "out"), capsys)
    assert "BRIEFING_OPERATORS" in line and "';' are not allowed" in line


def test_a_bad_store_url_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BRIEFING_STORE_URL", "nosuchdb://x/y")
    assert "BRIEFING_STORE_URL" in usage_error(run_args(tmp_path / "out"), capsys)


def test_a_store_url_whose_driver_is_missing_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`postgresql://` alone means the psycopg2 driver, which is not installed: one line
    saying what to write instead, not a ModuleNotFoundError traceback from the run."""
    pytest.importorskip("psycopg")
    assert importlib.util.find_spec("psycopg2") is None
    monkeypatch.setenv("BRIEFING_STORE_URL", "postgresql://briefing@127.0.0.1/history")
    line = usage_error(run_args(tmp_path / "out"), capsys)
    assert "'psycopg2'" in line and "postgresql+psycopg://" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("url", "expect", "code"), [
    ("sqlite://", "keeps the history in memory", 2),
    ("sqlite:///", "keeps the history in memory", 2),
    ("sqlite:///relative/h.sqlite", "is a relative path", 2),
    # The store itself unusable: its own code (flows.faults), not a usage error.
    ("sqlite:////etc/passwd", "/etc/passwd is not a SQLite database", 5),
    ("postgresql+psycopg://briefing@127.0.0.1:1/history", "cannot be reached", 5),
])
def test_a_store_that_cannot_keep_the_history_stops_before_the_engine(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        url: str, expect: str, code: int) -> None:
    """Each of these failed only after the engine had started (four tracebacks), or ran
    and lost the history (in memory) or kept it relative to wherever the run started."""
    if url.startswith("postgresql"):
        pytest.importorskip("psycopg")
    monkeypatch.setenv("BRIEFING_STORE_URL", url)
    monkeypatch.chdir(tmp_path)
    line = usage_error(run_args(tmp_path / "out"), capsys, code)
    assert line.startswith("Error: BRIEFING_STORE_URL: ") and expect in line, line
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the relative file


def test_an_out_folder_whose_history_is_not_a_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "history.sqlite").write_text("not a database\n")
    line = usage_error(run_args(out), capsys, 5)
    assert "history.sqlite is not a SQLite database" in line and line.startswith(
        f"Error: --out {out}: ")


@pytest.mark.slow
def test_the_installed_command_stops_before_the_engine(tmp_path: Path) -> None:
    """As a person types it: one line, exit 2, in the time it takes to start Python."""
    exe = Path(sys.executable).parent / "briefing"
    started = time.monotonic()
    done = subprocess.run([str(exe), *run_args(tmp_path / "out", "--cycle", "2024-13")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert time.monotonic() - started < 15
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("Error: --cycle must be") and done.stderr.count("\n") == 1


@pytest.mark.parametrize("argv", [["schema"], ["--help"], ["calendar", "--year", "2025"]])
def test_a_reader_that_leaves_early_is_no_error(argv: list[str]) -> None:
    """`briefing schema | head`: the reader closes the pipe before the command writes. The
    command ends as it would have (exit 0), with nothing on standard error."""
    exe = Path(sys.executable).parent / "briefing"
    with subprocess.Popen([str(exe), *argv], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # before the command has started: its first write must fail
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 0, err
    assert err == ""


def test_both_streams_to_a_reader_that_leaves(tmp_path: Path) -> None:
    """`briefing ... 2>&1 | head -1`: the log lines on standard error meet the closed pipe
    too (Prefect's console handler ended the run with exit 1 there)."""
    exe = Path(sys.executable).parent / "briefing"
    bad = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, bad, ignore=shutil.ignore_patterns("dfe"))
    (bad / "owners.yaml").write_text("- not a mapping\n")
    with subprocess.Popen([str(exe), "validate", "--config", str(bad), "--exports",
                           str(DEMO_EXPORTS)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT) as proc:
        assert proc.stdout is not None
        proc.stdout.close()
        assert proc.wait(timeout=120) == 2  # the config error's own code, not a crash


def test_output_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "briefing"
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        done = subprocess.run([str(exe), "schema"], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr == "Error: cannot write the output: No space left on device\n"
    closed = subprocess.run(f"'{exe}' schema >&-", shell=True, capture_output=True,
                            text=True, timeout=120, check=False)
    assert (closed.returncode, closed.stderr) == (0, "")


def test_init_into_a_file_is_a_usage_error(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "afile").write_text("")
    line = usage_error(["init", "--exports", str(DEMO_EXPORTS), "--config",
                        str(tmp_path / "afile")], capsys)
    assert "not a folder" in line


def test_config_that_is_not_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, cfg, ignore=shutil.ignore_patterns("dfe"))
    (cfg / "owners.yaml").write_bytes(b"head_cla:\n  name: Caf\xe9\n")
    line = usage_error(run_args(tmp_path / "out", config=cfg), capsys)
    assert "owners.yaml: not UTF-8 text" in line
    (cfg / "owners.yaml").write_text("head_cla: [unclosed\n")
    assert "owners.yaml: not valid YAML" in usage_error(run_args(tmp_path / "out", config=cfg),
                                                        capsys)


@pytest.mark.skipif(not REAL_DFE.is_dir(), reason="DfE's published files are not here")
def test_regional_mistakes(capsys: pytest.CaptureFixture[str]) -> None:
    line = usage_error(["regional", "--authority", "Barnet", "--authority", "Nowhere"], capsys)
    assert "authority 'Nowhere' is not a DfE code or name" in line
    assert "reporting year" in usage_error(["regional", "--cycle", "2024-10"], capsys)
    assert "no such folder" in usage_error(["regional", "--exports", "/nonexistent"], capsys)


def test_an_empty_authority(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--authority is empty" in usage_error(run_args(tmp_path, "--authority", " "), capsys)
