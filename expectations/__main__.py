"""Run every GX suite against a warehouse file without Dagster: `python -m expectations [--layer marts]`.

The same suites and runner the Dagster asset checks use (orchestration/gx_gate.py), for a developer checking
a warehouse by hand and for the benchmark's "GX checks" stage. Raw suites judge every loaded day. Exit code 1
when any blocking expectation failed or raised.

`--jobs N` (default: the machine's cores, at most 4) validates the suites in N worker processes, each with
its own read-only connection to the file (DuckDB lets several processes read a file nobody writes) and its
share of DuckDB's threads and memory limit. On a small warehouse GX's time is its own Python, about 35 ms
per batch on one core whatever the rows, so a second process halves it; on a large one DuckDB's scans
dominate and the shares of threads keep the total what one process with every thread would use. The
workers are forked after the imports (GX takes about 2.5 s to import), and each renders its own data docs
pages; this process reads the previous row counts before them and records the new ones and builds the docs
index after them, the only writes. The Dagster checks validate in their step's process, one suite after
another (orchestration/model_gates.py).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from expectations import state
from expectations.registry import LAYERS, build_suite, suite_names
from expectations.runtime import GxRunner, SuiteOutcome, build_docs_index, docs_context
from expectations.suite import SuiteContext

MAX_DEFAULT_JOBS = 4


@dataclass(frozen=True)
class _Planned:
    """One suite to validate, with the baseline this process read before the workers started."""

    layer: str
    name: str
    previous_row_count: int | None
    batches: int

    @property
    def relation(self) -> str:
        return f"{self.layer}.{self.name}"


def main(argv: list[str] | None = None) -> int:
    import settings

    parser = argparse.ArgumentParser(prog="python -m expectations", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default WAREHOUSE_PATH)")
    parser.add_argument("--gx-dir", type=Path, default=None, help="GX file context (default GX_DIR)")
    parser.add_argument("--layer", choices=LAYERS, action="append", help="layers to check (default all)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(MAX_DEFAULT_JOBS, os.cpu_count() or 1),
        help=f"worker processes (default: the cores, at most {MAX_DEFAULT_JOBS}; 1: in this process)",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")

    warehouse = args.warehouse or settings.warehouse_path()
    gx_dir = args.gx_dir or settings.gx_dir()
    config = settings.duckdb_config()
    planned = _plan(warehouse, config, args.layer or LAYERS)
    jobs = min(args.jobs, len(planned)) or 1
    docs_context(gx_dir)  # created here, before any worker reads it
    shares = _shares(planned, jobs)
    worker_config = _worker_config(config, jobs)
    if jobs == 1:
        results = [_validate_share(warehouse, gx_dir, worker_config, shares[0])]
    else:
        # Forked after the imports; no DuckDB connection is open in this process while the workers run.
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_validate_share, warehouse, gx_dir, worker_config, s) for s in shares]
            results = [f.result() for f in futures]
    outcomes = {key: outcome for share_outcomes, _ in results for key, outcome in share_outcomes}
    stored = [key for _, keys in results for key in keys]

    failed = 0
    con = duckdb.connect(str(warehouse), config=config)
    try:
        for item in planned:
            outcome = outcomes[item.layer, item.name]
            if outcome.passed and outcome.row_count is not None:
                state.record_row_count(con, item.name, outcome.row_count)
            failed += not outcome.passed
            verdict = "passed" if outcome.passed else "FAILED"
            print(f"{item.relation}: {verdict} ({len(outcome.outcomes)} expectations)")
            if not outcome.passed or outcome.warnings:
                print(outcome.summary())
    finally:
        con.close()
    print(f"data docs: {build_docs_index(gx_dir, stored)}")
    return 1 if failed else 0


def _plan(warehouse: Path, config: dict[str, str], layers) -> list[_Planned]:
    """The suites whose table is in the warehouse, with their previous row counts (read, then closed)."""
    con = duckdb.connect(str(warehouse), config=config)
    try:
        existing = {
            (schema, table)
            for schema, table in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        } | {
            (schema, view)
            for schema, view in con.execute("select schema_name, view_name from duckdb_views()").fetchall()
        }
        planned = []
        for layer in layers:
            for name in suite_names(layer):
                if (layer, name) not in existing:
                    print(f"{layer}.{name}: not in the warehouse, skipped")
                    continue
                previous = state.previous_row_count(con, name)
                batches = len(build_suite(layer, name, SuiteContext(relation=f"{layer}.{name}")).batches)
                planned.append(_Planned(layer, name, previous, batches))
        return planned
    finally:
        con.close()


def _shares(planned: list[_Planned], jobs: int) -> list[list[_Planned]]:
    """Split the suites into `jobs` shares of about equal batch counts (GX's unit of fixed cost)."""
    shares: list[list[_Planned]] = [[] for _ in range(jobs)]
    loads = [0] * jobs
    for item in sorted(planned, key=lambda p: -p.batches):
        i = loads.index(min(loads))
        shares[i].append(item)
        loads[i] += item.batches
    return shares


def _worker_config(config: dict[str, str], jobs: int) -> dict[str, str]:
    """Each worker's DuckDB settings: its share of the cores and of the memory limit."""
    if jobs == 1:
        return dict(config)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    return {
        **config,
        "threads": str(threads),
        "memory_limit": split_memory_limit(config["memory_limit"], jobs),
    }


_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)
_BYTES = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def split_memory_limit(limit: str, parts: int) -> str:
    """`limit` (DuckDB's form, e.g. "3GB") divided by `parts`, in MB; raises ValueError for another form."""
    match = _SIZE.match(limit)
    if not match:
        raise ValueError(f"memory limit {limit!r}: expected a number and a unit such as 3GB or 512MiB")
    total = float(match.group(1)) * _BYTES[match.group(2).upper()]
    return f"{max(1, int(total / parts / 1e6))}MB"


def _validate_share(
    warehouse: Path, gx_dir: Path, config: dict[str, str], share: list[_Planned]
) -> tuple[list[tuple[tuple[str, str], SuiteOutcome]], list]:
    """Validate `share` on a read-only connection; render its data docs pages; return outcomes and keys."""
    runner = GxRunner(gx_dir)
    outcomes = []
    con = duckdb.connect(str(warehouse), read_only=True, config=config)
    try:
        for item in share:
            ctx = SuiteContext(relation=item.relation, previous_row_count=item.previous_row_count)
            suite = build_suite(item.layer, item.name, ctx).bound(item.relation)
            outcomes.append(((item.layer, item.name), runner.validate(con, suite)))
    finally:
        con.close()
    runner.build_docs(index=False)
    return outcomes, runner.stored_keys


if __name__ == "__main__":
    code = main()
    # At exit Python garbage-collects every object the imports made (GX, scipy, pandas, SQLAlchemy) only to
    # free memory the OS takes back anyway, a noticeable share of a small warehouse's run. Frozen, they are
    # skipped (gc.freeze: later collections skip them; files, connections and atexit handlers still close).
    gc.freeze()
    sys.exit(code)
