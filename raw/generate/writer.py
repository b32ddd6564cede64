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


def utc_text(t: np.ndarray) -> pa.Array:
    """Instants as ISO 8601 UTC text with +00:00 (NULL stays NULL)."""
    return format_ts(np.asarray(t, dtype=np.int64), np.zeros(len(t), dtype=np.int64))


def format_ts(t: np.ndarray, off_idx: np.ndarray) -> pa.Array:
    mask = t == NULL
    minutes = np.asarray(OFFSET_MINUTES)[off_idx]
    local = np.where(mask, 0, t + minutes * 60).astype("datetime64[s]")
    # a cast renders "YYYY-MM-DD HH:MM:SS" far faster than strftime
    text = pc.replace_substring(pa.array(local, mask=mask).cast(pa.string()), " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(text, pa.array(OFFSET_TEXT[off_idx], pa.string()), "")


def format_column(values, duck_type: str, off_idx: np.ndarray) -> pa.Array:
    """One column as CSV text per its contract type."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.cast(pa.string())
    v = np.asarray(values)
    if duck_type == "TIMESTAMPTZ":
        return format_ts(v.astype(np.int64), off_idx)
    if duck_type == "DATE":
        mask = v == NULL
        return pa.array(np.where(mask, 0, v).astype("datetime64[D]"), mask=mask).cast(pa.string())
    if duck_type in ("BIGINT", "INTEGER") and v.dtype != object:
        return pa.array(v.astype(np.int64), mask=v == NULL).cast(pa.string())
    if duck_type == "BOOLEAN" and v.dtype == bool:
        return pa.array(np.where(v, "true", "false"), pa.string())
    return pa.array(v, pa.string(), from_pandas=True)


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
        n = len(rows)
        off = rows.off if rows.off is not None else np.zeros(n, dtype=np.int64)
        order = np.argsort(rows.day, kind="stable")
        days = rows.day[order]
        text = {}
        for c in names:
            if c in rows.cols:
                text[c] = format_column(rows.cols[c], types[c], off).take(pa.array(order))
            else:
                text[c] = pa.nulls(n, pa.string())
        table_text = pa.table(text)
        bad_by_day: dict[int, list[str]] = {}
        for d, line in malformed:
            bad_by_day.setdefault(d, []).append(line)
        split = int(np.searchsorted(days, self.mid))
        renamed = self.ref.renamed_from(table)
        for lo, hi, after in ((0, split, False), (split, n, True)):
            if lo == hi:
                continue
            cols = [c for c in names if after or not (table == "billing__invoice_lines" and c == "tax_minor")]
            buf = io.BytesIO()
            pacsv.write_csv(table_text.select(cols).slice(lo, hi - lo), buf, CSV_OPTIONS)
            data = buf.getvalue()
            # fields never hold a newline, so line i of the buffer is row lo + i
            ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + 1
            starts = np.r_[0, ends[:-1]]
            d = days[lo:hi]
            cuts = np.r_[0, np.flatnonzero(np.diff(d)) + 1, hi - lo]
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                day = int(d[a])
                bad = "".join(line + "\n" for line in bad_by_day.pop(day, [])).encode()
                self._append(table, day, data[starts[a] : ends[b - 1]] + bad)
            if (renamed and not after) or (table == "billing__invoice_lines" and after):
                self.schema_change[table] = self.schema_change.get(table, 0) + (hi - lo)
        for day, lines in sorted(bad_by_day.items()):
            self._append(table, day, "".join(line + "\n" for line in lines).encode())
        self.rows_written[table] = self.rows_written.get(table, 0) + n + len(malformed)


class KeyWriter:
    """Appends answer-key CSVs chunk by chunk."""

    def __init__(self, key_dir: Path):
        self.dir = Path(key_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.started: set[str] = set()

    def write(self, name: str, columns: dict) -> None:
        path = self.dir / f"{name}.csv"
        n = len(next(iter(columns.values()))) if columns else 0
        table = pa.table(
            {
                k: (
                    v
                    if isinstance(v, pa.Array | pa.ChunkedArray)
                    else pa.array(np.asarray(v, dtype=object) if np.asarray(v).dtype == object else v)
                ).cast(pa.string())
                for k, v in columns.items()
            }
        )
        first = name not in self.started
        with open(path, "wb" if first else "ab") as f:
            if first:
                f.write((",".join(columns) + "\n").encode())
                self.started.add(name)
            if n:
                pacsv.write_csv(table, f, CSV_OPTIONS)
