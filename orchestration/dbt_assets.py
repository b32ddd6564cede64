"""dbt models, seeds and tests as Dagster assets and checks, built one layer per step.

Each layer (staging, intermediate, marts: the top folder under models/) is its own dbt asset definition, one
`dbt build` step, so the GX gates of a layer (orchestration/model_gates.py, blocking asset checks) run between
its step and the next one's: a failing staging gate stops the intermediate build in that run, a failing
intermediate gate stops the marts, a failing mart gate stops the publication. dbt tests arrive as asset checks
by themselves; an error-severity test failure fails its layer's step, so nothing after it runs either.

The dbt assets are not partitioned, although the raw assets are daily: `dbt build` brings the whole
warehouse up to date in one go (incremental models rebuild whatever changed, whatever day it came on), so a
per-day partition would describe nothing dbt does, and on Dagster's SQLite storage it would cost one event
per model per day (a year of days x 90 models = tens of thousands of events before the first step). The
build job runs after a successful raw load (see orchestration/jobs.py).

The build after each raw load (the scheduled daily build) runs the data tests of incremental models only on
the rows it wrote; every other build tests whole tables, and a weekly build does so on the schedule (see
DbtBuildConfig and orchestration/jobs.py). When nothing it would read changed since the job last published
(orchestration/build_signature.py), its first step yields nothing, so Dagster skips every later step.
"""

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.build_signature import (
    build_signature,
    forget_other_builds,
    start_build,
    unchanged_since_last_success,
)
from orchestration.engine_target import dbt_target, land_raw, mirror_built_tables
from orchestration.export_days import blocking_days, blocking_message
from orchestration.progress import report
from orchestration.project import dbt_project
from orchestration.recovery import tag_run_process
from orchestration.resources import WarehouseResource
from settings import DATA_TESTS_SCOPES, build_flags

LAYER_GROUPS = ("staging", "intermediate", "marts")

# The dbt selection of each layer's build step, in build order. Seeds (reference data) are built with
# staging; the restricted contacts model (personal data kept out of the marts) with the marts.
LAYER_SELECTIONS = {
    "staging": "resource_type:seed path:models/staging",
    "intermediate": "path:models/intermediate",
    "marts": "path:models/marts path:models/restricted",
}
# dbt's indirect selection for the layer steps: a test runs in the step of the last layer it reads, once
# every model it reads is built. dbt's default (eager) would run a test between a staging and an
# intermediate model in the staging step, against the intermediate table of the previous build.
INDIRECT_SELECTION = "buildable"
FIRST_LAYER = next(iter(LAYER_SELECTIONS))
# The metadata key of a table's row count, which the Dagster UI shows on each materialisation.
ROW_COUNT = "dagster/row_count"
# dbt materialisations whose rows are counted after a layer's step. Views are not: counting one runs its whole
# query (the project builds none: dbt_project.yml).
COUNTED_MATERIALIZATIONS = ("table", "incremental", "seed")


class LayerTranslator(DagsterDbtTranslator):
    """Asset group = the model's top folder under models/ (staging, intermediate, marts); seeds: reference."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        if len(fqn) > 1 and fqn[1] in LAYER_GROUPS:
            return fqn[1]
        return super().get_group_name(dbt_resource_props)


translator = LayerTranslator()


@cache
def manifest() -> dict:
    """The parsed dbt manifest (nodes, sources) of the project."""
    return json.loads(dbt_project.manifest_path.read_text())


def source_asset_keys(schema: str) -> dict[str, dg.AssetKey]:
    """Table identifier in `schema` -> the asset key dagster-dbt gives that dbt source."""
    keys = {}
    for unique_id, source in manifest().get("sources", {}).items():
        if source.get("schema") == schema:
            keys[source["identifier"]] = translator.get_asset_spec(manifest(), unique_id, dbt_project).key
    return keys


def model_asset_keys(layer: str) -> dict[str, dg.AssetKey]:
    """Model name -> asset key for every enabled model of `layer` (its top folder), read from the manifest."""
    keys = {}
    for unique_id, node in manifest().get("nodes", {}).items():
        fqn = node.get("fqn", [])
        if node.get("resource_type") == "model" and len(fqn) > 1 and fqn[1] == layer:
            keys[node["name"]] = translator.get_asset_spec(manifest(), unique_id, dbt_project).key
    return keys


def model_relation(name: str) -> str:
    """schema.alias of a model as built in the warehouse."""
    for node in manifest().get("nodes", {}).values():
        if node.get("resource_type") == "model" and node["name"] == name:
            return f"{node['schema']}.{node.get('alias') or name}"
    raise KeyError(name)


class DbtBuildConfig(dg.Config):
    """Run config of a layer's dbt build (launchpad: ops: dbt_<layer>: config: data_tests_scope: ...).

    data_tests_scope is dbt var data_tests_scope (macros/get_where_subquery.sql). `all`, the default, tests
    whole tables, as every build did before: a run without config, a UI materialisation, the weekly build.
    `latest_run` runs the tests that opt in only on the rows this run wrote: build_after_raw_load asks for it,
    so the scheduled daily build does. That gives the whole-table result only when the previous build passed,
    so a `latest_run` run tests whole tables when its job's previous finished run did not succeed.
    """

    data_tests_scope: Literal[DATA_TESTS_SCOPES] = "all"


def previous_run_succeeded(context: dg.AssetExecutionContext) -> bool:
    """Whether the latest finished run of this run's job (this one is still running) succeeded."""
    finished = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
    runs = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=context.job_name, statuses=finished), limit=1
    )
    return bool(runs) and runs[0].status == dg.DagsterRunStatus.SUCCESS


def _layer_build(layer: str) -> dg.AssetsDefinition:
    """The dbt asset definition of one layer: one `dbt build` step over LAYER_SELECTIONS[layer]."""

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        dagster_dbt_translator=translator,
        select=LAYER_SELECTIONS[layer],
        name=f"dbt_{layer}",
        pool="duckdb_warehouse",
    )
    def build_layer(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        config: DbtBuildConfig,
        warehouse: WarehouseResource,
    ):
        """`dbt build` of the layer: seeds, models and data tests in dependency order (unit tests run in CI).

        Refuses to start while a loaded export day is rejected by the raw gate or was never gated: its rows
        are in schema raw, and a build would publish them (orchestration/export_days.py)."""
        tag_run_process(context)
        scope = config.data_tests_scope
        if scope == "latest_run" and not previous_run_succeeded(context):
            context.log.warning("the previous build did not succeed: testing whole tables, not the last run")
            scope = "all"
        signature = None
        if warehouse.file.exists():
            with warehouse.connect(read_only=True) as con:
                blocking = blocking_days(con)
                if layer == FIRST_LAYER:
                    signature = build_signature(con, manifest(), warehouse.file)
            if blocking:
                raise dg.Failure(description=blocking_message(blocking), allow_retries=False)
        if signature is not None:
            if scope == "latest_run" and unchanged_since_last_success(build_record_folder(), signature):
                # Nothing is yielded: the steps after this one (later layers, gates, publish) are skipped.
                report(context, "build: skipped, nothing changed since the last successful build")
                return
            start_build(build_record_folder(), signature, context.run.run_id)
        else:
            forget_other_builds(build_record_folder(), warehouse.file, context.run.run_id)
        target = dbt_target()
        if target != "dev" and layer == FIRST_LAYER:  # the raw tables where this engine reads them
            landed = land_raw(warehouse.file, target)
            report(context, f"land: {len(landed)} raw tables for the {target} target")
        with _default_env("DBT_INDIRECT_SELECTION", INDIRECT_SELECTION):
            build = dbt.cli(["build", *build_flags(scope)], context=context, target_path=target_path(scope))
        # dbt's process holds the DuckDB file until it ends: its events are held until then, and passed on
        # with the row count of each table built, counted in the file once dbt released it.
        events, failure = _until_dbt_ends(_with_progress(context, layer, build.stream()))
        if target == "dev":
            counted = None  # every table dbt built is in the DuckDB file
        elif failure is None:  # the layer's tables into the DuckDB file, for its GX gates and the publication
            mirrored = mirror_built_tables(warehouse.file, target, (layer,), dbt_project.manifest_path)
            report(context, f"mirror {layer}: {len(mirrored)} {target} tables into {warehouse.file.name}")
            counted = set(mirrored)
        else:  # a failed step mirrors nothing: the DuckDB file holds no table of this build to count
            counted = set()
        yield from _with_row_counts(events, warehouse, counted)
        if failure is not None:
            raise failure

    return build_layer


@contextmanager
def _default_env(var: str, value: str) -> Iterator[None]:
    """`var` set to `value` while dbt's process starts, unless the environment sets it already."""
    if var in os.environ:
        yield
        return
    os.environ[var] = value
    try:
        yield
    finally:
        os.environ.pop(var, None)


# One build step per layer, in build order (the ops dbt_staging, dbt_intermediate, dbt_marts).
dbt_layer_assets = [_layer_build(layer) for layer in LAYER_SELECTIONS]


def _with_progress(context, layer: str, events):
    """Pass dbt's events on, reporting the layer's start and, at the end, its models and tests."""
    report(context, f"build {layer}: started")
    models = set(model_asset_keys(layer).values())
    started = time.monotonic()
    built = 0
    tests = {"passed": 0, "failed": 0}
    for event in events:
        key = getattr(event, "asset_key", None)
        if key is None and isinstance(event, dg.Output):
            key = context.asset_key_for_output(event.output_name)
        if isinstance(event, dg.AssetCheckResult):
            tests["passed" if event.passed else "failed"] += 1
        elif key in models:
            built += 1
        yield event
    report(
        context,
        f"build {layer}: {built} models; dbt tests {tests['passed']} passed, {tests['failed']} failed; "
        f"in {time.monotonic() - started:.1f}s",
    )


def _until_dbt_ends(events: Iterator) -> tuple[list, Exception | None]:
    """Every event of a dbt invocation, and the exception that ended it (a failed step) if any."""
    held = []
    try:
        for event in events:
            held.append(event)
    except Exception as failure:  # passed on after the events before it, as dbt's own stream would
        return held, failure
    return held, None


def _with_row_counts(events: list, warehouse: WarehouseResource, counted: set[str] | None) -> Iterator:
    """`events`, each materialisation of a table among `counted` (schema.table; None: all) with its row count.

    Counted in the DuckDB file through a read-only connection closed before the events are passed on, so the
    gates after this step open the file as they would otherwise."""
    relations = {}
    for event in events:
        unique_id = _unique_id(event)
        node = manifest().get("nodes", {}).get(unique_id) if unique_id else None
        if node and node.get("config", {}).get("materialized") in COUNTED_MATERIALIZATIONS:
            relation = f"{node['schema']}.{node.get('alias') or node['name']}"
            if counted is None or relation in counted:
                relations[unique_id] = relation
    counts = {}
    if relations and warehouse.file.exists():
        with warehouse.connect(read_only=True) as con:
            for unique_id, relation in relations.items():
                quoted = ".".join('"' + part.replace('"', '""') + '"' for part in relation.split(".", 1))
                counts[unique_id] = con.execute(f"select count(*) from {quoted}").fetchone()[0]
    for event in events:
        rows = counts.get(_unique_id(event))
        yield event if rows is None else event.with_metadata({**event.metadata, ROW_COUNT: rows})


def _unique_id(event) -> str | None:
    """The dbt unique_id a model's or seed's materialisation event carries (None for other events)."""
    if not isinstance(event, (dg.Output, dg.AssetMaterialization)):
        return None
    value = event.metadata.get("unique_id")
    return getattr(value, "text", value)


def target_path(data_tests_scope: str) -> Path | None:
    """dbt's target folder for a build testing `data_tests_scope`; None: dagster-dbt's new folder per run.

    dagster-dbt gives each run a new target folder and copies in the project's prepared partial-parse file,
    which was parsed without --vars. A `latest_run` build passes --vars, so dbt rejects that file ("config
    vars ... have changed") and parses the whole project every day (seen in dbt.log of a Dagster run). Such
    builds keep one folder per scope instead: dagster-dbt copies nothing over a partial-parse file already
    there, so from the second daily build on dbt reuses the previous one's, parsed with the same vars (and
    re-parses only files that changed since, as partial parsing always does). Sharing the folder is safe:
    builds (and the layer steps of one build) are serialised by the duckdb_warehouse pool.
    """
    if data_tests_scope == "all":
        return None
    return dbt_project.project_dir / dbt_project.target_path / f"dagster_{data_tests_scope}"


def build_record_folder() -> Path:
    """Where the build job records the signature of its last successful run (orchestration/build_signature):
    the daily builds' target folder, as they are the builds that compare with it."""
    return target_path("latest_run")


def build_run_config(data_tests_scope: str) -> dg.RunConfig:
    """Run config of a build_job run testing `data_tests_scope` (every layer's step alike)."""
    config = DbtBuildConfig(data_tests_scope=data_tests_scope)
    return dg.RunConfig(ops={assets.op.name: config for assets in dbt_layer_assets})
