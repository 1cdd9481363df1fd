"""A deep dive as the committee's record gives it (`deep_dives.yaml`, or an owner's return
workbook): its findings, actions and close date, as read and checked field by field. The
register built from them, and the actions' impact, is tasks.analysing.deep_dives.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tasks.settings.yaml_text import TextDate

Text = Annotated[str, Field(min_length=1, max_length=2000)]


class Action(BaseModel):
    """One action the board agreed: who, what, by when, and when it was put in place."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: Annotated[str, Field(min_length=1, max_length=500)]
    owner: str  # an id in owners.yaml
    due: TextDate
    done: TextDate | None = None  # its impact is measured from this date


class DeepDiveEntry(BaseModel):
    """One deep dive as `deep_dives.yaml` gives it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    indicator: str
    opened: str | None = None  # the cycle it opened; else the register's open one
    findings: Text | None = None
    actions: list[Action] = []
    closed: TextDate | None = None
