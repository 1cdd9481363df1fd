"""Indicators from the SSDA903's records by DfE's definitions: each on a hand-worked case
(the children written out, the expected figure worked in a comment) and on the edges of
the episode structure: an episode ending on the period's last day, a child with two
episodes or two periods of care, a birthday on the period's boundary."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from tasks.returns import figures_903 as f
from tasks.returns.figures_903 import Period
from tasks.returns.ssda903 import TABLES, read_903
from tests.conftest import ROOT

YEAR = Period.collection_year(2025)  # 1 April 2024 to 31 March 2025


def table(name: str, rows: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{c: row.get(c, "") for c in TABLES[name]} for row in rows],
                        columns=list(TABLES[name]), dtype="object")


def ep(child: str, start: str, end: str = "", rne: str = "S", rec: str = "",
       ls: str = "C2", place: str = "U1") -> dict[str, str]:
    if end and not rec:
        rec = "E11"
    return {"CHILD": child, "DECOM": start, "DEC": end, "RNE": rne, "REC": rec, "LS": ls,
            "PLACE": place}


def tables(episodes: list[dict[str, str]], header: list[dict[str, str]] | None = None,
           oc3: list[dict[str, str]] | None = None,
           missing: list[dict[str, str]] | None = None) -> dict[str, pd.DataFrame]:
    found = {"Episodes": table("Episodes", episodes), "Header": table("Header", header or []),
             "OC3": table("OC3", oc3 or [])}
    if missing is not None:
        found["Missing"] = table("Missing", missing)
    return found


# The flow of children through the year ending 31 March 2025:
#   A  in care since January 2024, still in care: looked after at the end.
#   B  started 1 May 2024, ceased on 31 March 2025 (the last day): not looked after at the
#      end (the episode ends that day), started and ceased in the year.
#   C  two episodes in one period of care: started 1 June 2024, moved 1 September (X1 then
#      P), still in care: looked after at the end, started once, never ceased.
#   D  an agreed series of short breaks (V3), open: left out of every figure.
#   E  starts 1 April 2025, after the year: in no figure.
#   F  started on 1 April 2024 (the first day), ceased 10 April: started and ceased.
#   G  two periods of care in the year: counted once as starting and once as ceasing.
FLOW = [
    ep("A", "15/01/2024"),
    ep("B", "01/05/2024", "31/03/2025"),
    ep("C", "01/06/2024", "01/09/2024", rec="X1"), ep("C", "01/09/2024", rne="P", place="U2"),
    ep("D", "01/02/2024", ls="V3"),
    ep("E", "01/04/2025"),
    ep("F", "01/04/2024", "10/04/2024"),
    ep("G", "01/05/2024", "01/06/2024"), ep("G", "01/08/2024", "01/09/2024"),
]


def test_children_looked_after_at_31_march_by_dfe_definition() -> None:
    # Open at the end of 31 March 2025: A and C (C counted once for its two episodes);
    # B's episode ends that day, D is short breaks, E has not begun: 2.
    figure = f.looked_after_at_end(tables(FLOW), YEAR)
    assert (figure.value, figure.numerator, figure.denominator) == (2.0, 2, None)
    assert figure.children == {"A", "C"}


def test_rate_per_10000_children_under_18() -> None:
    # 2 children looked after, 1,000 children under 18: 2 / 1,000 x 10,000 = 20.
    figure = f.looked_after_rate(tables(FLOW), YEAR, 1_000)
    assert (figure.value, figure.numerator, figure.denominator) == (20.0, 2, 1_000)
    with pytest.raises(ValueError, match="population under 18 is 0"):
        f.looked_after_rate(tables(FLOW), YEAR, 0)


def test_children_who_started_to_be_looked_after_during_the_year() -> None:
    # Episodes begun S in the year: B, C (its P episode is a move, no start), F (1 April,
    # the first day), G twice (counted once): 4. A began before, D is short breaks,
    # E after.
    figure = f.started(tables(FLOW), YEAR)
    assert (figure.numerator, figure.children) == (4, {"B", "C", "F", "G"})


def test_children_who_ceased_to_be_looked_after_during_the_year() -> None:
    # Episodes ended in the year not by X1: B (on 31 March, the last day), F, G twice
    # (once): 3. C's first episode ended X1: C is still in care.
    figure = f.ceased(tables(FLOW), YEAR)
    assert (figure.numerator, figure.children) == (3, {"B", "F", "G"})


def test_placement_stability_3_or_more_placements_during_the_year() -> None:
    # Looked after at 31 March 2025: P1, P2, P3 (P4 ceased in the year): denominator 3.
    #   P1 in U1 when the year began, moved twice in it: 3 placements, counted.
    #   P2 the same but its second change is of legal status only (L): 2.
    #   P3 its first placement ended before the year (1 March 2024): 2 in the year.
    # 1 of 3: 33.3%.
    episodes = [
        ep("P1", "01/01/2024", "01/05/2024", rec="X1"),
        ep("P1", "01/05/2024", "01/07/2024", rne="P", rec="X1", place="U2"),
        ep("P1", "01/07/2024", rne="P", place="U3"),
        ep("P2", "01/01/2024", "01/05/2024", rec="X1"),
        ep("P2", "01/05/2024", "01/07/2024", rne="L", rec="X1", ls="C1"),
        ep("P2", "01/07/2024", rne="P", place="U3", ls="C1"),
        ep("P3", "01/02/2024", "01/03/2024", rec="X1"),
        ep("P3", "01/03/2024", "01/05/2024", rne="P", rec="X1", place="U2"),
        ep("P3", "01/05/2024", rne="P", place="U3"),
        ep("P4", "01/05/2024", "01/06/2024", rec="X1"),
        ep("P4", "01/06/2024", "01/07/2024", rne="P", rec="X1", place="U2"),
        ep("P4", "01/07/2024", "01/08/2024", rne="P", place="U3"),
    ]
    figure = f.three_or_more_placements(tables(episodes), YEAR)
    assert (figure.numerator, figure.denominator) == (1, 3)
    assert figure.value == pytest.approx(100 / 3)
    assert figure.counted == {"P1"} and figure.children == {"P1", "P2", "P3"}


def test_long_term_stability_under_16_looked_after_2_5_years_same_placement_2_years() -> None:
    # At 31 March 2025: looked after since 30 September 2022 or before (2.5 years), in the
    # placement since 31 March 2023 or before (2 years), under 16.
    #   L1 in care and placement since January 2022: counted.
    #   L2 moved in June 2023: in the denominator only.
    #   L3 a change of legal status only (L) in 2023, the same placement: counted.
    #   L4 placed for adoption (A4) in February 2025; with the placement before it, since
    #      January 2022: counted.
    #   L5 born 31 March 2009: 16 on the last day, not under 16: left out.
    #   L6 in care since November 2022, under 2.5 years: left out.
    #   L7 born 1 April 2009: 15 on 31 March 2025: counted.
    #   L8 a new placement with the same carer (U) in 2024: the same carer, counted.
    # 5 of 6: 83.3%.
    episodes = [
        ep("L1", "01/01/2022"),
        ep("L2", "01/01/2022", "01/06/2023", rec="X1"), ep("L2", "01/06/2023", rne="P",
                                                            place="U2"),
        ep("L3", "01/01/2022", "01/01/2023", rec="X1"), ep("L3", "01/01/2023", rne="L",
                                                            ls="C1"),
        ep("L4", "01/01/2022", "01/02/2025", rec="X1"), ep("L4", "01/02/2025", rne="T",
                                                            ls="E1", place="A4"),
        ep("L5", "01/01/2022"), ep("L6", "01/11/2022"), ep("L7", "01/01/2022"),
        ep("L8", "01/01/2022", "01/06/2024", rec="X1"), ep("L8", "01/06/2024", rne="U",
                                                            ls="C2", place="U2"),
    ]
    born = {"L5": "31/03/2009", "L7": "01/04/2009"}
    header = [{"CHILD": c, "DOB": born.get(c, "14/05/2012")} for c in
              ("L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8")]
    figure = f.long_term_stability(tables(episodes, header), YEAR)
    assert (figure.numerator, figure.denominator) == (5, 6)
    assert figure.value == pytest.approx(500 / 6)
    assert figure.counted == {"L1", "L3", "L4", "L7", "L8"}


def test_long_term_stability_breaks_at_a_gap_in_care() -> None:
    # S1 left care in 2023 and came back: its current period of care began in 2024, so
    # it is not looked after 2.5 years continuously: no denominator.
    episodes = [ep("S1", "01/01/2021", "01/03/2023"), ep("S1", "01/01/2024")]
    header = [{"CHILD": "S1", "DOB": "14/05/2012"}]
    figure = f.long_term_stability(tables(episodes, header), YEAR)
    assert (figure.numerator, figure.denominator, figure.value) == (0, 0, None)


# Care leavers with a 19th, 20th or 21st birthday in the year ending 31 March 2025:
#   C1 19 on 10 June 2024: in education (F1), suitable accommodation (B1).
#   C2 20 on 22 January 2025: not in education, employment or training (G5), unsuitable.
#   C3 21 on 1 April 2024 (the first day): activity not recorded (blank), no information.
#   C4 21 on 31 March 2024, the day before the year: left out.
#   C5 19 on 31 March 2025 (the last day): activity not known (0), suitable (K1).
#   C6 died: left out. C7 19 on 1 April 2025, after the year: left out.
# The cohort is C1, C2, C3, C5: 4.
LEAVERS = [
    {"CHILD": "C1", "DOB": "10/06/2005", "IN_TOUCH": "YES", "ACTIV": "F1", "ACCOM": "B1"},
    {"CHILD": "C2", "DOB": "22/01/2005", "IN_TOUCH": "YES", "ACTIV": "G5", "ACCOM": "B2"},
    {"CHILD": "C3", "DOB": "01/04/2003", "IN_TOUCH": "YES", "ACTIV": "", "ACCOM": "0"},
    {"CHILD": "C4", "DOB": "31/03/2003", "IN_TOUCH": "YES", "ACTIV": "F1", "ACCOM": "B1"},
    {"CHILD": "C5", "DOB": "31/03/2006", "IN_TOUCH": "NO", "ACTIV": "0", "ACCOM": "K1"},
    {"CHILD": "C6", "DOB": "15/07/2004", "IN_TOUCH": "DIED", "ACTIV": "0", "ACCOM": "0"},
    {"CHILD": "C7", "DOB": "01/04/2006", "IN_TOUCH": "YES", "ACTIV": "F1", "ACCOM": "B1"},
]


def test_care_leavers_aged_19_to_21_in_education_employment_or_training() -> None:
    # C1 of the 4: 25%.
    figure = f.care_leavers_in_eet(tables([], oc3=LEAVERS), YEAR)
    assert (figure.numerator, figure.denominator, figure.value) == (1, 4, 25.0)
    assert figure.children == {"C1", "C2", "C3", "C5"}


def test_care_leavers_aged_19_to_21_not_in_education_employment_or_training() -> None:
    # C2 of the 4: 25%.
    figure = f.care_leavers_neet(tables([], oc3=LEAVERS), YEAR)
    assert (figure.numerator, figure.denominator, figure.value) == (1, 4, 25.0)
    assert figure.counted == {"C2"}


def test_care_leavers_aged_19_to_21_activity_not_known_or_not_recorded() -> None:
    # C3 (blank) and C5 (0, not known) of the 4: 50%.
    figure = f.care_leavers_activity_not_known(tables([], oc3=LEAVERS), YEAR)
    assert (figure.numerator, figure.denominator, figure.value) == (2, 4, 50.0)
    assert figure.counted == {"C3", "C5"}


def test_care_leavers_aged_19_to_21_in_suitable_accommodation() -> None:
    # C1 (B1) and C5 (K1) of the 4; C2's B2 is unsuitable, C3's 0 no information: 50%.
    figure = f.care_leavers_suitably_housed(tables([], oc3=LEAVERS), YEAR)
    assert (figure.numerator, figure.denominator, figure.value) == (2, 4, 50.0)
    assert figure.counted == {"C1", "C5"}


def test_children_looked_after_who_went_missing_during_the_year() -> None:
    # Looked after at some time in the year: A, B, C, F, G (D short breaks, E after): 5.
    # Missing (M) begun in the year: A (twice, once), B on 31 March (the last day). C was
    # only away without authorisation (A); F's was before the year; X is no child of
    # the Episodes table. 2 of 5: 40%.
    missing = [
        {"CHILD": "A", "MISSING": "M", "MIS_START": "10/10/2024", "MIS_END": "11/10/2024"},
        {"CHILD": "A", "MISSING": "M", "MIS_START": "10/11/2024", "MIS_END": "11/11/2024"},
        {"CHILD": "B", "MISSING": "M", "MIS_START": "31/03/2025"},
        {"CHILD": "C", "MISSING": "A", "MIS_START": "10/10/2024", "MIS_END": "11/10/2024"},
        {"CHILD": "F", "MISSING": "M", "MIS_START": "31/03/2024", "MIS_END": "01/04/2024"},
        {"CHILD": "X", "MISSING": "M", "MIS_START": "10/10/2024"},
    ]
    figure = f.went_missing(tables(FLOW, missing=missing), YEAR)
    assert (figure.numerator, figure.denominator, figure.value) == (2, 5, 40.0)
    assert figure.counted == {"A", "B"}
    assert f.went_missing(tables(FLOW), YEAR).numerator == 0  # no Missing table


def test_a_month_cycle_is_the_12_months_to_the_month_end() -> None:
    assert Period.to_month_end(2024, 10) == Period(date(2023, 11, 1), date(2024, 10, 31))
    assert Period.to_month_end(2024, 12) == Period(date(2024, 1, 1), date(2024, 12, 31))
    assert Period.to_month_end(2025, 3) == YEAR
    # At 31 October 2024 B (1 May 2024 to 31 March 2025) is in care; F and G are not.
    october = Period.to_month_end(2024, 10)
    assert f.looked_after_at_end(tables(FLOW), october).children == {"A", "B", "C"}
    # Started in November 2023 to October 2024: A (January 2024) too, with B, C, F, G.
    assert f.started(tables(FLOW), october).children == {"A", "B", "C", "F", "G"}


def test_ids_stay_out_of_a_figures_repr() -> None:
    figure = f.care_leavers_neet(tables([], oc3=LEAVERS), YEAR)
    assert "C2" not in repr(figure) and "C2" not in str(figure)


def test_demo_return_unrecorded_activity_makes_neet_look_better_than_it_is() -> None:
    """The inspectors' case on the demo's return: 14 care leavers with no activity
    recorded are counted in the NEET figure's denominator but can be in neither its
    numerator nor the EET one; at their worst (all NEET) the figure is much higher."""
    folder = ROOT / "demo" / "exports" / "ssda903"
    ret = read_903(sorted(folder.glob("*.csv")), 2025)
    planted = json.loads((folder / "planted.json").read_text("utf-8"))
    silent = set(planted["activity not recorded (OC3 ACTIV blank)"])
    neet = f.care_leavers_neet(ret.tables, YEAR)
    unknown = f.care_leavers_activity_not_known(ret.tables, YEAR)
    assert neet.denominator == 100 and len(silent) == 14
    assert silent <= unknown.counted and unknown.numerator == 14
    assert not silent & neet.counted
    assert neet.value is not None
    worst = 100 * (neet.numerator + unknown.numerator) / 100
    recorded_only = 100 * neet.numerator / (100 - unknown.numerator)
    assert neet.value < recorded_only < worst
    assert (neet.numerator, round(neet.value, 1), round(worst, 1)) == EXPECTED_DEMO_NEET


# G4-G6 in oc3.csv: 52 of 100, as the scorecard's CL01 for October 2024; with the 14 blanks
# 66 of 100.
EXPECTED_DEMO_NEET = (52, 52.0, 66.0)


def test_care_leavers_not_in_touch_are_in_the_denominator_as_dfe_and_the_definition_say(
        ) -> None:
    """DfE leaves out only those who died or returned home for 6 months or more (docs/
    returns.md, source 4): NO, REFU and NREQ stay in the denominator (their activity not
    known). CL01's definition said "as a percentage of those in touch": it must say so."""
    born = "10/06/2004"  # 20 in June 2024
    rows = [{"CHILD": f"C{i}", "DOB": born, "IN_TOUCH": touch, "ACTIV": activ, "ACCOM": "B1"}
            for i, (touch, activ) in enumerate([("YES", "G4"), ("NO", "0"), ("REFU", "0"),
                                                ("NREQ", "0"), ("DIED", "0"), ("RHOM", "0")])]
    figure = f.care_leavers_neet(tables([], oc3=rows), YEAR)
    assert (figure.numerator, figure.denominator) == (1, 4)
    config = (ROOT / "config" / "indicators.yaml").read_text(encoding="utf-8")
    assert "percentage of those in touch" not in config
    assert config.count("not in touch with (IN_TOUCH NO, REFU, NREQ) count") == 2
