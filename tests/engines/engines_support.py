"""Helpers for the engine tests: reach PostgreSQL and Spark, build there, and bring tables back to DuckDB.

A plain module (not conftest.py), imported by the test files of this folder. Every comparison runs in
DuckDB: PostgreSQL tables are copied over as CSV (COPY ... TO STDOUT) and read with the DuckDB table's own
column types; Spark tables are read from the Parquet files Spark wrote, the way a BI tool reads them.
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

IN_CI = os.environ.get("CI", "").lower() == "true"
COMPARED_SCHEMAS = ("staging", "intermediate", "marts")


def unavailable(reason: str) -> None:
    """In CI an engine that could not be set up fails the test (.ci/run installs them); elsewhere it skips."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: .ci/run installs Java 17 and PostgreSQL)")
    pytest.skip(reason)


def postgres_env(dbname: str) -> dict[str, str]:
    """The environment for dbt's postgres target and raw.lake, on database `dbname`."""
    return {
        "DBT_TARGET": "postgres",
        "POSTGRES_DB": dbname,
        "POSTGRES_PASSWORD": os.environ.get("POSTGRES_PASSWORD", "postgres"),
        "DBT_THREADS": os.environ.get("DBT_THREADS", "4"),
    }


def require_postgres() -> None:
    try:
        import psycopg2
    except ImportError:
        unavailable("psycopg2 is not installed (pip install -e '.[postgres]')")
    from raw.lake import postgres_dsn

    settings = {**postgres_dsn("postgres"), "password": postgres_env("postgres")["POSTGRES_PASSWORD"]}
    try:
        psycopg2.connect(**settings, connect_timeout=5).close()
    except psycopg2.OperationalError as error:
        unavailable(f"PostgreSQL is not reachable at {settings['host']}:{settings['port']}: {error}")


def drop_postgres_database(dbname: str) -> None:
    import psycopg2

    from raw.lake import postgres_dsn

    env = postgres_env(dbname)
    con = psycopg2.connect(**{**postgres_dsn("postgres"), "password": env["POSTGRES_PASSWORD"]})
    try:
        con.autocommit = True
        with con.cursor() as cursor:
            cursor.execute(f'drop database if exists "{dbname}" with (force)')
    finally:
        con.close()


def land_postgres(warehouse: Path, dbname: str) -> None:
    """raw.lake's copy of the raw tables into `dbname`, with the tests' connection settings."""
    from raw.lake import land_postgres as land

    saved = {key: os.environ.get(key) for key in ("POSTGRES_PASSWORD",)}
    os.environ["POSTGRES_PASSWORD"] = postgres_env(dbname)["POSTGRES_PASSWORD"]
    try:
        land(warehouse, dbname)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def spark_env(spark_dir: Path, lake_dir: Path) -> dict[str, str]:
    return {
        "DBT_TARGET": "spark",
        "SPARK_DIR": str(spark_dir),
        "LAKE_DIR": str(lake_dir),
        "DBT_THREADS": os.environ.get("DBT_THREADS", "4"),
    }


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


# PostgreSQL type -> the DuckDB type its CSV text is read as (numeric as text: compared exactly).
DUCKDB_TYPE_OF_POSTGRES = {
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    "numeric": "VARCHAR",
}


def postgres_columns(dbname: str, schema: str) -> dict[str, list[tuple[str, str]]]:
    """Per table of PostgreSQL's `schema`: its data columns ('_' prefix left out) and their DuckDB types."""
    import psycopg2

    from raw.lake import postgres_dsn

    env = postgres_env(dbname)
    pg = psycopg2.connect(**{**postgres_dsn(dbname), "password": env["POSTGRES_PASSWORD"]})
    try:
        with pg.cursor() as cursor:
            cursor.execute(
                "select c.table_name, c.column_name, c.data_type from information_schema.columns c "
                "join information_schema.tables t using (table_schema, table_name) "
                "where c.table_schema = %s and t.table_type = 'BASE TABLE' "
                "order by c.table_name, c.ordinal_position",
                [schema],
            )
            rows = cursor.fetchall()
    finally:
        pg.close()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        if not column.startswith("_"):
            columns.setdefault(table, []).append((column, DUCKDB_TYPE_OF_POSTGRES[data_type]))
    return columns


def copy_from_postgres(
    con: duckdb.DuckDBPyConnection,
    dbname: str,
    schema: str,
    table: str,
    columns: list[tuple[str, str]],
    into: str,
) -> None:
    """Create DuckDB table `into` from PostgreSQL's schema.table, typed as `columns` (name, DuckDB type)."""
    import psycopg2

    from raw.lake import postgres_dsn

    env = postgres_env(dbname)
    names = ", ".join(f'"{name}"' for name, _ in columns)
    with tempfile.TemporaryDirectory(prefix="pg-export-") as scratch:
        path = Path(scratch) / f"{table}.csv"
        pg = psycopg2.connect(**{**postgres_dsn(dbname), "password": env["POSTGRES_PASSWORD"]})
        try:
            with pg.cursor() as cursor, path.open("w", encoding="utf-8") as out:
                cursor.execute("set time zone 'UTC'")
                cursor.copy_expert(
                    f'copy (select {names} from "{schema}"."{table}") to stdout with (format csv, header)',
                    out,
                )
        finally:
            pg.close()
        types = ", ".join(f"'{name}': '{data_type}'" for name, data_type in columns)
        # PostgreSQL writes NULL as an empty field and an empty string as "": only the first is a null.
        con.execute(
            f"create or replace table {into} as select * from read_csv('{path}', header = true, "
            f"columns = {{{types}}}, allow_quoted_nulls = false, auto_detect = false)"
        )


def spark_table_files(spark_dir: Path, schema: str, table: str) -> str:
    """The Parquet files of a Spark table (the session target's warehouse folder), as a DuckDB glob."""
    folder = spark_dir / "warehouse" / f"{schema}.db" / table
    if not folder.is_dir():
        raise AssertionError(f"Spark wrote no table {schema}.{table} ({folder})")
    return str(folder / "*.parquet")


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
