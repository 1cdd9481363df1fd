"""Every Prefect task of the project: a run's coarse steps (tasks/run/), one task per step,
never per indicator, and one authority's briefing in a regional run.

Caching is off: every input is a whole month's data and a re-run must re-read it.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.run import analysis, delivery, inputs, papers, publishing, regional

validate_exports = task(name="validate-exports", cache_policy=NO_CACHE)(
    inputs.validate_exports)
compare_with_history = task(name="compare-with-history", cache_policy=NO_CACHE)(
    analysis.compare_with_history)
render_briefing = task(name="render-briefing", cache_policy=NO_CACHE)(papers.render_briefing)
store_and_publish = task(name="store-and-publish", cache_policy=NO_CACHE)(
    publishing.store_and_publish)
notify = task(name="notify-owners", cache_policy=NO_CACHE)(delivery.notify)
write_summary = task(name="write-summary", cache_policy=NO_CACHE)(delivery.write_summary)
publish = task(name="publish", cache_policy=NO_CACHE)(publishing.publish)
brief_authority = task(name="brief-authority", cache_policy=NO_CACHE, retries=0,
                       task_run_name="brief-{authority}-{cycle}")(regional.brief_authority)
