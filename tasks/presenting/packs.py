"""The deep-dive pack: when a deep dive opens, a restricted paper for its owner and the board.

Written only in the cycle the deep dive opens (re-running that cycle writes the same pack
again; a later cycle, with the deep dive still open, writes none). It holds what a deep
dive starts from: up to 36 periods of the indicator with its SPC reading, benchmarks, the
breakdown over time, the other indicators of its service area, every commentary on it, and
suggested questions. Restricted: it shows every figure, so it goes to the owner (attached
to their email) and is listed, by file name, in the paper.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from tasks.analysing.compare import series
from tasks.analysing.deep_dives import DeepDive
from tasks.analysing.results import SpcResult
from tasks.presenting.charts import WIDE, Chart, trend_chart
from tasks.presenting.context import Y_TITLES, BriefingContext, IndicatorView
from tasks.presenting.render import STYLESHEET, TEMPLATES_DIR, environment
from tasks.presenting.wording import owner_text
from tasks.reading.commentary import Commentary
from tasks.settings.config import Config, Indicator, Unit
from tasks.settings.formatting import fmt_value
from tasks.settings.periods import label, latest_of_kind, short_label

PACK_PERIODS = 36
PACK_TEMPLATE = "pack.html.j2"


def opened_now(register: list[DeepDive], config: Config, cycle: str) -> list[DeepDive]:
    """The deep dives that open in this cycle (in each indicator's current period)."""
    catalogue = config.by_code()
    return [d for d in register if d.indicator in catalogue and d.status.value != "closed"
            and d.opened == latest_of_kind(catalogue[d.indicator].frequency, cycle)]


@dataclass(frozen=True)
class PackCommentary:
    period: str
    author: str
    date: str
    text: str


@dataclass(frozen=True)
class PackContext:
    title: str
    authority_name: str
    committee: str
    cycle_label: str
    opened: str
    owner: str
    indicator: IndicatorView  # as the restricted paper shows it
    chart: Chart | None
    chart_note: str
    history: list[tuple[str, str]]  # (period, figure), newest first
    breakdown_name: str
    breakdown_periods: list[str]
    breakdown_rows: list[tuple[str, list[str]]]  # (part, its figure in each period)
    area: list[IndicatorView]  # the other indicators of the same service area
    commentary: list[PackCommentary]  # every commentary on the indicator, newest first
    questions: list[str]


def build_pack(config: Config, dive: DeepDive, ctx: BriefingContext, history: pd.DataFrame,
               spc: SpcResult | None, parts: pd.DataFrame,
               commentary: list[Commentary]) -> PackContext:
    """The pack's context from the restricted edition's context and the full history."""
    ind = config.by_code()[dive.indicator]
    view = next(v for a in ctx.areas for v in a.indicators if v.code == ind.code)
    period = latest_of_kind(ind.frequency, ctx.cycle)
    points = [(p, v) for p, v, _ in series(history, ind.code, period, PACK_PERIODS)]
    start = next((i for i, (_, v) in enumerate(points) if v is not None), None)
    chart, note = None, "No chart: no figures in the last 36 periods."
    if start is not None:
        shown = points[start:]
        limits = special = None
        if spc is not None and spc.mean is not None and spc.lower is not None \
                and spc.upper is not None:
            limits = (spc.mean, spc.lower, spc.upper)
            special = {p.period: p.special for p in spc.points if p.special}
        chart = trend_chart(ind.title, shown, ind.target,
                            "%" if ind.unit is Unit.PERCENT else "",
                            f"{ind.title}, {label(shown[0][0])} to {label(period)}.", WIDE,
                            spc=limits, special=special,
                            target_text=fmt_value(ind.unit, ind.target, ind.decimals),
                            y_title=Y_TITLES[ind.unit], whole=ind.unit is Unit.COUNT)
        note = ("Grey lines: the average and process limits of the latest "
                f"{config.briefing.rules.chart_periods} periods.")
    name, periods, rows = _breakdown_table(ind, parts)
    questions = [view.question,
                 f"What do the figures by {name.lower() or 'team'} show about where the "
                 "decline is, and is it in a few places or everywhere?",
                 "What has changed in practice, staffing or demand since the decline began?",
                 "What will the board see, and by when, if the actions agreed work?"]
    return PackContext(
        title=f"Deep-dive pack: {ind.title}", authority_name=config.briefing.authority.name,
        committee=config.briefing.committee, cycle_label=label(ctx.cycle),
        opened=label(dive.opened), owner=owner_text(config, ind.owner, public=False),
        indicator=view,
        chart=chart, chart_note=note,
        history=[(short_label(p), fmt_value(ind.unit, v, ind.decimals))
                 for p, v in reversed(points) if v is not None],
        breakdown_name=name, breakdown_periods=[short_label(p) for p in periods],
        breakdown_rows=rows,
        area=[v for a in ctx.areas for v in a.indicators
              if v.service_area == ind.service_area and v.code != ind.code],
        commentary=[PackCommentary(label(c.period),
                                   c.author, c.date.strftime("%-d %B %Y"), c.text)
                    for c in sorted(commentary, key=lambda c: (c.period, c.date),
                                    reverse=True) if c.indicator == ind.code],
        questions=questions)


def _breakdown_table(ind: Indicator, parts: pd.DataFrame
                     ) -> tuple[str, list[str], list[tuple[str, list[str]]]]:
    """The indicator's breakdown over its last 12 periods with parts: (its name, the
    periods, each part's figure in each)."""
    mine = parts[parts["indicator"] == ind.code] if not parts.empty else parts
    periods = sorted(set(mine["period"]), key=str)[-12:] if not mine.empty else []
    rows: list[tuple[str, list[str]]] = []
    name = ""
    if periods:
        name = str(mine["breakdown"].iloc[0])
        for part in sorted(set(mine["part"]), key=str):
            cells = []
            for p in periods:
                hit = mine[(mine["part"] == part) & (mine["period"] == p)]
                cells.append(fmt_value(ind.unit, float(hit["value"].iloc[0]), ind.decimals)
                             if not hit.empty and hit["value"].iloc[0] == hit["value"].iloc[0]
                             else "")
            rows.append((str(part), cells))
    return name, periods, rows


def render_pack(ctx: PackContext, templates_dir: Path = TEMPLATES_DIR) -> str:
    """The pack as one self-contained HTML page, through the briefing's environment."""
    css = Markup((templates_dir / STYLESHEET).read_text(encoding="utf-8"))
    fields: dict[str, Any] = {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)}
    return environment(templates_dir).get_template(PACK_TEMPLATE).render(**fields,
                                                                        stylesheet=css)
