# Self-documenting: `make help` lists every target with the text after `##`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: help setup demo test test-fast dev bench lint format clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-10s %s\n", $$1, $$2}'

# The venv is rebuilt when the Python that built it or pyproject.toml changed: its stamp records the
# interpreter's version and the hash of pyproject.toml (a venv of a wrong Python is never kept).
VENV_STAMP := $(VENV)/.setup-stamp
VENV_INSTALL ?= $(BIN)/pip install --quiet --upgrade pip && $(BIN)/pip install --quiet -e '.[dev]'
PY_VERSION := import sys; print("%d.%d.%d" % sys.version_info[:3])

setup: ## Create .venv and install the project with its dev tools
	@want_py="$$($(PYTHON) -c '$(PY_VERSION)' 2>/dev/null)"; \
	case "$$want_py" in 3.11.*|3.12.*) ;; \
	  *) echo "error: PYTHON=$(PYTHON) is '$${want_py:-not found}'; the project needs Python 3.11 or 3.12 (e.g. make setup PYTHON=python3.11)" >&2; exit 2;; esac; \
	want="python $$want_py pyproject $$(sha256sum pyproject.toml | cut -c1-16)"; \
	have_py="$$($(BIN)/python -c '$(PY_VERSION)' 2>/dev/null)"; \
	have="$$(cat $(VENV_STAMP) 2>/dev/null)"; \
	if [ -z "$$have" ] && [ "$$have_py" = "$$want_py" ] && [ $(BIN)/activate -nt pyproject.toml ]; then \
	  echo "$$want" > $(VENV_STAMP); have="$$want"; fi; \
	if [ "$$have" != "$$want" ] || [ "$$have_py" != "$$want_py" ]; then \
	  echo "setting up $(VENV) with $$want (was: $${have:-none}, venv python $${have_py:-none})"; \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && $(VENV_INSTALL) && echo "$$want" > $(VENV_STAMP); \
	fi
	@mkdir -p $(DAGSTER_HOME)
	@test -f $(DAGSTER_HOME)/dagster.yaml || cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

demo: setup ## Generate a sample company, load, build, check and publish it (python -m demo)
	$(BIN)/python -m demo

# One pytest worker per core (TEST_WORKERS=1 runs in one process); each test file stays on one worker, so
# its module fixtures (a built warehouse, a PostgreSQL database) are built once.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test: setup ## Run every test (pytest; exit code 5 = no tests collected counts as failure)
	$(PYTEST)

test-fast: setup ## Run the tests not marked slow
	$(PYTEST) -m "not slow"

# The venv's bin on PATH: the code location and the run workers `dagster dev` starts find dbt there even when
# the venv is not activated. DEV_ARGS passes options on (e.g. DEV_ARGS="-p 3001").
dev: setup ## Start the Dagster UI (dagster dev) on http://127.0.0.1:3000
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev $(DEV_ARGS)

.PHONY: dashboard
DASHBOARD_PORT ?= 8050
dashboard: setup ## Serve the dashboard of the published answers on http://127.0.0.1:8050 (DASHBOARD_PORT)
	$(BIN)/python -m dashboard --host 127.0.0.1 --port $(DASHBOARD_PORT)

BENCH_SIZES ?= 10000,100000
bench: setup ## Run the benchmarks (BENCH_SIZES=10000,100000,1000000 for the 1M row, about 20 min more)
	$(BIN)/python -m benchmarks.bench --customers $(BENCH_SIZES) --days 730

lint: setup ## ruff check and format check over the whole tree (run by .ci/run)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup ## ruff format the Python packages
	$(BIN)/ruff format .

clean: ## Remove generated data, dbt target and the local Dagster instance
	rm -rf data target logs .dagster_home
