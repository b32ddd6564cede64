"""Run the whole warehouse job once, without the UI: `python -m orchestration.run [--last-day D]`.

Loads every export day of EXPORTS_DIR not loaded yet in ONE run, builds dbt, runs the GX gates and publishes,
printing one progress line per stage. EXPORTS_DIR must hold export day folders: `python -m demo` (`make demo`)
generates a sample company first. The run is recorded in the Dagster instance in DAGSTER_HOME (default
.dagster_home), so `dagster dev` shows it afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import settings
from orchestration.progress import print_to_terminal, report, timed

DAGSTER_YAML = Path(__file__).with_name("dagster.yaml")


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME (default .dagster_home in the repo), created with the instance settings when missing."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.REPO_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(DAGSTER_YAML, home / "dagster.yaml")
    return home


class UsageError(Exception):
    """A mistake in how the run was asked for: printed as one line, exit code 2."""


def export_days() -> list[date]:
    """The export days in EXPORTS_DIR; UsageError naming the folder (and misnamed day folders) when none."""
    from raw.load import available_export_dates, misnamed_day_folders

    exports = settings.exports_dir()
    found = available_export_dates(exports)
    if found:
        return found
    misnamed = misnamed_day_folders(exports) if exports.is_dir() else []
    if misnamed:
        raise UsageError(
            f"no export day folders (YYYY-MM-DD) under EXPORTS_DIR={exports}; "
            + "; ".join(f"{r.source_file} {r.reason}" for r in misnamed)
        )
    raise UsageError(
        f"no export day folders (YYYY-MM-DD) under EXPORTS_DIR={exports}: check the path, or generate a "
        "sample company there with `python -m demo --generate` (`make demo` fills the default data/exports)"
    )


def check_writable() -> None:
    """Fail before any work when a folder the run writes cannot be written."""
    for var, path in (
        ("WAREHOUSE_PATH", settings.warehouse_path()),
        ("SERVING_DIR", settings.serving_dir() / "marts.duckdb"),
        ("ALERTS_PATH", settings.alerts_path()),
        ("GX_DIR", settings.gx_dir() / "probe"),
    ):
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".write-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
            if path.exists() and not os.access(path, os.W_OK):
                raise PermissionError(f"{path} is not writable")
        except OSError as exc:
            raise UsageError(f"{var}={path}: cannot write there ({exc.strerror or exc})") from exc


def run_warehouse(first_day: date, last_day: date, instance=None, as_of: date | None = None):
    """Load export days first_day..last_day in one raw_load_job run, then build_job when it succeeded.
    `as_of` (a snapshot delivery's as-of date) is recorded between the two (raw.load_as_of).

    Returns the results of the runs executed (the build is skipped when the load failed), like the
    `build_after_raw_load` sensor does in a deployment.
    """
    import dagster as dg

    report(None, "run: loading the Dagster definitions (dbt manifest, GX suites) ...")
    from orchestration.definitions import defs
    from orchestration.jobs import raw_load_run_config
    from orchestration.recovery import process_tags, recover_dead_runs

    instance = instance or dg.DagsterInstance.get()
    # A run killed earlier would hold the warehouse's pool slot for ever and this run would wait on it.
    for dead in recover_dead_runs(instance):
        print(f"recovered dead run {dead.run_id} of {dead.job_name} (alert written)", flush=True)
    tags = process_tags()
    # The progress lines say what each stage did; Dagster's console logger adds only warnings and errors.
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    load_config = raw_load_run_config(first_day.isoformat(), last_day.isoformat()).to_config_dict()
    load = defs.resolve_job_def("raw_load_job").execute_in_process(
        instance=instance,
        run_config={**load_config, **quiet},
        tags=tags,
        raise_on_error=False,
    )
    if not load.success:
        return [load]
    if as_of is not None:
        import duckdb

        from raw.load import record_as_of

        with duckdb.connect(str(settings.warehouse_path())) as con:
            record_as_of(con, as_of)
        report(None, f"run: as-of date {as_of} recorded for the loaded history")
    build = defs.resolve_job_def("build_job").execute_in_process(
        instance=instance, run_config=quiet, tags=tags, raise_on_error=False
    )
    return [load, build]


def _publication_line(build) -> str | None:
    for event in build.get_asset_materialization_events():
        if event.asset_key == dg_asset_key("published_marts"):
            meta = event.materialization.metadata
            counts = meta.get("row_counts")
            rows = sum(counts.value.values()) if counts is not None else None
            tables = meta.get("tables")
            return (
                f"publish: {tables.value if tables else '?'} tables"
                + (f", {rows:,} rows" if rows is not None else "")
                + (f", version {meta['version'].value}" if "version" in meta else "")
            )
    return None


def dg_asset_key(name: str):
    import dagster as dg

    return dg.AssetKey(name)


def _how_to_look(run_ids: list[str], success: bool) -> str:
    serving = settings.serving_dir() / "marts.duckdb"
    docs = settings.gx_dir() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    lines = [f"runs {', '.join(run_ids)}: " + ("SUCCESS" if success else "FAILED")]
    if success:
        lines.append(f"published marts : {serving}  (+ {settings.serving_dir() / 'parquet'}/*.parquet)")
    elif serving.exists():
        lines.append(f"nothing published; the last good publication is untouched: {serving}")
    else:
        lines.append("nothing published (there is no earlier publication)")
    if serving.exists():
        lines.append(
            '  read it       : .venv/bin/python -c "import duckdb; con = duckdb.connect('
            f"'{serving}', read_only=True); con.sql('show all tables').show()\""
        )
    lines += [
        f"warehouse       : {settings.warehouse_path()} (the writer's file: not for readers)",
        f"GX data docs    : {docs}",
        f"alerts          : {settings.alerts_path()}",
        "export days     : python -m orchestration.export_days status",
        f"Dagster UI      : make dev (DAGSTER_HOME={os.environ['DAGSTER_HOME']}), open http://127.0.0.1:3000",
    ]
    return "\n".join(lines)


def job_arguments() -> argparse.ArgumentParser:
    """The options of a main-job run, as a parent parser: `python -m demo` offers the same ones."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--first-day", type=date.fromisoformat, default=None, help="load no day before this")
    parser.add_argument(
        "--last-day", type=date.fromisoformat, default=None, help="load no day after this (an as-of date)"
    )
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="the day the delivered history is complete through (a snapshot delivery); see raw/load/as_of.py",
    )
    return parser


def run_job(args: argparse.Namespace, days: list[date]) -> int:
    """Run the main job on `days` (narrowed by the job_arguments in `args`), print its progress and how to
    look at the result; exit code 0 when it succeeded and published, else 1."""
    first = args.first_day or days[0]
    last = args.last_day or days[-1]
    report(None, f"run: load, build, check and publish export days {first}..{last} ({len(days)} day folders)")
    with timed() as elapsed:
        try:
            results = run_warehouse(first, last, as_of=args.as_of)
        except ValueError as exc:  # raw.load.AsOfError: an as-of date the loaded history cannot have
            print(f"error: {exc}", file=sys.stderr)
            return 1
    line = _publication_line(results[1]) if len(results) == 2 else None
    if line:
        report(None, line)
    # Both runs succeeded AND the marts were published: a run whose publish step was skipped (an upstream
    # output missing) ends "successful" in Dagster's terms without publishing anything.
    success = len(results) == 2 and all(r.success for r in results) and line is not None
    report(None, f"run: {'done' if success else 'FAILED'} in {elapsed():.1f}s")
    if not success:
        failed = next((r for r in results if not r.success), None)
        if failed is None:
            print(
                "error: the build ran but published nothing (a step was skipped); see the run's events",
                file=sys.stderr,
            )
        else:
            # No daemon runs the failure sensor for in-process runs, so alert the way it would.
            from orchestration.alerts import alert_for_failed_run

            alert = alert_for_failed_run(failed.dagster_run, failed.all_events)
            print(f"error: {alert.message}", file=sys.stderr)
    print(_how_to_look([r.run_id for r in results], success))
    return 0 if success else 1


def run_cli(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    before_export_days: Callable[[argparse.Namespace], None] | None = None,
) -> int:
    """Parse `argv` with `parser` (built on job_arguments), check what the run needs before any work (the
    folders it writes are writable, the Dagster instance exists, EXPORTS_DIR holds export days), then run
    the main job. `before_export_days(args)` runs after the checks and before EXPORTS_DIR is read (the demo
    writes a sample company there). Exit code 0 when the run succeeded and published, 1 when it failed, 2
    on a usage mistake (a UsageError: nothing was run)."""
    args = parser.parse_args(argv)
    print_to_terminal()
    try:
        check_writable()
        ensure_dagster_home()
        if before_export_days is not None:
            before_export_days(args)
        days = export_days()
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run_job(args, days)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; exit code 0 when the run succeeded and published, 1 when it failed, 2 on a usage
    mistake (nothing was run)."""
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.run", description=__doc__.splitlines()[0], parents=[job_arguments()]
    )
    return run_cli(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
