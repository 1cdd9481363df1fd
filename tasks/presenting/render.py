"""Briefing HTML from Jinja templates, and PDF from that HTML with WeasyPrint.

Jinja runs with autoescape and StrictUndefined, so a missing field is an error rather
than a blank in a public paper. WeasyPrint gets a URL fetcher that reads only the
project's own templates folder: a paper never pulls anything from elsewhere.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from tasks.adapters.lifeline import die_with_parent
from tasks.presenting.context import BriefingContext

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
BRIEFING_TEMPLATE = "briefing.html.j2"
STYLESHEET = "briefing.css"


@functools.cache
def environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """One Jinja environment per templates folder, so each template is compiled once per
    process (compiling the briefing's costs more than rendering it)."""
    return Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"),
                                      disabled_extensions=("txt", "txt.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(ctx: BriefingContext, templates_dir: Path = TEMPLATES_DIR) -> str:
    """The briefing as one self-contained HTML page (styles and charts inline)."""
    env = environment(templates_dir)
    # The stylesheet is our own file, inserted as markup: escaping would mangle its quotes.
    css = Markup((templates_dir / STYLESHEET).read_text(encoding="utf-8"))
    fields: dict[str, Any] = {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)}
    return env.get_template(BRIEFING_TEMPLATE).render(**fields, stylesheet=css)


class ProjectFilesOnly(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no types
    """Serve `file:` URLs inside the allowed folder; refuse everything else."""

    def __init__(self, root: Path = TEMPLATES_DIR) -> None:
        super().__init__(allowed_protocols=("file",))
        self.root = root.resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parsed = urlparse(url)
        if parsed.scheme != "file":
            raise ValueError(f"refused to fetch {url!r}: only the project's own files are read")
        path = Path(unquote(parsed.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ValueError(f"refused to fetch {url!r}: outside {self.root}")
        return URLFetcherResponse(url, body=path.read_bytes())


def _ready() -> None:
    """Runs first in a helper process: unpickling it imports this module and WeasyPrint;
    a first small page loads the fonts."""
    render_pdf("<p>ready</p>")


def _helper_start(parent: int) -> None:
    """A PDF helper ends with its parent (tasks.adapters.lifeline) and leaves Ctrl-C to it: a
    terminal sends SIGINT to the whole process group, and the parent stops the run and says
    so in one line (a helper's own KeyboardInterrupt printed a traceback; found from
    outside)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)


def _helpers(papers: int) -> ProcessPoolExecutor | None:
    helpers = min(papers - 1, (os.cpu_count() or 1) - 1)
    if helpers <= 0 or multiprocessing.current_process().daemon:
        return None
    # Each helper ends when this process does, even by `kill -9` (tasks.adapters.lifeline).
    pool = ProcessPoolExecutor(max_workers=helpers,
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_helper_start, initargs=(os.getpid(),))
    # Started with Ctrl-C ignored (kept across exec), so that a SIGINT to the process group
    # while a helper is still importing does not print its traceback; the parent stops.
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        for _ in range(helpers):
            pool.submit(_ready)
    finally:
        if main:  # (None: a handler set outside Python; the default stands in for it)
            signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
    return pool


_WARM: dict[int, ProcessPoolExecutor] = {}


def warm_up(papers: int) -> None:
    """Start the helper processes for `papers` PDFs now, at the start of a run, so that
    their start (two seconds or so of imports) overlaps reading and checking the exports;
    the next PdfWriters for as many papers takes them over. Left unused, they end with
    this process."""
    if papers not in _WARM:
        pool = _helpers(papers)
        if pool is not None:
            _WARM[papers] = pool
            atexit.register(pool.shutdown, cancel_futures=True)


class PdfWriters:
    """PDFs of several papers at once: one in this process, the others in helper processes
    started on entering, so that their imports (a second or so) overlap the caller's work.

    WeasyPrint is CPU-bound Python, so threads would take turns. Helpers are spawned, not
    forked: the caller may be running Prefect's threads. A process that is itself a pool's
    worker (a regional run) cannot start helpers and renders everything itself.
    """

    def __init__(self, papers: int, templates_dir: Path = TEMPLATES_DIR) -> None:
        self.templates_dir = templates_dir
        self.pool = _WARM.pop(papers, None) or _helpers(papers)

    def __enter__(self) -> PdfWriters:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def write(self, htmls: list[str]) -> list[bytes]:
        if self.pool is None or len(htmls) < 2:
            return [render_pdf(h, self.templates_dir) for h in htmls]
        later = [self.pool.submit(render_pdf, h, self.templates_dir) for h in htmls[1:]]
        first = render_pdf(htmls[0], self.templates_dir)
        return [first, *(f.result() for f in later)]


def render_pdf(html: str, templates_dir: Path = TEMPLATES_DIR) -> bytes:
    """A4, tagged PDF/UA with title, language and bookmarks from the HTML headings."""
    doc = HTML(string=html, base_url=str(templates_dir) + "/",
               url_fetcher=ProjectFilesOnly(templates_dir))
    pdf = doc.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)
    assert pdf is not None
    return bytes(pdf)
