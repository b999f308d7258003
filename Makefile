# nightdesk — the two commands a new user needs: `make demo` and `make test`.
# Each creates .venv when missing and installs into it; pip is skipped when nothing changed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=
BENCH_ARGS ?=
# The peer libraries (elex, clarify) that bench-peers times us against: their own venv, never
# nightdesk's dependencies; pinned in benchmarks/peers-requirements.txt.
PEERS_VENV ?= .venv-peers
PEERS_REQ  := benchmarks/peers-requirements.txt

.PHONY: demo test lint format bench bench-peers peers-venv clean help

help:
	@echo "make demo   - install (if needed) and run the monitor on the built-in simulated night"
	@echo "make test   - install with test extras (if needed) and run the whole test suite"
	@echo "make lint   - ruff check and format check"
	@echo "make format - ruff format and autofix"
	@echo "make bench  - run the benchmarks and print their numbers (BENCH_ARGS=--quick: shorter)"
	@echo "make bench-peers - parse speed beside elex and clarify (builds $(PEERS_VENV) once)"

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
# The peers section runs when the peer venv can be built (it needs PyPI); else it says skipped.
bench: $(VENV)/.installed-test
	@$(COMPILE)
	-@$(MAKE) --no-print-directory peers-venv
	NIGHTDESK_PEERS_VENV=$(PEERS_VENV) $(BIN)/python -m benchmarks $(BENCH_ARGS)

bench-peers: $(VENV)/.installed-test $(PEERS_VENV)/.installed
	@$(COMPILE)
	$(BIN)/python -m benchmarks.peers --venv $(PEERS_VENV)

peers-venv: $(PEERS_VENV)/.installed

# --no-deps: every runtime dependency is pinned in the file (elex's own pins do not install on
# Python 3.11). The stamp is written last, so a half-built venv is rebuilt and never timed.
$(PEERS_VENV)/.installed: $(PEERS_REQ)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "the peer venv needs Python >= 3.11")'
	rm -rf $(PEERS_VENV)
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS_VENV)/bin/python -m pip install --quiet --no-deps -r $(PEERS_REQ)
	$(PEERS_VENV)/bin/python -c 'import elex.api, clarify'
	@touch $@

clean:
	rm -rf $(VENV) $(PEERS_VENV) .pytest_cache .ruff_cache build dist *.egg-info
