"""Writes rows into the daily export folders in the contract's shape, and the answer key CSVs."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .frame import NULL, Rows
from .reference import Reference
from .sales import Period

OFFSET_MINUTES = [0, 60, 120, -300, 330, -180, 540]
OFFSET_TEXT = np.array(["+00:00", "+01:00", "+02:00", "-05:00", "+05:30", "-03:00", "+09:00"], dtype=object)
CSV_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="needed")


def utc_text(instants: np.ndarray) -> pa.Array:
    """Instants as ISO 8601 UTC text with +00:00 (NULL stays NULL)."""
    return format_ts(np.asarray(instants, dtype=np.int64), np.zeros(len(instants), dtype=np.int64))


def format_ts(instants: np.ndarray, off_idx: np.ndarray) -> pa.Array:
    mask = instants == NULL
    minutes = np.asarray(OFFSET_MINUTES)[off_idx]
    local = np.where(mask, 0, instants + minutes * 60).astype("datetime64[s]")
    # a cast renders "YYYY-MM-DD HH:MM:SS" far faster than strftime
    text = pc.replace_substring(pa.array(local, mask=mask).cast(pa.string()), " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(text, pa.array(OFFSET_TEXT[off_idx], pa.string()), "")


def format_column(values, duck_type: str, off_idx: np.ndarray) -> pa.Array:
    """One column as CSV text per its contract type."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.cast(pa.string())
    array = np.asarray(values)
    if duck_type == "TIMESTAMPTZ":
        return format_ts(array.astype(np.int64), off_idx)
    if duck_type == "DATE":
        mask = array == NULL
        return pa.array(np.where(mask, 0, array).astype("datetime64[D]"), mask=mask).cast(pa.string())
    if duck_type in ("BIGINT", "INTEGER") and array.dtype != object:
        return pa.array(array.astype(np.int64), mask=array == NULL).cast(pa.string())
    if duck_type == "BOOLEAN" and array.dtype == bool:
        return pa.array(np.where(array, "true", "false"), pa.string())
    return pa.array(array, pa.string(), from_pandas=True)


class DayWriter:
    """Appends rows to <out>/<YYYY-MM-DD>/<table>.csv, writing the header when this run creates the file."""

    def __init__(self, out_dir: Path, period: Period, ref: Reference):
        self.out, self.period, self.ref = Path(out_dir), period, ref
        self.mid = period.days // 2
        self.created: set[Path] = set()
        self.folders: set[Path] = set()
        self.rows_written: dict[str, int] = {}
        self.schema_change: dict[str, int] = {}

    def day_name(self, day: int) -> str:
        return (self.period.start + timedelta(days=int(day))).isoformat()

    def header(self, table: str, day: int) -> list[str]:
        """The file's columns on that day: the source renamed one column and added another mid-period."""
        cols = [c for c, _ in self.ref.columns(table)]
        if table == "billing__invoice_lines" and day < self.mid:
            cols.remove("tax_minor")
        if day < self.mid:
            renamed = self.ref.renamed_from(table)
            cols = [renamed.get(c, c) for c in cols]
        return cols

    def _append(self, table: str, day: int, data: bytes) -> None:
        """One open per file and chunk: opening files is the slow part on most file systems."""
        folder = self.out / self.day_name(day)
        path = folder / f"{table}.csv"
        if path in self.created:
            with open(path, "ab") as f:
                f.write(data)
            return
        if folder not in self.folders:
            folder.mkdir(parents=True, exist_ok=True)
            self.folders.add(folder)
        with open(path, "wb") as f:
            f.write((",".join(self.header(table, day)) + "\n").encode() + data)
        self.created.add(path)

    def write(self, table: str, rows: Rows, malformed: list[tuple[int, str]]) -> None:
        """Append the rows to their day files (sorted by day, rendered once, then cut at line ends)."""
        types = dict(self.ref.columns(table))
        names = list(types)
        row_count = len(rows)
        offsets = rows.off if rows.off is not None else np.zeros(row_count, dtype=np.int64)
        order = np.argsort(rows.day, kind="stable")
        days = rows.day[order]
        text = {}
        for column in names:
            if column in rows.cols:
                text[column] = format_column(rows.cols[column], types[column], offsets).take(pa.array(order))
            else:
                text[column] = pa.nulls(row_count, pa.string())
        table_text = pa.table(text)
        bad_by_day: dict[int, list[str]] = {}
        for bad_day, line in malformed:
            bad_by_day.setdefault(bad_day, []).append(line)
        split = int(np.searchsorted(days, self.mid))
        renamed = self.ref.renamed_from(table)
        for first, stop, after in ((0, split, False), (split, row_count, True)):
            if first == stop:
                continue
            cols = [
                column
                for column in names
                if after or not (table == "billing__invoice_lines" and column == "tax_minor")
            ]
            buffer = io.BytesIO()
            pacsv.write_csv(table_text.select(cols).slice(first, stop - first), buffer, CSV_OPTIONS)
            data = buffer.getvalue()
            # fields never hold a newline, so line i of the buffer is row first + i
            ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + 1
            starts = np.r_[0, ends[:-1]]
            part_days = days[first:stop]
            cuts = np.r_[0, np.flatnonzero(np.diff(part_days)) + 1, stop - first]
            for cut_start, cut_end in zip(cuts[:-1], cuts[1:], strict=True):
                day = int(part_days[cut_start])
                bad = "".join(line + "\n" for line in bad_by_day.pop(day, [])).encode()
                self._append(table, day, data[starts[cut_start] : ends[cut_end - 1]] + bad)
            if (renamed and not after) or (table == "billing__invoice_lines" and after):
                self.schema_change[table] = self.schema_change.get(table, 0) + (stop - first)
        for day, lines in sorted(bad_by_day.items()):
            self._append(table, day, "".join(line + "\n" for line in lines).encode())
        self.rows_written[table] = self.rows_written.get(table, 0) + row_count + len(malformed)


class KeyWriter:
    """Appends answer-key CSVs chunk by chunk."""

    def __init__(self, key_dir: Path):
        self.dir = Path(key_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.started: set[str] = set()

    def write(self, name: str, columns: dict) -> None:
        path = self.dir / f"{name}.csv"
        row_count = len(next(iter(columns.values()))) if columns else 0
        table = pa.table(
            {
                column: (
                    values
                    if isinstance(values, pa.Array | pa.ChunkedArray)
                    else pa.array(
                        np.asarray(values, dtype=object) if np.asarray(values).dtype == object else values
                    )
                ).cast(pa.string())
                for column, values in columns.items()
            }
        )
        first = name not in self.started
        with open(path, "wb" if first else "ab") as file:
            if first:
                file.write((",".join(columns) + "\n").encode())
                self.started.add(name)
            if row_count:
                pacsv.write_csv(table, file, CSV_OPTIONS)
