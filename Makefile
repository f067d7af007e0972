# Two commands: `make test` and `make demo`. Both create .venv and install the project first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test demo lint typecheck layers pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: lint typecheck layers pytest

lint: $(STAMP)
	$(BIN)/ruff check hygiene connectors rules sandbox tests bench
	$(BIN)/ruff format --check hygiene connectors rules sandbox tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/hygiene demo

bench: $(STAMP)
	$(BIN)/python bench/bench_cycle.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
