# The two commands of the README: `make demo` (install, then run faultlens with sample traffic) and
# `make test` (install, then run every check and test). Everything a fresh machine needs is here.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SEMANTIC_STAMP := $(VENV)/.installed-semantic

.PHONY: install install-semantic demo serve test lint typecheck unit browser bench holdout clean samples

$(STAMP): pyproject.toml setup.py collector/decode/_wire.c collector/decode/_msgscan.c collector/decode/_genai.c collector/decode/msgscan.h
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# The optional semantic grounding (an embedding model and torch, CPU build): the tests need it, the
# demo does not.
$(SEMANTIC_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,semantic]'
	touch $(SEMANTIC_STAMP)

install: $(STAMP)

install-semantic: $(SEMANTIC_STAMP)

# Collector + analysis + dashboard on 127.0.0.1, with sample multi-agent traffic.
demo: install
	$(BIN)/faultlens up --demo

serve: install
	$(BIN)/faultlens serve

# Headless Chromium for the dashboard's browser tests, from Debian's package.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install-semantic
	$(BIN)/pytest

test: install-semantic browser lint typecheck unit

bench: install
	$(BIN)/python bench/ingest.py

# How the detectors do on independently written traffic (serve + report, scored against labels).
holdout: install
	$(BIN)/python bench/holdout/run.py

samples: install
	$(BIN)/python -m sample_traces.scenarios

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
