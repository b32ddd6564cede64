"""Read access to the published marts: one read-only DuckDB connection per request, never to the warehouse.

The publication replaces SERVING_DIR/marts.duckdb with os.replace; a connection opened before the swap keeps
reading the file it opened (its inode lives until closed), the next one opens the new file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

import settings
from orchestration.publication import SERVING_FILE

# The one-row table a publication may carry with the instant it was published.
PUBLICATION_INFO = "publication_info"


class NoPublication(RuntimeError):
    """No serving file exists yet: nothing has been published."""


class MissingMart(RuntimeError):
    """The publication lacks a mart (or a column) a page needs."""


def serving_file(serving_dir: Path | None = None) -> Path:
    return (serving_dir or settings.serving_dir()) / SERVING_FILE


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class Publication:
    """One open, read-only view of the serving file for the length of a request."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, mtime: float):
        self.con = con
        self.path = path
        self._mtime = mtime
        self._columns: dict[str, list[str]] = {}
        self.tables = {
            row[0]
            for row in con.execute(
                "select table_name from duckdb_tables() where database_name = current_database()"
            ).fetchall()
        }

    def query(self, sql: str, params: list | None = None) -> Result:
        cursor = self.con.execute(sql, params or [])
        return Result([d[0] for d in cursor.description], cursor.fetchall())

    def require(self, *tables: str) -> None:
        missing = [t for t in tables if t not in self.tables]
        if missing:
            raise MissingMart(f"the publication in {self.path} has no table {', '.join(missing)}")

    def columns(self, table: str) -> list[str]:
        """The table's columns in published order (raises MissingMart when the table is absent)."""
        self.require(table)
        if table not in self._columns:
            self._columns[table] = [
                row[0]
                for row in self.con.execute(
                    "select column_name from duckdb_columns() "
                    "where database_name = current_database() and table_name = ? order by column_index",
                    [table],
                ).fetchall()
            ]
        return self._columns[table]

    def has_columns(self, table: str, *columns: str) -> bool:
        return table in self.tables and set(columns) <= set(self.columns(table))

    def published_at(self) -> tuple[datetime, str]:
        """When the publication was made and where that instant comes from: `publication_info.published_at`
        when the publication carries it, else the serving file's modification time."""
        if self.has_columns(PUBLICATION_INFO, "published_at"):
            row = self.con.execute(f"select max(published_at) from {PUBLICATION_INFO}").fetchone()
            if row and row[0] is not None:
                value = row[0]
                if isinstance(value, str):
                    value = datetime.fromisoformat(value)
                if isinstance(value, datetime):
                    if value.tzinfo is None:
                        value = value.replace(tzinfo=UTC)
                    return value.astimezone(UTC), f"{PUBLICATION_INFO}.published_at"
        return datetime.fromtimestamp(self._mtime, UTC), "modification time of the serving file"


@contextmanager
def open_publication(serving_dir: Path | None = None) -> Iterator[Publication]:
    """The current publication, read-only; raises NoPublication when none exists yet.

    The file is attached read-only to a new in-memory database rather than opened with duckdb.connect(path):
    DuckDB keeps one instance per path in a process while any connection to it is open, so under steady
    traffic every request would keep being given the instance of the replaced file and never see a new
    publication. The attached catalog is named after the file's stem (`marts`), as for any reader.
    """
    path = serving_file(serving_dir)
    con = duckdb.connect(":memory:")
    try:
        for _ in range(3):  # a swap between stat and attach: attach again, so the mtime is of this file
            try:
                before = path.stat()
                con.execute(f"attach '{_literal(path)}' as {_quote(path.stem)} (read_only)")
                con.execute(f"use {_quote(path.stem)}")
            except (FileNotFoundError, duckdb.IOException) as error:
                if not path.exists():
                    raise NoPublication(
                        f"No publication yet: {path} does not exist. Publish the marts first "
                        "(`make demo`, or `python -m orchestration.run`), then reload this page."
                    ) from error
                raise
            if path.stat().st_ino == before.st_ino:
                break
            con.execute("use memory")
            con.execute(f"detach {_quote(path.stem)}")
        yield Publication(con, path, before.st_mtime)
    finally:
        con.close()


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
