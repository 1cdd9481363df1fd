"""An XML export checked whole before anything reads it: as a stream by expat, with any
DOCTYPE refused at its start, so no entity is ever declared or expanded (external
entities, "billion laughs"), and a file cut short is found at its end. DfE's XML returns
(the CIN census, the SSDA903) have no document type.
"""

from __future__ import annotations

from pathlib import Path
from xml.parsers import expat

from tasks.reading.files import FileRefused, open_regular

CHUNK = 1 << 20


class Doctype(Exception):
    """A document type declaration: DfE's returns have none, and its entities are not read."""


def refuse_doctype(*_: object) -> None:
    """expat's StartDoctypeDeclHandler: stop at a DOCTYPE before it declares anything."""
    raise Doctype


def xml_fault(path: Path, expected: str) -> str | None:
    """What makes the whole file no well-formed XML, or None; `expected` names what the
    file should be ("a CIN census") in the message."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse_doctype
    try:
        with open_regular(path) as fh:
            while chunk := fh.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except FileRefused as refused:
        return str(refused)
    except Doctype:
        return (f"declares a document type (DOCTYPE, line {parser.CurrentLineNumber}): "
                f"expected {expected} with none, as DfE's schema has none; its entities are "
                "not read")
    except expat.ExpatError as fault:
        return f"is not well-formed XML (line {fault.lineno}, character {fault.offset + 1})"
    return None
