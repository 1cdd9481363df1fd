"""Prefect flows: wiring only. The logic lives in `tasks/`.

Importing this package applies Prefect's defaults for this project (flows/prefect_env.py)
once, before any flow module imports Prefect: Prefect reads its settings when it is first
imported, so this is the one place that can set them in time. Nothing else changes a
setting at import.
"""

from flows import prefect_env

prefect_env.apply()
