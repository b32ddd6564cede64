"""Drills on a tiny company: a rejected day is never published, a run killed at any stage is recovered by the
next run with nothing lost.

Everything runs for real: the generator, the loader, dbt on DuckDB, GX, the Dagster jobs (in process for the
bad-day drill, `python -m orchestration.run` in a subprocess killed with SIGKILL for the kill drills).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date, timedelta

import dagster as dg
import duckdb
import pytest
from test_recovery import (
    RUN_TIMEOUT_S,
    holds_pool_slot,
    job_env,
    kill_when,
    open_instance,
    start_run,
    tiny_company,
)

from orchestration import export_days
from orchestration.publication import current_version
from orchestration.run import run_warehouse
from raw.load import available_export_dates
from settings import REPO_ROOT

pytestmark = pytest.mark.slow

CONTACT_HEADER = (
    "contact_id,case_id,customer_id,channel,contact_at,wait_seconds,handle_seconds,transfer_count,agent_id,"
    "promise_code,promise_due_at,quoted_amount_minor"
)


def _template_contact(exports) -> dict:
    # The newest day first: its header is today's contract (early days may carry a column's earlier name).
    for day in reversed(available_export_dates(exports)):
        path = exports / day.isoformat() / "crm__contacts.csv"
        if path.exists():
            rows = list(csv.DictReader(io.StringIO(path.read_text())))
            if rows:
                return rows[0]
    raise AssertionError("the company has no contact to copy")


def _write_contacts(day_dir, template: dict, prefix: str, wait_seconds: int, n: int) -> None:
    day = day_dir.name
    rows = [
        {
            **template,
            "contact_id": f"{prefix}{i:04d}",
            "contact_at": f"{day}T10:{i:02d}:00+00:00",
            "wait_seconds": str(wait_seconds),
        }
        for i in range(n)
    ]
    path = day_dir / "crm__contacts.csv"
    existing = list(csv.DictReader(io.StringIO(path.read_text()))) if path.exists() else []
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CONTACT_HEADER.split(","))
        writer.writeheader()
        writer.writerows(existing + rows)


def _published_sources(serving, prefix: str) -> int:
    con = duckdb.connect(str(serving / "marts.duckdb"), read_only=True)
    try:
        return con.execute(
            "select count(*) from marts.fct_journey_events where source_id like ?", [prefix + "%"]
        ).fetchone()[0]
    finally:
        con.close()


def _failure_message(result) -> str:
    return "\n".join(
        e.message or ""
        for e in result.all_events
        if e.event_type in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE)
    ) + "\n".join(
        str(e.event_specific_data.error.message)
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE and e.event_specific_data.error
    )


def test_a_rejected_day_is_never_published_until_removed(tmp_path, monkeypatch):
    exports = tiny_company(tmp_path)
    days = available_export_dates(exports)
    # Two more days after the history, each delivering only contacts: 8 with a negative wait on the bad day.
    bad_day, good_day = days[-1] + timedelta(days=1), days[-1] + timedelta(days=2)
    env = job_env(tmp_path, exports)
    for var in ("WAREHOUSE_PATH", "EXPORTS_DIR", "SERVING_DIR", "ALERTS_PATH", "GX_DIR"):
        monkeypatch.setenv(var, env[var])
    serving = tmp_path / "serving"
    instance = dg.DagsterInstance.ephemeral()

    first = run_warehouse(days[0], days[-1], instance=instance)
    assert all(r.success for r in first), [_failure_message(r) for r in first]
    published = current_version(serving)

    # The bad day: 8 contacts with a negative wait, which the raw gate of crm__contacts rejects.
    template = _template_contact(exports)
    (exports / bad_day.isoformat()).mkdir()
    _write_contacts(exports / bad_day.isoformat(), template, "CTBAD", -500, 8)
    [load] = run_warehouse(bad_day, bad_day, instance=instance)
    assert not load.success
    message = _failure_message(load)
    assert str(bad_day) in message and "crm__contacts" in message and "wait_seconds" in message, message
    # The run says why with the figure, the bound and where the bound lives.
    assert "-500" in message and "min_value=0" in message, message
    assert "expectations/suites/raw/crm__contacts.py" in message, message
    assert current_version(serving) == published

    # The good day: its own rows pass, but the bad day is still loaded and rejected, so nothing is built.
    (exports / good_day.isoformat()).mkdir()
    _write_contacts(exports / good_day.isoformat(), template, "CTGOOD", 30, 3)
    [load] = run_warehouse(good_day, good_day, instance=instance)
    assert not load.success
    message = _failure_message(load)
    assert f"{bad_day}: rejected by the raw gate" in message, message
    assert str(good_day) not in message.split("have not passed")[-1], message
    assert current_version(serving) == published

    # The weekly build, started on its own (as the daemon's schedule does), refuses as well.
    from orchestration.definitions import defs

    build = defs.resolve_job_def("build_job").execute_in_process(instance=instance, raise_on_error=False)
    assert not build.success
    assert f"{bad_day}: rejected by the raw gate" in _failure_message(build)
    assert current_version(serving) == published

    # Removing the day (documented way out) lets the next run publish the good day without the bad one.
    assert export_days.main(["remove", bad_day.isoformat(), "--warehouse", env["WAREHOUSE_PATH"]]) == 0
    results = run_warehouse(good_day, good_day, instance=instance)
    assert [r.success for r in results] == [True, True], [_failure_message(r) for r in results]
    assert current_version(serving) != published
    assert _published_sources(serving, "CTGOOD") == 3
    assert _published_sources(serving, "CTBAD") == 0
    con = duckdb.connect(env["WAREHOUSE_PATH"], read_only=True)
    assert (
        con.execute("select count(*) from raw.crm__contacts where _export_date = ?", [bad_day]).fetchone()[0]
        == 0
    )
    con.close()


def test_accepting_a_rejected_day_clears_it(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw")
    con.execute("create table raw.load_audit (export_date date, status varchar)")
    con.execute("insert into raw.load_audit values ('2024-03-01', 'loaded'), ('2024-03-02', 'loaded')")
    export_days.record(con, [date(2024, 3, 1)], export_days.PASSED, None, "r1")
    export_days.record(con, [date(2024, 3, 2)], export_days.REJECTED, "crm__contacts: ...", "r1")
    assert list(export_days.blocking_days(con)) == [date(2024, 3, 2)]
    con.close()
    assert export_days.main(["status", "--warehouse", str(warehouse)]) == 1
    assert export_days.main(["accept", "2024-03-02", "--warehouse", str(warehouse)]) == 0
    assert export_days.main(["status", "--warehouse", str(warehouse)]) == 0
    con = duckdb.connect(str(warehouse), read_only=True)
    assert export_days.blocking_days(con) == {}
    assert export_days.days_to_gate(con) == []
    con.close()


def _step_running(step_key: str):
    def ready(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
        kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
        seen = {
            (e.dagster_event.event_type, e.dagster_event.step_key)
            for e in instance.all_logs(run.run_id, of_type=kinds)
            if e.dagster_event is not None
        }
        return (dg.DagsterEventType.STEP_START, step_key) in seen and (
            dg.DagsterEventType.STEP_SUCCESS,
            step_key,
        ) not in seen

    return ready


def _delivered_rows(exports) -> dict[str, int]:
    """Data records per export file (relative path), counted by Python's csv reader."""
    counts = {}
    for path in sorted(exports.glob("*/*.csv")):
        with path.open(newline="") as handle:
            counts[path.relative_to(exports).as_posix()] = max(sum(1 for _ in csv.reader(handle)) - 1, 0)
    return counts


def test_a_run_killed_at_each_stage_is_recovered_with_no_row_lost(tmp_path):
    """Kill the job during load, build, gates and publish in turn; each next run recovers the dead one."""
    exports = tiny_company(tmp_path)
    env = job_env(tmp_path, exports)
    stages = ["raw_exports", "dbt_staging", "gx_intermediate_gates", "published_marts"]
    killed = []
    for step in stages:
        proc = start_run(env)
        killed.append(kill_when(env, proc, _step_running(step), timeout=RUN_TIMEOUT_S))
        if step == stages[0]:
            # What a killed run leaves: STARTED for ever, holding the warehouse's one pool slot.
            instance = open_instance(env)
            assert instance.get_run_by_id(killed[0].run_id).status == dg.DagsterRunStatus.STARTED
            assert holds_pool_slot(instance, killed[0])

    final = subprocess.run(
        [sys.executable, "-m", "orchestration.run"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    assert final.returncode == 0, final.stdout + final.stderr
    assert f"recovered dead run {killed[-1].run_id}" in final.stdout

    instance = open_instance(env)
    for run in killed:
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    assert not instance.event_log_storage.get_concurrency_run_ids()
    alerts = [json.loads(line) for line in (tmp_path / "alerts.log").read_text().splitlines()]
    steps = {a["run_id"]: a["failed_steps"] for a in alerts if "died" in a["message"]}
    assert [steps.get(run.run_id) for run in killed] == [[s] for s in stages], steps

    # No row lost: every delivered record is loaded or quarantined, once.
    delivered = _delivered_rows(exports)
    con = duckdb.connect(env["WAREHOUSE_PATH"], read_only=True)
    audit = {
        row[0]: row[1:]
        for row in con.execute(
            "select source_file, rows_delivered, rows_loaded, rows_quarantined from raw.load_audit"
        ).fetchall()
    }
    assert set(audit) == set(delivered)
    for source_file, (rows_delivered, rows_loaded, rows_quarantined) in audit.items():
        assert rows_delivered == rows_loaded + rows_quarantined, source_file
        assert rows_delivered >= delivered[source_file] - 1, source_file  # csv joins quoted newlines
        table = source_file.split("/")[1].removesuffix(".csv")
        landed = con.execute(
            f'select count(*) from raw."{table}" where _source_file = ?', [source_file]
        ).fetchone()[0]
        assert landed == rows_loaded, source_file
    # The publication is the warehouse's marts, whole.
    marts = dict(
        con.execute(
            "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts'"
        ).fetchall()
    )
    counts = {t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0] for t in marts}
    con.close()
    serving = tmp_path / "serving"
    published = duckdb.connect(str(serving / "marts.duckdb"), read_only=True)
    for table, rows in counts.items():
        assert published.execute(f'select count(*) from marts."{table}"').fetchone()[0] == rows, table
    published.close()
    assert not list(serving.glob("publishing-*"))
    assert not list(serving.glob("publications/*.partial")), "a killed publish left a partial publication"
