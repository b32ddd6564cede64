"""Data tests scoped to the latest run (var data_tests_scope, macros/get_where_subquery.sql) see exactly the
rows that run wrote, and every build without the var still tests whole tables.

The small company is built once, then one more export day is loaded and built incrementally, as the
scheduled daily build does. The data tests run the way a scheduled build with that scope runs them
(settings.build_flags), and their outcomes are read from dbt's run_results.json: a dbt error
is neither 'pass' nor 'fail', so it fails the assertion.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from support import run_dbt

from settings import build_flags

pytestmark = pytest.mark.slow

BUILD_MODELS = ["build", "--resource-type", "seed", "--resource-type", "model"]
PLACEHOLDER = "__rows_of_latest_run__"
PAYMENT_STATUS_TEST = "accepted_values_stg_billing__payments_status__SUCCEEDED__FAILED"
TOUCHPOINT_STAGE_TEST = (
    "accepted_values_int_touchpoints_stage__marketing__sign_up__installation__care__billing__payment__survey"
    "__complaint"
)
NEW_PAYMENT_ID = "PAY-SCOPED-TEST-1"


def _run_data_tests(warehouse: Path, work_dir: Path, tests: list[str], scope: str) -> dict[str, tuple]:
    """Run `tests` with the flags of a build testing `scope`; (status, failing rows) by test name. `dbt test`,
    not build: a build would skip the touchpoints test after the payments test it depends on failed."""
    run_results = work_dir / "target" / "run_results.json"
    run_results.unlink(missing_ok=True)
    try:
        run_dbt(["test", "--select", *tests, *build_flags(scope)], warehouse, work_dir)
    except subprocess.CalledProcessError as exc:
        if exc.returncode != 1 or not run_results.exists():  # 1 = a node failed: read which and how
            raise
    results = json.loads(run_results.read_text())["results"]
    # The project's on-run-start hooks (operations) run before any test and are in the results too.
    outcomes = {
        r["unique_id"].split(".")[2]: (r["status"], r["failures"])
        for r in results
        if r["unique_id"].startswith("test.")
    }
    assert set(outcomes) == set(tests), outcomes
    return outcomes


def _export_new_day_with_payment(exports_dir: Path, out_dir: Path, status: str) -> date:
    """out_dir/<the day after the last export day>/billing__payments.csv: one new payment with `status`,
    otherwise a copy of the last payment file's first record. Returns the new day."""
    from raw.load import available_export_dates

    days = available_export_dates(exports_dir)
    source = next(
        exports_dir / d.isoformat() / "billing__payments.csv"
        for d in reversed(days)
        if (exports_dir / d.isoformat() / "billing__payments.csv").exists()
    )
    with source.open(newline="", encoding="utf-8") as f:
        header, record = next(csv.reader(f)), next(csv.reader(f))
    values = dict(zip(header, record, strict=True)) | {"payment_id": NEW_PAYMENT_ID, "status": status}
    values["failure_code"] = ""
    new_day = days[-1] + timedelta(days=1)
    target = out_dir / new_day.isoformat() / "billing__payments.csv"
    target.parent.mkdir(parents=True)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, [values[column] for column in header]])
    target.write_text(buffer.getvalue(), encoding="utf-8")
    return new_day


@pytest.fixture(scope="module")
def built_once(loaded_warehouse, tmp_path_factory) -> Path:
    """Every export day of the small company loaded and built (seeds and models)."""
    path = tmp_path_factory.mktemp("scoped_first_build") / "warehouse.duckdb"
    shutil.copy(loaded_warehouse, path)
    run_dbt(BUILD_MODELS, path, path.parent / "dbt")
    return path


def _build_one_more_day(built_once: Path, exports_dir: Path, root: Path, payment_status: str) -> Path:
    """A copy of `built_once` after one more export day (a new payment) was loaded and built incrementally."""
    from raw.load import load_exports

    path = root / "warehouse.duckdb"
    shutil.copy(built_once, path)
    new_day = _export_new_day_with_payment(exports_dir, root / "exports", payment_status)
    results = load_exports(path, root / "exports", export_dates=[new_day])
    assert [r.status for r in results] == ["loaded"], results
    run_dbt(BUILD_MODELS, path, root / "dbt_one_more_day")
    return path


def _watermarks(con: duckdb.DuckDBPyConnection, table: str) -> tuple:
    """The latest run's watermark in `table` and how many runs its rows come from."""
    sql = f"select max(_loaded_through_at), count(distinct _loaded_through_at) from {table}"
    return con.sql(sql).fetchone()


def test_scoped_test_fails_on_a_bad_value_the_latest_run_wrote(built_once, small_company, tmp_path):
    warehouse = _build_one_more_day(built_once, small_company.exports_dir, tmp_path, "PENDING")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        latest, runs = _watermarks(con, "staging.stg_billing__payments")
        written_at = con.execute(
            "select _loaded_through_at from staging.stg_billing__payments where payment_id = ?",
            [NEW_PAYMENT_ID],
        ).fetchall()
    assert runs == 2 and written_at == [(latest,)], "the bad payment must be a row of the latest run"

    outcomes = _run_data_tests(warehouse, tmp_path / "dbt_latest_run", [PAYMENT_STATUS_TEST], "latest_run")
    assert outcomes == {PAYMENT_STATUS_TEST: ("fail", 1)}


def test_scoped_tests_skip_older_rows_that_the_default_scope_still_tests(built_once, small_company, tmp_path):
    warehouse = _build_one_more_day(built_once, small_company.exports_dir, tmp_path, "SUCCEEDED")
    tests = [PAYMENT_STATUS_TEST, TOUCHPOINT_STAGE_TEST]
    passing = {test: ("pass", 0) for test in tests}
    failing = {test: ("fail", 1) for test in tests}
    # The premise of scoping: the build before passed.
    assert _run_data_tests(warehouse, tmp_path / "dbt_all", tests, "all") == passing

    tampered = {
        "staging.stg_billing__payments": ("payment_id", "status", "TAMPERED"),
        "intermediate.int_touchpoints": ("touchpoint_id", "stage", "tampered"),
    }
    with duckdb.connect(str(warehouse)) as con:
        for table, (key, column, bad_value) in tampered.items():
            _, runs = _watermarks(con, table)
            assert runs == 2, f"{table}: the latest run rewrote no row or every row"
            con.execute(
                f"""
                update {table} set {column} = ?
                where {key} = (
                    select min({key}) from {table}
                    where _loaded_through_at < (select max(_loaded_through_at) from {table})
                )
                """,
                [bad_value],
            )
            changed = con.execute(f"select count(*) from {table} where {column} = ?", [bad_value]).fetchone()
            assert changed == (1,), table

    assert _run_data_tests(warehouse, tmp_path / "dbt_latest_run", tests, "latest_run") == passing
    assert _run_data_tests(warehouse, tmp_path / "dbt_all", tests, "all") == failing


def test_an_opted_in_test_compiles_without_a_filter_by_default(tmp_path):
    def compile_test(work: Path, extra: list[str]) -> dict:
        run_dbt(["compile", "--select", PAYMENT_STATUS_TEST, *extra], tmp_path / "empty.duckdb", work)
        manifest = json.loads((work / "target" / "manifest.json").read_text())
        return next(n for n in manifest["nodes"].values() if n["name"] == PAYMENT_STATUS_TEST)

    default = compile_test(tmp_path / "default", [])
    assert default["config"]["where"] == PLACEHOLDER, "the test no longer opts in"
    for text in ("_loaded_through_at", "dbt_subquery", PLACEHOLDER):
        assert text not in default["compiled_code"], default["compiled_code"]

    scoped = compile_test(tmp_path / "latest_run", ["--vars", json.dumps({"data_tests_scope": "latest_run"})])
    assert "where _loaded_through_at = (select max(_loaded_through_at) from" in scoped["compiled_code"]
