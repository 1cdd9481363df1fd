"""Deep-dive packs: written only as a deep dive opens, restricted, attached to the owner's
email, listed in the paper."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from tasks.adapters.mail import MemoryMailer
from tasks.analysing.deep_dives import DeepDive, Status
from tasks.presenting.context import build_context
from tasks.presenting.packs import opened_now
from tasks.reading.owner_returns import read_returns
from tasks.run.analysis import compare_with_history
from tasks.run.cycle import Resources, run_cycle
from tasks.run.inputs import validate_exports
from tasks.run.papers import deep_dive_packs, edition_figures
from tasks.settings.formatting import Edition
from tasks.store.history import SqlHistoryStore, default_store_url
from tests.conftest import TODAY
from tests.factories import make_config

GENERATED = datetime(2024, 11, 5, 9, 30).astimezone()


def test_a_pack_is_due_only_in_the_cycle_a_deep_dive_opens() -> None:
    config = make_config([{"code": "K1"}, {"code": "Q1", "frequency": "quarterly"}])
    register = [DeepDive("K1", "2024-09", "o1", Status.OPEN),
                DeepDive("K1", "2024-05", "o1", Status.CLOSED),
                DeepDive("Q1", "2024-Q3", "o1", Status.OPEN)]
    assert opened_now(register, config, "2024-09") == [register[0], register[2]]
    assert opened_now(register, config, "2024-10") == [register[2]]  # Q3 is still current
    assert opened_now(register, config, "2024-12") == []


def test_packs_across_two_cycles_in_a_real_store(tmp_path: Path) -> None:
    """September opens six deep dives (CL01's named by deep_dives.yaml; CP03's because the
    CIN census gives the September figure the scorecard leaves out, and it is the second
    decline in a row); October finds them open and opens two others: a pack each as it
    opens, and only then."""
    store = SqlHistoryStore(default_store_url(tmp_path))
    made: dict[str, set[str]] = {}
    for cycle in ("2024-09", "2024-10"):
        inputs = validate_exports(Path("config"), Path("demo/exports"), cycle, today=TODAY)
        analysed = compare_with_history(inputs, store)
        ctx = build_context(inputs.config, edition_figures(
            inputs, analysed, Edition.RESTRICTED), inputs.cycle, inputs.commentary)
        packs = deep_dive_packs(inputs, analysed, ctx)
        made[cycle] = set(packs)
        store.save_deep_dives("999", analysed.register)
        if cycle == "2024-09":
            html = packs["999-deep-dive-LA02-2024-09"][1]
            soup = BeautifulSoup(html, "html.parser")
            assert "Restricted" in soup.select_one(".edition").get_text()  # type: ignore[union-attr]
            assert soup.select_one("#pack-figures svg.chart") is not None
            assert [h.get_text() for h in soup.select("table.breakdown tbody th")] == [
                "East", "North", "South"]
            area = [th.get_text() for th in soup.select("#pack-area tbody th")]
            assert len(area) == 5 and not any("3 or more placements" in a for a in area)
            assert len(soup.select("ol.questions li")) == 4
    assert made["2024-09"] == {f"999-deep-dive-{c}-2024-09"
                               for c in ("CL01", "CP03", "LA02", "LA04", "LA06", "YJ03")}
    assert made["2024-10"] == {"999-deep-dive-CP04-2024-10", "999-deep-dive-FD04-2024-10"}
    store.dispose()


@pytest.mark.slow
def test_a_run_writes_the_packs_and_attaches_them_to_the_owners_email(tmp_path: Path) -> None:
    inputs = validate_exports(Path("config"), Path("demo/exports"), "2024-10", today=TODAY)
    mailer = MemoryMailer()
    store = SqlHistoryStore(default_store_url(tmp_path))
    done = run_cycle(inputs, Resources(store, tmp_path, mailer,
                                                         clock=lambda: GENERATED,
                                                         return_rules=False),
                              list(Edition))
    pdf = done.folder / "restricted" / "999-deep-dive-YJ03-2024-10.pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert "Deep-dive pack: Young people in custody" in text and "Suggested questions" in text
    to_yj = [m for m in mailer.sent if "daniel.price" in str(m["To"])]
    assert len(to_yj) == 1
    names = [a.get_filename() for a in to_yj[0].iter_attachments()]
    assert "999-deep-dive-YJ03-2024-10.pdf" in names
    body = to_yj[0].get_body(("plain",))
    assert body is not None and "its pack (999-deep-dive-YJ03-2024-10.pdf" in body.get_content()
    others = [a.get_filename() for m in mailer.sent if m is not to_yj[0]
              for a in m.iter_attachments()]
    assert "999-deep-dive-YJ03-2024-10.pdf" not in others
    # The owner's return workbook: in the restricted set, on their message alone, and read
    # back by the next run as their answer (tests/unit/reading/test_owner_returns.py has
    # the details).
    name = "999-2024-10-return-head_youth_justice.xlsx"
    workbook = done.folder / "restricted" / name
    assert name in names and name not in others
    assert not (done.folder / "public" / name).exists()
    returned = read_returns([workbook.parent], inputs.config, "2024-10",
                            inputs.return_key)  # every owner's
    assert returned.problems == []
    assert {d.indicator for d in returned.deep_dives} == {"CL01", "CP04", "FD04", "LA02",
                                                          "YJ03"}
    paper = BeautifulSoup(done.rendered.restricted.html, "html.parser")
    assert "999-deep-dive-YJ03-2024-10.pdf" in paper.select_one("#deep-dives").get_text()  # type: ignore[union-attr]
    # The same cycle again: the owners' messages went once, and are not sent again.
    again = run_cycle(inputs, Resources(store, tmp_path, mailer,
                                                          clock=lambda: GENERATED),
                               list(Edition))
    assert all(d.status == "already_sent" for d in again.deliveries)
    store.dispose()
