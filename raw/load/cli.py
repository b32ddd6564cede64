"""`python -m raw.load`: load export days into the warehouse and print what happened to each file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from raw.load.results import ContractError, FileLoadResult


def _print_results(results: list[FileLoadResult]) -> None:
    for r in results:
        print(
            f"{r.source_file:<50} {r.status:<9} delivered={r.rows_delivered} loaded={r.rows_loaded} "
            f"quarantined={r.rows_quarantined}"
        )
    print(
        f"total: {len(results)} files, delivered={sum(r.rows_delivered for r in results)} "
        f"loaded={sum(r.rows_loaded for r in results)} "
        f"quarantined={sum(r.rows_quarantined for r in results)}"
    )


def main(argv: list[str] | None = None) -> int:
    """CLI: load export days into the warehouse; exit code 1 when a file breaks the contract."""
    parser = argparse.ArgumentParser(prog="python -m raw.load", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--exports", required=True, type=Path, help="folder holding the YYYY-MM-DD day folders"
    )
    parser.add_argument("--warehouse", required=True, type=Path, help="DuckDB file to load into")
    parser.add_argument(
        "--date",
        action="append",
        dest="dates",
        metavar="YYYY-MM-DD",
        help="export day to load (repeatable; default: every day folder)",
    )
    parser.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="the day the delivered history is complete through (a snapshot delivery): the warehouse's "
        "as-of date instead of the newest export folder's name",
    )
    args = parser.parse_args(argv)
    from raw.load import load_exports  # the package imports this module: import its entry point at run time

    try:
        results = load_exports(args.warehouse, args.exports, args.dates, as_of=args.as_of)
    except ContractError as exc:
        _print_results(exc.results)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _print_results(results)
    from raw.profile import load_profile

    if args.as_of is None and load_profile().delivery == "snapshot":
        print(
            f"note: company {load_profile().name} delivers snapshots; without --as-of the warehouse is dated "
            "by the newest export folder's name",
            file=sys.stderr,
        )
    return 0
