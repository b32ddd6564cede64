"""Jobs, schedule and sensors: load the new raw export days, then build, check and publish.

`raw_load_job` loads every export day folder not loaded yet in ONE run (the first load of years of history,
or the one new day of a daily run; orchestration/raw_assets.py), `build_job` runs dbt build one layer per
step with each layer's GX gates after it, then publish, over the whole warehouse. The daily schedule and
the new-export-day sensor both start `raw_load_job`; a day that arrived is loaded by whichever comes first,
and the other finds nothing new.
`build_after_raw_load` starts `build_job` when a raw load succeeds; a raw load whose blocking GX check
failed fails its run, so nothing is built or published from a broken delivery, and the build itself refuses
to start while a loaded day is rejected (orchestration/export_days.py).
That build, the scheduled daily one, runs the data tests of incremental models only on the rows it wrote
(orchestration/dbt_assets.py DbtBuildConfig); `build_weekly_schedule` runs build_job every week with the
tests on whole tables.

`source_freshness_job` runs the dbt source freshness checks on the raw tables every day
(orchestration/source_freshness.py), whether or not exports arrived.

Writes to the one DuckDB file are serialised by one mechanism: every step that opens the file (the raw load,
each dbt build step, the GX gates, the freshness checks, publish) claims the one slot of the
`duckdb_warehouse` pool (orchestration/dagster.yaml, copied into DAGSTER_HOME: every pool has one slot). The
pool holds for runs the daemon launches and for `python -m orchestration.run`'s in-process runs alike, and a
dead run's slot is freed by recovery (orchestration/recovery.py). Runs themselves are not limited: a run
started while another writes waits at its first step for the slot. The jobs run their steps in one process
(in_process executor) because each step process would load the definitions and the dbt manifest again.
"""

from datetime import date

import dagster as dg

from orchestration.dbt_assets import build_run_config
from orchestration.resources import FoldersResource
from orchestration.source_freshness import freshness_checks
from raw.load import available_export_dates

RAW_GROUP = "raw"

# The freshness checks target the raw assets, so a selection of the raw group would take them in.
FRESHNESS = dg.AssetSelection.checks(*freshness_checks)

raw_load_job = dg.define_asset_job(
    name="raw_load_job",
    selection=dg.AssetSelection.groups(RAW_GROUP) - FRESHNESS,
    executor_def=dg.in_process_executor,
    description="Load export day folders into schema raw and run the raw GX gates.",
)

build_job = dg.define_asset_job(
    name="build_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(RAW_GROUP),
    executor_def=dg.in_process_executor,
    description="dbt build one layer per step (models + tests), each layer's GX gates, publish the marts.",
)

source_freshness_job = dg.define_asset_job(
    name="source_freshness_job",
    selection=FRESHNESS,
    executor_def=dg.in_process_executor,
    description="dbt source freshness of the raw tables as asset checks.",
)

source_freshness_schedule = dg.ScheduleDefinition(
    name="source_freshness_daily_schedule",
    job=source_freshness_job,
    cron_schedule="0 7 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day after the raw load: how long ago each raw table last received rows.",
)

daily_schedule = dg.ScheduleDefinition(
    name="raw_load_daily_schedule",
    job=raw_load_job,
    cron_schedule="0 6 * * *",
    description="Load the export days that arrived since the last load, then (sensor) build and publish.",
)

# Running by default, like build_after_raw_load: the daily builds' scoped tests rely on it to test the rows
# no daily run rewrites. Sundays 03:00, before the day's raw load.
weekly_schedule = dg.ScheduleDefinition(
    name="build_weekly_schedule",
    job=build_job,
    cron_schedule="0 3 * * 0",
    run_config=build_run_config("all"),
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
        run_key=f"after-{context.dagster_run.run_id}", run_config=build_run_config("latest_run")
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
    return dg.RunRequest(run_key=f"exports-{start}-{end}")


def raw_load_run_config(first_day: str | None = None, last_day: str | None = None) -> dg.RunConfig:
    """Run config of a raw_load_job run bounded to first_day..last_day (None: unbounded)."""
    from orchestration.raw_assets import RawLoadConfig

    return dg.RunConfig(ops={"raw_exports": RawLoadConfig(first_day=first_day, last_day=last_day)})
