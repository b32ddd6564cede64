"""The new-export-day sensor requests one run per batch of new days; the daily build scopes its data tests
to its rows unless the build before failed, the weekly one tests whole tables; failed runs become alerts."""

import json

import dagster as dg

from orchestration.alerts import Alert, FileNotifier, build_run_failure_sensor
from orchestration.dbt_assets import dbt_layer_assets, previous_run_succeeded
from orchestration.jobs import build_after_raw_load, new_export_day_sensor, weekly_schedule


def _day_folders(root, *days):
    for day in days:
        (root / day).mkdir(parents=True)


def test_sensor_requests_one_load_for_new_days_and_moves_its_cursor(tmp_path):
    exports = tmp_path / "exports"
    _day_folders(exports, "2024-01-01", "2024-01-02", "2024-01-03")
    resources = {"folders": _folders(exports)}

    context = dg.build_sensor_context(cursor="2024-01-01", resources=resources)
    request = new_export_day_sensor(context)
    # One run for both new days: the raw load loads every day not loaded yet, no partition per day.
    assert request.run_key == "exports-2024-01-02-2024-01-03"
    assert not any(tag.startswith("dagster/asset_partition") for tag in request.tags)
    assert context.cursor == "2024-01-03"

    again = dg.build_sensor_context(cursor="2024-01-03", resources=resources)
    assert isinstance(new_export_day_sensor(again), dg.SkipReason)

    _day_folders(exports, "2024-01-04")
    later = dg.build_sensor_context(cursor="2024-01-03", resources=resources)
    assert new_export_day_sensor(later).run_key == "exports-2024-01-04-2024-01-04"


def _folders(exports):
    from orchestration.resources import FoldersResource

    return FoldersResource(exports_dir=str(exports), serving_dir="unused", gx_dir="unused")


class _Recorder:
    def __init__(self):
        self.alerts: list[Alert] = []

    def notify(self, alert: Alert) -> None:
        self.alerts.append(alert)


def _failed_run(instance):
    @dg.op
    def explode():
        raise RuntimeError("disk on fire")

    @dg.job
    def doomed():
        explode()

    result = doomed.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    return result, failure


def test_run_failure_sensor_notifies_with_the_failed_step():
    recorder = _Recorder()
    sensor = build_run_failure_sensor(recorder)
    with dg.instance_for_test() as instance:
        result, failure = _failed_run(instance)
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=failure,
        ).for_run_failure()
        sensor(context)
    [alert] = recorder.alerts
    assert alert.job_name == "doomed" and alert.run_id == result.run_id
    assert alert.failed_steps == ["explode"]


def test_file_notifier_appends_json_lines(tmp_path):
    notifier = FileNotifier(tmp_path / "alerts" / "alerts.log")
    for run_id in ("r1", "r2"):
        notifier.notify(Alert("job", run_id, "failed", ["step"], "2024-01-01T00:00:00+00:00"))
    lines = (tmp_path / "alerts" / "alerts.log").read_text().splitlines()
    assert [json.loads(line)["run_id"] for line in lines] == ["r1", "r2"]


def test_in_process_runs_alert_to_the_alerts_file_like_the_sensor(tmp_path):
    from orchestration.alerts import alert_for_failed_run

    with dg.instance_for_test() as instance:
        result, _ = _failed_run(instance)
    alert_for_failed_run(result.dagster_run, result.all_events, FileNotifier(tmp_path / "alerts.log"))
    [line] = (tmp_path / "alerts.log").read_text().splitlines()
    recorded = json.loads(line)
    assert recorded["run_id"] == result.run_id and recorded["failed_steps"] == ["explode"]


LAYER_OPS = [assets.op.name for assets in dbt_layer_assets]


def _data_tests_scope(run_config: dict) -> str:
    """The scope of a build's run config, the same for every layer's step."""
    scopes = {op: run_config["ops"][op]["config"]["data_tests_scope"] for op in LAYER_OPS}
    [scope] = set(scopes.values())
    return scope


def test_the_build_after_a_raw_load_scopes_data_tests_and_the_weekly_build_tests_whole_tables():
    @dg.op
    def land():
        pass

    @dg.job
    def raw_load():
        land()

    with dg.instance_for_test() as instance:
        result = raw_load.execute_in_process(instance=instance)
        success = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
        context = dg.build_run_status_sensor_context(
            sensor_name=build_after_raw_load.name,
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=success,
        )
        assert _data_tests_scope(build_after_raw_load(context).run_config) == "latest_run"
    [weekly] = weekly_schedule.evaluate_tick(dg.build_schedule_context()).run_requests
    assert _data_tests_scope(weekly.run_config) == "all"


def test_a_scoped_build_tests_whole_tables_unless_the_previous_build_succeeded():
    """The scoped build asks previous_run_succeeded; here a job's runs record what it answered."""
    answers = []

    @dg.op(config_schema={"fail": bool})
    def build(context):
        answers.append(previous_run_succeeded(context))
        if context.op_config["fail"]:
            raise RuntimeError("a data test failed")

    @dg.job
    def builds():
        build()

    with dg.instance_for_test() as instance:
        for fail in (False, True, False, False):
            run_config = {"ops": {"build": {"config": {"fail": fail}}}}
            builds.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False)
    assert answers == [False, True, False, True]
