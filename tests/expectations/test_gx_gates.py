"""The GX gates judge real DuckDB tables: broken data fails with the expectation named, good data passes,
and an expectation that raised is a blocking failure, never a pass."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import pytest

from expectations import runtime, state
from expectations.registry import LAYERS, build_suite, suite_names
from expectations.runtime import GxRunner, raised_exception
from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext, row_count_expectation
from expectations.suites.raw._contract import contract_tables
from orchestration.gx_gate import BLOCKING_CHECK, WARNING_CHECK, run_gate
from raw.load import ensure_raw_schema

DAY = date(2024, 3, 7)


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_raw_schema(connection)
    yield connection
    connection.close()


@pytest.fixture
def runner(tmp_path):
    return GxRunner(tmp_path / "gx")


def _insert_responses(con, scores, export_date=DAY, duplicate=False):
    sent = datetime(2024, 3, 7, 9, tzinfo=UTC)
    rows = []
    for i, score in enumerate(scores):
        rows.append((f"R{i}", f"I{i}", f"c{i}@example.com", sent + timedelta(minutes=i), score))
        if duplicate:
            rows.append(rows[-1])
    con.executemany(
        "insert into raw.survey__responses"
        " (response_id, invitation_id, email, responded_at, score, _export_date)"
        f" values (?, ?, ?, ?, ?, date '{export_date}')",
        rows,
    )


def _validate(runner, con, layer, name, where="true"):
    ctx = SuiteContext(
        relation=f"raw.{name}", where=where, previous_row_count=state.previous_row_count(con, name)
    )
    return runner.validate(con, build_suite(layer, name, ctx).bound(f"raw.{name}", where))


def test_good_table_passes(con, runner):
    _insert_responses(con, [i % 11 for i in range(200)])
    outcome = _validate(runner, con, "raw", "survey__responses")
    assert outcome.passed, outcome.summary()
    assert outcome.row_count == 200
    assert all(o.success for o in outcome.outcomes)


def test_out_of_range_scores_fail_naming_the_expectation(con, runner):
    # A quarter of the scores on a 0-100 scale: far beyond the few impossible values the suite tolerates.
    _insert_responses(con, [5] * 150 + [55] * 50)
    outcome = _validate(runner, con, "raw", "survey__responses")
    assert not outcome.passed
    labels = [f.label() for f in outcome.blocking_failures]
    assert labels == ["survey__responses.rows: expect_column_values_to_be_between(score)"], labels
    assert outcome.blocking_failures[0].observed["unexpected_count"] == 50


def test_a_day_delivered_twice_fails_the_duplicate_check(con, runner):
    _insert_responses(con, [7] * 100, duplicate=True)
    outcome = _validate(runner, con, "raw", "survey__responses")
    assert [f.label() for f in outcome.blocking_failures] == [
        "survey__responses.duplicate_deliveries: expect_column_values_to_be_between(excess_duplicates)"
    ]


def test_duplicate_check_only_judges_the_days_being_loaded(con, runner):
    _insert_responses(con, [7] * 100, export_date=DAY, duplicate=True)
    _insert_responses(con, [7] * 100, export_date=DAY + timedelta(days=1))
    later = f"_export_date = date '{DAY + timedelta(days=1)}'"
    assert _validate(runner, con, "raw", "survey__responses", where=later).passed


def test_a_missing_required_value_cannot_land_the_raw_table_refuses_it(con):
    # What the loader quarantines (an empty required value) the table itself refuses, so no raw suite
    # restates it: every required contract column is NOT NULL, every optional one is nullable.
    declared = {
        (table, column.name): not column.required
        for table, spec in contract_tables().items()
        for column in spec.columns
    }
    stored = {
        (table, column): nullable
        for table, column, nullable in con.execute(
            "select table_name, column_name, is_nullable from duckdb_columns() where schema_name = 'raw'"
        ).fetchall()
        if (table, column) in declared
    }
    assert stored == declared
    _insert_responses(con, [7] * 3)
    with pytest.raises(duckdb.ConstraintException, match="responded_at"):
        con.execute("update raw.survey__responses set responded_at = null where response_id = 'R1'")


def test_a_raw_table_created_without_the_constraints_gains_them_unless_it_holds_nulls(tmp_path):
    with duckdb.connect(str(tmp_path / "old.duckdb")) as old:
        ensure_raw_schema(old)
        for table in ("survey__responses", "survey__surveys"):
            old.execute(f"create or replace table raw.{table} as select * from raw.{table}")  # no constraints
        old.execute(
            "insert into raw.survey__surveys (survey_id, survey_type, scale_min, scale_max) "
            "values ('S1', null, 1, 5)"
        )
        ensure_raw_schema(old)
        nullable = dict(
            old.execute(
                "select table_name || '.' || column_name, is_nullable from duckdb_columns() "
                "where table_name in ('survey__responses', 'survey__surveys') "
                "and column_name in ('response_id', 'survey_id', 'survey_type')"
            ).fetchall()
        )
    assert nullable == {
        "survey__responses.response_id": False,
        "survey__responses.survey_id": True,  # optional in the contract: a response may not name its survey
        "survey__surveys.survey_id": False,
        "survey__surveys.survey_type": True,  # a row landed before holds NULL: left as it is
    }


def test_row_count_may_not_shrink_against_the_previous_run(con, runner):
    _insert_responses(con, [7] * 100)
    state.record_row_count(con, "survey__responses", 150)
    outcome = _validate(runner, con, "raw", "survey__responses")
    # Raw tables: the volume batch judges the count against the baseline less re-delivered rows.
    assert [f.label() for f in outcome.blocking_failures] == [
        "survey__responses.volume: expect_column_values_to_be_between(missing_rows)"
    ]
    assert outcome.blocking_failures[0].observed["partial_unexpected_list"] == [50]
    assert outcome.row_count == 100


def test_a_row_count_only_goes_in_a_batch_that_reads_the_whole_table():
    ctx = SuiteContext(relation="raw.survey__responses")
    for sql in (
        "select score from {relation} where {where}",
        "select count(*) as n from {relation} group by score",
        "select r.score from {relation} as r join raw.survey__surveys using (survey_id)",
    ):
        with pytest.raises(ValueError, match="row count"):
            Batch(name="b", sql=sql, expectations=[row_count_expectation(ctx)])
    Batch(name="b", sql="select score\n  from {relation}\n", expectations=[row_count_expectation(ctx)])


def test_an_expectation_that_raises_is_a_blocking_failure_even_when_declared_warning(con, runner):
    _insert_responses(con, [7] * 10)
    suite = Suite(
        name="survey__responses",
        layer="raw",
        batches=[
            Batch(
                "rows",
                "select score from raw.survey__responses",
                [
                    gxe.ExpectColumnValuesToNotBeNull(column="no_such_column", severity=WARNING),
                ],
            )
        ],
    )
    outcome = runner.validate(con, suite)
    [result] = outcome.outcomes
    assert result.raised and not result.success
    assert "no_such_column" in result.error_message
    assert not outcome.passed and outcome.blocking_failures == [result]


def test_a_query_that_fails_is_a_blocking_failure(con, runner):
    suite = Suite("survey__responses", "raw", [Batch("rows", "select nope from raw.survey__responses", [])])
    outcome = runner.validate(con, suite)
    assert not outcome.passed
    assert outcome.blocking_failures[0].raised


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (None, False),
        ({"raised_exception": False, "exception_message": None}, False),
        ({"raised_exception": True, "exception_message": "boom"}, True),
        ({"metric-id": {"raised_exception": True, "exception_message": "boom"}}, True),
        ({"metric-id": {"raised_exception": False}}, False),
    ],
)
def test_raised_exception_reads_both_shapes_gx_uses(info, expected):
    assert raised_exception(info)[0] is expected


def test_dagster_gate_reports_raised_expectations_as_failed_blocking_check(con, runner, monkeypatch):
    _insert_responses(con, [7] * 10)
    broken = Suite(
        "survey__responses",
        "raw",
        [
            Batch(
                "rows",
                "select score from {relation}",
                [
                    gxe.ExpectColumnValuesToBeBetween(column="missing", min_value=0, severity=WARNING),
                ],
            )
        ],
    )
    monkeypatch.setattr("expectations.gate.build_suite", lambda layer, name, ctx: broken)
    key = dg.AssetKey(["survey", "responses"])
    outcome, results = run_gate(runner, con, "raw", "survey__responses", "raw.survey__responses", key)
    by_name = {r.check_name: r for r in results}
    assert by_name[BLOCKING_CHECK].passed is False
    assert by_name[BLOCKING_CHECK].severity == dg.AssetCheckSeverity.ERROR
    assert by_name[WARNING_CHECK].passed is True


def test_every_contract_table_has_a_raw_suite():
    assert set(suite_names("raw")) == set(contract_tables())


@pytest.mark.parametrize("layer", LAYERS)
def test_every_suite_builds_with_its_own_name(layer):
    for name in suite_names(layer):
        suite = build_suite(layer, name, SuiteContext(relation=f"{layer}.{name}"))
        assert suite.name == name and suite.batches


# --- SQL push-down on DuckDB (expectations/runtime.py) ----------------------------------------------------
# GX computes every metric in DuckDB through a cursor of the caller's connection. These tests fail if GX stops
# really running the expectations there (the DuckDB patch no longer applying, results read from a closed
# connection), if a broken batch could pass, or if the runner leaves the warehouse file locked.


def test_a_batch_gx_could_not_query_is_refused_when_the_suite_is_written():
    with pytest.raises(ValueError, match="starting with SELECT"):
        Batch(name="rows", sql="with t as (select 1 as x) select x from t", expectations=[])
    assert Batch(name="rows", sql="\n  SELECT 1 as x", expectations=[]).sql.strip() == "SELECT 1 as x"


def test_expectations_are_computed_in_duckdb_with_the_observed_numbers(con, runner):
    _insert_responses(con, [5] * 150 + [55] * 50)
    outcome = _validate(runner, con, "raw", "survey__responses")
    [failure] = outcome.blocking_failures
    assert failure.observed["element_count"] == 200
    assert failure.observed["unexpected_count"] == 50
    assert failure.observed["partial_unexpected_list"] == [55] * 20
    # GX validated a SQL query batch (push-down), not a dataframe.
    specs = [result.meta["batch_spec"] for _, result in runner.pending_results]
    assert specs and all("query" in spec and "batch_data" not in spec for spec in specs)
    assert any("select score from raw.survey__responses where" in spec["query"] for spec in specs)


def test_batches_that_aggregate_or_read_views_are_materialized_once_plain_scans_are_not(con):
    _insert_responses(con, [7] * 10)
    con.execute("create schema staging")
    con.execute(
        "create view staging.v as"
        " select *, row_number() over (partition by response_id) as n from raw.survey__responses"
    )
    assert not runtime.needs_materializing(con, "select score from raw.survey__responses where score > 3")
    assert runtime.needs_materializing(con, "select count(*) as n from raw.survey__responses where score > 3")
    assert runtime.needs_materializing(
        con, "select _export_date, count(*) from raw.survey__responses group by 1"
    )
    assert runtime.needs_materializing(con, "select score from staging.v")
    with pytest.raises(duckdb.Error):
        runtime.needs_materializing(con, "select nope from raw.survey__responses")


def test_a_broken_view_fails_through_the_materialized_path(con, runner):
    _insert_responses(con, [5] * 150 + [55] * 50)
    con.execute("create schema staging")
    con.execute(
        "create view staging.scores as"
        " select distinct on (response_id) response_id, score from raw.survey__responses"
    )
    suite = Suite(
        "scores",
        "staging",
        [
            Batch(
                "rows",
                "select score from staging.scores",
                [
                    gxe.ExpectColumnValuesToBeBetween(
                        column="score", min_value=0, max_value=10, severity=ERROR
                    )
                ],
            ),
            Batch(
                "good",
                "select max(score) as top from staging.scores where score <= 10",
                [gxe.ExpectColumnValuesToBeBetween(column="top", max_value=10, severity=ERROR)],
            ),
        ],
    )
    assert runtime.needs_materializing(con, suite.batches[0].sql)
    outcome = runner.validate(con, suite)
    assert [f.label() for f in outcome.blocking_failures] == [
        "scores.rows: expect_column_values_to_be_between(score)"
    ]
    assert outcome.blocking_failures[0].observed["unexpected_count"] == 50
    assert [o.success for o in outcome.outcomes if o.batch == "good"] == [True]


def test_a_batch_that_fails_while_running_is_a_blocking_failure(con, runner):
    _insert_responses(con, [7] * 10)
    suite = Suite(
        "survey__responses",
        "raw",
        [
            Batch(
                "rows",
                # Binds (so the pre-check passes) but fails on the first row when DuckDB runs it.
                "select cast('x' || score as integer) as score from raw.survey__responses",
                [gxe.ExpectColumnValuesToNotBeNull(column="score", severity=WARNING)],
            )
        ],
    )
    outcome = runner.validate(con, suite)
    assert not outcome.passed
    assert all(o.raised for o in outcome.blocking_failures) and outcome.blocking_failures

    # The same failure in a batch GX materialises (an aggregate): GX raises instead of reporting it.
    aggregated = (
        "select cast('x' || score as integer) as score, count(*) as n from raw.survey__responses group by 1"
    )
    assert runtime.needs_materializing(con, aggregated)
    suite = Suite("survey__responses", "raw", [replace(suite.batches[0], sql=aggregated)])
    outcome = runner.validate(con, suite)
    assert not outcome.passed
    [failure] = outcome.blocking_failures
    assert failure.raised and "Conversion Error" in failure.error_message


def test_the_runner_leaves_no_connection_open_on_the_warehouse(tmp_path, runner):
    # The next Dagster step (or dbt, another process) needs the file lock once the caller closes `con`.
    path = tmp_path / "locked" / "warehouse.duckdb"
    path.parent.mkdir()
    con = duckdb.connect(str(path))
    ensure_raw_schema(con)
    _insert_responses(con, [7] * 10)
    assert _validate(runner, con, "raw", "survey__responses").passed
    con.close()
    other = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r}).execute('select 1')"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 0, other.stderr


def test_the_same_suite_validated_twice_in_one_step_judges_the_new_data(con, runner):
    _insert_responses(con, [7] * 100)
    assert _validate(runner, con, "raw", "survey__responses").passed
    con.execute("update raw.survey__responses set score = 55")
    outcome = _validate(runner, con, "raw", "survey__responses")
    assert [f.label() for f in outcome.blocking_failures] == [
        "survey__responses.rows: expect_column_values_to_be_between(score)"
    ]


def test_data_docs_are_built_once_with_every_validation_of_the_step(con, tmp_path):
    _insert_responses(con, [7] * 20)
    runner = GxRunner(tmp_path / "gx")
    _validate(runner, con, "raw", "survey__responses")
    index = runner.build_docs()
    assert index.name == "index.html" and index.exists()
    site = index.parent
    pages = {
        ".".join(p.relative_to(site / "validations").parts[:2])
        for p in (site / "validations").rglob("*.html")
    }
    suite = build_suite("raw", "survey__responses", SuiteContext(relation="raw.survey__responses"))
    assert pages >= {f"survey__responses.{b.name}" for b in suite.batches if b.expectations}
    assert "survey__responses.rows" in index.read_text()
    # Results accumulate across runs (history), and a second step adds its own.
    before = len(list((site / "validations").rglob("*.html")))
    again = GxRunner(tmp_path / "gx")
    _validate(again, con, "raw", "survey__responses")
    again.build_docs()
    assert len(list((site / "validations").rglob("*.html"))) > before
    # The index is bounded so that building it does not slow down as history accumulates.
    files = gx.get_context(mode="file", project_root_dir=str(tmp_path / "gx"))
    index_builder = files.list_data_docs_sites()["local_site"]["site_index_builder"]
    assert index_builder["validation_results_limit"] == runtime.DOCS_INDEX_LIMIT
