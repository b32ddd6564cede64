"""Land the loader's raw tables where another engine reads them: a Parquet lake, or a PostgreSQL schema.

The loader (raw/load.py) lands export days in the DuckDB file's schema `raw`; DuckDB builds from there.
For the other dbt targets this step copies every table of that schema, as the loader left it:

    parquet    LAKE_DIR/<table>/<export date column>=<YYYY-MM-DD>/*.parquet, one folder per export day
               (Hive-style partitions, which Spark, Trino, DuckDB and BI tools read as a column). The Spark
               target reads them as its sources (macros/lake_sources.sql registers them).
    postgres   schema raw of the PostgreSQL database named by POSTGRES_* (profiles.yml), one table per raw
               table, written with COPY.

Each table is replaced whole and atomically: a reader sees the previous copy or the new one, never a mix
(Parquet: written beside the table's folder, then swapped in by rename; PostgreSQL: one transaction). The
copy is a snapshot of raw after a load, so run it after every load (the Dagster job does, for its target).

    python -m raw.lake parquet  --warehouse data/warehouse.duckdb --lake data/lake
    python -m raw.lake postgres --warehouse data/warehouse.duckdb
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

import settings

RAW_SCHEMA = "raw"
# The partition column of the landed tables; the loader's own bookkeeping tables name it without underscore.
PARTITION_COLUMNS = ("_export_date", "export_date")
# DuckDB type -> PostgreSQL type, for every type the loader lands.
POSTGRES_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "DOUBLE": "double precision",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


class LakeError(RuntimeError):
    """The raw tables cannot be landed (no raw schema, an unknown column type, an unreachable server)."""


@dataclass(frozen=True)
class LandedTable:
    name: str
    rows: int
    partitions: int


def _raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [RAW_SCHEMA]
        ).fetchall()
    ]
    if not tables:
        raise LakeError(f"no tables in schema {RAW_SCHEMA}: load export days first (python -m raw.load)")
    return tables


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [
        (name, data_type)
        for name, data_type in con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [RAW_SCHEMA, table],
        ).fetchall()
    ]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _partition_column(columns: list[tuple[str, str]], table: str) -> str:
    names = [name for name, _ in columns]
    for candidate in PARTITION_COLUMNS:
        if candidate in names:
            return candidate
    raise LakeError(f"{RAW_SCHEMA}.{table} has no export date column ({' or '.join(PARTITION_COLUMNS)})")


def _open(warehouse: str | Path) -> duckdb.DuckDBPyConnection:
    path = Path(warehouse)
    if not path.exists():
        raise LakeError(f"warehouse {path} does not exist: load export days first (python -m raw.load)")
    return duckdb.connect(str(path), read_only=True)


def land_parquet(warehouse: str | Path, lake_dir: str | Path) -> list[LandedTable]:
    """Write every raw table as Parquet partitioned by export date under `lake_dir`/<table>/."""
    lake = Path(lake_dir)
    lake.mkdir(parents=True, exist_ok=True)
    landed = []
    with _open(warehouse) as con:
        for table in _raw_tables(con):
            columns = _columns(con, table)
            partition = _partition_column(columns, table)
            final = lake / table
            staging = lake / f".{table}.writing-{uuid.uuid4().hex}"
            con.execute(
                f"copy (select * from {RAW_SCHEMA}.{_quote(table)}) to '{staging}' "
                f"(format parquet, partition_by ({_quote(partition)}), write_partition_columns false)"
            )
            # An empty table writes no partition file (at most an empty folder), but readers need its schema:
            # one empty file holding every column, the export date too (no partition folder will name it).
            if not any(staging.rglob("*.parquet")):
                staging.mkdir(exist_ok=True)
                con.execute(
                    f"copy (select * from {RAW_SCHEMA}.{_quote(table)} limit 0) "
                    f"to '{staging / 'empty.parquet'}' (format parquet)"
                )
            # Swap: the old folder moves aside, the new one takes its name, the old one is removed.
            retired = lake / f".{table}.retired-{uuid.uuid4().hex}"
            if final.exists():
                final.rename(retired)
            staging.rename(final)
            shutil.rmtree(retired, ignore_errors=True)
            rows, partitions = con.execute(
                f"select count(*), count(distinct {_quote(partition)}) from {RAW_SCHEMA}.{_quote(table)}"
            ).fetchone()
            landed.append(LandedTable(table, rows, partitions))
    return landed


def postgres_dsn(dbname: str | None = None) -> dict:
    """Connection settings for PostgreSQL from the same variables as profiles.yml's postgres target."""
    return {
        "host": os.environ.get("POSTGRES_HOST", "localhost"),
        "port": int(os.environ.get("POSTGRES_PORT", "5432")),
        "user": os.environ.get("POSTGRES_USER", "postgres"),
        "password": os.environ.get("POSTGRES_PASSWORD", ""),
        "dbname": dbname or os.environ.get("POSTGRES_DB", "defection_warehouse"),
    }


def ensure_postgres_database(dbname: str | None = None) -> None:
    """Create the database the postgres target names when it does not exist yet.

    Its collation is C: strings sort by their bytes, as in DuckDB and Spark, so every ORDER BY on text (ranks,
    first rows, ordered lists) picks the same row on every engine.
    """
    import psycopg2

    settings = postgres_dsn(dbname)
    name = settings["dbname"]
    con = psycopg2.connect(**{**settings, "dbname": "postgres"})
    try:
        con.autocommit = True
        with con.cursor() as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(
                    f"create database {_quote(name)} template template0 encoding 'UTF8' "
                    "lc_collate 'C' lc_ctype 'C'"
                )
    finally:
        con.close()


def land_postgres(warehouse: str | Path, dbname: str | None = None) -> list[LandedTable]:
    """Copy every raw table into schema raw of PostgreSQL, each table replaced in one transaction."""
    try:
        import psycopg2
    except ImportError as error:  # the [postgres] extra brings it with dbt-postgres
        raise LakeError("psycopg2 is missing: pip install -e '.[postgres]'") from error
    try:
        ensure_postgres_database(dbname)
        pg = psycopg2.connect(**postgres_dsn(dbname))
    except psycopg2.OperationalError as error:
        raise LakeError(f"cannot connect to PostgreSQL ({postgres_dsn(dbname)['host']}): {error}") from error
    landed = []
    try:
        with _open(warehouse) as con, tempfile.TemporaryDirectory(prefix="lake-") as scratch:
            with pg.cursor() as cursor:
                cursor.execute(f"create schema if not exists {RAW_SCHEMA}")
            pg.commit()
            for table in _raw_tables(con):
                columns = _columns(con, table)
                partition = _partition_column(columns, table)
                unknown = [f"{name} {kind}" for name, kind in columns if kind not in POSTGRES_TYPES]
                if unknown:
                    raise LakeError(f"{RAW_SCHEMA}.{table}: no PostgreSQL type for {', '.join(unknown)}")
                csv_path = Path(scratch) / f"{table}.csv"
                # Timestamps with time zone are written in UTC with their offset; PostgreSQL reads them back
                # as the same instants whatever its own time zone.
                con.execute("set timezone = 'UTC'")
                con.execute(
                    f"copy (select * from {RAW_SCHEMA}.{_quote(table)}) to '{csv_path}' "
                    "(format csv, header false)"
                )
                definition = ", ".join(f"{_quote(name)} {POSTGRES_TYPES[kind]}" for name, kind in columns)
                qualified = f"{RAW_SCHEMA}.{_quote(table)}"
                with pg.cursor() as cursor, csv_path.open(encoding="utf-8") as rows:
                    cursor.execute(f"drop table if exists {qualified}")
                    cursor.execute(f"create table {qualified} ({definition})")
                    cursor.copy_expert(f"copy {qualified} from stdin with (format csv, header false)", rows)
                    cursor.execute(f"select count(*), count(distinct {_quote(partition)}) from {qualified}")
                    rows_copied, partitions = cursor.fetchone()
                pg.commit()
                landed.append(LandedTable(table, rows_copied, partitions))
                csv_path.unlink()
    except BaseException:
        pg.rollback()
        raise
    finally:
        pg.close()
    return landed


def drop_postgres_database(dbname: str) -> None:
    """Drop PostgreSQL database `dbname` if it exists, closing its sessions (benchmarks and tests use one
    database per build)."""
    import psycopg2

    con = psycopg2.connect(**postgres_dsn("postgres"))
    try:
        con.autocommit = True
        with con.cursor() as cursor:
            cursor.execute(f"drop database if exists {_quote(dbname)} with (force)")
    finally:
        con.close()


TARGETS = ("dev", "postgres", "spark")
# The `python -m raw.lake` destination that lands the raw tables for a dbt target.
DESTINATION_OF_TARGET = {"postgres": "postgres", "spark": "parquet"}


def target_env(
    target: str,
    *,
    warehouse: str | Path,
    dbname: str | None = None,
    lake_dir: str | Path | None = None,
    spark_dir: str | Path | None = None,
) -> dict[str, str]:
    """The environment variables that point dbt's `target` (profiles.yml) at one build's places: the DuckDB
    file (dev, and the raw tables every target is landed from), the PostgreSQL database, the lake and Spark's
    folder. Unset places keep profiles.yml's defaults."""
    if target not in TARGETS:
        raise LakeError(f"target must be one of {TARGETS}, not {target!r}")
    env = {"DBT_TARGET": target, "WAREHOUSE_PATH": str(warehouse)}
    if target == "postgres" and dbname:
        env["POSTGRES_DB"] = dbname
    if target == "spark":
        env.update({"LAKE_DIR": str(lake_dir or "data/lake"), "SPARK_DIR": str(spark_dir or "data/spark")})
    return env


def land_for_target(target: str, env: dict[str, str]) -> list[LandedTable]:
    """Land the raw tables of env's WAREHOUSE_PATH where `target` reads them (target_env's places): nothing
    for DuckDB, a copy for PostgreSQL, the Parquet lake for Spark."""
    if target not in TARGETS:
        raise LakeError(f"target must be one of {TARGETS}, not {target!r}")
    if DESTINATION_OF_TARGET.get(target) == "postgres":
        return land_postgres(env["WAREHOUSE_PATH"], env.get("POSTGRES_DB"))
    if DESTINATION_OF_TARGET.get(target) == "parquet":
        return land_parquet(env["WAREHOUSE_PATH"], env["LAKE_DIR"])
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m raw.lake", description=__doc__.split("\n\n")[0])
    parser.add_argument("destination", choices=["parquet", "postgres"])
    parser.add_argument(
        "--warehouse",
        default=str(settings.warehouse_path()),
        help="the DuckDB file the loader wrote (default: WAREHOUSE_PATH or data/warehouse.duckdb)",
    )
    parser.add_argument(
        "--lake",
        default=os.environ.get("LAKE_DIR", "data/lake"),
        help="parquet: the lake folder (default: LAKE_DIR or data/lake)",
    )
    args = parser.parse_args(argv)
    try:
        if args.destination == "parquet":
            landed = land_parquet(args.warehouse, args.lake)
            where = str(Path(args.lake).resolve())
        else:
            landed = land_postgres(args.warehouse)
            where = f"PostgreSQL database {postgres_dsn()['dbname']}, schema {RAW_SCHEMA}"
    except LakeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for table in landed:
        print(f"{table.name}: {table.rows} rows, {table.partitions} export days")
    print(f"landed {len(landed)} raw tables in {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
