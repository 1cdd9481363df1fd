"""Briefing HTML from Jinja templates, and PDF from that HTML with WeasyPrint.

Jinja runs with autoescape and StrictUndefined, so a missing field is an error rather
than a blank in a public paper. WeasyPrint gets a URL fetcher that reads only the
project's own templates folder: a paper never pulls anything from elsewhere.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from tasks.context import BriefingContext

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
BRIEFING_TEMPLATE = "briefing.html.j2"
STYLESHEET = "briefing.css"


def environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
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


class ProjectFilesOnly(URLFetcher):
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


def render_pdfs(htmls: list[str], templates_dir: Path = TEMPLATES_DIR) -> list[bytes]:
    """Several PDFs at once, one process each (WeasyPrint is CPU-bound Python: threads would
    take turns). Spawned, not forked: the caller may be running Prefect's threads."""
    # Already a worker of a process pool (a regional run): pools cannot nest.
    if (len(htmls) < 2 or (os.cpu_count() or 1) < 2
            or multiprocessing.current_process().daemon):
        return [render_pdf(h, templates_dir) for h in htmls]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(len(htmls), os.cpu_count() or 1),
                             mp_context=ctx) as pool:
        return list(pool.map(render_pdf, htmls, [templates_dir] * len(htmls)))


def render_pdf(html: str, templates_dir: Path = TEMPLATES_DIR) -> bytes:
    """A4, tagged PDF/UA with title, language and bookmarks from the HTML headings."""
    doc = HTML(string=html, base_url=str(templates_dir) + "/",
               url_fetcher=ProjectFilesOnly(templates_dir))
    pdf = doc.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)
    assert pdf is not None
    return bytes(pdf)
