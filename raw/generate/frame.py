"""Column helpers: rows of one raw table for one chunk, kept as numpy / Arrow columns until written.

Times are int64 seconds since the Unix epoch (UTC), dates int64 days since the epoch; NULL is the int64
minimum. A row carries three hidden columns that decide whether and where it is written:
`_cust` (customer index in the chunk, -1 for none), `_finish` (the end of the causal chain the row belongs
to: the row is dropped when the customer defected before it; NULL = always kept) and `_t` (the instant the
row happened: it is written in that day's folder, and not at all after the last day).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL = np.iinfo(np.int64).min
MINUTE, HOUR, DAY = 60, 3600, 86400
WEEK = 7 * DAY
# boundary events per rule and chunk: each offset from the rule's threshold (just below, exactly at, just
# above) a few times, so that one lost to an early defection still leaves the others
BOUNDARY_OFFSETS = np.tile([-1, 0, 1], 5)


def spread(candidates: np.ndarray, count: int) -> np.ndarray:
    """`count` of the candidate indexes, evenly spread over them (over the whole chunk, not its start)."""
    return candidates[np.linspace(0, len(candidates) - 1, count).astype(np.int64)]


def ids(prefix: str, nums, width: int) -> pa.Array:
    """Zero-padded identifiers, e.g. ids("C", [7], 8) -> ["C00000007"]."""
    digits = pc.utf8_lpad(pa.array(np.asarray(nums, dtype=np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def pick(values, idx) -> np.ndarray:
    """values[idx] as an object array (vocabulary lookups for string columns)."""
    return np.asarray(values, dtype=object)[np.asarray(idx)]


def take(col, idx):
    idx = np.asarray(idx, dtype=np.int64)
    if isinstance(col, pa.Array | pa.ChunkedArray):
        return col.take(pa.array(idx))
    return np.asarray(col)[idx]


def concat(cols: list):
    if any(isinstance(column, pa.Array | pa.ChunkedArray) for column in cols):
        parts = []
        for column in cols:
            if isinstance(column, pa.ChunkedArray):
                parts.extend(column.chunks)
            elif isinstance(column, pa.Array):
                parts.append(column)
            else:
                parts.append(pa.array(column, type=pa.string()))
        return pa.concat_arrays([part.cast(pa.string()) for part in parts])
    return np.concatenate([np.asarray(column) for column in cols])


class Rows:
    """Rows of one table: named columns plus the hidden _cust, _finish, _t columns."""

    def __init__(self, cols: dict, cust, finish, instants):
        count = len(instants)
        self.cols = {}
        for name, values in cols.items():
            if np.isscalar(values) or values is None:
                values = np.full(
                    count,
                    values,
                    dtype=object if (values is None or isinstance(values, str)) else type(values),
                )
            self.cols[name] = values
        self.cust = np.broadcast_to(np.asarray(cust, dtype=np.int64), (count,)).copy()
        self.finish = np.broadcast_to(np.asarray(finish, dtype=np.int64), (count,)).copy()
        self.t = np.asarray(instants, dtype=np.int64)
        self.day = None  # export day index, set when the chunk is finalised
        self.off = None  # UTC offset (minutes) per row, set by untidiness

    def __len__(self):
        return len(self.t)

    def subset(self, idx) -> Rows:
        out = Rows.__new__(Rows)
        out.cols = {name: take(values, idx) for name, values in self.cols.items()}
        out.cust, out.finish, out.t = self.cust[idx], self.finish[idx], self.t[idx]
        out.day = None if self.day is None else self.day[idx]
        out.off = None if self.off is None else self.off[idx]
        return out

    @staticmethod
    def concat(parts: list[Rows]) -> Rows:
        parts = [part for part in parts if len(part)]
        if not parts:
            return Rows({}, [], [], [])
        names = list(parts[0].cols)
        out = Rows.__new__(Rows)
        out.cols = {}
        for name in names:
            out.cols[name] = concat(
                [
                    part.cols[name] if name in part.cols else np.full(len(part), None, dtype=object)
                    for part in parts
                ]
            )
        out.cust = np.concatenate([part.cust for part in parts])
        out.finish = np.concatenate([part.finish for part in parts])
        out.t = np.concatenate([part.t for part in parts])
        out.day = None if parts[0].day is None else np.concatenate([part.day for part in parts])
        out.off = None if parts[0].off is None else np.concatenate([part.off for part in parts])
        return out


class Sink:
    """Collects the rows of every table and the planted poor experiences of one chunk."""

    def __init__(self):
        self.tables: dict[str, list[Rows]] = {}
        self.poor: list[dict] = []
        self.boundary: list[dict] = []

    def emit(self, table: str, cust, finish, instants, **cols) -> None:
        self.tables.setdefault(table, []).append(Rows(cols, cust, finish, instants))

    def plant(self, rule_id: str, *, customers, occurred_at, table: str, evidence, finish, written) -> None:
        """One planted poor experience per element; kept in the key iff its evidence row is written (at
        `written`, by a chain that ends at `finish`)."""
        cust = np.asarray(customers, dtype=np.int64)
        if len(cust) == 0:
            return
        self.poor.append(
            dict(
                rule=rule_id,
                cust=cust,
                t=np.asarray(occurred_at, dtype=np.int64),
                table=table,
                evidence=evidence,
                finish=np.asarray(finish, dtype=np.int64),
                written=np.asarray(written, dtype=np.int64),
            )
        )

    def plant_boundary(
        self,
        rule_id: str,
        *,
        cust,
        table: str,
        evidence,
        value,
        threshold,
        unit: str,
        poor,
        finish,
        written,
    ) -> None:
        """Events whose rule value (in `unit`) sits at or next to the rule's threshold (one figure, or one
        per event when it depends on the event, as an overcharge's limit on the agreed price); `poor` is the
        outcome the rule's comparison gives (the poor ones are also planted with `plant`); kept in the key
        like planted ones."""
        self.boundary.append(
            dict(
                rule=rule_id,
                cust=np.asarray(cust, dtype=np.int64),
                table=table,
                evidence=evidence,
                value=np.asarray(value, dtype=np.int64),
                threshold=np.broadcast_to(np.asarray(threshold, dtype=np.float64), (len(cust),)),
                unit=unit,
                poor=np.asarray(poor, dtype=bool),
                finish=np.asarray(finish, dtype=np.int64),
                written=np.asarray(written, dtype=np.int64),
            )
        )

    def poor_times(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(cust, t, finish, group) of every planted poor experience so far; group indexes self.poor."""
        if not self.poor:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, empty
        cust = np.concatenate([planted["cust"] for planted in self.poor])
        occurred_at = np.concatenate([planted["t"] for planted in self.poor])
        chain_finish = np.concatenate(
            [np.maximum(planted["finish"], planted["written"]) for planted in self.poor]
        )
        group = np.repeat(np.arange(len(self.poor)), [len(planted["cust"]) for planted in self.poor])
        return cust, occurred_at, chain_finish, group
