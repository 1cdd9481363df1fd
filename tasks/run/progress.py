"""How far the run in this process got: what a stopped run says it stored, wrote and sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tasks.delivering.notify import Delivery


@dataclass
class Progress:
    """How far the run in this process got, so that a run stopped by a fault (the store,
    Prefect's API, the output folder) can say what was and was not stored, sent and
    written (flows/cli.py). Reset by each run_cycle."""

    stored: bool = False
    staging: Path | None = None
    sending: bool = False
    deliveries: list[Delivery] | None = None
    published: Path | None = None
    notes: list[str] = field(default_factory=list)  # leftovers that could not be cleared

    def reset(self) -> None:
        self.__dict__.update(Progress().__dict__)

    def describe(self) -> str:
        if self.published is not None:
            done = f"the briefing was stored and written to {self.published}"
        elif self.stored:
            done = "the history was stored; the papers were not switched in (the cycle's " \
                   "folder holds the previous complete set, if any)"
        else:
            return "nothing was stored, written or sent"
        if self.sending and self.deliveries is None:
            return done + "; sending had begun (a re-run sends what was not sent)"
        if self.deliveries is None:
            return done + "; no messages were sent"
        sent = sum(1 for d in self.deliveries if d.status == "sent")
        before = sum(1 for d in self.deliveries if d.status == "already_sent")
        earlier = f" ({before} by an earlier run)" if before else ""
        return done + f"; {sent + before} of {len(self.deliveries)} message(s) sent{earlier}"


PROGRESS = Progress()
