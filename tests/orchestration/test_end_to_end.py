"""The whole job on a small generated company: load, build, gate, publish; then a bad day is stopped.

Runs in process against an ephemeral Dagster instance (the persistent one is for `make demo`), with every
path in a temporary folder.
"""

import json
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import date

import dagster as dg
import duckdb
import great_expectations.expectations as gxe
import pytest

from expectations.suite import ERROR, Batch, Suite
from orchestration import export_days
from orchestration.dbt_assets import LAYER_GROUPS, manifest, model_asset_keys, translator
from orchestration.gx_gate import BLOCKING_CHECK
from orchestration.project import dbt_project
from orchestration.publication import current_version
from orchestration.raw_assets import raw_asset_keys
from orchestration.run import run_warehouse
from raw.load import available_export_dates

pytestmark = pytest.mark.slow

CUSTOMERS, DAYS, SEED = 600, 120, 11
HELD_BACK_DAYS = 7

READER = textwrap.dedent("""
    import json, sys, time, pathlib, duckdb
    serving, out, stop = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    seen = []
    while not stop.exists():
        try:
            con = duckdb.connect(str(serving / "marts.duckdb"), read_only=True)
            rows = con.execute("select count(*) from marts.dim_customers").fetchone()[0]
            con.close()
            seen.append({"ok": True, "rows": rows, "version": (serving / "current").resolve().name})
        except Exception as exc:
            seen.append({"ok": False, "error": repr(exc)})
        time.sleep(0.2)
    out.write_text(json.dumps(seen))
""")


@pytest.fixture(scope="module")
def published_company(tmp_path_factory):
    """A company whose first days were loaded, built and published; the last days are held back."""
    from raw.generate import generate_company

    root = tmp_path_factory.mktemp("e2e")
    exports, held = root / "exports", root / "held_back"
    generate_company(
        out_dir=exports,
        answer_key_dir=root / "answer_key",
        customers=CUSTOMERS,
        days=DAYS,
        seed=SEED,
        start_date=date(2024, 1, 1),
        progress=False,
    )
    days = available_export_dates(exports)
    held.mkdir()
    for day in days[-HELD_BACK_DAYS:]:
        shutil.move(exports / day.isoformat(), held / day.isoformat())
    env = {
        "WAREHOUSE_PATH": root / "warehouse.duckdb",
        "EXPORTS_DIR": exports,
        "SERVING_DIR": root / "serving",
        "ALERTS_PATH": root / "alerts.log",
        "GX_DIR": root / "gx",
    }
    with pytest.MonkeyPatch.context() as mp:
        for var, value in env.items():
            mp.setenv(var, str(value))
        instance = dg.DagsterInstance.ephemeral()
        started = time.monotonic()
        results = run_warehouse(days[0], days[-HELD_BACK_DAYS - 1], instance=instance)
        elapsed = time.monotonic() - started
        rows = _table_rows(root / "warehouse.duckdb")  # before a later test builds again
        yield {
            "root": root,
            "held": held,
            "results": results,
            "instance": instance,
            "elapsed": elapsed,
            "table_rows": rows,
            **env,
        }


def _table_rows(warehouse):
    """schema.table -> select count(*), for every table of the DuckDB file."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        return {
            f"{schema}.{table}": con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            for schema, table in tables
        }


def _check_results(result):
    return {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}


def test_full_run_succeeds_and_publishes_every_mart(published_company):
    load, build = published_company["results"]
    assert load.success and build.success
    serving = published_company["SERVING_DIR"]
    con = duckdb.connect(str(serving / "marts.duckdb"), read_only=True)
    published = {
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'marts'"
        ).fetchall()
    }
    assert set(model_asset_keys("marts")) <= published
    assert con.execute("select count(*) from marts.dim_customers").fetchone()[0] > 0
    con.close()
    assert current_version(serving) is not None
    for (key, name), evaluation in {**_check_results(load), **_check_results(build)}.items():
        if name == BLOCKING_CHECK:
            assert evaluation.passed, f"{key.to_user_string()} {name}: {evaluation.metadata}"
    print(f"first load + build + publish took {published_company['elapsed']:.0f}s")


def test_every_built_model_and_seed_carries_its_row_count(published_company):
    _, build = published_company["results"]
    counts = {
        e.asset_key: e.materialization.metadata.get("dagster/row_count")
        for e in build.get_asset_materialization_events()
    }
    expected = {}
    for unique_id, node in manifest()["nodes"].items():
        if node["resource_type"] in ("model", "seed") and node["config"].get("enabled", True):
            key = translator.get_asset_spec(manifest(), unique_id, dbt_project).key
            expected[key] = published_company["table_rows"][f"{node['schema']}.{node['alias']}"]
    for layer in LAYER_GROUPS:
        assert set(model_asset_keys(layer).values()) <= set(expected), layer
    missing = [key.to_user_string() for key in expected if counts.get(key) is None]
    assert not missing, f"materialisations without dagster/row_count: {missing}"
    wrong = {
        k.to_user_string(): (counts[k].value, rows) for k, rows in expected.items() if counts[k].value != rows
    }
    assert not wrong, f"dagster/row_count != select count(*): {wrong}"
    assert any(rows > 0 for rows in expected.values())


def _plant_duplicated_invoices(held, exports):
    """Copy the held-back day with the most invoices into exports, every invoice line delivered twice."""

    def invoice_rows(day_dir):
        path = day_dir / "billing__invoices.csv"
        return len(path.read_text().splitlines()) - 1 if path.exists() else 0

    day_dir = max(sorted(held.iterdir()), key=invoice_rows)
    assert invoice_rows(day_dir) >= 10, "no held-back day with enough invoices to plant"
    target = exports / day_dir.name
    shutil.copytree(day_dir, target)
    header, *lines = (target / "billing__invoices.csv").read_text().splitlines()
    (target / "billing__invoices.csv").write_text("\n".join([header, *lines, *lines]) + "\n")
    return date.fromisoformat(day_dir.name)


def _start_reader(root):
    out, stop = root / "reader.json", root / "reader.stop"
    proc = subprocess.Popen([sys.executable, "-c", READER, str(root / "serving"), str(out), str(stop)])
    time.sleep(1.0)
    return proc, out, stop


def _stop_reader(proc, out, stop):
    stop.touch()
    proc.wait(timeout=60)
    stop.unlink()
    return json.loads(out.read_text())


def test_a_day_delivering_every_invoice_twice_is_stopped_and_the_publication_survives(published_company):
    root, serving = published_company["root"], published_company["SERVING_DIR"]
    before_version = current_version(serving)
    con = duckdb.connect(str(serving / "marts.duckdb"), read_only=True)
    before_rows = con.execute("select count(*) from marts.dim_customers").fetchone()[0]
    con.close()
    bad_day = _plant_duplicated_invoices(published_company["held"], published_company["EXPORTS_DIR"])

    proc, out, stop = _start_reader(root)
    with pytest.MonkeyPatch.context() as mp:
        for var in ("WAREHOUSE_PATH", "EXPORTS_DIR", "SERVING_DIR", "ALERTS_PATH", "GX_DIR"):
            mp.setenv(var, str(published_company[var]))
        results = run_warehouse(bad_day, bad_day, instance=published_company["instance"])
    seen = _stop_reader(proc, out, stop)

    [load] = results  # the build never starts after a failed load
    assert not load.success
    checks = _check_results(load)
    invoices = raw_asset_keys()["billing__invoices"]
    assert checks[(invoices, BLOCKING_CHECK)].passed is False
    failed = checks[(invoices, BLOCKING_CHECK)].metadata["failed_expectations"].value
    assert any("duplicate_deliveries" in f for f in failed), failed
    others = [k for (k, name), e in checks.items() if name == BLOCKING_CHECK and not e.passed]
    assert others == [invoices]

    assert current_version(serving) == before_version
    assert seen and all(s["ok"] for s in seen), [s for s in seen if not s["ok"]][:3]
    assert {s["rows"] for s in seen} == {before_rows}
    assert {s["version"] for s in seen} == {before_version}


def _remove_rejected_days(published_company):
    """The day an earlier test planted is still rejected, and a build refuses to start while it is: remove it
    (the documented way out) so that a build reaches its gates."""
    warehouse = str(published_company["WAREHOUSE_PATH"])
    with duckdb.connect(warehouse, read_only=True) as con:
        rejected = list(export_days.blocking_days(con))
    for day in rejected:
        assert export_days.main(["remove", day.isoformat(), "--warehouse", warehouse]) == 0


def _planted_suite(real_build_suite, model: str, sql: str, column: str):
    """build_suite, with `model`'s suite replaced by one rule every real table breaks: `column` of `sql`
    must be 0."""

    def build_suite(layer, name, ctx):
        if name != model:
            return real_build_suite(layer, name, ctx)
        return Suite(
            name,
            layer,
            [
                Batch(
                    "planted",
                    sql,
                    [gxe.ExpectColumnValuesToBeBetween(column=column, max_value=0, severity=ERROR)],
                )
            ],
        )

    return build_suite


def test_a_failing_blocking_staging_gate_stops_the_next_layers_and_publish(published_company, monkeypatch):
    serving = published_company["SERVING_DIR"]
    before_version = current_version(serving)
    for var in ("WAREHOUSE_PATH", "EXPORTS_DIR", "SERVING_DIR", "ALERTS_PATH", "GX_DIR"):
        monkeypatch.setenv(var, str(published_company[var]))
    real_build_suite = __import__("expectations.gate", fromlist=["build_suite"]).build_suite
    planted = _planted_suite(
        real_build_suite, "stg_crm__subscriptions", "select count(*) as rows from {relation}", "rows"
    )
    monkeypatch.setattr("expectations.gate.build_suite", planted)
    from orchestration.definitions import defs

    _remove_rejected_days(published_company)
    build = defs.resolve_job_def("build_job").execute_in_process(
        instance=published_company["instance"], raise_on_error=False
    )

    assert not build.success
    subscriptions = model_asset_keys("staging")["stg_crm__subscriptions"]
    assert _check_results(build)[(subscriptions, BLOCKING_CHECK)].passed is False
    built = {e.asset_key for e in build.get_asset_materialization_events()}
    # The staging layer was built, and nothing that reads it was: no intermediate model, no mart, no
    # publication, and no gate of the later layers ran.
    assert set(model_asset_keys("staging").values()) <= built
    assert not built & set(model_asset_keys("intermediate").values())
    assert not built & {*model_asset_keys("marts").values(), dg.AssetKey("published_marts")}
    started = {e.step_key for e in build.all_events if e.event_type == dg.DagsterEventType.STEP_START}
    assert {"dbt_staging", "gx_staging_gates"} <= started
    assert not started & {"dbt_intermediate", "gx_intermediate_gates", "dbt_marts", "published_marts"}, (
        started
    )
    assert current_version(serving) == before_version


def test_a_failing_blocking_mart_gate_skips_publish(published_company, monkeypatch):
    serving = published_company["SERVING_DIR"]
    before_version = current_version(serving)
    for var in ("WAREHOUSE_PATH", "EXPORTS_DIR", "SERVING_DIR", "ALERTS_PATH", "GX_DIR"):
        monkeypatch.setenv(var, str(published_company[var]))

    real_build_suite = __import__("expectations.gate", fromlist=["build_suite"]).build_suite
    # A rule every real defection breaks: no defection may exist at all.
    build_suite = _planted_suite(
        real_build_suite, "fct_defections", "select count(*) as defections from {relation}", "defections"
    )
    monkeypatch.setattr("expectations.gate.build_suite", build_suite)
    from orchestration.definitions import defs

    _remove_rejected_days(published_company)

    proc, out, stop = _start_reader(published_company["root"])
    build = defs.resolve_job_def("build_job").execute_in_process(
        instance=published_company["instance"], raise_on_error=False
    )
    seen = _stop_reader(proc, out, stop)

    assert not build.success
    defections = model_asset_keys("marts")["fct_defections"]
    assert _check_results(build)[(defections, BLOCKING_CHECK)].passed is False
    assert not [
        e for e in build.get_asset_materialization_events() if e.asset_key == dg.AssetKey("published_marts")
    ]
    assert current_version(serving) == before_version
    assert seen and all(s["ok"] for s in seen)


def test_a_daily_build_with_nothing_changed_skips_dbt_and_one_after_a_change_builds(
    published_company, monkeypatch
):
    """The scheduled daily build compares what it would read with what the last successful build read
    (orchestration/build_signature.py): unchanged, its first step yields nothing and every later step (layers,
    gates, publish) is skipped; after a change it builds and publishes."""
    from orchestration.dbt_assets import build_run_config
    from orchestration.definitions import defs

    serving = published_company["SERVING_DIR"]
    for var in ("WAREHOUSE_PATH", "EXPORTS_DIR", "SERVING_DIR", "ALERTS_PATH", "GX_DIR"):
        monkeypatch.setenv(var, str(published_company[var]))
    _remove_rejected_days(published_company)
    daily = build_run_config("latest_run").to_config_dict()
    job, instance = defs.resolve_job_def("build_job"), published_company["instance"]

    # A build that succeeds (whole-table tests if an earlier test's build failed) records what it read.
    first = job.execute_in_process(instance=instance, run_config=daily, raise_on_error=False)
    assert first.success
    published = current_version(serving)

    skipped = job.execute_in_process(instance=instance, run_config=daily, raise_on_error=False)
    assert skipped.success
    assert not skipped.get_asset_materialization_events() and not skipped.get_asset_check_evaluations()
    started = {e.step_key for e in skipped.all_events if e.event_type == dg.DagsterEventType.STEP_START}
    assert started == {"dbt_staging"}, started
    assert current_version(serving) == published

    # A variable profiles.yml reads is part of what a build reads: the next daily build runs.
    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", "2GB")
    built = job.execute_in_process(instance=instance, run_config=daily, raise_on_error=False)
    assert built.success
    materialized = {e.asset_key for e in built.get_asset_materialization_events()}
    assert set(model_asset_keys("marts").values()) | {dg.AssetKey("published_marts")} <= materialized
    assert current_version(serving) != published
