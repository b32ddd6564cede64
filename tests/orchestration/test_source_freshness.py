"""dbt source freshness runs as Dagster asset checks on the raw tables.

On a copy of the session's loaded warehouse (tests/conftest.py loaded_warehouse): just loaded, every raw
table with a declared freshness bound is fresh; a table whose last load is older than warn_after fails its
check with severity WARN, one older than error_after with ERROR, and the other tables stay fresh.
"""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import defs
from orchestration.source_freshness import FRESHNESS_CHECK, freshness_sources


@pytest.fixture
def warehouse(loaded_warehouse, layout):
    shutil.copy(loaded_warehouse, layout["WAREHOUSE_PATH"])
    return layout["WAREHOUSE_PATH"]


def _age(warehouse, table: str, days: int) -> None:
    """Move every landing time of raw `table` `days` days back, as if nothing had arrived since."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"update raw.{table} set _loaded_at = _loaded_at - interval {days} day")


def _freshness_results(instance) -> dict[dg.AssetKey, dg.AssetCheckEvaluation]:
    result = defs.resolve_job_def("source_freshness_job").execute_in_process(instance=instance)
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {FRESHNESS_CHECK}
    return {e.asset_key: e for e in evaluations}


def test_freshness_of_every_raw_source_is_checked_and_stale_tables_fail(warehouse):
    sources = freshness_sources()
    assert len(sources) >= 14, sources
    # Past warn_after (2 days) and past error_after (7 days) of the sources' declarations.
    _age(warehouse, "crm__customers", 3)
    _age(warehouse, "billing__invoices", 10)

    with dg.instance_for_test() as instance:
        checks = _freshness_results(instance)

    assert set(checks) == set(sources.values())
    warned, failed = checks[sources["source:crm.customers"]], checks[sources["source:billing.invoices"]]
    assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN, warned.metadata
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR, failed.metadata
    assert failed.metadata["hours_since_last_load"].value >= 240
    fresh = [e for key, e in checks.items() if key not in {warned.asset_key, failed.asset_key}]
    assert fresh and all(e.passed for e in fresh), [e.asset_key for e in fresh if not e.passed]
