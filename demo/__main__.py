"""Generate a sample company when EXPORTS_DIR holds no export days, then run the main job on it.

`python -m demo [--customers N --days D --seed S --start-date D] [--generate]`, plus the options of
`python -m orchestration.run`. The company is generated only into the default folder (data/exports) or with
--generate: a mistyped EXPORTS_DIR must not fill a real folder with synthetic customers. When EXPORTS_DIR
already holds export days, nothing is generated and the job loads those not loaded yet.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

import settings
from orchestration.progress import report, timed
from orchestration.run import UsageError, job_arguments, run_cli


def generate_sample(customers: int, days: int, seed: int, start_date: date, generate: bool) -> None:
    """Write a sample company into EXPORTS_DIR (its answer key beside it) unless it holds export days."""
    from raw.generate import generate_company
    from raw.load import available_export_dates, misnamed_day_folders

    exports = settings.exports_dir()
    if available_export_dates(exports) or (exports.is_dir() and misnamed_day_folders(exports)):
        return  # the job's own check names misnamed day folders
    if not (generate or exports == settings.default_exports_dir()):
        raise UsageError(
            f"no export day folders (YYYY-MM-DD) under EXPORTS_DIR={exports}: check the path, or pass "
            "--generate to write a synthetic sample company there"
        )
    report(None, f"generate: {customers:,} customers x {days} days into {exports} ...")
    with timed() as elapsed:
        generate_company(
            out_dir=exports,
            answer_key_dir=exports.parent / "answer_key",
            customers=customers,
            days=days,
            seed=seed,
            start_date=start_date,
            progress=False,
        )
    report(None, f"generate: {len(available_export_dates(exports))} export days written in {elapsed():.1f}s")


def main(argv: list[str] | None = None) -> int:
    """Exit code 0 when the run succeeded and published, 1 when it failed, 2 on a usage mistake (nothing
    was generated or run)."""
    parser = argparse.ArgumentParser(
        prog="python -m demo", description=__doc__.splitlines()[0], parents=[job_arguments()]
    )
    parser.add_argument("--customers", type=int, default=2000, help="sample company size when generating")
    parser.add_argument("--days", type=int, default=180, help="export days to generate")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--start-date", type=date.fromisoformat, default=date(2024, 1, 1), help="first generated export day"
    )
    parser.add_argument(
        "--generate",
        action="store_true",
        help="generate a sample company when EXPORTS_DIR holds no export days (always done for the default "
        "data/exports)",
    )
    return run_cli(
        parser,
        argv,
        lambda args: generate_sample(args.customers, args.days, args.seed, args.start_date, args.generate),
    )


if __name__ == "__main__":
    sys.exit(main())
