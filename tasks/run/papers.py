"""Stage 3 of a run: what each edition may show, and its paper, workbook, packs and owners'
return workbooks, as `Rendered`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

import pandas as pd

from tasks.analysing.deep_dives import pack_name
from tasks.analysing.results import spc_result
from tasks.editions.disclosure import EditionResults, edition_results
from tasks.presenting.context import BriefingContext, build_context
from tasks.presenting.packs import build_pack, render_pack
from tasks.presenting.render import PdfWriters, render_html
from tasks.presenting.return_workbooks import owner_returns, return_workbook
from tasks.presenting.spreadsheets import briefing_workbook, open_data_csv
from tasks.reading.problems import CELL, CONTESTED_TEXT, DISAGREE, DUPLICATE, Problem, Severity
from tasks.returns.quality import qualities, rule_problems, with_quality
from tasks.returns.workbook import quality_workbook
from tasks.run.analysis import Analysed
from tasks.run.inputs import Inputs
from tasks.settings.calendar import PaperDates, paper_dates, report_date_refusal
from tasks.settings.config import Config
from tasks.settings.formatting import Edition
from tasks.settings.periods import label

PDF_NAME = "briefing.pdf"


HTML_NAME = "briefing.html"


OPEN_DATA_NAME = "indicators-public.csv"  # the public indicator table as open data


@dataclass
class Paper:
    """One edition of the briefing."""

    context: BriefingContext
    html: str
    pdf: bytes


@dataclass
class Rendered:
    """The editions written by one run; `context`, `html` and `pdf` are the public
    edition's. `contexts` holds both editions' contexts, written or not."""

    editions: dict[Edition, Paper]
    contexts: dict[Edition, BriefingContext] = field(default_factory=dict)
    figures: dict[Edition, EditionResults] = field(default_factory=dict)
    # Each written edition's workbook, and the public table as CSV (tasks.presenting.spreadsheets).
    sheets: dict[Edition, bytes] = field(default_factory=dict)
    open_data: bytes | None = None
    # Deep-dive packs for the deep dives that opened this cycle (tasks.presenting.packs),
    # restricted:
    # file name (without suffix) -> (owner id, HTML, PDF).
    packs: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    # Each owner's return workbook (tasks.presenting.return_workbooks), restricted: owner id ->
    # (bytes, file name).
    returns: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # The returns' data-quality workbook, by child id: restricted, written by a run that
    # writes the restricted edition (tasks.returns.workbook).
    quality_book: bytes | None = None

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


def edition_figures(inputs: Inputs, analysed: Analysed, edition: Edition) -> EditionResults:
    """What one edition may print: every figure, or the public edition's
    (tasks.editions.disclosure),
    each current figure withheld for an error in the source saying where that error is.

    The public edition is worked out without the contested figures, and says nothing of
    the records behind them but the one wording (CONTESTED_TEXT)."""
    if edition is Edition.PUBLIC and inputs.contested:
        public = analysed.public or analysed
        problems = [p for p in inputs.problems
                    if not ((p.indicator, p.period) in inputs.contested
                            and p.kind in (CELL, DUPLICATE, DISAGREE))]
        # Whether the rule fired, and so the register, may rest on a contested figure.
        codes = {code for code, _ in inputs.contested}
        register = [d for d in public.register if d.indicator not in codes]
        entries = {k: e for k, e in public.register_entries.items() if k[0] not in codes}
        figures = edition_results(edition, inputs.config, inputs.cycle, public.history,
                                  _printed(public, edition), public.spc, public.benchmarks,
                                  problems + public.problems, public.revisions,
                                  register, entries, public.parts, public.remembered,
                                  public.hidden)
        notes = [Problem(Severity.WARNING, "(exports)", None, None,
                         f"{code} {label(period)}: not published in this edition: "
                         f"{CONTESTED_TEXT}", code, period=period)
                 for code, period in sorted(inputs.contested)]
        figures = replace(figures, problems=notes + figures.problems)
        return with_child_returns(with_source_errors(figures, inputs.public_withheld), inputs)
    figures = edition_results(edition, inputs.config, inputs.cycle, analysed.history,
                              _printed(analysed, edition), analysed.spc, analysed.benchmarks,
                              inputs.problems + analysed.problems, analysed.revisions,
                              analysed.register, analysed.register_entries,
                              analysed.parts, analysed.remembered,
                              analysed.hidden if edition is Edition.PUBLIC else None)
    # The public edition names the place alone: the cell may be about a few children.
    said = inputs.withheld if edition is Edition.PUBLIC else inputs.withheld_detail
    return with_child_returns(with_source_errors(figures, said or inputs.withheld), inputs)


def with_child_returns(figures: EditionResults, inputs: Inputs) -> EditionResults:
    """Each figure computed from a return with its data quality beside it, and DfE's
    rules' findings among the edition's data-quality findings (waiting for the rules)."""
    if not inputs.child_returns:
        return figures
    figures = with_quality(figures, qualities(inputs.child_returns), inputs.config,
                           inputs.cycle)
    return replace(figures, problems=figures.problems
                   + rule_problems(inputs.child_returns, figures.edition))


def _printed(analysed: Analysed, edition: Edition) -> pd.DataFrame:
    """The analysis an edition prints: the full one, or the public edition's, worked out
    by compare_with_history (never again here)."""
    if edition is Edition.RESTRICTED:
        return analysed.analysis
    if analysed.disclosed is None:
        raise ValueError("the public edition's analysis is worked out by "
                         "compare_with_history, for the analysis it prints")
    return analysed.disclosed


def with_source_errors(figures: EditionResults,
                       withheld: dict[tuple[str, str], str]) -> EditionResults:
    """The results with `source_error` set where the current figure was withheld."""
    if not any((r.code, r.period) in withheld for r in figures.results):
        return figures
    return replace(figures, results=[
        replace(r, source_error=withheld[(r.code, r.period)])
        if (r.code, r.period) in withheld else r for r in figures.results])


def dates_for(config: Config, cycle: str, report_date: date | None = None) -> PaperDates:
    """The cover's dates: the meeting whose paper reports this cycle, by the calendar in
    briefing.yaml, and the date of the report (given, or that meeting's publication day).
    A given date out of range (tasks.settings.calendar.report_date_refusal) is a ValueError: the
    command refuses it before the engine starts; a deployment's run stops here, before
    anything is written."""
    if report_date is not None and (why := report_date_refusal(report_date, cycle)):
        raise ValueError(f"report_date {why}")
    b = config.briefing
    return paper_dates(b.meetings, cycle, report_date, b.papers.clear_days,
                       b.papers.commentary_working_days, b.papers.data_ready_days)


def render_briefing(inputs: Inputs, analysed: Analysed, generated_at: datetime,
                    editions: list[Edition] | None = None, report_date: date | None = None,
                    mail: bool = True) -> Rendered:
    """Both editions' contexts (every message is planned from them), and the HTML and PDF
    of those asked for: the editions not asked for are not written, and whoever should
    receive them waits for a run that writes them. With `mail` false (no messages to
    plan) only the editions asked for, and the public figures, are worked out. The paper's
    dates come from the meeting calendar or `report_date`, never from the clock."""
    wanted = editions or list(Edition)
    needed = list(Edition) if mail else [e for e in Edition
                                         if e in wanted or e is Edition.PUBLIC]
    dates = dates_for(inputs.config, inputs.cycle, report_date)
    with PdfWriters(len(wanted)) as writers:  # helpers start now, while contexts are built
        figures = {e: edition_figures(inputs, analysed, e) for e in needed}
        contexts = {e: build_context(inputs.config, figures[e], inputs.cycle,
                                     inputs.commentary, dates, analysed.questions)
                    for e in needed}
        htmls = {e: render_html(contexts[e]) for e in Edition if e in wanted}
        sheets = {e: briefing_workbook(inputs.config, figures[e], inputs.cycle, generated_at)
                  for e in htmls}
        open_data = (open_data_csv(inputs.config, figures[Edition.PUBLIC], inputs.cycle)
                     if Edition.PUBLIC in htmls else None)
        # Restricted, like the edition: written only by a run that writes that edition.
        packs = (deep_dive_packs(inputs, analysed, contexts.get(Edition.RESTRICTED))
                 if Edition.RESTRICTED in htmls else {})
        returns = (owners_workbooks(inputs, analysed, figures[Edition.RESTRICTED],
                                    contexts[Edition.RESTRICTED], generated_at)
                   if Edition.RESTRICTED in htmls else {})
        pdfs = writers.write(list(htmls.values()) + [html for _, html in packs.values()])
    book = (quality_workbook(inputs.child_returns, inputs.config.briefing.authority.code,
                             inputs.cycle, generated_at)
            if Edition.RESTRICTED in htmls and inputs.child_returns else None)
    papers = dict(zip(htmls, pdfs, strict=False))
    pack_pdfs = pdfs[len(htmls):]
    return Rendered({e: Paper(contexts[e], htmls[e], pdf) for e, pdf in papers.items()},
                    contexts, figures, sheets, open_data,
                    {name: (owner, html, pdf) for (name, (owner, html)), pdf
                     in zip(packs.items(), pack_pdfs, strict=True)}, returns, book)


def owners_workbooks(inputs: Inputs, analysed: Analysed, figures: EditionResults,
                     ctx: BriefingContext, generated_at: datetime
                     ) -> dict[str, tuple[bytes, str]]:
    """Each owner's return workbook for the cycle (tasks.presenting.return_workbooks): owner id ->
    (bytes, file name). Restricted: the figures are the restricted edition's."""
    periods = {r.code: r.period for r in figures.results}
    asked = owner_returns(inputs.config, ctx.exceptions, analysed.register,
                          analysed.register_entries, inputs.commentary, inputs.cycle, periods,
                          analysed.questions)
    return {r.owner: (return_workbook(r, generated_at, inputs.return_key), r.file_name)
            for r in asked}


def deep_dive_packs(inputs: Inputs, analysed: Analysed, ctx: BriefingContext | None
                    ) -> dict[str, tuple[str, str]]:
    """The HTML of a pack for each deep dive that opened this cycle: file name (without
    suffix) -> (owner id, HTML). None without the restricted context (no mail planned)."""
    if ctx is None or not analysed.opened:
        return {}
    spc = {str(r["code"]): spc_result(r) for _, r in analysed.spc.iterrows()}
    code = inputs.config.briefing.authority.code
    out = {}
    for d in analysed.opened:
        pack = build_pack(inputs.config, d, ctx, analysed.history, spc.get(d.indicator),
                          analysed.parts, inputs.commentary)
        # Attached to the message of the indicator's owner now (tasks.delivering.notify plans by
        # it).
        owner = inputs.config.by_code()[d.indicator].owner
        out[pack_name(code, d.indicator, d.opened, "")] = (owner, render_pack(pack))
    return out
