"""Every indicator of the demo (33) and of Torbay's real briefing (12) read by the project's
SPC and by the point-by-point transcription of NHSRplotthedots in tests/spc_reference.py:
the same limits (to 1e-6), variation, assurance and flagged points.

R is not available here, so "agrees with NHSRplotthedots" is checked against that
transcription; tests/unit/analysing/test_spc_plotthedots.py ties the transcribed behaviour to the
package's own test expectations.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tasks.analysing.spc import NO_VARIATION
from tasks.run.analysis import compare_with_history
from tasks.run.inputs import validate_exports
from tasks.settings.config import Indicator
from tasks.store.history import MemoryHistoryStore
from tests import spc_reference as ref
from tests.conftest import DEMO_CONFIG, DEMO_EXPORTS, ROOT, TODAY

DFE = ROOT.parent / "shared" / "data" / "dfe"
IMPROVEMENT = {"higher_is_better": 1, "lower_is_better": -1, "neutral": 0}


def _readings(config: Path, exports: Path) -> list[tuple[str, pd.Series, Indicator, bool]]:
    """Each indicator's SPC row, its catalogue entry, and whether it has a figure this
    period (without one the briefing gives no reading rather than an older month's)."""
    inputs = validate_exports(config, exports, today=TODAY)
    analysed = compare_with_history(inputs, MemoryHistoryStore())
    cat = inputs.config.by_code()
    has_value = dict(zip(analysed.analysis["code"], analysed.analysis["value"].notna(),
                         strict=True))
    return [(str(code), row, cat[str(code)], bool(has_value[code]))
            for code, row in analysed.spc.set_index("code").iterrows()]


def _briefings() -> list[tuple[str, pd.Series, Indicator, bool]]:
    out = _readings(DEMO_CONFIG, DEMO_EXPORTS)
    if DFE.is_dir():
        out += _readings(ROOT / "config" / "dfe", DFE)
    return out


BRIEFINGS = _briefings()


def test_all_45_indicators_are_checked() -> None:
    assert len(BRIEFINGS) == (45 if DFE.is_dir() else 33)
    assert all(row["method"] == "plotthedots" for _, row, _, _ in BRIEFINGS)


@pytest.mark.parametrize(("code", "row", "ind", "has_value"), BRIEFINGS,
                         ids=[b[0] for b in BRIEFINGS])
def test_agrees_with_nhsrplotthedots(code: str, row: pd.Series, ind: Indicator,
                                     has_value: bool) -> None:
    values = [p["value"] for p in row["points"]]
    expected = ref.plotthedots(values, IMPROVEMENT[ind.polarity.value], ind.target)
    assert row["n_chart"] == len(values)
    assert row["mean"] == pytest.approx(expected.means[-1], abs=1e-6)
    assert row["lower"] == pytest.approx(expected.lower[-1], abs=1e-6)
    assert row["upper"] == pytest.approx(expected.upper[-1], abs=1e-6)
    assert [p["special"] or "" for p in row["points"]] == expected.kinds
    assert row["assurance"] == expected.assurance
    assert row["variation"] == (expected.variation if has_value else NO_VARIATION)
    assert bool(row["trial"]) == expected.warning
