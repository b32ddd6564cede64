"""Turn a GX suite outcome into Dagster asset check results: one blocking check, one warning check.

`gx_blocking` fails with severity ERROR (and, being declared blocking, stops everything downstream) when an
error-severity expectation fails or any expectation raised; `gx_warnings` fails with severity WARN and
carries the observed numbers of warning expectations, but lets data through.
"""

from __future__ import annotations

import dagster as dg
import duckdb

from expectations import state
from expectations.registry import build_suite
from expectations.runtime import GxRunner, SuiteOutcome
from expectations.suite import SuiteContext

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
) -> tuple[SuiteOutcome, list[dg.AssetCheckResult]]:
    """Validate one table and return its outcome and check results; remembers the row count when it passed."""
    ctx = SuiteContext(relation=relation, where=where, previous_row_count=state.previous_row_count(con, name))
    suite = build_suite(layer, name, ctx).bound(relation, where)
    outcome = runner.validate(con, suite)
    if outcome.passed and outcome.row_count is not None:
        state.record_row_count(con, name, outcome.row_count)
    failures = outcome.blocking_failures
    warnings = outcome.warnings
    explained = [explain(o, suite, con, relation, where) for o in failures]
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
# Expectation arguments that state a bound (what a figure is compared with).
_BOUND_KWARGS = (
    "min_value",
    "max_value",
    "strict_min",
    "strict_max",
    "value_set",
    "regex",
    "mostly",
    "type_",
)
_FIGURES = ("observed_value", "unexpected_count", "unexpected_percent", "element_count")


def suite_file(layer: str, name: str) -> str:
    """The file that holds a suite's rules and bounds, relative to the repository root."""
    return f"expectations/suites/{layer}/{name}.py"


def _expectation_kwargs(suite, outcome) -> dict:
    for batch in suite.batches:
        if batch.name != outcome.batch:
            continue
        for expectation in batch.expectations:
            kwargs = expectation.configuration.kwargs
            if expectation.expectation_type == outcome.expectation and (
                outcome.column is None or kwargs.get("column") == outcome.column
            ):
                return {**kwargs, **(expectation.meta or {})}
    return {}


def _offending_files(con, relation: str, where: str, outcome) -> list[str]:
    """Raw tables only: the export files holding sample offending values of a column expectation."""
    if not relation.startswith("raw.") or not outcome.column or "," in outcome.column:
        return []
    sample = outcome.observed.get("partial_unexpected_list") or []
    column = '"' + outcome.column.replace('"', '""') + '"'
    if outcome.expectation == "expect_column_values_to_not_be_null":
        condition, params = f"{column} is null", []
    elif sample:
        values = [v for v in sample if v is not None][:20]
        if not values:
            return []
        condition, params = f"{column} in ({', '.join('?' for _ in values)})", values
    else:
        return []
    try:
        rows = con.execute(
            f"select distinct _source_file from {relation} where ({where}) and {condition} "
            "order by 1 limit 5",
            params,
        ).fetchall()
    except duckdb.Error:
        return []
    return [r[0] for r in rows]


def explain(outcome, suite, con, relation: str, where: str) -> str:
    """One line for a failed expectation: which check, the figure observed, the bound, and where the bound
    lives (the suite file); for raw tables also the export files holding offending rows."""
    check = f"{outcome.suite}.{outcome.batch}: {outcome.expectation}" + (
        f"({outcome.column})" if outcome.column else ""
    )
    if outcome.raised:
        return f"{check} raised: {outcome.error_message}"
    figures = ", ".join(
        f"{k}={outcome.observed[k]!r}" for k in _FIGURES if outcome.observed.get(k) is not None
    )
    sample = outcome.observed.get("partial_unexpected_list")
    if sample:
        figures += f", e.g. {sample[:5]!r}"
    kwargs = _expectation_kwargs(suite, outcome)
    bound = ", ".join(f"{k}={kwargs[k]!r}" for k in _BOUND_KWARGS if kwargs.get(k) is not None)
    if kwargs.get("rule"):
        bound = f"{bound}, rule: {kwargs['rule']}" if bound else f"rule: {kwargs['rule']}"
    where_bound = suite_file(suite.layer, suite.name)
    line = f"{check}: observed {figures or 'n/a'}; bound {bound or 'n/a'} (in {where_bound})"
    files = _offending_files(con, relation, where, outcome)
    if files:
        line += f"; files {', '.join(files)}"
    return line


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
