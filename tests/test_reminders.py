"""Commentary reminders and late-paper notices, ahead of the meeting on 28 November 2024
(papers by 20 November, commentary by 15 November, reminders from 13 November)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from flows.reminders import meeting_reminders
from tasks.config import load_config
from tests.conftest import DEMO_CONFIG, DEMO_EXPORTS

CONFIG = load_config(DEMO_CONFIG)


def summary(*breaches: tuple[str, str]) -> dict[str, Any]:
    return {"indicators": [{"code": c, "owner": o, "title": f"Title {c}", "breach": True}
                           for c, o in breaches]
            + [{"code": "FD01", "owner": "head_front_door", "title": "x", "breach": False}]}


def test_owners_are_reminded_only_in_the_window_and_only_for_missing_commentary() -> None:
    from tasks.reminders import due_reminders

    s = summary(("CL01", "head_care_leavers"), ("AS01", "head_assessment"),
                ("AS02", "head_assessment"))
    commented = {"CL01", "AS01"}
    assert due_reminders(CONFIG, date(2024, 11, 12), s, commented) == []  # too early
    on_time = due_reminders(CONFIG, date(2024, 11, 13), s, commented)
    assert [r.to for r in on_time] == ["tom.bradley@example.gov.uk"]
    assert "Title AS02" in on_time[0].text and "Title AS01" not in on_time[0].text
    assert "15 November 2024" in on_time[0].text
    assert len(due_reminders(CONFIG, date(2024, 11, 15), s, commented)) == 1
    assert due_reminders(CONFIG, date(2024, 11, 18), s, commented) == []  # past due


def test_the_clerk_hears_when_the_paper_is_late() -> None:
    from tasks.reminders import due_reminders

    assert due_reminders(CONFIG, date(2024, 11, 20), None, set()) == []  # due today
    late = due_reminders(CONFIG, date(2024, 11, 21), None, set())
    assert [r.to for r in late] == ["scrutiny.clerk@example.gov.uk"]
    assert "20 November 2024" in late[0].text and "October 2024" in late[0].text
    assert due_reminders(CONFIG, date(2024, 11, 21), summary(), set()) == []  # produced


def test_reminders_flow_sends_each_once(prefect_harness: None, tmp_path: Path) -> None:
    out = tmp_path / "out"
    folder = out / "999" / "2024-10"
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(summary(("AS02", "head_assessment"),
                                                            ("CL01", "head_care_leavers"))))
    args = {"config_dir": str(DEMO_CONFIG), "exports_dir": str(DEMO_EXPORTS),
            "out_dir": str(out), "today": "2024-11-14"}
    assert meeting_reminders(**args) == [("tom.bradley@example.gov.uk", "sent")]
    assert meeting_reminders(**args) == [("tom.bradley@example.gov.uk", "already_sent")]
    emls = list((out / "999" / "reminders").glob("*.eml"))
    assert len(emls) == 1 and "Commentary due 15 November" in emls[0].read_text()
