"""The coarse steps of a monthly run as plain functions; `tasks.steps` makes them Prefect tasks.

Order matters for "nothing lost": everything is read and checked before the first write,
the store is written in one transaction, files are renamed into place, and mail goes
last, through the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from tasks.authorities import resolve_authority, with_authority
from tasks.benchmarks import compare_with_others
from tasks.commentary import Commentary, read_commentary
from tasks.compare import analyse
from tasks.config import Config, ConfigError, load_config
from tasks.context import BriefingContext, build_context
from tasks.formatting import Edition
from tasks.ingest import read_exports
from tasks.mail import Mailer
from tasks.notify import Delivery, deliver, plan_notices
from tasks.outputs import cycle_dir, write_bytes_atomic, write_json_atomic, write_text_atomic
from tasks.periods import PER_YEAR, current_period, end_month, frequency_of, is_period, label
from tasks.plausibility import implausible_jumps
from tasks.problems import Problem, Severity, errors
from tasks.render import PdfWriters, render_html
from tasks.sources import load_sources
from tasks.spc import analyse_spc
from tasks.store import HistoryStore, find_revisions, store_for
from tasks.summary import summary_dict
from tasks.validate import check_coverage, check_records, usable_records
from tasks.values import opt_float

PDF_NAME = "briefing.pdf"
HTML_NAME = "briefing.html"
SUMMARY_NAME = "summary.json"


@dataclass
class Inputs:
    config: Config
    cycle: str
    records: pd.DataFrame  # usable canonical records, one per indicator and period
    problems: list[Problem]
    files: list[str]
    benchmarks: pd.DataFrame = field(default_factory=pd.DataFrame)
    neighbours: dict[str, list[str]] = field(default_factory=dict)
    commentary: list[Commentary] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not errors(self.problems)


@dataclass
class Analysed:
    history: pd.DataFrame
    analysis: pd.DataFrame
    revisions: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    benchmarks: pd.DataFrame = field(default_factory=pd.DataFrame)
    spc: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class Paper:
    """One edition of the briefing."""

    context: BriefingContext
    html: str
    pdf: bytes


@dataclass
class Rendered:
    """Both editions from one run; `context`, `html` and `pdf` are the public edition's."""

    editions: dict[Edition, Paper]

    @property
    def public(self) -> Paper:
        """The public edition, or the only one produced."""
        return self.editions.get(Edition.PUBLIC) or next(iter(self.editions.values()))

    @property
    def restricted(self) -> Paper:
        return self.editions.get(Edition.RESTRICTED) or next(iter(self.editions.values()))

    @property
    def context(self) -> BriefingContext:
        return self.public.context

    @property
    def html(self) -> str:
        return self.public.html

    @property
    def pdf(self) -> bytes:
        return self.public.pdf


def validate_exports(config_dir: Path, exports_dir: Path, cycle: str | None = None,
                     today_period: str | None = None, authority: str | None = None) -> Inputs:
    """Read config and exports and check them; changes nothing anywhere.

    `authority` (a DfE code or name) reports on another authority than `briefing.yaml`
    names, looked up in the published files among the exports.
    """
    config = load_config(Path(config_dir))
    sources = load_sources(Path(config_dir))
    if authority:
        config = with_authority(config, resolve_authority(Path(exports_dir), sources,
                                                          authority, config))
    ingested = read_exports(Path(exports_dir), sources, config.briefing.authority.code)
    records, problems = ingested.records, list(ingested.problems)
    today_period = today_period or current_period()
    if cycle is None:
        now = end_month(today_period)
        past = [p for p in records["period"].unique() if end_month(p) <= now]
        # The latest period to have ended; a month before a year ending that month.
        cycle = (max(past, key=lambda p: (end_month(p), PER_YEAR[frequency_of(p)]))
                 if past else today_period)
    elif not is_period(cycle):
        raise ConfigError(f"--cycle must be a period such as 2024-10 (a month) or 2025 (a "
                          f"reporting year), not {cycle!r}")
    problems += check_records(records, config, cycle, today_period, ingested.headers)
    problems += check_coverage(records, config, cycle)
    commentary, comment_problems = read_commentary(Path(exports_dir))
    problems += comment_problems
    return Inputs(config, cycle, usable_records(records, config, cycle), problems,
                  ingested.files, ingested.benchmarks, ingested.neighbours, commentary)


def compare_with_history(inputs: Inputs, store: HistoryStore) -> Analysed:
    """Merge this run's records over the stored history and apply the committee's rules."""
    authority = inputs.config.briefing.authority.code
    stored = store.history(authority)
    revisions = find_revisions(stored, inputs.records)
    problems = [
        Problem(Severity.WARNING if r.period != inputs.cycle else Severity.INFO,
                "(history store)", None, "value",
                f"{r.indicator} {label(str(r.period))} revised since it was last stored: "
                f"{_n(r.old_value)} -> {_n(r.new_value)}", str(r.indicator))
        for r in revisions.itertuples(index=False)]
    keys = ["indicator", "period"]
    merged = pd.concat([inputs.records, stored], ignore_index=True).drop_duplicates(keys)
    analysis = analyse(merged, inputs.config, inputs.cycle)
    problems += implausible_jumps(merged, analysis, inputs.config)
    others = compare_with_others(analysis, inputs.benchmarks, inputs.neighbours, inputs.config)
    spc = analyse_spc(merged, analysis, inputs.config)
    return Analysed(merged, analysis, revisions, problems, others, spc)


def _n(x: object) -> str:
    v = opt_float(x)
    return "blank" if v is None else f"{v:g}"


def render_briefing(inputs: Inputs, analysed: Analysed, generated_at: datetime,
                    editions: list[Edition] | None = None) -> Rendered:
    """The public and the restricted edition (or those asked for), as HTML and PDF."""
    wanted = editions or list(Edition)
    with PdfWriters(len(wanted)) as writers:  # helpers start now, while contexts are built
        contexts = {e: build_context(inputs.config, analysed.analysis, analysed.history,
                                     inputs.cycle, inputs.problems + analysed.problems,
                                     generated_at, analysed.benchmarks, analysed.spc, e,
                                     inputs.commentary) for e in wanted}
        htmls = {e: render_html(c) for e, c in contexts.items()}
        pdfs = writers.write(list(htmls.values()))
    return Rendered({e: Paper(contexts[e], htmls[e], pdf)
                     for e, pdf in zip(htmls, pdfs, strict=True)})


def store_and_publish(inputs: Inputs, analysed: Analysed, rendered: Rendered,
                      store: HistoryStore, out_dir: Path) -> Path:
    """Store the cycle (one transaction), then rename the briefing files into place."""
    authority = inputs.config.briefing.authority.code
    store.commit_cycle(authority, inputs.cycle, inputs.records, analysed.revisions, inputs.files)
    target = cycle_dir(out_dir, authority, inputs.cycle)
    for edition, paper in rendered.editions.items():
        write_text_atomic(target / f"briefing-{edition.value}.html", paper.html)
        write_bytes_atomic(target / f"briefing-{edition.value}.pdf", paper.pdf)
    # The contract's names: the public edition, the one safe to pass on.
    if Edition.PUBLIC in rendered.editions:
        write_text_atomic(target / HTML_NAME, rendered.public.html)
        write_bytes_atomic(target / PDF_NAME, rendered.public.pdf)
    return target


def notify(inputs: Inputs, rendered: Rendered, store: HistoryStore, mailer: Mailer,
           resend: bool) -> list[Delivery]:
    # With one edition produced, every message carries that one.
    papers = {e: rendered.editions.get(e) or next(iter(rendered.editions.values()))
              for e in Edition}
    notices = plan_notices(inputs.config, {e: p.context for e, p in papers.items()})
    authority = inputs.config.briefing.authority.code
    pdfs = {e: (p.pdf, f"{authority}-{inputs.cycle}-briefing-{p.context.edition}.pdf")
            for e, p in papers.items()}
    return deliver(notices, inputs.config, pdfs, mailer, store, inputs.cycle, resend=resend)


def write_summary(inputs: Inputs, analysed: Analysed, deliveries: list[Delivery],
                  target: Path, generated_at: datetime) -> Path:
    summary = summary_dict(inputs.config, analysed.analysis, inputs.problems + analysed.problems,
                           deliveries, inputs.cycle, generated_at, analysed.revisions,
                           analysed.benchmarks, analysed.spc)
    path = target / SUMMARY_NAME
    write_json_atomic(path, summary)
    return path


class NoFigures(Exception):
    """An authority in the files with nothing for the cycle: left out of a regional run."""


def brief_authority(config_dir: Path, exports_dir: Path, authority: str, out_dir: Path,
                    cycle: str | None = None, edition: str = "public") -> dict[str, object]:
    """One authority's briefing in a regional run: no mail; returns the overview's row.

    Raises ValidationFailed if that authority's figures have errors (the others go on).
    """
    from tasks.problems import ValidationFailed

    inputs = validate_exports(Path(config_dir), Path(exports_dir), cycle, authority=authority)
    if not inputs.ok:
        raise ValidationFailed(inputs.problems)
    if not (inputs.records["period"] == inputs.cycle).any():
        raise NoFigures(f"no figures for {label(inputs.cycle)} (an authority since replaced?)")
    store = store_for(Path(out_dir))
    analysed = compare_with_history(inputs, store)
    editions = list(Edition) if edition == "both" else [Edition(edition)]
    rendered = render_briefing(inputs, analysed, datetime.now().astimezone(), editions)
    target = store_and_publish(inputs, analysed, rendered, store, Path(out_dir))
    write_summary(inputs, analysed, [], target, datetime.now().astimezone())
    a = analysed.analysis
    return {"code": inputs.config.briefing.authority.code,
            "name": inputs.config.briefing.authority.name, "cycle": inputs.cycle,
            "folder": str(target),
            "indicators": {str(code): {"value": None if value != value else float(value),
                                       "rag": str(rag), "deep_dive": bool(dd)}
                           for code, value, rag, dd in zip(a["code"], a["value"], a["rag"],
                                                           a["deep_dive"], strict=True)}}
