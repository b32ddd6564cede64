"""dbt source freshness as Dagster asset checks on the raw tables.

The dbt sources declare how recent their loads must be (`loaded_at_field: _loaded_at` with `warn_after` and
`error_after` in models/staging/<system>/_<system>__sources.yml); this is where those declarations run.
`dbt_source_freshness` runs `dbt source freshness` and turns each source's verdict into a check on its raw
asset: failed with severity WARN past warn_after, ERROR past error_after or when dbt could not tell. It does
not block anything: a table that stopped arriving is late, not wrong, and the rest goes on being built.
Freshness matters most when nothing arrives, so the checks have a job and a daily schedule of their own
(orchestration/jobs.py) rather than riding on the raw load, which only runs when exports do arrive.
"""

import time
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dbt_assets import manifest, translator
from orchestration.progress import report
from orchestration.project import dbt_project
from orchestration.recovery import tag_run_process

FRESHNESS_CHECK = "dbt_source_freshness"
RAW_SCHEMA = "raw"


def freshness_sources() -> dict[str, dg.AssetKey]:
    """dbt source selector (`source:<source>.<table>`) -> asset key, for every source in schema raw that
    declares a freshness bound."""
    found = {}
    for unique_id, source in sorted(manifest().get("sources", {}).items()):
        freshness = source.get("freshness") or {}
        bounded = any((freshness.get(k) or {}).get("count") for k in ("warn_after", "error_after"))
        if source.get("schema") == RAW_SCHEMA and bounded and source.get("loaded_at_field"):
            selector = f"source:{source['source_name']}.{source['name']}"
            found[selector] = translator.get_asset_spec(manifest(), unique_id, dbt_project).key
    return found


_SOURCES = freshness_sources()


def _criteria(freshness: dict[str, Any]) -> str:
    return ", ".join(
        f"{name} {bound['count']} {bound['period']}s"
        for name in ("warn_after", "error_after")
        if (bound := freshness.get(name) or {}).get("count")
    )


def freshness_result(asset_key: dg.AssetKey, result: dict[str, Any]) -> dg.AssetCheckResult:
    """One source's entry of dbt's sources.json as the check's result."""
    status = result.get("status")
    age = result.get("max_loaded_at_time_ago_in_s")
    metadata = {
        "dbt_status": status,
        "criteria": _criteria(result.get("criteria") or {}),
        "max_loaded_at": str(result.get("max_loaded_at")),
        "snapshotted_at": str(result.get("snapshotted_at")),
        "hours_since_last_load": round(age / 3600, 1) if age is not None else -1.0,
    }
    description = None
    if status == "runtime error":
        description = f"dbt source freshness failed: {result.get('error') or result.get('message')}"
    elif status in ("warn", "error"):
        description = f"last load {metadata['hours_since_last_load']} h ago; bounds: {metadata['criteria']}"
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=FRESHNESS_CHECK,
        passed=status == "pass",
        severity=dg.AssetCheckSeverity.WARN if status == "warn" else dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata=metadata,
    )


def _build_freshness_checks() -> list[dg.AssetChecksDefinition]:
    if not _SOURCES:
        return []

    @dg.multi_asset_check(
        name=FRESHNESS_CHECK,
        specs=[
            dg.AssetCheckSpec(
                FRESHNESS_CHECK,
                asset=key,
                description="dbt source freshness: time since the loader last landed rows (_loaded_at) "
                "against the source's warn_after / error_after.",
            )
            for key in _SOURCES.values()
        ],
        can_subset=True,
        # dbt opens the warehouse file for writing.
        pool="duckdb_warehouse",
    )
    def dbt_source_freshness(context: dg.AssetCheckExecutionContext, dbt: DbtCliResource):
        """`dbt source freshness` on the selected raw tables; one check result per table."""
        tag_run_process(context)
        selected = {k.asset_key for k in context.selected_asset_check_keys}
        selectors = {s: key for s, key in _SOURCES.items() if key in selected}
        started = time.monotonic()
        # Exit code 1 only says a source is past error_after: that is a check result, not a failed step.
        invocation = dbt.cli(
            ["source", "freshness", "--select", " ".join(selectors)],
            manifest=dbt_project.manifest_path,
            raise_on_error=False,
        ).wait()
        try:
            results = {r["unique_id"]: r for r in invocation.get_artifact("sources.json")["results"]}
        except FileNotFoundError as exc:
            raise dg.Failure(f"dbt source freshness wrote no results: {invocation.get_error()}") from exc
        by_selector = {
            f"source:{s['source_name']}.{s['name']}": results.get(unique_id)
            for unique_id, s in manifest()["sources"].items()
        }
        stale = []
        for selector, key in selectors.items():
            result = by_selector.get(selector)
            if result is None:
                raise dg.Failure(f"dbt source freshness reported nothing for {selector}")
            check = freshness_result(key, result)
            if not check.passed:
                stale.append(f"{selector.removeprefix('source:')} {result.get('status')}")
            yield check
        report(
            context,
            f"source freshness: {len(selectors)} tables, {len(stale)} not fresh"
            + (f" ({', '.join(stale)})" if stale else "")
            + f", in {time.monotonic() - started:.1f}s",
        )

    return [dbt_source_freshness]


freshness_checks = _build_freshness_checks()
