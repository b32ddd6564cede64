"""A run killed with SIGKILL never blocks the next one: `python -m orchestration.run` finds it, marks it
failed, frees its pool slot and writes an alert naming it, then completes.

Here: which runs count as dead, and the helpers that start and kill a real `python -m orchestration.run` in a
subprocess against a persistent Dagster instance (DAGSTER_HOME in a temporary folder, with the project's
dagster.yaml and its pool of one slot), exactly as `make demo` runs it. test_drills.py kills such runs at
every stage and checks that the next run recovers each.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from orchestration.recovery import PID_TAG, process_is_gone, process_tags, recover_dead_runs
from settings import REPO_ROOT

pytestmark = pytest.mark.slow

RUN_TIMEOUT_S = 600


def tiny_company(root: Path, customers: int = 300, days: int = 40, seed: int = 11) -> Path:
    from raw.generate import generate_company

    exports = root / "exports"
    generate_company(
        out_dir=exports,
        answer_key_dir=root / "answer_key",
        customers=customers,
        days=days,
        seed=seed,
        start_date=date(2024, 1, 1),
        progress=False,
    )
    return exports


def job_env(root: Path, exports: Path) -> dict[str, str]:
    """The environment of a `python -m orchestration.run` whose every path lies under `root`."""
    return {
        **os.environ,
        "WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "EXPORTS_DIR": str(exports),
        "SERVING_DIR": str(root / "serving"),
        "ALERTS_PATH": str(root / "alerts.log"),
        "GX_DIR": str(root / "gx"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }


def open_instance(env: dict[str, str]) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))


def start_run(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.run", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def kill_when(env: dict[str, str], proc: subprocess.Popen, ready, timeout: float = 300) -> dg.DagsterRun:
    """SIGKILL the run's process group as soon as `ready(instance, run)` holds for an in-progress run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the run ended before it could be killed:\n{proc.stdout.read()}"
        if (Path(env["DAGSTER_HOME"]) / "dagster.yaml").exists():
            instance = open_instance(env)
            for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
                if ready(instance, run):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=30)
                    return run
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError("the run never reached the point to kill it at")


def holds_pool_slot(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    return run.run_id in instance.event_log_storage.get_concurrency_run_ids()


def test_only_runs_whose_process_is_gone_are_recovered(tmp_path):
    """A live run is never touched; a run whose pid was reused by another process counts as dead."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = process_tags(sleeper.pid)
        reused = {**live, "warehouse/process_started_at": "1.000"}
        assert process_is_gone(live) is False
        assert process_is_gone(reused) is True
        assert process_is_gone({}) is None  # no process recorded yet: cannot tell
        assert process_is_gone({**live, "warehouse/host": "elsewhere"}) is None

        @dg.op
        def noop():
            pass

        @dg.job
        def job():
            noop()

        with dg.instance_for_test() as instance:
            runs = {}
            for name, tags in {"live": live, "reused": reused}.items():
                run = instance.create_run_for_job(job_def=job, tags=tags)
                instance.handle_run_event(
                    run.run_id,
                    dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=run.job_name),
                )
                runs[name] = run.run_id
            recovered = recover_dead_runs(instance, serving_dir=tmp_path, notifier=_Recorder())
            assert [d.run_id for d in recovered] == [runs["reused"]]
            assert instance.get_run_by_id(runs["live"]).status == dg.DagsterRunStatus.STARTED
            assert instance.get_run_by_id(runs["reused"]).status == dg.DagsterRunStatus.FAILURE
            assert recovered[0].pid == live[PID_TAG]
    finally:
        sleeper.kill()


class _Recorder:
    def __init__(self):
        self.alerts = []

    def notify(self, alert) -> None:
        self.alerts.append(alert)
