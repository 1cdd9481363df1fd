"""Writes a synthetic SSDA903 return for the demo (seeded: the same bytes every run).

    .venv/bin/python scripts/make_demo_returns.py [FOLDER]   (default demo/exports/ssda903)

Several hundred invented children for the collection year ending 31 March 2025: children
looked after (episodes, reviews, missing episodes) and care leavers aged 19 to 21 (OC3),
whose birthdays fall between April and October 2024, so that the demo's October 2024 cycle
and the collection year count the same care leavers. Input errors are planted, as a
case-management system lets them in, and listed in `planted.json` beside the tables:
above all the inspectors' case, care leavers whose activity was not recorded, which makes
the NEET figure look better than it is. `make demo` reads it (config/sources.yaml).
"""

from __future__ import annotations

import csv
import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tasks.returns.ssda903 import TABLES, collection_dates  # noqa: E402

SEED = 903
YEAR = 2025
LOOKED_AFTER = 320
CARE_LEAVERS = 100
# Care leavers' activity as the demo's October 2024 scorecard has it (CL01: 52 of 100 not
# in education, employment or training), with 14 whose activity was not recorded.
NEET_LEAVERS, SILENT_LEAVERS = 52, 14
# The council's own column beside DfE's in OC3, the leaving-care team, as the scorecard's
# team breakdown has it in October 2024 (North 34 of 58, South 18 of 42), by kind of
# activity: not in education, employment or training (G), not recorded (""), in it (E).
TEAM_COLUMN = "Team"
TEAMS = {"Leaving Care North": {"G": 34, "": 8, "E": 16},
         "Leaving Care South": {"G": 18, "": 6, "E": 18}}
LEAVER_BIRTHDAYS = (date(2024, 4, 1), date(2024, 10, 31))
START, END = collection_dates(YEAR)
ETHNIC = ["WBRI"] * 12 + ["WIRI", "WOTH", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN",
                          "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH"]
POSTCODES = ["SW1A 1AA", "SW1A 2AA", "W1A 1AA", "EC1A 1BB"]
FOSTER = ["U1", "U2", "U3", "U4", "U5", "U6"]
# Care leavers' activity (F: full time, P: part time; 1 higher education, 2 other education,
# 4 training or employment; G4-G6 not in education, employment or training) and suitable
# accommodation (the codes ending 1).
ACTIVITY = ["F1", "P1", "F2", "P2", "F4", "P4", "G4", "G5", "G6"]
ACCOMMODATION = ["B1", "C1", "D1", "E1", "G1", "H1", "K1", "R1", "T1", "U1", "V1"]
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def dmy(day: date | None) -> str:
    return "" if day is None else day.strftime("%d/%m/%Y")


def upn(rng: random.Random) -> str:
    """A unique pupil number of the right form: a check letter over 12 digits (DfE's
    weights 2 to 13, the sum modulo 23)."""
    digits = "201" + "".join(str(rng.randrange(10)) for _ in range(9))
    total = sum(int(d) * weight for d, weight in zip(digits, range(2, 14), strict=True))
    return UPN_LETTERS[total % 23] + digits


def born(rng: random.Random, youngest: int, oldest: int) -> date:
    """Aged `youngest` to `oldest` on the last day of the collection year."""
    latest = END.replace(year=END.year - youngest)
    earliest = END.replace(year=END.year - oldest - 1) + timedelta(days=1)
    return earliest + timedelta(days=rng.randrange((latest - earliest).days))


def leaver_born(rng: random.Random) -> date:
    """Aged 19, 20 or 21 on a birthday between April and October 2024 (one draw)."""
    first, last = LEAVER_BIRTHDAYS
    days = (last - first).days + 1
    k = rng.randrange(3 * days)
    birthday = first + timedelta(days=k % days)
    year = birthday.year - 19 - k // days
    if birthday.month == 2 and birthday.day == 29:
        return date(year, 2, 28)
    return birthday.replace(year=year)


def header_row(rng: random.Random, child: str, sex: str, dob: date, in_care: bool
               ) -> dict[str, str]:
    """Motherhood (MOTHER) is asked of girls looked after in the year only."""
    return {"CHILD": child, "SEX": sex, "DOB": dmy(dob), "ETHNIC": rng.choice(ETHNIC),
            "UPN": upn(rng), "MOTHER": "0" if sex == "F" and in_care else "", "MC_DOB": ""}


def _day(text: str) -> date:
    return date.fromisoformat("-".join(reversed(text.split("/"))))


def episodes_for(rng: random.Random, child: str, dob: date) -> list[dict[str, str]]:
    """One period of care, begun in the last four years, of one to four placements (each
    in another home, the reason for the move on the episode it ends); a fifth of the
    periods end in the year with a return home."""
    began = min(START - timedelta(days=rng.randrange(4 * 365)), END - timedelta(days=20))
    began = max(began, dob + timedelta(days=7))
    legal, need = rng.choice(["C2", "C2", "V2"]), rng.choice(["N1", "N1", "N2", "N4", "N5"])
    moves = rng.choice([1, 1, 1, 2, 2, 3, 4])
    days = sorted(rng.sample(range(1, max(2, (END - began).days)), moves - 1))
    starts = [began] + [began + timedelta(days=d) for d in days]
    ends_home = rng.random() < 0.2
    home = rng.choice(POSTCODES)
    places = rng.sample(FOSTER, len(starts))
    away = [rng.choice([p for p in POSTCODES if p != home]) for _ in starts]
    rows = []
    for i, start in enumerate(starts):
        last = i == len(starts) - 1
        finish = None if last else starts[i + 1]
        if last and ends_home and start < END - timedelta(days=2):
            finish = start + timedelta(days=rng.randrange(1, (END - start).days))
        rows.append({
            "CHILD": child, "DECOM": dmy(start), "RNE": "S" if i == 0 else "P", "LS": legal,
            "CIN": need, "PLACE": places[i], "PLACE_PROVIDER": "PR1", "DEC": dmy(finish),
            "REC": "" if finish is None else ("X1" if not last else "E4A"),
            "REASON_PLACE_CHANGE": "" if last else rng.choice(["CARPL", "CHILD", "LAREQ"]),
            "HOME_POST": home, "PL_POST": away[i], "URN": "XXXXXXX"})
    return rows


def missing_for(rng: random.Random, child: str, dob: date, episodes: list[dict[str, str]]
                ) -> list[dict[str, str]]:
    """A tenth of the children go missing once, for one to three days, while in care."""
    began = max(_day(episodes[0]["DECOM"]), START)
    left = _day(episodes[-1]["DEC"]) if episodes[-1]["DEC"] else END
    if rng.random() > 0.1 or (left - began).days < 10:
        return []
    start = began + timedelta(days=rng.randrange((left - began).days - 5))
    return [{"CHILD": child, "DOB": dmy(dob), "MISSING": rng.choice(["M", "A"]),
             "MIS_START": dmy(start), "MIS_END": dmy(start + timedelta(days=rng.randrange(1, 4)))}]


def review_for(rng: random.Random, child: str, dob: date, episodes: list[dict[str, str]]
               ) -> list[dict[str, str]]:
    """A review in the year for a child in care more than a month (participation code PN0
    for a child under 4)."""
    began, left = max(_day(episodes[0]["DECOM"]), START), (
        _day(episodes[-1]["DEC"]) if episodes[-1]["DEC"] else END)
    if (left - began).days <= 30:
        return []
    review = began + timedelta(days=rng.randrange(20, (left - began).days))
    code = "PN0" if review < dob.replace(year=dob.year + 4) else rng.choice(["PN1", "PN2",
                                                                              "PN3"])
    return [{"CHILD": child, "DOB": dmy(dob), "REVIEW": dmy(review), "REVIEW_CODE": code}]


def looked_after(rng: random.Random, tables: dict[str, list[dict[str, str]]]) -> None:
    for n in range(LOOKED_AFTER):
        child, sex = f"D{10001 + n}", rng.choice("MF")
        dob = born(rng, 0, 17)
        tables["Header"].append(header_row(rng, child, sex, dob, True))
        episodes = episodes_for(rng, child, dob)
        tables["Episodes"] += episodes
        tables["Missing"] += missing_for(rng, child, dob, episodes)
        tables["Reviews"] += review_for(rng, child, dob, episodes)


def care_leavers(rng: random.Random, tables: dict[str, list[dict[str, str]]],
                 planted: dict[str, list[str]]) -> None:
    """Aged 19 to 21 at their birthday in the year; 52 not in education, employment or
    training, 14 with no activity recorded, the rest in education, employment or training."""
    kinds = (["G"] * NEET_LEAVERS + [""] * SILENT_LEAVERS
             + ["E"] * (CARE_LEAVERS - NEET_LEAVERS - SILENT_LEAVERS))
    rng.shuffle(kinds)
    left = {team: dict(quota) for team, quota in TEAMS.items()}
    for n, kind in enumerate(kinds):
        team = next(t for t, quota in left.items() if quota[kind] > 0)
        left[team][kind] -= 1
        child, sex = f"L{20001 + n}", rng.choice("MF")
        dob = leaver_born(rng)
        tables["Header"].append(header_row(rng, child, sex, dob, False))
        pool = [a for a in ACTIVITY if a.startswith("G") == (kind == "G")]
        activity = rng.choice(pool) if kind else ""
        if not kind:
            planted["activity not recorded (OC3 ACTIV blank)"].append(child)
        tables["OC3"].append({"CHILD": child, "DOB": dmy(dob), "IN_TOUCH": "YES",
                              "ACTIV": activity, "ACCOM": rng.choice(ACCOMMODATION),
                              TEAM_COLUMN: team})


def plant_episode_errors(rng: random.Random, tables: dict[str, list[dict[str, str]]],
                         planted: dict[str, list[str]]) -> None:
    """A few more input errors of other kinds, one child each."""
    closed = [e for e in tables["Episodes"] if e["DEC"]]
    for episode in rng.sample(closed, 3):  # the end typed before the start
        episode["DEC"] = dmy(_day(episode["DECOM"]) - timedelta(days=7))
        planted["episode ends before it starts (DEC before DECOM)"].append(episode["CHILD"])
    for row in rng.sample(tables["Header"][:LOOKED_AFTER], 2):  # an unknown ethnicity code
        row["ETHNIC"] = "WBR"
        planted["ethnicity code not valid (ETHNIC)"].append(row["CHILD"])


def write(folder: Path) -> dict[str, list[str]]:
    rng = random.Random(SEED)
    tables: dict[str, list[dict[str, str]]] = {t: [] for t in
                                               ("Header", "Episodes", "Reviews", "Missing", "OC3")}
    planted: dict[str, list[str]] = {
        "activity not recorded (OC3 ACTIV blank)": [],
        "episode ends before it starts (DEC before DECOM)": [],
        "ethnicity code not valid (ETHNIC)": []}
    looked_after(rng, tables)
    care_leavers(rng, tables, planted)
    plant_episode_errors(rng, tables, planted)
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with (folder / f"{name.lower()}.csv").open("w", newline="", encoding="utf-8") as fh:
            extra = [TEAM_COLUMN] if name == "OC3" else []
            writer = csv.DictWriter(fh, [*TABLES[name], *extra], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    manifest = {k: sorted(v) for k, v in planted.items()}
    (folder / "planted.json").write_text(
        json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else ROOT / "demo" / "exports" / "ssda903"
    planted = write(folder)
    print(f"wrote {folder} ({LOOKED_AFTER} children looked after, {CARE_LEAVERS} care "
          f"leavers; {sum(map(len, planted.values()))} planted input errors)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
