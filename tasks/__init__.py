"""Pure logic of the briefing: config, ingest, validation, comparison, rendering, delivery.

Everything here is a plain typed function or a small interface; `tasks.steps` wraps the
coarse steps as Prefect tasks and `flows/` only wires them together.
"""
