# The README's two commands: `make demo` (set up, then run the bundled demo) and `make test`.
.PHONY: setup setup-demo demo lint check test clean

# Everything: the project, the test tools, and the system packages both need.
setup:
	@bash scripts/setup.sh

# Only what the demo needs (WeasyPrint's libraries, fonts, the project itself).
setup-demo:
	@bash scripts/setup.sh demo

demo: setup-demo
	.venv/bin/briefing demo

# Tests run on every core (pytest-xdist): a worker per core, each taking the next test as
# it finishes one (worksteal: the suite's tests range from milliseconds to minutes).
PYTEST = .venv/bin/python -m pytest -n auto --dist worksteal

# Python may keep the project's compiled modules (and pytest its rewritten tests) in the
# ignored __pycache__ folders, even where the machine says not to: each worker and each
# `briefing` a test starts would otherwise compile them again (some 3 s a worker).
unexport PYTHONDONTWRITEBYTECODE

# Lint (ruff) and types (mypy strict), alone.
lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy

# While you work: lint, types and the unit tests (tests/unit/, a folder per stage: no
# engine, server, browser, PostgreSQL, DfE's validators or PDF; docs/architecture.md).
check: lint
	$(PYTEST) tests/unit -q

# Everything, as CI runs it.
test: lint
	$(PYTEST) --durations=25

# Everything written under outputs/ (every demo's papers and the history store), and caches.
clean:
	find outputs -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis
