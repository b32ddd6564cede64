"""Write-audit-publish of the marts into SERVING_DIR, independent of Dagster so tests and tools can use it.

Layout of the serving folder (readers only ever open what `marts.duckdb` and `parquet` point at):
    marts.duckdb                  the current publication; open it read_only (tables: marts.<name>)
    parquet -> versions/<id>      symlink to the current Parquet folder (one file per mart)
    versions/<id>/                Parquet files and publication.json of one publication
Both are swapped with os.replace, which is atomic on one filesystem: a reader sees the old publication or
the new one, never a half-written file. A reader that already holds the old file keeps reading it (the
inode lives until closed). Nothing here touches the serving folder until the new copy passed its audit.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration import settings

SERVING_FILE = "marts.duckdb"
PARQUET_LINK = "parquet"
VERSIONS_DIR = "versions"
KEEP_VERSIONS = 3


@dataclass(frozen=True)
class Publication:
    """What was published: the version id, the serving file, the Parquet folder and each table's row count."""

    version: str
    serving_file: Path
    parquet_dir: Path
    row_counts: dict[str, int]


class PublicationAuditError(RuntimeError):
    """The copy about to be published differs from the warehouse; nothing was swapped in."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def publish_marts(warehouse_file: Path, serving_dir: Path, schema: str = "marts") -> Publication:
    """Copy every table of `schema` from the warehouse into a new DuckDB file and Parquet folder, audit the
    copy (same tables, same row counts), then swap both into place atomically."""
    serving_dir.mkdir(parents=True, exist_ok=True)
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]
    staging_file = serving_dir / f"publishing-{version}.duckdb"
    version_dir = serving_dir / VERSIONS_DIR / version
    version_dir.mkdir(parents=True)
    try:
        row_counts = _write_copy(warehouse_file, staging_file, version_dir, schema)
        _audit(staging_file, version_dir, row_counts, schema)
        (version_dir / "publication.json").write_text(
            json.dumps(
                {
                    "version": version,
                    "published_at": datetime.now(UTC).isoformat(),
                    "schema": schema,
                    "row_counts": row_counts,
                },
                indent=2,
            )
        )
    except BaseException:
        staging_file.unlink(missing_ok=True)
        shutil.rmtree(version_dir, ignore_errors=True)
        raise
    os.replace(staging_file, serving_dir / SERVING_FILE)
    _swap_symlink(serving_dir / PARQUET_LINK, Path(VERSIONS_DIR) / version)
    _prune(serving_dir / VERSIONS_DIR, keep=KEEP_VERSIONS, current=version)
    return Publication(version, serving_dir / SERVING_FILE, version_dir, row_counts)


def _write_copy(warehouse_file: Path, target: Path, parquet_dir: Path, schema: str) -> dict[str, int]:
    # Marts have no row order (profiles.yml sets the same for dbt): without it DuckDB writes each copy and
    # Parquet file in parallel instead of in one ordered stream.
    config = {**settings.duckdb_config(), "preserve_insertion_order": False}
    con = duckdb.connect(str(target), config=config)
    try:
        # Read-only attach: the copy never takes the writer's lock for longer than the read.
        con.execute(f"attach {_literal(str(warehouse_file))} as warehouse (read_only)")
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() "
                "where database_name = 'warehouse' and schema_name = ? order by table_name",
                [schema],
            ).fetchall()
        ]
        # Tables go to the copy's own `main` schema: readers open marts.duckdb, whose catalog is `marts`, so
        # `marts.fct_defections` resolves as catalog.table; a `marts` schema too would make it ambiguous.
        catalog = _quote(con.execute("select current_database()").fetchone()[0])
        row_counts = {}
        for table in tables:
            source = f"warehouse.{_quote(schema)}.{_quote(table)}"
            con.execute(f"create table {catalog}.main.{_quote(table)} as select * from {source}")
            con.execute(
                f"copy {source} to {_literal(str(parquet_dir / f'{table}.parquet'))} (format parquet)"
            )
            row_counts[table] = con.execute(f"select count(*) from {source}").fetchone()[0]
        con.execute("detach warehouse")
        con.execute("checkpoint")
    finally:
        con.close()
    return row_counts


def _audit(copy_file: Path, parquet_dir: Path, expected: dict[str, int], schema: str) -> None:
    con = duckdb.connect(str(copy_file), read_only=True)
    try:
        for table, rows in expected.items():
            copied = con.execute(f"select count(*) from main.{_quote(table)}").fetchone()[0]
            in_parquet = con.execute(
                f"select count(*) from read_parquet({_literal(str(parquet_dir / f'{table}.parquet'))})"
            ).fetchone()[0]
            if not copied == in_parquet == rows:
                raise PublicationAuditError(
                    f"{schema}.{table}: warehouse {rows} rows, copy {copied}, parquet {in_parquet}"
                )
    finally:
        con.close()


def _swap_symlink(link: Path, target: Path) -> None:
    temp_link = link.with_name(f".{link.name}.{uuid.uuid4().hex[:6]}")
    temp_link.symlink_to(target, target_is_directory=True)
    os.replace(temp_link, link)


def _prune(versions_dir: Path, keep: int, current: str) -> None:
    # Old versions stay a little so a reader that resolved the symlink just before the swap can finish.
    versions = sorted(p for p in versions_dir.iterdir() if p.is_dir())
    for old in versions[:-keep]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def current_version(serving_dir: Path) -> str | None:
    """The version the parquet symlink points at, or None before the first publication."""
    link = serving_dir / PARQUET_LINK
    return Path(os.readlink(link)).name if link.is_symlink() else None
