"""Jobs, schedule and sensors: load raw export days (partitioned), then build, check and publish.

Two jobs because Dagster asset jobs need one partitioning: `raw_load_job` loads a day or a range of days
(the first load, a backfill: always ONE run), `build_job` runs dbt build, the GX model gates and publish
over the whole warehouse. `build_after_raw_load` starts `build_job` when a raw load succeeds; a raw load
whose blocking GX check failed fails its run, so nothing is built or published from a broken delivery.
That build, the scheduled daily one, runs the data tests of incremental models only on the rows it wrote
(orchestration/dbt_assets.py DbtBuildConfig); `build_weekly_schedule` runs build_job every week with the
tests on whole tables.

Writes to the one DuckDB file are serialised twice over: each job runs its steps in one process one after
another (in_process executor), and the writer tag is limited to one concurrent run in the instance's run
queue (orchestration/dagster.yaml, copied into DAGSTER_HOME), so a scheduled run, a sensor run and a build
never overlap (dagster issues 18746, 19068).
"""

from datetime import date

import dagster as dg

from orchestration.dbt_assets import build_run_config
from orchestration.partitions import export_days
from orchestration.resources import FoldersResource
from raw.load import available_export_dates

WRITER_TAG = {"warehouse/writer": "duckdb"}
RAW_GROUP = "raw"

raw_load_job = dg.define_asset_job(
    name="raw_load_job",
    selection=dg.AssetSelection.groups(RAW_GROUP),
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,
    description="Load export day folders into schema raw and run the raw GX gates.",
)

build_job = dg.define_asset_job(
    name="build_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(RAW_GROUP),
    executor_def=dg.in_process_executor,
    tags=WRITER_TAG,
    description="dbt build (models + tests), GX model gates, publish the marts.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    raw_load_job, hour_of_day=6, name="raw_load_daily_schedule"
)

# Running by default, like build_after_raw_load: the daily builds' scoped tests rely on it to test the rows
# no daily run rewrites. Sundays 03:00, before the day's raw load.
weekly_schedule = dg.ScheduleDefinition(
    name="build_weekly_schedule",
    job=build_job,
    cron_schedule="0 3 * * 0",
    run_config=build_run_config("all"),
    tags=WRITER_TAG,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="dbt build with every data test on whole tables, GX model gates, publish.",
)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[raw_load_job],
    request_job=build_job,
    name="build_after_raw_load",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def build_after_raw_load(context: dg.RunStatusSensorContext):
    """A successful raw load asks for one build, testing incremental models on the rows it writes; run_key
    makes the request once per raw run."""
    return dg.RunRequest(
        run_key=f"after-{context.dagster_run.run_id}",
        tags=WRITER_TAG,
        run_config=build_run_config("latest_run"),
    )


def new_export_days(exports_dir, cursor: str | None, first_day: date) -> list[date]:
    """Export day folders after the cursor (the last day already requested), none before `first_day`."""
    last_seen = date.fromisoformat(cursor) if cursor else None
    return [
        d
        for d in available_export_dates(exports_dir)
        if d >= first_day and (last_seen is None or d > last_seen)
    ]


@dg.sensor(job=raw_load_job, minimum_interval_seconds=60, name="new_export_day_sensor")
def new_export_day_sensor(context: dg.SensorEvaluationContext, folders: FoldersResource):
    """Request one raw load covering every export day folder that appeared since the cursor."""
    first_day = export_days.start.date()
    days = new_export_days(folders.exports, context.cursor, first_day)
    if not days:
        return dg.SkipReason(f"no new export day folder under {folders.exports} after {context.cursor}")
    start, end = days[0].isoformat(), days[-1].isoformat()
    context.update_cursor(end)
    return dg.RunRequest(
        run_key=f"exports-{start}-{end}", tags={**WRITER_TAG, **partition_range_tags(start, end)}
    )


def partition_range_tags(start: str, end: str) -> dict[str, str]:
    """Tags that make one run cover the partition range start..end (a single-run backfill)."""
    return {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}
