"""Opening the exports folder's files safely, and reading them within limits.

The exports folder is filled by hand and by other systems, so a name in it may be a named
pipe (opening it would wait for ever), a device (`/dev/zero` never ends), a socket, or a
link to a file elsewhere (`/etc/passwd`). Only regular files inside the folder are read;
anything else is refused by name without being opened. What is read is bounded: a limit
on rows and cells per file, and on what a workbook unpacks to, so memory stays bounded
whatever arrives. Messages quote at most the offending cell, cut to a sensible length.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from tasks.settings.environment import Settings

ROWS_ENV, CELLS_ENV = "BRIEFING_MAX_ROWS", "BRIEFING_MAX_CELLS"
# A worksheet holds at most 1,048,576 rows; no genuine monthly export comes near.
DEFAULT_MAX_ROWS = 1_048_576
DEFAULT_MAX_CELLS = 20_000_000
# Published (DfE) files are read whole into a table (about 60 bytes a cell): fewer cells.
# The largest published file here has about 100,000.
MAX_TABLE_CELLS = 4_000_000
# Parts of a workbook that openpyxl reads whole (shared strings, styles): their unpacked size.
MAX_WORKBOOK_PART_BYTES = 64 * 1024 * 1024
# A sheet is streamed, but one cell's text is held whole: a 1 MB workbook holding one cell of
# 1.5 GB took 3 GB. A sheet of the 20,000,000 cells allowed unpacks to about 600 MB.
MAX_WORKSHEET_BYTES = 768 * 1024 * 1024
QUOTE_LIMIT = 60
# One physical line of a CSV. The csv module builds a whole row before anything can count
# its cells, so one line of 30 million cells took about 4 GB before the cell limit could
# refuse it: lines are bounded before csv sees them. No export's row comes near a MiB.
MAX_LINE_CHARS = 1 << 20


class FileRefused(Exception):
    """A file that is not read: what it is and why, in words for the person who put it there."""


@dataclass(frozen=True)
class Limits:
    """Per file: rows (every row read, blank or not) and cells (the width of each
    non-blank row read, summed)."""

    rows: int = DEFAULT_MAX_ROWS
    cells: int = DEFAULT_MAX_CELLS

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """BRIEFING_MAX_ROWS and BRIEFING_MAX_CELLS; raises ValueError naming a bad one."""
        given = {ROWS_ENV: settings.max_rows, CELLS_ENV: settings.max_cells}

        def number(name: str, default: int) -> int:
            raw = (given[name] or "").strip().replace(",", "").replace("_", "")
            if not raw:
                return default
            if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or int(raw) < 1:
                raise ValueError(f"{name} must be a whole number from 1 to "
                                 f"999,999,999,999, not {raw[:40]!r}")
            return int(raw)

        return cls(number(ROWS_ENV, DEFAULT_MAX_ROWS), number(CELLS_ENV, DEFAULT_MAX_CELLS))


class Counter:
    """Counts rows and cells as a file is read; stops the read at the first limit crossed."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.rows = 0
        self.cells = 0

    def reached(self, row_no: int) -> None:
        """Every row read, blank or not, is checked: a file of blank lines, or a sheet with
        a cell at row 100,000,000, stops at the limit rather than running on."""
        if row_no > self.limits.rows:
            raise FileRefused(f"has more than {self.limits.rows:,} rows (the limit per file, "
                              f"{ROWS_ENV}); stopped reading at row {row_no:,}")

    def add(self, row_no: int, width: int) -> None:
        self.rows += 1
        self.cells += width
        if self.rows > self.limits.rows:
            raise FileRefused(f"has more than {self.limits.rows:,} rows (the limit per file, "
                              f"{ROWS_ENV}); stopped reading at row {row_no:,}")
        if self.cells > self.limits.cells:
            raise FileRefused(f"has more than {self.limits.cells:,} cells (the limit per file, "
                              f"{CELLS_ENV}); stopped reading at row {row_no:,}")


def quote(text: object, limit: int = QUOTE_LIMIT) -> str:
    """A cell's text as a message shows it: quoted, control characters escaped, cut short."""
    s = str(text)
    cut = len(s) > limit
    shown = repr(s[:limit])
    return f"{shown[:-1]}...{shown[-1]}" if cut else shown


def one_line(text: object, limit: int = 300) -> str:
    """Another library's error message, on one line and cut: it may echo file content."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


_KINDS = {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket",
          stat.S_IFDIR: "a folder"}


def refusal(folder: Path, path: Path, folder_name: str = "exports folder") -> str | None:
    """Why `path` (an entry of `folder`) must not be read, or None for a regular file inside.

    Decided from `lstat` and `stat` alone: nothing is opened.
    """
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "a link to nothing (its target does not exist); not read"
        if not target.is_relative_to(folder.resolve()):
            return f"a link to a file outside the {folder_name}; not read"
        st = os.stat(target)
    if stat.S_ISREG(st.st_mode):
        return None
    kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
    return f"{kind}, not a regular file; not read"


@contextmanager
def open_regular(path: Path) -> Iterator[BinaryIO]:
    """Open a file known (by `refusal`) to be regular, checking again on the open handle, so
    a file swapped for a pipe in between is refused rather than waited on."""
    real = Path(path).resolve(strict=True)
    fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileRefused("is no longer a regular file; not read")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as fh:
        yield fh


def read_small(folder: Path, path: Path, max_bytes: int,
               folder_name: str = "exports folder") -> bytes:
    """A small hand-written file of the folder (owners' commentary, the deep-dive register),
    whole: refused by name if it is not a regular file inside the folder, or is larger than
    `max_bytes`, so a link to a device or a huge file never reaches the YAML reader."""
    why = refusal(folder, path, folder_name)
    if why:
        raise FileRefused(why)
    with open_regular(path) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileRefused(f"is larger than {max_bytes // 1024} KiB; not read")
    return data


def utf8_text(data: bytes) -> str:
    """A hand-written YAML file's text; anything but UTF-8 is refused naming the byte, as
    a config file is, rather than printed in the paper as replacement characters."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8") \
            from None


def csv_encoding(fh: BinaryIO, chunk: int = 1 << 20) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as such, else Windows-1252
    (Excel's "CSV" on Windows). Read in chunks, so a large file is never held whole."""
    start = fh.read(4)
    fh.seek(0)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (len(start) == 4 and (
            (start[1::2] == b"\x00\x00" and start[0] and start[2])       # little-endian
            or (start[0::2] == b"\x00\x00" and start[1] and start[3]))):  # big-endian
        raise FileRefused("is UTF-16 text (Excel's \"Unicode text\"); save it as \"CSV UTF-8\"")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while block := fh.read(chunk):
            decoder.decode(block)
        decoder.decode(b"", final=True)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "cp1252"
    fh.seek(0)
    return encoding


def text_stream(fh: BinaryIO) -> TextIO:
    """The file as text for the csv module, decoded as `csv_encoding` finds."""
    return io.TextIOWrapper(fh, encoding=csv_encoding(fh), errors="replace", newline="")


def bounded_lines(text: TextIO, limit: int = MAX_LINE_CHARS) -> Iterator[str]:
    """The stream's lines for the csv module, each refused if over `limit` characters (its
    line ending aside), so memory stays bounded whatever one line holds."""
    n = 0
    while line := text.readline(limit + 2):
        n += 1
        if len(line.rstrip("\r\n")) > limit:
            raise FileRefused(f"line {n:,} is longer than {limit:,} characters (no export's "
                              "row comes near that); stopped reading there")
        yield line


def check_workbook(fh: BinaryIO) -> None:
    """Refuse a workbook whose wholly-read parts unpack to more than the limit (a zip bomb);
    its sheets are streamed and bounded by the row and cell limits instead."""
    try:
        with zipfile.ZipFile(fh) as z:
            for info in z.infolist():
                name = info.filename.lower()
                if name.startswith("xl/worksheets/"):
                    if info.file_size > MAX_WORKSHEET_BYTES:
                        raise FileRefused(
                            f"has a sheet that unpacks to more than "
                            f"{MAX_WORKSHEET_BYTES // 2**20} MiB ({quote(info.filename)}); "
                            "not read")
                    continue
                if info.file_size > MAX_WORKBOOK_PART_BYTES:
                    raise FileRefused(
                        f"unpacks to more than {MAX_WORKBOOK_PART_BYTES // 2**20} MiB in "
                        f"{quote(info.filename)}; not read")
    finally:
        fh.seek(0)

