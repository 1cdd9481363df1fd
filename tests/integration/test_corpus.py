"""The corpus of malformed exports (tests/corpus/, one real-world fault each): every fault
gives its finding at the right place; an error about a whole file leaves store and outputs
untouched, and so does any error with --strict; an error in one cell withholds that figure
alone."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.cli import main
from tasks.adapters.outputs import in_set
from tasks.reading.problems import Problem
from tasks.run.analysis import compare_with_history
from tasks.run.inputs import Inputs, validate_exports
from tasks.store.history import MemoryHistoryStore
from tests.conftest import DEMO_CONFIG, ROOT, TODAY, tree_digest

CORPUS = ROOT / "tests" / "corpus"
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


def findings(config: Path, exports: Path, cycle: str,
             strict: bool = False) -> tuple[Inputs, list[Problem]]:
    inputs = validate_exports(config, exports, cycle, strict=strict, today=TODAY)
    problems = list(inputs.problems)
    if inputs.ok:
        problems += compare_with_history(inputs, MemoryHistoryStore()).problems
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
    assert inputs.ok == (expect["severity"] != "error" or not expect["stops"])
    strict, _ = findings(config, exports, expect["cycle"], strict=True)
    assert strict.ok == (expect["severity"] != "error")


CELL_CASES = [c for c in CASES
              if yaml.safe_load((CORPUS / c / "expect.yaml").read_text()).get("stops") is False]


@pytest.mark.parametrize("name", CELL_CASES)
def test_a_cell_fault_withholds_its_figure_alone(name: str, tmp_path: Path) -> None:
    """The faulty figure is withheld (not among the records to store), saying where the
    fault is; a row whose period is unreadable or in the future withholds nothing."""
    config, exports, expect = case(name, tmp_path)
    inputs, _ = findings(config, exports, expect["cycle"])
    assert inputs.ok
    keys = set(zip(inputs.records["indicator"], inputs.records["period"], strict=True))
    assert not keys & set(inputs.withheld)
    where = f"{expect['file']}, row {expect['row']}, column '{expect['column']}'"
    placed = name not in {"06-future-period", "09-impossible-month"}
    assert (where in inputs.withheld.values()) == placed, inputs.withheld


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
    """A file-level error always stops the run; with --strict, so does any other."""
    config, exports, expect = case(name, tmp_path)
    out = tmp_path / "out"
    shutil.copytree(prior_output, out)
    before = tree_digest(out)
    code = main(["run", "--config", str(config), "--exports", str(exports), "--out", str(out),
                 "--cycle", expect["cycle"], *([] if expect["stops"] else ["--strict"])])
    err = capsys.readouterr().err
    assert code == 1
    assert f"ERROR: {expect['file']}" in err and expect["message"] in err
    assert tree_digest(out) == before


@pytest.mark.parametrize("name", ["01-text-in-value", "16-wide-text-in-month-column"])
def test_a_cell_fault_still_gives_the_paper(name: str, tmp_path: Path, prior_output: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Without --strict: the paper, with its own exit code, saying what was withheld."""
    config, exports, expect = case(name, tmp_path)
    out = tmp_path / "out"
    shutil.copytree(prior_output, out)
    code = main(["run", "--config", str(config), "--exports", str(exports), "--out", str(out),
                 "--cycle", expect["cycle"]])
    printed = capsys.readouterr()
    assert code == 4, printed.err
    assert "withheld: error in the source" in printed.out
    html = in_set(out / "999" / expect["cycle"], "briefing-restricted.html").read_text()
    assert "withheld: error in the source" in html.lower() or "Withheld" in html
