"""GX gates on dbt models: every model with a suite in expectations/suites/<layer>/ gets two checks.

One multi_asset_check evaluates them all in one step after `dbt build`, reading the warehouse. Because the
mart checks are blocking, `published_marts` waits for this step and is skipped when any blocking check of
any layer fails.
"""

import time

import dagster as dg

from expectations.registry import has_suite
from expectations.runtime import GxRunner
from orchestration.dbt_assets import LAYER_GROUPS, model_asset_keys, model_relation
from orchestration.gx_gate import check_specs, run_gate
from orchestration.progress import report
from orchestration.recovery import tag_run_process
from orchestration.resources import FoldersResource, WarehouseResource


def gated_models() -> list[tuple[str, str, dg.AssetKey]]:
    """(layer, model, asset key) of every model that exists in the manifest and has a GX suite."""
    return [
        (layer, name, key)
        for layer in LAYER_GROUPS
        for name, key in sorted(model_asset_keys(layer).items())
        if has_suite(layer, name)
    ]


_GATED = gated_models()


def _build_model_gates():
    if not _GATED:
        return []

    @dg.multi_asset_check(
        name="gx_model_gates",
        specs=[spec for _, name, key in _GATED for spec in check_specs(key, name)],
        can_subset=True,
        pool="duckdb_warehouse",
    )
    def gx_model_gates(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, folders: FoldersResource
    ):
        """Validate every built model that has a suite; subsets validate only the selected checks."""
        tag_run_process(context)
        selected = {k.asset_key for k in context.selected_asset_check_keys}
        runner = GxRunner(folders.gx)
        started, failed, checked = time.monotonic(), [], 0
        with warehouse.connect() as con:
            for layer, name, key in _GATED:
                if key not in selected:
                    continue
                outcome, results = run_gate(
                    runner, con, layer, name, model_relation(name), key, run_id=context.run.run_id
                )
                checked += 1
                if not outcome.passed:
                    failed.append(f"{layer}/{name}")
                    context.log.error(f"GX {layer}/{name} failed:\n{outcome.summary()}")
                yield from results
        runner.build_docs()
        report(
            context,
            f"model gates: {checked} suites, {checked - len(failed)} passed, {len(failed)} failed"
            + (f" ({', '.join(failed)})" if failed else "")
            + f", in {time.monotonic() - started:.1f}s",
        )

    return [gx_model_gates]


model_gates = _build_model_gates()
