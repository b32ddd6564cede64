"""Write parsed files in batches of whole days, one transaction per batch, with their audit rows.

Whole export days are parsed and written in batches (one parsing query per table and header layout, one
insert per table), because a statement and a commit per small daily file cost more than its rows do. Each
batch is one transaction, so a failure rolls back every day of the batch and leaves nothing of them
half-loaded; earlier batches stay committed. Before the commit, the rows that landed are counted per file (by
load id) and rows_delivered = rows_loaded + rows_quarantined is checked.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from raw.contract import LOAD_METADATA_COLUMNS, load_contract
from raw.load import parse
from raw.load.files import FILE_SUFFIX, Pending, Refusal, fingerprint, inspect_file, refuse_outside
from raw.load.results import FileLoadResult, RefusedFile
from raw.load.schema import SCHEMA, ensure_raw_schema, ident, literal

# Files are parsed in batches of about this many bytes: big enough to share the cost of planning the
# checking query across many small daily files, small enough to keep memory bounded for big ones.
BATCH_BYTES = 128 * 1024 * 1024
# DuckDB checkpoints (writes the WAL into the database file) whenever the WAL passes checkpoint_threshold:
# at its default of 16 MiB, after nearly every batch, so checkpoints would be a large share of a big load.
# Every few batches is enough, for somewhat more peak memory (the WAL held longer).
# Commits stay as durable: the WAL is on disk at each commit; a checkpoint only moves it.
CHECKPOINT_THRESHOLD = "256MiB"


def _stage_batch_files(con: duckdb.DuckDBPyConnection, batch: list[Pending], loaded_at: datetime) -> None:
    """Temp table _batch_files: one row per file of the batch, what the set-based writes join to."""
    columns = {
        "filename": ("varchar", [str(p.path) for p in batch]),
        "load_id": ("varchar", [p.load_id for p in batch]),
        "table_name": ("varchar", [p.table.name for p in batch]),
        "export_date": ("date", [p.export_date for p in batch]),
        "source_file": ("varchar", [p.source_file for p in batch]),
        "file_sha256": ("varchar", [p.sha for p in batch]),
        "rows_delivered": ("bigint", [p.staged_counts[0] for p in batch]),
        "rows_quarantined": ("bigint", [p.staged_counts[1] for p in batch]),
        "status": ("varchar", [p.status for p in batch]),
        "absent_columns": ("varchar", [p.absent_columns for p in batch]),
        "rows_withdrawn": ("bigint", [p.previous[2] if p.previous else None for p in batch]),
    }
    # One statement with list parameters: a row-by-row insert would cost a round trip per file.
    unnests = ", ".join(f"unnest(?::{dtype}[]) as {name}" for name, (dtype, _) in columns.items())
    con.execute(
        f"create or replace temp table _batch_files as select {unnests}, ?::timestamptz as loaded_at",
        [*(values for _, values in columns.values()), loaded_at],
    )


def _write_file(con: duckdb.DuckDBPyConnection, batch: list[Pending], staged: dict[str, str]) -> None:
    """Inside the caller's transaction: replace earlier deliveries of the batch's tables and days, insert
    every file's loaded and quarantined records (one statement per table layout) and its audit row.

    `staged` maps each staged temp table to the contract table its records belong to.
    """
    replaced_tables = sorted({p.table.name for p in batch if p.previous is not None})
    # The rows a re-delivery takes away are logged (never deleted), so that a check of the table's volume
    # can tell them from rows lost some other way.
    con.execute(
        f"insert into {SCHEMA}.load_withdrawals select load_id, table_name, export_date, source_file, "
        "rows_withdrawn, loaded_at from _batch_files where status = 'replaced'"
    )
    for table_name in replaced_tables:
        con.execute(
            f"delete from {SCHEMA}.{ident(table_name)} where _export_date in "
            "(select export_date from _batch_files where table_name = ? and status = 'replaced')",
            [table_name],
        )
    if replaced_tables:
        con.execute(
            f"delete from {SCHEMA}.load_quarantine as q using _batch_files as f "
            "where f.status = 'replaced' and q.table_name = f.table_name and q.export_date = f.export_date"
        )
    # Any earlier delivery of these tables and days (loaded or refused) is superseded by this one.
    con.execute(
        f"delete from {SCHEMA}.load_audit as a using _batch_files as f "
        "where a.table_name = f.table_name and a.export_date = f.export_date"
    )
    tables = load_contract().tables
    for staged_table, table_name in staged.items():
        table = tables[table_name]
        columns = ", ".join(ident(c) for c in [*table.column_names, *(m[0] for m in LOAD_METADATA_COLUMNS)])
        values = ", ".join(f"s.{ident(c)}" for c in table.column_names)  # already of the contract's types
        con.execute(
            f"insert into {SCHEMA}.{ident(table.name)} ({columns}) "
            f"select {values}, f.export_date, f.source_file, s.line_number, f.load_id, f.loaded_at, "
            "s._extras "
            f"from {staged_table} as s join _batch_files as f using (filename) "
            "where s.reason is null order by f.export_date, s.line_number"
        )
        con.execute(
            f"insert into {SCHEMA}.load_quarantine "
            "select f.load_id, f.table_name, f.export_date, f.source_file, s.line_number, s.raw_line, "
            f"s.reason, f.loaded_at from {staged_table} as s join _batch_files as f using (filename) "
            "where s.reason is not null order by f.export_date, s.line_number"
        )
    con.execute(
        f"insert into {SCHEMA}.load_audit "
        "select load_id, table_name, export_date, source_file, file_sha256, rows_delivered, "
        "rows_delivered - rows_quarantined, rows_quarantined, status, loaded_at, null, absent_columns "
        "from _batch_files"
    )


def _reconcile(con: duckdb.DuckDBPyConnection, batch: list[Pending]) -> dict[str, tuple[int, int]]:
    """Inside the transaction, before commit: count what actually landed per file (rows in the table and in
    the quarantine under its load id) and check delivered = loaded + quarantined for every file."""
    landed: dict[str, tuple[int, int]] = {p.load_id: (0, 0) for p in batch}
    days = [p.export_date for p in batch]
    for table_name in sorted({p.table.name for p in batch}):
        # Filtering on the export days first lets DuckDB skip the row groups of other days.
        for load_id, count in con.execute(
            f"select _load_id, count(*) from {SCHEMA}.{ident(table_name)} "
            "where _export_date between ? and ? and _load_id in (select load_id from _batch_files) "
            "group by 1",
            [min(days), max(days)],
        ).fetchall():
            landed[load_id] = (count, landed[load_id][1])
    for load_id, count in con.execute(
        f"select load_id, count(*) from {SCHEMA}.load_quarantine "
        "where export_date between ? and ? and load_id in (select load_id from _batch_files) group by 1",
        [min(days), max(days)],
    ).fetchall():
        landed[load_id] = (landed[load_id][0], count)
    for pending in batch:
        delivered, expected_quarantined = pending.staged_counts
        loaded, quarantined = landed[pending.load_id]
        # The audit row was written from the staged counts: what landed must match it, and add up.
        if delivered != loaded + quarantined or quarantined != expected_quarantined:
            raise RuntimeError(
                f"{pending.source_file}: {delivered} rows delivered "
                f"but {loaded} loaded + {quarantined} quarantined"
            )
    return landed


def _commit_batch(
    con: duckdb.DuckDBPyConnection, batch: list[Pending], staged: dict[str, str]
) -> list[FileLoadResult]:
    """Write the batch's whole days in one transaction: a failure leaves the previous state untouched."""
    _stage_batch_files(con, batch, datetime.now(UTC))
    con.execute("begin transaction")
    try:
        _write_file(con, batch, staged)
        landed = _reconcile(con, batch)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return [
        FileLoadResult(
            p.table.name,
            p.export_date,
            p.source_file,
            p.staged_counts[0],
            *landed[p.load_id],
            p.status,
            p.sha,
        )
        for p in batch
    ]


def _record_refusal(
    con: duckdb.DuckDBPyConnection, exports_dir: Path, export_date: date, path: Path, reason: str
) -> None:
    """A 'refused' audit row, so refusals are queryable; replaces an earlier refusal of the same file."""
    source_file = path.relative_to(exports_dir).as_posix()
    try:
        refuse_outside(exports_dir, path)
        sha, _ = fingerprint(path)
    except (Refusal, OSError):
        # Not read: a link out of the exports folder, or a file that cannot be opened. The refusal is keyed
        # by the file's name instead of its content.
        sha = "unread:" + hashlib.sha256(source_file.encode()).hexdigest()
    con.execute("begin transaction")
    con.execute(
        f"delete from {SCHEMA}.load_audit where status = 'refused' and source_file = ? and file_sha256 = ?",
        [source_file, sha],
    )
    con.execute(
        f"insert into {SCHEMA}.load_audit (load_id, table_name, export_date, source_file, file_sha256, "
        "rows_delivered, rows_loaded, rows_quarantined, status, loaded_at, message) "
        "values (?, ?, ?, ?, ?, null, 0, 0, 'refused', ?, ?)",
        [
            str(uuid.uuid4()),
            path.name.removesuffix(FILE_SUFFIX),
            export_date,
            source_file,
            sha,
            datetime.now(UTC),
            reason,
        ],
    )
    con.execute("commit")


def _stage_group(con: duckdb.DuckDBPyConnection, staged_table: str, members: list[Pending]) -> None:
    """Parse and check one group of files sharing a table and header layout into `staged_table`, and set
    each member's staged counts."""
    parse.stage_records(con, [str(p.path) for p in members], members[0].header.width)
    parse.stage_checked(con, staged_table, members[0].table, members[0].header)
    counts = con.execute(
        f"select filename, count(*), count(*) filter (where reason is not null) from {staged_table} "
        "group by filename"
    ).fetchall()
    by_file = {row[0]: (row[1], row[2]) for row in counts}
    # Records are matched back to files by name; a name DuckDB spelled differently would leave a file
    # looking empty, so refuse to go on rather than under-count silently.
    unmatched = set(by_file) - {str(p.path) for p in members}
    if unmatched:
        raise RuntimeError(f"records staged for files not in the batch: {sorted(unmatched)}")
    for pending in members:
        pending.staged_counts = by_file.get(str(pending.path), (0, 0))


def _write_batch(
    con: duckdb.DuckDBPyConnection, batch: list[Pending]
) -> tuple[list[FileLoadResult], list[tuple[Pending, str]]]:
    """Parse and check the batch's files, grouped by table and header (one query per group), then write
    the whole batch (whole days) in one transaction, in day order.

    A group whose parsing fails in DuckDB is parsed again file by file, so that one file DuckDB cannot read
    is refused (returned with its reason) and the others still load."""
    if not batch:
        return [], []
    groups: dict[tuple, list[Pending]] = {}
    for pending in batch:
        if pending.header is not None:
            layout = (
                pending.table.name,
                pending.header.width,
                tuple(sorted(pending.header.positions.items())),
                tuple(sorted(pending.header.extras.items())),
            )
            groups.setdefault(layout, []).append(pending)
    staged: dict[str, str] = {}
    failed: list[tuple[Pending, str]] = []
    try:
        for members in groups.values():
            staged_table = f"_checked_{len(staged)}"
            try:
                _stage_group(con, staged_table, members)
            except duckdb.Error:
                con.execute(f"drop table if exists {staged_table}")
                if len(members) == 1:
                    failed.append((members[0], "could not be parsed (the database engine rejected it)"))
                    continue
                for member in members:
                    single = f"_checked_{len(staged)}"
                    try:
                        _stage_group(con, single, [member])
                    except duckdb.Error:
                        con.execute(f"drop table if exists {single}")
                        failed.append((member, "could not be parsed (the database engine rejected it)"))
                        continue
                    staged[single] = member.table.name
                continue
            staged[staged_table] = members[0].table.name
        written = [p for p in batch if all(p is not f for f, _ in failed)]
        return (_commit_batch(con, written, staged) if written else []), failed
    finally:
        for staged_table in staged:
            con.execute(f"drop table if exists {staged_table}")
        con.execute("drop view if exists _records")
        for temp_table in (
            "_lines",
            "_joined_records",
            "_batch_files",
            "_pairs",
            "_spans",
        ):
            con.execute(f"drop table if exists {temp_table}")


@contextmanager
def _checkpoint_threshold(con: duckdb.DuckDBPyConnection, threshold: str) -> Iterator[None]:
    """DuckDB's checkpoint_threshold set to `threshold` for the block, then set back to what it was: the
    setting belongs to the whole database, and the connection may be the caller's (Dagster's raw asset)."""
    (previous,) = con.execute("select current_setting('checkpoint_threshold')").fetchone()
    con.execute(f"set checkpoint_threshold = {literal(threshold)}")
    try:
        yield
    finally:
        con.execute(f"set checkpoint_threshold = {literal(previous)}")


def load_days(
    con: duckdb.DuckDBPyConnection, exports_dir: Path, days: list[date]
) -> tuple[list[FileLoadResult], list[RefusedFile]]:
    """Load the day folders oldest first; files are batched across days so that small daily files share
    one parse, which is where the time goes for a long history of small days."""
    with _checkpoint_threshold(con, CHECKPOINT_THRESHOLD):
        ensure_raw_schema(con)
        fmt = load_contract().export_date_format
        delivered = {
            (row[0], row[1]): row[2:]
            for row in con.execute(
                f"select table_name, export_date, file_sha256, rows_delivered, rows_loaded, rows_quarantined "
                f"from {SCHEMA}.load_audit where status <> 'refused'"
            ).fetchall()
        }
        results: list[FileLoadResult] = []
        refused: list[RefusedFile] = []
        batch: list[Pending] = []
        batch_bytes = 0
        for day in days:
            day_dir = exports_dir / day.strftime(fmt)
            if not day_dir.resolve().is_relative_to(exports_dir.resolve()):
                refused.append(
                    RefusedFile(
                        f"{day_dir.name}/", "symbolic link to a folder outside the exports folder: not read"
                    )
                )
                continue
            # Hidden files (editor or sync leftovers) are not deliveries; subfolders are not part of the
            # layout.
            files = sorted(
                p for p in day_dir.iterdir() if (p.is_file() or p.is_symlink()) and not p.name.startswith(".")
            )
            for path in files:
                try:
                    outcome = inspect_file(exports_dir, day, path, delivered)
                except Refusal as exc:
                    _record_refusal(con, exports_dir, day, path, str(exc))
                    refused.append(RefusedFile(path.relative_to(exports_dir).as_posix(), str(exc)))
                    continue
                if isinstance(outcome, FileLoadResult):
                    results.append(outcome)
                    continue
                batch.append(outcome)
                batch_bytes += path.stat().st_size
            # Batches hold whole days, so a day is always written (or rolled back) as a whole.
            if batch_bytes >= BATCH_BYTES:
                results += _write_and_refuse(con, exports_dir, batch, refused)
                batch, batch_bytes = [], 0
        results += _write_and_refuse(con, exports_dir, batch, refused)
        return results, refused


def _write_and_refuse(
    con: duckdb.DuckDBPyConnection, exports_dir: Path, batch: list[Pending], refused: list[RefusedFile]
) -> list[FileLoadResult]:
    """Write a batch; record each file it could not parse as refused (audit row and `refused`)."""
    results, failed = _write_batch(con, batch)
    for pending, reason in failed:
        _record_refusal(con, exports_dir, pending.export_date, pending.path, reason)
        refused.append(RefusedFile(pending.source_file, reason))
    return results
