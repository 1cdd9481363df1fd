"""The regional flow over real DfE data: authorities mapped across processes, one failing
alone, and an overview that ranks them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.conftest import ROOT

DFE = ROOT.parent / "shared" / "data" / "dfe"
pytestmark = pytest.mark.skipif(not DFE.is_dir(), reason="../shared/data/dfe is not beside "
                                "the project")


def test_regional_run(prefect_harness: None, tmp_path: Path) -> None:
    from flows.regional_briefing import regional_briefing

    out = tmp_path / "out"
    folder = Path(regional_briefing(authorities=["880", "Barnet", "302", "nowhere", "835"],
                                    out_dir=str(out)))
    assert folder == out / "regional" / "2025"
    for code in ("880", "302"):
        s = json.loads((out / code / "2025" / "summary.json").read_text())
        assert s["authority"]["code"] == code and s["notifications"] == []
        assert (out / code / "2025" / "briefing-public.pdf").read_bytes().startswith(b"%PDF")
    soup = BeautifulSoup((folder / "overview.html").read_text(), "html.parser")
    rows = [th.get_text(" ", strip=True) for th in soup.select("tbody th[scope=row]")]
    assert sorted(rows) == ["Barnet (302)", "Torbay (880)"]  # Barnet once, by name or code
    text = soup.get_text()
    assert "No briefing for: nowhere (authority 'nowhere' is not a DfE code" in text
    # Dorset's old council (835) last reported in 2019: left out, and said why.
    assert "Dorset (no figures for reporting year 2025" in text
    assert not (out / "835").exists()
    # Worst first: Torbay has more red indicators than Barnet in 2025.
    assert rows[0] == "Torbay (880)"
    assert (folder / "overview.pdf").read_bytes().startswith(b"%PDF")
