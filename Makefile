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

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(BIN)/activate

setup: $(BIN)/activate ## Create .venv and install the project with its dev tools
	@mkdir -p $(DAGSTER_HOME)
	@test -f $(DAGSTER_HOME)/dagster.yaml || cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

demo: setup ## Generate a sample company, load, build, check and publish it (python -m orchestration.run)
	$(BIN)/python -m orchestration.run

test: setup ## Run every test (pytest; exit code 5 = no tests collected counts as failure)
	$(BIN)/pytest

test-fast: setup ## Run the tests not marked slow
	$(BIN)/pytest -m "not slow"

dev: setup ## Start the Dagster UI (dagster dev) on http://127.0.0.1:3000
	$(BIN)/dagster dev

.PHONY: dashboard
DASHBOARD_PORT ?= 8050
dashboard: setup ## Serve the dashboard of the published answers on http://127.0.0.1:8050 (DASHBOARD_PORT)
	$(BIN)/python -m dashboard --host 127.0.0.1 --port $(DASHBOARD_PORT)

BENCH_SIZES ?= 10000,100000
bench: setup ## Run the benchmarks (BENCH_SIZES=10000,100000,1000000 for the 1M row, about 20 min more)
	$(BIN)/python -m benchmarks.bench --customers $(BENCH_SIZES) --days 730

lint: setup ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check orchestration expectations tests/orchestration tests/expectations

format: setup ## ruff format the Python packages
	$(BIN)/ruff format orchestration expectations tests/orchestration tests/expectations

clean: ## Remove generated data, dbt target and the local Dagster instance
	rm -rf data target logs .dagster_home
