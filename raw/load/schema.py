"""The raw schema: one table per contract table, and the loader's own audit, quarantine, withdrawals and
declared as-of dates."""

from __future__ import annotations

import duckdb

from raw.contract import LOAD_METADATA_COLUMNS, load_contract
from raw.load.results import RawSchemaError

SCHEMA = "raw"


AUDIT_DDL = f"""
create table if not exists {SCHEMA}.load_audit (
    load_id varchar not null,
    table_name varchar not null,
    export_date date not null,
    source_file varchar not null,
    file_sha256 varchar not null,
    rows_delivered bigint,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    status varchar not null,
    loaded_at timestamptz not null,
    message varchar,
    absent_columns varchar
)"""

QUARANTINE_DDL = f"""
create table if not exists {SCHEMA}.load_quarantine (
    load_id varchar not null,
    table_name varchar not null,
    export_date date not null,
    source_file varchar not null,
    line_number bigint not null,
    raw_line varchar not null,
    reason varchar not null,
    loaded_at timestamptz not null
)"""

WITHDRAWALS_DDL = f"""
create table if not exists {SCHEMA}.load_withdrawals (
    load_id varchar not null,
    table_name varchar not null,
    export_date date not null,
    source_file varchar not null,
    rows_withdrawn bigint not null,
    withdrawn_at timestamptz not null
)"""

# An explicit as-of date (python -m raw.load --as-of, python -m orchestration.run --as-of): the day the
# delivered history is complete through, for a snapshot delivery whose folder name says nothing about it.
# export_date is the newest export day loaded when it was recorded: a later export day supersedes it.
AS_OF_DDL = f"""
create table if not exists {SCHEMA}.load_as_of (
    as_of_date date not null,
    export_date date not null,
    recorded_at timestamptz not null
)"""


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema raw, every contract table (empty), load_audit, load_quarantine, load_withdrawals and
    load_as_of if missing.

    A warehouse built under an older contract is brought up to date: a column the contract gained is added to
    the stored table (its earlier rows hold NULL, which is what their deliveries carried), a column the
    contract dropped stays with its data (inserts name their columns, so new rows leave it NULL). A stored
    column whose type differs from the contract's raises RawSchemaError: converting landed values is a
    decision for a person, not for a load.
    """
    con.execute(f"create schema if not exists {SCHEMA}")
    stored: dict[str, dict[str, str]] = {}
    nullable: set[tuple[str, str]] = set()
    for table_name, column_name, data_type, is_nullable in con.execute(
        "select table_name, column_name, data_type, is_nullable from duckdb_columns() "
        "where schema_name = ? and database_name = current_database()",
        [SCHEMA],
    ).fetchall():
        stored.setdefault(table_name, {})[column_name] = data_type
        if is_nullable:
            nullable.add((table_name, column_name))
    for table in load_contract().tables.values():
        columns = [(c.name, c.type) for c in table.columns]
        columns += [(name, dtype) for name, dtype, _ in LOAD_METADATA_COLUMNS]
        # Required columns are NOT NULL: the loader quarantines a row with an empty required value, and the
        # table refuses one that would reach it another way.
        required = {c.name for c in table.columns if c.required}
        if table.name not in stored:
            con.execute(
                f"create table {SCHEMA}.{ident(table.name)} (\n    "
                + ",\n    ".join(
                    f"{ident(name)} {dtype}{' not null' if name in required else ''}"
                    for name, dtype in columns
                )
                + "\n)"
            )
            continue
        for name, dtype in columns:
            (expected,) = con.execute(f"select typeof(cast(null as {dtype}))").fetchone()
            found = stored[table.name].get(name)
            if found is None:
                con.execute(f"alter table {SCHEMA}.{ident(table.name)} add column {ident(name)} {dtype}")
            elif found != expected:
                raise RawSchemaError(
                    f"{SCHEMA}.{table.name}.{name} is stored as {found} but the contract says {dtype}: "
                    "convert the column by hand, or reload the exports into a new warehouse"
                )
        for name in sorted(required & stored[table.name].keys()):
            # A table created before: it gains the constraint, unless rows landed before the column was
            # required hold NULL there.
            relation = f"{SCHEMA}.{ident(table.name)}"
            if (table.name, name) in nullable and not con.execute(
                f"select count(*) from {relation} where {ident(name)} is null"
            ).fetchone()[0]:
                con.execute(f"alter table {relation} alter column {ident(name)} set not null")
    con.execute(AUDIT_DDL)
    # An audit table written before the loader recorded absent columns gains the column (NULL: not known).
    con.execute(f"alter table {SCHEMA}.load_audit add column if not exists absent_columns varchar")
    con.execute(QUARANTINE_DDL)
    con.execute(WITHDRAWALS_DDL)
    con.execute(AS_OF_DDL)
