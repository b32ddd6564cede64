"""The same dbt project on DuckDB, PostgreSQL and Spark gives the same tables, row for row.

A tiny company (Spark's cost is per query, not per row) is generated and loaded once into DuckDB; raw.lake
copies its raw tables into PostgreSQL and writes them as the Parquet lake Spark reads. Each engine builds the
seeds and models from scratch; DuckDB's tables are the reference. Every table of staging, intermediate and
marts is compared by EXCEPT ALL both ways: 0 rows may differ. Left out of the comparison are the load
bookkeeping columns ('_' prefix) and the fingerprints, hashes each engine computes with its own function.

On PostgreSQL the build is the main job (`python -m orchestration.run` with DBT_TARGET=postgres: load, land,
dbt build with the data tests, GX gates, publish) followed by dbt's unit tests; Spark builds seeds and models
only: its fixed cost per query is seconds, and the data tests repeat checks DuckDB's build already runs. The
marts each engine built are then published (orchestration/publication_engines.py) and the publication is
compared with DuckDB's marts. In CI (CI=true) an engine that cannot be reached fails the test instead of
skipping it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from engines_support import (
    COMPARED_SCHEMAS,
    copy_from_postgres,
    count_differences,
    data_columns,
    drop_postgres_database,
    land_for_target,
    postgres_env,
    require_postgres,
    require_spark,
    spark_env,
    spark_table_files,
)
from support import REPO_ROOT, run_dbt

from orchestration.publication import resolve_publication
from orchestration.publication_engines import EngineSnapshotError, publish_engine_marts

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


# What identifies a load run rather than the data: the main job on PostgreSQL loads the same exports in a
# run of its own, so its load ids and load times differ from the reference's load.
LOAD_RUN_COLUMNS = frozenset({"load_id", "loaded_at", "loaded_through_at"})


def _compare(
    reference: Reference, attach_other, leave_out: frozenset[str] = frozenset()
) -> dict[str, dict[str, tuple[int, int, int]]]:
    """Per schema, per table: (rows, only in DuckDB, only in the other engine); `leave_out` columns are not
    compared."""
    results: dict[str, dict[str, tuple[int, int, int]]] = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{reference.built}' as ref (read_only)")
        for schema in COMPARED_SCHEMAS:
            results[schema] = {}
            for table, all_columns in data_columns(con, "ref", schema).items():
                columns = [(name, kind) for name, kind in all_columns if name not in leave_out]
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


@dataclass(frozen=True)
class PostgresBuild:
    dbname: str
    seconds: float
    job: Path  # the main job's folder: warehouse.duckdb, serving/, gx/, dagster_home/
    output: str  # what the job printed


@pytest.fixture(scope="module")
def postgres_build(reference, tmp_path_factory):
    """The main job (`python -m orchestration.run`) on the postgres target: the exports loaded into DuckDB
    and gated, copied to PostgreSQL, dbt build there (seeds, models, data tests), the built tables mirrored
    back for the GX model gates, then published; and dbt's unit tests on PostgreSQL, which the job leaves to
    development and CI. The other PostgreSQL tests read this database and this publication."""
    require_postgres()
    dbname = f"dw_engines_{os.getpid()}"
    drop_postgres_database(dbname)
    job = tmp_path_factory.mktemp("postgres_job")
    env = {
        **os.environ,
        **postgres_env(dbname, job / "warehouse.duckdb"),
        "EXPORTS_DIR": str(reference.root / "exports"),
        "SERVING_DIR": str(job / "serving"),
        "ALERTS_PATH": str(job / "alerts.log"),
        "GX_DIR": str(job / "gx"),
        "DAGSTER_HOME": str(job / "dagster_home"),
    }
    try:
        started = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "orchestration.run"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        seconds = time.perf_counter() - started
        assert run.returncode == 0, f"the main job failed on PostgreSQL:\n{run.stdout}\n{run.stderr}"
        run_dbt(
            ["test", "--resource-type", "unit_test"],
            job / "warehouse.duckdb",
            job / "dbt_unit",
            extra_env=postgres_env(dbname, job / "warehouse.duckdb"),
        )
        yield PostgresBuild(dbname, seconds, job, run.stdout + run.stderr)
    finally:
        drop_postgres_database(dbname)


@dataclass(frozen=True)
class SparkBuild:
    spark_dir: Path
    seconds: float
    target: Path


@pytest.fixture(scope="module")
def spark_build(reference, tmp_path_factory):
    """Seeds and models built on Spark (local pyspark) from the Parquet lake raw.lake writes."""
    require_spark()
    work = tmp_path_factory.mktemp("spark")
    env = spark_env(work / "spark", work / "lake", reference.loaded)
    land_for_target("spark", env)
    started = time.perf_counter()
    run_dbt(SEEDS_AND_MODELS, reference.loaded, work / "dbt", extra_env=env)
    return SparkBuild(work / "spark", time.perf_counter() - started, work / "dbt" / "target")


def test_postgres_builds_the_same_tables_as_duckdb(reference, postgres_build):
    def attach(con, schema, table, columns):
        copy_from_postgres(con, postgres_build.dbname, schema, table, columns, f"{schema}__{table}")
        return f"select * from {schema}__{table}"

    results = _compare(reference, attach, leave_out=LOAD_RUN_COLUMNS)
    _report("postgres", results, postgres_build.seconds)
    _assert_equal(results)


def test_the_main_job_on_postgres_gates_and_publishes_the_marts(reference, postgres_build):
    """The job loaded, landed, built, gated and published: every GX suite ran on the tables PostgreSQL
    built (mirrored into the job's DuckDB file) and passed, and the publication holds DuckDB's marts."""
    output = postgres_build.output
    assert "land: " in output and "for the postgres target" in output, output
    # One line per layer's GX gates: "<layer> gates: N suites, N passed, 0 failed".
    gates = {
        layer: tuple(map(int, counts))
        for layer, *counts in re.findall(r"(\w+) gates: (\d+) suites, (\d+) passed, (\d+) failed", output)
    }
    assert set(gates) == {"staging", "intermediate", "marts"}, output
    assert all(n > 0 and passed == n and failed == 0 for n, passed, failed in gates.values()), gates
    with duckdb.connect(str(postgres_build.job / "warehouse.duckdb"), read_only=True) as con:
        # The mirror holds PostgreSQL's tables: its fingerprints are PostgreSQL's, not DuckDB's.
        mirrored = con.execute(
            "select count(*) from duckdb_tables() where schema_name in ('staging', 'intermediate', 'marts')"
        ).fetchone()[0]
    assert mirrored >= 50
    serving = postgres_build.job / "serving"
    publication = resolve_publication(serving)
    manifest = json.loads((publication / "publication.json").read_text())
    published = SimpleNamespace(
        directory=publication, version=manifest["publication_id"], row_counts=manifest["row_counts"]
    )
    _assert_published_like_duckdb(reference, serving, published)


def test_spark_builds_the_same_tables_as_duckdb(reference, spark_build):
    def attach(con, schema, table, columns):
        # Read as a BI tool would, then typed as DuckDB's table for the comparison.
        files = spark_table_files(spark_build.spark_dir, schema, table)
        casts = ", ".join(f'cast("{name}" as {data_type}) as "{name}"' for name, data_type in columns)
        return f"select {casts} from read_parquet('{files}')"

    results = _compare(reference, attach)
    _report("spark", results, spark_build.seconds)
    _assert_equal(results)


def _assert_published_like_duckdb(reference: Reference, serving: Path, publication) -> None:
    """The publication is current, complete and audited, and each published mart equals DuckDB's mart in
    columns, types and rows (EXCEPT ALL both ways); publication_info names it and the as-of day."""
    assert resolve_publication(serving) == publication.directory
    assert (serving / "marts.duckdb").resolve() == publication.directory / "marts.duckdb"
    assert not list(serving.glob(".engine-snapshot-*")), "the scratch snapshot was left behind"
    with duckdb.connect() as con:
        con.execute(f"attach '{reference.built}' as ref (read_only)")
        con.execute(f"attach '{publication.directory / 'marts.duckdb'}' as pub (read_only)")
        marts = {
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'ref' and schema_name = 'marts'"
            ).fetchall()
        }
        assert set(publication.row_counts) == marts
        differing = {}
        for table in sorted(marts):
            columns = con.execute(
                "select database_name, column_name, data_type from duckdb_columns() "
                "where (database_name = 'ref' and schema_name = 'marts' or database_name = 'pub') "
                "and table_name = ? and column_name not like '\\_%' escape '\\' order by column_index",
                [table],
            ).fetchall()
            ref_columns = [(c, t) for db, c, t in columns if db == "ref"]
            pub_columns = [(c, t) for db, c, t in columns if db == "pub"]
            # Types may differ only where DuckDB has a wider integer than the other engines (ubigint counts).
            assert [c for c, _ in pub_columns] == [c for c, _ in ref_columns], table
            names = ", ".join(f'"{c}"' for c, _ in ref_columns)
            casts = ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in ref_columns)
            only = count_differences(
                con, f"select {names} from ref.marts.{table}", f"select {casts} from pub.main.{table}"
            )
            parquet = publication.directory / "parquet" / f"{table}.parquet"
            in_parquet = con.execute(f"select count(*) from read_parquet('{parquet}')").fetchone()[0]
            if only != (0, 0) or in_parquet != publication.row_counts[table]:
                differing[table] = (*only, in_parquet)
        assert differing == {}
        info = con.execute(
            "select publication_id, warehouse_as_of_date from pub.main.publication_info"
        ).fetchall()
        as_of = con.execute("select as_of_date from ref.intermediate.int_warehouse_as_of").fetchone()[0]
        assert info == [(publication.version, as_of)]
        comment = con.execute(
            "select comment from duckdb_tables() where database_name = 'pub' and table_name = 'dim_customers'"
        ).fetchone()[0]
        assert comment, "the dbt description of dim_customers was not published as its comment"


def test_postgres_marts_publish_like_duckdb(reference, postgres_build, tmp_path):
    serving = tmp_path / "serving"
    first = publish_engine_marts("postgres", serving, dbname=postgres_build.dbname, grace=0)
    _assert_published_like_duckdb(reference, serving, first)
    # A second publication is switched in whole; the first one, superseded, is collected.
    second = publish_engine_marts("postgres", serving, dbname=postgres_build.dbname, grace=0)
    _assert_published_like_duckdb(reference, serving, second)
    assert second.version > first.version and not first.directory.exists()


def test_spark_marts_publish_like_duckdb(reference, spark_build, tmp_path):
    serving = tmp_path / "serving"
    publication = publish_engine_marts(
        "spark", serving, spark_dir=spark_build.spark_dir, manifest=spark_build.target / "manifest.json"
    )
    _assert_published_like_duckdb(reference, serving, publication)


def test_a_failed_snapshot_keeps_the_current_publication(reference, postgres_build, tmp_path):
    from raw.lake import ensure_postgres_database

    serving = tmp_path / "serving"
    current = publish_engine_marts("postgres", serving, dbname=postgres_build.dbname)
    unbuilt = f"{postgres_build.dbname}_unbuilt"
    ensure_postgres_database(unbuilt)  # a database no build has run in: no schema marts
    try:
        with pytest.raises(EngineSnapshotError, match="no table in schema marts"):
            publish_engine_marts("postgres", serving, dbname=unbuilt)
    finally:
        drop_postgres_database(unbuilt)
    assert resolve_publication(serving) == current.directory
    assert sorted(p.name for p in (serving / "publications").iterdir()) == [current.version]
    assert not list(serving.glob(".engine-snapshot-*"))
