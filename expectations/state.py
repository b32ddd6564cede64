"""Row counts of the previous successful validation, kept in the warehouse beside the data they describe.

The counts live in schema `audit` of the warehouse file so that a rebuilt warehouse starts a fresh history
instead of comparing itself with a deleted one.
"""

from __future__ import annotations

import duckdb

_DDL = """
create schema if not exists audit;
create table if not exists audit.gx_row_counts (
    suite_name varchar not null,
    row_count bigint not null,
    recorded_at timestamptz not null default current_timestamp
);
"""


def previous_row_count(con: duckdb.DuckDBPyConnection, suite_name: str) -> int | None:
    """The last recorded count for `suite_name`, or None when never recorded."""
    con.execute(_DDL)
    row = con.execute(
        "select row_count from audit.gx_row_counts where suite_name = ? order by recorded_at desc limit 1",
        [suite_name],
    ).fetchone()
    return None if row is None else int(row[0])


def record_row_count(con: duckdb.DuckDBPyConnection, suite_name: str, row_count: int) -> None:
    """Remember `row_count` as the baseline for the next run (call only after the suite passed)."""
    con.execute(_DDL)
    con.execute(
        "insert into audit.gx_row_counts (suite_name, row_count) values (?, ?)", [suite_name, row_count]
    )
