"""Export days and their raw gate: a day that failed its gate is never built or published until it is
corrected, accepted or removed.

The loader commits a day's rows before the raw GX gate judges them, so the gate's verdict is kept per export
day in `audit.export_day_gates` of the warehouse (beside the data it describes):

    passed    the day passed every blocking raw check
    rejected  a blocking raw check failed on the day's rows (`reason` says which)
    accepted  a person accepted the rejected day as it is (`python -m orchestration.export_days accept DAY`)
    removed   a person removed the day's rows (`... remove DAY`); loads skip the day until `reset DAY`

Every raw load gates its new days and re-gates every loaded day not passed or accepted (a day loaded before,
a day still rejected, a re-delivered correction), and the dbt build refuses to start while a loaded day is
rejected or was never gated (`blocking_days`). This holds whichever way the job is started
(`python -m orchestration.run`, the schedule, the sensor, the UI), since it lives in the assets themselves.

CLI:
    python -m orchestration.export_days status            every gated day that is not `passed`
    python -m orchestration.export_days accept 2024-03-07  publish the day as it is (e.g. a known outlier)
    python -m orchestration.export_days remove 2024-03-07  delete the day's raw rows; loads skip it
    python -m orchestration.export_days reset 2024-03-07   forget the verdict: the next load loads, gates it
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb

import settings

PASSED, REJECTED, ACCEPTED, REMOVED = "passed", "rejected", "accepted", "removed"
CLEARED = (PASSED, ACCEPTED)

_DDL = """
create schema if not exists audit;
create table if not exists audit.export_day_gates (
    export_date date primary key,
    status varchar not null,
    reason varchar,
    run_id varchar,
    decided_at timestamptz not null default current_timestamp
);
"""

HOW_TO_CLEAR = (
    "deliver a corrected export for the day (the next load re-checks it), or accept it as it is with "
    "`python -m orchestration.export_days accept DAY`, or remove its rows with "
    "`python -m orchestration.export_days remove DAY`"
)


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where database_name = current_database() "
            "and schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchone()
    )


def statuses(con: duckdb.DuckDBPyConnection) -> dict[date, tuple[str, str | None]]:
    """Export day -> (status, reason) of every day with a verdict."""
    if not _has_table(con, "audit", "export_day_gates"):
        return {}
    return {
        row[0]: (row[1], row[2])
        for row in con.execute("select export_date, status, reason from audit.export_day_gates").fetchall()
    }


def loaded_days(con: duckdb.DuckDBPyConnection) -> set[date]:
    """Export days with at least one file loaded (the loader's audit), refused files aside."""
    if not _has_table(con, "raw", "load_audit"):
        return set()
    return {
        row[0]
        for row in con.execute(
            "select distinct export_date from raw.load_audit where status <> 'refused'"
        ).fetchall()
    }


def days_to_gate(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Loaded days that have not passed and were not accepted: never gated, rejected, or re-delivered."""
    verdicts = statuses(con)
    return sorted(d for d in loaded_days(con) if verdicts.get(d, (None,))[0] not in (*CLEARED, REMOVED))


def blocking_days(con: duckdb.DuckDBPyConnection) -> dict[date, str]:
    """Loaded days the build must not use: rejected, or never gated. Day -> why."""
    verdicts = statuses(con)
    blocking = {}
    for day in sorted(loaded_days(con)):
        status, reason = verdicts.get(day, (None, None))
        if status == REJECTED:
            blocking[day] = f"rejected by the raw gate: {reason}"
        elif status is None:
            blocking[day] = "loaded but never checked by the raw gate (run the raw load job)"
    return blocking


def skipped_days(con: duckdb.DuckDBPyConnection) -> set[date]:
    """Days a person removed: loads leave their folders alone."""
    return {d for d, (status, _) in statuses(con).items() if status == REMOVED}


def record(
    con: duckdb.DuckDBPyConnection, days: Iterable[date], status: str, reason: str | None, run_id: str | None
) -> None:
    ensure_table(con)
    for day in days:
        con.execute(
            "insert or replace into audit.export_day_gates (export_date, status, reason, run_id, decided_at) "
            "values (?, ?, ?, ?, current_timestamp)",
            [day, status, reason, run_id],
        )


def forget(con: duckdb.DuckDBPyConnection, days: Iterable[date]) -> None:
    """Drop the verdict of `days` (a re-delivered day is gated again)."""
    ensure_table(con)
    for day in days:
        con.execute("delete from audit.export_day_gates where export_date = ?", [day])


def blocking_message(blocking: dict[date, str]) -> str:
    lines = [
        f"{len(blocking)} loaded export day(s) have not passed the raw gate; nothing is built or published:"
    ]
    lines += [f"  {day}: {why}" for day, why in blocking.items()]
    lines.append("To go on: " + HOW_TO_CLEAR + ".")
    return "\n".join(lines)


def remove_day(con: duckdb.DuckDBPyConnection, day: date) -> dict[str, int]:
    """Delete every raw row, quarantined row and audit row of `day`, and mark it removed; returns the rows
    deleted per table."""
    from raw.contract import load_contract

    deleted = {}
    con.execute("begin")
    try:
        for table in load_contract().tables:
            if _has_table(con, "raw", table):
                (n,) = con.execute(
                    f'select count(*) from raw."{table}" where _export_date = ?', [day]
                ).fetchone()
                con.execute(f'delete from raw."{table}" where _export_date = ?', [day])
                deleted[table] = n
        for table in ("load_quarantine", "load_audit"):
            if _has_table(con, "raw", table):
                con.execute(f"delete from raw.{table} where export_date = ?", [day])
        record(con, [day], REMOVED, "removed by hand", None)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return deleted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.export_days", description=__doc__.splitlines()[0]
    )
    parser.add_argument("action", choices=["status", "accept", "remove", "reset"])
    parser.add_argument("days", nargs="*", type=date.fromisoformat, metavar="YYYY-MM-DD")
    parser.add_argument("--warehouse", type=Path, default=None, help="default WAREHOUSE_PATH")
    args = parser.parse_args(argv)
    warehouse = args.warehouse or settings.warehouse_path()
    if not warehouse.exists():
        print(f"error: no warehouse at {warehouse} (set WAREHOUSE_PATH or --warehouse)", file=sys.stderr)
        return 2
    if args.action != "status" and not args.days:
        print(f"error: {args.action} needs one or more days (YYYY-MM-DD)", file=sys.stderr)
        return 2
    con = duckdb.connect(str(warehouse))
    try:
        if args.action == "status":
            verdicts = statuses(con)
            blocking = blocking_days(con)
            for day, (status, reason) in sorted(verdicts.items()):
                if status != PASSED:
                    print(f"{day}  {status:<9} {reason or ''}")
            print(blocking_message(blocking) if blocking else "no export day blocks the build")
            return 1 if blocking else 0
        loaded = loaded_days(con)
        for day in args.days:
            if args.action == "accept":
                if day not in loaded:
                    print(f"error: {day} is not loaded in {warehouse}", file=sys.stderr)
                    return 1
                record(con, [day], ACCEPTED, "accepted by hand", None)
                print(f"{day}: accepted; the next build publishes it as it is")
            elif args.action == "remove":
                deleted = remove_day(con, day)
                print(
                    f"{day}: removed {sum(deleted.values())} raw rows; loads skip the day until `reset {day}`"
                )
            else:
                forget(con, [day])
                print(f"{day}: verdict forgotten; the next load loads and checks the day again")
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
