"""Daily incremental builds must end in exactly the marts a full refresh of the same data gives.

The small company is loaded up to five days before its end and built; then each remaining day is loaded and
built incrementally. A copy of the final raw data is built from scratch with --full-refresh, and every mart
table is compared with EXCEPT ALL both ways. Columns starting with '_' are load bookkeeping (the watermark a
row was built with) and are the only ones left out of the comparison.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from support import run_dbt

pytestmark = pytest.mark.slow

DAYS_BUILT_INCREMENTALLY = 5
# Seeds and models only: data tests belong to the build test; here a failing test must not stop the runs.
BUILD_MODELS = ["build", "--resource-type", "seed", "--resource-type", "model"]
INCREMENTAL_MARTS = ("fct_journey_events", "fct_poor_experiences")


def _mart_columns(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[str]]:
    rows = con.sql(
        "select table_name, column_name from information_schema.columns "
        f"where table_schema = 'marts' and table_catalog = '{catalog}' order by table_name, ordinal_position"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        if not column.startswith("_"):
            columns.setdefault(table, []).append(column)
    return columns


@pytest.fixture(scope="module")
def incremental_and_full_refresh(small_company, tmp_path_factory) -> tuple[Path, Path]:
    """(warehouse built day by day, warehouse built once with --full-refresh) over the same raw data."""
    from raw.load import available_export_dates, load_exports

    root = tmp_path_factory.mktemp("incremental")
    daily = root / "daily.duckdb"
    dates = available_export_dates(small_company.exports_dir)
    assert len(dates) > DAYS_BUILT_INCREMENTALLY

    load_exports(daily, small_company.exports_dir, export_dates=dates[:-DAYS_BUILT_INCREMENTALLY])
    run_dbt(BUILD_MODELS, daily, root / "dbt_initial")
    for day in dates[-DAYS_BUILT_INCREMENTALLY:]:
        load_exports(daily, small_company.exports_dir, export_dates=[day])
        run_dbt(BUILD_MODELS, daily, root / f"dbt_{day.isoformat()}")

    full = root / "full.duckdb"
    shutil.copy(daily, full)
    run_dbt([*BUILD_MODELS, "--full-refresh"], full, root / "dbt_full")
    return daily, full


def test_incremental_runs_really_were_incremental(incremental_and_full_refresh):
    """Rows of customers nobody touched lately keep the watermark of an earlier run."""
    daily, _ = incremental_and_full_refresh
    with duckdb.connect(str(daily), read_only=True) as con:
        for mart in INCREMENTAL_MARTS:
            watermarks = con.sql(f"select count(distinct _loaded_through_at) from marts.{mart}").fetchone()[0]
            assert watermarks > 1, f"{mart} was rebuilt whole on every run"


def test_daily_incremental_marts_equal_a_full_refresh(incremental_and_full_refresh):
    daily, full = incremental_and_full_refresh
    with duckdb.connect(str(daily), read_only=True) as con:
        con.execute(f"attach '{full}' as full_refresh (read_only)")
        daily_columns = _mart_columns(con, "daily")
        full_columns = _mart_columns(con, "full_refresh")
        assert daily_columns == full_columns
        assert set(INCREMENTAL_MARTS) <= set(daily_columns)

        differences = {}
        for table, columns in daily_columns.items():
            column_list = ", ".join(columns)
            daily_sql = f"select {column_list} from daily.marts.{table}"
            full_sql = f"select {column_list} from full_refresh.marts.{table}"
            only_daily = con.sql(f"select count(*) from ({daily_sql} except all {full_sql})").fetchone()[0]
            only_full = con.sql(f"select count(*) from ({full_sql} except all {daily_sql})").fetchone()[0]
            rows = con.sql(f"select count(*) from daily.marts.{table}").fetchone()[0]
            print(f"\n{table}: rows={rows} only_incremental={only_daily} only_full_refresh={only_full}")
            if only_daily or only_full:
                differences[table] = (only_daily, only_full)
        assert differences == {}
