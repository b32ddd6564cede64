"""Run the whole warehouse job once, without the UI: `python -m orchestration.run [--customers N --days D]`.

Generates a sample company into EXPORTS_DIR when it holds no day folders, then loads every available export
day in ONE run (a partition range), builds dbt, runs the GX gates and publishes. The run is recorded in the
Dagster instance in DAGSTER_HOME (default .dagster_home), so `dagster dev` shows it afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from datetime import date
from pathlib import Path

from orchestration import settings

DAGSTER_YAML = Path(__file__).with_name("dagster.yaml")


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME (default .dagster_home in the repo), created with the instance settings when missing."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.REPO_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(DAGSTER_YAML, home / "dagster.yaml")
    return home


def ensure_exports(customers: int, days: int, seed: int, start_date: date) -> list[date]:
    """Export days in EXPORTS_DIR, generating a sample company first when there are none."""
    from raw.load import available_export_dates

    exports = settings.exports_dir()
    if not available_export_dates(exports):
        from raw.generate import generate_company

        print(f"generating {customers} customers x {days} days into {exports} ...", flush=True)
        generate_company(
            out_dir=exports,
            answer_key_dir=exports.parent / "answer_key",
            customers=customers,
            days=days,
            seed=seed,
            start_date=start_date,
            progress=False,
        )
    return available_export_dates(exports)


def run_warehouse(first_day: date, last_day: date, instance=None):
    """Load export days first_day..last_day in one raw_load_job run, then build_job when it succeeded.

    Returns the results of the runs executed (the build is skipped when the load failed), like the
    `build_after_raw_load` sensor does in a deployment.
    """
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.jobs import partition_range_tags

    instance = instance or dg.DagsterInstance.get()
    # Dagster's console logger prints every event at DEBUG: thousands of lines for a year of partitions.
    quiet = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    load = defs.resolve_job_def("raw_load_job").execute_in_process(
        instance=instance,
        run_config=quiet,
        tags=partition_range_tags(first_day.isoformat(), last_day.isoformat()),
        raise_on_error=False,
    )
    if not load.success:
        return [load]
    build = defs.resolve_job_def("build_job").execute_in_process(
        instance=instance, run_config=quiet, raise_on_error=False
    )
    return [load, build]


def _how_to_look(run_ids: list[str], success: bool) -> str:
    serving = settings.serving_dir() / "marts.duckdb"
    docs = settings.gx_dir() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return "\n".join(
        [
            f"runs {', '.join(run_ids)}: "
            + ("SUCCESS" if success else "FAILED (the last good publication is untouched)"),
            f"published marts : {serving}  (+ {settings.serving_dir() / 'parquet'}/*.parquet)",
            f"  duckdb CLI    : duckdb -readonly {serving} "
            "-c 'select * from marts.rpt_hidden_defector_matrix'",
            "  python        : import duckdb; con = duckdb.connect("
            f"'{serving}', read_only=True); con.sql('show all tables').show()",
            f"warehouse       : {settings.warehouse_path()} (the writer's file: not for readers)",
            f"GX data docs    : {docs}",
            f"alerts          : {settings.alerts_path()}",
            f"Dagster UI      : make dev (DAGSTER_HOME={os.environ['DAGSTER_HOME']}), open http://127.0.0.1:3000",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; exit code 0 when the run succeeded and published."""
    parser = argparse.ArgumentParser(prog="python -m orchestration.run", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000, help="sample company size when generating")
    parser.add_argument("--days", type=int, default=180, help="export days to generate")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--start-date",
        type=date.fromisoformat,
        default=None,
        help="first export day (default PARTITIONS_START_DATE or 2024-01-01)",
    )
    args = parser.parse_args(argv)
    start = args.start_date or settings.partitions_start_date()
    os.environ.setdefault("PARTITIONS_START_DATE", start.isoformat())

    ensure_dagster_home()
    days = [d for d in ensure_exports(args.customers, args.days, args.seed, start) if d >= start]
    if not days:
        print(f"no export days on or after {start} in {settings.exports_dir()}", file=sys.stderr)
        return 1
    print(f"load, build, check and publish export days {days[0]}..{days[-1]} ({len(days)} days)", flush=True)
    results = run_warehouse(days[0], days[-1])
    success = len(results) == 2 and all(r.success for r in results)
    if not success:
        # No daemon runs the failure sensor for in-process runs, so alert the way it would.
        from orchestration.alerts import alert_for_failed_run

        failed = next(r for r in results if not r.success)
        alert_for_failed_run(failed.dagster_run, failed.all_events)
    print(_how_to_look([r.run_id for r in results], success))
    return 0 if success else 1


if __name__ == "__main__":
    sys.exit(main())
