"""Land the daily CSV exports in DuckDB schema `raw`, losing nothing.

Every data record of every file ends up either in `raw.<table>` (typed per raw/contract.yml) or in
`raw.load_quarantine` (with its original text, physical line number and a readable reason), and every file
gets a row in `raw.load_audit` where rows_delivered = rows_loaded + rows_quarantined is checked before commit.
This package is the loader's public surface; its modules, in the order a load goes through them:

- folders: which folders are export days. Only folders named exactly YYYY-MM-DD are; a folder whose name
  reads as a date in another spelling (`2024-6-28`, `20240628`) is refused by name, never loaded and never
  ignored silently. A missing exports folder, or one without any day folder, is an error.
- files: one file's checks before parsing (table, sha256, UTF-8, header). A file that breaks the contract
  (unknown table file, unreadable header, missing required or unknown column, not UTF-8, CR-only line
  endings, a first line too long to be a header, a symbolic link out of the exports folder) loads nothing;
  the run's other files and days still load, a 'refused' audit row records it, and ContractError is raised at
  the end naming every refused file. Refusals quote header names only when they look like column names.
- parse: records and typed values, set-based in DuckDB (see its docstring for the rules of quoting, line
  endings and cut files).
- batches: batches of whole days, one transaction each, audit rows and the delivered = loaded + quarantined
  reconciliation; a file DuckDB cannot parse is retried alone and refused alone.
- schema: the raw tables, load_audit, load_quarantine and load_withdrawals.
- cli: `python -m raw.load`.

Idempotence: a file whose sha256 matches the loaded delivery of its table and day is 'unchanged' (nothing is
written); different content for the same table and day is 'replaced': that day's rows, quarantine rows and
audit row of the table are deleted and the new ones inserted in the same transaction, and the rows withdrawn
are logged in raw.load_withdrawals so that volume checks judge the new delivery against the one it replaces.

Counting rule: rows_delivered counts CSV records after the header, so a quoted value holding a newline is one
record spanning several physical lines; a blank line is a record (quarantined, it cannot carry the required
columns). A 0-byte file has no header and counts as 0 rows delivered, status 'loaded'.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb

import settings
from raw.load.batches import load_days
from raw.load.cli import main
from raw.load.folders import as_date, available_export_dates, check_exports, misnamed_day_folders
from raw.load.results import ContractError, ExportsNotFound, FileLoadResult, RawSchemaError, RefusedFile
from raw.load.schema import SCHEMA, ensure_raw_schema

__all__ = [
    "SCHEMA",
    "ContractError",
    "ExportsNotFound",
    "FileLoadResult",
    "RawSchemaError",
    "RefusedFile",
    "available_export_dates",
    "ensure_raw_schema",
    "load_export_day",
    "load_exports",
    "main",
    "misnamed_day_folders",
]


def load_export_day(
    con: duckdb.DuckDBPyConnection, exports_dir: str | Path, export_date: date | str
) -> list[FileLoadResult]:
    """Load every file of one export day folder through `con` (which must not be inside a transaction).

    Files that break the contract are refused and recorded; the day's other files load, then ContractError
    is raised listing every refused file (its `results` holds the files that did load).
    """
    exports_dir = Path(exports_dir)
    days = [as_date(export_date)]
    check_exports(exports_dir, days, every_day=False)
    results, refused = load_days(con, exports_dir, days)
    refused = misnamed_day_folders(exports_dir, days) + refused
    if refused:
        raise ContractError(refused, results)
    return results


def _connect(warehouse: str | Path | duckdb.DuckDBPyConnection) -> tuple[duckdb.DuckDBPyConnection, bool]:
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        return warehouse, False
    path = Path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The job's memory bound (DUCKDB_MEMORY_LIMIT, as in profiles.yml and the other steps): unbounded,
    # DuckDB may take 80% of the machine on a large history.
    return duckdb.connect(str(path), config=settings.duckdb_config()), True


def load_exports(
    warehouse: str | Path | duckdb.DuckDBPyConnection,
    exports_dir: str | Path,
    export_dates: Iterable[date | str] | None = None,
) -> list[FileLoadResult]:
    """Load the given export days (None = every day folder) into `warehouse`, oldest day first.

    `warehouse` is a DuckDB file path (parent folders created) or an open connection. A refused file does not
    stop the other files or days; ContractError is raised at the end listing every refused file.
    """
    exports_dir = Path(exports_dir)
    if export_dates is None:
        days = available_export_dates(exports_dir)
    else:
        days = sorted({as_date(d) for d in export_dates})
    check_exports(exports_dir, days, every_day=export_dates is None)
    con, owned = _connect(warehouse)
    try:
        results, refused = load_days(con, exports_dir, days)
    finally:
        if owned:
            con.close()
    # A misnamed day folder is never loaded and never ignored silently: it is reported with the refusals,
    # every one of them when every day was asked for, else those that read as one of the requested days.
    refused = misnamed_day_folders(exports_dir, None if export_dates is None else days) + refused
    if refused:
        raise ContractError(refused, results)
    return results
