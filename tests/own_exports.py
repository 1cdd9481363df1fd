"""A council's own month, as its exports really arrive: the analysts' scorecard workbook
(title rows, section rows, its own Target and Polarity columns, `n/a`, `-` and blank cells,
one `#DIV/0!`), the case-management system's CSV (one indicator also on the scorecard, to
more decimal places, with numerator and denominator), and a finance export in pounds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook

from tasks.settings.periods import shift

CYCLE = "2024-10"
MONTHS = [shift(CYCLE, k) for k in range(-12, 1)]  # October 2023 to October 2024

INDICATORS: list[dict[str, Any]] = [
    {"code": "FD01", "title": "Contacts with a decision within 1 working day",
     "service_area": "Front door", "unit": "percent", "polarity": "higher_is_better",
     "target": 95, "tolerance": 3, "owner": "front_door",
     "definition": "Contacts decided within one working day, as a percentage of contacts."},
    {"code": "CL01", "title": "Care leavers not in education, employment or training",
     "service_area": "Care leavers", "unit": "percent", "polarity": "lower_is_better",
     "target": 40, "owner": "care_leavers",
     "definition": "Care leavers aged 19 to 21 who are NEET, as a percentage of them."},
    {"code": "WF03", "title": "Average caseload per social worker", "service_area": "Workforce",
     "unit": "number", "polarity": "lower_is_better", "target": 16, "owner": "psw",
     "definition": "Cases held divided by case-holding social workers (FTE)."},
    {"code": "YJ03", "title": "Young people in custody", "service_area": "Youth justice",
     "unit": "count", "polarity": "lower_is_better", "owner": "psw",
     "definition": "Young people remanded or sentenced to custody at month end."},
    {"code": "ED03", "title": "Children missing education", "service_area": "Education",
     "unit": "count", "polarity": "lower_is_better", "owner": "psw",
     "definition": "Children of compulsory school age not on a school roll at month end."},
    {"code": "FN01", "title": "Average weekly cost of a residential placement",
     "service_area": "Finance", "unit": "money", "polarity": "lower_is_better",
     "target": 5500, "decimals": 0, "owner": "care_leavers",
     "definition": "Spend on residential placements in the month divided by placement weeks."},
]
OWNERS = {
    "front_door": {"name": "Alex Front", "role": "Head of Front Door",
                   "email": "front.door@example.gov.uk"},
    "care_leavers": {"name": "Sam Leaver", "role": "Head of Care Leavers",
                     "email": "care.leavers@example.gov.uk"},
    "psw": {"name": "Pat Worker", "role": "Principal Social Worker",
            "email": "psw@example.gov.uk"},
}
BRIEFING = {
    "authority": {"name": "Testshire", "code": "998"},
    "committee": "Children's Scrutiny Panel",
    "contact": {"name": "Performance Team", "role": "Performance", "phone": "01632 960 001",
                "email": "performance@example.gov.uk"},
    "recipients": [{"name": "Clerk", "email": "clerk@example.gov.uk"}],
    "mail": {"sender": "performance@example.gov.uk"},
}
SOURCES: dict[str, Any] = {"sources": [
    {"name": "Analysts' scorecard", "files": "scorecard*.xlsx", "layout": "wide",
     "sheet": "Scorecard", "indicator_column": "Code", "title_column": "Indicator",
     "target_column": "Target", "polarity_column": "Good is"},
    {"name": "Case-management system", "files": "mosaic_*.csv", "layout": "long",
     "columns": {"indicator": "Measure", "period": "Month", "value": "Result",
                 "numerator": "Num", "denominator": "Den"}},
    {"name": "Finance", "files": "finance_*.csv", "layout": "long"},
]}

# The scorecard's rows: code, title, target, polarity, then a value per month.
FD01 = [96.0, 95.5, 94.8, 96.2, 95.1, 93.9, 94.4, 96.0, 95.7, 95.2, 94.9, 95.3, "#DIV/0!"]
CL01 = [0.41, 0.43, 0.44, 0.45, 0.47, 0.46, 0.48, 0.49, 0.50, 0.51, 0.50, 0.51, 0.52]
WF03 = [17.5, 17.0, "n/a", 17.4, 17.2, 18.0, "N/A", 16.8, 16.5, 16.9, 16.4, 16.2, 16.0]
YJ03 = [3, 3, 2, "-", 3, 2, 4, 3, 3, 2, 2, 3, 4]
ED03 = [22, 22, 20, 18, 18, 21, 19, 20, 22, 23, 21, 20, None]


def scorecard(path: Path, rows: dict[str, list[Any]] | None = None) -> None:
    """The analysts' workbook as they save it."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Scorecard"
    ws["A1"] = "Testshire Council: children's services scorecard"
    ws.merge_cells("A1:F1")
    ws["A2"] = "OFFICIAL-SENSITIVE. Produced by the Performance Team."
    head: list[Any] = ["Code", "Indicator", "Target", "Good is"] + [
        dt.datetime(int(m[:4]), int(m[5:]), 1) for m in MONTHS]
    for j, h in enumerate(head, 1):
        c = ws.cell(4, j, h)
        if isinstance(h, dt.datetime):
            c.number_format = "mmm-yy"
    body = rows or {"FD01": FD01, "CL01": CL01, "WF03": WF03, "YJ03": YJ03, "ED03": ED03}
    meta = {"FD01": ("Contacts decided in 1 day", 0.95, "Higher is better"),
            "CL01": ("Care leavers NEET", "40%", "Lower is better"),
            "WF03": ("Caseload", 15, "Low"),
            "YJ03": ("Young people in custody", None, "Lower"),
            "ED03": ("Children missing education", None, "↓")}
    sections = {"FD01": "Front door", "CL01": "Care leavers", "WF03": "Workforce"}
    r = 5
    for code, values in body.items():
        if code in sections:
            ws.cell(r, 1, sections[code])
            r += 1
        title, target, good = meta[code]
        ws.cell(r, 1, code)
        ws.cell(r, 2, title)
        t = ws.cell(r, 3, target)
        if isinstance(target, float):
            t.number_format = "0%"
        ws.cell(r, 4, good)
        for j, v in enumerate(values, 5):
            c = ws.cell(r, j, v)
            if code in ("FD01", "CL01") and isinstance(v, float) and v <= 1:
                c.number_format = "0.0%"
        r += 1
    ws.cell(r + 1, 1, "Notes: October figures are provisional. Source: Mosaic, HR, YOT.")
    wb.save(path)


def write_council(folder: Path, sources: dict[str, Any] | None = None,
                  mosaic: str | None = None, briefing: dict[str, Any] | None = None,
                  indicators: list[dict[str, Any]] | None = None) -> tuple[Path, Path]:
    """(config folder, exports folder) for the council's month."""
    config, exports = folder / "config", folder / "exports"
    config.mkdir(parents=True)
    exports.mkdir()
    (config / "indicators.yaml").write_text(yaml.safe_dump(indicators or INDICATORS,
                                                           allow_unicode=True))
    (config / "owners.yaml").write_text(yaml.safe_dump(OWNERS))
    (config / "briefing.yaml").write_text(yaml.safe_dump(briefing or BRIEFING))
    (config / "sources.yaml").write_text(yaml.safe_dump(sources or SOURCES))
    scorecard(exports / "scorecard_2024-10.xlsx")
    (exports / "mosaic_2024-10.csv").write_text(
        mosaic if mosaic is not None else
        "Report: care leavers, run 01/11/2024 07:00\r\n\r\n"
        "Measure,Month,Result,Num,Den\r\n"
        "CL01,31/10/2024,51.9,54,104\r\n"
        "CL01,30/09/2024,51.0,52,102\r\n", encoding="utf-8")
    (exports / "finance_2024-10.csv").write_text(
        "indicator,period,value\r\n" + "".join(
            f'FN01,{m},"£{5100 + 25 * k:,}"\r\n' for k, m in enumerate(MONTHS)),
        encoding="utf-8")
    return config, exports
