"""Chart geometry: axes from the points shown and nothing else, round ticks, no chart when
nothing can be drawn, and every size in points on paper."""

from __future__ import annotations

import pytest

from tasks.analysing.results import ChartPoint, Direction, IndicatorResult, Rating
from tasks.presenting.charts import PT_PER_UNIT, SPARK, WIDE, nice_ticks, tick_label, trend_chart
from tasks.presenting.context import _chart
from tasks.settings.config import Indicator, Polarity, Unit


@pytest.mark.parametrize(("lo", "hi", "whole", "ticks"), [
    (41.0, 52.0, False, [40, 45, 50, 55]),
    (74.5, 98.2, False, [70, 80, 90, 100]),
    (9.5, 11.5, False, [9.5, 10.0, 10.5, 11.0, 11.5]),
    (0.0, 0.0, True, [0, 1]),  # only zeros: 0 to 1 child, never -1 to 1
    (0.0, 0.0, False, [0, 0.25, 0.5, 0.75, 1.0]),
    (3.0, 3.0, False, [2.0, 2.5, 3.0, 3.5, 4.0]),
    (512, 761, True, [500, 600, 700, 800]),
])
def test_nice_ticks(lo: float, hi: float, whole: bool, ticks: list[float]) -> None:
    assert nice_ticks(lo, hi, whole=whole) == ticks
    got = nice_ticks(lo, hi, whole=whole)
    assert got[0] <= lo and got[-1] >= hi and (got[0] >= 0 or lo < 0)


def test_tick_labels_have_the_decimals_their_step_needs() -> None:
    assert [tick_label(v, 2.5, "%") for v in (0, 2.5, 5)] == ["0%", "2.5%", "5.0%"]
    assert tick_label(1200, 100) == "1,200" and tick_label(0.25, 0.25) == "0.25"


def test_the_axes_come_from_the_points_shown_only() -> None:
    points = [("2024-01", None), ("2024-02", 20.0), ("2024-03", 22.0), ("2024-04", None),
              ("2024-05", 21.0)]
    chart = trend_chart("T", points, 24.0, "%", "d", WIDE, target_text="24.0%",
                        y_title="Per cent", x_title="Month")
    # The line breaks at the gap, and the y axis spans the shown figures and the target.
    assert [len(s) for s in chart.segments] == [2, 1] and chart.dots
    assert [t.label for t in chart.y_ticks] == ["20%", "21%", "22%", "23%", "24%"]
    assert chart.target_y == chart.plot_top and chart.target_label == "24.0%"
    assert chart.font_pt >= 8 and WIDE.width * PT_PER_UNIT <= 493
    assert SPARK.font == 0  # a trend line in a table has no text to read


def _result(points: list[ChartPoint], value: float | None = None) -> IndicatorResult:
    return IndicatorResult(
        code="YJ", period="2024-10", value=value, previous=None, previous_period=None,
        change=None, year_ago=None, rag=Rating.NONE, direction=Direction.WITHHELD, trends=(),
        consecutive_declines=0, declines_exact=True, deep_dive=False, chain_gap=None,
        breach=False, denominator=None, small_number=False, chart=tuple(points),
        withheld=frozenset({"value"}))


IND = Indicator(code="YJ", title="Young people in custody", service_area="Youth justice",
                unit=Unit.COUNT, polarity=Polarity.LOWER_IS_BETTER, owner="o", definition="d")


def test_no_chart_where_every_point_is_suppressed() -> None:
    hidden = [ChartPoint(f"2024-{m:02d}", None, True) for m in range(7, 11)]
    chart, note = _chart(IND, _result(hidden), WIDE)
    assert chart is None
    assert note == ("No chart: every figure from July 2024 to October 2024 is about a small "
                    "number of children and is not published.")
    missing = [ChartPoint("2024-09", None), ChartPoint("2024-10", None, True)]
    assert "missing, or about a small number" in _chart(IND, _result(missing), WIDE)[1]


def test_the_x_axis_starts_at_the_first_figure_shown() -> None:
    points = [ChartPoint("2024-07", None, True), ChartPoint("2024-08", None),
              ChartPoint("2024-09", 0.0), ChartPoint("2024-10", None, True)]
    chart, note = _chart(IND, _result(points), WIDE)
    assert chart is not None and not note
    assert (chart.first_label, chart.last_label) == ("Sep 24", "Oct 24")
    assert [t.label for t in chart.y_ticks] == ["0", "1"]  # whole children, from 0
    assert "from September 2024 to October 2024" in chart.description
