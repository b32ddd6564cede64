"""Shared fixtures: one small generated company, loaded and built once per test session.

Tests run the real thing (generator, loader, dbt on DuckDB) on small data; nothing here is mocked.
Each stage is a fixture so a test asks only for what it needs:
    small_company -> loaded_warehouse -> built_warehouse
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import SMALL_COMPANY, Company, run_dbt


@pytest.fixture(scope="session")
def small_company(tmp_path_factory) -> Company:
    from raw.generate import generate_company

    root = tmp_path_factory.mktemp("company")
    params = dict(SMALL_COMPANY)
    generate_company(
        out_dir=root / "exports",
        answer_key_dir=root / "answer_key",
        customers=params["customers"],
        days=params["days"],
        seed=params["seed"],
        start_date=params["start_date"],
        progress=False,
    )
    return Company(root / "exports", root / "answer_key", **params)


@pytest.fixture(scope="session")
def loaded_warehouse(small_company, tmp_path_factory) -> Path:
    """A DuckDB file with every export day of the small company landed in schema raw."""
    from raw.load import load_exports

    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    load_exports(path, small_company.exports_dir)
    return path


@pytest.fixture(scope="session")
def built_warehouse(loaded_warehouse, tmp_path_factory) -> Path:
    """The loaded warehouse after a full `dbt build` (models, seeds, tests, unit tests)."""
    path = tmp_path_factory.mktemp("built") / "warehouse.duckdb"
    shutil.copy(loaded_warehouse, path)
    run_dbt(["build"], path, tmp_path_factory.mktemp("dbt"))
    return path
