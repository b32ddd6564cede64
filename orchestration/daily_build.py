"""The daily build without Dagster: `python -m orchestration.daily_build [--target-path DIR]`.

What the scheduled build after a raw load runs, for whoever schedules dbt by other means (cron, CI) and for
the benchmark: `dbt build` with settings.build_flags (data tests of incremental models on the rows the run
wrote), skipped when nothing it reads changed since the last successful build in the same dbt target folder
(orchestration/build_signature.py). The first build in a folder, and the one after a failed build, test whole
tables unless --data-tests-scope says otherwise. Exit code: dbt's, 0 when skipped.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import duckdb

import settings
from orchestration.build_signature import (
    build_signature,
    finish_build,
    recorded_signature,
    start_build,
    unchanged_since_last_success,
)
from orchestration.progress import timed
from settings import DATA_TESTS_SCOPES, REPO_ROOT, build_flags
from settings.dbt import dbt_command


def _manifest(target_path: Path) -> dict:
    """The manifest of the previous build in `target_path`, else the project's parse, else none."""
    for path in (target_path / "manifest.json", REPO_ROOT / "target" / "manifest.json"):
        if path.exists():
            return json.loads(path.read_text())
    return {}


def daily_build(target_path: Path, log_path: Path | None = None, data_tests_scope: str | None = None) -> int:
    """Run the daily build in `target_path` unless nothing changed since its last success there; dbt's exit
    code (0 when skipped)."""
    warehouse = settings.warehouse_path()
    with timed() as elapsed, duckdb.connect(str(warehouse), read_only=True) as con:
        signature = build_signature(con, _manifest(target_path), warehouse)
    if unchanged_since_last_success(target_path, signature):
        print(
            f"daily build: skipped, nothing changed since the last successful build in {target_path} "
            f"({len(signature['raw_tables'])} raw tables, project {signature['project'][:12]}; "
            f"checked in {elapsed():.2f}s)",
            flush=True,
        )
        return 0
    if data_tests_scope is None:
        data_tests_scope = "latest_run" if recorded_signature(target_path, warehouse) else "all"
    start_build(target_path, signature)
    command = dbt_command(
        ["build", *build_flags(data_tests_scope)], target_path=target_path, log_path=log_path
    )
    returncode = subprocess.run(command, cwd=REPO_ROOT).returncode
    if returncode == 0:
        finish_build(target_path, warehouse)
    return returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.daily_build", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--target-path", type=Path, default=REPO_ROOT / "target", help="dbt's target folder (default target/)"
    )
    parser.add_argument("--log-path", type=Path, default=None, help="dbt's log folder (default dbt's)")
    parser.add_argument(
        "--data-tests-scope",
        choices=DATA_TESTS_SCOPES,
        default=None,
        help="latest_run after a successful build in the folder, else all (whole tables)",
    )
    args = parser.parse_args(argv)
    return daily_build(args.target_path.resolve(), args.log_path, args.data_tests_scope)


if __name__ == "__main__":
    sys.exit(main())
