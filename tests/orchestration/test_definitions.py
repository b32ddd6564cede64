"""The code location loads, the graph connects raw to dbt, and every table carries its checks."""

import dagster as dg

from expectations.registry import has_suite, suite_names
from expectations.suites.raw._contract import contract_tables
from orchestration.dbt_assets import model_asset_keys, source_asset_keys
from orchestration.definitions import defs
from orchestration.gx_gate import BLOCKING_CHECK, WARNING_CHECK
from orchestration.raw_assets import raw_asset_keys


def _graph():
    return defs.resolve_asset_graph()


def _checks_by_asset():
    by_asset: dict[dg.AssetKey, set[str]] = {}
    for check_key in _graph().asset_check_keys:
        by_asset.setdefault(check_key.asset_key, set()).add(check_key.name)
    return by_asset


def test_definitions_load_with_jobs_schedule_and_sensors():
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"raw_load_job", "build_job"}
    assert defs.resolve_schedule_def("raw_load_daily_schedule")
    for sensor in ("new_export_day_sensor", "build_after_raw_load", "alert_on_run_failure"):
        assert defs.resolve_sensor_def(sensor)


def test_raw_assets_are_the_dbt_sources_so_the_graph_connects():
    graph = _graph()
    sources = source_asset_keys("raw")
    assert sources, "dbt declares no sources in schema raw"
    for table, key in raw_asset_keys().items():
        node = graph.get(key)
        assert node.group_name == "raw"
        assert node.is_materializable, f"{key} is not produced by raw_exports"
        if table in sources:
            assert key == sources[table]
    staging = model_asset_keys("staging")
    assert any(
        raw_asset_keys()["billing__invoices"] in graph.get(key).parent_keys for key in staging.values()
    ), "no staging model reads the raw invoices asset"


def test_every_raw_table_has_both_gx_checks_and_the_blocking_one_blocks():
    checks = _checks_by_asset()
    for table in contract_tables():
        key = raw_asset_keys()[table]
        assert {BLOCKING_CHECK, WARNING_CHECK} <= checks.get(key, set()), table
        spec = _graph().get_check_spec(dg.AssetCheckKey(key, BLOCKING_CHECK))
        assert spec.blocking


def test_every_mart_has_a_gx_suite_and_checks():
    checks = _checks_by_asset()
    marts = model_asset_keys("marts")
    assert marts, "no marts in the dbt manifest"
    for name, key in marts.items():
        assert has_suite("marts", name), f"mart {name} has no suite in expectations/suites/marts/"
        assert {BLOCKING_CHECK, WARNING_CHECK} <= checks.get(key, set()), name
        assert _graph().get_check_spec(dg.AssetCheckKey(key, BLOCKING_CHECK)).blocking


def test_dbt_tests_arrive_as_asset_checks():
    checks = _checks_by_asset()
    dbt_checks = {name for key in model_asset_keys("marts").values() for name in checks.get(key, set())} - {
        BLOCKING_CHECK,
        WARNING_CHECK,
    }
    assert any(name.startswith(("unique_", "not_null_")) for name in dbt_checks), sorted(dbt_checks)[:10]


def test_suites_exist_only_for_models_that_exist():
    for layer in ("staging", "intermediate", "marts"):
        models = set(model_asset_keys(layer))
        assert set(suite_names(layer)) <= models, f"{layer}: suites for unknown models"


def test_published_marts_depends_on_every_mart_and_layers_are_groups():
    graph = _graph()
    published = graph.get(dg.AssetKey("published_marts"))
    assert set(published.parent_keys) == set(model_asset_keys("marts").values())
    for layer in ("staging", "intermediate", "marts"):
        for key in model_asset_keys(layer).values():
            assert graph.get(key).group_name == layer


def test_every_dbt_data_test_is_an_asset_check_of_the_model_it_guards():
    # dagster-dbt attaches a generic test to its model and a singular test to its only parent; a singular
    # test reading several models needs meta.dagster.ref, or it silently becomes no check of any asset.
    from orchestration.dbt_assets import manifest

    checks = {key.name: key.asset_key for key in _graph().asset_check_keys}
    tests = {
        node["name"]: node
        for node in manifest()["nodes"].values()
        if node["resource_type"] == "test" and node["config"].get("enabled", True)
    }
    assert tests
    missing = sorted(name for name in tests if name not in checks)
    assert not missing, f"dbt tests that are no Dagster asset check: {missing}"
    models = {**model_asset_keys("staging"), **model_asset_keys("intermediate"), **model_asset_keys("marts")}
    for name, node in tests.items():
        ref = (node["config"].get("meta") or {}).get("dagster", {}).get("ref")
        if ref:
            assert checks[name] == models[ref["name"]], name


def test_the_warehouse_pool_is_the_one_limit_on_writers():
    """Every step opens the DuckDB file, so every one claims the pool of one slot; no run-level limit."""
    import yaml

    from orchestration.run import DAGSTER_YAML

    for assets in defs.assets or []:
        assert assets.node_def.pool == "duckdb_warehouse", assets.node_def.name
    for checks in defs.asset_checks or []:
        assert checks.node_def.pool == "duckdb_warehouse", checks.node_def.name
    instance = yaml.safe_load(DAGSTER_YAML.read_text())
    assert instance["concurrency"] == {"pools": {"default_limit": 1}}
    for job in defs.resolve_all_job_defs():
        assert not job.tags, (job.name, job.tags)
