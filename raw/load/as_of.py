"""An explicit as-of date for the delivered history (snapshot delivery).

A company that delivers its whole history as one snapshot folder says through which day it is complete:
`python -m raw.load --as-of YYYY-MM-DD` (or `python -m orchestration.run --as-of`). The date is recorded in
raw.load_as_of beside the newest export day loaded at that moment; int_warehouse_as_of uses it instead of
the newest export folder's name until a later export day is loaded (daily deliveries after the snapshot).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb

from raw.load.schema import SCHEMA, ensure_raw_schema


class AsOfError(ValueError):
    """An as-of date that cannot hold for the loaded history."""


def record_as_of(con: duckdb.DuckDBPyConnection, as_of: date) -> date:
    """Record `as_of` for the history loaded so far; returns the newest export day it applies to.

    Raises AsOfError when nothing is loaded yet, or when the as-of date lies after the newest export day
    (history exported on a day cannot be complete through a later one)."""
    ensure_raw_schema(con)
    (newest,) = con.execute(
        f"select max(export_date) from {SCHEMA}.load_audit where status <> 'refused'"
    ).fetchone()
    if newest is None:
        raise AsOfError(f"as-of {as_of}: no export day is loaded yet, so there is nothing it could date")
    if as_of > newest:
        raise AsOfError(
            f"as-of {as_of} is after the newest export day loaded ({newest}): an export cannot be complete "
            "through a day after it was made"
        )
    con.execute(f"insert into {SCHEMA}.load_as_of values (?, ?, ?)", [as_of, newest, datetime.now(UTC)])
    return newest
