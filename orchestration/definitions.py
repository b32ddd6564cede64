"""The code location, loaded by `dagster dev` (pyproject.toml [tool.dagster]) and orchestration.run."""

import dagster as dg

from orchestration.alerts import build_run_failure_sensor
from orchestration.dbt_assets import dbt_layer_assets
from orchestration.jobs import (
    build_after_raw_load,
    build_job,
    daily_schedule,
    new_export_day_sensor,
    raw_load_job,
    weekly_schedule,
)
from orchestration.model_gates import model_gates
from orchestration.publish_asset import published_marts
from orchestration.raw_assets import raw_exports
from orchestration.recovery import build_dead_run_sensor
from orchestration.resources import build_resources

defs = dg.Definitions(
    assets=[raw_exports, *dbt_layer_assets, published_marts],
    asset_checks=model_gates,
    jobs=[raw_load_job, build_job],
    schedules=[daily_schedule, weekly_schedule],
    sensors=[
        new_export_day_sensor,
        build_after_raw_load,
        build_run_failure_sensor(),
        build_dead_run_sensor(),
    ],
    resources=build_resources(),
)
