"""Prefect settings this project needs, applied before Prefect is first imported.

The local (ephemeral) server takes 10 to 30 s to start on these machines, more on a fresh
database, so its start-up timeout is raised; analytics are off (no network here).
A user's own settings (environment variables) always win. The UI is off for the
temporary server (it is gone when the run ends); `briefing serve`'s server turns it on.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
}


APPLIED: set[str] = set()  # the defaults set here, not by the user (serve turns the UI on)


def apply() -> None:
    for key, value in DEFAULTS.items():
        if key not in os.environ:
            os.environ[key] = value
            APPLIED.add(key)


def uses_local_engine() -> bool:
    return not os.environ.get("PREFECT_API_URL")
