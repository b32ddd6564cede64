"""Alerts on failed runs: a small Notifier interface and the default that writes a log line and a file.

Plug a real channel (Slack, e-mail, PagerDuty) by implementing `Notifier.notify` and passing it to
`build_run_failure_sensor`.
"""

import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import dagster as dg

from orchestration import settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """What went wrong, in which run, and why."""

    job_name: str
    run_id: str
    message: str
    failed_steps: list[str]
    raised_at: str


class Notifier(Protocol):
    """Anything that can deliver an alert."""

    def notify(self, alert: Alert) -> None: ...


class FileNotifier:
    """Writes the alert to the Python log and appends it as one JSON line to `path` (ALERTS_PATH)."""

    def __init__(self, path: Path | None = None):
        self._path = path

    @property
    def path(self) -> Path:
        return self._path or settings.alerts_path()

    def notify(self, alert: Alert) -> None:
        log.error("run %s of %s failed: %s", alert.run_id, alert.job_name, alert.message)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(alert)) + "\n")


def alert_for_failed_run(dagster_run, events, notifier: Notifier | None = None) -> Alert:
    """Notify about a failed run from its events (for in-process runs, where no sensor daemon is running)."""
    failures = [e for e in events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    run_failure = next((e for e in events if e.event_type == dg.DagsterEventType.RUN_FAILURE), None)
    alert = Alert(
        job_name=dagster_run.job_name,
        run_id=dagster_run.run_id,
        message=(run_failure.message if run_failure else None) or "run failed",
        failed_steps=[e.step_key for e in failures if e.step_key],
        raised_at=datetime.now(UTC).isoformat(),
    )
    (notifier or FileNotifier()).notify(alert)
    return alert


def build_run_failure_sensor(notifier: Notifier | None = None) -> dg.SensorDefinition:
    """A sensor that turns every failed run of this code location into an alert."""
    notifier = notifier or FileNotifier()

    @dg.run_failure_sensor(name="alert_on_run_failure", default_status=dg.DefaultSensorStatus.RUNNING)
    def alert_on_run_failure(context: dg.RunFailureSensorContext):
        failed_steps = [
            event.step_key for event in context.get_step_failure_events() if event.step_key is not None
        ]
        notifier.notify(
            Alert(
                job_name=context.dagster_run.job_name,
                run_id=context.dagster_run.run_id,
                message=context.failure_event.message or "run failed",
                failed_steps=failed_steps,
                raised_at=datetime.now(UTC).isoformat(),
            )
        )

    return alert_on_run_failure
