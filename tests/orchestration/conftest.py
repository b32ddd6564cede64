"""Point every orchestration setting at a temporary folder BEFORE orchestration is imported.

Resources read their paths through dg.EnvVar at run time, so a test may still monkeypatch these per test;
setting them here guarantees that nothing ever lands in the repo's data/ or target/ folders.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_BASE = Path(tempfile.mkdtemp(prefix="orchestration-tests-"))
# Removed when the test process exits (each pytest worker has its own): its warehouses take 100-200 MB.
atexit.register(shutil.rmtree, _BASE, ignore_errors=True)
for _var, _path in {
    "DBT_TARGET_PATH": _BASE / "dbt_target",
    "WAREHOUSE_PATH": _BASE / "warehouse.duckdb",
    "EXPORTS_DIR": _BASE / "exports",
    "SERVING_DIR": _BASE / "serving",
    "ALERTS_PATH": _BASE / "alerts.log",
    "GX_DIR": _BASE / "gx",
    "DAGSTER_HOME": _BASE / "dagster_home",
}.items():
    os.environ[_var] = str(_path)
Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def layout(tmp_path, monkeypatch):
    """Fresh warehouse/exports/serving/alerts/gx paths for one test, exported as the env vars."""
    paths = {
        "WAREHOUSE_PATH": tmp_path / "warehouse.duckdb",
        "EXPORTS_DIR": tmp_path / "exports",
        "SERVING_DIR": tmp_path / "serving",
        "ALERTS_PATH": tmp_path / "alerts.log",
        "GX_DIR": tmp_path / "gx",
    }
    for var, path in paths.items():
        monkeypatch.setenv(var, str(path))
    return paths
