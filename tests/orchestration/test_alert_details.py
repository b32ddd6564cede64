"""A failed gate's alert names the check, the figure observed, the bound, the file holding the bound and, for
raw tables, the export file holding the offending rows; not only the step that failed."""

import json

import dagster as dg
import duckdb

from expectations.runtime import GxRunner
from orchestration.alerts import FileNotifier, alert_for_failed_run
from orchestration.gx_gate import BLOCKING_CHECK, check_specs, run_gate
from raw.load import ensure_raw_schema

KEY = dg.AssetKey(["crm", "contacts"])


def _contacts(con, waits: list[int]) -> None:
    ensure_raw_schema(con)
    for i, wait in enumerate(waits):
        con.execute(
            "insert into raw.crm__contacts (contact_id, case_id, customer_id, channel, contact_at, "
            "wait_seconds, handle_seconds, transfer_count, _export_date, _source_file, _line_number) "
            "values (?, 'K1', 'C1', 'PHONE', timestamptz '2024-03-07 10:00:00+00', ?, 60, 0, "
            "date '2024-03-07', '2024-03-07/crm__contacts.csv', ?)",
            [f"CT{i:04d}", wait, i + 2],
        )


def test_a_failed_raw_gate_explains_figure_bound_and_file(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    gx_dir = tmp_path / "gx"

    @dg.asset(key=KEY, check_specs=check_specs(KEY, "crm__contacts"))
    def contacts():
        con = duckdb.connect(str(warehouse))
        try:
            _contacts(con, [30, -500, 45, -500])
            _, results = run_gate(GxRunner(gx_dir), con, "raw", "crm__contacts", "raw.crm__contacts", KEY)
        finally:
            con.close()
        yield dg.MaterializeResult()
        yield from results

    with dg.instance_for_test() as instance:
        result = dg.materialize([contacts], instance=instance, raise_on_error=False)
    assert not result.success
    [blocking] = [e for e in result.get_asset_check_evaluations() if e.check_name == BLOCKING_CHECK]
    [line] = blocking.metadata["failures"].value
    assert "expect_column_values_to_be_between(wait_seconds)" in line, line
    assert "unexpected_count=2" in line and "-500" in line, line
    assert "min_value=0" in line, line
    assert "expectations/suites/raw/crm__contacts.py" in line, line
    assert "2024-03-07/crm__contacts.csv" in line, line

    alert = alert_for_failed_run(result.dagster_run, result.all_events, FileNotifier(tmp_path / "alerts.log"))
    [recorded] = [json.loads(x) for x in (tmp_path / "alerts.log").read_text().splitlines()]
    assert recorded["run_id"] == alert.run_id
    [check] = recorded["failed_checks"]
    assert check.startswith("crm/contacts gx_blocking: ") and "min_value=0" in check and "-500" in check
    assert "crm__contacts" in recorded["message"], recorded["message"]


def test_a_passing_gate_has_nothing_to_explain(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    _contacts(con, [30, 45])
    outcome, results = run_gate(
        GxRunner(tmp_path / "gx"), con, "raw", "crm__contacts", "raw.crm__contacts", KEY
    )
    con.close()
    assert outcome.passed
    blocking = next(r for r in results if r.check_name == BLOCKING_CHECK)
    assert blocking.passed and blocking.metadata["failures"].value == []
