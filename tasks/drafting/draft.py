"""`briefing init`: a first config drafted from a council's own exports.

It reads every export the way a run will, so what it drafts is what a run reads:

- each file's layout (a published DfE tidy file, a long export with an indicator, period
  and value column, or a wide scorecard with months as columns), its header row, sheet and
  the headings it uses; files named alike (`mosaic_2024-09.csv`, `mosaic_2024-10.csv`) are
  one source with a glob;
- each indicator's code, and what the files say about it: its title, target, polarity and
  section (a scorecard's own columns and section rows), unit (a `%` or `£`, an Excel
  percentage or currency cell, numerator and denominator, whole numbers) and frequency (the
  kinds of period it has).

Every guess carries a comment saying what it rests on; what only the council knows (owners,
definitions, a polarity the files do not give) says TODO. `briefing validate` lists the
TODOs left, and `briefing run` refuses a config that still has one.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tasks.editions.linked import drafted_links
from tasks.reading.child_records import child_records
from tasks.reading.files import FileRefused, Limits, open_regular
from tasks.reading.ingest import (
    HEADER_SEARCH_ROWS,
    Cell,
    Ingested,
    csv_rows,
    export_files,
    parse_period,
    read_dfe_csv,
    read_exports,
    xlsx_rows,
)
from tasks.reading.metadata import read_polarity, read_target
from tasks.reading.sources import SOURCES_FILE, Sources
from tasks.reading.time_identifiers import KINDS, TimeIdentifierError, kind_of
from tasks.returns.drafting import draft_returns
from tasks.settings.config import BRIEFING_FILE, INDICATORS_FILE, OWNERS_FILE, Polarity, Unit
from tasks.settings.periods import frequency_of

TODO = "TODO"
CONFIG_FILES = (SOURCES_FILE, INDICATORS_FILE, OWNERS_FILE, BRIEFING_FILE)
PLACEHOLDER_OWNER = "todo_owner"
# Headings a long export uses for each canonical column (compared in lower case).
SYNONYMS = {
    "indicator": ("indicator", "indicator code", "indicator id", "code", "measure",
                  "measure id", "measure code", "kpi", "kpi code", "pi", "pi code", "metric"),
    "period": ("period", "month", "date", "reporting period", "period end", "month end",
               "month ending", "quarter", "year"),
    "value": ("value", "result", "actual", "figure", "performance", "outturn", "score"),
    "numerator": ("numerator", "num", "number meeting", "count"),
    "denominator": ("denominator", "denom", "den", "base", "cohort", "total", "out of"),
    "authority": ("authority", "la", "la code", "local authority", "council", "organisation"),
}
# Headings of breakdown columns: a row with a value in one is a part of its indicator's
# figure (tasks.analysing.breakdowns), so a long export with one gets `breakdowns:`.
BREAKDOWN_HEADINGS = ("team", "locality", "age band", "breakdown", "district", "service unit")
TITLE_HEADINGS = ("title", "indicator name", "indicator title", "measure name", "name",
                  "description", "indicator description", "kpi name")
TARGET_HEADINGS = ("target", "target value", "standard", "ambition", "goal")
POLARITY_HEADINGS = ("polarity", "good is", "direction", "better", "desired direction",
                     "higher or lower is better", "what good looks like")
DFE_STANDARD = {"time_period", "time_identifier", "geographic_level", "country_code",
                "country_name", "region_code", "region_name", "old_la_code", "new_la_code",
                "la_name", "lad_code", "lad_name", "pcon_code", "pcon_name"}
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,23}\Z")


@dataclass
class Found:
    """One file as drafted: its layout and how to read it, and notes on the guesses."""

    path: Path
    layout: str  # long | wide | dfe | neighbours | population | unknown
    sheet: str | None = None
    headings: tuple[str, ...] = ()
    spec: dict[str, Any] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)  # key in spec -> comment
    titles: dict[str, str] = field(default_factory=dict)  # code -> title (a long export's)
    why: str = ""


def leftovers(config_dir: Path) -> list[str]:
    """Each line of the config that still says TODO, as `briefing validate` prints it."""
    out = []
    for name in CONFIG_FILES:
        path = Path(config_dir) / name
        if not path.is_file():
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue  # loading the config says what is wrong with it
        for n, line in enumerate(lines, 1):
            if TODO in line:
                text = " ".join(line.split())
                out.append(f"TODO: {path}, line {n}: {text[:110]}")
    return out


# --- Reading what the files are ------------------------------------------------------------

def _first_rows(path: Path, sheet: str | None = None) -> list[tuple[int, list[Cell]]]:
    """The first non-empty rows of a file or sheet: enough to find its header and the
    indicators under it."""
    limits = Limits(rows=HEADER_SEARCH_ROWS * 50)
    rows = (csv_rows(path, limits) if path.suffix.lower() == ".csv"
            else xlsx_rows(path, sheet, limits))
    out = []
    try:
        for row in rows:
            out.append(row)
            if len(out) >= HEADER_SEARCH_ROWS:
                break
    finally:
        getattr(rows, "close", lambda: None)()  # the file is closed now, not at collection
    return out


def _sheets(path: Path) -> list[str]:
    from openpyxl import load_workbook

    from tasks.reading.files import check_workbook, open_regular

    with open_regular(path) as fh:
        check_workbook(fh)
        wb = load_workbook(fh, read_only=True)
        try:
            return list(wb.sheetnames)
        finally:
            wb.close()


def _column(texts: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in texts:
            return texts.index(name)
    return None


def _long(path: Path, rows: list[tuple[int, list[Cell]]]) -> Found | None:
    for _, cells in rows:
        texts = [c.text.strip().lower() for c in cells]
        pos = {k: _column(texts, names) for k, names in SYNONYMS.items()}
        if pos["indicator"] is None or pos["period"] is None or pos["value"] is None:
            continue
        heads = [c.text.strip() for c in cells]
        columns = {k: heads[i] for k, i in pos.items() if i is not None}
        found = Found(path, "long", headings=tuple(heads), spec={"columns": columns})
        found.comments["columns"] = ("the file's own headings for indicator, period and value "
                                     "(numerator, denominator, authority if it has them)")
        split = [heads[i] for i, t in enumerate(texts) if t in BREAKDOWN_HEADINGS]
        if split:
            found.spec["breakdowns"] = split
            found.comments["breakdowns"] = ("detected: a row with a value here is a part of "
                                            "its indicator's figure")
        title = _column(texts, TITLE_HEADINGS)
        if title is not None:
            ind = pos["indicator"]
            assert ind is not None
            after = False
            for _, row in rows:
                if row is cells:
                    after = True
                    continue
                if after and ind < len(row) and title < len(row) and row[ind].text:
                    found.titles.setdefault(row[ind].text, row[title].text)
        return found
    return None


def _wide(path: Path, rows: list[tuple[int, list[Cell]]]) -> Found | None:
    for k, (_, cells) in enumerate(rows):
        months = [i for i, c in enumerate(cells) if parse_period(c.text) is not None]
        if len(months) < 2:
            continue
        heads = [c.text.strip() for c in cells]
        texts = [h.lower() for h in heads]
        below = [r for _, r in rows[k + 1:]]
        left = range(min(months))
        values = {i: [r[i].text for r in below if i < len(r) and r[i].text] for i in left}

        codes = [i for i in left if values[i] and
                 sum(bool(_CODE.match(v)) for v in values[i]) >= 0.6 * len(values[i])]
        ind = codes[0] if codes else 0
        spec: dict[str, Any] = {"indicator_column": heads[ind] or "indicator"}
        found = Found(path, "wide", headings=tuple(heads), spec=spec)
        found.comments["indicator_column"] = "the column of short codes left of the months"
        titles = [i for i in left if i != ind and values[i]
                  and sum(" " in v for v in values[i]) >= 0.5 * len(values[i])]
        title = _column(texts, TITLE_HEADINGS)
        title = title if title is not None else (titles[0] if titles else None)
        if title is not None and heads[title]:
            spec["title_column"] = heads[title]
            found.comments["title_column"] = "words, one an indicator: its title"
        for key, names in (("target_column", TARGET_HEADINGS),
                           ("polarity_column", POLARITY_HEADINGS)):
            i = _column(texts, names)
            if i is not None:
                spec[key] = heads[i]
        split = [heads[i] for i in range(len(heads))  # left of the months or right of them
                 if i not in months and texts[i] in BREAKDOWN_HEADINGS]
        if split:
            spec["breakdowns"] = split
            found.comments["breakdowns"] = ("detected: a row with a value here is a part of "
                                            "its indicator (or of the one above it)")
        return found
    return None


def _dfe(path: Path, limits: Limits | None = None) -> Found | None:
    try:
        frame = read_dfe_csv(path, limits)
    except FileRefused:
        return None
    cols = set(frame.columns)
    if re.search(r"(^|_)sn_|neighbour", path.name.lower()) and "old_la_code" in cols and any(
            re.fullmatch(r"SN_\d+", c) for c in cols):
        return Found(path, "neighbours", why="DfE's statistical neighbour model")
    if not {"time_period", "geographic_level"} <= cols:
        return None
    if POPULATION_COLUMN in cols:  # ONS's estimates: the denominators of rates, not measures
        found = Found(path, "population", why="ONS population estimates, the denominators "
                                              "of rates per 10,000 children")
        found.spec["frame"] = frame
        return found
    found = Found(path, "dfe", headings=tuple(frame.columns))
    found.spec["frame"] = frame
    return found


POPULATION_COLUMN = "population_estimate"


def _population(f: Found) -> list[str]:
    """sources.yaml's `population:` block for ONS's estimates, children's rows chosen."""
    frame: pd.DataFrame = f.spec["frame"]
    lines = [f"population:  # {f.why}",
             f"  files: {_scalar(_glob(f.path.name))}",
             f"  column: {POPULATION_COLUMN}"]
    if "age_group" in frame.columns:
        groups = list(frame["age_group"].str.strip().value_counts().index)
        child = next((g for g in groups if re.search(r"0 to 17|under 18", g, re.I)), None)
        if child is not None:
            lines.append(f"  where: {_scalar({'age_group': child})}  # children's rows")
    lines.append("  year_offset: -1  # mid-year estimates lag: reporting year 2025 uses "
                 "mid-2024")
    return lines


def identify(path: Path, limits: Limits | None = None) -> Found:
    """What a file is and how it would be read."""
    if (records := child_records(path)) is not None:
        return Found(path, "unknown", why=records)
    try:
        if path.suffix.lower() == ".csv":
            with open_regular(path) as fh:
                head = fh.readline(4096).decode("utf-8-sig", "replace").lower()
            if "time_period" in head and "geographic_level" in head:
                return _dfe(path, limits) or Found(
                    path, "unknown", why="a published file without time_period")
            if "sn_1" in head and "old_la_code" in head:
                return Found(path, "neighbours", why="DfE's statistical neighbour model")
            rows = _first_rows(path)
            return (_long(path, rows) or _wide(path, rows)
                    or Found(path, "unknown", why="no indicator, period and value columns, "
                                                  "and no row of month headings"))
        for sheet in _sheets(path):
            rows = _first_rows(path, sheet)
            found = _long(path, rows) or _wide(path, rows)
            if found:
                found.sheet = sheet
                return found
        return Found(path, "unknown", why="no sheet with indicator, period and value "
                                          "columns, or a row of month headings")
    except (FileRefused, OSError, ValueError, KeyError) as exc:
        return Found(path, "unknown", why=f"could not be read ({exc})")


# --- Sources -------------------------------------------------------------------------------

def _glob(name: str) -> str:
    """A file name with its dates and numbers as `*`: mosaic_2024-10.csv -> mosaic_*.csv."""
    stem, dot, ext = name.rpartition(".")
    starred = re.sub(r"\d[\d\-_.]*\d|\d", "*", stem if dot else name)
    starred = re.sub(r"\*+", "*", starred)
    return f"{starred}.{ext}" if dot else starred


def _group(found: list[Found]) -> list[list[Found]]:
    """Files read the same way and named alike are one source."""
    groups: dict[tuple[object, ...], list[Found]] = {}
    for f in found:
        key: tuple[object, ...] = (f.layout, f.sheet, _glob(f.path.name),
               tuple(sorted((k, str(v)) for k, v in f.spec.items() if k != "frame")))
        if f.layout == "dfe":
            key = (f.layout, f.path.name)  # each published file has its own measures
        groups.setdefault(key, []).append(f)
    out = list(groups.values())
    # A glob that would also catch another group's file names the files one by one instead.
    for g in out:
        pattern = _glob(g[0].path.name)
        others = [f for h in out if h is not g for f in h]
        if any(fnmatch.fnmatch(f.path.name, pattern) for f in others):
            for f in g:
                f.spec["_exact"] = True
    return out


def _name(group: list[Found]) -> str:
    """A source's name from its file's: "c1_children_in_need_referrals_2013_to_2025.csv"
    is "Children in need referrals", its table number and years left out."""
    f = group[0]
    stem = f.path.name.rpartition(".")[0] or f.path.name
    stem = re.sub(r"(^|[_\-\s])\d{4}([_\-\s]+to[_\-\s]+\d{4})?(?=$|[_\-\s])", " ", stem)
    stem = re.sub(r"^[a-z]\d+[_\-\s]+", "", stem, flags=re.I)  # DfE's table number: c1_
    stem = re.sub(r"[_\-*]+", " ", _glob(stem)).strip()
    kind = {"long": "export", "wide": "scorecard", "dfe": "DfE published statistics"}[f.layout]
    return f"{stem[:1].upper()}{stem[1:]} ({kind})" if stem else kind


# --- Indicators ----------------------------------------------------------------------------

@dataclass
class Guess:
    value: Any
    why: str


def _unit(recs: pd.DataFrame, title: str, target: str = "") -> Guess:
    """The unit, and what the guess rests on. A sign (% or £) decides only when at least
    half of the indicator's figures carry it: one stray "12%" among counts is a slip to
    check, named in the reason, not the unit."""
    guess = _unit_from_figures(recs, title, target)
    figures = recs["value"].notna()
    for column, unit, sign in SIGNS:
        marked = int((recs[column].fillna(False).astype(bool) & figures).sum())
        if marked and guess.value != unit.value:
            guess = Guess(guess.value, f"{guess.why}; but {marked} of {int(figures.sum())} "
                                       f"figure(s) are written with {sign}: check them")
    return guess


SIGNS = (("money_sign", Unit.MONEY, "£"), ("percent_sign", Unit.PERCENT, "%"))
SIGN_WHY = {"£": "written with £", "%": "written with %, or Excel percentage cells"}


# "%" in a title or target is a percentage: "Re-referrals (%)", "<= 22%". `\b` cannot
# go before "%" (it follows a bracket or a space, not a word), so it is matched alone.
PERCENT_WORDS = re.compile(r"\b(percent|percentage|proportion)|%")


def _unit_from_figures(recs: pd.DataFrame, title: str, target: str = "") -> Guess:
    vals = recs["value"].dropna()
    t = title.lower()
    figures = recs["value"].notna()
    for column, unit, sign in SIGNS:
        marked, total = int((recs[column].fillna(False).astype(bool) & figures).sum()), \
            int(figures.sum())
        if marked and 2 * marked >= total:
            return Guess(unit.value, SIGN_WHY[sign] if marked == total
                         else f"{SIGN_WHY[sign]} ({marked} of {total} figures)")
    both = recs.dropna(subset=["value", "numerator", "denominator"])
    both = both[both["denominator"] > 0]
    if len(both):
        ratio = (both["value"] * both["denominator"] / both["numerator"].where(
            both["numerator"] > 0)).dropna().median()
        if ratio == ratio and abs(ratio - 100) < 2:
            return Guess(Unit.PERCENT.value, "value is numerator over denominator, times 100")
        if ratio == ratio and abs(ratio - 10_000) < 200:
            return Guess(Unit.RATE_PER_10K.value,
                         "value is numerator over denominator, times 10,000")
    if vals.empty:
        return Guess(Unit.NUMBER.value, "no values to go by")
    if "per 10,000" in t or "per 10000" in t or "per 10k" in t:
        return Guess(Unit.RATE_PER_10K.value, "the title says per 10,000")
    if re.search(r"\bdays?\b", t) and (vals >= 0).all():
        return Guess(Unit.DAYS.value, "the title speaks of days")
    if vals.between(0, 100).all():
        if PERCENT_WORDS.search(t):
            return Guess(Unit.PERCENT.value, "the title says percentage")
        if "%" in target:
            return Guess(Unit.PERCENT.value, f"the target {target!r} is a percentage")
    if (vals >= 0).all() and (vals == vals.round()).all():
        return Guess(Unit.COUNT.value, "whole numbers only (a count, or a rate rounded?)")
    return Guess(Unit.NUMBER.value, "numbers with decimals, no % or £")


def _frequency(recs: pd.DataFrame) -> Guess:
    kinds = Counter(frequency_of(p).value for p in recs["period"] if isinstance(p, str))
    if not kinds:
        return Guess("monthly", "no periods to go by")
    kind, n = kinds.most_common(1)[0]
    others = ", ".join(f"{k} ({m})" for k, m in kinds.items() if k != kind)
    return Guess(kind, f"{n} {kind} period(s)" + (f"; also {others}" if others else ""))


def _scalar(v: Any) -> str:
    """One YAML scalar, quoted as YAML needs."""
    text: str = yaml.safe_dump(v, default_flow_style=True, width=10_000,
                               allow_unicode=True).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _line(key: str, value: Any, comment: str = "", indent: str = "  ") -> str:
    line = f"{indent}{key}: {_scalar(value)}"
    return f"{line}  # {comment}" if comment else line


def draft_indicators(ingested: Ingested, titles: dict[str, str],
                     order: list[str]) -> tuple[str, list[str]]:
    """indicators.yaml's text (with a comment on each guess), and the codes in it."""
    recs = ingested.records
    recs = recs[recs["error"].isna()] if "error" in recs else recs
    lines = ["# Drafted by `briefing init` from the exports. Each guess says what it rests on,",
             "# and what only you can say is marked to do: `briefing validate` lists them.",
             "# Fields: code, title, service_area, unit (percent|count|rate_per_10k|days|number|",
             "# money), polarity (higher_is_better|lower_is_better|neutral), target, tolerance,",
             "# owner (an id in owners.yaml), definition, frequency, decimals, question.", ""]
    codes = [c for c in order if c in set(recs["indicator"])]
    named = {c: _title(c, ingested, titles) for c in codes}
    links = drafted_links(named)
    units = {c: _unit(recs[recs["indicator"] == c], named[c]).value for c in links}
    units.update({base: _unit(recs[recs["indicator"] == base], named[base]).value
                  for _, base in links.values() if base is not None})
    for code in codes:
        if not _CODE_FIELD.match(code) or code.lower() in NOT_CODES:
            continue  # not an indicator code (a totals row, a note): left out
        mine = recs[recs["indicator"] == code]
        meta = ingested.metadata.get(code)
        title = (meta.title if meta and meta.title else titles.get(code, "")).strip()
        unit = _unit(mine, title, meta.target if meta else "")
        freq = _frequency(mine)
        target, hint = read_target(meta.target) if meta and meta.target else (None, None)
        polarity = read_polarity(meta.polarity) if meta and meta.polarity else None
        lines.append(f"- code: {_scalar(code)}")
        lines.append(_line("title", title[:120] or f"{TODO}: the title of {code}",
                           f"from {meta.file}" if meta and meta.title else
                           "from the export" if title else ""))
        section = meta.section if meta else ""
        lines.append(_line("service_area", section or f"{TODO}: the service area of {code}",
                           f"the scorecard section it sits in (row {meta.row})"
                           if meta and section else ""))
        lines.append(_line("unit", unit.value, f"guessed: {unit.why}"))
        if polarity is not None:
            lines.append(_line("polarity", polarity.value,
                               f"from the scorecard's {meta.polarity_heading!r} column"
                               if meta else ""))
        elif hint is not None:
            lines.append(_line("polarity", hint.value, f"guessed from the target {meta.target!r}"
                               if meta else ""))
        else:
            lines.append(_line("polarity", Polarity.NEUTRAL.value,
                               f"{TODO}: higher_is_better or lower_is_better? The files do "
                               "not say"))
        if target is not None and (unit.value != Unit.PERCENT.value or 0 <= target <= 100):
            lines.append(_line("target", target, f"from the scorecard's "
                                                 f"{meta.target_heading!r} column"
                               if meta else ""))
        lines.append(_line("frequency", freq.value, f"guessed: {freq.why}"))
        if code in links:
            key, base = links[code]
            counts = units[code] == units.get(base or code) == Unit.COUNT.value
            lines.append(_link_line(key, base, counts))
        lines.append(_line("owner", PLACEHOLDER_OWNER, f"{TODO}: an id in owners.yaml"))
        lines.append(_line("definition", f"{TODO}: what {code} counts, over what, and from "
                                         "which system"))
        lines.append("")
    return "\n".join(lines), codes


def _title(code: str, ingested: Ingested, titles: dict[str, str]) -> str:
    meta = ingested.metadata.get(code)
    return (meta.title if meta and meta.title else titles.get(code, "")).strip()


def _link_line(key: str, base: str | None, counts: bool) -> str:
    """A drafted link (tasks.editions.linked); a TODO where no other title matches; a comment where
    the units guessed are not both counts (links are between counts)."""
    if base is None:
        return _line(key, f"{TODO}: the code of the indicator this is the total of",
                     "the title says so")
    if not counts:
        return f"  # {TODO}: {key}: {base}? The titles say so, but a link is between " \
               "counts and the units guessed are not"
    return _line(key, base, "drafted from the titles: check it")


_CODE_FIELD = re.compile(r"^[A-Za-z0-9_.-]+\Z")
# Row labels that are not indicators: a scorecard's totals and averages.
NOT_CODES = {"total", "totals", "all", "sum", "average", "mean", "england", "national"}


def _numerator(column: str, frame: pd.DataFrame) -> str | None:
    """The count a percentage is of: `rereferral_count` for `rereferral_percent`, or
    `CPP_subsequent` for `CPP_subsequent_percent`; None for any other column."""
    stem = re.sub(r"_(percent|pct|rate)$", "", column)
    if stem == column:
        return None
    return next((c for c in (f"{stem}_count", stem) if c in frame.columns), None)


TOTAL = re.compile(r"^(total|all)\b", re.I)  # a breakdown's row for the whole


def _split(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(numeric columns, breakdown columns) of a published file, the standard ones aside."""
    numeric: list[str] = []
    breakdown: list[str] = []
    for c in frame.columns:
        if c in DFE_STANDARD:
            continue
        raw = frame[c].str.strip()
        nums = pd.to_numeric(raw.str.replace(",", "", regex=False), errors="coerce")
        (numeric if nums.notna().mean() >= 0.5 else breakdown).append(c)
    return numeric, breakdown


def _code(text: str, codes: set[str], limit: int = 40) -> str:
    code = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()[:limit].rstrip("_")
    while code in codes:
        code += "_"
    codes.add(code)
    return code


SMALL_WORDS = {"a", "an", "and", "at", "during", "for", "in", "least", "of", "on", "or",
               "the", "to", "with"}


def _short(text: str) -> str:
    """A code's words from a row's name: "With 3 or more placements during the year" ->
    "3 more placements year"."""
    return " ".join(w for w in re.split(r"\W+", text) if w and w.lower() not in SMALL_WORDS)


def _row_measures(frame: pd.DataFrame, numeric: list[str], breakdown: list[str],
                  codes: set[str], titles: dict[str, str]) -> tuple[list[str], list[str]]:
    """A file whose breakdown has a "Total ..." row: each other kind of row is a measure of
    its own (3 or more placements; long-term stability), a percentage over that row's
    total: one indicator per (percentage, kind of row), its denominator the total row."""
    total_col = next((c for c in breakdown
                      if any(TOTAL.match(str(v)) for v in frame[c].str.strip().unique())), None)
    if total_col is None:
        return [], []
    total = next(str(v) for v in frame[total_col].str.strip().unique() if TOTAL.match(str(v)))
    keys = [c for c in breakdown if c != "time_identifier"]
    kinds = frame[keys].apply(lambda col: col.str.strip()).drop_duplicates()
    kinds = kinds[kinds[total_col] != total]
    lines: list[str] = []
    made: list[str] = []
    for c in numeric:
        top = _numerator(c, frame)
        if top is None:
            continue
        for _, row in kinds.iterrows():
            where = {k: str(row[k]) for k in keys}
            code = _code(_short(where[total_col]), codes, 32)
            denominator = {"column": top, "where": {total_col: total}}
            made.append(code)
            titles[code] = where[total_col] + "".join(
                f" ({where[k]})" for k in keys if k != total_col)
            lines += [f"      - indicator: {_scalar(code)}  # one indicator per kind of row",
                      f"        value: {_scalar(c)}",
                      f"        numerator: {_scalar(top)}  # guessed: the count of the same "
                      "name",
                      f"        denominator: {_scalar(denominator)}  # the total row",
                      f"        where: {_scalar(where)}"]
    return lines, made


def _dfe_measures(f: Found, codes: set[str], population: bool = False,
                  titles: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """sources.yaml lines for a published file's measures, and the codes they define: one
    indicator per measure with a meaning. A count with a percentage of the same name is
    that percentage's numerator, not an indicator of its own; with the population drafted,
    any other count is an indicator as a rate per 10,000 children, as DfE compares them; a
    file with "Total" rows gives one percentage per kind of row (`_row_measures`)."""
    frame: pd.DataFrame = f.spec["frame"]
    numeric, breakdown = _split(frame)
    where: dict[str, str] = {}
    notes = []
    for c in breakdown:
        counts = frame[c].str.strip().value_counts()
        where[c] = str(counts.index[0])
        if len(counts) > 1:
            others = ", ".join(repr(str(v))[:50] for v in counts.index[1:5])
            notes.append(f"      # {c}: also {others}" + (" ..." if len(counts) > 5 else ""))
    idents = sorted(set(frame.get("time_identifier", pd.Series(["Reporting year"])).str.strip()))
    usable = [i for i in idents if i.lower() in KINDS]
    if len(idents) > 1 and usable:  # a file mixing years and terms: the years, say
        counts = frame["time_identifier"].str.strip().value_counts()
        where["time_identifier"] = max(usable, key=lambda i: int(counts.get(i, 0)))
    lines, made = _row_measures(frame, numeric, breakdown, codes,
                                titles if titles is not None else {})
    if not made:
        lines, made = _column_measures(frame, numeric, where, codes, population)
    kinds = []
    for i in idents:
        try:
            kinds.append(kind_of(i).value)
        except TimeIdentifierError:
            kinds.append("none")
    head = f"      # time identifiers: {', '.join(idents)} ({', '.join(kinds)})"
    return [head, *notes, *lines], made


def _column_measures(frame: pd.DataFrame, numeric: list[str], where: dict[str, str],
                     codes: set[str], population: bool) -> tuple[list[str], list[str]]:
    """One indicator per numeric column that is not a percentage's numerator."""
    numerators = {_numerator(c, frame) for c in numeric} - {None}
    lines: list[str] = []
    made: list[str] = []
    picked = (f"        where: {_scalar(where)}  # guessed: each breakdown's most common "
              "value; pick the rows you mean")
    for c in numeric:
        if c in numerators:
            continue  # the numerator of its percentage, below
        rate = population and c.endswith("_count")
        code = _code(c if not rate else c[:-6] + "_rate", codes)
        made.append(code)
        lines.append(f"      - indicator: {_scalar(code)}  # guessed code, from the column")
        if rate:
            lines.append(f"        rate_per_10k_of: {_scalar(c)}  # guessed: a count, "
                         "compared as a rate per 10,000 children (population:)")
        else:
            lines.append(f"        value: {_scalar(c)}")
            if (top := _numerator(c, frame)) is not None:
                lines.append(f"        numerator: {_scalar(top)}  # guessed: the count of "
                             "the same name")
        if where:
            lines.append(picked)
    return lines, made


def draft_config(exports: Path, out: Path, force: bool = False,
                 limits: Limits | None = None) -> tuple[list[Path], list[str]]:
    """Write a draft config for the exports into `out`: (files written, notes to print).
    `limits`: rows and cells per file (BRIEFING_MAX_*; None: the defaults).

    sources.yaml and indicators.yaml are written (not over existing ones without `force`);
    briefing.yaml and owners.yaml only where there are none, with TODO placeholders."""
    out = Path(out)
    _refuse_to_overwrite(out, force)
    files, _ = export_files(Path(exports))
    found = [identify(p, limits) for p in files]
    notes = [f"{f.path.name}: {f.why}; not used" for f in found if f.layout == "unknown"]
    readable = [f for f in found if f.layout in ("long", "wide", "dfe")]
    drafted = _draft_sources(found, readable)
    return_lines, return_notes = draft_returns(Path(exports))  # child-level returns
    notes += return_notes
    src_text = "\n".join(drafted.lines + return_lines) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / SOURCES_FILE).write_text(src_text, encoding="utf-8")
    # Read the exports exactly as a run would, through the drafted sources.
    sources = Sources.model_validate(yaml.safe_load(src_text))
    ingested = read_exports(Path(exports), sources, authority="", limits=limits)
    ind_text, codes = _draft_indicators_read(ingested, readable, sources, drafted)
    (out / INDICATORS_FILE).write_text(ind_text, encoding="utf-8")
    written = [out / SOURCES_FILE, out / INDICATORS_FILE, *_placeholders(out, ingested)]
    skipped = sorted({str(c) for c in ingested.records["indicator"]} - set(codes)
                     - set(drafted.dfe_codes))
    if skipped:
        notes.append(f"left out, not indicator codes: {', '.join(skipped[:8])}")
    notes.append(f"{len(drafted.sources)} source(s), "
                 f"{len(codes) + len(drafted.dfe_codes)} indicator(s) drafted")
    return written, notes


def _refuse_to_overwrite(out: Path, force: bool) -> None:
    """A ConfigError when `out` has a sources.yaml or indicators.yaml already, unless
    `force`: a council's own config is not drafted over by mistake."""
    for name in (SOURCES_FILE, INDICATORS_FILE):
        if (out / name).exists() and not force:
            from tasks.settings.config import ConfigError

            raise ConfigError(f"{out / name} exists; give --force to overwrite it, or another "
                              "--config folder")


@dataclass
class _DraftedSources:
    """sources.yaml as drafted from the exports (the child-level returns' entries come
    after): its lines, each source entry as data, the codes taken, and the indicators of
    published files' measures with their kinds of row as the files name them."""

    lines: list[str]
    sources: list[dict[str, Any]] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    dfe_codes: list[str] = field(default_factory=list)
    row_titles: dict[str, str] = field(default_factory=dict)


def _draft_sources(found: list[Found], readable: list[Found]) -> _DraftedSources:
    """The statistical neighbours' file and the population's, if among the exports, then
    one source entry for each group of files read alike."""
    out = _DraftedSources(["# Drafted by `briefing init`: how each export is read (see",
                           "# docs/sources.md). Each guess says what it rests on.", ""])
    neighbours = next((f for f in found if f.layout == "neighbours"), None)
    if neighbours:
        out.lines.append(f"neighbours: {_scalar(_glob(neighbours.path.name))}  # "
                         f"{neighbours.why}")
    population = next((f for f in found if f.layout == "population"), None)
    if population is not None:
        out.lines += _population(population)
    out.lines.append("sources:")
    for g in _group(readable):
        _source_entries(g, population is not None, out)
    return out


def _source_entries(g: list[Found], population: bool, out: _DraftedSources) -> None:
    """A group of files read alike as sources.yaml entries, into `out`: one naming them by
    a glob, or one per file when a file must be named exactly. A published file's entry
    lists its measures (`_dfe_measures`); an export's, how it is read."""
    f = g[0]
    exact = any(x.spec.get("_exact") for x in g)
    pattern = (f.path.name if exact or (len(g) == 1 and f.layout == "dfe")
               else _glob(f.path.name))
    entries = [x.path.name for x in g] if exact and len(g) > 1 else [pattern]
    for files_glob in entries:
        name = _name(g) if len(entries) == 1 else f"{_name(g)}: {files_glob}"
        spec: dict[str, Any] = {"name": name, "files": files_glob, "layout": f.layout}
        out.lines.append(f"  - name: {_scalar(name)}")
        out.lines.append(f"    files: {_scalar(files_glob)}  # {len(g)} file(s): "
                         + ", ".join(x.path.name for x in g[:3])
                         + (" ..." if len(g) > 3 else ""))
        out.lines.append(f"    layout: {f.layout}  # detected")
        if f.sheet:
            spec["sheet"] = f.sheet
            out.lines.append(f"    sheet: {_scalar(f.sheet)}  # the first sheet that "
                             "has a header row")
        if f.layout == "dfe":
            lines, made = _dfe_measures(f, out.taken, population, out.row_titles)
            out.dfe_codes += made
            spec["measures"] = []
            out.lines.append("    measures:")
            out.lines += lines
        else:
            for k, v in f.spec.items():
                if k.startswith("_"):
                    continue
                spec[k] = v
                out.lines.append(_line(k, v, f.comments.get(k, "detected"), "    "))
        out.sources.append(spec)


def _draft_indicators_read(ingested: Ingested, readable: list[Found], sources: Sources,
                           drafted: _DraftedSources) -> tuple[str, list[str]]:
    """indicators.yaml's text and the exports' codes in it, from what the drafted sources
    read: the exports' indicators in the order first read, titled as the files title them,
    then the published files' measures (their rows are every authority's)."""
    titles: dict[str, str] = {}
    for f in readable:
        for code, title in f.titles.items():
            titles.setdefault(code, title)
    order = list(dict.fromkeys(ingested.records["indicator"]))
    text, codes = draft_indicators(ingested, titles, order)
    columns = {m.indicator: m.value or "" for src in sources.sources
               for m in getattr(src, "measures", None) or []}
    for code in drafted.dfe_codes:
        if code not in codes:
            text += _dfe_indicator(code, ingested, columns.get(code),
                                   drafted.row_titles.get(code))
    return text, codes


def _placeholders(out: Path, ingested: Ingested) -> list[Path]:
    """owners.yaml and briefing.yaml with TODO placeholders, each only where there is none
    (a council's own are never drafted over): the files written."""
    written = []
    if not (out / OWNERS_FILE).exists():
        (out / OWNERS_FILE).write_text(_owners(), encoding="utf-8")
        written.append(out / OWNERS_FILE)
    if not (out / BRIEFING_FILE).exists():
        (out / BRIEFING_FILE).write_text(_briefing(ingested), encoding="utf-8")
        written.append(out / BRIEFING_FILE)
    return written


def _dfe_indicator(code: str, ingested: Ingested, column: str | None = None,
                   title: str | None = None) -> str:
    """indicators.yaml's entry for a published measure; `column` is its value column
    ("" for a rate per 10,000 of a count)."""
    per_10k = column == ""
    bench = ingested.benchmarks
    mine = bench[bench["indicator"] == code]
    vals = pd.to_numeric(mine["value"], errors="coerce").dropna()
    # "turnover_rate_fte" is a percentage as much as "rereferral_percent" is.
    pct = bool(re.search(r"(^|_)(PERCENT|PCT|RATE)(_|$)", (column or code).upper())) \
        and vals.between(0, 100).all()
    whole = len(vals) and (vals >= 0).all() and (vals == vals.round()).all()
    unit = Guess(Unit.RATE_PER_10K.value, "a count over the population") if per_10k else (
        Guess(Unit.PERCENT.value, "the column is a percentage or rate") if pct else (
        Guess(Unit.COUNT.value, "whole numbers only") if whole else
        Guess(Unit.NUMBER.value, "numbers with decimals")))
    kinds = Counter(frequency_of(p).value for p in mine["period"].dropna().astype(str) if p)
    freq = kinds.most_common(1)[0][0] if kinds else "annual"
    return "\n".join([
        f"- code: {_scalar(code)}",
        _line("title", title[:120], "from the file's rows: shorten it") if title else
        _line("title", f"{TODO}: the title of {code}"),
        _line("service_area", f"{TODO}: the service area of {code}"),
        _line("unit", unit.value, f"guessed: {unit.why}"),
        _line("polarity", Polarity.NEUTRAL.value,
              f"{TODO}: higher_is_better or lower_is_better?"),
        _line("frequency", freq, "from the file's time identifiers"),
        _line("owner", PLACEHOLDER_OWNER, f"{TODO}: an id in owners.yaml"),
        _line("definition", f"{TODO}: what {code} counts (see the file's metadata)"),
        "", ""])


def _owners() -> str:
    return "\n".join([
        "# Drafted by `briefing init`: one placeholder owner for every indicator.",
        f"{PLACEHOLDER_OWNER}:  # {TODO}: one entry per owner, and each indicator's owner",
        _line("name", f"{TODO}: the owner's name"),
        _line("role", f"{TODO}: their role"),
        _line("email", "owner@example.gov.uk", f"{TODO}: their address"), ""])


def _briefing(ingested: Ingested) -> str:
    recs = ingested.records
    said = Counter(str(a).strip() for a in recs.get("authority", pd.Series(dtype=object))
                   if isinstance(a, str) and a.strip())
    code, why = "000", f"{TODO}: the council's 3-digit DfE code"
    if said:
        top = said.most_common(1)[0][0]
        if re.fullmatch(r"\d{3}", top):
            code, why = top, "from the exports' authority column"
    return "\n".join([
        "# Drafted by `briefing init`. See docs/configuration.md.",
        "authority:",
        _line("name", f"{TODO}: the council's name", indent="  "),
        _line("code", code, why),
        _line("committee", f"{TODO}: the committee the paper goes to", indent=""),
        "contact:",
        _line("name", f"{TODO}: the contact officer"),
        _line("role", f"{TODO}: their role"),
        _line("phone", f"{TODO}: their phone number"),
        _line("email", "performance@example.gov.uk", f"{TODO}: their address"),
        "mail:",
        _line("sender", "performance@example.gov.uk", f"{TODO}: the address mail comes from"),
        ""])
