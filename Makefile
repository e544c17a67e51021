# Entry points for people and CI. Everything installs into project-local dirs
# (.venv, bin/) so a fresh clone needs nothing but Python and Go.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/bin
TOXIPROXY_VERSION ?= v2.12.0
TOXIPROXY_SERVER := $(BIN)/toxiproxy-server

.PHONY: setup test lint format toxiproxy clean chaos bench-localturso

setup: $(VENV)/.installed toxiproxy

# Re-install only when the dependency list changes, so `make setup` is quick when done.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# The real Shopify toxiproxy, built with the machine's Go; `go install` names it `server`.
toxiproxy: $(TOXIPROXY_SERVER)
$(TOXIPROXY_SERVER):
	mkdir -p $(BIN)
	GOBIN=$(BIN) go install github.com/Shopify/toxiproxy/v2/cmd/server@$(TOXIPROXY_VERSION)
	mv $(BIN)/server $@

test: setup
	$(PY) -m pytest

# Point reads and inserts straight against the local Turso server (HTTP and WebSocket).
bench-localturso: setup
	mkdir -p results
	$(PY) -m benchmarks.localturso_bench --json results/localturso_bench.json

# The fault matrix; SCENARIOS=outage,latency+reset_peer and MODE=hardened|naive|both pick a part.
SCENARIOS ?= all
MODE ?= both
chaos: setup
	$(PY) -m chaos --scenarios '$(SCENARIOS)' --mode $(MODE)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) $(BIN) .pytest_cache .ruff_cache
