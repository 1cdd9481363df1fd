"""The briefing's logic, one package per stage of a run (docs/architecture.md): settings,
adapters, reading, checking, analysing, editions, presenting, returns, store, delivering,
drafting, and run (each stage's step and the sequence). Everything is a plain typed function
or a small interface; `tasks.steps` makes the steps Prefect tasks and `flows/` wires them.
"""
