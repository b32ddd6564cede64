"""Raw landing: one multi_asset loads the export day folders of its partitions into schema raw.

Asset keys are the dbt source keys (read from the manifest through the translator) so the raw assets and the
dbt graph are one graph. Each table's GX suite runs on the days just loaded, in the same step: a blocking
failure fails the step, so nothing downstream (dbt, publish) runs on a broken delivery.
"""

from collections import defaultdict

import dagster as dg

from expectations.registry import has_suite
from expectations.runtime import GxRunner
from expectations.suites.raw._contract import contract_tables
from orchestration.dbt_assets import source_asset_keys
from orchestration.gx_gate import check_specs, run_gate
from orchestration.partitions import days_in_range, export_days
from orchestration.resources import FoldersResource, WarehouseResource
from raw.load import ContractError, available_export_dates, load_exports

RAW_SCHEMA = "raw"


def raw_asset_keys() -> dict[str, dg.AssetKey]:
    """Table in schema raw -> asset key: the dbt source's key, else [system, entity] like dagster-dbt's.

    Contract tables always have an asset; the loader's own tables (load_audit, load_quarantine) too when
    dbt declares them as sources, since this step writes them.
    """
    from_dbt = source_asset_keys(RAW_SCHEMA)
    keys = {}
    for table, spec in contract_tables().items():
        keys[table] = from_dbt.get(table) or dg.AssetKey([spec["system"], table.split("__", 1)[1]])
    for table, key in from_dbt.items():
        keys.setdefault(table, key)
    return keys


def _describe(table: str) -> tuple[str, dict]:
    spec = contract_tables().get(table)
    if spec is None:
        return f"Written by the raw loader: {table}.", {"table": f"{RAW_SCHEMA}.{table}"}
    return spec["description"], {"table": f"{RAW_SCHEMA}.{table}", "grain": spec["grain"]}


_KEYS = raw_asset_keys()

# Transient trouble (a file still being written, a share briefly away) heals by waiting; contract breaks
# raise Failure(allow_retries=False) instead and are never retried.
RAW_RETRY = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


@dg.multi_asset(
    name="raw_exports",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw",
            description=_describe(table)[0],
            metadata=_describe(table)[1],
            kinds={"duckdb"},
        )
        for table, key in _KEYS.items()
    ],
    check_specs=[
        spec for table, key in _KEYS.items() if has_suite("raw", table) for spec in check_specs(key, table)
    ],
    partitions_def=export_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=RAW_RETRY,
    pool="duckdb_warehouse",
)
def raw_exports(context: dg.AssetExecutionContext, warehouse: WarehouseResource, folders: FoldersResource):
    """Load the export day folders of the run's partitions (a range is one run), then GX-check those days."""
    requested = days_in_range(context.partition_key_range.start, context.partition_key_range.end)
    available = set(available_export_dates(folders.exports))
    days = [d for d in requested if d in available]
    if not days:
        # Most often the day's export has not landed yet: raising lets the retry policy wait for it.
        raise FileNotFoundError(
            f"no export folder under {folders.exports} for {requested[0]}..{requested[-1]}"
        )
    context.log.info(f"loading {len(days)} export day(s) {days[0]}..{days[-1]} from {folders.exports}")

    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with warehouse.connect() as con:
        try:
            # One call for the whole range: the loader batches whole days per transaction.
            results = load_exports(con, folders.exports, days)
        except ContractError as exc:
            raise dg.Failure(
                description=str(exc),
                allow_retries=False,
                metadata={"refused_files": [r.source_file for r in exc.refused]},
            ) from exc
        for r in results:
            counts = totals[r.table_name]
            counts["files"] += 1
            counts["rows_delivered"] += r.rows_delivered
            counts["rows_loaded"] += r.rows_loaded
            counts["rows_quarantined"] += r.rows_quarantined

        for table, key in _KEYS.items():
            counts = totals.get(table, {})
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "export_days": f"{days[0]}..{days[-1]} ({len(days)} days)",
                    "files": counts.get("files", 0),
                    "rows_delivered": counts.get("rows_delivered", 0),
                    "rows_loaded": counts.get("rows_loaded", 0),
                    "rows_quarantined": counts.get("rows_quarantined", 0),
                },
            )

        runner = GxRunner(folders.gx)
        where = f"_export_date between date '{days[0]}' and date '{days[-1]}'"
        for table, key in _KEYS.items():
            if not has_suite("raw", table):
                continue
            outcome, results = run_gate(runner, con, "raw", table, f"{RAW_SCHEMA}.{table}", key, where=where)
            if not outcome.passed:
                context.log.error(f"GX raw/{table} failed:\n{outcome.summary()}")
            yield from results
        runner.build_docs()
