"""Runs inside .venv-validators, never in .venv: DfE's rules over one return, one at a time.

Data to Insight's validators pin pandas<2 and numpy<1.25, so tasks.returns.validators starts
this script with that environment's Python and reads what it writes. It imports nothing of
ours. Its request is JSON on stdin; its answer is one JSON object a line in the file the
request names, written as it goes, so that whatever happens to this process the caller knows
which rules finished and which one was running. Each rule runs alone: one that raises, runs
out of memory or out of its time is reported as not run and the others go on. Nothing here
logs or prints a value from the return (the libraries' own logging is switched off and their
prints go to stderr, which the caller throws away).
"""

from __future__ import annotations

import copy
import json
import logging
import resource
import signal
import sys
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

Event = dict[str, Any]
# SSDA903 rules that read a column by a name the library's own readers never give it, so
# they raise on every return (faults in the validators, docs/returns.md). Each gets, in its
# own copy of the tables only, the column under the name it reads.
ALIASES: dict[str, dict[str, dict[str, str]]] = {
    "231": {"Header": {"UASC_STATUS": "UASC"}},  # the reader's UASC flag (1, 0)
    "233": {"Episodes": {"DATE_EPISODE_CEASED": "DEC"}},  # the date the episode ceased
}


class RuleTimedOut(BaseException):
    """Raised in a rule by the timer; a BaseException so a rule's `except Exception` lets
    it through."""


class InputFault(Exception):
    """The return cannot be read at all; the message names what and never quotes a value."""


def main() -> int:
    request = json.loads(sys.stdin.read())
    limit = int(request["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.stdout = sys.stderr  # the libraries print; the caller reads only the events file
    logging.disable(logging.CRITICAL)
    with open(request["output"], "a", encoding="utf-8") as out:
        emit = _emitter(out)
        try:
            run = _run_903 if request["kind"] == "ssda903" else _run_cin
            run(request, emit)
        except InputFault as fault:
            emit({"event": "fatal", "kind": "input", "message": str(fault)})
            return 2
        except Exception as error:  # our own fault or the libraries': where, never what
            if out_of_memory(error):
                emit({"event": "fatal", "kind": "memory", "message": "ran out of memory"})
                return 3
            emit({"event": "fatal", "kind": "internal", "message": where_it_raised(error)})
            return 4
        emit({"event": "end"})
    return 0


def _emitter(out: IO[str]) -> Callable[[Event], None]:
    def emit(event: Event) -> None:
        out.write(json.dumps(event) + "\n")
        out.flush()

    return emit


def out_of_memory(error: BaseException | None) -> bool:
    """A MemoryError, or an import that failed because a library could not be mapped into
    the memory allowed (numpy says so only in its message)."""
    while error is not None:
        text = str(error)
        if isinstance(error, MemoryError) or "failed to map segment" in text \
                or "Cannot allocate memory" in text:
            return True
        error = error.__cause__ or error.__context__
    return False


def where_it_raised(error: BaseException) -> str:
    """The exception's type and the last line of the validators' own code it passed
    through: enough to report the fault upstream, and never a value from the data."""
    frames = traceback.extract_tb(error.__traceback__)
    theirs = [f for f in frames if {"lac_validator", "cin_validator"} & set(Path(f.filename).parts)]
    place = ""
    if theirs or frames:
        frame = (theirs or frames)[-1]
        package = next((p for p in Path(frame.filename).parts if p.endswith("_validator")), "")
        place = f" at {package}/{Path(frame.filename).name} line {frame.lineno}".replace(" /", " ")
    return f"raised {type(error).__name__}{place}"


def _timer(seconds: float) -> None:
    def ring(signum: int, frame: Any) -> None:
        raise RuleTimedOut

    signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def run_one(code: str, rule: Callable[[], Iterator[Event]], seconds: float,
            emit: Callable[[Event], None]) -> None:
    """One rule, bounded in time; whatever it raises becomes its outcome, not ours."""
    emit({"event": "rule_start", "code": code})
    try:
        _timer(seconds)
        try:
            issues = list(rule())
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except RuleTimedOut:
        emit({"event": "rule", "code": code, "outcome": "error",
              "reason": f"took longer than {seconds:g} s"})
        return
    except Exception as error:
        reason = "ran out of memory" if out_of_memory(error) else where_it_raised(error)
        emit({"event": "rule", "code": code, "outcome": "error", "reason": reason})
        return
    outcome = "skipped" if issues == [{"skipped": True}] else "done"
    emit({"event": "rule", "code": code, "outcome": outcome,
          "issues": [] if outcome == "skipped" else issues})


def selected(registry: dict[str, Any], request: dict[str, Any]) -> list[str]:
    only = request.get("only")
    skip = set(request.get("skip") or ())
    return [code for code in registry
            if code not in skip and (only is None or code in only)]


def _ruleset(module: str, prefix: str, year: int) -> tuple[str, dict[str, Any]]:
    """The registry of the collection year ending in March `year`, or a clear fault."""
    import importlib

    name = f"{prefix}{year - 1}_{str(year)[2:]}"
    try:
        registry = importlib.import_module(f"{module}.rules.{name}").registry
    except ModuleNotFoundError:
        package = Path(importlib.import_module(f"{module}.rules").__path__[0])
        have = sorted(p.name for p in package.iterdir() if p.name.startswith(prefix))
        raise InputFault(f"the installed validators have no rule set for the collection year "
                         f"ending March {year} (they have {', '.join(have)})") from None
    return name, dict(registry)


# --- SSDA903 ------------------------------------------------------------------------------


def _read_903(files: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], Event]:
    """The return's tables, this year's and last year's (named with `_last`).

    The library's reader reads only the first XML file it is given, so each year is read by
    a call of its own and last year's tables are renamed here."""
    from lac_validator.config import column_names
    from lac_validator.ingress import read_from_text
    from lac_validator.types import UploadError

    tables: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    sources: Event = {}
    for previous in (False, True):
        group = [f for f in files if bool(f["previous"]) == previous]
        if not group:
            continue
        uploads = [{"name": f["name"], "file_content": Path(f["path"]).read_bytes(),
                    "description": "This year"} for f in group]
        try:
            read, found = read_from_text(raw_files=uploads)
        except UploadError as fault:
            raise InputFault(str(fault)) from None
        except Exception as error:
            raise InputFault(f"the validators could not read the return: "
                             f"{where_it_raised(error)}") from None
        suffix = "_last" if previous else ""
        if not previous:
            extras = found
        if found.get("file_format") == "xml":
            read = _xml_tables(read)
        names = _csv_sources(group, column_names)
        for table, frame in read.items():
            tables[table + suffix] = frame
            sources[table + suffix] = {"file": names.get(table), "rows": len(frame),
                                       "csv": found.get("file_format") == "csv"}
    return tables, extras, sources


def _xml_tables(read: dict[str, Any]) -> dict[str, Any]:
    """The library's XML reader's tables put right. A table the file has no record of is
    a frame with no columns, on which every rule that reads it raises KeyError (a CSV
    return without that table has it absent, and those rules are skipped): it is dropped,
    as absent. And its UASC table has a record for every child whose UASC flag is given,
    0 as well as 1: only those with the flag 1 or a date UASC ceased are kept, as the
    CSV's UASC table holds (and Header's UASC flag says)."""
    import pandas as pd

    tables = {name: frame for name, frame in read.items() if len(frame.columns)}
    uasc, header = tables.get("UASC"), tables.get("Header")
    if uasc is not None and header is not None and "UASC" in header.columns:
        flagged = set(header.loc[pd.to_numeric(header["UASC"], errors="coerce") == 1,
                                 "CHILD"])
        keep = uasc["CHILD"].isin(flagged) | uasc["DUC"].notna()
        tables["UASC"] = uasc[keep].reset_index(drop=True)
    return tables


def _csv_sources(group: list[dict[str, Any]], column_names: dict[str, list[str]]
                 ) -> dict[str, str]:
    """Which file each table came from (CSV: by its header, as the library matches them;
    XML: every table from the one file)."""
    import csv

    names: dict[str, str] = {}
    for f in group:
        if not f["name"].lower().endswith(".csv"):
            return {table: f["name"] for table in column_names}
        with open(f["path"], encoding="utf-8-sig", errors="replace", newline="") as handle:
            header = set(next(csv.reader(handle), []))
        for table, columns in column_names.items():
            if header == set(columns):
                names[table] = f["name"]
    return names


def _run_903(request: dict[str, Any], emit: Callable[[Event], None]) -> None:
    from lac_validator.datastore import create_datastore

    year = int(request["collection_year"])
    name, registry = _ruleset("lac_validator", "lac", year)
    tables, extras, sources = _read_903(request["files"])
    metadata = {"collectionYear": str(year),
                "localAuthority": request.get("local_authority") or "", **extras}
    store = create_datastore(tables, metadata)
    emit({"event": "ruleset", "name": name, "tables": sources,
          "rules": {code: rule.message or "" for code, rule in registry.items()}})
    for code in selected(registry, request):
        run_one(code, _903_rule(registry[code], store, ALIASES.get(code, {})),
                float(request["rule_seconds"]), emit)


def _903_rule(rule: Any, store: dict[str, Any], aliases: dict[str, dict[str, str]]
              ) -> Callable[[], Iterator[Event]]:
    """A rule over its own deep copy of the tables (a rule that changes them in place must
    not change what the next one sees), giving each failing row with its child id."""

    def run() -> Iterator[Event]:
        own = {k: (v if k == "metadata" else v.copy(deep=True)) for k, v in store.items()}
        for table, names in aliases.items():
            for wanted, given in names.items():
                if table in own and given in own[table] and wanted not in own[table]:
                    own[table][wanted] = own[table][given]
        found = rule.func(own)
        if found == {}:
            yield {"skipped": True}
            return
        for table, rows in found.items():
            frame = store.get(table)
            for row in rows:
                yield _903_issue(table, frame, row)

    return run


def _903_issue(table: str, frame: Any, row: Any) -> Event:
    import pandas as pd

    if frame is None or pd.isna(row) or row not in frame.index:
        return {"table": table, "record": None, "child": None}
    child = frame.at[row, "CHILD"] if "CHILD" in frame.columns else None
    position = int(frame.index.get_loc(row))
    return {"table": table, "record": position + 1,
            "child": None if child is None or pd.isna(child) else str(child)}


# --- CIN census ---------------------------------------------------------------------------


def _read_cin(files: list[dict[str, Any]]) -> dict[str, Any]:
    from cin_validator.cin_validator import convert_data, process_data

    this_year = [f for f in files if not f["previous"]]
    if len(this_year) != 1:
        raise InputFault(f"a CIN census is one XML file; {len(this_year)} were given")
    try:
        root = ET.parse(this_year[0]["path"]).getroot()
    except ET.ParseError as fault:
        raise InputFault(f"{this_year[0]['name']} is not well-formed XML ({fault})") from None
    for element in root.iter():  # their reader finds no namespaced tag (docs: fault 17)
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]
    try:
        return dict(process_data(convert_data(root)))
    except Exception as error:
        raise InputFault(f"the validators could not read {this_year[0]['name']}: "
                         f"{where_it_raised(error)}") from None


def _run_cin(request: dict[str, Any], emit: Callable[[Event], None]) -> None:
    from cin_validator.cin_validator import enum_keys

    year = int(request["collection_year"])
    name, registry = _ruleset("cin_validator", "cin", year)
    tables = _read_cin(request["files"])
    header = tables["Header"]
    found = {k: (None if header.empty or str(header.iloc[0][k]) in ("NaT", "<NA>", "nan")
                 else str(header.iloc[0][k])[:10]) for k in ("Year", "ReferenceDate", "LEA")}
    file_name = request["files"][0]["name"]
    emit({"event": "ruleset", "name": name, "header": found,
          "tables": {t: {"file": file_name, "rows": len(v), "csv": False}
                     for t, v in tables.items()},
          "rules": {code: rule.message or "" for code, rule in registry.items()}})
    keyed = enum_keys(tables)
    for code in selected(registry, request):
        run_one(code, _cin_rule(registry[code], keyed, tables), float(request["rule_seconds"]),
                emit)


def _cin_rule(rule: Any, keyed: dict[Any, Any], tables: dict[str, Any]
              ) -> Callable[[], Iterator[Event]]:
    """A rule over its own deep copy (the library's own runner copies for the same reason:
    some rules change the tables), giving each failing row with its child id."""
    from cin_validator.rule_engine import RuleContext

    def run() -> Iterator[Event]:
        context = RuleContext(rule)
        rule.func(copy.deepcopy(keyed), context)
        seen: set[tuple[str, int | None]] = set()
        for located in (context.type_zero_issues, context.type_one_issues,
                        context.type_two_issues, context.type_three_issues):
            for table, row in _cin_locations(located):
                if (table, row) not in seen:
                    seen.add((table, row))
                    yield _cin_issue(table, row, tables)
        if len(context.la_level_issues):
            yield {"table": None, "record": None, "child": None}

    return run


def _cin_locations(located: Any) -> Iterator[tuple[str, int | None]]:
    """Each failing row a rule located; a row it could not place (NaN: some rules work
    out a row by the child's id, which a record without one has not) as None, so the
    finding is kept, unplaced, instead of the rule being lost."""
    import pandas as pd

    if len(located) == 0:
        return
    for table, row in zip(located["tables_affected"], located["ROW_ID"], strict=True):
        yield str(table), None if pd.isna(row) else int(row)


def _cin_issue(table: str, row: int | None, tables: dict[str, Any]) -> Event:
    import pandas as pd

    frame = tables.get(table)
    if row is None:
        return {"table": table, "record": None, "child": None}
    if frame is None or not 0 <= row < len(frame) or "LAchildID" not in frame.columns:
        return {"table": table, "record": row + 1, "child": None}
    child = frame.iloc[row]["LAchildID"]
    return {"table": table, "record": row + 1,
            "child": None if pd.isna(child) else str(child)}


if __name__ == "__main__":
    try:
        sys.exit(main())
    except MemoryError:  # before the events file was open: the caller says what it can
        sys.exit(3)
