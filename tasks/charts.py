"""Geometry for the small trend charts: plain numbers the SVG macro in templates/ draws.

Scaling is arithmetic, so it lives here where it can be tested; the drawing is markup, so
it lives in `templates/macros.html.j2`.
"""

from __future__ import annotations

from dataclasses import dataclass

from tasks.periods import short_label


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    kind: str = ""  # special cause: improvement | concern | neutral; "" for common cause


@dataclass(frozen=True)
class Limits:
    """SPC lines in chart coordinates (y), clipped to the plot."""

    mean_y: float
    lower_y: float
    upper_y: float


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    width: int
    height: int
    segments: list[list[Point]]  # a missing or suppressed month breaks the line
    last: Point | None
    target_y: float | None
    y_top_label: str
    y_bottom_label: str
    x_first_label: str
    x_last_label: str
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    limits: Limits | None = None
    specials: list[Point] | None = None


def trend_chart(title: str, points: list[tuple[str, float | None]], target: float | None,
                fmt: str, description: str, width: int = 260, height: int = 90,
                spc: tuple[float, float, float] | None = None,
                special: dict[str, str] | None = None) -> Chart:
    """Scale a series (target line, SPC mean and limits) into a width x height box.

    `fmt` is a format spec for axis labels, e.g. '{:.0f}%'. `spc` is (mean, lower, upper);
    `special` maps a period to its special-cause kind.
    """
    left, right, top, bottom = 38.0, width - 6.0, 8.0, height - 16.0
    known = [v for _, v in points if v is not None]
    span_values = known + ([target] if target is not None else [])
    if spc is not None and known:
        # A limit below zero for figures that cannot be negative is drawn at the axis.
        floor = 0.0 if min(known) >= 0 else spc[1]
        span_values += [spc[0], max(spc[1], floor), spc[2]]
    lo, hi = (min(span_values), max(span_values)) if span_values else (0.0, 1.0)
    if hi - lo < 1e-9:
        lo, hi = lo - 1.0, hi + 1.0
    pad = (hi - lo) * 0.08
    # Padding must not invent an impossible negative axis for figures that cannot be.
    lo, hi = (max(lo - pad, 0.0) if lo >= 0 else lo - pad), hi + pad
    n = max(len(points) - 1, 1)

    def sx(i: int) -> float:
        return round(left + (right - left) * i / n, 2)

    def sy(v: float) -> float:
        return round(bottom - (bottom - top) * (v - lo) / (hi - lo), 2)

    segments: list[list[Point]] = []
    current: list[Point] = []
    last: Point | None = None
    for i, (period, v) in enumerate(points):
        if v is None:
            if current:
                segments.append(current)
            current = []
            continue
        p = Point(sx(i), sy(v), f"{short_label(period)}: {fmt.format(v)}",
                  (special or {}).get(period, ""))
        current.append(p)
        last = p
    if current:
        segments.append(current)
    limits = None
    if spc is not None and known:
        limits = Limits(sy(spc[0]), min(sy(spc[1]), bottom), max(sy(spc[2]), top))
    return Chart(
        title=title, description=description, width=width, height=height, segments=segments,
        last=last, target_y=sy(target) if target is not None else None,
        y_top_label=fmt.format(hi), y_bottom_label=fmt.format(lo),
        x_first_label=short_label(points[0][0]) if points else "",
        x_last_label=short_label(points[-1][0]) if points else "",
        plot_left=left, plot_right=right, plot_top=top, plot_bottom=bottom,
        limits=limits, specials=[p for s in segments for p in s if p.kind],
    )
