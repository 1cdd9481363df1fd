"""Geometry for the trend charts: plain numbers the SVG macro in templates/ draws.

Scaling is arithmetic, so it lives here where it can be tested; the drawing is markup, so
it lives in `templates/macros.html.j2`. Charts are read on paper: every size below is in
SVG units drawn at 0.75 pt each (a CSS pixel), so a font size of 11 prints at 8.25 pt.

The axes come from the points the chart shows and nothing else: a figure the edition
hides is a gap, never a bound, so the public edition's axes cannot hint at it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from tasks.settings.periods import short_label

PT_PER_UNIT = 0.75  # SVG user units are CSS pixels: 96 to the inch, 72 points to the inch


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    kind: str = ""  # special cause: improvement | concern | neutral; "" for common cause


@dataclass(frozen=True)
class Tick:
    at: float  # x or y in chart coordinates
    label: str


@dataclass(frozen=True)
class Limits:
    """SPC lines in chart coordinates (y), clipped to the plot."""

    mean_y: float
    lower_y: float
    upper_y: float


@dataclass(frozen=True)
class Size:
    """A chart's box and margins, in SVG units."""

    width: int
    height: int
    left: float
    right: float  # room for the target's label
    top: float
    bottom: float
    font: float
    x_labels: int  # at most this many period labels
    y_steps: int  # about this many steps between y labels
    dot: float  # radius of a special-cause dot


# Full width of the A4 text column (174 mm is 493 pt; 640 units print at 480 pt).
WIDE = Size(640, 138, 58, 72, 26, 31, 12, 5, 4, 3)
# A trend line in a table row: the shape beside the figures, with no text to read.
SPARK = Size(72, 26, 3, 5, 4, 4, 0, 0, 2, 1.8)


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    width: int
    height: int
    font: float
    segments: list[list[Point]]  # a missing or suppressed period breaks the line
    last: Point | None
    target_y: float | None
    target_label: str  # "Target" and the figure, beside the dashed line
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    y_title: str  # what the numbers are, above the y axis
    x_title: str  # what the periods are, below the x axis
    first_label: str  # the first and last periods drawn, for the caption
    last_label: str
    grid: str  # one SVG path for the horizontal grid lines
    x_marks: str  # one SVG path for a tick mark at every period
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    limits: Limits | None = None
    dots: str = ""  # one SVG path: a dot for each figure with no neighbour to join
    dot: float = 6  # a dot's diameter
    specials: list[tuple[str, str]] = field(default_factory=list)  # (kind, SVG path)
    # Vertical lines at the periods deep-dive actions were put in place, labelled A1...
    marks: list[Tick] = field(default_factory=list)

    @property
    def font_pt(self) -> float:
        """The smallest text in the chart, in points on paper."""
        return self.font * PT_PER_UNIT


def nice_ticks(lo: float, hi: float, count: int = 4, whole: bool = False) -> list[float]:
    """Round values from at or below `lo` to at or above `hi`, about `count` steps apart.

    Never below zero for figures that are not; steps of at least 1 for `whole` numbers
    (counts of children: no axis at 0.25 of a child). Any finite bounds give finite ticks:
    where round steps would pass the largest float (figures near ±1e308, which validate
    refuses but a chart must still survive), the ticks are evenly spaced instead."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"a chart's axis needs finite bounds, not {lo} to {hi}")
    if hi - lo < 1e-9 * max(1.0, abs(lo)):
        pad = max(1.0, abs(lo) * 1e-6)  # a flat line: an axis around it
        lo, hi = (lo - pad, hi + pad) if lo < 0 or lo >= 1 else (0.0, lo + 1.0)
        lo, hi = max(lo, -sys.float_info.max), min(hi, sys.float_info.max)
    raw = hi / count - lo / count  # never overflows, as hi - lo can
    try:
        ticks = _round_ticks(lo, hi, raw, whole)
    except OverflowError:
        ticks = []
    if len(ticks) < 2 or not all(math.isfinite(t) for t in ticks):
        return _even_ticks(lo, hi, count)
    return ticks


def _round_ticks(lo: float, hi: float, raw: float, whole: bool) -> list[float]:
    """Ticks at multiples of a round step (1, 2, 2.5 or 5 times a power of ten)."""
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw - 1e-12)
    if not math.isfinite(step):
        return []
    if whole:
        step = max(1.0, round(step))
    start = math.floor(lo / step + 1e-9) * step
    stop = math.ceil(hi / step - 1e-9) * step
    steps = stop / step - start / step
    if not (math.isfinite(start) and math.isfinite(stop) and steps < 1000):
        return []
    return [round(start + i * step, 10) for i in range(round(steps) + 1)]


def _even_ticks(lo: float, hi: float, count: int) -> list[float]:
    """`count` even steps from `lo` to `hi`, each a weighted mean of the two (so never
    beyond them, and never infinite)."""
    return [min(hi, max(lo, lo * (1 - i / count) + hi * (i / count)))
            for i in range(count + 1)]


def scale(v: float, lo: float, hi: float) -> float:
    """Where `v` falls between `lo` (0) and `hi` (1); halves first, so that hi - lo cannot
    overflow for bounds near ±1e308."""
    return (v / 2 - lo / 2) / (hi / 2 - lo / 2)


def tick_label(value: float, step: float, suffix: str = "") -> str:
    """As many decimals as the step needs, thousands separated: 2.5%, 1,200, 0.25; beyond
    a thousand million million, three significant figures (1.2e+18), not 19 digits."""
    if abs(value) >= 1e15:
        return f"{value:.3g}{suffix}"
    decimals = 0
    while decimals < 3 and abs(step * 10 ** decimals - round(step * 10 ** decimals)) > 1e-6:
        decimals += 1
    text = f"{value:,.{decimals}f}"
    return ("0" if text.strip("-0.,") == "" else text) + suffix


def _x_ticks(n: int, most: int) -> list[int]:
    """Indexes to label: the latest always, then evenly back from it."""
    if n <= 1:
        return [0]
    every = max(1, math.ceil((n - 1) / max(most - 1, 1)))
    return sorted(range(n - 1, -1, -every))


def trend_chart(title: str, points: list[tuple[str, float | None]], target: float | None,
                suffix: str, description: str, size: Size = WIDE,
                spc: tuple[float, float, float] | None = None,
                special: dict[str, str] | None = None, target_text: str = "",
                y_title: str = "", x_title: str = "", whole: bool = False,
                marks: dict[str, str] | None = None) -> Chart:
    """Scale a series (target line, SPC mean and limits) into the box of `size`.

    `points` should start at the first period with a figure to show (the x axis starts
    where the data does). `suffix` follows each y label ('%'); `spc` is (mean, lower,
    upper); `special` maps a period to its special-cause kind; `whole`: the figures are
    counts, so the y axis steps by whole numbers; `marks` maps a period to the label of a
    line drawn at it (a deep-dive action, "A1"), for periods the chart spans.
    """
    left, right = size.left, size.width - size.right
    top, bottom = size.top, size.height - size.bottom
    points, spc, target = _finite(points, spc, target)
    known = [v for _, v in points if v is not None]
    ticks = _value_ticks(known, target, spc, size, whole)
    lo, hi = ticks[0], ticks[-1]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    n = max(len(points) - 1, 1)

    def sx(i: int) -> float:
        return round(left + (right - left) * i / n, 1) if len(points) > 1 else (left + right) / 2

    def sy(v: float) -> float:
        return round(bottom - (bottom - top) * scale(v, lo, hi), 1)

    segments = _segments(points, sx, sy, special or {})
    last = segments[-1][-1] if segments else None
    limits = None
    if spc is not None and known:
        limits = Limits(sy(spc[0]), min(sy(spc[1]), bottom), max(sy(spc[2]), top))
    y_ticks = [Tick(sy(t), tick_label(t, step, suffix)) for t in ticks]
    x_ticks = [Tick(sx(i), short_label(points[i][0])) for i in _x_ticks(len(points),
                                                                         size.x_labels)
               ] if points else []
    grid = "".join(f"M{left},{t.at}H{right}" for t in y_ticks[1:])
    x_marks = "".join(f"M{sx(i)},{bottom}v4" for i in range(len(points)))
    return Chart(
        title=title, description=description, width=size.width, height=size.height,
        font=size.font, segments=segments, last=last,
        target_y=sy(target) if target is not None else None, target_label=target_text,
        y_ticks=y_ticks, x_ticks=x_ticks, y_title=y_title, x_title=x_title,
        first_label=short_label(points[0][0]) if points else "",
        last_label=short_label(points[-1][0]) if points else "", grid=grid,
        x_marks=x_marks, plot_left=left, plot_right=right, plot_top=top, plot_bottom=bottom,
        limits=limits, dots=_dots([s[0] for s in segments if len(s) == 1]), dot=size.dot * 2,
        specials=[(kind, _dots([p for s in segments for p in s if p.kind == kind]))
                  for kind in sorted({p.kind for s in segments for p in s if p.kind})],
        marks=[Tick(sx(i), (marks or {})[period]) for i, (period, _) in enumerate(points)
               if period in (marks or {})],
    )


def _finite(points: list[tuple[str, float | None]], spc: tuple[float, float, float] | None,
            target: float | None) -> tuple[list[tuple[str, float | None]],
                                           tuple[float, float, float] | None, float | None]:
    """A figure that is no finite number is a gap, as a missing one is; SPC lines from such
    figures are not drawn: whatever the chart is given, its arithmetic stays finite."""
    points = [(p, v if v is not None and math.isfinite(v) else None) for p, v in points]
    if spc is not None and not all(math.isfinite(x) for x in spc):
        spc = None
    if target is not None and not math.isfinite(target):
        target = None
    return points, spc, target


def _value_ticks(known: list[float], target: float | None,
                 spc: tuple[float, float, float] | None, size: Size, whole: bool
                 ) -> list[float]:
    """The y axis's ticks, spanning the figures, the target and the SPC lines."""
    span = known + ([target] if target is not None else [])
    if spc is not None and known:
        # A limit below zero for figures that cannot be negative is drawn at the axis.
        floor = 0.0 if min(known) >= 0 else spc[1]
        span += [spc[0], max(spc[1], floor), spc[2]]
    return nice_ticks(min(span), max(span), size.y_steps, whole) if span else [0.0, 1.0]


def _segments(points: list[tuple[str, float | None]], sx: Callable[[int], float],
              sy: Callable[[float], float], special: dict[str, str]) -> list[list[Point]]:
    """The line's runs of consecutive figures, broken at each gap."""
    segments: list[list[Point]] = []
    current: list[Point] = []
    for i, (period, v) in enumerate(points):
        if v is None:
            if current:
                segments.append(current)
            current = []
            continue
        current.append(Point(sx(i), sy(v), short_label(period), special.get(period, "")))
    if current:
        segments.append(current)
    return segments


def _dots(points: list[Point]) -> str:
    """Many dots as one SVG path of zero-length strokes, drawn with round caps as wide as
    the dot: one element instead of one per dot, and no arcs (which WeasyPrint turns into
    curves one by one, in Python)."""
    return "".join(f"M{p.x},{p.y}h0" for p in points)
