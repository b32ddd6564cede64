"""Land the daily CSV exports in DuckDB schema `raw`, losing nothing.

Every data record of every file ends up either in `raw.<table>` (typed per raw/contract.yml) or in
`raw.load_quarantine` (with its original text, physical line number and a readable reason), and every file
gets a row in `raw.load_audit` where rows_delivered = rows_loaded + rows_quarantined is checked before commit.

How a file is parsed, and why: DuckDB reads the file as text and splits it into physical lines, so each
record's line number and original text are exact (DuckDB's read_csv numbers neither good rows nor, reliably,
multi-line records). Lines are joined into records where a quoted value spans a newline (an odd number of
quote characters so far means the record continues). A simple record (values unquoted, or quoted with neither
a quote nor a comma inside: the usual case) is cut into fields by splitting on commas; any other record is cut
with one regular expression; both cuts give the same fields where both apply (the tests compare them).
Values are validated with format checks plus TRY_CAST per column. All of it is set-based SQL in DuckDB: no
Python loop over rows. Whole export days are parsed and written in batches (one parsing query per table and
header layout, one insert per table), because a statement and a commit per small daily file cost more than
its rows do.

Transactions: each batch of whole days is written in one transaction, so a failure rolls back every day of
the batch and leaves nothing of them half-loaded; earlier batches stay committed. Before the commit, the rows
that landed are counted per file (by load id) and rows_delivered = rows_loaded + rows_quarantined is checked.

Idempotence: a file whose sha256 matches the loaded delivery of its table and day is 'unchanged' (nothing is
written); different content for the same table and day is 'replaced': that day's rows, quarantine rows and
audit row of the table are deleted and the new ones inserted in the same transaction.

Counting rule: rows_delivered counts CSV records after the header, so a quoted value holding a newline is one
record spanning several physical lines; a blank line is a record (quarantined, it cannot carry the required
columns). A 0-byte file has no header and counts as 0 rows delivered, status 'loaded'.

Refusals: a file that breaks the contract (unknown table file, unreadable header, missing required column,
unknown column, not UTF-8) loads nothing. The day's other files still load; a 'refused' audit row records the
refusal, and ContractError is raised after the day (after every requested day for load_exports), naming
every refused file and the column at fault.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import hashlib
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.settings import duckdb_config
from raw.contract import LOAD_METADATA_COLUMNS, TableSpec, load_contract

SCHEMA = "raw"
FILE_SUFFIX = ".csv"
# Files are parsed in batches of about this many bytes: big enough to share the cost of planning the
# checking query across many small daily files, small enough to keep memory bounded for big ones.
BATCH_BYTES = 128 * 1024 * 1024
# DuckDB checkpoints (writes the WAL into the database file) whenever the WAL passes checkpoint_threshold:
# at its default of 16 MiB, after nearly every batch, so checkpoints would be a large share of a big load.
# Every few batches is enough, for somewhat more peak memory (the WAL held longer).
# Commits stay as durable: the WAL is on disk at each commit; a checkpoint only moves it.
CHECKPOINT_THRESHOLD = "256MiB"

# A field is a quoted value (doubled quotes inside) or an unquoted run without comma or quote. Every field is
# matched together with the comma in front of it (a comma is prepended to the record), so no match is empty.
_FIELD = r',("(?:[^"]|"")*"|[^,"]*)'
_RECORD = f"({_FIELD})+"
# A simple record: every field unquoted, or quoted with neither a quote nor a comma inside. Splitting it on
# its commas gives exactly the fields _FIELD finds, so it can skip the costly list extraction.
_SIMPLE_RECORD = r'(?:"[^",]*"|[^,"]*)(?:,(?:"[^",]*"|[^,"]*))*'

# Format checks before TRY_CAST, because DuckDB's casts are lenient: '1.5' casts to INTEGER 2, a timestamp
# without offset takes the session time zone, '2024-03-07 10:00' casts to a DATE.
_WHOLE = r"^\s*[+-]?[0-9]+\s*$"
_DATE = r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*$"
_TIMESTAMPTZ = (
    r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)\s*$"
)
_TYPE_RULES: dict[str, tuple[str | None, str]] = {
    "INTEGER": (_WHOLE, "a whole number between -2147483648 and 2147483647"),
    "BIGINT": (_WHOLE, "a whole number"),
    "DATE": (_DATE, "a date as YYYY-MM-DD"),
    "TIMESTAMPTZ": (_TIMESTAMPTZ, "an ISO 8601 timestamp with an offset, like 2024-03-07T09:15:00+02:00"),
    "BOOLEAN": (None, "true or false"),
}

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
    message varchar
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


@dataclass(frozen=True)
class FileLoadResult:
    """What happened to one export file."""

    table_name: str
    export_date: date
    source_file: str
    rows_delivered: int
    rows_loaded: int
    rows_quarantined: int
    status: str  # 'loaded' | 'unchanged' | 'replaced'
    file_sha256: str


@dataclass(frozen=True)
class RefusedFile:
    """A file refused as a whole because it breaks the contract."""

    source_file: str
    reason: str


class ContractError(Exception):
    """One or more files break the landing contract; `refused` names them, `results` holds what did load."""

    def __init__(self, refused: list[RefusedFile], results: list[FileLoadResult] | None = None):
        self.refused = list(refused)
        self.results = list(results or [])
        lines = [f"{len(self.refused)} export file(s) refused, nothing loaded from them:"]
        lines += [f"  {r.source_file}: {r.reason}" for r in self.refused]
        super().__init__("\n".join(lines))


class _Refusal(Exception):
    """Internal: the file at hand breaks the contract (becomes a RefusedFile)."""


@dataclass
class _Header:
    positions: dict[str, int] = field(default_factory=dict)  # contract column -> 1-based field position
    width: int = 0


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def available_export_dates(exports_dir: str | Path) -> list[date]:
    """Export day folders under `exports_dir` (named YYYY-MM-DD), sorted; other entries are ignored."""
    root = Path(exports_dir)
    if not root.is_dir():
        return []
    fmt = load_contract().export_date_format
    dates = []
    for entry in root.iterdir():
        if not entry.is_dir():
            continue
        try:
            dates.append(datetime.strptime(entry.name, fmt).date())
        except ValueError:
            continue
    return sorted(dates)


class RawSchemaError(Exception):
    """A raw table stored in the warehouse disagrees with the contract in a way the loader cannot mend."""


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema raw, every contract table (empty), load_audit and load_quarantine if missing.

    A warehouse built under an older contract is brought up to date: a column the contract gained is added to
    the stored table (its earlier rows hold NULL, which is what their deliveries carried), a column the
    contract dropped stays with its data (inserts name their columns, so new rows leave it NULL). A stored
    column whose type differs from the contract's raises RawSchemaError: converting landed values is a
    decision for a person, not for a load.
    """
    con.execute(f"create schema if not exists {SCHEMA}")
    stored: dict[str, dict[str, str]] = {}
    for table_name, column_name, data_type in con.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "where schema_name = ? and database_name = current_database()",
        [SCHEMA],
    ).fetchall():
        stored.setdefault(table_name, {})[column_name] = data_type
    for table in load_contract().tables.values():
        columns = [(c.name, c.type) for c in table.columns]
        columns += [(name, dtype) for name, dtype, _ in LOAD_METADATA_COLUMNS]
        if table.name not in stored:
            con.execute(
                f"create table {SCHEMA}.{_ident(table.name)} (\n    "
                + ",\n    ".join(f"{_ident(name)} {dtype}" for name, dtype in columns)
                + "\n)"
            )
            continue
        for name, dtype in columns:
            (expected,) = con.execute(f"select typeof(cast(null as {dtype}))").fetchone()
            found = stored[table.name].get(name)
            if found is None:
                con.execute(f"alter table {SCHEMA}.{_ident(table.name)} add column {_ident(name)} {dtype}")
            elif found != expected:
                raise RawSchemaError(
                    f"{SCHEMA}.{table.name}.{name} is stored as {found} but the contract says {dtype}: "
                    "convert the column by hand, or reload the exports into a new warehouse"
                )
    con.execute(AUDIT_DDL)
    con.execute(QUARANTINE_DDL)


def _fingerprint(path: Path) -> tuple[str, str | None]:
    """The file's sha256, and why it is not UTF-8 (None when it is), in one streaming read."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    problem = None
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            if problem is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    problem = f"not UTF-8 ({exc.reason})"
    if problem is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            problem = f"not UTF-8 ({exc.reason} at the end)"
    return digest.hexdigest(), problem


def _read_header(path: Path, table: TableSpec) -> _Header | None:
    """Map the file's header onto contract columns; None for a 0-byte file. Raises _Refusal on a break."""
    with open(path, "rb") as handle:
        first = handle.readline()
    if not first:
        return None
    try:
        text = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise _Refusal(f"unreadable header: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    if text.count('"') % 2:
        raise _Refusal("unreadable header: unbalanced quote in the first line")
    names = [name.strip() for name in next(csv.reader([text]))] if text else []
    if not names or any(not name for name in names):
        raise _Refusal(f"unreadable header: empty column name in {text!r}")
    aliases = table.header_aliases()
    header = _Header(width=len(names))
    for position, name in enumerate(names, start=1):
        if name not in aliases:
            raise _Refusal(
                f"unknown column '{name}' (not in the contract of {table.name} and not a known rename)"
            )
        target = aliases[name]
        if target in header.positions:
            raise _Refusal(f"column '{name}' given twice (as '{target}' or one of its earlier names)")
        header.positions[target] = position
    missing = [c.name for c in table.columns if c.required and c.name not in header.positions]
    if missing:
        raise _Refusal("missing required column(s): " + ", ".join(f"'{m}'" for m in missing))
    return header


def _stage_records(con: duckdb.DuckDBPyConnection, paths: list[str]) -> None:
    """Temp view _records(filename, line_number, raw_line, is_simple): one row per CSV record after each
    header; is_simple tells whether the record matches _SIMPLE_RECORD."""
    con.execute(
        """
        create or replace temp table _lines as
        with split as (
            -- whether a file holds a carriage return at all is one cheap pass; most lines then skip the rtrim
            select filename, contains(content, chr(13)) as has_cr, string_split(content, chr(10)) as lines
            from read_text(?)
        ),
        numbered as (
            select
                filename,
                has_cr,
                unnest(lines) as line,
                unnest(range(1, len(lines) + 1)) as line_number,
                len(lines) as line_count
            from split
        ),
        trimmed as (
            select filename, line_number, case when has_cr then rtrim(line, chr(13)) else line end as line
            from numbered
            -- the header is read separately; the empty piece after a final newline is no line
            where line_number > 1 and not (line_number = line_count and line = '')
        ),
        classified as (
            -- one regular-expression pass per line: a simple record is also one with an even quote count
            select *, regexp_full_match(line, ?) as is_simple
            from trimmed
        )
        select
            *,
            -- A simple record has two quotes per quoted value, so only the other lines need the quote count.
            -- An even number of quotes is a full match of this pattern, which is faster than counting them.
            case
                when is_simple then false
                else contains(line, '"') and not regexp_full_match(line, '[^"]*(?:"[^"]*"[^"]*)*')
            end as has_odd_quotes
        from classified
        """,
        [paths, _SIMPLE_RECORD],
    )
    (multi_line,) = con.execute("select coalesce(bool_or(has_odd_quotes), false) from _lines").fetchone()
    if not multi_line:
        # Fast path, the usual case: every record is one line. A view, since copying the lines costs time.
        con.execute(
            "create or replace temp view _records as "
            "select filename, line_number, line as raw_line, is_simple from _lines"
        )
        return
    # Quoted values span lines: pair the lines with an odd number of quotes (the 1st opens a record, the
    # 2nd closes it, ...) and join each span's lines. Only spans are aggregated, so this stays fast when most
    # records are single lines; an opener never closed runs to the end of the file (a malformed record).
    con.execute(
        """
        create or replace temp table _joined_records as
        with odd_lines as (
            select
                filename,
                line_number,
                row_number() over (partition by filename order by line_number) as odd_number
            from _lines
            where has_odd_quotes
        ),
        spans as (
            select
                opening.filename,
                opening.line_number as first_line,
                coalesce(closing.line_number, 9223372036854775807) as last_line
            from odd_lines as opening
            left join odd_lines as closing
                on closing.filename = opening.filename and closing.odd_number = opening.odd_number + 1
            where opening.odd_number % 2 = 1
        ),
        span_lines as (
            select spans.filename, spans.first_line, _lines.line_number, _lines.line
            -- an as-of join finds each line's latest span start by sorting; a range join would loop
            from _lines
            asof join spans
                on _lines.filename = spans.filename and _lines.line_number >= spans.first_line
            where _lines.line_number <= spans.last_line
        ),
        single_lines as (
            select _lines.filename, _lines.line_number, _lines.line as raw_line, _lines.is_simple
            from _lines
            anti join span_lines using (filename, line_number)
        ),
        joined_spans as (
            select
                filename,
                first_line as line_number,
                string_agg(line, chr(10) order by line_number) as raw_line
            from span_lines
            group by filename, first_line
        )
        select * from single_lines
        union all
        select *, regexp_full_match(raw_line, ?) as is_simple from joined_spans
        """,
        [_SIMPLE_RECORD],
    )
    con.execute("create or replace temp view _records as select * from _joined_records")


def _typed(column_name: str) -> str:
    """Name of a column's typed value beside its text in the checking query."""
    return _ident(f"_typed_{column_name}")


def _reason_sql(table: TableSpec, header: _Header) -> str:
    """SQL for the reason a record is quarantined (NULL when it loads), over the `typed` columns: each
    column's text and, for a non-VARCHAR column, its TRY_CAST value (named by _typed)."""
    checks = []
    for column in table.columns:
        if column.name not in header.positions:
            continue
        value = _ident(column.name)
        if column.required:
            empty = _literal(f"column {column.name}: required value is empty")
            checks.append(f"case when {value} is null then {empty} end")
        if column.type == "VARCHAR":
            continue
        pattern, expected = _TYPE_RULES.get(column.type, (None, f"a {column.type}"))
        valid = f"{_typed(column.name)} is not null"
        if pattern:
            valid = f"regexp_full_match({value}, {_literal(pattern)}) and {valid}"
        message = f"column {column.name}: value '{{}}' is not {expected}"
        checks.append(
            f"case when {value} is not null and not ({valid}) "
            f"then format({_literal(message)}, left({value}, 80)) end"
        )
    field_count = _literal(f"wrong number of fields: expected {header.width} (as in the header), found {{}}")
    return f"""
        case
            when not well_formed then 'malformed quoting: a quote inside an unquoted value or never closed'
            when raw_line = '' then 'blank line'
            when field_count <> {header.width} then format({field_count}, field_count)
            else nullif(concat_ws('; ', {", ".join(checks) or "null"}), '')
        end"""


def _stage_checked(con: duckdb.DuckDBPyConnection, staged: str, table: TableSpec, header: _Header) -> None:
    """Temp table `staged`: each record of _records as values of the contract's types and its reason.

    Two exact ways to cut a record into fields, chosen per record in one pass: a simple record (see
    _SIMPLE_RECORD) has its quotes dropped and is split on its commas, which is much faster than extracting a
    list of fields with a regular expression; every other record (escaped quotes, commas or stray quotes)
    goes that way and has each quoted field unquoted. Each value is cast once (TRY_CAST, NULL when it does not
    cast): the check reads the cast value and the insert copies it.
    """
    texts, typed, values = [], [], []
    for column in table.columns:
        name = _ident(column.name)
        position = header.positions.get(column.name)
        texts.append(f"nullif(fields[{position}], '') as {name}" if position else f"null::varchar as {name}")
        if column.type == "VARCHAR":
            values.append(name)
            continue
        typed.append(f"try_cast(trim({name}) as {column.type}) as {_typed(column.name)}")
        values.append(f"{_typed(column.name)} as {name}")
    # a field of a general record keeps its quotes: drop the outer pair and undouble the ones inside
    unquoted = "f -> case when starts_with(f, '\"') then replace(f[2:-2], '\"\"', '\"') else f end"
    con.execute(
        f"""
        create or replace temp table {staged} as
        with parsed as (
            select
                filename,
                line_number,
                raw_line,
                case
                    when is_simple then true
                    else regexp_full_match(',' || raw_line, {_literal(_RECORD)})
                end as well_formed,
                case
                    -- quotes only wrap whole values and no value holds a comma, so dropping every quote
                    -- and then splitting on commas gives exactly the unquoted values
                    when is_simple then string_split(replace(raw_line, '"', ''), ',')
                    else list_transform(
                        regexp_extract_all(',' || raw_line, {_literal(_FIELD)}, 1), {unquoted}
                    )
                end as fields
            from _records
        ),
        valued as (
            select
                filename,
                line_number,
                raw_line,
                well_formed,
                len(fields) as field_count,
                {", ".join(texts)}
            from parsed
        ),
        typed as (
            select *{"".join(", " + t for t in typed)}
            from valued
        ),
        checked as (
            select
                filename,
                line_number,
                raw_line,
                {", ".join(values)},
                {_reason_sql(table, header)} as reason
            from typed
        )
        -- the original text is kept only where it is needed, for the quarantine
        select * replace (case when reason is not null then raw_line end as raw_line)
        from checked
        """
    )


@dataclass
class _Pending:
    """A file that passed the contract checks and waits to be written."""

    path: Path
    source_file: str
    export_date: date
    table: TableSpec
    header: _Header | None  # None: a 0-byte file
    sha: str
    previous: tuple | None  # the audit row of an earlier delivery of this table and day
    staged_counts: tuple[int, int] = (0, 0)  # records staged for this file, and how many have a reason
    load_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def status(self) -> str:
        return "replaced" if self.previous is not None else "loaded"


def _stage_batch_files(con: duckdb.DuckDBPyConnection, batch: list[_Pending], loaded_at: datetime) -> None:
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
    }
    # One statement with list parameters: a row-by-row insert would cost a round trip per file.
    unnests = ", ".join(f"unnest(?::{dtype}[]) as {name}" for name, (dtype, _) in columns.items())
    con.execute(
        f"create or replace temp table _batch_files as select {unnests}, ?::timestamptz as loaded_at",
        [*(values for _, values in columns.values()), loaded_at],
    )


def _write_file(con: duckdb.DuckDBPyConnection, batch: list[_Pending], staged: dict[str, str]) -> None:
    """Inside the caller's transaction: replace earlier deliveries of the batch's tables and days, insert
    every file's loaded and quarantined records (one statement per table layout) and its audit row.

    `staged` maps each staged temp table to the contract table its records belong to.
    """
    replaced_tables = sorted({p.table.name for p in batch if p.previous is not None})
    for table_name in replaced_tables:
        con.execute(
            f"delete from {SCHEMA}.{_ident(table_name)} where _export_date in "
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
        columns = ", ".join(_ident(c) for c in [*table.column_names, *(m[0] for m in LOAD_METADATA_COLUMNS)])
        values = ", ".join(f"s.{_ident(c)}" for c in table.column_names)  # already of the contract's types
        con.execute(
            f"insert into {SCHEMA}.{_ident(table.name)} ({columns}) "
            f"select {values}, f.export_date, f.source_file, s.line_number, f.load_id, f.loaded_at "
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
        "rows_delivered - rows_quarantined, rows_quarantined, status, loaded_at, null from _batch_files"
    )


def _reconcile(con: duckdb.DuckDBPyConnection, batch: list[_Pending]) -> dict[str, tuple[int, int]]:
    """Inside the transaction, before commit: count what actually landed per file (rows in the table and in
    the quarantine under its load id) and check delivered = loaded + quarantined for every file."""
    landed: dict[str, tuple[int, int]] = {p.load_id: (0, 0) for p in batch}
    days = [p.export_date for p in batch]
    for table_name in sorted({p.table.name for p in batch}):
        # Filtering on the export days first lets DuckDB skip the row groups of other days.
        for load_id, count in con.execute(
            f"select _load_id, count(*) from {SCHEMA}.{_ident(table_name)} "
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
    con: duckdb.DuckDBPyConnection, batch: list[_Pending], staged: dict[str, str]
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


def _inspect(exports_dir: Path, export_date: date, path: Path, delivered: dict) -> FileLoadResult | _Pending:
    """Contract checks of one file: 'unchanged' result, or a _Pending to write. Raises _Refusal."""
    contract = load_contract()
    source_file = path.relative_to(exports_dir).as_posix()
    table_name = path.name.removesuffix(FILE_SUFFIX)
    if not path.name.endswith(FILE_SUFFIX) or table_name not in contract.tables:
        raise _Refusal(f"unknown table file '{path.name}' (the contract has no table '{table_name}')")
    table = contract.tables[table_name]
    sha, encoding_problem = _fingerprint(path)
    previous = delivered.get((table_name, export_date))
    if previous and previous[0] == sha:
        return FileLoadResult(table_name, export_date, source_file, *previous[1:], "unchanged", sha)
    header = _read_header(path, table)
    if encoding_problem:
        raise _Refusal(f"unreadable file: {encoding_problem}")
    return _Pending(path, source_file, export_date, table, header, sha, previous)


def _record_refusal(
    con: duckdb.DuckDBPyConnection, exports_dir: Path, export_date: date, path: Path, reason: str
) -> None:
    """A 'refused' audit row, so refusals are queryable; replaces an earlier refusal of the same file."""
    source_file = path.relative_to(exports_dir).as_posix()
    sha, _ = _fingerprint(path)
    con.execute("begin transaction")
    con.execute(
        f"delete from {SCHEMA}.load_audit where status = 'refused' and source_file = ? and file_sha256 = ?",
        [source_file, sha],
    )
    con.execute(
        f"insert into {SCHEMA}.load_audit values (?, ?, ?, ?, ?, null, 0, 0, 'refused', ?, ?)",
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


def _write_batch(con: duckdb.DuckDBPyConnection, batch: list[_Pending]) -> list[FileLoadResult]:
    """Parse and check the batch's files, grouped by table and header (one query per group), then write
    the whole batch (whole days) in one transaction, in day order."""
    if not batch:
        return []
    groups: dict[tuple, list[_Pending]] = {}
    for pending in batch:
        if pending.header is not None:
            layout = (
                pending.table.name,
                pending.header.width,
                tuple(sorted(pending.header.positions.items())),
            )
            groups.setdefault(layout, []).append(pending)
    staged: dict[str, str] = {}
    try:
        for number, members in enumerate(groups.values()):
            staged_table = f"_checked_{number}"
            staged[staged_table] = members[0].table.name
            _stage_records(con, [str(p.path) for p in members])
            _stage_checked(con, staged_table, members[0].table, members[0].header)
            counts = con.execute(
                f"select filename, count(*), count(*) filter (where reason is not null) from {staged_table} "
                "group by filename"
            ).fetchall()
            by_file = {row[0]: (row[1], row[2]) for row in counts}
            # Records are matched back to files by name; a name DuckDB spelled differently would leave a
            # file looking empty, so refuse to go on rather than under-count silently.
            unmatched = set(by_file) - {str(p.path) for p in members}
            if unmatched:
                raise RuntimeError(f"records staged for files not in the batch: {sorted(unmatched)}")
            for pending in members:
                pending.staged_counts = by_file.get(str(pending.path), (0, 0))
        return _commit_batch(con, batch, staged)
    finally:
        for staged_table in staged:
            con.execute(f"drop table if exists {staged_table}")
        con.execute("drop view if exists _records")
        for temp_table in ("_lines", "_joined_records", "_batch_files"):
            con.execute(f"drop table if exists {temp_table}")


@contextmanager
def _checkpoint_threshold(con: duckdb.DuckDBPyConnection, threshold: str) -> Iterator[None]:
    """DuckDB's checkpoint_threshold set to `threshold` for the block, then set back to what it was: the
    setting belongs to the whole database, and the connection may be the caller's (Dagster's raw asset)."""
    (previous,) = con.execute("select current_setting('checkpoint_threshold')").fetchone()
    con.execute(f"set checkpoint_threshold = {_literal(threshold)}")
    try:
        yield
    finally:
        con.execute(f"set checkpoint_threshold = {_literal(previous)}")


def _load_days(
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
        batch: list[_Pending] = []
        batch_bytes = 0
        for day in days:
            day_dir = exports_dir / day.strftime(fmt)
            # Hidden files (editor or sync leftovers) are not deliveries; subfolders are not part of the
            # layout.
            files = sorted(p for p in day_dir.iterdir() if p.is_file() and not p.name.startswith("."))
            for path in files:
                try:
                    outcome = _inspect(exports_dir, day, path, delivered)
                except _Refusal as exc:
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
                results += _write_batch(con, batch)
                batch, batch_bytes = [], 0
        results += _write_batch(con, batch)
        return results, refused


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.strptime(value, load_contract().export_date_format).date()


def _check_day_folders(exports_dir: Path, days: list[date]) -> None:
    fmt = load_contract().export_date_format
    missing = [day for day in days if not (exports_dir / day.strftime(fmt)).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"no export folder for {', '.join(d.isoformat() for d in missing)} under {exports_dir}"
        )


def load_export_day(
    con: duckdb.DuckDBPyConnection, exports_dir: str | Path, export_date: date | str
) -> list[FileLoadResult]:
    """Load every file of one export day folder through `con` (which must not be inside a transaction).

    Files that break the contract are refused and recorded; the day's other files load, then ContractError
    is raised listing every refused file (its `results` holds the files that did load).
    """
    exports_dir = Path(exports_dir)
    days = [_as_date(export_date)]
    _check_day_folders(exports_dir, days)
    results, refused = _load_days(con, exports_dir, days)
    if refused:
        raise ContractError(refused, results)
    return results


def _connect(warehouse: str | Path | duckdb.DuckDBPyConnection) -> tuple[duckdb.DuckDBPyConnection, bool]:
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        return warehouse, False
    path = Path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The job's memory bound (DUCKDB_MEMORY_LIMIT), as dbt, GX and publish have it: unbounded, DuckDB may take
    # 80% of the machine (5.4 GB of RSS loading the 10M company, batches of about 170 MB of files).
    return duckdb.connect(str(path), config=duckdb_config()), True


def load_exports(
    warehouse: str | Path | duckdb.DuckDBPyConnection,
    exports_dir: str | Path,
    export_dates: Iterable[date | str] | None = None,
) -> list[FileLoadResult]:
    """Load the given export days (None = every day folder) into `warehouse`, oldest day first.

    `warehouse` is a DuckDB file path (parent folders created) or an open connection. A refused file does not
    stop the other files or days; ContractError is raised at the end listing every refused file.
    """
    exports_dir = Path(exports_dir)
    if export_dates is None:
        days = available_export_dates(exports_dir)
    else:
        days = sorted({_as_date(d) for d in export_dates})
    _check_day_folders(exports_dir, days)
    con, owned = _connect(warehouse)
    try:
        results, refused = _load_days(con, exports_dir, days)
    finally:
        if owned:
            con.close()
    if refused:
        raise ContractError(refused, results)
    return results


def _print_results(results: list[FileLoadResult]) -> None:
    for r in results:
        print(
            f"{r.source_file:<50} {r.status:<9} delivered={r.rows_delivered} loaded={r.rows_loaded} "
            f"quarantined={r.rows_quarantined}"
        )
    print(
        f"total: {len(results)} files, delivered={sum(r.rows_delivered for r in results)} "
        f"loaded={sum(r.rows_loaded for r in results)} "
        f"quarantined={sum(r.rows_quarantined for r in results)}"
    )


def main(argv: list[str] | None = None) -> int:
    """CLI: load export days into the warehouse; exit code 1 when a file breaks the contract."""
    parser = argparse.ArgumentParser(prog="python -m raw.load", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--exports", required=True, type=Path, help="folder holding the YYYY-MM-DD day folders"
    )
    parser.add_argument("--warehouse", required=True, type=Path, help="DuckDB file to load into")
    parser.add_argument(
        "--date",
        action="append",
        dest="dates",
        metavar="YYYY-MM-DD",
        help="export day to load (repeatable; default: every day folder)",
    )
    args = parser.parse_args(argv)
    try:
        results = load_exports(args.warehouse, args.exports, args.dates)
    except ContractError as exc:
        _print_results(exc.results)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _print_results(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
