"""Helpers for the engine tests: reach PostgreSQL and Spark, build there, and bring tables back to DuckDB.

A plain module (not conftest.py), imported by the test files of this folder. The places and landing per dbt
target are raw.lake's (target_env, land_for_target), the reading of PostgreSQL and Spark tables into DuckDB
orchestration.publication_engines's, the code the benchmark and the publication run. Every comparison runs
in DuckDB: PostgreSQL tables are copied over as CSV (COPY ... TO STDOUT) and read with the DuckDB table's
own column types; Spark tables are read from the Parquet files Spark wrote, the way a BI tool reads them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest
from support import REPO_ROOT

from orchestration.publication_engines import (
    DUCKDB_TYPE_OF_POSTGRES,
    copy_postgres_table,
    postgres_connection,
    postgres_tables,
    spark_table_files,  # noqa: F401 (re-exported for the test files)
)
from raw.lake import drop_postgres_database, land_for_target, target_env  # noqa: F401

IN_CI = os.environ.get("CI", "").lower() == "true"
COMPARED_SCHEMAS = ("staging", "intermediate", "marts")
# The local server .ci/run sets up; profiles.yml, raw.lake and the publication read the same variable.
os.environ.setdefault("POSTGRES_PASSWORD", "postgres")


def unavailable(reason: str) -> None:
    """In CI an engine that could not be set up fails the test (.ci/run installs them); elsewhere it skips."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: .ci/run installs Java 17 and PostgreSQL)")
    pytest.skip(reason)


def postgres_env(dbname: str, warehouse: Path) -> dict[str, str]:
    """The environment for dbt's postgres target and raw.lake, on database `dbname`."""
    return {**target_env("postgres", warehouse=warehouse, dbname=dbname), "DBT_THREADS": _threads()}


def _threads() -> str:
    return os.environ.get("DBT_THREADS", "4")


def require_postgres() -> None:
    try:
        import psycopg2
    except ImportError:
        unavailable("psycopg2 is not installed (pip install -e '.[postgres]')")
    from raw.lake import postgres_dsn

    settings = postgres_dsn("postgres")
    try:
        psycopg2.connect(**settings, connect_timeout=5).close()
    except psycopg2.OperationalError as error:
        unavailable(f"PostgreSQL is not reachable at {settings['host']}:{settings['port']}: {error}")


def land_postgres(warehouse: Path, dbname: str) -> None:
    """raw.lake's copy of the raw tables into `dbname`."""
    land_for_target("postgres", postgres_env(dbname, warehouse))


def spark_env(spark_dir: Path, lake_dir: Path, warehouse: Path) -> dict[str, str]:
    env = target_env("spark", warehouse=warehouse, lake_dir=lake_dir, spark_dir=spark_dir)
    return {**env, "DBT_THREADS": _threads()}


def require_spark() -> None:
    if importlib.util.find_spec("pyspark") is None:
        unavailable("pyspark is not installed (pip install -e '.[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("no Java runtime for Spark (apt-get install openjdk-17-jre-headless)")


def data_columns(
    con: duckdb.DuckDBPyConnection, catalog: str, schema: str
) -> dict[str, list[tuple[str, str]]]:
    """Per table of `catalog`.`schema` in DuckDB: its compared columns and their types, in table order.

    Left out: load bookkeeping (names starting with '_') and fingerprints (names ending in '_fingerprint'),
    hashes each engine computes with its own function for change detection.
    """
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? order by table_name, ordinal_position",
        [catalog, schema],
    ).fetchall():
        if not column.startswith("_") and not column.endswith("_fingerprint"):
            columns.setdefault(table, []).append((column, data_type))
    return columns


# For comparisons numeric is read as text: compared exactly, digit for digit.
COMPARED_TYPE_OF_POSTGRES = {**DUCKDB_TYPE_OF_POSTGRES, "numeric": "VARCHAR"}


def postgres_columns(dbname: str, schema: str) -> dict[str, list[tuple[str, str]]]:
    """Per table of PostgreSQL's `schema`: its data columns ('_' prefix left out) and their DuckDB types."""
    pg = postgres_connection(dbname)
    try:
        with pg.cursor() as cursor:
            tables = postgres_tables(cursor, schema)
    finally:
        pg.close()
    return {
        table: [(name, COMPARED_TYPE_OF_POSTGRES[kind]) for name, kind in columns if not name.startswith("_")]
        for table, columns in tables.items()
    }


def copy_from_postgres(
    con: duckdb.DuckDBPyConnection,
    dbname: str,
    schema: str,
    table: str,
    columns: list[tuple[str, str]],
    into: str,
) -> None:
    """Create DuckDB table `into` from PostgreSQL's schema.table, typed as `columns` (name, DuckDB type)."""
    pg = postgres_connection(dbname)
    try:
        with pg.cursor() as cursor, tempfile.TemporaryDirectory(prefix="pg-export-") as scratch:
            cursor.execute("set time zone 'UTC'")
            copy_postgres_table(cursor, con, f'"{schema}"."{table}"', columns, into, Path(scratch))
    finally:
        pg.close()


def count_differences(con: duckdb.DuckDBPyConnection, left_sql: str, right_sql: str) -> tuple[int, int]:
    """Rows only in the left query and rows only in the right one, duplicates counted (EXCEPT ALL)."""
    only_left = con.sql(f"select count(*) from ({left_sql} except all {right_sql})").fetchone()[0]
    only_right = con.sql(f"select count(*) from ({right_sql} except all {left_sql})").fetchone()[0]
    return only_left, only_right


def load_incremental_helpers():
    """tests/warehouse/test_incremental.py as a module, for its re-delivery helpers (not its tests)."""
    path = REPO_ROOT / "tests" / "warehouse" / "test_incremental.py"
    spec = importlib.util.spec_from_file_location("incremental_helpers", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
