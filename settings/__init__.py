"""Deployment settings from environment variables, each with a working default relative to the repo root.

The base of the packages: raw, expectations, orchestration, dashboard, demo and benchmarks all read their
settings here, and this package imports none of them. Read at call time (not import time) so tests and
`python -m orchestration.run` can point them elsewhere. dbt's profile (profiles.yml) reads the same variables
with the same defaults, DEFAULTS below (tests/test_layers.py keeps the two equal).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Each variable's default, the one place it is written on the Python side (profiles.yml repeats those dbt
# reads: a YAML file cannot import them).
DEFAULTS = {
    "WAREHOUSE_PATH": "data/warehouse.duckdb",
    "DUCKDB_MEMORY_LIMIT": "3GB",
    "EXPORTS_DIR": "data/exports",
    "SERVING_DIR": "data/serving",
    "ALERTS_PATH": "data/alerts.log",
    "GX_DIR": "data/gx",
}

# What a scheduled build adds to `dbt build` (the benchmark measures the same command). Unit tests stay in
# development and CI (`make test`): their inputs are fixed rows, so rerunning them on every scheduled build
# checks nothing new, and dbt recommends excluding them in production.
PRODUCTION_BUILD_FLAGS = ("--exclude-resource-type", "unit_test")

# dbt var data_tests_scope (dbt_project.yml): `all` runs every data test on whole tables; `latest_run` runs
# the tests that opt in (incremental models, where it gives the whole-table result after a passing build)
# only on the rows the run wrote: macros/get_where_subquery.sql.
DATA_TESTS_SCOPES = ("all", "latest_run")


def build_flags(data_tests_scope: str = "all") -> tuple[str, ...]:
    """What a scheduled build adds to `dbt build`, testing `data_tests_scope` (one of DATA_TESTS_SCOPES).

    `all` is PRODUCTION_BUILD_FLAGS alone: dbt's default scope, the build the project always ran. `latest_run`
    is the scheduled daily build's (orchestration/dbt_assets.py); its --vars differ from those the manifest
    was parsed with, so a run in a new target folder parses the project in full first (seconds, against
    tests that scan whole tables). Dagster's daily builds share one folder, which avoids it
    (dbt_assets.target_path).
    """
    return (*PRODUCTION_BUILD_FLAGS, *scope_vars(data_tests_scope))


def scope_vars(data_tests_scope: str) -> tuple[str, ...]:
    """The dbt --vars of a build testing `data_tests_scope`: none for `all` (the var's default), else
    --vars '{"data_tests_scope": ...}'. Also what a `dbt parse` needs to prepare that build's parse."""
    if data_tests_scope not in DATA_TESTS_SCOPES:
        raise ValueError(f"data_tests_scope must be one of {DATA_TESTS_SCOPES}, not {data_tests_scope!r}")
    if data_tests_scope == "all":
        return ()
    return ("--vars", json.dumps({"data_tests_scope": data_tests_scope}))


def _path(var: str) -> Path:
    value = Path(os.environ.get(var, DEFAULTS[var]))
    return value if value.is_absolute() else REPO_ROOT / value


def duckdb_config() -> dict[str, str]:
    """DuckDB settings for the job's own connections, matching dbt's profile (profiles.yml): a memory bound
    (DUCKDB_MEMORY_LIMIT, default 3GB) so that big sorts and joins spill to disk instead of growing the
    process past a laptop's budget."""
    return {"memory_limit": os.environ.get("DUCKDB_MEMORY_LIMIT", DEFAULTS["DUCKDB_MEMORY_LIMIT"])}


def warehouse_path() -> Path:
    """The writer's DuckDB file (WAREHOUSE_PATH, default data/warehouse.duckdb); dbt reads it too."""
    return _path("WAREHOUSE_PATH")


def exports_dir() -> Path:
    """Folder of YYYY-MM-DD export day folders (EXPORTS_DIR, default data/exports)."""
    return _path("EXPORTS_DIR")


def serving_dir() -> Path:
    """Where readers find the published marts (SERVING_DIR, default data/serving)."""
    return _path("SERVING_DIR")


def alerts_path() -> Path:
    """File the run-failure sensor appends alerts to (ALERTS_PATH, default data/alerts.log)."""
    return _path("ALERTS_PATH")


def gx_dir() -> Path:
    """GX file context holding validation results and data docs (GX_DIR, default data/gx; ignored by git)."""
    return _path("GX_DIR")


def default_exports_dir() -> Path:
    """The exports folder when EXPORTS_DIR is unset: the one `make demo` may fill with a sample company."""
    return REPO_ROOT / DEFAULTS["EXPORTS_DIR"]
