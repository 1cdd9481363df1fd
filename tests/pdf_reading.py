"""A PDF read by its geometry: how big each piece of text prints, and the box of each tagged
figure, from the content streams themselves (pypdf's text extraction gives the words but not,
inside form XObjects, their true size).

Only what a WeasyPrint paper uses is interpreted: the graphics state (q, Q, cm), text state
(BT, Tf, Tm, Td, TD, T*, TL), text shown (Tj, TJ, ', "), form XObjects (Do), clipping
rectangles (re) and marked content (BDC, EMC) tying a figure's drawing to its tag.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pypdf import PageObject, PdfReader
from pypdf.generic import ContentStream

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def multiply(m: Matrix, n: Matrix) -> Matrix:
    """m then n (PDF's row-vector convention: the product m x n)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u)


@dataclass(frozen=True)
class TextRun:
    size: float  # printed height of the font, in points
    x: float
    y: float  # points from the bottom of the page
    figure: str  # the alternative text of the figure it is drawn in, or ""


@dataclass(frozen=True)
class FigureBox:
    alt: str
    x: float
    y: float
    width: float  # points on the page
    height: float


@dataclass
class PageGeometry:
    runs: list[TextRun] = field(default_factory=list)
    figures: list[FigureBox] = field(default_factory=list)


def _figure_alts(reader: PdfReader) -> dict[tuple[int, int], str]:
    """(page object number, MCID) -> Alt of each /Figure in the structure tree."""
    out: dict[tuple[int, int], str] = {}

    def walk(node: Any, page: int | None) -> None:
        node = node.get_object()
        if isinstance(node, list):
            for k in node:
                walk(k, page)
            return
        if not hasattr(node, "get"):
            return
        pg = node.get("/Pg")
        page = pg.indirect_reference.idnum if pg is not None else page
        kids = node.get("/K")
        if node.get("/S") == "/Figure" and kids is not None:
            mcids = [k for k in (kids if isinstance(kids, list) else [kids])
                     if isinstance(k, int)]
            for mcid in mcids:
                out[(page or -1, int(mcid))] = str(node.get("/Alt", ""))
        if kids is not None and not isinstance(kids, int):
            walk(kids, page)

    root = reader.trailer["/Root"]
    if "/StructTreeRoot" in root:
        walk(root["/StructTreeRoot"]["/K"], None)
    return out


def _numbers(ops: list[Any]) -> list[float]:
    return [float(o) for o in ops]


def read_geometry(reader: PdfReader) -> list[PageGeometry]:
    alts = _figure_alts(reader)
    pages = []
    for page in reader.pages:
        geo = PageGeometry()
        ref = page.indirect_reference
        _interpret(page, page, IDENTITY, geo, alts, ref.idnum if ref else -1, [])
        pages.append(geo)
    return pages


def _interpret(page: PageObject, holder: Any, ctm: Matrix, geo: PageGeometry,
               alts: dict[tuple[int, int], str], page_id: int, marks: list[str]) -> None:
    """Walk one content stream (a page's or a form's) with the CTM it is drawn under."""
    content = holder.get_contents() if isinstance(holder, PageObject) else holder
    if content is None:
        return
    resources = holder.get("/Resources") or page.get("/Resources") or {}
    resources = resources.get_object() if hasattr(resources, "get_object") else resources
    stack: list[Matrix] = []
    tm = tlm = IDENTITY
    size, leading = 0.0, 0.0
    clip: tuple[float, float, float, float] | None = None
    for operands, op in ContentStream(content, page.pdf).operations:
        match op:
            case b"q":
                stack.append(ctm)
            case b"Q":
                ctm = stack.pop() if stack else ctm
            case b"cm":
                ctm = multiply(tuple(_numbers(operands)), ctm)  # type: ignore[arg-type]
            case b"BT":
                tm = tlm = IDENTITY
            case b"Tf":
                size = float(operands[1])
            case b"TL":
                leading = float(operands[0])
            case b"Tm":
                tm = tlm = tuple(_numbers(operands))  # type: ignore[assignment]
            case b"Td" | b"TD":
                tx, ty = _numbers(operands)
                if op == b"TD":
                    leading = -ty
                tm = tlm = multiply((1, 0, 0, 1, tx, ty), tlm)
            case b"T*":
                tm = tlm = multiply((1, 0, 0, 1, 0, -leading), tlm)
            case b"Tj" | b"TJ" | b"'" | b'"':
                m = multiply(tm, ctm)
                geo.runs.append(TextRun(size * math.hypot(m[2], m[3]), m[4], m[5],
                                        marks[-1] if marks else ""))
            case b"re":
                x, y, w, h = _numbers(operands)
                corners = [multiply((1, 0, 0, 1, px, py), ctm)[4:] for px, py in
                           ((x, y), (x + w, y + h))]
                (x0, y0), (x1, y1) = corners
                clip = (min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
            case b"BDC" | b"BMC":
                alt = ""
                if op == b"BDC" and operands[0] == "/Figure" and clip is not None:
                    props = operands[1]
                    alt = alts.get((page_id, int(props.get("/MCID", -1))), "")
                    geo.figures.append(FigureBox(alt, *clip))
                marks.append(alt or (marks[-1] if marks else ""))
            case b"EMC":
                if marks:
                    marks.pop()
            case b"Do":
                xobjects = resources.get("/XObject", {})
                form = xobjects[operands[0]].get_object() if operands[0] in xobjects else None
                if form is not None and form.get("/Subtype") == "/Form":
                    matrix = tuple(_numbers(form.get("/Matrix", list(IDENTITY))))
                    _interpret(page, form, multiply(matrix, ctm), geo,  # type: ignore[arg-type]
                               alts, page_id, marks)


def page_texts(reader: PdfReader) -> list[str]:
    """Each page's text with runs of white space made single spaces (and a line broken
    after a hyphen, "step-" and "down", joined again)."""
    return [re.sub(r"(?<=\w)- (?=\w)", "-", " ".join(p.extract_text().split()))
            for p in reader.pages]


def words(text: str) -> str:
    return " ".join(text.split())


def iter_runs(pages: list[PageGeometry]) -> Iterator[TextRun]:
    for p in pages:
        yield from p.runs
