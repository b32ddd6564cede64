"""`published_marts`: the marts copied to SERVING_DIR once every blocking check upstream passed.

It depends on every mart, so Dagster runs it only after the dbt build step and the blocking GX mart gates
succeeded; a failure anywhere upstream skips it and the last good publication stays in place.
"""

import dagster as dg

from orchestration.dbt_assets import model_asset_keys
from orchestration.publication import publish_marts
from orchestration.resources import FoldersResource, WarehouseResource

PUBLISH_RETRY = dg.RetryPolicy(max_retries=2, delay=1, backoff=dg.Backoff.EXPONENTIAL)


@dg.asset(
    key="published_marts",
    group_name="serving",
    deps=sorted(model_asset_keys("marts").values(), key=lambda k: k.to_user_string()),
    retry_policy=PUBLISH_RETRY,
    pool="duckdb_warehouse",
    kinds={"duckdb", "parquet"},
    description="Marts copied into SERVING_DIR/marts.duckdb and Parquet, swapped in atomically (readers: "
    "open marts.duckdb read_only, or read SERVING_DIR/parquet/*.parquet).",
)
def published_marts(warehouse: WarehouseResource, folders: FoldersResource) -> dg.MaterializeResult:
    """Write-audit-publish the marts schema into the serving folder."""
    publication = publish_marts(warehouse.file, folders.serving)
    return dg.MaterializeResult(
        metadata={
            "version": publication.version,
            "serving_file": dg.MetadataValue.path(str(publication.serving_file)),
            "parquet_dir": dg.MetadataValue.path(str(publication.parquet_dir)),
            "tables": len(publication.row_counts),
            "row_counts": publication.row_counts,
        }
    )
