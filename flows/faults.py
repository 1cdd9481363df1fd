"""Faults of the machinery a run depends on (the history store, Prefect's API, the output
folder), each with its own exit code: never reported as errors in the exports, never a
traceback. Light to import: `briefing --help` loads it."""

from __future__ import annotations

# The `briefing` command's exit codes (flows/cli.py), here so that its subcommands'
# modules (flows/ledger.py) share them without importing the command.
EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_MAIL, EXIT_WITHHELD = 0, 1, 2, 3, 4
EXIT_STORE, EXIT_PREFECT, EXIT_OUTPUT = 5, 6, 7
EXIT_ATTENTION = 8  # produced, but some messages are uncertain: `briefing ledger` settles them


class UsageError(Exception):
    """A mistake in how the command was called: one line, exit 2, nothing started."""


class Fault(Exception):
    """A fault outside the exports, found before the run starts or during it: one line,
    its own exit code, what to do about it."""

    code = 1
    doing = ""

    def __init__(self, message: str, doing: str | None = None) -> None:
        super().__init__(message)
        if doing is not None:
            self.doing = doing

    def line(self, progress: str | None = None) -> str:
        """The one line the operator reads: what failed, what was and was not done (when
        the run had started), what to do."""
        done = f"; {progress}" if progress else ""
        return " ".join(f"{self}{done}. {self.doing}".split())


LOCKED = ("Find what holds the store (another program with it open, a backup, a "
          "stuck process) and let it finish or end it, then run again.")
DAMAGED = "Restore the history store from a backup (or move it aside), then run again."


class StoreFault(Fault):
    code = EXIT_STORE
    doing = "Make the history store reachable, then run again."


class PrefectFault(Fault):
    code = EXIT_PREFECT
    doing = ("Start the Prefect server PREFECT_API_URL names (or unset it to use a "
             "temporary one), then run again: what was done is not done twice.")


class OutputFault(Fault):
    code = EXIT_OUTPUT
    doing = ("Make the output folder writable (space, permissions, a file held open), "
             "then run again: it clears what this run left.")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, its causes and contexts, and the members of exception groups."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop()
        if e in seen:
            continue
        seen.append(e)
        todo += [c for c in (e.__cause__, e.__context__) if c is not None]
        if isinstance(e, BaseExceptionGroup):
            todo += list(e.exceptions)
    return seen


def _store_fault(e: BaseException) -> Fault | None:
    import sqlite3

    import sqlalchemy.exc

    inner = getattr(e, "orig", None) or e
    if not isinstance(e, sqlite3.DatabaseError | sqlalchemy.exc.OperationalError
                      | sqlalchemy.exc.DatabaseError):
        return None
    text = " ".join(str(inner).split())[:200]
    if "locked" in text or "busy" in text:
        return StoreFault(f"the history store is locked by another process ({text}): the "
                          "run stopped", LOCKED)
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return StoreFault(f"the history store is damaged ({text}): the run stopped",
                          DAMAGED)
    return StoreFault(f"the history store cannot be used ({type(inner).__name__}: {text}): "
                      "the run stopped")


def _prefect_fault(e: BaseException) -> Fault | None:
    import httpx
    from prefect.exceptions import PrefectHTTPStatusError

    if isinstance(e, httpx.TransportError | PrefectHTTPStatusError):
        return PrefectFault(f"Prefect's API was lost during the run "
                            f"({type(e).__name__}: {' '.join(str(e).split())[:160]})")
    return None


def classify(exc: BaseException) -> Fault | None:
    """The fault a run's exception is, when it is one of the machinery's; None for
    anything else (a bug: its traceback is wanted)."""
    from tasks.adapters.outputs import OutputUnwritable

    chain = _chain(exc)
    for e in chain:
        if isinstance(e, Fault):
            return e
        if isinstance(e, OutputUnwritable):
            return OutputFault(f"the output folder cannot be written: {e.strerror}: the "
                               "run stopped")
    for e in chain:
        fault = _store_fault(e) or _prefect_fault(e)
        if fault is not None:
            return fault
    return None
