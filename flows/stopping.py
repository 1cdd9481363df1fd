"""A run stopped by SIGTERM (a service manager's stop, `timeout`, Prefect's cancel) or
Ctrl-C is said as that, promptly, with what was stored, written and sent by then.

Without this, the installed command ended with exit 143 and no `Error:` line when the
signal reached it alone, and, when it reached the whole process group (Prefect's temporary
server included), it spent minutes reporting to the server that had gone with it and then
blamed Prefect's API (exit 6, "start the Prefect server"): the wrong fault and the wrong
fix. Prefect's engine puts its own SIGTERM handler in place while a flow runs, so the flow
calls `watch()` at its start to hear the signal first; the command `arm`s what to do.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

EXIT_STOPPED = 9
GRACE = 20.0  # seconds the run has, after the signal, to end by itself


class RunStopped(BaseException):
    """Raised in the command when the run was stopped by a signal (not an Exception: no
    `except Exception` on the way may take it for a fault of its own)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class _Stop:
    signum: int | None = None
    said: bool = False
    line: Callable[[int], str] | None = None  # set by the command: what it says at a stop
    in_flow: bool = False  # the engine's SIGTERM bridge is in place (`watch` was called)
    lock: threading.Lock = field(default_factory=threading.Lock)


STOP = _Stop()


def stopped_by() -> int | None:
    """The signal that stopped this run, if one did."""
    return STOP.signum


def say_once(text: str) -> bool:
    """Print the command's one `Error:` line, once, whichever path gets there first."""
    with STOP.lock:
        if STOP.said:
            return False
        STOP.said = True
    print(f"Error: {text}", file=sys.stderr, flush=True)
    return True


def _heard(signum: int) -> None:
    """The first signal: remember it and, for the command, make sure the process ends
    within GRACE seconds, saying why, even if the engine is still retrying a server that
    has gone (a half-done switch of the cycle's folder is undone by the next run; a
    message being sent is left `sending`, which the next run treats as uncertain)."""
    if STOP.signum is not None or STOP.line is None:
        return
    STOP.signum = signum
    line = STOP.line

    def end() -> None:
        time.sleep(GRACE)
        print(file=sys.stderr, flush=True)  # off whatever line the engine was writing
        say_once(line(signum))
        os._exit(EXIT_STOPPED)

    threading.Thread(target=end, name="briefing-stop", daemon=True).start()


def arm(line: Callable[[int], str]) -> None:
    """For the installed command only: SIGTERM, and Ctrl-C (SIGINT) unless the command was
    started with it ignored (nohup, a background job), stop the run with `line` and exit 9.
    Ctrl-C reaches the engine as its own termination signal, as SIGTERM does: as a plain
    KeyboardInterrupt it printed a traceback, or blamed Prefect's API (found from outside)."""
    from prefect.exceptions import TerminationSignal

    STOP.line = line

    def on_term(signum: int, _frame: FrameType | None) -> None:
        _heard(signum)
        raise RunStopped(signum)

    def on_int(signum: int, _frame: FrameType | None) -> None:
        _heard(signum)
        if STOP.in_flow:
            raise TerminationSignal(signum)  # the engine stops as for SIGTERM, then on_term
        raise RunStopped(signum)

    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGTERM, on_term)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, on_int)


def watch() -> None:
    """At the flow's start, in front of the engine's own handler: hear a SIGTERM before
    the engine acts on it. Does nothing unless the command armed it."""
    if STOP.line is None or threading.current_thread() is not threading.main_thread():
        return
    engine: Any = signal.getsignal(signal.SIGTERM)
    STOP.in_flow = True

    def on_term(signum: int, frame: FrameType | None) -> None:
        _heard(signum)
        if callable(engine):
            engine(signum, frame)

    signal.signal(signal.SIGTERM, on_term)
