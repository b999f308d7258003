# nightdesk — the two commands a new user needs: `make demo` and `make test`.
# Each creates .venv when missing and installs into it; pip is skipped when nothing changed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: demo test lint format bench clean help

help:
	@echo "make demo   - install (if needed) and run the monitor on the built-in simulated night"
	@echo "make test   - install with test extras (if needed) and run the whole test suite"
	@echo "make lint   - ruff check and format check"
	@echo "make format - ruff format and autofix"
	@echo "make bench  - run the benchmarks and print their numbers (BENCH_ARGS=--quick: shorter)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "nightdesk needs Python >= 3.11; set PYTHON=python3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamps record what was installed; pyproject.toml changing means installing again.
# An editable install leaves our own modules uncompiled; compiling them at install time saves
# ~0.1 s of every launch where the environment forbids writing bytecode (PYTHONDONTWRITEBYTECODE).
COMPILE = $(BIN)/python -m compileall -q adapters nightdesk tui

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@$(COMPILE)
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@$(COMPILE)
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	@$(COMPILE)
	$(BIN)/nightdesk demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Numbers on stdout, progress on stderr; the terminal section needs a pty (Linux /proc).
bench: $(VENV)/.installed-test
	@$(COMPILE)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info
