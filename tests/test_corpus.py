"""The corpus of malformed exports (tests/corpus/, one real-world fault each): every fault
gives its finding at the right place, and an error leaves store and outputs untouched."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.cli import main
from tasks import pipeline
from tasks.problems import Problem
from tasks.store import MemoryHistoryStore
from tests.conftest import DEMO_CONFIG, tree_digest

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expect.yaml").is_file())


def case(name: str, tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    folder = CORPUS / name
    config = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, config, ignore=shutil.ignore_patterns("dfe"))
    (config / "sources.yaml").unlink()
    if (folder / "sources.yaml").is_file():
        shutil.copy(folder / "sources.yaml", config / "sources.yaml")
    expect = yaml.safe_load((folder / "expect.yaml").read_text())
    return config, folder / "exports", expect


def findings(config: Path, exports: Path, cycle: str) -> tuple[pipeline.Inputs, list[Problem]]:
    inputs = pipeline.validate_exports(config, exports, cycle)
    problems = list(inputs.problems)
    if inputs.ok:
        problems += pipeline.compare_with_history(inputs, MemoryHistoryStore()).problems
    return inputs, problems


def test_the_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 20
    kinds = {yaml.safe_load((CORPUS / c / "expect.yaml").read_text())["severity"] for c in CASES}
    assert kinds == {"error", "warning", "none"}


@pytest.mark.parametrize("name", CASES)
def test_each_fault_is_named_at_its_place(name: str, tmp_path: Path) -> None:
    config, exports, expect = case(name, tmp_path)
    inputs, problems = findings(config, exports, expect["cycle"])
    if expect["severity"] == "none":
        assert inputs.ok and len(inputs.records) == expect["records"]
        return
    hits = [p for p in problems if p.severity.value == expect["severity"]
            and expect["message"] in p.message]
    assert hits, "\n".join(p.as_line() for p in problems)
    p = hits[0]
    assert (p.file, p.row, p.column) == (expect["file"], expect["row"], expect["column"]), \
        p.as_line()
    assert inputs.ok == (expect["severity"] != "error")


@pytest.fixture(scope="module")
def prior_output(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Path:
    """Outputs and a history store from an earlier good run, which bad runs must not touch."""
    out = tmp_path_factory.mktemp("prior") / "out"
    assert main(["demo", "--out", str(out)]) == 0
    return out


ERROR_CASES = [c for c in CASES
               if yaml.safe_load((CORPUS / c / "expect.yaml").read_text())["severity"] == "error"]


@pytest.mark.parametrize("name", ERROR_CASES)
def test_errors_stop_the_run_and_change_nothing(name: str, tmp_path: Path, prior_output: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config, exports, expect = case(name, tmp_path)
    out = tmp_path / "out"
    shutil.copytree(prior_output, out)
    before = tree_digest(out)
    code = main(["run", "--config", str(config), "--exports", str(exports), "--out", str(out),
                 "--cycle", expect["cycle"]])
    err = capsys.readouterr().err
    assert code == 1
    assert f"ERROR: {expect['file']}" in err and expect["message"] in err
    assert tree_digest(out) == before
