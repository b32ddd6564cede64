"""Run every GX suite against a warehouse file without Dagster: `python -m expectations [--layer marts]`.

The same suites and runner the Dagster asset checks use (orchestration/gx_gate.py), for a developer checking
a warehouse by hand and for the benchmark's "GX checks" stage. Raw suites judge every loaded day. Exit code 1
when any blocking expectation failed or raised.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from expectations import state
from expectations.registry import LAYERS, build_suite, suite_names
from expectations.runtime import GxRunner
from expectations.suite import SuiteContext


def main(argv: list[str] | None = None) -> int:
    from orchestration import settings

    parser = argparse.ArgumentParser(prog="python -m expectations", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default WAREHOUSE_PATH)")
    parser.add_argument("--gx-dir", type=Path, default=None, help="GX file context (default GX_DIR)")
    parser.add_argument("--layer", choices=LAYERS, action="append", help="layers to check (default all)")
    args = parser.parse_args(argv)

    warehouse = args.warehouse or settings.warehouse_path()
    runner = GxRunner(args.gx_dir or settings.gx_dir())
    con = duckdb.connect(str(warehouse), config=settings.duckdb_config())
    failed = 0
    try:
        existing = {
            (schema, table)
            for schema, table in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        } | {
            (schema, view)
            for schema, view in con.execute("select schema_name, view_name from duckdb_views()").fetchall()
        }
        for layer in args.layer or LAYERS:
            for name in suite_names(layer):
                if (layer, name) not in existing:
                    print(f"{layer}.{name}: not in the warehouse, skipped")
                    continue
                relation = f"{layer}.{name}"
                ctx = SuiteContext(relation=relation, previous_row_count=state.previous_row_count(con, name))
                outcome = runner.validate(con, build_suite(layer, name, ctx).bound(relation))
                if outcome.passed and outcome.row_count is not None:
                    state.record_row_count(con, name, outcome.row_count)
                failed += not outcome.passed
                verdict = "passed" if outcome.passed else "FAILED"
                print(f"{relation}: {verdict} ({len(outcome.outcomes)} expectations)")
                if not outcome.passed or outcome.warnings:
                    print(outcome.summary())
    finally:
        con.close()
    print(f"data docs: {runner.build_docs()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
