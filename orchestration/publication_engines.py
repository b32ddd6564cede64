"""Publish the marts built on PostgreSQL or Spark the way the DuckDB target publishes them.

A BI tool then reads the same serving folder whatever engine built the marts (orchestration/publication.py):
`publications/<id>/` holding marts.duckdb, parquet/<mart>.parquet and publication.json, and the `current`
link swapped atomically once the copy passed its audit. Only the first step differs per engine:

1. a snapshot: every table of the published schemas (`marts`, and `restricted` when personal data is
   published) plus `intermediate.int_warehouse_as_of` (the publication's as-of date) is copied into a
   scratch DuckDB file inside the serving folder, with the engine's table and column comments;
   - PostgreSQL: one REPEATABLE READ, read-only transaction, so every table comes from the same committed
     state even while another build writes; each table streamed with COPY ... TO STDOUT (CSV) and read by
     DuckDB with the column types the catalog declares; the copy's row count must equal count(*) in that
     transaction;
   - Spark: each table's Parquet files under SPARK_DIR/warehouse/<schema>.db/<table>/, as the session
     target writes them (on a cluster, point `spark_dir` at a local copy of the warehouse folder); Spark's
     timestamps (instants in Parquet) are read back as UTC wall-clock timestamps, the type the marts
     declare. Comments come from the dbt manifest when one is given.
2. publish_marts() on that snapshot: the same write, audit, atomic switch and clean-up as on DuckDB.
3. The scratch file is removed, whether the publish succeeded or not.

The same snapshot, into the DuckDB warehouse file itself, is the Dagster job's mirror on these targets
(mirror_engine_tables, orchestration/engine_target.py). A failure in any step leaves the current
publication in place. Snapshots run one at a time per serving folder (`.snapshot.lock`); one a killed
process left behind is removed by the next.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import duckdb

from orchestration.publication import (
    RESTRICTED_SCHEMA,
    Publication,
    PublicationAuditError,
    comment_on,
    exclusive_lock,
    publish_marts,
    publish_personal_data,
    quote_literal,
    quote_name,
)
from settings import REPO_ROOT

SNAPSHOT_PREFIX = ".engine-snapshot-"
SNAPSHOT_LOCK = ".snapshot.lock"
# The one intermediate table a publication reads besides the published schemas (its as-of date).
AS_OF = ("intermediate", "int_warehouse_as_of")
ENGINES = ("postgres", "spark")

# PostgreSQL type (information_schema.columns.data_type) -> the DuckDB type its CSV text is read as.
DUCKDB_TYPE_OF_POSTGRES = {
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    # Unbounded decimals: the change-detection fingerprints (sums of hashes) and rule thresholds of
    # intermediate models. Marts declare no numeric column (their contracts), so a publication never
    # narrows one; a mirror keeps their ~15 significant digits, all the GX suites compare.
    "numeric": "DOUBLE",
}


class EngineSnapshotError(PublicationAuditError):
    """The engine's tables could not be copied whole (missing table, unknown type, rows lost)."""


def publish_engine_marts(
    engine: str,
    serving_dir: Path,
    *,
    dbname: str | None = None,
    spark_dir: Path | None = None,
    manifest: Path | None = None,
    personal_data: bool | None = None,
    grace: float | None = None,
    dbt_invocation_id: str | None = None,
    dagster_run_id: str | None = None,
) -> Publication:
    """Snapshot the marts `engine` ("postgres" or "spark") built, then publish them like DuckDB's.

    `dbname` (default POSTGRES_DB) names the PostgreSQL database; `spark_dir` (default SPARK_DIR, else
    data/spark) the Spark target's folder. `manifest`: a dbt manifest.json whose descriptions become the
    comments of Spark's tables. The other arguments are publish_marts's.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    personal_data = publish_personal_data() if personal_data is None else personal_data
    schemas = ["marts", *([RESTRICTED_SCHEMA] if personal_data else [])]
    serving_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(serving_dir / SNAPSHOT_LOCK):
        for stale in serving_dir.glob(f"{SNAPSHOT_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
        scratch = Path(tempfile.mkdtemp(prefix=SNAPSHOT_PREFIX, dir=serving_dir))
        try:
            snapshot = scratch / "snapshot.duckdb"
            if engine == "postgres":
                snapshot_postgres(
                    dbname or os.environ.get("POSTGRES_DB", "defection_warehouse"), snapshot, schemas
                )
            else:
                snapshot_spark(spark_dir or _default_spark_dir(), snapshot, schemas, manifest)
            return publish_marts(
                snapshot,
                serving_dir,
                personal_data=personal_data,
                grace=grace,
                dbt_invocation_id=dbt_invocation_id,
                dagster_run_id=dagster_run_id,
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def mirror_engine_tables(
    engine: str,
    warehouse_file: Path,
    schemas: tuple[str, ...] = ("staging", "intermediate", "marts"),
    *,
    dbname: str | None = None,
    spark_dir: Path | None = None,
    manifest: Path | None = None,
) -> dict[str, int]:
    """Copy every table of `schemas` that `engine` built into the same schemas of the DuckDB warehouse
    file, replacing the tables there; returns rows per schema.table.

    The Dagster job on a PostgreSQL or Spark target runs it after each layer's dbt step, for that layer's
    schema: the layer's GX gates then validate, and the publish step publishes, exactly the tables the
    engine built, with the code that runs on DuckDB. The warehouse file then holds the raw tables and this
    mirror; the schema `restricted` is added to the marts when personal data is published.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    with_restricted = "marts" in schemas and publish_personal_data()
    schemas = [*schemas, *([RESTRICTED_SCHEMA] if with_restricted else [])]
    if engine == "postgres":
        dbname = dbname or os.environ.get("POSTGRES_DB", "defection_warehouse")
        return snapshot_postgres(dbname, warehouse_file, schemas, as_of=False)
    return snapshot_spark(spark_dir or _default_spark_dir(), warehouse_file, schemas, manifest, as_of=False)


def _with_as_of(schemas: list[str], as_of: bool) -> list[str]:
    return schemas if not as_of or AS_OF[0] in schemas else [*schemas, AS_OF[0]]


def _default_spark_dir() -> Path:
    value = Path(os.environ.get("SPARK_DIR", "data/spark"))
    return value if value.is_absolute() else REPO_ROOT / value


# --- PostgreSQL ---------------------------------------------------------------------------------------------


def postgres_connection(dbname: str):
    """A psycopg2 connection to `dbname` with the postgres target's settings (POSTGRES_*, profiles.yml)."""
    import psycopg2

    from raw.lake import postgres_dsn

    return psycopg2.connect(**postgres_dsn(dbname))


def postgres_tables(cursor, schema: str) -> dict[str, list[tuple[str, str]]]:
    """Per base table of `schema`: its columns and their PostgreSQL types, in table order."""
    cursor.execute(
        "select c.table_name, c.column_name, c.data_type from information_schema.columns c "
        "join information_schema.tables t using (table_schema, table_name) "
        "where c.table_schema = %s and t.table_type = 'BASE TABLE' "
        "order by c.table_name, c.ordinal_position",
        [schema],
    )
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in cursor.fetchall():
        tables.setdefault(table, []).append((column, data_type))
    return tables


def copy_postgres_table(
    cursor,
    con: duckdb.DuckDBPyConnection,
    source: str,
    columns: list[tuple[str, str]],
    into: str,
    scratch: Path,
) -> int:
    """Create DuckDB table `into` from PostgreSQL's `source` (a quoted name or a query in parentheses),
    `columns` given as (name, DuckDB type); returns the rows copied. Runs in the cursor's transaction."""
    names = ", ".join(quote_name(name) for name, _ in columns)
    path = scratch / f"copy-{uuid.uuid4().hex}.csv"
    try:
        with path.open("w", encoding="utf-8") as out:
            cursor.copy_expert(
                f"copy (select {names} from {source}) to stdout with (format csv, header)", out
            )
        types = ", ".join(f"{quote_literal(name)}: {quote_literal(data_type)}" for name, data_type in columns)
        # PostgreSQL writes NULL as an empty field and an empty string as "": only the first is a null.
        con.execute(
            f"create or replace table {into} as select * from read_csv({quote_literal(str(path))}, "
            f"header = true, columns = {{{types}}}, allow_quoted_nulls = false, auto_detect = false)"
        )
    finally:
        path.unlink(missing_ok=True)
    return con.execute(f"select count(*) from {into}").fetchone()[0]


def snapshot_postgres(dbname: str, target: Path, schemas: list[str], as_of: bool = True) -> dict[str, int]:
    """Copy every table of `schemas` (and, with `as_of`, the as-of table) from PostgreSQL into the DuckDB file
    `target`, all read in one REPEATABLE READ transaction; returns rows per schema.table."""
    try:
        import psycopg2
    except ImportError as error:  # the [postgres] extra brings it with dbt-postgres
        raise EngineSnapshotError("psycopg2 is missing: pip install -e '.[postgres]'") from error
    try:
        pg = postgres_connection(dbname)
    except psycopg2.OperationalError as error:
        raise EngineSnapshotError(f"cannot connect to PostgreSQL database {dbname}: {error}") from error
    counts: dict[str, int] = {}
    try:
        pg.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with pg.cursor() as cursor, duckdb.connect(str(target)) as con:
            cursor.execute("set time zone 'UTC'")
            scratch = target.parent
            for schema in _with_as_of(schemas, as_of):
                tables = postgres_tables(cursor, schema)
                if schema == AS_OF[0] and AS_OF[0] not in schemas:
                    tables = {AS_OF[1]: tables[AS_OF[1]]} if AS_OF[1] in tables else {}
                elif not tables:
                    raise EngineSnapshotError(f"PostgreSQL database {dbname} has no table in schema {schema}")
                comments = _postgres_comments(cursor, schema)
                con.execute(f"create schema if not exists {quote_name(schema)}")
                for table, pg_columns in tables.items():
                    unknown = [f"{n} {t}" for n, t in pg_columns if t not in DUCKDB_TYPE_OF_POSTGRES]
                    if unknown:
                        raise EngineSnapshotError(
                            f"{schema}.{table}: no type to publish {', '.join(unknown)}"
                        )
                    columns = [(name, DUCKDB_TYPE_OF_POSTGRES[kind]) for name, kind in pg_columns]
                    source = f"{quote_name(schema)}.{quote_name(table)}"
                    into = f"{quote_name(schema)}.{quote_name(table)}"
                    copied = copy_postgres_table(cursor, con, source, columns, into, scratch)
                    cursor.execute(f"select count(*) from {source}")
                    expected = cursor.fetchone()[0]
                    if copied != expected:
                        raise EngineSnapshotError(
                            f"{schema}.{table}: {expected} rows in PostgreSQL, {copied} copied"
                        )
                    table_comment, column_comments = comments.get(table, (None, {}))
                    comment_on(con, into, table_comment, column_comments)
                    counts[f"{schema}.{table}"] = copied
            con.execute("checkpoint")
    finally:
        pg.rollback()
        pg.close()
    return counts


def _postgres_comments(cursor, schema: str) -> dict[str, tuple[str | None, dict[str, str]]]:
    """Table and column comments of `schema` (dbt's persist_docs writes the model descriptions there)."""
    cursor.execute(
        "select c.relname, obj_description(c.oid, 'pg_class'), a.attname, col_description(c.oid, a.attnum) "
        "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped "
        "where n.nspname = %s and c.relkind in ('r', 'p')",
        [schema],
    )
    comments: dict[str, tuple[str | None, dict[str, str]]] = {}
    for table, table_comment, column, column_comment in cursor.fetchall():
        _, columns = comments.setdefault(table, (table_comment, {}))
        if column_comment:
            columns[column] = column_comment
    return comments


# --- Spark --------------------------------------------------------------------------------------------------


def spark_table_files(spark_dir: Path, schema: str, table: str) -> str:
    """The Parquet files of a table the Spark session target wrote, as a DuckDB glob."""
    folder = Path(spark_dir) / "warehouse" / f"{schema}.db" / table
    if not folder.is_dir() or not any(folder.glob("*.parquet")):
        raise EngineSnapshotError(f"Spark wrote no table {schema}.{table} ({folder})")
    return str(folder / "*.parquet")


def spark_tables(spark_dir: Path, schema: str) -> list[str]:
    """The tables of `schema` in the Spark session target's warehouse folder."""
    folder = Path(spark_dir) / "warehouse" / f"{schema}.db"
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def snapshot_spark(
    spark_dir: Path, target: Path, schemas: list[str], manifest: Path | None = None, as_of: bool = True
) -> dict[str, int]:
    """Copy every table of `schemas` (and, with `as_of`, the as-of table) from Spark's Parquet files into
    the DuckDB file `target`, timestamps as UTC wall-clock time; returns rows per schema.table."""
    comments = _manifest_comments(manifest) if manifest else {}
    counts: dict[str, int] = {}
    with duckdb.connect(str(target)) as con:
        con.execute("set timezone = 'UTC'")
        for schema in _with_as_of(schemas, as_of):
            if schema == AS_OF[0] and AS_OF[0] not in schemas:
                tables = [AS_OF[1]]
            else:
                if not (Path(spark_dir) / "warehouse" / f"{schema}.db").is_dir():
                    raise EngineSnapshotError(f"Spark wrote no schema {schema} under {spark_dir}")
                tables = spark_tables(spark_dir, schema)
            con.execute(f"create schema if not exists {quote_name(schema)}")
            for table in tables:
                files = quote_literal(spark_table_files(spark_dir, schema, table))
                described = con.execute(f"describe select * from read_parquet({files})").fetchall()
                selects = [
                    f"{quote_name(name)} at time zone 'UTC' as {quote_name(name)}"
                    if kind == "TIMESTAMP WITH TIME ZONE"
                    else quote_name(name)
                    for name, kind, *_ in described
                ]
                into = f"{quote_name(schema)}.{quote_name(table)}"
                columns = ", ".join(selects)
                con.execute(f"create or replace table {into} as select {columns} from read_parquet({files})")
                copied = con.execute(f"select count(*) from {into}").fetchone()[0]
                in_files = con.execute(f"select count(*) from read_parquet({files})").fetchone()[0]
                if copied != in_files:
                    raise EngineSnapshotError(
                        f"{schema}.{table}: {in_files} rows in Parquet, {copied} copied"
                    )
                table_comment, column_comments = comments.get((schema, table), (None, {}))
                known = {name for name, *_ in described}
                comment_on(con, into, table_comment, {c: t for c, t in column_comments.items() if c in known})
                counts[f"{schema}.{table}"] = copied
        con.execute("checkpoint")
    return counts


def _manifest_comments(manifest: Path) -> dict[tuple[str, str], tuple[str | None, dict[str, str]]]:
    """Model and column descriptions from a dbt manifest, per (schema, table)."""
    nodes = json.loads(Path(manifest).read_text())["nodes"].values()
    return {
        (node["schema"], node.get("alias") or node["name"]): (
            node.get("description") or None,
            {name: column.get("description", "") for name, column in node.get("columns", {}).items()},
        )
        for node in nodes
        if node.get("resource_type") == "model"
    }
