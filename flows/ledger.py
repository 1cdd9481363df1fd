"""`briefing ledger`: the messages of each cycle as the ledger holds them, and the operator's
two answers for a message a run stopped while sending (`uncertain`): it arrived
(--confirm-sent ID), or it did not (--resend ID, and the next run of its cycle sends it).

An uncertain message is never settled silently: until the operator answers, every run of
its cycle ends with exit 8 and a Failed flow run, and the operators are alerted.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from flows.faults import EXIT_OK, UsageError

if TYPE_CHECKING:  # imported when used: `briefing --help` stays quick
    from tasks.settings.environment import Settings
    from tasks.store.history import HistoryStore, LedgerEntry

# Shown without --all: everything not plainly sent (tasks.delivering.notify's ledger states).
OPEN = ("sending", "uncertain", "failed", "resend")


def add_parser(sub: Any) -> None:
    led = sub.add_parser(
        "ledger", help="list the messages needing attention; settle an uncertain one",
        description="List each cycle's messages that are not plainly sent (uncertain, "
                    "failed, to be sent again), with the id to settle each: --confirm-sent "
                    "ID when the recipient has it, --resend ID when not (the next run of "
                    "that cycle sends it). Reads the history store (--out DIR/history.sqlite "
                    "or BRIEFING_STORE_URL); sends nothing.")
    led.add_argument("--out", default="outputs", metavar="DIR",
                     help="output folder whose history.sqlite holds the ledger (default "
                          "outputs), unless BRIEFING_STORE_URL is set")
    led.add_argument("--cycle", metavar="PERIOD", help="only this cycle (e.g. 2024-10)")
    led.add_argument("--all", action="store_true", help="every message, sent ones too")
    act = led.add_mutually_exclusive_group()
    act.add_argument("--confirm-sent", metavar="ID",
                     help="the message arrived: record it as sent (never sent again)")
    act.add_argument("--resend", metavar="ID", dest="resend_id",
                     help="the message did not arrive: the next run of its cycle sends it")


def ledger_command(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(Path(args.out), settings)
    entries = store.ledger_entries(cycle=args.cycle)
    wanted = args.confirm_sent or args.resend_id
    if wanted:
        return _settle(store, entries, wanted.strip().lower(), confirm=bool(args.confirm_sent))
    shown = [e for e in entries if args.all or e.status in OPEN]
    for e in shown:
        print(describe(e))
    print(f"{len(shown)} of {len(entries)} message(s) shown"
          + ("" if args.all else " (those not plainly sent; --all for every one)"))
    return EXIT_OK


def describe(e: LedgerEntry) -> str:
    """One line: id, status, authority and cycle, kind, owner, address, and why."""
    from tasks.delivering.notify import ledger_id

    parts = e.key.split(":")
    kind = parts[1] if len(parts) > 1 else "?"
    owner = unquote(parts[2]) if len(parts) >= 4 else ""
    line = (f"{ledger_id(e)}  {e.status:<9}  {e.authority} {e.cycle}  {kind}"
            + (f" for {owner}" if owner else "") + f" to {e.recipient}")
    return line + (f": {e.error}" if e.error else "")


def _settle(store: HistoryStore, entries: list[LedgerEntry], wanted: str,
            confirm: bool) -> int:
    from tasks.delivering.notify import RESEND, SENT, ledger_id

    found = [e for e in entries if ledger_id(e) == wanted]
    if not found:
        raise UsageError(f"no message in the ledger has the id {wanted[:20]!r} "
                         "(briefing ledger --all lists every one)")
    e = found[0]
    when = datetime.now().astimezone().isoformat(timespec="seconds")
    if confirm:
        store.ledger_put(replace(e, status=SENT, error=f"confirmed as arrived by the "
                                                       f"operator, {when}"))
        print(f"{ledger_id(e)}: recorded as sent; no run sends it again")
    else:
        store.ledger_put(replace(e, status=RESEND, error=f"to be sent again, asked by the "
                                                         f"operator, {when}"))
        print(f"{ledger_id(e)}: the next run of {e.authority} {e.cycle} sends it again "
              f"(briefing run ... --cycle {e.cycle} --send)")
    return EXIT_OK


def _store(out: Path, settings: Settings) -> HistoryStore:
    """The store a run of `out` uses; never a new one made by asking."""
    from tasks.store.history import STORE_URL_ENV, default_store_url, open_store

    url = settings.secret("store_url")
    if url:
        return open_store(url)
    path = out.resolve() / "history.sqlite"
    if not path.is_file():
        raise UsageError(f"--out {out}: no history store there ({path.name}); give the "
                         f"--out the runs used, or set {STORE_URL_ENV}")
    return open_store(default_store_url(out))
