"""Jobs, schedule and sensors: load the new raw export days, then build, check and publish.

`raw_load_job` loads every export day folder not loaded yet in ONE run (the first load of years of history,
or the one new day of a daily run; orchestration/raw_assets.py), `build_job` runs dbt build, the GX model
gates and publish over the whole warehouse. The daily schedule and the new-export-day sensor both start
`raw_load_job`; a day that arrived is loaded by whichever comes first, and the other finds nothing new.
`build_after_raw_load` starts `build_job` when a raw load succeeds; a raw load whose blocking GX check
failed fails its run, so nothing is built or published from a broken delivery, and the build itself refuses
to start while a loaded day is rejected (orchestration/export_days.py).
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

daily_schedule = dg.ScheduleDefinition(
    name="raw_load_daily_schedule",
    job=raw_load_job,
    cron_schedule="0 6 * * *",
    tags=WRITER_TAG,
    description="Load the export days that arrived since the last load, then (sensor) build and publish.",
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


def new_export_days(exports_dir, cursor: str | None) -> list[date]:
    """Export day folders after the cursor (the last day already requested)."""
    last_seen = date.fromisoformat(cursor) if cursor else None
    return [d for d in available_export_dates(exports_dir) if last_seen is None or d > last_seen]


@dg.sensor(job=raw_load_job, minimum_interval_seconds=60, name="new_export_day_sensor")
def new_export_day_sensor(context: dg.SensorEvaluationContext, folders: FoldersResource):
    """Request one raw load when export day folders appeared since the cursor; the run loads every day not
    loaded yet (a late folder for an earlier day included)."""
    days = new_export_days(folders.exports, context.cursor)
    if not days:
        return dg.SkipReason(f"no new export day folder under {folders.exports} after {context.cursor}")
    start, end = days[0].isoformat(), days[-1].isoformat()
    context.update_cursor(end)
    return dg.RunRequest(run_key=f"exports-{start}-{end}", tags=WRITER_TAG)


def raw_load_run_config(first_day: str | None = None, last_day: str | None = None) -> dg.RunConfig:
    """Run config of a raw_load_job run bounded to first_day..last_day (None: unbounded)."""
    from orchestration.raw_assets import RawLoadConfig

    return dg.RunConfig(ops={"raw_exports": RawLoadConfig(first_day=first_day, last_day=last_day)})
