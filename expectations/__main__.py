"""Run every GX suite against a warehouse file without Dagster: `python -m expectations [--layer marts]`.

A thin wrapper over expectations.gate.run_suites, the gate the Dagster asset checks run
(orchestration/gx_gate.py): by default table after table in this process, recording the row counts and
learned figures of the suites that passed, as a Dagster run does; this is what the benchmark's "GX checks"
stage measures. Raw suites judge every loaded day. Exit code 1 when any blocking expectation failed or
raised; each failure is printed with its figure, its bound and where the bound comes from.

`--jobs N` spreads the suites over N forked worker processes with read-only connections, for a developer
checking a large warehouse by hand (see run_suites).
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

# Run as a command, this process imports GX, scipy, pandas and SQLAlchemy below: a few hundred thousand
# objects that live until exit, which Python's cyclic collector would walk again and again while they are
# created (about an eighth of the imports' CPU). They are imported with the collector off, then frozen
# (gc.freeze: no collection walks them again) before the collector comes back for the run.
if __name__ == "__main__":
    gc.disable()

import settings  # noqa: E402 (imported with the collector off, see above)
from expectations.gate import run_suites, split_memory_limit  # noqa: E402
from expectations.registry import LAYERS  # noqa: E402

__all__ = ["main", "split_memory_limit"]

# Allocations less deallocations between two collections of the youngest generation (Python's default 700).
# GX makes and drops many short-lived objects per expectation; collecting them less often costs less CPU
# and frees the same objects.
GC_THRESHOLD = 50_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expectations", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default WAREHOUSE_PATH)")
    parser.add_argument("--gx-dir", type=Path, default=None, help="GX file context (default GX_DIR)")
    parser.add_argument("--layer", choices=LAYERS, action="append", help="layers to check (default all)")
    parser.add_argument(
        "--jobs", type=int, default=1, help="worker processes (default 1: in this process, as Dagster runs)"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")

    warehouse = args.warehouse or settings.warehouse_path()
    gx_dir = args.gx_dir or settings.gx_dir()
    checks, index = run_suites(warehouse, gx_dir, settings.duckdb_config(), args.layer or LAYERS, args.jobs)
    failed = 0
    for check in checks:
        outcome = check.outcome
        failed += not outcome.passed
        verdict = "passed" if outcome.passed else "FAILED"
        print(f"{check.relation}: {verdict} ({len(outcome.outcomes)} expectations)")
        for line in check.explained:
            print(f"  {line}")
        if outcome.warnings:
            print(outcome.summary())
    print(f"data docs: {index}")
    return 1 if failed else 0


if __name__ == "__main__":
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    gc.enable()
    code = main()
    # At exit Python garbage-collects every object the imports made (GX, scipy, pandas, SQLAlchemy) only to
    # free memory the OS takes back anyway, a noticeable share of a small warehouse's run. Frozen, they are
    # skipped (gc.freeze: later collections skip them; files, connections and atexit handlers still close).
    gc.freeze()
    sys.exit(code)
