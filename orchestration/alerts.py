"""Alerts on failed runs: a small Notifier interface and the default that writes a log line and a file.

Plug a real channel (Slack, e-mail, PagerDuty) by implementing `Notifier.notify` and passing it to
`build_run_failure_sensor`.
"""

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import dagster as dg

import settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """What went wrong, in which run, and why.

    `failed_checks` has one line per failed blocking check: the check, the figure observed, the bound and the
    file that holds it (orchestration/gx_gate.explain), so an alert says what to look at, not only the step.
    """

    job_name: str
    run_id: str
    message: str
    failed_steps: list[str]
    raised_at: str
    failed_checks: list[str] = field(default_factory=list)


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
        for line in alert.failed_checks:
            log.error("  failed check: %s", line)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(alert)) + "\n")


def failed_checks(events) -> list[str]:
    """One line per failed error-severity asset check among `events` (GX gates explain themselves, dbt tests
    give their name and the failing row count)."""
    lines = []
    for event in events:
        if event.event_type != dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            continue
        evaluation = event.event_specific_data
        if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        name = f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}"
        explained = evaluation.metadata.get("failures")
        if explained is not None and explained.value:
            lines += [f"{name}: {line}" for line in explained.value]
        else:
            figures = {
                k: v.value for k, v in evaluation.metadata.items() if k in ("failed_row_count", "status")
            }
            lines.append(f"{name}: failed" + (f" ({figures})" if figures else ""))
    return lines


def failure_details(events) -> list[str]:
    """The first line of each failed step's error (a Failure's description says which day or file and why)."""
    details = []
    for event in events:
        if event.event_type != dg.DagsterEventType.STEP_FAILURE:
            continue
        error = getattr(event.event_specific_data, "error", None)
        if error is not None and error.message:
            details.append(f"{event.step_key}: {error.message.strip()}")
    return details


def _message(run_failure_message: str | None, events) -> str:
    parts = [run_failure_message or "run failed", *failure_details(events)]
    return "\n".join(parts)


def alert_for_failed_run(dagster_run, events, notifier: Notifier | None = None) -> Alert:
    """Notify about a failed run from its events (for in-process runs, where no sensor daemon is running)."""
    failures = [e for e in events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    run_failure = next((e for e in events if e.event_type == dg.DagsterEventType.RUN_FAILURE), None)
    alert = Alert(
        job_name=dagster_run.job_name,
        run_id=dagster_run.run_id,
        message=_message(run_failure.message if run_failure else None, events),
        failed_steps=[e.step_key for e in failures if e.step_key],
        raised_at=datetime.now(UTC).isoformat(),
        failed_checks=failed_checks(events),
    )
    (notifier or FileNotifier()).notify(alert)
    return alert


def build_run_failure_sensor(notifier: Notifier | None = None) -> dg.SensorDefinition:
    """A sensor that turns every failed run of this code location into an alert."""
    notifier = notifier or FileNotifier()

    @dg.run_failure_sensor(name="alert_on_run_failure", default_status=dg.DefaultSensorStatus.RUNNING)
    def alert_on_run_failure(context: dg.RunFailureSensorContext):
        step_failures = context.get_step_failure_events()
        failed_steps = [event.step_key for event in step_failures if event.step_key is not None]
        checks = [
            entry.dagster_event
            for entry in context.instance.all_logs(
                context.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            )
            if entry.dagster_event is not None
        ]
        notifier.notify(
            Alert(
                job_name=context.dagster_run.job_name,
                run_id=context.dagster_run.run_id,
                message=_message(context.failure_event.message, step_failures),
                failed_steps=failed_steps,
                raised_at=datetime.now(UTC).isoformat(),
                failed_checks=failed_checks(checks),
            )
        )

    return alert_on_run_failure
