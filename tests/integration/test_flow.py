"""The whole monthly run under the real Prefect engine, a real SQLite store and outbox."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from flows.cli import main
from tasks.adapters.outputs import in_set
from tests.conftest import DEMO_CONFIG, ROOT, tree_digest
from tests.e2e.test_cli import count_reading

INDICATOR_FIELDS = {"code", "value", "target", "rag", "previous", "change", "direction",
                    "consecutive_declines", "deep_dive", "year_ago", "owner"}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Path:
    out = tmp_path_factory.mktemp("flow") / "out"
    with pytest.MonkeyPatch.context() as env:  # DfE's rules over the demo's SSDA903, for real
        env.setenv("BRIEFING_RETURN_RULES", "on")
        assert main(["demo", "--out", str(out)]) == 0
    return out


def test_outputs_and_summary_contract(demo_run: Path) -> None:
    folder = demo_run / "999" / "2024-10"
    assert {str(p.relative_to(folder)) for p in folder.rglob("*")} == {
        "public", "restricted", "set.json",
        # public/: what may be published, and nothing else.
        *(f"public/{n}" for n in ("briefing.html", "briefing.pdf", "briefing-public.html",
                                  "briefing-public.pdf", "briefing-public.xlsx",
                                  "indicators-public.csv")),
        *(f"restricted/{n}" for n in ("summary.json", "briefing-restricted.html",
                                      "briefing-restricted.pdf", "briefing-restricted.xlsx",
                                      "data-quality.xlsx")),
        # The deep dives that open in October (CL01's opened in September: no pack).
        *(f"restricted/999-deep-dive-{c}-2024-10.{x}" for c in ("CP04", "FD04", "LA02", "YJ03")
          for x in ("html", "pdf")),
        # Each owner's return workbook: every owner with an exception or open deep dive.
        *(f"restricted/999-2024-10-return-{o}.xlsx" for o in (
            "head_assessment", "head_care_leavers", "head_cla", "head_front_door",
            "head_safeguarding", "head_youth_justice", "principal_social_worker"))}
    assert in_set(folder, "briefing.pdf").read_bytes().startswith(b"%PDF-")
    assert in_set(folder, "briefing.pdf").read_bytes() == \
        in_set(folder, "briefing-public.pdf").read_bytes()
    assert "Restricted edition" in in_set(folder, "briefing-restricted.html").read_text()
    s = json.loads(in_set(folder, "summary.json").read_text())
    assert s["cycle"] == "2024-10" and s["authority"]["code"] == "999" and s["generated_at"]
    assert len(s["indicators"]) == 33
    for ind in s["indicators"]:
        assert set(ind) >= INDICATOR_FIELDS
    cl01 = next(i for i in s["indicators"] if i["code"] == "CL01")
    assert (cl01["value"], cl01["target"], cl01["rag"], cl01["deep_dive"]) == (52.0, 40.0,
                                                                             "red", True)
    assert cl01["previous"] == 50.0 and cl01["direction"] == "declining"
    assert cl01["consecutive_declines"] == 3 and cl01["owner"] == "head_care_leavers"
    spc = cl01["spc"]
    assert {"mean", "lower_limit", "upper_limit", "variation", "assurance", "rules",
            "points"} <= set(spc)
    assert spc["variation"] == "special_cause_concern" and "outside_limits" in spc["rules"]
    assert spc["assurance"] == "consistently_failing" and len(spc["points"]) == 24
    assert spc["lower_limit"] < spc["mean"] < spc["upper_limit"] < 52.0
    assert cl01["direction_12"] == "declining"
    dq = s["data_quality"]
    assert {"severity", "file", "row", "column", "message"} <= set(dq[0])
    assert len(s["notifications"]) == 9
    for n in s["notifications"]:
        assert {"owner", "to", "indicators", "status"} <= set(n) and n["status"] == "sent"
    assert len(list((demo_run / "999" / "outbox" / "2024-10").glob("*.eml"))) == 9


def test_the_demo_903_data_quality_and_child_ids_in_the_restricted_workbook_only(
        demo_run: Path) -> None:
    """The demo's SSDA903 under the real engine and DfE's rules run by the validators: CL01
    (52%, the scorecard's figure too) rests on 100 care leavers, 14 with no activity
    recorded (the inspectors' case), said beside it in both editions; the restricted
    data-quality workbook names each planted record by child id and rule, and nothing else
    the run wrote holds a child id (the store, summary.json, papers, workbooks, emails)."""
    from io import BytesIO

    from bs4 import BeautifulSoup
    from openpyxl import load_workbook

    folder = demo_run / "999" / "2024-10"
    planted = json.loads((ROOT / "demo" / "exports" / "ssda903" / "planted.json").read_text())
    silent = planted["activity not recorded (OC3 ACTIV blank)"]
    restricted = BeautifulSoup(in_set(folder, "briefing-restricted.html").read_text(),
                               "html.parser").get_text(" ")
    assert ("Computed from the SSDA903 return: rests on 100 records; 14 records fail DfE "
            "rules: Data entry for activity after leaving care is invalid (rule 132: 14)"
            ) in " ".join(restricted.split())
    public = " ".join(BeautifulSoup(in_set(folder, "briefing.html").read_text(),
                                    "html.parser").get_text(" ").split())
    assert ("Computed from 100 children's records, some of which have errors: 14 of them "
            "fail DfE's rules") in public
    book = load_workbook(BytesIO((folder / "restricted" / "data-quality.xlsx").read_bytes()))
    rows = list(book["Failing records"].iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in rows if r[5] == "132") == silent
    assert {r[7] for r in rows if r[5] == "132"} == {"CL01"}
    assert {r[0] for r in rows if r[5] == "356"} == set(
        planted["episode ends before it starts (DEC before DECOM)"])
    ids = set(re.findall(r"^([DL]\d{5}),", (ROOT / "demo" / "exports" / "ssda903" /
                                            "header.csv").read_text(), re.M))
    assert len(ids) == 420
    written = [p for p in demo_run.rglob("*") if p.is_file() and p.name != "data-quality.xlsx"]
    for path in written:
        data = path.read_bytes()
        text = (xlsx_text(data) if path.suffix == ".xlsx" else
                pdf_text(data) if path.suffix == ".pdf" else data.decode("utf-8", "replace"))
        assert not {i for i in ids if re.search(rf"\b{i}\b", text)}, path


def xlsx_text(data: bytes) -> str:
    from io import BytesIO
    from zipfile import ZipFile

    with ZipFile(BytesIO(data)) as book:
        return "".join(book.read(n).decode("utf-8") for n in book.namelist())


def pdf_text(data: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)


def test_history_is_stored_in_sqlite(demo_run: Path) -> None:
    with sqlite3.connect(demo_run / "history.sqlite") as db:
        (n,) = db.execute("select count(*) from observations where authority='999'").fetchone()
        (sent,) = db.execute("select count(*) from ledger where status='sent'").fetchone()
    assert n == 1186 and sent == 9


def test_rerun_sends_nothing_again(demo_run: Path) -> None:
    before = tree_digest(demo_run / "999" / "outbox" / "2024-10")
    assert main(["demo", "--out", str(demo_run)]) == 0
    s = json.loads(in_set(demo_run / "999" / "2024-10", "summary.json").read_text())
    assert {n["status"] for n in s["notifications"]} == {"already_sent"}
    assert tree_digest(demo_run / "999" / "outbox" / "2024-10") == before


def test_bad_exports_change_nothing(demo_run: Path, tmp_path: Path,
                                    capfd: pytest.CaptureFixture[str],
                                    caplog: pytest.LogCaptureFixture) -> None:
    exports = tmp_path / "exports"
    shutil.copytree(Path(DEMO_CONFIG).parent / "demo" / "exports", exports)
    bad = exports / "mosaic_scorecard_2024-10.csv"
    lines = bad.read_text(encoding="utf-8-sig").splitlines()
    lines[3] = lines[3].replace("21.2%", "21.2.%")  # a typing slip in row 4
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = tree_digest(demo_run)
    # An error in one cell stops the run only when strict (otherwise it withholds that
    # figure: tests/integration/test_corpus.py).
    code = main(["run", "--config", str(DEMO_CONFIG), "--exports", str(exports),
                 "--out", str(demo_run), "--cycle", "2024-10", "--strict"])
    err = capfd.readouterr().err  # the file descriptor: Prefect's log lines too
    assert code == 1
    assert "ERROR: mosaic_scorecard_2024-10.csv, row 4, column 'Value'" in err
    assert "nothing was stored or written" in err
    # An outcome, not a crash: Prefect's line that the run failed, without a traceback
    # printed above the errors themselves.
    (failed,) = [r for r in caplog.records
                 if "Encountered exception during execution" in r.getMessage()]
    assert "ValidationFailed" in failed.getMessage() and failed.exc_info is None
    assert "Traceback" not in err, err
    assert tree_digest(demo_run) == before


def test_revised_history_is_stored_and_reported(demo_run: Path, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    shutil.copytree(Path(DEMO_CONFIG).parent / "demo" / "exports", exports)
    f = exports / "mosaic_scorecard_2024-09.csv"
    f.write_text(f.read_text(encoding="utf-8-sig").replace("CL01,2024-09,50%,50,100",
                                                           "CL01,2024-09,49%,49,100"),
                 encoding="utf-8")
    out = tmp_path / "out"
    shutil.copytree(demo_run, out)
    assert main(["run", "--config", str(DEMO_CONFIG), "--exports", str(exports),
                 "--out", str(out)]) == 0
    s = json.loads(in_set(out / "999" / "2024-10", "summary.json").read_text())
    assert s["revisions"] == [{"indicator": "CL01", "period": "2024-09", "old_value": 50.0,
                               "new_value": 49.0}]
    assert any("revised" in p["message"] and p["severity"] == "warning"
               for p in s["data_quality"])
    with sqlite3.connect(out / "history.sqlite") as db:
        (v,) = db.execute("select value from observations where indicator='CL01' "
                          "and period='2024-09'").fetchone()
    assert v == 49.0


def test_the_flow_gives_back_a_typed_result(demo_exports: Path, tmp_path: Path,
                                            prefect_harness: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The command reads the run's result as numbers and paths, never as text to parse. The
    run's name needs the latest cycle, so it reads the exports: the run takes what it read
    rather than reading them again, and loads the config once (issue 25)."""
    from flows.monthly_briefing import BriefingDone, monthly_briefing

    export = demo_exports / "mosaic_scorecard_2024-10.csv"
    text = export.read_text(encoding="utf-8-sig")
    export.write_text(text.replace("FD02,2024-10,584.5,", "FD02,2024-10,abc,"))
    out = tmp_path / "out"
    calls = count_reading(monkeypatch)
    done = monthly_briefing(config_dir=str(DEMO_CONFIG), exports_dir=str(demo_exports),
                            out_dir=str(out))
    assert calls == {"load_config": 1, "read_exports": 1}
    assert isinstance(done, BriefingDone)
    assert (done.cell_errors, done.withheld, done.cycle) == (1, 1, "2024-10")
    assert done.folder == out / "999" / "2024-10" and done.summary.is_file()
    assert json.loads(done.summary.read_text())["cycle"] == "2024-10"

