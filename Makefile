# The README's two commands: `make demo` (set up, then run the bundled demo) and `make test`.
.PHONY: setup demo test lint bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/briefing demo

test: setup
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/python -m pytest

clean:
	rm -rf outputs/999 outputs/history.sqlite .pytest_cache .mypy_cache .ruff_cache
