"""The cancel-reason coverage suite: a drifted vocabulary warns without blocking; a broken report blocks."""

from __future__ import annotations

import duckdb
import pytest

from expectations.registry import build_suite
from expectations.runtime import GxRunner
from expectations.suite import SuiteContext
from expectations.suites.marts.rpt_cancel_reason_coverage import UNCLASSIFIED_TEXT_SHARE_MAX

RELATION = "marts.rpt_cancel_reason_coverage"


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    connection.execute("create schema marts")
    connection.execute(f"create table {RELATION} (as_of_date date, unclassified_text_share double)")
    yield connection
    connection.close()


def _validate(tmp_path, con, shares):
    con.execute(f"delete from {RELATION}")
    con.executemany(f"insert into {RELATION} values (date '2024-06-30', ?)", [(s,) for s in shares])
    ctx = SuiteContext(relation=RELATION, where="true", previous_row_count=None)
    suite = build_suite("marts", "rpt_cancel_reason_coverage", ctx).bound(RELATION)
    return GxRunner(tmp_path / "gx").validate(con, suite)


@pytest.mark.parametrize("share", [0.0, UNCLASSIFIED_TEXT_SHARE_MAX, None])
def test_a_share_within_the_bound_or_no_free_text_passes(tmp_path, con, share):
    outcome = _validate(tmp_path, con, [share])
    assert outcome.passed and not outcome.warnings, outcome.summary()


def test_a_share_above_the_bound_warns_and_does_not_block(tmp_path, con):
    outcome = _validate(tmp_path, con, [UNCLASSIFIED_TEXT_SHARE_MAX + 0.05])
    assert outcome.passed, outcome.summary()
    [warning] = outcome.warnings
    assert warning.label() == (
        "rpt_cancel_reason_coverage.rows: expect_column_values_to_be_between(unclassified_text_share)"
    )


def test_a_share_outside_zero_to_one_or_two_rows_block(tmp_path, con):
    assert not _validate(tmp_path, con, [1.5]).passed
    assert not _validate(tmp_path, con, [0.0, 0.0]).passed
