"""`validate` warns of figures that look related but are not linked (issue 23): a
percentage given alone beside the count it is of, a total beside its part; and does not
take a level series for a running total. Pure: hand-made frames, no engine."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tasks.editions.disclosure import public_problems
from tasks.editions.linked import LOOKALIKE, lookalikes
from tasks.editions.related import unlinked_related
from tests.factories import make_config, make_history

COUNT = {"unit": "count", "polarity": "neutral"}
PCT = {"unit": "percent", "polarity": "lower_is_better"}
END = "2024-10"


def _said(config: list[dict[str, Any]], history: pd.DataFrame) -> dict[str, str]:
    return {p.indicator or "": p.message for p in unlinked_related(make_config(config), history)}


def test_a_percentage_alone_beside_its_denominator_is_named_with_it() -> None:
    """PU (10%, then 3%) of DU (100 referrals) gives 10 and 3 children away; B (30) is no
    denominator (3% of 30 is no whole number), REV shares no word. Linked, nothing."""
    history = make_history({"DU": [100.0] * 7, "PU": [10.0] * 6 + [3.0], "B": [30.0] * 7,
                            "REV": [7.0] * 7}, END)
    cat = [{"code": "DU", **COUNT, "title": "Referrals received"},
           {"code": "PU", **PCT, "title": "Referrals leading to no further action"},
           {"code": "B", **COUNT, "title": "Placements inside the area"},
           {"code": "REV", **COUNT, "title": "Young people in custody"}]
    said = _said(cat, history)
    assert set(said) == {"PU"}
    assert "looks like a percentage of DU," in said["PU"] and "denominator_from: DU" in said["PU"]
    assert "(or" not in said["PU"]
    assert "otherwise add numerator and denominator columns" in said["PU"]
    assert _said([*cat[:1], {**cat[1], "denominator_from": "DU"}, *cat[2:]], history) == {}


def test_a_percentage_alone_with_no_likely_count_still_says_what_to_add() -> None:
    """No count fits: the warning says what to add and names no pair; given with its
    counts, the percentage is judged and not warned of."""
    history = make_history({"P": [33.0, 41.0, 12.0], "N": [7.0, 9.0, 11.0]}, END)
    cat = [{"code": "P", **PCT, "title": "Visits on time"},
           {"code": "N", **COUNT, "title": "Young people in custody"}]
    said = _said(cat, history)
    assert "denominator_from" in said["P"] and "looks like" not in said["P"]
    counted = history.copy()
    counted.loc[counted["indicator"] == "P", ["numerator", "denominator"]] = [1.0, 3.0]
    assert _said(cat, counted) == {}


def test_a_total_beside_its_part_unlinked_is_named_with_sum_of() -> None:
    """N2X = N2 + 40 every month (the title holds N2's); TX = the part + a steady 12 under
    an unrelated title; OTHER is never below-and-steady. With sum_of, nothing."""
    n2 = [15.0, 14.0, 16.0, 15.0, 3.0]
    history = make_history({"N2": n2, "N2X": [v + 40 for v in n2],
                            "W": [20.0, 30.0, 25.0, 22.0, 21.0],
                            "TX": [32.0, 42.0, 37.0, 34.0, 33.0]}, END)
    cat = [{"code": "N2", **COUNT, "title": "Care leavers in touch"},
           {"code": "N2X", **COUNT, "title": "Care leavers in touch total"},
           {"code": "W", **COUNT, "title": "Children waiting"},
           {"code": "TX", **COUNT, "title": "Overall caseload"}]
    said = _said(cat, history)
    assert set(said) == {"N2X", "TX"}
    assert "total of N2 " in said["N2X"] and "(sum_of: [N2, ...])" in said["N2X"]
    assert "total of W " in said["TX"]
    linked = [cat[0], {**cat[1], "sum_of": ["N2", "W"]}, cat[2],
              {**cat[3], "sum_of": ["W", "N2"]}]
    assert _said(linked, history) == {}


def test_a_level_series_is_not_taken_for_a_year_to_date() -> None:
    """B (30) and DU (100) every month, across an April, are above A but never rise: no
    running total. A true year to date across April (reset) still is."""
    months = [8.0] * 6 + [3.0] * 7  # October 2023 to October 2024
    history = make_history({"A": months, "B": [30.0] * 13, "DU": [100.0] * 13}, END)
    cat = [{"code": c, **COUNT, "title": f"Measure {c}"} for c in ("A", "B", "DU")]
    assert lookalikes(make_config(cat), history) == []
    ytd = [8.0 * (k + 7) for k in range(6)] + [3.0 * (k + 1) for k in range(7)]
    with_ytd = make_history({"A": months, "Y": ytd}, END)
    cat_ytd = [cat[0], {"code": "Y", **COUNT, "title": "Measure Y"}]
    assert [p.indicator for p in lookalikes(make_config(cat_ytd), with_ytd)] == ["Y"]
    no_reset = make_history({"A": months, "Y": [v + 100 for v in range(13)]}, END)
    assert lookalikes(make_config(cat_ytd), no_reset) == []


def test_the_new_warnings_stay_out_of_the_public_edition() -> None:
    """They rest on the figures: restricted, as the running-total warning is."""
    history = make_history({"DU": [100.0] * 3, "PU": [10.0] * 3}, END)
    cat = [{"code": "DU", **COUNT, "title": "Referrals received"},
           {"code": "PU", **PCT, "title": "Referrals leading to no further action"}]
    found = unlinked_related(make_config(cat), history)
    assert found and all(p.kind == LOOKALIKE for p in found)
    assert public_problems(found, pd.DataFrame(), make_config(cat), END, history,
                           set())[:-1] == []
