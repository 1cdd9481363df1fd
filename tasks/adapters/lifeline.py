"""Child processes end with the run that started them, however it ends.

A run killed with `kill -9` cannot clean up after itself, and Linux does not end a
process's children with it: Prefect's temporary server and the PDF helpers would live on,
holding memory and a port. Two mechanisms, each tested under a real kill:

- `die_with_parent`: the kernel's parent-death signal (prctl PR_SET_PDEATHSIG), set by a
  child on itself, for the children this project starts (the PDF helpers);
- `Watchdog`: a small process started by the `briefing` command that notes the command's
  descendants twice a second and, the moment the command is gone, ends those still running
  (TERM, then KILL): it covers children started by libraries (Prefect's server).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.5
GRACE_SECONDS = 3.0


def die_with_parent(parent: int, sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send `sig` to this process when its parent ends; if the parent
    already ended (before this could be asked), end now. False where the kernel cannot be
    asked (not Linux): the watchdog still covers the run."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)
    return True


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent id, start time in clock ticks) of a process, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[19]


def processes() -> dict[int, tuple[int, str]]:
    out = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None:
            out[int(entry.name)] = st
    return out


def descendants(root: int, table: dict[int, tuple[int, str]]) -> dict[int, str]:
    """Every process below `root`, with its start time."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: dict[int, str] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid not in found:
            found[pid] = table[pid][1]
            todo += children.get(pid, [])
    return found


def end_processes(known: dict[int, str], grace: float = GRACE_SECONDS) -> None:
    """TERM each process still running as the one noted (same id and start time), and
    their own children; KILL whatever is left after `grace` seconds."""
    table = processes()
    targets = {pid: start for pid, start in known.items()
               if pid in table and table[pid][1] == start}
    for pid in list(targets):
        targets |= descendants(pid, table)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, start in targets.items():
            st = _stat(pid)
            if st is not None and st[1] == start:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
        deadline = time.monotonic() + (grace if sig == signal.SIGTERM else 0)
        while time.monotonic() < deadline and any(
                (st := _stat(pid)) is not None and st[1] == start
                for pid, start in targets.items()):
            time.sleep(0.05)


def watch(parent: int, poll: float = POLL_SECONDS) -> None:
    """The watchdog's loop: note the parent's descendants until it is gone, then end them."""
    woken = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl-C is for the parent
    signal.signal(signal.SIGTERM, lambda *_: woken.set())
    die_with_parent(parent, signal.SIGTERM)  # wakes this loop at once when the parent ends
    known: dict[int, str] = {}
    me = os.getpid()
    while os.getppid() == parent:
        known |= {pid: start for pid, start in descendants(parent, processes()).items()
                  if pid != me}
        woken.wait(poll)
    end_processes(known)


class Watchdog:
    """Starts the watchdog process for this process; it ends when this one does."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from tasks.adapters.lifeline import watch; "
             "watch(int(sys.argv[1]))", str(os.getpid())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(
                [str(Path(__file__).resolve().parents[2]),
                 *filter(None, [os.environ.get("PYTHONPATH")])])})
