"""Untidiness: what real exports do to rows. Never changes the truth (see docs/generator.md).

Duplicates and late arrivals copy or move real rows; offsets and e-mail formats are cosmetic; orphans,
malformed lines, unknown codes on extra rows and out-of-range scores are extra rows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import SimulationConfig
from .frame import Rows
from .writer import OFFSET_MINUTES, format_column

# table -> (id column, column to break, how)
MALFORMED = {
    "crm__contacts": ("contact_id", "wait_seconds", "12s"),
    "billing__invoices": ("invoice_id", "total_minor", "1O99"),
    "billing__payments": ("payment_id", "attempted_at", "2024-02-30T25:61:00+00:00"),
    "survey__responses": ("response_id", "score", None),
    "crm__customers": ("customer_id", "signed_up_at", "yesterday"),
}
# fields overwritten in a malformed line, so that even a lenient loader could not make a rule fire with it
DEFUSE = {
    "crm__contacts": {"case_id": "-M", "promise_code": "", "promise_due_at": "", "transfer_count": "0"},
    "billing__payments": {"status": "SUCCEEDED", "failure_code": ""},
    "crm__customers": {"email": ""},
}
STATIC = {"crm__campaigns", "survey__surveys"}


def _n(rate: float, rows: int) -> int:
    """At least one when there are rows, so a small company shows every kind."""
    return int(np.ceil(rate * rows)) if rows else 0


def email_variant(rng, email: pa.Array, rate: float) -> tuple[pa.Array, int]:
    """Some addresses typed in another case and with spaces around them."""
    count = len(email)
    retyped = rng.random(count) < rate
    style = rng.integers(0, 3, count)
    upper = pc.utf8_upper(email)
    capitalized = pc.utf8_capitalize(email)
    spaced = pc.binary_join_element_wise(" ", email, "  ", "")
    varied = pc.if_else(pa.array(style == 0), upper, pc.if_else(pa.array(style == 1), capitalized, spaced))
    return pc.if_else(pa.array(retyped), varied, email), int(retyped.sum())


class Untidy:
    def __init__(self, rng, cfg: SimulationConfig, last_day: int):
        self.rng, self.cfg, self.last_day = rng, cfg, last_day
        self.counts: dict[tuple[str, str], int] = {}

    def count(self, kind: str, table: str, rows: int) -> None:
        if rows:
            self.counts[(kind, table)] = self.counts.get((kind, table), 0) + int(rows)

    def apply(self, table: str, rows: Rows, types: dict) -> tuple[Rows, list[tuple[int, str]]]:
        """Returns the untidy rows and the malformed raw lines (day, text) for the table."""
        rng, cfg, row_count = self.rng, self.cfg, len(rows)
        if table in STATIC or row_count == 0:
            rows.off = np.zeros(row_count, dtype=np.int64)
            return rows, []
        extra = []
        if table == "crm__contacts":
            picked = rng.choice(row_count, _n(cfg.unknown_code_rate, row_count), replace=False)
            channels = np.asarray(rows.cols["channel"], dtype=object).copy()
            channels[picked] = "FAX"
            rows.cols["channel"] = channels
            self.count("unknown_code", table, len(picked))
            extra.append(self._orphans(rows, "contact_id", {"customer_id": "CX", "case_id": "KX"}, table))
        if table == "billing__invoice_lines":
            extra_rows = rows.subset(
                rng.choice(row_count, _n(cfg.unknown_code_rate, row_count), replace=False)
            )
            extra_rows.cols["invoice_line_id"] = pc.binary_join_element_wise(
                extra_rows.cols["invoice_line_id"], "-ADJ", ""
            )
            for c in ("subscription_id", "fee_code", "promo_code"):
                extra_rows.cols[c] = np.full(len(extra_rows), None, dtype=object)
            extra_rows.cols["line_type"] = np.full(len(extra_rows), "ADJ", dtype=object)
            extra_rows.cols["description"] = np.full(len(extra_rows), "Rounding", dtype=object)
            extra_rows.cols["amount_minor"] = np.zeros(len(extra_rows), dtype=np.int64)
            extra_rows.cols["tax_minor"] = np.zeros(len(extra_rows), dtype=np.int64)
            self.count("unknown_code", table, len(extra_rows))
            extra.append(extra_rows)
        if table == "billing__payments":
            extra_rows = self._orphans(rows, "payment_id", {"invoice_id": "INVX"}, table)
            extra_rows.cols["status"] = np.full(len(extra_rows), "SUCCEEDED", dtype=object)
            extra_rows.cols["failure_code"] = np.full(len(extra_rows), None, dtype=object)
            extra.append(extra_rows)
        if table == "billing__accounts":
            extra.append(self._orphans(rows, "account_number", {"crm_customer_id": "CX"}, table))
        if table == "billing__invoices":
            picked = rng.choice(row_count, _n(cfg.total_mismatch_rate, row_count), replace=False)
            total = np.asarray(rows.cols["total_minor"]).copy()
            total[picked] += rng.integers(1, 500, len(picked))
            rows.cols["total_minor"] = total
            self.count("total_mismatch", table, len(picked))
        if table == "survey__responses":
            self.count(
                "out_of_range_score",
                table,
                int(np.sum(np.asarray(pc.starts_with(rows.cols["response_id"], "RX")))),
            )
        rows = Rows.concat([rows, *extra])
        row_count = len(rows)
        # late arrivals: a later day's folder, never beyond the last day
        late = rng.choice(row_count, _n(cfg.late_row_rate, row_count), replace=False)
        shift = rng.integers(1, 6, len(late))
        moved = np.minimum(rows.day[late] + shift, self.last_day)
        self.count("late_arrival", table, int(np.sum(moved > rows.day[late])))
        rows.day[late] = moved
        # mixed offsets: the same instant written in another zone (the row's copies keep its offset)
        has_ts = "TIMESTAMPTZ" in types.values()
        rows.off = np.where(
            (rng.random(row_count) < cfg.mixed_offset_rate) & has_ts,
            rng.integers(1, len(OFFSET_MINUTES), row_count),
            0,
        )
        self.count("mixed_offset", table, int(np.sum(rows.off != 0)))
        # duplicate deliveries: the identical row again, the same day or later
        duplicates = rows.subset(rng.choice(row_count, _n(cfg.duplicate_rate, row_count), replace=False))
        duplicates.day = np.minimum(duplicates.day + rng.integers(0, 4, len(duplicates)), self.last_day)
        self.count("duplicate", table, len(duplicates))
        out = Rows.concat([rows, duplicates]) if len(duplicates) else rows
        return out, self._malformed(table, rows, types)

    def _orphans(self, rows: Rows, id_col: str, broken: dict, table: str) -> Rows:
        row_count = len(rows)
        orphans = rows.subset(self.rng.choice(row_count, _n(self.cfg.orphan_rate, row_count), replace=False))
        orphans.cols[id_col] = pc.binary_join_element_wise(orphans.cols[id_col], "-O", "")
        for col, prefix in broken.items():
            orphans.cols[col] = pc.binary_join_element_wise(prefix, orphans.cols[id_col], "")
        if "promise_code" in orphans.cols:
            orphans.cols["promise_code"] = np.full(len(orphans), None, dtype=object)
            orphans.cols["wait_seconds"] = np.full(len(orphans), 30, dtype=np.int64)
            orphans.cols["transfer_count"] = np.zeros(len(orphans), dtype=np.int64)
        self.count("orphan_id", table, len(orphans))
        return orphans

    def _malformed(self, table: str, rows: Rows, types: dict) -> list[tuple[int, str]]:
        """Extra lines that cannot be parsed: a wrong field count, or a bad number or timestamp."""
        if table not in MALFORMED:
            return []
        id_col, bad_column, bad_value = MALFORMED[table]
        row_count = len(rows)
        malformed = rows.subset(
            np.sort(self.rng.choice(row_count, _n(self.cfg.malformed_rate, row_count), replace=False))
        )
        text = {
            c: format_column(malformed.cols[c], t, malformed.off).to_pylist()
            if c in malformed.cols
            else [None] * len(malformed)
            for c, t in types.items()
        }
        out = []
        for position in range(len(malformed)):
            row_id = f"{text[id_col][position]}-M"
            if bad_value is None or position % 2 == 0:
                out.append((int(malformed.day[position]), f"{row_id},broken line"))
            else:
                defuse = DEFUSE.get(table, {})
                fields = []
                for c in types:
                    field = (
                        row_id if c == id_col else bad_value if c == bad_column else _plain(text[c][position])
                    )
                    if c in defuse:
                        field = field + defuse[c] if defuse[c] == "-M" else defuse[c]
                    fields.append(field)
                out.append((int(malformed.day[position]), ",".join(fields)))
        self.count("malformed_line", table, len(out))
        return out


def _plain(value) -> str:
    return "" if value is None else str(value).replace(",", " ").replace('"', "")
