"""Baselines of the previous successful validation, kept in the warehouse beside the data they describe:
row counts (audit.gx_row_counts) and learned figures (audit.gx_learned_figures, expectations/learned.py).

They live in schema `audit` of the warehouse file so that a rebuilt warehouse starts a fresh history
instead of comparing itself with a deleted one.
"""

from __future__ import annotations

import duckdb

from expectations.learned import LEARNED_TABLE
from expectations.suite import LearnedFigure

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


# Figures that describe the company (a silo's share of the journey, its defection rate), learned from its own
# passing runs: the bounds of the next run are drawn around them (expectations/learned.py).
_LEARNED_DDL = """
create schema if not exists audit;
create table if not exists audit.gx_learned_figures (
    suite_name varchar not null,
    figure varchar not null,
    value double not null,
    run_id varchar not null,
    recorded_at timestamptz not null default current_timestamp
);
"""


def learned_figures(con: duckdb.DuckDBPyConnection, suite_name: str) -> dict:
    """The latest learned value of each figure of `suite_name`: {figure: LearnedFigure}; empty at first."""
    con.execute(_LEARNED_DDL)
    rows = con.execute(
        f"""
        select figure, value, run_id, recorded_at
        from {LEARNED_TABLE}
        where suite_name = ?
        qualify row_number() over (partition by figure order by recorded_at desc) = 1
        """,
        [suite_name],
    ).fetchall()
    return {
        figure: LearnedFigure(figure, float(value), run_id, recorded_at)
        for figure, value, run_id, recorded_at in rows
    }


def record_learned_figures(
    con: duckdb.DuckDBPyConnection, suite_name: str, figures: dict[str, float], run_id: str
) -> None:
    """Remember the figures a passing run observed, as the baselines of the next run (call only on a pass)."""
    if not figures:
        return
    con.execute(_LEARNED_DDL)
    con.executemany(
        f"insert into {LEARNED_TABLE} (suite_name, figure, value, run_id) values (?, ?, ?, ?)",
        [[suite_name, figure, value, run_id] for figure, value in sorted(figures.items())],
    )
