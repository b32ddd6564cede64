"""On PostgreSQL too, daily incremental builds end in exactly the tables a full refresh gives.

The scenario of tests/warehouse/test_incremental.py, with its re-delivery helpers, on the postgres target:
the small company is loaded into DuckDB up to a few days before its end, copied into PostgreSQL (raw.lake)
and built; each remaining day is loaded, copied and built incrementally; then the replaced files and the
late re-delivery of an older day, each loaded, copied and built. A second database gets the final raw
tables and one build with --full-refresh. Every staging, intermediate and mart table is compared by EXCEPT
ALL both ways (in DuckDB, copied from both databases), bookkeeping columns ('_' prefix) left out.
One daily day instead of DuckDB's five: each PostgreSQL build takes tens of seconds; more days only repeat.
"""

from __future__ import annotations

import os

import duckdb
import pytest
from engines_support import (
    COMPARED_SCHEMAS,
    copy_from_postgres,
    count_differences,
    drop_postgres_database,
    land_postgres,
    load_incremental_helpers,
    postgres_columns,
    postgres_env,
    require_postgres,
)
from support import run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.engines]

DAYS_BUILT_INCREMENTALLY = 1


def test_postgres_daily_incremental_build_equals_a_full_refresh(small_company, tmp_path):
    require_postgres()
    from raw.load import available_export_dates, load_exports

    helpers = load_incremental_helpers()
    build_models = helpers.BUILD_MODELS
    daily_db, full_db = f"dw_daily_{os.getpid()}", f"dw_full_{os.getpid()}"
    for name in (daily_db, full_db):
        drop_postgres_database(name)
    daily = tmp_path / "daily.duckdb"
    dates = available_export_dates(small_company.exports_dir)

    def load_and_build(step: str, **load_args) -> list:
        results = load_exports(daily, **load_args)
        land_postgres(daily, daily_db)
        run_dbt(build_models, daily, tmp_path / f"dbt_{step}", extra_env=postgres_env(daily_db, daily))
        return results

    try:
        load_and_build(
            "initial", exports_dir=small_company.exports_dir, export_dates=dates[:-DAYS_BUILT_INCREMENTALLY]
        )
        for day in dates[-DAYS_BUILT_INCREMENTALLY:]:
            load_and_build(day.isoformat(), exports_dir=small_company.exports_dir, export_dates=[day])
        for step, redeliver in [
            ("replaced", helpers._redeliver_replacing_files),
            ("late", helpers._redeliver_older_day_late),
        ]:
            out_dir = tmp_path / f"redelivered_{step}"
            with duckdb.connect(str(daily), read_only=True) as con:
                found = redeliver(con, small_company.exports_dir, out_dir)
            results = load_and_build(step, exports_dir=out_dir, export_dates=found.pop("days"))
            assert results and {r.status for r in results} == {"replaced"}, results

        land_postgres(daily, full_db)
        run_dbt(
            [*build_models, "--full-refresh"],
            daily,
            tmp_path / "dbt_full",
            extra_env=postgres_env(full_db, daily),
        )
        differences, compared, rows = {}, 0, 0
        with duckdb.connect() as con:
            for schema in COMPARED_SCHEMAS:
                daily_columns, full_columns = (
                    postgres_columns(daily_db, schema),
                    postgres_columns(full_db, schema),
                )
                assert daily_columns == full_columns, schema
                for table, columns in daily_columns.items():
                    copy_from_postgres(con, daily_db, schema, table, columns, "daily_rows")
                    copy_from_postgres(con, full_db, schema, table, columns, "full_rows")
                    only_daily, only_full = count_differences(
                        con, "select * from daily_rows", "select * from full_rows"
                    )
                    table_rows = con.sql("select count(*) from daily_rows").fetchone()[0]
                    compared, rows = compared + 1, rows + table_rows
                    if only_daily or only_full:
                        differences[f"{schema}.{table}"] = (only_daily, only_full)
                    print(
                        f"\n{schema}.{table}: rows={table_rows} only_daily={only_daily} only_full={only_full}"
                    )
    finally:
        for name in (daily_db, full_db):
            drop_postgres_database(name)
    print(f"\npostgres incremental vs full refresh: {compared} tables, {rows} rows compared")
    assert compared >= 50
    assert differences == {}
