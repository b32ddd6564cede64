"""Dead runs: a run whose process was killed (kill -9, OOM, a closed laptop) is found and cleaned up.

A killed process cannot record its own end, so Dagster keeps such a run STARTED for ever: it holds the
`duckdb_warehouse` pool slot, the run queue counts it against `max_concurrent_runs`, and every later run waits
for a slot that is never freed. Every run of this code location therefore records which process runs it
(host, pid and the process's start time, as run tags: `tag_run_process`), and before a run starts
(`python -m orchestration.run`) or every minute under the daemon (`dead_run_sensor`) `recover_dead_runs`:

- marks each in-progress run whose process is gone as failed, through the instance's own API
  (`report_run_failed`), so the run queue and the UI see it end;
- frees the concurrency (pool) slots it held, and those of any finished run that still holds one;
- removes the half-written files a killed publish leaves (orchestration/publication.py
  `remove_half_written`: a publication is only made current once complete, so these are never what readers
  see);
- writes an alert naming the dead run, its job, its process and the step it was in.

The warehouse file needs nothing: DuckDB's lock dies with the process and an interrupted transaction is rolled
back when the file is next opened. A run started elsewhere (another host) is left alone: its process cannot be
seen from here. Runs the daemon launches are also watched by Dagster's own run monitoring
(orchestration/dagster.yaml), which ends runs that exceed their maximum runtime.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import psutil

import settings
from orchestration.alerts import Alert, FileNotifier, Notifier
from orchestration.publication import remove_half_written

HOST_TAG = "warehouse/host"
PID_TAG = "warehouse/pid"
PROCESS_STARTED_TAG = "warehouse/process_started_at"

# Statuses of a run that may still hold the writer role or a pool slot.
_IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def process_tags(pid: int | None = None) -> dict[str, str]:
    """Run tags naming the process that executes a run: host, pid and the process's start time.

    The start time tells a reused pid from the original process.
    """
    process = psutil.Process(pid or os.getpid())
    return {
        HOST_TAG: socket.gethostname(),
        PID_TAG: str(process.pid),
        PROCESS_STARTED_TAG: f"{process.create_time():.3f}",
    }


def tag_run_process(context) -> None:
    """Record the current process on the current run (first step of a run launched by the daemon)."""
    run = context.run
    if PID_TAG not in run.tags:
        context.instance.add_run_tags(run.run_id, process_tags())


def process_is_gone(tags: dict[str, str]) -> bool | None:
    """True when the run's process is known to be dead, False when it lives, None when it cannot be told
    (no process tags yet, or a process on another host)."""
    if PID_TAG not in tags or tags.get(HOST_TAG) != socket.gethostname():
        return None
    try:
        process = psutil.Process(int(tags[PID_TAG]))
        if process.status() == psutil.STATUS_ZOMBIE:
            return True
        started = tags.get(PROCESS_STARTED_TAG)
        return started is not None and abs(process.create_time() - float(started)) > 0.01
    except psutil.NoSuchProcess:
        return True


@dataclass(frozen=True)
class DeadRun:
    """A run found dead and what was done about it."""

    run_id: str
    job_name: str
    pid: str
    steps_in_progress: list[str]
    removed_files: list[str]


def _steps_in_progress(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    started: dict[str, None] = {}
    kinds = {
        dg.DagsterEventType.STEP_START,
        dg.DagsterEventType.STEP_SUCCESS,
        dg.DagsterEventType.STEP_FAILURE,
        dg.DagsterEventType.STEP_SKIPPED,
    }
    for entry in instance.all_logs(run_id, of_type=kinds):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = None
        else:
            started.pop(event.step_key, None)
    return list(started)


def free_slots_of_finished_runs(instance: dg.DagsterInstance) -> list[str]:
    """Free pool slots still held by runs that are no longer in progress; returns their run ids."""
    storage = instance.event_log_storage
    freed = []
    for run_id in storage.get_concurrency_run_ids():
        run = instance.get_run_by_id(run_id)
        if run is None or run.status not in _IN_PROGRESS:
            storage.free_concurrency_slots_for_run(run_id)
            freed.append(run_id)
    return freed


def recover_dead_runs(
    instance: dg.DagsterInstance,
    serving_dir: Path | None = None,
    notifier: Notifier | None = None,
) -> list[DeadRun]:
    """Find in-progress runs whose process is gone, end them as failed, free their slots, remove the files a
    killed publish left, and alert; returns what was found."""
    serving_dir = serving_dir or settings.serving_dir()
    notifier = notifier or FileNotifier()
    dead = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=_IN_PROGRESS)):
        run = record.dagster_run
        if not process_is_gone(dict(run.tags)):
            continue
        steps = _steps_in_progress(instance, run.run_id)
        pid = run.tags[PID_TAG]
        where = f" during step {', '.join(steps)}" if steps else ""
        message = (
            f"run {run.run_id} of {run.job_name} died{where}: its process {pid} on "
            f"{run.tags.get(HOST_TAG)} is gone (killed or crashed) while the run was {run.status.value}. "
            "Marked failed and its pool slots freed, so the next runs can start"
        )
        instance.report_run_failed(run, message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        removed = remove_half_written(serving_dir)
        if removed:
            message += f"; removed half-written files {', '.join(removed)}"
        notifier.notify(
            Alert(
                job_name=run.job_name,
                run_id=run.run_id,
                message=message,
                failed_steps=steps,
                raised_at=datetime.now(UTC).isoformat(),
            )
        )
        dead.append(DeadRun(run.run_id, run.job_name, pid, steps, removed))
    free_slots_of_finished_runs(instance)
    return dead


def build_dead_run_sensor(notifier: Notifier | None = None) -> dg.SensorDefinition:
    """A sensor (running by default under the daemon) that recovers dead runs every minute."""

    @dg.sensor(
        name="recover_dead_runs",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Marks runs whose process died as failed, frees their pool slots and alerts.",
    )
    def dead_run_sensor(context: dg.SensorEvaluationContext):
        found = recover_dead_runs(context.instance, notifier=notifier)
        if not found:
            return dg.SkipReason("no dead runs")
        return dg.SkipReason(f"recovered dead runs {', '.join(d.run_id for d in found)}")

    return dead_run_sensor
