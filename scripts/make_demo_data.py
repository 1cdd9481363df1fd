"""Generate the demo exports in demo/exports/: 36 months for the 33 catalogue indicators,
as 36 monthly CSV exports from a case-management system and one analysts' XLSX scorecard.

Seeded, so the files are reproducible: `python scripts/make_demo_data.py` rewrites them
byte for byte the same (bar the xlsx zip timestamps, which are fixed too). Values follow
an AR(1) wander around a slow trend, the way monthly figures really move, with scripted
endings that the demo must show: a care-leavers NEET rate of 52% against a 40% maximum
(red, and worse two months running), an amber indicator worse two months running, a month
missing in the middle of a run, an indicator not collected this month, and small counts
that the public paper must suppress.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo" / "exports"
SEED = 20241031
FIRST, MONTHS = (2021, 11), 36
AUTHORITY = "999"


@dataclass(frozen=True)
class Spec:
    start: float
    end: float
    sd: float
    lo: float
    hi: float
    decimals: int = 1
    denominator: int | None = None  # percent indicators with numerator/denominator


# Start and end levels of the underlying trend, month-to-month noise, bounds.
SPECS: dict[str, Spec] = {
    "FD01": Spec(93.0, 96.0, 1.2, 80, 100),
    "FD02": Spec(505.0, 590.0, 7.0, 400, 700),  # rising: special cause, neutral high
    "FD03": Spec(23.5, 21.0, 0.5, 10, 40, denominator=None),
    "FD04": Spec(8.0, 6.2, 0.6, 2, 15),
    "AS01": Spec(86.0, 79.0, 1.5, 50, 100),
    "AS02": Spec(31.0, 34.0, 1.5, 15, 60),
    "AS03": Spec(31.0, 29.0, 1.5, 15, 45),
    "CP01": Spec(44.0, 41.0, 1.2, 25, 60),
    "CP02": Spec(25.5, 22.5, 0.8, 10, 40, denominator=260),
    "CP03": Spec(82.0, 89.0, 3.0, 50, 100),
    "CP04": Spec(3.5, 2.4, 0.4, 0, 10),
    "CP05": Spec(94.0, 97.0, 1.0, 80, 100),
    "LA01": Spec(78.0, 74.0, 0.8, 60, 90),
    "LA02": Spec(11.5, 9.8, 0.3, 5, 20, denominator=340),
    "LA03": Spec(66.0, 71.0, 1.0, 50, 85),
    "LA04": Spec(93.0, 96.5, 1.2, 80, 100),
    "LA05": Spec(84.0, 88.0, 1.8, 60, 100),
    "LA06": Spec(16.0, 12.0, 2.5, 6, 30, decimals=0),
    "CL01": Spec(41.0, 44.0, 1.0, 20, 70, decimals=0, denominator=100),
    "CL02": Spec(88.0, 91.0, 1.0, 70, 100),
    "CL03": Spec(90.0, 96.0, 1.2, 70, 100),
    "CL04": Spec(98.2, 98.6, 0.3, 85, 100),  # always above target: consistently passing
    "WF01": Spec(17.0, 13.0, 0.7, 5, 30),
    "WF02": Spec(22.0, 17.0, 0.8, 5, 35),
    "WF03": Spec(17.5, 15.6, 0.4, 10, 25),
    "WF04": Spec(15.0, 11.0, 0.6, 5, 25),
    "WF05": Spec(84.0, 91.0, 1.8, 60, 100),
    "YJ01": Spec(18.0, 14.0, 0.6, 5, 30),
    "YJ02": Spec(35.0, 33.0, 1.2, 20, 50),
    "YJ03": Spec(3.0, 2.0, 1.0, 0, 6, decimals=0),
    "ED01": Spec(26.0, 21.0, 1.2, 10, 40),
    "ED02": Spec(90.0, 96.0, 1.2, 70, 100),
    "ED03": Spec(22.0, 17.0, 2.0, 8, 35, decimals=0),
}
CSV_CODES = [c for c in SPECS if c[:2] in {"FD", "AS", "CP", "LA", "CL"}]
XLSX_CODES = [c for c in SPECS if c[:2] in {"WF", "YJ", "ED"}]
PERCENT = {"FD01", "FD03", "FD04", "AS01", "AS03", "CP02", "CP03", "CP04", "CP05", "LA02",
           "LA03", "LA04", "LA05", "CL01", "CL02", "CL03", "CL04", "WF01", "WF02", "WF04",
           "WF05", "YJ02", "ED01", "ED02"}

# The endings the demo must show (last months, oldest first). None: no figure that month.
SCRIPTED: dict[str, list[float | None]] = {
    "CL01": [44, 45, 44, 47, 50, 52],          # red, worse two months running: deep dive
    "LA02": [9.9, 9.7, 9.8, 10.0, 10.6, 10.9],  # amber, worse two months running: deep dive
    "CP03": [86.0, 89.0, 90.0, 88.0, None, 80.0],  # a gap breaks the run; 80 = amber edge
    "YJ03": [2, 1, 0, 3, 4, 5],                 # small counts: c in the public paper
}
NOT_COLLECTED_LAST_MONTH = {"CL02"}


def months() -> list[str]:
    y, m = FIRST
    out = []
    for _ in range(MONTHS):
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def simulate(rng: np.random.Generator) -> dict[str, list[float | None]]:
    series: dict[str, list[float | None]] = {}
    t = np.linspace(0, 1, MONTHS)
    for code, s in SPECS.items():
        noise = np.zeros(MONTHS)
        for i in range(1, MONTHS):
            noise[i] = 0.6 * noise[i - 1] + rng.normal(0, s.sd)
        values = np.clip(s.start + (s.end - s.start) * t + noise, s.lo, s.hi)
        series[code] = [round(float(v), s.decimals) for v in values]
    for code, tail in SCRIPTED.items():
        series[code][-len(tail):] = tail
    return series


def _num_den(code: str, value: float, rng: np.random.Generator) -> tuple[int, int] | None:
    den0 = SPECS[code].denominator
    if den0 is None:
        return None
    # Scripted endings keep a fixed denominator so the rounded rate is the scripted one.
    den = den0 if code in SCRIPTED else int(den0 + rng.integers(-5, 6))
    return round(value * den / 100), den


def write_csv(period: str, codes: list[str], series: dict[str, list[float | None]],
              idx: int, rng: np.random.Generator) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # as exported by a Windows reporting tool
    w.writerow(["Indicator", "Period", "Value", "Numerator", "Denominator", "Authority"])
    for code in codes:
        if idx == MONTHS - 1 and code in NOT_COLLECTED_LAST_MONTH:
            continue
        v = series[code][idx]
        if v is None:
            continue
        nd = _num_den(code, v, rng)
        if nd:
            v = round(100 * nd[0] / nd[1], 1)
            series[code][idx] = v
        text = f"{v:g}%" if code in PERCENT else f"{v:g}"
        w.writerow([code, period, text, *(nd if nd else ("", "")), AUTHORITY])
    (OUT / f"mosaic_scorecard_{period}.csv").write_text(buf.getvalue(), encoding="utf-8-sig")


TITLES = {
    "WF01": "Social worker vacancy rate", "WF02": "Agency social worker rate",
    "WF03": "Average caseload per social worker", "WF04": "Social worker turnover rate",
    "WF05": "Supervision within timescale", "YJ01": "First-time entrants per 10,000",
    "YJ02": "Proven reoffending", "YJ03": "Young people in custody",
    "ED01": "CLA persistent absence", "ED02": "CLA with an up-to-date PEP",
    "ED03": "Children missing education",
}


def write_wide_xlsx(codes: list[str], series: dict[str, list[float | None]]) -> None:
    """The analysts' scorecard as they keep it: one workbook, a row per indicator and a
    column per month, a merged title above, section rows, a notes block below."""
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Scorecard"
    ws["A1"] = "Demo Borough Council: workforce, youth justice and education scorecard"
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=8)
    ws["A2"] = "Produced by the Performance and Intelligence Team. OFFICIAL-SENSITIVE"
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=8)
    header_row = 4
    ws.cell(header_row, 1, "Code")
    ws.cell(header_row, 2, "Indicator")
    for j, period in enumerate(months()):
        y, m = (int(x) for x in period.split("-"))
        c = ws.cell(header_row, 3 + j, dt.datetime(y, m, 1))  # months as dates, shown Oct-24
        c.number_format = "mmm-yy"
    row = header_row + 1
    section = ""
    for code in codes:
        if code[:2] != section:
            section = code[:2]
            ws.cell(row, 1, {"WF": "Workforce", "YJ": "Youth justice",
                             "ED": "Education"}[section]).font = Font(bold=True)
            row += 1
        ws.cell(row, 1, code)
        ws.cell(row, 2, TITLES[code])
        for j, v in enumerate(series[code]):
            if v is None:
                continue
            if code in PERCENT:  # Excel percentage cells hold fractions: 17.5% is 0.175
                c = ws.cell(row, 3 + j, round(v / 100, 6))
                c.number_format = "0.0%"
            else:
                ws.cell(row, 3 + j, v)
        row += 1
    ws.cell(row + 1, 1, "Notes: figures for the latest month are provisional. Source: HR "
                        "system, YOT case management system, Virtual School database.")
    wb.properties.created = dt.datetime(2024, 11, 1)
    wb.properties.modified = dt.datetime(2024, 11, 1)
    buf = io.BytesIO()
    wb.save(buf)
    _fix_zip_times(buf.getvalue(), OUT / "analyst_scorecard_2024-10.xlsx")


def _fix_zip_times(data: bytes, path: Path) -> None:
    """Rewrite the xlsx zip with fixed timestamps so regeneration is byte-for-byte stable."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 11, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                              rb"\g<1>2024-11-01T00:00:00Z", body)
            dst.writestr(fixed, body)
    path.write_bytes(out.getvalue())


COMMENTARY = """\
# Owners' commentary for the committee, one entry per indicator and period.
- indicator: CL01
  period: 2024-10
  author: Aisha Rahman, Head of Service, Care Leavers
  date: 2024-11-04
  text: >-
    The rise since August follows the end of the apprenticeship scheme with the council's
    own services. We have checked the figure against case records after last year's input
    errors: it is accurate. A new employment offer with the virtual school and two local
    employers starts in December; we expect the rate to fall below 45% by March.
- indicator: AS01
  period: 2024-10
  author: Tom Bradley, Head of Service, Assessment and Intervention
  date: 2024-11-05
  text: >-
    Two teams carried vacancies for most of the autumn (caseloads > 20). Agency cover is in
    place from November and every assessment over 45 days is reviewed weekly by a manager.
"""


def main() -> None:
    rng = np.random.default_rng(SEED)
    series = simulate(rng)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):
        old.unlink()
    for idx, period in enumerate(months()):
        write_csv(period, CSV_CODES, series, idx, rng)
    write_wide_xlsx(XLSX_CODES, series)
    (OUT / "commentary.yaml").write_text(COMMENTARY, encoding="utf-8")
    print(f"wrote {len(list(OUT.iterdir()))} files to {OUT}")


if __name__ == "__main__":
    main()
