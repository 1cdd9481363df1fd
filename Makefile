# The README's two commands: `make demo` (set up, then run the bundled demo) and `make test`.
.PHONY: setup demo check test lint bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/briefing demo

# While you work: lint, types and the fast tests (no server, browser, PostgreSQL or engine).
check: setup
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/python -m pytest -m "not slow" -q

# Everything, as CI runs it.
test: setup
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/python -m pytest

clean:
	rm -rf outputs/999 outputs/history.sqlite .pytest_cache .mypy_cache .ruff_cache
