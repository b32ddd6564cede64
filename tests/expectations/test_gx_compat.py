"""Guards of the private GX internals the gates touch (expectations/gx_compat.py): each patch is in place,
a GX upgrade that moves what it patches stops the gates instead of letting them pass, and the upstream bug
the DuckDB patch works around is still there (the day it is fixed, a test here says the patch can go)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import pytest
from great_expectations.execution_engine import sqlalchemy_execution_engine
from great_expectations.expectations import expectation

from expectations import gx_compat
from expectations.gate import check_table
from expectations.runtime import GxRunner
from raw.load import ensure_raw_schema


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_raw_schema(connection)
    sent = datetime(2024, 3, 7, 9, tzinfo=UTC)
    connection.executemany(
        "insert into raw.survey__responses (response_id, invitation_id, responded_at, score, _export_date) "
        "values (?, ?, ?, ?, date '2024-03-07')",
        [(f"R{i}", f"I{i}", sent + timedelta(minutes=i), i % 11) for i in range(200)],
    )
    yield connection
    connection.close()


@pytest.fixture
def runner(tmp_path):
    return GxRunner(tmp_path / "gx")


def _validate(runner, con):
    return check_table(runner, con, "raw", "survey__responses").outcome


def test_the_duckdb_patch_is_in_place_and_refuses_to_run_blind_when_gx_moved_it(monkeypatch):
    assert gx_compat.duckdb_pushdown_enabled()
    persisted = sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS
    assert "duckdb" in persisted and all(hasattr(d, "value") for d in persisted)

    # A GX upgrade that renames the tuple (or changes what it holds) must stop the gates, never let them pass.
    monkeypatch.delattr(sqlalchemy_execution_engine, "_PERSISTED_CONNECTION_DIALECTS")
    with pytest.raises(gx_compat.GxPatchError, match="_PERSISTED_CONNECTION_DIALECTS"):
        GxRunner(Path("unused"))
    monkeypatch.setattr(
        sqlalchemy_execution_engine, "_PERSISTED_CONNECTION_DIALECTS", ("sqlite", "mssql"), raising=False
    )
    with pytest.raises(gx_compat.GxPatchError):
        gx_compat.persist_duckdb_connections()


def test_with_the_patch_the_expectations_are_computed(con, runner):
    outcome = _validate(runner, con)
    assert outcome.outcomes and not [o.label() for o in outcome.outcomes if o.raised], outcome.summary()


def test_without_the_patch_gx_reports_raised_expectations_never_a_pass(con, runner, monkeypatch):
    # The upstream bug the patch works around (GX issues 10738, 11579). Should a GX release fix it, this test
    # fails with every outcome passing: then the patch in gx_compat.py can go.
    original = tuple(d for d in sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS if d != "duckdb")
    monkeypatch.setattr(sqlalchemy_execution_engine, "_PERSISTED_CONNECTION_DIALECTS", original)
    outcome = _validate(runner, con)
    assert not outcome.passed
    gx_outcomes = [o for o in outcome.outcomes if o.expectation != "query"]
    assert gx_outcomes and all(o.raised and o.blocks for o in gx_outcomes)


def test_the_runner_context_does_not_serialise_its_config_after_every_change(con, runner):
    # Speed only (gx_compat.skip_in_memory_config_writes): the writes nothing reads are skipped. If GX
    # brings them back after an upgrade, this says so; the checks themselves are unaffected either way.
    assert _validate(runner, con).passed
    assert runner.context.variables.store.list_keys() == []
    unpatched = gx.get_context(mode="ephemeral")
    unpatched.data_sources.add_pandas("written")
    assert unpatched.variables.store.list_keys() != []


def test_expectation_type_names_come_from_the_cache_and_equal_gx_own():
    # Speed only (gx_compat.memoize_expectation_type_names): the cached conversion returns what GX's does.
    from great_expectations.expectations.registry import _registered_expectations
    from great_expectations.util import camel_to_snake

    assert gx_compat.expectation_type_names_memoized()
    assert len(_registered_expectations) > 50
    for registered, cls in _registered_expectations.items():
        assert expectation.camel_to_snake(cls.__name__) == camel_to_snake(cls.__name__) == registered
    assert (
        gxe.ExpectColumnValuesToNotBeNull(column="a").configuration.type
        == "expect_column_values_to_not_be_null"
    )


def run_in_fresh_process(script: str) -> str:
    """`script`'s standard output, run by this interpreter in a new process; fails the test if it fails."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="pyspark is not installed")
def test_gx_sees_spark_as_not_installed_and_everyone_else_still_imports_it():
    # expectations/__init__.py answers GX's optional Spark probe alone; a fresh process, since pytest's
    # plugins may have imported pyspark already.
    script = (
        "import sys, expectations.runtime\n"
        "from great_expectations.compatibility import pyspark as probe\n"
        "from great_expectations.compatibility.not_imported import NotImported\n"
        "assert isinstance(probe.pyspark, NotImported) and isinstance(probe.DataFrame, NotImported)\n"
        "assert 'pyspark' not in sys.modules, 'GX imported pyspark'\n"
        "import pyspark.sql\n"
        "print(pyspark.sql.SparkSession.__name__)\n"
    )
    assert run_in_fresh_process(script) == "SparkSession"


def test_gx_imports_without_loading_scipy_stats_and_it_still_loads_on_first_use():
    # expectations/__init__.py registers scipy.stats lazily: GX's import binds it without executing it, and
    # the first attribute access runs the real module. A fresh process, since pytest may have imported it.
    script = (
        "import sys, expectations.gate\n"
        "import great_expectations.expectations.core.expect_column_kl_divergence_to_be_less_than as kl\n"
        "assert 'scipy.stats._stats_py' not in sys.modules, 'scipy.stats was executed on GX import'\n"
        "assert kl.stats is sys.modules['scipy.stats']\n"
        "print(kl.stats.norm.cdf(0.0), 'scipy.stats._stats_py' in sys.modules)\n"
    )
    assert run_in_fresh_process(script).split() == ["0.5", "True"]
