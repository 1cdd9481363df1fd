"""A regional run's own steps: one authority's briefing (the same run sequence, public
edition, no mail; returns the overview's row), and the overview written at the end.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from tasks.adapters.outputs import write_bytes_atomic, write_text_atomic
from tasks.presenting.regional import Overview
from tasks.presenting.render import environment, render_pdf
from tasks.presenting.spreadsheets import overview_workbook
from tasks.reading.files import Limits
from tasks.run.cycle import Resources, run_cycle
from tasks.run.inputs import validate_exports
from tasks.settings.environment import Settings
from tasks.settings.formatting import Edition
from tasks.settings.periods import end_month, label
from tasks.store.history import store_for


class NoFigures(Exception):
    """An authority in the files with nothing for the cycle: left out of a regional run."""


def brief_authority(config_dir: Path, exports_dir: Path, authority: str, out_dir: Path,
                    cycle: str | None = None, edition: str = "public",
                    report_date: date | None = None,
                    settings: Settings | None = None, *, today: date) -> dict[str, object]:
    """One authority's briefing in a regional run: the same run sequence as the monthly
    flow (its lock, one timestamp), no mail; returns the overview's row. `settings`: the
    regional flow's (its store and limits; None: every default); `today`: its clock's day.

    Raises ValidationFailed if that authority's figures have errors (the others go on).
    """
    from tasks.reading.problems import ValidationFailed

    limits = Limits.from_settings(settings) if settings is not None else None
    inputs = validate_exports(Path(config_dir), Path(exports_dir), cycle, today=today,
                              authority=authority, limits=limits)
    if not inputs.ok:
        raise ValidationFailed(inputs.problems)
    if not (inputs.records["period"] == inputs.cycle).any():
        periods = list(inputs.records["period"].unique())
        latest = (f"its latest are for {label(max(periods, key=end_month))}" if periods
                  else "it has none for any period")
        raise NoFigures(f"no figures for {label(inputs.cycle)}: {latest} (an authority since "
                        "replaced?)")
    editions = list(Edition) if edition == "both" else [Edition(edition)]
    store_url = settings.secret("store_url") if settings is not None else None
    done = run_cycle(inputs, Resources(store_for(Path(out_dir), store_url), Path(out_dir),
                                       report_date=report_date), editions)
    # The overview is published: its figures are the public edition's.
    public = done.rendered.figures[Edition.PUBLIC].results
    places = {i.code: i.decimals for i in inputs.config.indicators}
    return {"code": inputs.config.briefing.authority.code,
            "name": inputs.config.briefing.authority.name, "cycle": inputs.cycle,
            "folder": str(done.folder),
            "indicators": {r.code: {"value": r.value, "withheld": r.is_withheld("value"),
                                    "rag": str(r.rag), "deep_dive": r.deep_dive,
                                    # as precisely as its source gives it (tasks.checking.precision)
                                    "decimals": places.get(r.code)}
                           for r in public}}


def write_overview(ov: Overview, folder: Path) -> Path:
    """The regional overview as HTML, PDF and a workbook, into `folder`."""
    env = environment()
    html = env.get_template("overview.html.j2").render(ov=ov)
    write_text_atomic(folder / "overview.html", html)
    write_bytes_atomic(folder / "overview.pdf", render_pdf(html))
    write_bytes_atomic(folder / "overview.xlsx",
                       overview_workbook(ov, ov.generated_at or datetime.now().astimezone()))
    return folder
