"""dbt models, seeds and tests as Dagster assets and checks, grouped by the folder (layer) they live in.

The dbt assets are not partitioned, although the raw assets are daily: `dbt build` brings the whole
warehouse up to date in one go (incremental models rebuild whatever changed, whatever day it came on), so a
per-day partition would describe nothing dbt does, and on Dagster's SQLite storage it would cost one event
per model per day (a year of days x 90 models = tens of thousands of events before the first step). The
build job runs after a successful raw load (see orchestration/jobs.py). dbt tests arrive as asset checks by
themselves; an error-severity test failure fails the build step, so nothing downstream of it (GX mart gates,
publish) runs.
"""

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.project import dbt_project
from orchestration.settings import PRODUCTION_BUILD_FLAGS

LAYER_GROUPS = ("staging", "intermediate", "marts")


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


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool="duckdb_warehouse",
)
def warehouse_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build`: seeds, models and data tests in dependency order (unit tests run in CI, not here)."""
    yield from dbt.cli(["build", *PRODUCTION_BUILD_FLAGS], context=context).stream()
