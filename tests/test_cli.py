"""The `briefing` command: help, validate, and a bad run that changes nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import main
from tests.conftest import DEMO_CONFIG, ROOT, tree_digest

BRIEFING = [sys.executable, "-m", "flows.cli"]


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"], ["run", "--help"],
                                  ["validate", "--help"], ["serve", "--help"],
                                  ["regional", "--help"]])
def test_help(args: list[str]) -> None:
    done = subprocess.run([*BRIEFING, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: briefing")
    if args == ["--help"]:
        for word in ("demo", "run", "validate", "serve", "regional", "Exit codes"):
            assert word in done.stdout
    if args[0] == "run":
        for flag in ("--config", "--exports", "--cycle", "--out", "--send", "--resend"):
            assert flag in done.stdout
    if args[0] == "regional":
        for flag in ("--authority", "--cycle", "--out", "--spread-to", "--part-size"):
            assert flag in done.stdout


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
    assert main(["validate", "--config", str(DEMO_CONFIG), "--exports", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "ERROR: x.csv, row 3, column 'value': expected a number such as 52 or 52%, " \
           "found 'lots'" in lines
    assert any(line.startswith("ERROR: x.csv, row 4, column 'period'") for line in lines)


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


def test_run_help_documents_the_manual_trigger_flags() -> None:
    done = subprocess.run([*BRIEFING, "run", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False)
    for flag in ("--send, --no-send", "--edition {both,public,restricted}", "--authority"):
        assert flag in done.stdout


def test_public_edition_only(tmp_path: Path, prefect_harness: None) -> None:
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--edition", "public"]) == 0
    names = {p.name for p in (out / "999" / "2024-10").iterdir()}
    assert "briefing-public.pdf" in names and "briefing-restricted.pdf" not in names
    emls = list((out / "999" / "2024-10" / "outbox").glob("*.eml"))
    assert len(emls) == 9
    assert all("briefing-public.pdf" in e.read_text() for e in emls)


def test_spreading_without_a_server_is_refused_before_anything_starts(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert main(["regional", "--spread-to", "regional-briefing-part/regional-part"]) == 2
    assert "set PREFECT_API_URL" in capsys.readouterr().err
