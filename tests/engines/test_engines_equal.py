"""The same dbt project on DuckDB, PostgreSQL and Spark gives the same tables, row for row.

A tiny company (Spark's cost is per query, not per row) is generated and loaded once into DuckDB; raw.lake
copies its raw tables into PostgreSQL and writes them as the Parquet lake Spark reads. Each engine builds the
seeds and models from scratch; DuckDB's tables are the reference. Every table of staging, intermediate and
marts is compared by EXCEPT ALL both ways: 0 rows may differ. Left out of the comparison are the load
bookkeeping columns ('_' prefix) and the fingerprints, hashes each engine computes with its own function.

PostgreSQL also runs the data tests and unit tests (dbt build); Spark builds seeds and models only: its
fixed cost per query is seconds, and the data tests repeat checks DuckDB's build already runs. In CI (CI=true)
an engine that cannot be reached fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
from engines_support import (
    COMPARED_SCHEMAS,
    copy_from_postgres,
    count_differences,
    data_columns,
    drop_postgres_database,
    land_postgres,
    postgres_env,
    require_postgres,
    require_spark,
    spark_env,
    spark_table_files,
)
from support import run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.engines]

# Every kind of event occurs at this size; Spark's build time hardly depends on it.
TINY_COMPANY = {"customers": 300, "days": 150, "seed": 11, "start_date": date(2024, 1, 1)}
SEEDS_AND_MODELS = ["build", "--resource-type", "seed", "--resource-type", "model"]


@dataclass(frozen=True)
class Reference:
    loaded: Path  # raw tables only
    built: Path  # DuckDB after the build
    root: Path


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Reference:
    from raw.generate import generate_company
    from raw.load import load_exports

    root = tmp_path_factory.mktemp("engines")
    generate_company(
        out_dir=root / "exports", answer_key_dir=root / "answer_key", progress=False, **TINY_COMPANY
    )
    loaded = root / "loaded.duckdb"
    load_exports(loaded, root / "exports")
    built = root / "duckdb.duckdb"
    shutil.copy(loaded, built)
    run_dbt(SEEDS_AND_MODELS, built, root / "dbt_duckdb")
    return Reference(loaded, built, root)


def _compare(reference: Reference, attach_other) -> dict[str, dict[str, tuple[int, int, int]]]:
    """Per schema, per table: (rows, only in DuckDB, only in the other engine)."""
    results: dict[str, dict[str, tuple[int, int, int]]] = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{reference.built}' as ref (read_only)")
        for schema in COMPARED_SCHEMAS:
            results[schema] = {}
            for table, columns in data_columns(con, "ref", schema).items():
                other_sql = attach_other(con, schema, table, columns)
                names = ", ".join(f'"{name}"' for name, _ in columns)
                mine = f"select {names} from ref.{schema}.{table}"
                rows = con.sql(f"select count(*) from ref.{schema}.{table}").fetchone()[0]
                results[schema][table] = (rows, *count_differences(con, mine, other_sql))
    return results


def _report(engine: str, results: dict, seconds: float) -> None:
    compared = sum(len(tables) for tables in results.values())
    rows = sum(r[0] for tables in results.values() for r in tables.values())
    print(f"\n{engine}: built in {seconds:.0f} s; {compared} tables, {rows} DuckDB rows compared")
    for schema, tables in results.items():
        for table, (n, only_duckdb, only_other) in tables.items():
            if only_duckdb or only_other:
                print(f"  {schema}.{table}: rows={n} only_duckdb={only_duckdb} only_{engine}={only_other}")


def _assert_equal(results: dict) -> None:
    marts = results["marts"]
    assert {"dim_customers", "fct_journey_events", "fct_defections"} <= set(marts), sorted(marts)
    # A comparison of empty tables proves nothing: the tiny company must fill every mart.
    assert all(rows > 0 for rows, _, _ in marts.values()), {t: r[0] for t, r in marts.items()}
    differing = {
        f"{schema}.{table}": (only_duckdb, only_other)
        for schema, tables in results.items()
        for table, (_, only_duckdb, only_other) in tables.items()
        if only_duckdb or only_other
    }
    assert differing == {}


def test_postgres_builds_the_same_tables_as_duckdb(reference, tmp_path):
    require_postgres()
    dbname = f"dw_engines_{os.getpid()}"
    drop_postgres_database(dbname)
    try:
        land_postgres(reference.loaded, dbname)
        started = time.perf_counter()
        # The whole build: data tests and unit tests included, so each compiles and passes on PostgreSQL.
        run_dbt(["build"], reference.loaded, tmp_path / "dbt", extra_env=postgres_env(dbname))
        seconds = time.perf_counter() - started

        def attach(con, schema, table, columns):
            copy_from_postgres(con, dbname, schema, table, columns, f"{schema}__{table}")
            return f"select * from {schema}__{table}"

        results = _compare(reference, attach)
    finally:
        drop_postgres_database(dbname)
    _report("postgres", results, seconds)
    _assert_equal(results)


def test_spark_builds_the_same_tables_as_duckdb(reference, tmp_path):
    require_spark()
    from raw.lake import land_parquet

    lake, spark_dir = tmp_path / "lake", tmp_path / "spark"
    land_parquet(reference.loaded, lake)
    started = time.perf_counter()
    run_dbt(SEEDS_AND_MODELS, reference.loaded, tmp_path / "dbt", extra_env=spark_env(spark_dir, lake))
    seconds = time.perf_counter() - started

    def attach(con, schema, table, columns):
        # Read as a BI tool would, then typed as DuckDB's table for the comparison.
        files = spark_table_files(spark_dir, schema, table)
        casts = ", ".join(f'cast("{name}" as {data_type}) as "{name}"' for name, data_type in columns)
        return f"select {casts} from read_parquet('{files}')"

    results = _compare(reference, attach)
    _report("spark", results, seconds)
    _assert_equal(results)
