"""Shared fixtures: one small generated company, loaded and built once per test session.

Tests run the real thing (generator, loader, dbt on DuckDB) on small data; nothing here is mocked.
Each stage is a fixture so a test asks only for what it needs:
    small_company -> loaded_warehouse -> built_warehouse
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Small enough for CI, large enough that every kind of event and untidiness occurs.
SMALL_COMPANY = {"customers": 1500, "days": 240, "seed": 7, "start_date": date(2024, 1, 1)}


@dataclass(frozen=True)
class Company:
    exports_dir: Path
    answer_key_dir: Path
    customers: int
    days: int
    seed: int
    start_date: date


def dbt_executable() -> str:
    """The dbt next to the running interpreter (the project's venv), else the one on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


def run_dbt(args: list[str], warehouse_path: Path, work_dir: Path, extra_env: dict | None = None):
    """Run dbt from the repo root against `warehouse_path`, with its own target/log folders.

    Separate target and log paths let several test sessions (or a developer's own `dbt build`) run at once.
    Raises CalledProcessError with dbt's output when dbt fails.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "WAREHOUSE_PATH": str(warehouse_path), **(extra_env or {})}
    cmd = [
        dbt_executable(),
        *args,
        "--project-dir", str(REPO_ROOT),
        "--profiles-dir", str(REPO_ROOT),
        "--target-path", str(work_dir / "target"),
        "--log-path", str(work_dir / "logs"),
    ]
    result = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, cmd, result.stdout, result.stderr)
    return result


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
