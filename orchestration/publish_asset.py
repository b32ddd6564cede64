"""`published_marts`: the marts copied to SERVING_DIR once every blocking check upstream passed.

It depends on every mart, so Dagster runs it only after the marts' dbt build step and the blocking GX mart
gates succeeded; a failure anywhere upstream skips it and the last good publication stays in place. A
publication ends the build job's work: the signature of what it built becomes the record a daily build
compares with (orchestration/build_signature.py).
"""

import dagster as dg

from orchestration.build_signature import finish_build
from orchestration.dbt_assets import build_record_folder, model_asset_keys
from orchestration.publication import publish_marts
from orchestration.resources import FoldersResource, WarehouseResource

PUBLISH_RETRY = dg.RetryPolicy(max_retries=2, delay=1, backoff=dg.Backoff.EXPONENTIAL)
MART_KEYS = sorted(model_asset_keys("marts").values(), key=lambda k: k.to_user_string())


def dbt_invocation_id(context: dg.AssetExecutionContext) -> str | None:
    """The dbt invocation that last materialised the marts (dagster-dbt records it on every materialisation),
    or None when no mart was materialised by dbt through Dagster."""
    ids = set()
    for key in MART_KEYS:
        event = context.instance.get_latest_materialization_event(key)
        materialization = event.asset_materialization if event else None
        value = materialization.metadata.get("invocation_id") if materialization else None
        if value is not None:
            ids.add(str(getattr(value, "value", value)))
    # Marts built by different invocations (a partial rebuild): no single id describes the publication.
    return ids.pop() if len(ids) == 1 else None


@dg.asset(
    key="published_marts",
    group_name="serving",
    deps=MART_KEYS,
    retry_policy=PUBLISH_RETRY,
    pool="duckdb_warehouse",
    kinds={"duckdb", "parquet"},
    description="Marts copied into a new folder SERVING_DIR/publications/<id> (DuckDB file and Parquet, with "
    "marts.publication_info and the dbt docs as comments) and made current atomically (readers: open "
    "SERVING_DIR/marts.duckdb read_only, or resolve SERVING_DIR/current once and read its files).",
)
def published_marts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, folders: FoldersResource
) -> dg.MaterializeResult:
    """Write-audit-publish the marts schema into the serving folder."""
    publication = publish_marts(
        warehouse.file,
        folders.serving,
        dbt_invocation_id=dbt_invocation_id(context),
        dagster_run_id=context.run.run_id,
    )
    # The run's whole work succeeded: a daily build finding the same signature has nothing to do.
    finish_build(build_record_folder(), warehouse.file, context.run.run_id)
    return dg.MaterializeResult(
        metadata={
            "version": publication.version,
            "serving_file": dg.MetadataValue.path(str(publication.serving_file)),
            "parquet_dir": dg.MetadataValue.path(str(publication.parquet_dir)),
            "tables": len(publication.row_counts),
            "row_counts": publication.row_counts,
            "personal_data_tables": len(publication.restricted_row_counts),
        }
    )
