"""Turn a GX suite outcome into Dagster asset check results: one blocking check, one warning check.

`gx_blocking` fails with severity ERROR (and, being declared blocking, stops everything downstream) when an
error-severity expectation fails or any expectation raised; `gx_warnings` fails with severity WARN and
carries the observed numbers of warning expectations, but lets data through.
"""

from __future__ import annotations

import dagster as dg
import duckdb

from expectations.gate import gate_table, suite_file
from expectations.runtime import GxRunner, SuiteOutcome

BLOCKING_CHECK = "gx_blocking"
WARNING_CHECK = "gx_warnings"


def check_specs(asset_key: dg.AssetKey, suite_name: str) -> list[dg.AssetCheckSpec]:
    """The two GX checks of one asset."""
    return [
        dg.AssetCheckSpec(
            BLOCKING_CHECK,
            asset=asset_key,
            blocking=True,
            description=f"GX suite {suite_name}: error-severity expectations (block downstream on failure).",
        ),
        dg.AssetCheckSpec(
            WARNING_CHECK,
            asset=asset_key,
            description=f"GX suite {suite_name}: warning-severity expectations (recorded, never blocking).",
        ),
    ]


def run_gate(
    runner: GxRunner,
    con: duckdb.DuckDBPyConnection,
    layer: str,
    name: str,
    relation: str,
    asset_key: dg.AssetKey,
    where: str = "true",
    run_id: str | None = None,
) -> tuple[SuiteOutcome, list[dg.AssetCheckResult]]:
    """Validate one table through the shared gate (expectations.gate.gate_table, which also records its
    baselines when it passed) and return its outcome and check results."""
    check = gate_table(runner, con, layer, name, relation, where, run_id)
    outcome, explained = check.outcome, check.explained
    failures = outcome.blocking_failures
    warnings = outcome.warnings
    results = [
        dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=BLOCKING_CHECK,
            passed=not failures,
            severity=dg.AssetCheckSeverity.ERROR,
            description="; ".join(explained) or None,
            metadata={
                "suite": f"{layer}/{name}",
                "suite_file": suite_file(layer, name),
                FAILURES_KEY: explained,
                "failed_expectations": [f.label() for f in failures],
                "details": dg.MetadataValue.md(_table(failures)),
                "expectations_evaluated": len(outcome.outcomes),
                "row_count": outcome.row_count if outcome.row_count is not None else -1,
            },
        ),
        dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=WARNING_CHECK,
            passed=not warnings,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "suite": f"{layer}/{name}",
                "warned_expectations": [w.label() for w in warnings],
                "details": dg.MetadataValue.md(_table(warnings)),
            },
        ),
    ]
    return outcome, results


FAILURES_KEY = "failures"


def _table(outcomes) -> str:
    if not outcomes:
        return "none"
    rows = ["| expectation | observed |", "|---|---|"]
    for o in outcomes:
        observed = (
            o.error_message
            if o.raised
            else ", ".join(
                f"{k}={v}"
                for k, v in o.observed.items()
                if k
                in ("observed_value", "unexpected_count", "unexpected_percent", "partial_unexpected_list")
            )
        )
        rows.append(f"| {o.label()} | {str(observed).replace('|', '/')} |")
    return "\n".join(rows)
