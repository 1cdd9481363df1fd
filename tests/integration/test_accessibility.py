"""Accessibility of both editions: axe-core (WCAG 2.2 A/AA) in headless Chromium over the
HTML, and every PDF page rendered to an image to check that nothing runs into the margin.

Chromium, poppler-utils and the npm packages are installed by `scripts/setup.sh`; on a
machine without them these tests skip, except under CI where they must run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tasks.run.analysis import compare_with_history
from tasks.run.inputs import validate_exports
from tasks.run.papers import Paper, render_briefing
from tasks.store.history import MemoryHistoryStore
from tests.conftest import DEMO_CONFIG, DEMO_EXPORTS, ROOT, TODAY

A11Y = ROOT / "tools" / "a11y"
pytestmark = pytest.mark.slow
DFE = ROOT.parent / "shared" / "data" / "dfe"


def need(ok: bool, what: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing: scripts/setup.sh should have installed it")
        pytest.skip(f"{what} is not installed (scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def papers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Paper]:
    out: dict[str, Paper] = {}
    runs = [("demo", DEMO_CONFIG, DEMO_EXPORTS)]
    if DFE.is_dir():
        runs.append(("torbay", ROOT / "config" / "dfe", DFE))
    for name, config, exports in runs:
        inputs = validate_exports(config, exports, today=TODAY)
        analysed = compare_with_history(inputs, MemoryHistoryStore())
        rendered = render_briefing(inputs, analysed, datetime(2024, 11, 5).astimezone())
        for edition, paper in rendered.editions.items():
            out[f"{name}-{edition.value}"] = paper
    return out


def test_axe_core_finds_no_violations(papers: dict[str, Paper],
                                      tmp_path: Path) -> None:
    need(shutil.which("node") is not None, "node")
    need((A11Y / "node_modules" / "axe-core").is_dir(), "tools/a11y/node_modules")
    need(Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).exists(), "chromium")
    files = []
    for name, paper in papers.items():
        f = tmp_path / f"{name}.html"
        f.write_text(paper.html, encoding="utf-8")
        files.append(str(f))
    done = subprocess.run(["node", str(A11Y / "axe.mjs"), *files], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert set(results) == set(files)
    assert {f: v for f, v in results.items() if v} == {}


def _pgm(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    parts = data.split(maxsplit=4)  # P5, width, height, maxval, pixels
    assert parts[0] == b"P5"
    w, h = int(parts[1]), int(parts[2])
    return w, h, parts[4][-w * h:]


def test_pdf_pages_stay_inside_the_margins(papers: dict[str, Paper],
                                           tmp_path: Path) -> None:
    need(shutil.which("pdftoppm") is not None, "pdftoppm (poppler-utils)")
    dpi = 50
    side = int(14 / 25.4 * dpi)  # the page margin is 18 mm; nothing within 14 mm of the edge
    for name, paper in papers.items():
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(paper.pdf)
        subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), str(pdf), str(tmp_path / name)],
                       check=True, timeout=300)
        pages = sorted(tmp_path.glob(f"{name}-*.pgm"))
        assert len(pages) >= 5
        for page in pages:
            w, h, px = _pgm(page)
            assert abs(w / h - 210 / 297) < 0.01, f"{page.name} is not A4"
            for y in range(h):
                row = px[y * w:(y + 1) * w]
                assert min(row[:side]) > 240 and min(row[w - side:]) > 240, \
                    f"{page.name}: something runs into the side margin at y={y}"
