"""The GX gates judge real DuckDB tables: broken data fails with the expectation named, good data passes,
and an expectation that raised is a blocking failure, never a pass."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import duckdb
import great_expectations.expectations as gxe
import pytest

from expectations import state
from expectations.registry import LAYERS, build_suite, suite_names
from expectations.runtime import GxRunner, raised_exception
from expectations.suite import WARNING, Batch, Suite, SuiteContext
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


def test_row_count_may_not_shrink_against_the_previous_run(con, runner):
    _insert_responses(con, [7] * 100)
    state.record_row_count(con, "survey__responses", 150)
    outcome = _validate(runner, con, "raw", "survey__responses")
    assert [f.label() for f in outcome.blocking_failures] == [
        "survey__responses.row_count: expect_column_values_to_be_between(row_count)"
    ]


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
    monkeypatch.setattr("orchestration.gx_gate.build_suite", lambda layer, name, ctx: broken)
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
