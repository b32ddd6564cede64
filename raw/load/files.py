"""One export file before it is parsed: which table it is for, whether it changed, what its header says.

Every check here reads at most the file's bytes once (the sha256 and UTF-8 check stream it) and its first
line (bounded), so a file that is no CSV at all is refused by name without being parsed.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from raw.contract import TableSpec, load_contract
from raw.load.results import FileLoadResult

FILE_SUFFIX = ".csv"
# A header is a line of column names: a first line longer than this is refused without being parsed.
MAX_HEADER_BYTES = 64 * 1024
# What a header name must look like to be quoted back in a refusal (see _shown_column).
_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ .-]{0,63}")


class Refusal(Exception):
    """The file at hand breaks the contract; the load records it as a RefusedFile and goes on."""


@dataclass
class Header:
    """Where each contract column sits in a file's header, how many fields it has, which columns it lacks."""

    positions: dict[str, int] = field(default_factory=dict)  # contract column -> 1-based field position
    width: int = 0
    absent: tuple[str, ...] = ()  # contract columns the header does not carry (optional ones)
    extras: dict[str, int] = field(default_factory=dict)  # unknown header name -> position, kept in _extras


def fingerprint(path: Path) -> tuple[str, str | None]:
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


def _first_line(path: Path) -> bytes:
    """The file's first line without its line ending, read no further than MAX_HEADER_BYTES. Raises Refusal
    for a line that ends with a bare carriage return (CR-only line endings) or is too long to be a header."""
    with open(path, "rb") as handle:
        head = handle.read(MAX_HEADER_BYTES + 2)
    line, newline, _ = head.partition(b"\n")
    if b"\r" in line.rstrip(b"\r"):
        raise Refusal(
            "unreadable header: lines end with a bare carriage return (CR-only line endings); "
            "deliver the file with LF or CRLF line endings"
        )
    line = line.rstrip(b"\r")
    if len(line) > MAX_HEADER_BYTES:
        raise Refusal(
            f"unreadable header: the first line is longer than {MAX_HEADER_BYTES} bytes"
            + ("" if newline else " and has no line ending")
            + ", not a header of column names"
        )
    return line


def _shown_column(name: str, position: int) -> str:
    """A header name as it may appear in a message: only names shaped like column names are echoed, so a
    refusal never copies other content of a file (a link or a copy of an unrelated file) into the audit."""
    if _COLUMN_NAME.fullmatch(name):
        return f"'{name}'"
    return f"at position {position} ({len(name)} characters, not shown: not shaped like a column name)"


def _read_header(path: Path, table: TableSpec, ignored: frozenset[str] = frozenset()) -> Header | None:
    """Map the file's header onto contract columns; None for a 0-byte file. Raises Refusal on a break."""
    first = _first_line(path)
    if not first and path.stat().st_size == 0:
        return None
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refusal(f"unreadable header: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    if text.count('"') % 2:
        raise Refusal("unreadable header: unbalanced quote in the first line")
    try:
        names = [name.strip() for name in next(csv.reader([text]))] if text else []
    except csv.Error as exc:
        raise Refusal(f"unreadable header: {exc}") from exc
    empty = [position for position, name in enumerate(names, start=1) if not name]
    if not names or empty:
        where = f" at position {', '.join(map(str, empty))}" if empty else ""
        raise Refusal(f"unreadable header: empty column name{where}")
    aliases = table.header_aliases()
    header = Header(width=len(names))
    for position, name in enumerate(names, start=1):
        if name in ignored and name not in aliases:
            continue
        if name not in aliases:
            # Kept only under a name shaped like a column: anything else is no header of an export.
            if table.unknown_columns == "refuse" or not _COLUMN_NAME.fullmatch(name):
                raise Refusal(
                    f"unknown column {_shown_column(name, position)} "
                    f"(not in the contract of {table.name} and not a known rename)"
                )
            if name in header.extras:
                raise Refusal(f"column '{name}' given twice")
            header.extras[name] = position
            continue
        target = aliases[name]
        if target in header.positions:
            raise Refusal(f"column '{name}' given twice (as '{target}' or one of its earlier names)")
        header.positions[target] = position
    missing = [c.name for c in table.columns if c.required and c.name not in header.positions]
    if missing:
        raise Refusal("missing required column(s): " + ", ".join(f"'{m}'" for m in missing))
    header.absent = tuple(c.name for c in table.columns if c.name not in header.positions)
    return header


@dataclass
class Pending:
    """A file that passed the contract checks and waits to be written."""

    path: Path
    source_file: str
    export_date: date
    table: TableSpec
    header: Header | None  # None: a 0-byte file
    sha: str
    previous: tuple | None  # the audit row of an earlier delivery of this table and day
    staged_counts: tuple[int, int] = (0, 0)  # records staged for this file, and how many have a reason
    load_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def status(self) -> str:
        return "replaced" if self.previous is not None else "loaded"

    @property
    def absent_columns(self) -> str | None:
        """Contract columns the file's header does not carry, comma separated ('' when none; None for a
        0-byte file, which has no header)."""
        return None if self.header is None else ",".join(self.header.absent)


def inspect_file(
    exports_dir: Path, export_date: date, path: Path, delivered: dict
) -> FileLoadResult | Pending:
    """Contract checks of one file: 'unchanged' result, or a Pending to write. Raises Refusal."""
    contract = load_contract()
    source_file = path.relative_to(exports_dir).as_posix()
    table_name = path.name.removesuffix(FILE_SUFFIX)
    refuse_outside(exports_dir, path)
    if not path.name.endswith(FILE_SUFFIX) or table_name not in contract.tables:
        raise Refusal(f"unknown table file '{path.name}' (the contract has no table '{table_name}')")
    table = contract.tables[table_name]
    try:
        sha, encoding_problem = fingerprint(path)
        previous = delivered.get((table_name, export_date))
        if previous and previous[0] == sha:
            return FileLoadResult(table_name, export_date, source_file, *previous[1:], "unchanged", sha)
        header = _read_header(path, table, ignored_columns(table_name))
    except OSError as exc:
        raise Refusal(f"unreadable file: {exc.strerror or type(exc).__name__}") from exc
    if encoding_problem:
        raise Refusal(f"unreadable file: {encoding_problem}")
    return Pending(path, source_file, export_date, table, header, sha, previous)


def ignored_columns(table_name: str) -> frozenset[str]:
    """Header columns the company profile declares to ignore for a table (profile key ignore_columns)."""
    from raw.profile import load_profile

    return frozenset(load_profile().ignore_columns.get(table_name, ()))


def refuse_outside(exports_dir: Path, path: Path) -> None:
    """Raise Refusal for a symbolic link that leads out of the exports folder (its target is never read)."""
    if path.is_symlink() and not path.resolve().is_relative_to(exports_dir.resolve()):
        raise Refusal("symbolic link to a file outside the exports folder: not read")
