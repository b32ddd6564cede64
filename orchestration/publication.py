"""Write-audit-publish of the marts into SERVING_DIR, independent of Dagster so tests and tools can use it.

Layout of the serving folder:
    publications/<id>/                one complete publication (folders 0o750, files 0o640)
        marts.duckdb                  every mart plus marts.publication_info; open it read_only
        parquet/<mart>.parquet        the same tables, each file carrying key-value metadata
                                      publication_id, comment and comment:<column>
        publication.json              id, time, row counts
        restricted/                   only with PUBLISH_PERSONAL_DATA=true (0o700, files 0o600):
            personal_data.duckdb      the warehouse's `restricted` schema (direct identifiers)
            parquet/<table>.parquet
    current -> publications/<id>      the one pointer a publication swaps (a symlink replaced by rename)
    marts.duckdb -> current/marts.duckdb
    parquet -> current/parquet        stable paths through the pointer

A publication is written into `publications/<id>.partial/`, audited, renamed to `publications/<id>/` and only
then made current by replacing the `current` symlink with os.replace, which is atomic on one filesystem. The
DuckDB file and the Parquet files therefore change together: a reader that resolves `current` once (see
`resolve_publication`) reads one publication whole, whatever is published meanwhile. Superseded publications
are removed only after a grace period (PUBLICATION_GRACE_SECONDS, default 900) so a reader that resolved the
pointer just before a swap can finish; one holding an open file keeps it even after removal. Publishes take an
exclusive lock on `.publish.lock`; whatever a killed publish left behind (a `.partial` folder, a publication
that never became current, a temporary link) is removed by the next publish under that lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

import settings

SERVING_FILE = "marts.duckdb"
PARQUET_DIR = "parquet"
PARQUET_LINK = "parquet"
CURRENT_LINK = "current"
PUBLICATIONS_DIR = "publications"
RESTRICTED_DIR = "restricted"
RESTRICTED_FILE = "personal_data.duckdb"
RESTRICTED_SCHEMA = "restricted"
INFO_TABLE = "publication_info"
MANIFEST_FILE = "publication.json"
LOCK_FILE = ".publish.lock"
PARTIAL_SUFFIX = ".partial"
# The layout before versioned publications: a plain marts.duckdb, `parquet -> versions/<id>`, and
# publishing-<id>.duckdb files a killed publish left behind. The next publish migrates and removes them.
LEGACY_VERSIONS_DIR = "versions"
LEGACY_STAGING_PREFIX = "publishing-"

DEFAULT_GRACE_SECONDS = 900
DIR_MODE, FILE_MODE = 0o750, 0o640
RESTRICTED_DIR_MODE, RESTRICTED_FILE_MODE = 0o700, 0o600

INFO_DESCRIPTION = "One row describing this publication: its id, when it was made and from which build."
INFO_COLUMNS = {
    "publication_id": "Id of this publication (also the folder name under publications/ and the "
    "publication_id key of every Parquet file).",
    "published_at": "When the publication was made (UTC).",
    "warehouse_as_of_date": "Latest export day the published data includes (int_warehouse_as_of).",
    "warehouse_loaded_through_at": "When the latest export day included was loaded (UTC).",
    "dbt_invocation_id": "Invocation id of the dbt build that produced the marts, when known.",
    "dagster_run_id": "Dagster run that published, when published by Dagster.",
    "includes_personal_data": "True when this publication also carries the restricted personal-data file.",
}


@dataclass(frozen=True)
class Publication:
    """What was published: its id, folder, the stable serving file and Parquet folder, each mart's rows."""

    version: str
    serving_file: Path
    parquet_dir: Path
    row_counts: dict[str, int]
    directory: Path | None = None
    published_at: datetime | None = None
    restricted_row_counts: dict[str, int] = field(default_factory=dict)


class PublicationAuditError(RuntimeError):
    """The copy about to be published differs from the warehouse; nothing was swapped in."""


def publish_personal_data() -> bool:
    """PUBLISH_PERSONAL_DATA: true publishes the warehouse's `restricted` schema (direct identifiers such as
    e-mail and name) into a separate owner-only file of each publication; false (default) leaves it out."""
    value = os.environ.get("PUBLISH_PERSONAL_DATA", "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"PUBLISH_PERSONAL_DATA must be true or false, not {value!r}")


def grace_seconds() -> float:
    """PUBLICATION_GRACE_SECONDS: how long a superseded publication stays for readers that resolved it."""
    value = os.environ.get("PUBLICATION_GRACE_SECONDS", str(DEFAULT_GRACE_SECONDS))
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"PUBLICATION_GRACE_SECONDS must be a number of seconds, not {value!r}") from None
    if seconds < 0:
        raise ValueError(f"PUBLICATION_GRACE_SECONDS must not be negative, not {value!r}")
    return seconds


def publish_marts(
    warehouse_file: Path,
    serving_dir: Path,
    schema: str = "marts",
    *,
    personal_data: bool | None = None,
    grace: float | None = None,
    dbt_invocation_id: str | None = None,
    dagster_run_id: str | None = None,
) -> Publication:
    """Copy every table of `schema` from the warehouse into a new publication (DuckDB file and Parquet), add
    marts.publication_info and the dbt docs as comments, audit the copy, then make it current atomically.

    `personal_data` (default: PUBLISH_PERSONAL_DATA) adds the warehouse's `restricted` schema in a separate
    owner-only file. `grace` (default: PUBLICATION_GRACE_SECONDS) is how long superseded publications stay.
    """
    personal_data = publish_personal_data() if personal_data is None else personal_data
    grace = grace_seconds() if grace is None else grace
    serving_dir.mkdir(parents=True, exist_ok=True)
    publications = serving_dir / PUBLICATIONS_DIR
    publications.mkdir(mode=DIR_MODE, exist_ok=True)
    os.chmod(publications, DIR_MODE)
    with exclusive_lock(serving_dir / LOCK_FILE):
        _remove_leftovers(serving_dir)
        version = _new_id(current_version(serving_dir))
        partial = publications / f"{version}{PARTIAL_SUFFIX}"
        final = publications / version
        partial.mkdir(mode=DIR_MODE)
        try:
            published_at = datetime.now(UTC).replace(tzinfo=None)
            info = _info_row(
                warehouse_file, version, published_at, dbt_invocation_id, dagster_run_id, personal_data
            )
            row_counts = _write_copy(
                warehouse_file, partial / SERVING_FILE, partial / PARQUET_DIR, schema, info
            )
            _audit(partial / SERVING_FILE, partial / PARQUET_DIR, row_counts, version, schema)
            restricted_counts: dict[str, int] = {}
            if personal_data:
                restricted = partial / RESTRICTED_DIR
                restricted.mkdir(mode=RESTRICTED_DIR_MODE)
                restricted_counts = _write_copy(
                    warehouse_file,
                    restricted / RESTRICTED_FILE,
                    restricted / PARQUET_DIR,
                    RESTRICTED_SCHEMA,
                    info,
                )
                if not restricted_counts:
                    raise PublicationAuditError(
                        f"PUBLISH_PERSONAL_DATA asks for personal data, but the warehouse has no table in "
                        f"schema {RESTRICTED_SCHEMA} (models/restricted/ not built?); nothing was published"
                    )
                _audit(
                    restricted / RESTRICTED_FILE,
                    restricted / PARQUET_DIR,
                    restricted_counts,
                    version,
                    RESTRICTED_SCHEMA,
                )
            (partial / MANIFEST_FILE).write_text(
                json.dumps(
                    {
                        "publication_id": version,
                        "published_at": published_at.isoformat() + "Z",
                        "schema": schema,
                        "row_counts": row_counts,
                        "restricted_row_counts": restricted_counts,
                    },
                    indent=2,
                )
            )
            _restrict_permissions(partial)
            _flush(partial)
            os.rename(partial, final)
            _flush_dir(publications)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        _swap_symlink(serving_dir / CURRENT_LINK, Path(PUBLICATIONS_DIR) / version)
        _flush_dir(serving_dir)
        os.utime(final)
        _ensure_stable_links(serving_dir, personal_data)
        _collect_garbage(serving_dir, grace)
    return Publication(
        version=version,
        serving_file=serving_dir / SERVING_FILE,
        parquet_dir=final / PARQUET_DIR,
        row_counts=row_counts,
        directory=final,
        published_at=published_at,
        restricted_row_counts=restricted_counts,
    )


# --- reading ------------------------------------------------------------------------------------------------


def resolve_publication(serving_dir: Path) -> Path:
    """The folder of the current publication, resolved once: read its marts.duckdb and parquet/ through the
    returned path (not through serving_dir) and every table comes from one publication, whatever is swapped in
    meanwhile. Raises FileNotFoundError before the first publication."""
    link = serving_dir / CURRENT_LINK
    if not link.is_symlink():
        raise FileNotFoundError(f"no publication in {serving_dir} yet (no {CURRENT_LINK} link)")
    return link.resolve(strict=True)


def current_version(serving_dir: Path) -> str | None:
    """The id of the current publication, or None before the first publication."""
    link = serving_dir / CURRENT_LINK
    if link.is_symlink():
        return Path(os.readlink(link)).name
    legacy = serving_dir / PARQUET_LINK
    if legacy.is_symlink() and Path(os.readlink(legacy)).parent.name == LEGACY_VERSIONS_DIR:
        return Path(os.readlink(legacy)).name
    return None


# --- writing ------------------------------------------------------------------------------------------------


def quote_name(name: str) -> str:
    """`name` as a DuckDB (and PostgreSQL) quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _new_id(previous: str | None) -> str:
    # Ids sort in publication order (garbage collection relies on it), even if the clock stepped back.
    while True:
        version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:6]
        if previous is None or version > previous:
            return version
        time.sleep(0.001)


def _info_row(
    warehouse_file: Path,
    version: str,
    published_at: datetime,
    dbt_invocation_id: str | None,
    dagster_run_id: str | None,
    personal_data: bool,
) -> dict:
    as_of_date, loaded_through_at = None, None
    con = duckdb.connect(str(warehouse_file), read_only=True)
    try:
        has_as_of = con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'intermediate' and table_name = 'int_warehouse_as_of'"
        ).fetchone()[0]
        if has_as_of:
            as_of_date, loaded_through_at = con.execute(
                "select as_of_date, loaded_through_at from intermediate.int_warehouse_as_of"
            ).fetchone() or (None, None)
    finally:
        con.close()
    return {
        "publication_id": version,
        "published_at": published_at,
        "warehouse_as_of_date": as_of_date,
        "warehouse_loaded_through_at": loaded_through_at,
        "dbt_invocation_id": dbt_invocation_id,
        "dagster_run_id": dagster_run_id,
        "includes_personal_data": personal_data,
    }


def _kv_metadata(version: str, table_comment: str | None, column_comments: dict[str, str]) -> str:
    entries = {"publication_id": version}
    if table_comment:
        entries["comment"] = table_comment
    entries.update({f"comment:{column}": text for column, text in column_comments.items() if text})
    return "{" + ", ".join(f"{quote_literal(k)}: {quote_literal(v)}" for k, v in entries.items()) + "}"


def _write_copy(
    warehouse_file: Path, target: Path, parquet_dir: Path, schema: str, info: dict
) -> dict[str, int]:
    """Every table of `schema` into `target` (its `main` schema) and `parquet_dir`, with the table and column
    comments the warehouse holds (dbt's persist_docs), plus the publication_info table."""
    parquet_dir.mkdir(mode=DIR_MODE)
    # Marts have no row order (profiles.yml sets the same for dbt): without it DuckDB writes each copy and
    # Parquet file in parallel instead of in one ordered stream.
    config = {**settings.duckdb_config(), "preserve_insertion_order": False}
    con = duckdb.connect(str(target), config=config)
    try:
        # Read-only attach: the copy never takes the writer's lock for longer than the read.
        con.execute(f"attach {quote_literal(str(warehouse_file))} as warehouse (read_only)")
        tables = dict(
            con.execute(
                "select table_name, comment from duckdb_tables() "
                "where database_name = 'warehouse' and schema_name = ? order by table_name",
                [schema],
            ).fetchall()
        )
        if INFO_TABLE in tables:
            raise PublicationAuditError(f"{schema}.{INFO_TABLE} is a warehouse table; the name is reserved")
        columns: dict[str, dict[str, str]] = {table: {} for table in tables}
        for table, column, comment in con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where database_name = 'warehouse' and schema_name = ? order by table_name, column_index",
            [schema],
        ).fetchall():
            if comment:
                columns[table][column] = comment
        # Tables go to the copy's own `main` schema: readers open marts.duckdb, whose catalog is `marts`, so
        # `marts.fct_defections` resolves as catalog.table; a `marts` schema too would make it ambiguous.
        catalog = quote_name(con.execute("select current_database()").fetchone()[0])
        row_counts = {}
        for table, comment in tables.items():
            source = f"warehouse.{quote_name(schema)}.{quote_name(table)}"
            target_table = f"{catalog}.main.{quote_name(table)}"
            con.execute(f"create table {target_table} as select * from {source}")
            comment_on(con, target_table, comment, columns[table])
            metadata = _kv_metadata(info["publication_id"], comment, columns[table])
            con.execute(
                f"copy {target_table} to {quote_literal(str(parquet_dir / f'{table}.parquet'))} "
                f"(format parquet, kv_metadata {metadata})"
            )
            row_counts[table] = con.execute(f"select count(*) from {target_table}").fetchone()[0]
        con.execute("detach warehouse")
        info_table = f"{catalog}.main.{INFO_TABLE}"
        con.execute(
            f"""create table {info_table} (
                publication_id varchar not null,
                published_at timestamp not null,
                warehouse_as_of_date date,
                warehouse_loaded_through_at timestamp,
                dbt_invocation_id varchar,
                dagster_run_id varchar,
                includes_personal_data boolean not null
            )"""
        )
        con.execute(f"insert into {info_table} values (?, ?, ?, ?, ?, ?, ?)", list(info.values()))
        comment_on(con, info_table, INFO_DESCRIPTION, INFO_COLUMNS)
        metadata = _kv_metadata(info["publication_id"], INFO_DESCRIPTION, INFO_COLUMNS)
        con.execute(
            f"copy {info_table} to {quote_literal(str(parquet_dir / f'{INFO_TABLE}.parquet'))} "
            f"(format parquet, kv_metadata {metadata})"
        )
        con.execute("checkpoint")
    finally:
        con.close()
    return row_counts


def comment_on(
    con: duckdb.DuckDBPyConnection, table: str, comment: str | None, columns: dict[str, str]
) -> None:
    """Set the comment of `table` and of its `columns` (name -> text); empty texts are left unset."""
    if comment:
        con.execute(f"comment on table {table} is {quote_literal(comment)}")
    for column, text in columns.items():
        if text:
            con.execute(f"comment on column {table}.{quote_name(column)} is {quote_literal(text)}")


def _audit(copy_file: Path, parquet_dir: Path, expected: dict[str, int], version: str, schema: str) -> None:
    """Same tables and row counts in the warehouse, the copy and the Parquet files; this publication's id in
    the copy's publication_info and in every Parquet file."""
    con = duckdb.connect(str(copy_file), read_only=True)
    try:
        copied_tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main'"
            ).fetchall()
        }
        if copied_tables != {*expected, INFO_TABLE}:
            raise PublicationAuditError(
                f"{schema}: copy has tables {sorted(copied_tables)}, expected {sorted(expected)}"
            )
        for table, rows in expected.items():
            copied = con.execute(f"select count(*) from main.{quote_name(table)}").fetchone()[0]
            in_parquet = con.execute(
                f"select count(*) from read_parquet({quote_literal(str(parquet_dir / f'{table}.parquet'))})"
            ).fetchone()[0]
            if not copied == in_parquet == rows:
                raise PublicationAuditError(
                    f"{schema}.{table}: warehouse {rows} rows, copy {copied}, parquet {in_parquet}"
                )
        info_ids = con.execute(f"select publication_id from main.{INFO_TABLE}").fetchall()
        file_ids = con.execute(
            "select file_name, value from "
            f"parquet_kv_metadata({quote_literal(str(parquet_dir / '*.parquet'))}) "
            "where key = 'publication_id'"
        ).fetchall()
        if (
            info_ids != [(version,)]
            or len(file_ids) != len(expected) + 1
            or {v for _, v in file_ids} != {version.encode()}
        ):
            raise PublicationAuditError(
                f"{schema}: publication ids {info_ids} / {file_ids}, expected {version}"
            )
    finally:
        con.close()


def _restrict_permissions(folder: Path) -> None:
    """Folders 0o750 and files 0o640 (restricted/: 0o700 and 0o600): the publisher's group reads, no one
    else."""
    for root, dirs, files in os.walk(folder):
        restricted = RESTRICTED_DIR in Path(root).relative_to(folder).parts
        os.chmod(root, RESTRICTED_DIR_MODE if restricted else DIR_MODE)
        for name in dirs:
            inner = Path(root, name)
            os.chmod(inner, RESTRICTED_DIR_MODE if restricted or name == RESTRICTED_DIR else DIR_MODE)
        for name in files:
            os.chmod(Path(root, name), RESTRICTED_FILE_MODE if restricted else FILE_MODE)


def _flush(folder: Path) -> None:
    """fsync every file and folder of a publication before it is swapped in: after a power cut the pointer
    never names a publication whose data was still only in the page cache."""
    for root, _, files in os.walk(folder):
        for name in files:
            with open(Path(root, name), "rb") as handle:
                os.fsync(handle.fileno())
        _flush_dir(Path(root))


def _flush_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- swapping and cleaning ----------------------------------------------------------------------------------


@contextmanager
def exclusive_lock(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive flock on `lock_file` (created if missing) while the block runs.

    flock is released by the kernel when its holder dies, so a killed holder never blocks the next one."""
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _swap_symlink(link: Path, target: Path) -> None:
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    temp_link = link.with_name(f".{link.name}.{uuid.uuid4().hex[:6]}.tmp")
    temp_link.symlink_to(target, target_is_directory=True)
    os.replace(temp_link, link)


def _ensure_stable_links(serving_dir: Path, personal_data: bool) -> None:
    # Each stable path goes through `current`, so it changes with the one pointer swap. On the first publish
    # after the legacy layout, os.replace puts the link over the old plain file: readers see the old
    # publication until then, the new one after.
    _swap_symlink(serving_dir / SERVING_FILE, Path(CURRENT_LINK) / SERVING_FILE)
    _swap_symlink(serving_dir / PARQUET_LINK, Path(CURRENT_LINK) / PARQUET_DIR)
    restricted = serving_dir / RESTRICTED_DIR
    if personal_data:
        _swap_symlink(restricted, Path(CURRENT_LINK) / RESTRICTED_DIR)
    elif restricted.is_symlink():
        restricted.unlink()


def remove_half_written(serving_dir: Path) -> list[str]:
    """Remove what a killed publish left in `serving_dir` (waiting for a running publish to finish); returns
    the paths removed. The next publish does the same; dead-run recovery calls it to clean up at once."""
    if not serving_dir.is_dir():
        return []
    with exclusive_lock(serving_dir / LOCK_FILE):
        return _remove_leftovers(serving_dir)


def _remove_leftovers(serving_dir: Path) -> list[str]:
    """What a killed publish left behind; called under the publish lock, so no publish is running."""
    removed = []
    for path in serving_dir.iterdir():
        if path.name.startswith(LEGACY_STAGING_PREFIX) or (
            path.name.startswith(".") and path.name.endswith(".tmp") and path.is_symlink()
        ):
            path.unlink(missing_ok=True)
            removed.append(str(path))
    publications = serving_dir / PUBLICATIONS_DIR
    if not publications.is_dir():
        return removed
    current = current_version(serving_dir)
    for path in publications.iterdir():
        # Ids sort in publication order, so a complete folder newer than the current one was never current.
        never_current = current is not None and path.name > current
        if path.name.endswith(PARTIAL_SUFFIX) or never_current:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path))
    return removed


def _collect_garbage(serving_dir: Path, grace: float) -> None:
    """Remove publications superseded more than `grace` seconds ago; never the current one.

    A publication was superseded when the next one (ids sort by time) became current: the next one's folder
    mtime, which the publish sets right after the swap (its files are all written before it, so a publish
    killed between the swap and that touch leaves a time just before the swap). Not the time a copy started:
    a copy slower than the grace period would have its predecessor removed the moment it is swapped in.
    Folders of the legacy layout (versions/<id>) count as older than every versioned publication."""
    current = current_version(serving_dir)
    legacy = serving_dir / LEGACY_VERSIONS_DIR
    folders = sorted(p for p in legacy.iterdir() if p.is_dir()) if legacy.is_dir() else []
    folders += sorted(p for p in (serving_dir / PUBLICATIONS_DIR).iterdir() if p.is_dir())
    now = time.time()
    for older, newer in zip(folders, folders[1:], strict=False):
        if older.name != current and now - newer.stat().st_mtime >= grace:
            shutil.rmtree(older, ignore_errors=True)
    if legacy.is_dir() and not any(legacy.iterdir()):
        legacy.rmdir()
