"""Write the corpus of malformed exports: one folder per real-world fault.

Each folder holds the export files as a council might send them and `expect.yaml`: the
finding the product must give (severity, file, row, column, a phrase of the message).
Run `python tests/corpus/build.py` to rewrite them; the files are committed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
H = "Indicator,Period,Value,Numerator,Denominator,Authority\r\n"
GOOD = "FD01,2024-10,96.1%,,,999\r\nFD03,2024-10,21.0%,,,999\r\n"
WIDE_SOURCES = {"sources": [{"name": "scorecard", "files": "scorecard*.xlsx",
                             "layout": "wide", "indicator_column": "Code"}]}


def csv(body: str, encoding: str = "utf-8") -> bytes:
    return (H + body).encode(encoding)


def wide(rows: list[list[Any]], headers: list[Any] | None = None,
         percent: bool = False) -> bytes:
    import io

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "Scorecard"
    ws.merge_cells("A1:D1")
    head = headers or ["Code", "Indicator", dt.datetime(2024, 9, 1), dt.datetime(2024, 10, 1)]
    for j, h in enumerate(head, 1):
        c = ws.cell(3, j, h)
        if isinstance(h, dt.datetime):
            c.number_format = "mmm-yy"
    for i, r in enumerate(rows, 4):
        for j, v in enumerate(r, 1):
            c = ws.cell(i, j, v)
            if percent and isinstance(v, float) and j > 2:
                c.number_format = "0.0%"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def history(code: str, values: list[float], end: str = "2024-10") -> str:
    y, m = (int(x) for x in end.split("-"))
    lines = []
    for k, v in enumerate(reversed(values)):
        mm = y * 12 + m - 1 - k
        lines.append(f"{code},{mm // 12}-{mm % 12 + 1:02d},{v},,,999\r\n")
    return "".join(reversed(lines))


# name: (files, expectation, optional sources.yaml). An error about a whole file stops the
# run; an error in one cell withholds that figure unless the run is strict (`stops`).
FILE_LEVEL = {"05-wrong-authority", "08-missing-column", "10-corrupt-xlsx", "11-legacy-xls",
              "17-wide-no-month-headers"}
CASES: dict[str, tuple[dict[str, bytes], dict[str, Any], dict[str, Any] | None]] = {
    "01-text-in-value": ({"mosaic.csv": csv(GOOD + "FD04,2024-10,see note,,,999\r\n")},
                         {"severity": "error", "row": 4, "column": "Value",
                          "message": "expected a number"}, None),
    "02-percent-over-100": ({"mosaic.csv": csv("FD01,2024-10,105%,,,999\r\n")},
                            {"severity": "error", "row": 2, "column": "Value",
                             "message": "not a percentage"}, None),
    "03-negative-count": ({"mosaic.csv": csv("LA06,2024-10,-2,,,999\r\n")},
                          {"severity": "error", "row": 2, "column": "Value",
                           "message": "negative"}, None),
    "04-numerator-over-denominator": (
        {"mosaic.csv": csv("CL01,2024-10,52%,60,50,999\r\n")},
        {"severity": "error", "row": 2, "column": "Numerator",
         "message": "greater than denominator"}, None),
    "05-wrong-authority": ({"mosaic.csv": csv("FD01,2024-10,95%,,,880\r\n")},
                           {"severity": "error", "row": 2, "column": "Authority",
                            "message": "expected 999"}, None),
    "06-future-period": ({"mosaic.csv": csv(GOOD + "FD01,2099-01,95%,,,999\r\n")},
                         {"severity": "error", "row": 4, "column": "Period",
                          "message": "in the future"}, None),
    "07-conflicting-duplicate": (
        {"a.csv": csv(GOOD), "b.csv": csv("FD03,2024-10,23.5%,,,999\r\n")},
        {"severity": "error", "file": "a.csv", "row": 3, "column": "Value",
         "message": "more than once with different values"}, None),
    "08-missing-column": ({"mosaic.csv": b"Indicator,Period,Result\r\nFD01,2024-10,95\r\n"},
                          {"severity": "error", "row": 1, "column": None,
                           "message": "no header row with the columns"}, None),
    "09-impossible-month": ({"mosaic.csv": csv("FD01,2024-13,95%,,,999\r\n")},
                            {"severity": "error", "row": 2, "column": "Period",
                             "message": "expected a period"}, None),
    "10-corrupt-xlsx": ({"scorecard.xlsx": b"PK\x03\x04 truncated download"},
                        {"severity": "error", "row": None, "column": None,
                         "message": "could not be read as XLSX"}, None),
    "11-legacy-xls": ({"scorecard.xls": b"\xd0\xcf\x11\xe0 old workbook"},
                      {"severity": "error", "row": None, "column": None,
                       "message": "old Excel .xls format"}, None),
    "12-percent-sign-on-count": ({"mosaic.csv": csv("LA06,2024-10,5%,,,999\r\n")},
                                 {"severity": "error", "row": 2, "column": "Value",
                                  "message": "written as a percentage"}, None),
    "13-fractional-count": ({"mosaic.csv": csv("LA06,2024-10,12.5,,,999\r\n")},
                            {"severity": "error", "row": 2, "column": "Value",
                             "message": "not a whole number"}, None),
    "14-excel-error-value": ({"mosaic.csv": csv("CL01,2024-10,#DIV/0!,0,0,999\r\n")},
                             {"severity": "error", "row": 2, "column": "Value",
                              "message": "'#DIV/0!'"}, None),
    "15-quarter-for-monthly-indicator": (
        {"mosaic.csv": csv("FD01,2024-Q3,95%,,,999\r\n")},
        {"severity": "error", "row": 2, "column": "Period",
         "message": "not a monthly period"}, None),
    "16-wide-text-in-month-column": (
        {"scorecard.xlsx": wide([["WF03", "Caseload", 15.5, "TBC"]])},
        {"severity": "error", "row": 4, "column": "D (Oct 24)",
         "message": "found 'TBC'"}, WIDE_SOURCES),
    "17-wide-no-month-headers": (
        {"scorecard.xlsx": wide([["WF03", "Caseload", 15.5, 15.1]],
                                headers=["Code", "Indicator", "Month 1", "Month 2"])},
        {"severity": "error", "row": None, "column": None,
         "message": "no header row with months"}, WIDE_SOURCES),
    "18-blank-value-this-month": ({"mosaic.csv": csv(GOOD + "FD04,2024-10,,,,999\r\n")},
                                  {"severity": "warning", "row": 4, "column": "Value",
                                   "message": "blank cell"}, None),
    "19-value-disagrees-with-counts": (
        {"mosaic.csv": csv("CL01,2024-10,50%,52,100,999\r\n")},
        {"severity": "warning", "row": 2, "column": "Value",
         "message": "disagrees with numerator/denominator"}, None),
    "20-mistyped-indicator-code": ({"mosaic.csv": csv(GOOD + "FD4,2024-10,7%,,,999\r\n")},
                                   {"severity": "warning", "row": 4, "column": "Indicator",
                                    "message": "'FD4' is not in the catalogue"}, None),
    "21-same-row-twice": ({"mosaic.csv": csv(GOOD + "FD01,2024-10,96.1%,,,999\r\n")},
                          {"severity": "warning", "row": 2, "column": None,
                           "message": "more than once with the same value"}, None),
    "22-measure-not-collected": ({"mosaic.csv": csv(GOOD)},
                                 {"severity": "warning", "file": "(all exports)", "row": None,
                                  "column": None,
                                  "message": "CL01 Care leavers aged 19 to 21 not in education, "
                                             "employment or training: no figure for October "
                                             "2024"}, None),
    "23-workbook-left-open": ({"mosaic.csv": csv(GOOD), "~$scorecard.xlsx": b"lock"},
                              {"severity": "warning", "file": "~$scorecard.xlsx", "row": None,
                               "column": None, "message": "lock file"}, None),
    "24-suppressed-marker-in-local-export": (
        {"mosaic.csv": csv(GOOD + "YJ03,2024-10,c,,,999\r\n")},
        {"severity": "warning", "row": 4, "column": "Value",
         "message": "given as 'c'"}, None),
    "25-implausible-jump": (
        {"mosaic.csv": csv(history("CL01", [40.1, 40.6, 39.8, 40.3, 40.0, 40.4, 39.9, 40.2,
                                            52.0]))},
        {"severity": "warning", "file": "(history store)", "row": None, "column": "value",
         "message": "far larger change than its history makes plausible"}, None),
    "26-title-rows-bom-and-windows-1252": (
        {"mosaic.csv": ("Demo Borough – monthly scorecard (£ budget tab removed)\r\n\r\n"
                        + H + GOOD).encode("cp1252")},
        {"severity": "none", "records": 2}, None),
    "27-wide-totals-and-notes-rows": (
        {"scorecard.xlsx": wide([["WF03", "Caseload", 15.5, 15.1], ["Total", "", 31, 30],
                                 [None, None, None, None],
                                 ["Notes: provisional figures", None, None, None]])},
        {"severity": "warning", "row": 5, "column": "Code",
         "message": "'Total' is not in the catalogue"}, WIDE_SOURCES),
    "28-wide-not-available-markers": (
        {"scorecard.xlsx": wide([["WF03", "Caseload", "n/a", 15.1], ["YJ03", "Custody", 3, "-"],
                                 ["ED03", "Missing education", 21, None]])},
        {"severity": "warning", "row": 5, "column": "D (Oct 24)",
         "message": "YJ03 in October 2024 is given as '-' (not available)"}, WIDE_SOURCES),
}


def write_expectations() -> None:
    """Only the expect.yaml files (the exports, workbooks included, left as committed)."""
    for name, (files, expect, _) in CASES.items():
        expect = {"file": next(iter(files)), "cycle": "2024-10", **expect}
        if expect["severity"] == "error":
            expect["stops"] = name in FILE_LEVEL
        (HERE / name / "expect.yaml").write_text(yaml.safe_dump(expect, sort_keys=False))


def main() -> None:
    for old in HERE.iterdir():
        if old.is_dir():
            shutil.rmtree(old)
    for name, (files, expect, sources) in CASES.items():
        folder = HERE / name
        (folder / "exports").mkdir(parents=True)
        for fname, data in files.items():
            (folder / "exports" / fname).write_bytes(data)
        expect = {"file": next(iter(files)), "cycle": "2024-10", **expect}
        if expect["severity"] == "error":
            expect["stops"] = name in FILE_LEVEL
        (folder / "expect.yaml").write_text(yaml.safe_dump(expect, sort_keys=False))
        if sources:
            (folder / "sources.yaml").write_text(yaml.safe_dump(sources, sort_keys=False))
    print(f"wrote {len(CASES)} cases to {HERE}")


if __name__ == "__main__":
    main()
