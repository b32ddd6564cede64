"""Bounds that describe a company are learned from its own passing runs; invariants stay absolute.

Each test writes the few tables a suite reads into its own DuckDB file (a handful of rows), runs the suite
through the shared gate (expectations.gate.gate_table, what the Dagster checks and the command line run)
twice or more, and looks at what the warehouse learned and how a later run is judged.
"""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest

from expectations.gate import gate_table
from expectations.learned import LEARNED_TABLE, Drift
from expectations.runtime import GxRunner
from orchestration.gx_gate import BLOCKING_CHECK, run_gate

TOUCHPOINTS = "int_touchpoints"
# silo -> (stage, touchpoint_type, source_table), each a combination int_touchpoints.sql builds.
SOURCES = {
    "marketing_sales": ("sign_up", "subscription_started", "stg_crm__subscriptions"),
    "installation": ("installation", "appointment", "stg_crm__appointments"),
    "care": ("care", "contact", "stg_crm__contacts"),
    "billing": ("billing", "invoice", "stg_billing__invoices"),
    "survey": ("survey", "survey_response", "stg_survey__responses"),
}


def _journeys(con, customers: int, per_silo: dict[str, int]) -> None:
    """`customers` customers with per_silo[silo] touchpoints of each silo; the as-of instant after them."""
    con.execute("create schema if not exists staging")
    con.execute("create schema if not exists intermediate")
    con.execute(
        "create or replace table staging.stg_crm__customers as "
        f"select 'C' || i as customer_id from range({customers}) as t(i)"
    )
    con.execute(
        "create or replace table intermediate.int_warehouse_as_of as "
        "select timestamptz '2024-06-01 00:00:00+00' as as_of_at"
    )
    rows = [
        (f"T{c}-{silo}-{n}", f"C{c}", *SOURCES[silo][:1], silo, *SOURCES[silo][1:], n)
        for c in range(customers)
        for silo, count in per_silo.items()
        for n in range(count)
    ]
    con.execute(
        "create or replace table intermediate.int_touchpoints (touchpoint_id varchar, customer_id varchar, "
        "stage varchar, silo varchar, touchpoint_type varchar, source_table varchar, occurred_at timestamptz)"
    )
    con.executemany(
        "insert into intermediate.int_touchpoints values (?, ?, ?, ?, ?, ?, "
        "timestamptz '2024-05-01 00:00:00+00' + to_days(?::integer))",
        rows,
    )


def _learned(con, suite: str) -> dict[str, tuple[float, str]]:
    rows = con.execute(
        f"select figure, value, run_id from {LEARNED_TABLE} where suite_name = ? order by recorded_at",
        [suite],
    ).fetchall()
    return {figure: (value, run_id) for figure, value, run_id in rows}


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


@pytest.fixture
def runner(tmp_path) -> GxRunner:
    return GxRunner(tmp_path / "gx")


FULL = {"marketing_sales": 1, "installation": 1, "care": 2, "billing": 6, "survey": 1}


def test_the_first_run_learns_the_companys_figures_and_a_later_run_outside_them_blocks_naming_them(
    con, runner
):
    _journeys(con, 20, FULL)
    first = gate_table(runner, con, "intermediate", TOUCHPOINTS, run_id="run-first")
    assert first.outcome.passed, first.outcome.summary()
    learned = _learned(con, TOUCHPOINTS)
    assert learned["survey_share"] == (pytest.approx(1 / 11), "run-first")
    assert learned["billing_share"] == (pytest.approx(6 / 11), "run-first")
    assert learned["touchpoints_per_customer"] == (11.0, "run-first")

    # The survey feed stops matching: its share falls from 1/11 to 0, under a quarter of the learned one.
    _journeys(con, 22, {**FULL, "survey": 0})  # as many rows as before: the row count holds
    later = gate_table(runner, con, "intermediate", TOUCHPOINTS, run_id="run-later")
    assert not later.outcome.passed
    labels = [f.label() for f in later.outcome.blocking_failures]
    assert labels == ["int_touchpoints.silo_shares: expect_column_values_to_be_between(survey_share)"]
    [line] = later.explained
    # The rule, the figure, the bound, where the bound comes from and where its tolerance is written.
    assert line.startswith(f"{labels[0]}: observed ") and "e.g. [0.0]" in line, line
    assert "min_value=0.02272727" in line and "learned value 0.0909090" in line, line
    assert "learned from run run-first" in line and LEARNED_TABLE in line, line
    assert "expectations/suites/intermediate/int_touchpoints.py:" in line, line
    # A failed run teaches nothing: the next run is still judged against the first.
    assert _learned(con, TOUCHPOINTS)["survey_share"][1] == "run-first"


def test_a_figure_that_moves_within_its_tolerance_passes_and_is_relearned(con, runner):
    _journeys(con, 20, FULL)
    assert gate_table(runner, con, "intermediate", TOUCHPOINTS, run_id="run-1").outcome.passed
    _journeys(con, 22, {**FULL, "billing": 7})  # a little more history
    second = gate_table(runner, con, "intermediate", TOUCHPOINTS, run_id="run-2")
    assert second.outcome.passed and not second.outcome.warnings, second.outcome.summary()
    assert _learned(con, TOUCHPOINTS)["billing_share"] == (pytest.approx(7 / 12), "run-2")


def test_a_company_without_billing_or_installation_feeds_passes_every_run(con, runner):
    _journeys(con, 20, {"marketing_sales": 1, "care": 3, "survey": 1})
    for run in ("run-1", "run-2"):
        check = gate_table(runner, con, "intermediate", TOUCHPOINTS, run_id=run)
        assert check.outcome.passed and not check.outcome.warnings, check.outcome.summary()
    learned = _learned(con, TOUCHPOINTS)
    assert learned["billing_share"] == (0.0, "run-2") and learned["installation_share"] == (0.0, "run-2")


def test_a_feed_that_starts_later_is_welcome(con, runner):
    _journeys(con, 20, {"marketing_sales": 1, "care": 3, "survey": 1})
    assert gate_table(runner, con, "intermediate", TOUCHPOINTS, run_id="run-1").outcome.passed
    _journeys(con, 20, {"marketing_sales": 1, "care": 3, "survey": 1, "billing": 2})
    check = gate_table(runner, con, "intermediate", TOUCHPOINTS, run_id="run-2")
    # Billing takes 2/7 of the journey from nothing; the other shares shrink, but not to a quarter.
    assert check.outcome.passed, check.outcome.summary()


def test_invariants_stay_absolute_on_the_first_run(con, runner):
    _journeys(con, 20, FULL)
    con.execute("update intermediate.int_touchpoints set occurred_at = timestamptz '2024-07-01 00:00:00+00'")
    check = gate_table(runner, con, "intermediate", TOUCHPOINTS, run_id="run-1")
    assert [f.label() for f in check.outcome.blocking_failures] == [
        "int_touchpoints.as_of: expect_column_values_to_be_between(touchpoints_after_as_of)"
    ]
    assert _learned(con, TOUCHPOINTS) == {}


def _customers(con, defected: int, stayed: int) -> None:
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.dim_customers as select 'C' || i as customer_id, 100 as tenure_days, "
        "0.5 as risk_score, 1 as stickiness_score, i < ? as has_defected, (i < ?)::integer as n_defections "
        "from range(?) as t(i)",
        [defected, defected, defected + stayed],
    )
    con.execute(
        "create or replace table marts.fct_defections as select 'D' || customer_id as defection_id, "
        "customer_id from marts.dim_customers where has_defected"
    )


def test_a_defection_rate_is_the_companys_own_and_a_collapse_blocks_through_the_dagster_gate(con, runner):
    # Nine in ten customers gone: a band measured on another company refuses it; this one's own is learned.
    _customers(con, defected=90, stayed=10)
    key = dg.AssetKey(["marts", "dim_customers"])
    first, _ = run_gate(runner, con, "marts", "dim_customers", "marts.dim_customers", key, run_id="dagster-1")
    assert first.passed, first.summary()
    assert _learned(con, "dim_customers")["defection_rate"] == (0.9, "dagster-1")

    _customers(con, defected=10, stayed=100)  # the episode logic lost most defections
    later, results = run_gate(runner, con, "marts", "dim_customers", "marts.dim_customers", key)
    assert not later.passed
    blocking = next(r for r in results if r.check_name == BLOCKING_CHECK)
    [line] = blocking.metadata["failures"].value
    assert line.startswith("dim_customers.defection_rate: expect_column_values_to_be_between(defection_rate)")
    assert "learned from run dagster-1" in line and "learned value 0.9" in line, line


@pytest.mark.parametrize(
    ("drift", "value", "band"),
    [
        (Drift(below=0.25), 0.4, (0.1, None)),
        (Drift(below=0.25), 0.0, (0.0, None)),
        (Drift(below=0.25, above=4, slack=0.02), 0.5, (0.105, 1.0)),
        (Drift(above=4, slack=20), 26, (None, 124)),
    ],
)
def test_a_drift_draws_its_band_around_the_learned_value_within_the_absolute_one(drift, value, band):
    assert drift.band(value, (0, 1) if value < 1 else (1, None)) == pytest.approx(band)


@pytest.mark.slow
def test_the_small_company_learns_on_its_first_run_and_passes_its_second(built_warehouse, tmp_path):
    # Every layer, through the gate the command line and the Dagster checks share (one process).
    from expectations.gate import run_suites

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, path)
    config = {"memory_limit": "1GB"}
    first, _ = run_suites(path, tmp_path / "gx", config, run_id="run-1", on_skip=lambda _: None)
    assert first and all(c.outcome.passed for c in first), [c.explained for c in first if c.explained]
    with duckdb.connect(str(path), read_only=True) as con:
        learned = set(con.execute(f"select suite_name || '.' || figure from {LEARNED_TABLE}").fetchall())
    assert {
        ("int_touchpoints.billing_share",),
        ("dim_customers.defection_rate",),
        ("stg_crm__appointments.no_show_share",),
        ("fct_poor_experiences.share_with_poor_experience",),
        ("int_invoices_reconciled_to_lines.mean_lines_per_invoice",),
    } <= learned
    second, _ = run_suites(path, tmp_path / "gx", config, run_id="run-2", on_skip=lambda _: None)
    judged = [c for c in second if c.suite.name in {"int_touchpoints", "dim_customers"}]
    assert len(judged) == 2 and all(c.outcome.passed for c in second)
    figures = {figure.split(".")[1] for (figure,) in learned}
    assert not [w.label() for c in second for w in c.outcome.warnings if w.column in figures]
    # The second run was judged against the first's figures: learned expectations were evaluated.
    assert any(
        e.meta and "learned_value" in e.meta for c in judged for b in c.suite.batches for e in b.expectations
    )
