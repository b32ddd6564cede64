"""The engine the Dagster job builds on: dbt's target (DBT_TARGET, profiles.yml), and the two steps it adds.

On the default target (`dev`, DuckDB) the job loads, builds, gates and publishes in the one DuckDB file. On
`postgres` and `spark` the loader still lands export days in the DuckDB file (schema raw, with its raw GX
gates), and the dbt build step adds:
- before dbt: the raw tables landed where the engine reads them (raw.lake: a copy in PostgreSQL, the Parquet
  lake for Spark), so the build sees exactly what the raw gates passed;
- after each layer's dbt step: the tables the engine built in that layer's schema (staging, intermediate,
  marts) mirrored into the same schema of the DuckDB file (publication_engines.mirror_engine_tables). The
  layer's GX gates then validate, and the publish step publishes, those tables with the code that runs on
  DuckDB.
`spark_cluster` is not run by this job: its lake must be synced to the cluster's storage and its tables
read where the cluster keeps them (docs/scaling_out.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.publication_engines import mirror_engine_tables
from raw.lake import LandedTable, land_for_target, target_env
from settings import REPO_ROOT

JOB_TARGETS = ("dev", "postgres", "spark")


def dbt_target() -> str:
    """The dbt target the job builds on: DBT_TARGET, default dev (DuckDB)."""
    target = os.environ.get("DBT_TARGET", "dev") or "dev"
    if target not in JOB_TARGETS:
        raise ValueError(
            f"DBT_TARGET={target}: the Dagster job runs on {', '.join(JOB_TARGETS)}; on a cluster run "
            "raw.lake, dbt build and the publication as docs/scaling_out.md describes"
        )
    return target


def _place(var: str, default: str) -> Path:
    value = Path(os.environ.get(var, default))
    return value if value.is_absolute() else REPO_ROOT / value


def land_raw(warehouse_file: Path, target: str) -> list[LandedTable]:
    """Land the raw tables of the DuckDB file where `target` reads them (nothing on dev)."""
    env = target_env(
        target,
        warehouse=warehouse_file,
        dbname=os.environ.get("POSTGRES_DB"),
        lake_dir=_place("LAKE_DIR", "data/lake"),
        spark_dir=_place("SPARK_DIR", "data/spark"),
    )
    return land_for_target(target, env)


def mirror_built_tables(
    warehouse_file: Path, target: str, schemas: tuple[str, ...], manifest: Path | None = None
) -> dict[str, int]:
    """Mirror the tables of `schemas` that `target` built into the DuckDB file (nothing on dev); rows per
    schema.table."""
    if target == "dev":
        return {}
    return mirror_engine_tables(
        target,
        warehouse_file,
        schemas,
        dbname=os.environ.get("POSTGRES_DB"),
        spark_dir=_place("SPARK_DIR", "data/spark"),
        manifest=manifest,
    )
