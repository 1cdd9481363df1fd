"""The pipeline's coarse steps as Prefect tasks: one task per step, never per indicator.

Caching is off: every input is a whole month's data and a re-run must re-read it.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks import pipeline

validate_exports = task(name="validate-exports", cache_policy=NO_CACHE)(
    pipeline.validate_exports)
compare_with_history = task(name="compare-with-history", cache_policy=NO_CACHE)(
    pipeline.compare_with_history)
render_briefing = task(name="render-briefing", cache_policy=NO_CACHE)(pipeline.render_briefing)
store_and_publish = task(name="store-and-publish", cache_policy=NO_CACHE)(
    pipeline.store_and_publish)
notify = task(name="notify-owners", cache_policy=NO_CACHE)(pipeline.notify)
write_summary = task(name="write-summary", cache_policy=NO_CACHE)(pipeline.write_summary)
publish = task(name="publish", cache_policy=NO_CACHE)(pipeline.publish)
