# Entry points for people and CI. Everything installs into project-local dirs
# (.venv, bin/) so a fresh clone needs nothing but Python and Go.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/bin
TOXIPROXY_VERSION ?= v2.12.0
TOXIPROXY_SERVER := $(BIN)/toxiproxy-server
ACTIONLINT_VERSION ?= v1.7.12
ACTIONLINT := $(BIN)/actionlint

.PHONY: setup test lint format toxiproxy actionlint certs browser redis compose-cli clean chaos bench bench-localturso bench-app bench-app-profiles bench-micro bench-replica bench-write-lock gate gate-resilience-candidates baseline bench-quality locust-ui docs docs-serve

setup: $(VENV)/.installed toxiproxy actionlint certs browser redis compose-cli

# Re-install only when the dependency list changes, so `make setup` is quick when done.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# The real Shopify toxiproxy, built with the machine's Go; `go install` names it `server`.
# Skipped when already built, when one is on PATH, or when TOXIPROXY_URL names a running one.
toxiproxy:
	@if [ -x $(TOXIPROXY_SERVER) ]; then :; \
	elif [ -n "$$TOXIPROXY_URL" ]; then echo "toxiproxy: using $$TOXIPROXY_URL"; \
	elif command -v toxiproxy-server >/dev/null; then echo "toxiproxy: using $$(command -v toxiproxy-server)"; \
	else \
		echo "toxiproxy: building $(TOXIPROXY_VERSION) into $(BIN)"; \
		mkdir -p $(BIN) && \
		GOBIN=$(BIN) go install github.com/Shopify/toxiproxy/v2/cmd/server@$(TOXIPROXY_VERSION) && \
		mv $(BIN)/server $(TOXIPROXY_SERVER); \
	fi

# actionlint checks .github/workflows (`make lint`, tests/test_workflows.py), built with the
# machine's Go like toxiproxy; a failed build only skips those checks.
actionlint: $(ACTIONLINT)
$(ACTIONLINT):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION) \
		|| echo "actionlint: could not build it; workflow checks will be skipped"

# A self-signed certificate for 127.0.0.1, so the local Turso server speaks TLS as Turso does.
CERTS := $(CURDIR)/.certs
certs: $(CERTS)/localturso.pem
$(CERTS)/localturso.pem:
	mkdir -p $(CERTS)
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localturso" \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout $(CERTS)/localturso-key.pem -out $@ 2>/dev/null

# Debian's Chromium for the browser test (Playwright drives it; no browser downloads).
CHROMIUM := /usr/bin/chromium
browser: $(CHROMIUM)
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "browser: could not install chromium; the browser test will be skipped"; \
	else echo "browser: $(CHROMIUM) missing; 'sudo apt-get install chromium' enables the browser test"; fi

# Debian's redis-server: the shared read cache when the app runs several workers.
REDIS_SERVER := /usr/bin/redis-server
redis: $(REDIS_SERVER)
$(REDIS_SERVER):
	@if [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) \
		|| echo "redis: could not install redis-server; runs with several app workers need it"; \
	else echo "redis: $(REDIS_SERVER) missing; 'sudo apt-get install redis-server' enables the shared cache"; fi

# Debian's docker-compose, so tests/test_compose.py can check compose.yaml against the Compose
# schema; skipped when Docker's own `docker compose` plugin is there.
COMPOSE_CLI := /usr/bin/docker-compose
compose-cli:
	@if [ -x $(COMPOSE_CLI) ] || docker compose version >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null) \
		|| echo "compose-cli: could not install docker-compose; its check will be skipped"; \
	else echo "compose-cli: 'sudo apt-get install docker-compose' enables the compose.yaml schema check"; fi

test: setup
	$(PY) -m pytest

# Point reads and inserts straight against the local Turso server (HTTP and WebSocket).
bench-localturso: setup
	mkdir -p results
	$(PY) -m microbench.localturso_bench --json results/localturso_bench.json

# The reference app, hardened vs naive and batched vs unbatched, straight over loopback.
bench-app: setup
	mkdir -p results
	$(PY) -m microbench.app_bench --json results/app_bench.json

# The reference app with Toxiproxy latency on the app -> database link (edge, cross-region):
# batched / unbatched writes, hardened / naive reads, light-load p50 against the round trip.
bench-app-profiles: setup
	mkdir -p results
	$(PY) -m microbench.app_profiles --json results/app_profiles.json

# pytest-benchmark on hot paths: the app's (in-process, fake database), Hrana decode/encode,
# the write batcher, the chaos checker and HDR merging; timed in CPU time so a busy machine
# disturbs them less; each run saved under .benchmarks/ and compared with the previous one.
# Outside tests/, so `make test` never runs them.
bench-micro: setup
	$(PY) -m pytest microbench/micro -q -p no:cacheprovider --benchmark-timer time.process_time \
		--benchmark-columns min,median,rounds --benchmark-sort name \
		--benchmark-autosave --benchmark-compare

# Embedded-replica reads against remote reads from the real sqld (SQLD_BIN), per network profile.
bench-replica: setup
	mkdir -p results
	$(PY) -m microbench.replica_bench --json results/replica_bench.json

# Writers against a write lock held by another client, on the local server and sqld (SQLD_BIN).
bench-write-lock: setup
	mkdir -p results
	$(PY) -m microbench.write_lock_bench --json results/write_lock_bench.json

# How the app reaches the database for chaos, bench, gate and locust-ui: ws (WebSocket, what a
# Turso libsql:// URL opens; wss with TLS) or http; chaos also takes both.
TRANSPORT ?= ws

# The fault matrix; SCENARIOS=outage,latency+reset_peer and MODE=hardened|naive|both pick a part.
SCENARIOS ?= all
MODE ?= both
chaos: setup
	$(PY) -m chaos --scenarios '$(SCENARIOS)' --mode $(MODE) --transport '$(TRANSPORT)'

# Benchmark: WORKLOAD, PROFILE (local|edge|cross-region), USERS, SPAWN_RATE, DURATION, SHAPE,
# MODE (hardened|naive), COMPARE (the other mode, run in the same invocation), WORKERS, TRANSPORT.
WORKLOAD ?= mixed
PROFILE ?= edge
USERS ?= 20
SPAWN_RATE ?= 10
DURATION ?= 30s
SHAPE ?= constant
COMPARE ?=
WORKERS ?= 0
# MODE's file default belongs to `chaos` (both); bench takes MODE only when the user set it.
BENCH_MODE = $(if $(filter command line environment,$(origin MODE)),$(MODE),hardened)
bench: setup
	$(PY) -m stackbench --workload $(WORKLOAD) --profile $(PROFILE) --users $(USERS) \
		--spawn-rate $(SPAWN_RATE) --duration $(DURATION) --shape $(SHAPE) \
		--mode $(BENCH_MODE) --compare '$(COMPARE)' --workers $(WORKERS) --transport '$(TRANSPORT)'

# Locust's web UI on 127.0.0.1:$(WEB_PORT) with the chaos panel (/chaos), on the stack `make bench`
# starts; WORKLOAD, SHAPE, PROFILE, USERS, SPAWN_RATE, MODE, WORKERS and TRANSPORT as for bench.
# Ctrl-C or SIGTERM stops all.
WEB_PORT ?= 8089
locust-ui: setup
	$(PY) -m stackbench.ui --workload $(WORKLOAD) --profile $(PROFILE) --users $(USERS) \
		--spawn-rate $(SPAWN_RATE) --shape $(SHAPE) --mode $(BENCH_MODE) --web-port $(WEB_PORT) \
		--workers $(WORKERS) --transport '$(TRANSPORT)'

# The A/B latency and error gate: the working tree against BASE (a commit; default the merge
# base with main), both run here, trials interleaved. BASE=file: against results/baseline.json,
# which `baseline` writes. TRIALS per side, each CYCLES rounds through every route (blocks
# sized from a warm-up; CYCLES at most 12); both sides over TRANSPORT.
# STAGES: latency, resilience (the same seeded faults on both database links), or both.
BASE ?=
TRIALS ?= 8
CYCLES ?= 2
STAGES ?= latency,resilience
gate: setup
	$(PY) -m stackbench.gate --base '$(BASE)' --trials $(TRIALS) --cycles $(CYCLES) \
		--transport '$(TRANSPORT)' --stages '$(STAGES)'

# The resilience stage against code that breaks one guarantee each (throwaway commits):
# RUNS gates per case, how often each verdict row failed (docs/measurements/gate.md).
gate-resilience-candidates: setup
	$(PY) -m tests.stackbench.resilience_candidates $(or $(CANDIDATE_RUNS),3)

baseline: setup
	$(PY) -m stackbench.gate --write-baseline --trials $(TRIALS) --cycles $(CYCLES) \
		--transport '$(TRANSPORT)'

# How good the gate is: detection of +20% p95 on each route (rotating) and of +25% CPU on
# POST /posts, false alarms, and each route's minimum detectable effect; idle and with a busy
# loop on one core. RUNS whole latency-stage gate runs per cell, three cells (each run
# ~3-4 min, so the defaults take hours).
RUNS ?= 20
CONDITIONS ?= idle,noisy
bench-quality: setup
	$(PY) -m stackbench.gate_quality --runs $(RUNS) --trials $(TRIALS) --cycles $(CYCLES) \
		--conditions $(CONDITIONS)

# The documentation site (MkDocs with Material) into site/, every warning an error; docs-serve
# rebuilds it as you edit, on 127.0.0.1:8000. Only the Python packages are needed, not Go.
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

docs-serve: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve --strict --dev-addr 127.0.0.1:8000

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	@if [ -x $(ACTIONLINT) ]; then $(ACTIONLINT) && echo "actionlint: workflows ok"; \
	else echo "actionlint: not built; workflows not checked"; fi

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) $(BIN) $(CERTS) site .pytest_cache .ruff_cache .import_linter_cache
