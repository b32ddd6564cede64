"""GX gates on dbt models: every model with a suite in expectations/suites/<layer>/ gets two checks.

One multi_asset_check per layer (gx_staging_gates, gx_intermediate_gates, gx_marts_gates) evaluates that
layer's suites in one step after the layer's `dbt build` step, reading the warehouse. The blocking checks
stop what reads the layer: the next layer's build step waits for the gates of the models it reads and is
skipped when one of them fails, and `published_marts` is skipped when a mart gate fails.
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


def _layer_gates(layer: str, gated: list[tuple[str, dg.AssetKey]]) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(
        name=f"gx_{layer}_gates",
        specs=[spec for name, key in gated for spec in check_specs(key, name)],
        can_subset=True,
        pool="duckdb_warehouse",
    )
    def layer_gates(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, folders: FoldersResource
    ):
        """Validate every built model of the layer that has a suite; subsets validate the selected checks."""
        tag_run_process(context)
        selected = {k.asset_key for k in context.selected_asset_check_keys}
        runner = GxRunner(folders.gx)
        started, failed, checked = time.monotonic(), [], 0
        with warehouse.connect() as con:
            for name, key in gated:
                if key not in selected:
                    continue
                outcome, results = run_gate(runner, con, layer, name, model_relation(name), key)
                checked += 1
                if not outcome.passed:
                    failed.append(f"{layer}/{name}")
                    context.log.error(f"GX {layer}/{name} failed:\n{outcome.summary()}")
                yield from results
        runner.build_docs()
        report(
            context,
            f"{layer} gates: {checked} suites, {checked - len(failed)} passed, {len(failed)} failed"
            + (f" ({', '.join(failed)})" if failed else "")
            + f", in {time.monotonic() - started:.1f}s",
        )

    return layer_gates


def _build_model_gates() -> list[dg.AssetChecksDefinition]:
    gates = []
    for layer in LAYER_GROUPS:
        gated = [(name, key) for model_layer, name, key in _GATED if model_layer == layer]
        if gated:
            gates.append(_layer_gates(layer, gated))
    return gates


model_gates = _build_model_gates()
