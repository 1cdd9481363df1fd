"""`briefing`: run the monthly briefing, the bundled demo, or a check of the exports.

Exit codes: 0 done; 1 the exports have errors that stop the run (about a whole file, or
any with --strict; nothing was stored or written); 2 a usage or configuration error
(config files, SMTP settings, folders, a cycle with no figures, the cycle busy with another
run), always one line on stderr and, where it can be known beforehand, before Prefect's
engine starts; 3 the briefing was produced but some messages failed (recorded, and retried
by the next run); 4 the briefing was produced, but some figures were withheld for an error
in one cell of an export (each named; fix the export and run again); 5 the history store
is unavailable, locked by another process or damaged; 6 Prefect's API cannot be reached
(at the start, or lost during the run); 7 the output folder cannot be written. Codes 5 to
7 are one line saying what was and was not stored, written and sent (flows/failure.py);
8 the briefing was produced but some messages need attention: a run stopped while
sending them, so they may not have arrived (`briefing ledger` lists them,
--confirm-sent or --resend settles each).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from flows import prefect_env, stopping
from flows.faults import (
    DAMAGED,
    EXIT_ATTENTION,
    EXIT_DATA,
    EXIT_MAIL,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_WITHHELD,
    LOCKED,
    Fault,
    OutputFault,
    PrefectFault,
    StoreFault,
    UsageError,
)
from tasks.reading.display import shown  # tiny: names from outside, escaped

if TYPE_CHECKING:  # imported when used: `briefing --help` stays quick
    from flows.monthly_briefing import BriefingDone
    from tasks.delivering.summary import Summary
    from tasks.reading.files import Limits
    from tasks.settings.environment import Settings

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "config"
DEMO_EXPORTS = ROOT / "demo" / "exports"
REAL_CONFIG = ROOT / "config" / "dfe"
REAL_EXPORTS = ROOT.parent / "shared" / "data" / "dfe"
STORE_WAIT = 5.0  # seconds a store locked by another process is waited for at the start
CYCLE_HELP = ("period to report: a month 2024-10, a calendar quarter 2024-Q3, or a year 2025 "
              "(a DfE reporting year to March; financial, academic and calendar years are "
              "filed under the year they end in); default: the latest in the exports")
STRICT_HELP = ("stop at any error in the exports, as rules.strict does (otherwise an error in "
               "one cell withholds that figure and the rest of the paper is produced, exit 4)")


class OneLineParser(argparse.ArgumentParser):
    """argparse's own errors as one line (and exit 2), like every other usage error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"Error: {shown(message)} (see {self.prog} --help)\n")


if TYPE_CHECKING:  # `add_subparsers`' result, one subcommand added by each _*_parser below
    Subparsers = argparse._SubParsersAction[OneLineParser]


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="briefing",
        description="Children's services performance briefing for Overview and Scrutiny: "
                    "validate the month's exports, compare with history, targets and trend, "
                    "render the committee paper (HTML and PDF) and notify indicator owners.",
        epilog="Exit codes: 0 done; 1 the exports have errors that stop the run (nothing "
               "stored or written); 2 usage or configuration error; 3 some messages failed; "
               "4 produced, with some figures withheld for an error in the source; 5 the "
               "history store is unavailable, locked or damaged; 6 Prefect's API cannot be "
               "reached; 7 the output folder cannot be written; 8 some messages need "
               "attention (briefing ledger). Emails go "
               "to an outbox folder of .eml files unless --send is given (SMTP settings from "
               "BRIEFING_SMTP_* variables).")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_demo_parser, _run_parser, _regional_parser, _serve_parser, _calendar_parser,
                _ledger_parser, _schema_parser, _validate_parser, _init_parser):
        add(sub)
    return p


def _common_out(sp: argparse.ArgumentParser) -> None:
    """The options `demo` and `run` share: where the set goes, mail, editions, dates."""
    sp.add_argument("--out", default="outputs", metavar="DIR",
                    help="output folder (default: outputs): each cycle in "
                         "DIR/AUTHORITY/CYCLE/, its public/ folder the one to publish; "
                         "the history store is DIR/history.sqlite unless "
                         "BRIEFING_STORE_URL is set")
    sp.add_argument("--send", action=argparse.BooleanOptionalAction, default=False,
                    help="send email through SMTP (settings from BRIEFING_SMTP_*), or "
                         "with --no-send (the default) write .eml files to an outbox")
    sp.add_argument("--edition", choices=["both", "public", "restricted"],
                    default="both", help="which editions to produce (default both)")
    sp.add_argument("--resend", action="store_true",
                    help="send again messages this cycle already sent")
    sp.add_argument("--report-date", type=_iso_date, metavar="YYYY-MM-DD",
                    help="the date of the report on the cover (default: the publication "
                         "day of the meeting in briefing.yaml that takes this cycle's "
                         "paper; with no such meeting, 'to be confirmed')")
    sp.add_argument("--allow-empty", action="store_true",
                    help="brief a --cycle that has no figures at all (otherwise a usage "
                         "error naming the latest cycle that has figures)")
    sp.add_argument("--strict", action="store_true", default=None, help=STRICT_HELP)


def _demo_parser(sub: Subparsers) -> None:
    """`briefing demo`: the bundled demo, or DfE's published files with --real."""
    demo = sub.add_parser("demo", help="run the bundled demo (latest cycle); needs no server",
                          description="Run the monthly briefing on the demo config and "
                                      "exports shipped with the project.")
    demo.add_argument("--cycle", metavar="PERIOD",
                      help="period to report: a month 2024-10, or a reporting year 2025 with "
                           "--real (default: the latest)")
    demo.add_argument("--real", action="store_true",
                      help="brief from DfE's published statistics alone (../shared/data/dfe, "
                           "or --exports): annual cycles 2013 to 2025, with benchmarks")
    demo.add_argument("--authority", metavar="CODE-OR-NAME",
                      help="with --real: the authority, by DfE code or name (default: Torbay, "
                           "880)")
    demo.add_argument("--exports", metavar="DIR",
                      help="with --real: the folder of DfE's published files (default "
                           "../shared/data/dfe), read with the bundled config/dfe; for your "
                           "own config, use: briefing run --config DIR --exports DIR")
    _common_out(demo)


def _run_parser(sub: Subparsers) -> None:
    """`briefing run`: one cycle's briefing from a config and exports."""
    run = sub.add_parser("run", help="run the monthly briefing on your config and exports",
                         description="Run the monthly briefing for one cycle. For DfE's "
                                     "published files with your own indicators: --config "
                                     "a copy of config/dfe, --exports the files' folder.")
    run.add_argument("--config", required=True, metavar="DIR",
                     help="folder with indicators.yaml, owners.yaml, briefing.yaml (and "
                          "sources.yaml); `briefing init` drafts one from your exports")
    run.add_argument("--exports", required=True, metavar="DIR",
                     help="folder of the month's .csv and .xlsx exports")
    run.add_argument("--cycle", metavar="PERIOD", help=CYCLE_HELP)
    run.add_argument("--authority", metavar="CODE-OR-NAME",
                     help="report on this authority instead of the one in briefing.yaml "
                          "(looked up in published DfE files among the exports)")
    _common_out(run)


def _regional_parser(sub: Subparsers) -> None:
    """`briefing regional`: every authority in DfE's files, and an overview."""
    reg = sub.add_parser("regional", help="a briefing for every authority (or those named) "
                                          "from DfE's published files, and an overview",
                         description="Brief many authorities at once from DfE's published "
                                     "files (config/dfe), across two processes, and write a "
                                     "regional overview to OUT/regional/CYCLE/. No mail.")
    reg.add_argument("--authority", action="append", metavar="CODE-OR-NAME",
                     help="an authority to include (repeat; default: all in the files)")
    reg.add_argument("--exports", metavar="DIR", default=str(REAL_EXPORTS),
                     help="DfE's published files (default ../shared/data/dfe)")
    reg.add_argument("--out", default="outputs", metavar="DIR", help="output folder")
    reg.add_argument("--cycle", metavar="YYYY", help="reporting year (default: latest)")
    reg.add_argument("--spread-to", metavar="DEPLOYMENT",
                     help="hand the authorities in parts to this deployment's workers, e.g. "
                          "regional-briefing-part/regional-part (needs PREFECT_API_URL)")
    reg.add_argument("--part-size", type=int, default=10, metavar="N",
                     help="authorities per part with --spread-to (default 10)")


def _serve_parser(sub: Subparsers) -> None:
    """`briefing serve`: prefect.yaml's deployments, served here."""
    srv = sub.add_parser("serve", help="run the deployments in prefect.yaml on this machine",
                         description="Serve the deployments declared in prefect.yaml: their "
                                     "schedules run, and runs triggered from the Prefect UI "
                                     "or `prefect deployment run` execute here. Uses the "
                                     "Prefect server PREFECT_API_URL names; without one, "
                                     "starts a Prefect server (with its UI) on 127.0.0.1 "
                                     "for as long as it serves.")
    srv.add_argument("--port", type=int, default=4200, metavar="N",
                     help="port of the Prefect server started when PREFECT_API_URL is not "
                          "set (default 4200): UI at http://127.0.0.1:N")


def _calendar_parser(sub: Subparsers) -> None:
    """`briefing calendar`: a year's run days and papers' dates."""
    cal = sub.add_parser("calendar", help="each cycle's run day, paper deadline and "
                                          "commentary due date in a year",
                         description="The monthly runs in a year (07:00 Europe/London on the "
                                     "working day papers.run_working_day in briefing.yaml, "
                                     "England and Wales bank holidays excluded) and, for each "
                                     "cycle a listed meeting takes, the date papers must be "
                                     "published and the date commentary is due.")
    cal.add_argument("--year", type=int, metavar="YYYY",
                     help="the year of the runs (default: this year)")
    cal.add_argument("--config", default=str(DEMO_CONFIG), metavar="DIR",
                     help="folder with briefing.yaml (default: the demo's config/)")


def _ledger_parser(sub: Subparsers) -> None:
    """`briefing ledger`: the messages a stopped run left uncertain."""
    from flows.ledger import add_parser as ledger_parser

    ledger_parser(sub)


def _schema_parser(sub: Subparsers) -> None:
    """`briefing schema`: summary.json's JSON Schema."""
    sub.add_parser("schema", help="print the JSON Schema of summary.json (the contract)",
                   description="Print the JSON Schema that every summary.json follows.")


def _validate_parser(sub: Subparsers) -> None:
    """`briefing validate`: checks only, changes nothing."""
    val = sub.add_parser("validate", help="check config and exports; changes nothing",
                         description="Check the config and exports and print every problem, "
                                     "one per line. Stores and writes nothing.")
    val.add_argument("--config", required=True, metavar="DIR")
    val.add_argument("--exports", required=True, metavar="DIR")
    val.add_argument("--cycle", metavar="PERIOD", help=CYCLE_HELP.replace("to report", "to check"))
    val.add_argument("--authority", metavar="CODE-OR-NAME",
                     help="check for this authority instead of the one in briefing.yaml")
    val.add_argument("--allow-empty", action="store_true",
                     help="check a --cycle that has no figures at all without complaint")
    val.add_argument("--strict", action="store_true", default=None, help=STRICT_HELP)


def _init_parser(sub: Subparsers) -> None:
    """`briefing init`: a draft config from a folder of exports."""
    init = sub.add_parser(
        "init", help="draft sources.yaml and indicators.yaml from a folder of exports",
        description="Read the exports (layouts, codes, titles, units, frequencies, targets "
                    "and polarity where the files carry them) and draft a config folder for "
                    "you to finish: every guess is marked with a comment, and what cannot "
                    "be guessed says TODO. Then `briefing validate` says what is left.")
    init.add_argument("--exports", required=True, metavar="DIR",
                      help="folder of your .csv and .xlsx exports")
    init.add_argument("--config", default="config-draft", metavar="OUT",
                      help="folder to write (default config-draft); existing sources.yaml "
                           "and indicators.yaml there are not overwritten without --force; "
                           "briefing.yaml and owners.yaml are drafted only if absent")
    init.add_argument("--force", action="store_true",
                      help="overwrite sources.yaml and indicators.yaml in OUT")


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date such as 2024-11-20, not {text!r}") from None


def check_usage(args: argparse.Namespace, settings: Settings) -> None:
    """Everything about the call itself that can be checked without reading the exports:
    raises UsageError (or ConfigError) before anything starts or is written."""

    from flows.failure import operators
    from tasks.reading.files import Limits
    from tasks.settings.periods import is_period

    cycle = getattr(args, "cycle", None)
    if cycle is not None and not is_period(cycle):
        raise UsageError(f"--cycle must be a period such as 2024-10 (a month), 2024-Q3 (a "
                         f"quarter) or 2025 (a reporting year), not {cycle[:40]!r}")
    if args.command == "regional" and cycle is not None and len(cycle) != 4:
        raise UsageError(f"--cycle for the regional run is a reporting year such as 2025, "
                         f"not {cycle!r}")
    for name in args.authority if isinstance(getattr(args, "authority", None), list) else [
            getattr(args, "authority", None)]:
        if name is not None and not name.strip():
            raise UsageError("--authority is empty: give a DfE code such as 880 or a name")
    if args.command == "calendar" and args.year is not None and not 2000 <= args.year <= 2100:
        raise UsageError(f"--year must be a year such as 2026, not {args.year}")
    if args.command == "serve" and not 1 <= args.port <= 65535:
        raise UsageError(f"--port must be 1 to 65535, not {args.port}")
    if getattr(args, "part_size", 1) < 1:
        raise UsageError(f"--part-size must be 1 or more, not {args.part_size}")
    if getattr(args, "config", None) is not None and args.command != "init":
        from tasks.settings.config import run_config

        run_config(Path(args.config))  # its own errors name the file and key; kept
    exports = getattr(args, "exports", None)
    if exports is not None and args.command != "demo":
        exports_folder(Path(exports))
    if getattr(args, "out", None) is not None:
        out_folder(Path(args.out))
    try:
        Limits.from_settings(settings)
        settings.check_numbers()  # SMTP and Microsoft 365 ports, timeouts, retries, waits
        operators(settings)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    store_usable(args, settings)
    if args.command in ("run", "demo", "regional", "serve"):
        prefect_reachable(settings.prefect_api_url)


def store_usable(args: argparse.Namespace, settings: Settings) -> None:
    """The history store a command would use: a database URL this can use, with its
    driver installed, and reachable for a command that stores (UsageError otherwise)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from tasks.store.history import STORE_URL_ENV

    url = settings.secret("store_url")
    if url and url != "memory://":
        try:
            dialect = make_url(url).get_dialect()
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise UsageError(f"{STORE_URL_ENV} is not a database URL this can use "
                             f"({type(exc).__name__}); expected e.g. "
                             "postgresql+psycopg://user@host/history") from None
        try:  # the driver the URL names (postgresql:// alone means psycopg2) is installed
            dialect.import_dbapi()
        except ImportError as exc:
            raise UsageError(f"{STORE_URL_ENV} needs the database driver "
                             f"{getattr(exc, 'name', None) or dialect.driver!r}, which is "
                             "not installed; for PostgreSQL write postgresql+psycopg://"
                             "user@host/history (the project's 'postgres' extra installs "
                             "psycopg)") from None
        if args.command in ("run", "demo", "regional"):
            store_reachable(url, STORE_URL_ENV)
    elif getattr(args, "out", None) is not None and args.command in ("run", "demo"):
        store_reachable(f"sqlite:///{Path(args.out).resolve() / 'history.sqlite'}",
                        f"--out {args.out}")


def store_reachable(url: str, named_by: str) -> None:
    """The history store can be used, checked before the engine starts: a run that could
    only fail (or keep its history where it is lost) stops here, in one line, having
    written nothing. A SQLite store must be a file named by an absolute path, and be a
    database if it exists; any other database must answer."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        db = u.database or ""
        if db in ("", ":memory:") or db.startswith("file::memory:"):
            raise UsageError(f"{named_by}: {url!r} keeps the history in memory, lost when the "
                             "run ends; give a file, sqlite:////absolute/path/history.sqlite "
                             "(or memory:// on purpose, for a trial)")
        path = Path(db)
        if not path.is_absolute():
            raise UsageError(f"{named_by}: the SQLite file {db!r} is a relative path (it "
                             "would depend on the folder the run starts in); give "
                             "sqlite:////absolute/path/history.sqlite")
        if path.exists():
            sqlite_usable(path, named_by)
        return
    import sqlalchemy as sa

    engine = sa.create_engine(u, pool_pre_ping=False)
    try:
        with engine.connect():
            pass
    except Exception as exc:  # whatever the driver raises: said in one line
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:200]
        raise StoreFault(f"{named_by}: the history store cannot be reached "
                         f"({type(getattr(exc, 'orig', None) or exc).__name__}: {reason}): "
                         "nothing was started, stored, written or sent") from None
    finally:
        engine.dispose()


def sqlite_usable(path: Path, named_by: str) -> None:
    """An existing SQLite store is a database, sound, and not locked by another process
    (checked as a run would use it: a write transaction begun and rolled back), so that
    none of these is found by the engine half-way, or taken for an error in the exports."""
    import sqlite3

    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise StoreFault(f"{named_by}: {path} cannot be read ({exc.strerror}): nothing was "
                         "started, stored, written or sent") from None
    if head and head != b"SQLite format 3\x00":
        raise StoreFault(f"{named_by}: {path} is not a SQLite database (the history store): "
                         "nothing was started, stored, written or sent",
                         "Move it aside or name another file, then run again.")
    con = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=STORE_WAIT)
    try:
        check = con.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed: {check}")
        con.execute("BEGIN IMMEDIATE")
        con.rollback()
    except sqlite3.DatabaseError as exc:
        text = " ".join(str(exc).split())[:160]
        locked = "locked" in text or "busy" in text
        what = (f"is locked by another process ({text}, waited {STORE_WAIT:g} s)" if locked
                else f"is damaged ({text})")
        raise StoreFault(f"{named_by}: the history store {path} {what}: nothing was "
                         "started, stored, written or sent",
                         LOCKED if locked else DAMAGED) from None
    finally:
        con.close()


def prefect_reachable(url: str | None) -> None:
    """The Prefect server PREFECT_API_URL names answers, checked before the engine starts
    (without it the engine fails in three tracebacks). No URL: a temporary server."""
    if not url:
        return
    import httpx

    try:
        reply = httpx.get(f"{url.rstrip('/')}/health", timeout=10)
        reply.raise_for_status()
    except httpx.HTTPError as exc:
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise PrefectFault(f"PREFECT_API_URL {url}: Prefect's API cannot be reached "
                           f"({reason}): nothing was started, stored, written or sent") \
            from None


def exports_folder(folder: Path) -> None:
    """The exports folder exists, is a folder, and has at least one .csv or .xlsx in it."""
    if not folder.exists():
        raise UsageError(f"--exports {folder}: no such folder")
    if not folder.is_dir():
        raise UsageError(f"--exports {folder}: not a folder (give the folder the exports "
                         "are in)")
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError as exc:
        raise UsageError(f"--exports {folder}: cannot be read ({exc.strerror})") from None
    if not any(n.lower().endswith((".csv", ".xlsx", ".xls")) and not n.startswith((".", "~$"))
               for n in names):  # an .xls is an export, in a format the run explains
        raise UsageError(f"--exports {folder}: no .csv or .xlsx exports in this folder")


def out_folder(out: Path) -> None:
    """--out is a folder, or can be made one: not a file (a usage error), and inside
    somewhere a folder can be made (an output fault, exit 7)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: is a file, not a folder (give the folder outputs go in)")
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"--out {out}: {existing} is a file, so the folder cannot be made")
    import tempfile

    try:  # as root, os.access says yes to /proc: only making something there tells
        os.rmdir(tempfile.mkdtemp(prefix=".briefing-check-", dir=existing))
    except OSError as exc:
        raise OutputFault(f"--out {out}: {existing} cannot be written ({exc.strerror}): "
                          "nothing was started, stored, written or sent") from None


def _validate(args: argparse.Namespace, limits: Limits, return_rules: bool = True) -> int:
    """Every finding, whether or not it would stop a run; then what is left to fill in.
    A child-level return is checked by DfE's rules too (counted by rule: never a child id;
    BRIEFING_RETURN_RULES=off leaves them out)."""
    from tasks.drafting.draft import leftovers
    from tasks.reading.problems import blocking, errors, sort_problems
    from tasks.run.inputs import validate_exports
    from tasks.settings.config import ConfigError

    todo = leftovers(Path(args.config))
    try:
        inputs = validate_exports(Path(args.config), Path(args.exports), args.cycle,
                                  today=date.today(), authority=args.authority,
                                  allow_empty=args.allow_empty, strict=args.strict,
                                  limits=limits)
    except ConfigError:
        for line in todo:  # a draft's blanks may be why (an authority code still 000)
            print(line)
        raise
    if inputs.child_returns and inputs.ok:
        from tasks.returns.quality import rule_problems
        from tasks.returns.reading import start_checks
        from tasks.settings.formatting import Edition

        start_checks(inputs.child_returns, return_rules)
        inputs.problems += rule_problems(inputs.child_returns, Edition.RESTRICTED)
    for p in sort_problems(inputs.problems):
        print(p.as_line())
    for line in todo:
        print(line)
    n_err = len(errors(inputs.problems))
    stops = blocking(inputs.problems, inputs.strict)
    print(f"{inputs.cycle}: {len(inputs.records)} usable records from {len(inputs.files)} "
          f"file(s); {n_err} error(s), {len(inputs.problems) - n_err} other finding(s)"
          + (f"; {len(inputs.withheld)} figure(s) would be withheld for an error in the "
             "source" if inputs.withheld and not stops else "")
          + ("; a run would stop" if stops else "")
          + (f"; {len(todo)} TODO(s) left in the config" if todo else ""))
    if stops:
        return EXIT_DATA
    return EXIT_WITHHELD if n_err else EXIT_OK


def _init(args: argparse.Namespace, limits: Limits) -> int:
    from tasks.drafting.draft import draft_config

    exports_folder(Path(args.exports))
    target = Path(args.config)
    if target.exists() and not target.is_dir():
        raise UsageError(f"--config {args.config}: not a folder (give the folder the drafts "
                         "are to go in)")
    try:
        written, notes = draft_config(Path(args.exports), target, force=args.force,
                                      limits=limits)
    except OSError as exc:  # the drafts' folder cannot be made or written
        raise UsageError(f"--config {args.config}: cannot write the drafts there "
                         f"({exc.strerror})") from None
    for path in written:
        print(f"  wrote {path}")
    for note in notes:
        print(f"  {note}")
    print(f"Next: read the drafts (each guess has a comment; TODO marks what only you know), "
          f"then: briefing validate --config {args.config} --exports {args.exports}")
    return EXIT_OK


def _preflight(args: argparse.Namespace, config: Path, exports: Path,
               settings: Settings) -> None:
    """Config, folders, authority and SMTP settings checked before the engine's start-up is
    paid for."""
    from tasks.adapters.mailers import mailer_for
    from tasks.reading.authorities import resolve_authority
    from tasks.reading.files import Limits
    from tasks.reading.sources import load_sources
    from tasks.settings.config import run_config

    exports_folder(exports)
    limits = Limits.from_settings(settings)  # checked by check_usage
    cfg = run_config(config)
    from tasks.drafting.draft import leftovers

    todo = leftovers(config)
    if todo:
        raise UsageError(f"{config} is a draft with {len(todo)} TODO(s) left, the first "
                         f"{todo[0].removeprefix('TODO: ')}; fill them in and delete the word "
                         "TODO (briefing validate lists them)")
    if args.authority:
        resolve_authority(exports, load_sources(config), args.authority, cfg, limits)
    if args.send:
        mailer_for(settings)  # BRIEFING_MAIL_TRANSPORT and its settings
    cycle = args.cycle
    if (args.cycle and not args.allow_empty) or (args.report_date and not args.cycle):
        # A cycle typed by hand: the exports checked now, so that a typo costs one line
        # (NoFiguresForCycle), not the engine's start-up and a blank paper; and the cycle
        # a --report-date is checked against. Errors in the exports are left for the run
        # to report. What was read is kept for the run, which does not read it again.
        from tasks.run.inputs import validate_exports

        cycle = validate_exports(config, exports, args.cycle, today=date.today(),
                                 authority=args.authority, allow_empty=args.allow_empty,
                                 limits=limits, keep=True).cycle
    if args.report_date is not None:
        from tasks.settings.calendar import report_date_refusal

        if why := report_date_refusal(args.report_date, cycle):
            raise UsageError(f"--report-date {why}")


_INSTALLED_COMMAND = False  # set by `entry`: this process is the `briefing` command itself


def _children_end_with_us() -> None:
    """Before the engine starts: a watchdog that ends this command's child processes
    (Prefect's temporary server, PDF helpers) if the command is killed. Only for the
    command itself, never when `main` is called inside another program (the tests)."""
    if _INSTALLED_COMMAND:
        from tasks.adapters.lifeline import Watchdog

        try:
            Watchdog()
        except OSError as exc:  # no watchdog is no reason not to run
            print(f"briefing: no watchdog for child processes ({exc})", file=sys.stderr)


def _stopped_line(signum: int) -> str:
    """What the command says when a signal stopped the run (flows.stopping)."""
    from tasks.run.progress import PROGRESS

    said = PROGRESS.describe()
    if PROGRESS.sending:
        said += ("; any message being sent when it stopped is named by the next run "
                 "(exit 8; briefing ledger settles it)")
    return (f"the run was stopped by {signal.Signals(signum).name} before it finished "
            f"(a service manager's stop, a timeout, Ctrl-C, or Prefect's cancel): {said}. Run the "
            "cycle again: it sends what was not sent and nothing twice")


def _run(args: argparse.Namespace, config: Path, exports: Path, settings: Settings) -> int:
    _preflight(args, config, exports, settings)
    _children_end_with_us()
    if _INSTALLED_COMMAND:
        stopping.arm(_stopped_line)
    if prefect_env.uses_local_engine():
        print("Starting Prefect's local engine (10 to 30 s; set PREFECT_API_URL to use a "
              "running server)...", file=sys.stderr, flush=True)
    from prefect.exceptions import TerminationSignal

    from flows.monthly_briefing import BriefingDone, monthly_briefing
    from tasks.delivering.notify import MessagesNeedAttention
    from tasks.reading.problems import ValidationFailed
    from tasks.store.history import CycleBusy

    start = time.perf_counter()
    attention: list[str] = []  # messages a run stopped while sending: never a success
    try:
        result = monthly_briefing(config_dir=str(config), exports_dir=str(exports),
                                  cycle=args.cycle, out_dir=args.out, send=args.send,
                                  resend=args.resend, authority=args.authority,
                                  edition=args.edition, allow_empty=args.allow_empty,
                                  strict=args.strict, report_date=args.report_date)
    except CycleBusy as exc:
        raise UsageError(str(exc)) from None
    except ValidationFailed as exc:
        for p in exc.problems:
            print(p.as_line(), file=sys.stderr)
        print(f"Stopped: {exc}", file=sys.stderr)
        return EXIT_DATA
    except MessagesNeedAttention as exc:  # produced; the flow run is Failed for these
        assert isinstance(exc.result, BriefingDone)  # what monthly_briefing raises it with
        result, attention = exc.result, exc.lines
    except Exception as exc:
        return _fault_during_run(exc)
    except (stopping.RunStopped, TerminationSignal) as exc:
        signum = exc.signum if isinstance(exc, stopping.RunStopped) else exc.signal
        stopping.say_once(_stopped_line(signum))
        return stopping.EXIT_STOPPED
    if not isinstance(result, BriefingDone):  # a state: a scheduled run, not the run day
        print(result.message)
        return EXIT_OK
    return _report_run(args, settings, result, attention, start)


def _report_run(args: argparse.Namespace, settings: Settings, result: BriefingDone,
                attention: list[str], start: float) -> int:
    """What a finished run says on the console, and its exit code: where the set is, the
    mail counted, figures withheld for an error in their cell, messages needing attention."""
    from tasks.adapters.mail import transport_name
    from tasks.adapters.outputs import in_set, outbox_dir
    from tasks.delivering.summary import Summary
    from tasks.run.progress import PROGRESS

    summary = Summary.read(result.summary)
    folder = result.folder
    # Counted from the public edition: whoever reads the console may not have restricted
    # access (the restricted figures are in summary.json).
    print(f"Briefing for {summary.authority.name}, {result.cycle}: {result.headline}")
    # The cycle's folder holds this run's set alone: public/ to publish, restricted/ not.
    for edition in ["public", "restricted"] if args.edition == "both" else [args.edition]:
        name = "briefing" if edition == "public" else "briefing-restricted"
        print(f"  {edition.capitalize() + ':':<11} {in_set(folder, name + '.pdf')}, "
              f"{in_set(folder, name + '.html')}")
    print(f"  Publish:    {folder / 'public'} (this folder, and only this)")
    print(f"  Summary:    {in_set(folder, 'summary.json')}")
    for note in PROGRESS.notes:
        print(f"  Left over: {note}; cleared by the next run if it can be")
    outbox = outbox_dir(Path(args.out), folder.parent.name, folder.name)
    _print_mail(summary, outbox, transport_name(settings) if args.send else None,
                args.edition != "public")
    withheld = [i for i in summary.indicators if i.withheld_error]
    faults = result.cell_errors
    if faults:
        print(f"  {faults} error(s) in the exports' cells (listed in the data-quality "
              f"appendix); {len(withheld)} figure(s) withheld: error in the source")
        for i in withheld:
            print(f"    {i.code} {i.period}: withheld: error in the source ({i.withheld_error})")
    print(f"Done in {time.perf_counter() - start:.1f} s")
    if attention:  # before 4 and 3: only the operator can settle these
        print(f"{len(attention)} message(s) need attention (exit {EXIT_ATTENTION}): see "
              "'Uncertain' above; briefing ledger lists them", file=sys.stderr)
        return EXIT_ATTENTION
    if faults:
        return EXIT_WITHHELD  # the exports need correcting; a re-run retries failed mail too
    failed = any(n.status == "failed" for n in summary.notifications)
    return EXIT_MAIL if failed else EXIT_OK


def _print_mail(summary: Summary, outbox: Path, transport: str | None,
                restricted_written: bool) -> None:
    """The briefing's messages to its recipients, counted; owners' messages are not (one
    goes to an owner only when a figure breaches, which may rest on a hidden figure):
    they are in summary.json and the outbox, both restricted. A message left uncertain by
    a killed run is always said, an owner's without its address."""
    from tasks.delivering.notify import tally

    briefing = [n for n in summary.notifications if n.kind == "briefing"]
    statuses: dict[str, int] = {}
    for n in briefing:
        statuses[n.status] = statuses.get(n.status, 0) + 1
    where = transport or f"outbox {outbox}"
    print(f"  Email ({where}): the briefing to its recipients: "
          + tally([(n.status, n.transport) for n in briefing])
          + "; owners' messages: in summary.json (restricted)")
    if statuses.get("waiting"):
        print(f"  {statuses['waiting']} message(s) wait for an edition this run did not write "
              "(--edition): a run that writes it sends them")
    if not restricted_written:
        print("  Owners' messages carry the restricted edition, which this run did not write "
              "(--edition): a run that writes it sends them")
    for n in summary.notifications:  # the error names its ledger id and how to settle it
        if n.status == "uncertain":
            who = n.to if n.kind == "briefing" else "an owner's message (summary.json)"
            print(f"  Uncertain: {who}: {n.error}")


def _fault_during_run(exc: Exception) -> int:
    """A run stopped by the machinery (store, Prefect's API, output folder): one line with
    its own exit code, saying what was stored, written and sent; anything else is a bug,
    and raised with its traceback."""
    from flows.faults import classify
    from tasks.run.progress import PROGRESS

    if (signum := stopping.stopped_by()) is not None:  # not the API's fault: it went with us
        stopping.say_once(_stopped_line(signum))
        return stopping.EXIT_STOPPED
    fault = classify(exc)
    if fault is None:
        raise exc
    if isinstance(fault, PrefectFault):
        local = prefect_env.uses_local_engine()
        engine = ("the temporary Prefect engine this command started went away (a signal "
                  "to its process group?)" if local else
                  "start the Prefect server PREFECT_API_URL names before the next run")
        if PROGRESS.published is not None:
            fault.doing = (f"Nothing needs running again; {engine} (this run's record in "
                           "Prefect is incomplete).")
        elif local:
            fault.doing = (f"{engine[0].upper()}{engine[1:]}; run again: what was done is "
                           "not done twice.")
    print(f"Error: {fault.line(PROGRESS.describe())}", file=sys.stderr)
    return fault.code


@contextlib.contextmanager
def _progress_bar() -> Iterator[Callable[[int, int, str], None] | None]:
    """On a terminal, a bar for the regional run, drawn on the console Prefect logs to, so
    that its "n of N" lines scroll above the bar instead of through it. Elsewhere (a log
    file, CI) nothing: the log lines say the same."""
    import logging

    from prefect.logging.handlers import PrefectConsoleHandler
    from rich.progress import BarColumn, Progress, TextColumn

    handler = next((h for name in ("", "prefect") for h in logging.getLogger(name).handlers
                    if isinstance(h, PrefectConsoleHandler)), None)
    stream = getattr(handler, "stream", None)
    if handler is None or not (stream is not None and stream.isatty()):
        yield None
        return
    # Prefect's console has no theme, so every style is given here.
    columns = (TextColumn("{task.description}"),
               BarColumn(style="grey37", complete_style="green", finished_style="green",
                         pulse_style="cyan"),
               TextColumn("{task.completed} of {task.total}"))
    with Progress(*columns, console=handler.console, transient=False) as bar:
        bar_id = bar.add_task("Authorities briefed", total=None)

        def hook(done: int, total: int, _what: str) -> None:
            bar.update(bar_id, completed=done, total=total)

        yield hook


def _calendar(args: argparse.Namespace) -> int:
    from datetime import date

    from tasks.settings.calendar import ordinal, year_plan
    from tasks.settings.config import run_config

    b = run_config(Path(args.config)).briefing
    year = args.year or date.today().year
    p = b.papers
    plan = year_plan(year, p.run_working_day, b.meetings, p.clear_days,
                     p.commentary_working_days, p.data_ready_days)

    def day(d: date) -> str:
        return f"{d:%a} {d.day:2d} {d:%b %Y}"

    print(f"{b.authority.name} ({b.authority.code}): runs at 07:00 Europe/London on the "
          f"{ordinal(p.run_working_day)} working day of each month (England and Wales bank "
          f"holidays excluded); papers {p.clear_days} clear working days before the meeting, "
          f"commentary {p.commentary_working_days} working days before that.")
    print(f"{'Cycle':<8} {'Run day':<16} {'Meeting':<16} {'Papers by':<16} Commentary due")
    for c in plan:
        m = c.meeting
        cols = [day(m.meeting), day(m.publish_by), day(m.commentary_due)] if m else [
            "no meeting listed", "", ""]
        late = "  LATE: commentary due before the run" if c.late else ""
        print(f"{c.cycle:<8} {day(c.run.date()):<16} {cols[0]:<16} {cols[1]:<16} "
              f"{cols[2]}{late}".rstrip())
    return EXIT_OK


def _regional(args: argparse.Namespace, settings: Settings) -> int:
    """`briefing regional`: each named authority checked in the published files, then the
    regional flow in this process, with a progress bar on a terminal."""
    from tasks.reading.files import Limits
    from tasks.settings.config import ConfigError

    if args.spread_to and not settings.prefect_api_url:
        raise ConfigError("--spread-to hands parts to the workers of a Prefect server: "
                          "set PREFECT_API_URL to that server's API")
    if args.authority:  # each named authority must be in the published files
        from tasks.reading.authorities import resolve_authority
        from tasks.reading.sources import load_sources
        from tasks.settings.config import run_config

        cfg, sources = run_config(REAL_CONFIG), load_sources(REAL_CONFIG)
        for name in args.authority:
            resolve_authority(Path(args.exports), sources, name, cfg,
                              Limits.from_settings(settings))
    _children_end_with_us()
    from flows import regional_briefing as regional

    with _progress_bar() as hook:
        regional.PROGRESS_HOOK = hook
        try:
            print(regional.regional_briefing(
                config_dir=str(REAL_CONFIG), exports_dir=args.exports,
                authorities=args.authority, out_dir=args.out, cycle=args.cycle,
                spread_to=args.spread_to, part_size=args.part_size))
        finally:
            regional.PROGRESS_HOOK = None
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from tasks.adapters.mail import MailConfigError
    from tasks.reading.files import Limits
    from tasks.settings.config import ConfigError
    from tasks.settings.environment import Settings

    try:
        settings = Settings.from_env()  # once, for this command; each flow reads its own
        check_usage(args, settings)
        if args.command == "validate":
            return _validate(args, Limits.from_settings(settings), settings.runs_return_rules)
        if args.command == "calendar":
            return _calendar(args)
        if args.command == "init":
            return _init(args, Limits.from_settings(settings))
        if args.command == "ledger":
            from flows.ledger import ledger_command

            return ledger_command(args, settings)
        if args.command == "schema":
            from tasks.delivering.summary import schema

            print(json.dumps(schema(), indent=2))
            return EXIT_OK
        if args.command == "regional":
            return _regional(args, settings)
        if args.command == "serve":
            _children_end_with_us()
            from flows.serve import ServeError, serve

            try:
                serve(port=args.port)
            except ServeError as exc:
                raise UsageError(str(exc)) from None
            return EXIT_OK
        if args.command == "demo" and args.real:
            exports = Path(args.exports) if args.exports else REAL_EXPORTS
            if not exports.is_dir():
                raise ConfigError(f"{exports}: DfE's published files not found; give the "
                                  "folder with --exports")
            return _run(args, REAL_CONFIG, exports, settings)
        if args.command == "demo":
            if args.authority:
                raise ConfigError("--authority goes with --real (the bundled demo is fictional)")
            return _run(args, DEMO_CONFIG, DEMO_EXPORTS, settings)
        return _run(args, Path(args.config), Path(args.exports), settings)
    except (ConfigError, MailConfigError, UsageError) as exc:
        print(f"Error: {shown(' '.join(str(exc).split()))}", file=sys.stderr)
        return EXIT_USAGE
    except Fault as exc:  # found before anything started
        print(f"Error: {exc.line()}", file=sys.stderr)
        return exc.code


class _ReaderMayLeave:
    """Standard output whose reader may go away (`briefing schema | head`): what is left to
    print goes nowhere, and the command carries on to the end. A run is never cut short,
    half-written, because the console it reports to was closed; nor does a reader that
    has seen enough cause a traceback."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)
        except ValueError:  # closed under us (an interpreter shutting down)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def entry() -> None:
    """The installed `briefing` command."""
    global _INSTALLED_COMMAND
    _INSTALLED_COMMAND = True
    # Standard output and error may each be a pipe whose reader leaves (`2>&1 | head`), or
    # closed (`>&-`): the command carries on either way.
    sys.stdout = _ReaderMayLeave(sys.stdout or open(os.devnull, "w"))  # noqa: SIM115
    sys.stderr = _ReaderMayLeave(sys.stderr or open(os.devnull, "w"))  # noqa: SIM115
    try:
        code = main()
        sys.stdout.flush()
    except OSError as exc:  # a full disk or a bad descriptor behind standard output
        os.write(2, f"Error: cannot write the output: {exc.strerror}\n".encode())
        os._exit(EXIT_USAGE)
    sys.exit(code)


if __name__ == "__main__":
    entry()
