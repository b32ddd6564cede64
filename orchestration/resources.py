"""Resources: where the warehouse, exports, serving folder and GX context live.

Each is configured by `dg.EnvVar` when its environment variable is set, else by the default of
the settings package; relative paths resolve against the repo root, as dbt's profile does (dbt runs there).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

import settings
from orchestration.project import dbt_project
from settings.dbt import dbt_executable


def _resolve(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else settings.REPO_ROOT / path


class WarehouseResource(dg.ConfigurableResource):
    """The writer's DuckDB file. Only this job writes it; readers use the published copy instead."""

    path: str

    @property
    def file(self) -> Path:
        return _resolve(self.path)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the warehouse, closing it afterwards so the next step (or dbt's process) can take the lock."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.file), read_only=read_only, config=settings.duckdb_config())
        try:
            yield con
        finally:
            con.close()


class FoldersResource(dg.ConfigurableResource):
    """Folders the job reads from or writes to besides the warehouse."""

    exports_dir: str
    serving_dir: str
    gx_dir: str

    @property
    def exports(self) -> Path:
        return _resolve(self.exports_dir)

    @property
    def serving(self) -> Path:
        return _resolve(self.serving_dir)

    @property
    def gx(self) -> Path:
        return _resolve(self.gx_dir)


def _env_or_default(var: str, default: Path) -> str | dg.EnvVar:
    # dg.EnvVar is resolved at launch and shown as such in the UI, but fails when unset; fall back to the
    # default so a fresh clone runs with no environment at all.
    return dg.EnvVar(var) if var in os.environ else str(default)


def build_resources() -> dict:
    """The resources of the code location."""
    return {
        "warehouse": WarehouseResource(path=_env_or_default("WAREHOUSE_PATH", settings.warehouse_path())),
        "folders": FoldersResource(
            exports_dir=_env_or_default("EXPORTS_DIR", settings.exports_dir()),
            serving_dir=_env_or_default("SERVING_DIR", settings.serving_dir()),
            gx_dir=_env_or_default("GX_DIR", settings.gx_dir()),
        ),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
