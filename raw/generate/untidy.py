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
    n = len(email)
    m = rng.random(n) < rate
    style = rng.integers(0, 3, n)
    upper = pc.utf8_upper(email)
    cap = pc.utf8_capitalize(email)
    spaced = pc.binary_join_element_wise(" ", email, "  ", "")
    varied = pc.if_else(pa.array(style == 0), upper, pc.if_else(pa.array(style == 1), cap, spaced))
    return pc.if_else(pa.array(m), varied, email), int(m.sum())


class Untidy:
    def __init__(self, rng, cfg: SimulationConfig, last_day: int):
        self.rng, self.cfg, self.last_day = rng, cfg, last_day
        self.counts: dict[tuple[str, str], int] = {}

    def count(self, kind: str, table: str, k: int) -> None:
        if k:
            self.counts[(kind, table)] = self.counts.get((kind, table), 0) + int(k)

    def apply(self, table: str, rows: Rows, types: dict) -> tuple[Rows, list[tuple[int, str]]]:
        """Returns the untidy rows and the malformed raw lines (day, text) for the table."""
        rng, cfg, n = self.rng, self.cfg, len(rows)
        if table in STATIC or n == 0:
            rows.off = np.zeros(n, dtype=np.int64)
            return rows, []
        extra = []
        if table == "crm__contacts":
            i = rng.choice(n, _n(cfg.unknown_code_rate, n), replace=False)
            ch = np.asarray(rows.cols["channel"], dtype=object).copy()
            ch[i] = "FAX"
            rows.cols["channel"] = ch
            self.count("unknown_code", table, len(i))
            extra.append(self._orphans(rows, "contact_id", {"customer_id": "CX", "case_id": "KX"}, table))
        if table == "billing__invoice_lines":
            e = rows.subset(rng.choice(n, _n(cfg.unknown_code_rate, n), replace=False))
            e.cols["invoice_line_id"] = pc.binary_join_element_wise(e.cols["invoice_line_id"], "-ADJ", "")
            for c in ("subscription_id", "fee_code", "promo_code"):
                e.cols[c] = np.full(len(e), None, dtype=object)
            e.cols["line_type"] = np.full(len(e), "ADJ", dtype=object)
            e.cols["description"] = np.full(len(e), "Rounding", dtype=object)
            e.cols["amount_minor"] = np.zeros(len(e), dtype=np.int64)
            e.cols["tax_minor"] = np.zeros(len(e), dtype=np.int64)
            self.count("unknown_code", table, len(e))
            extra.append(e)
        if table == "billing__payments":
            e = self._orphans(rows, "payment_id", {"invoice_id": "INVX"}, table)
            e.cols["status"] = np.full(len(e), "SUCCEEDED", dtype=object)
            e.cols["failure_code"] = np.full(len(e), None, dtype=object)
            extra.append(e)
        if table == "billing__accounts":
            extra.append(self._orphans(rows, "account_number", {"crm_customer_id": "CX"}, table))
        if table == "billing__invoices":
            i = rng.choice(n, _n(cfg.total_mismatch_rate, n), replace=False)
            total = np.asarray(rows.cols["total_minor"]).copy()
            total[i] += rng.integers(1, 500, len(i))
            rows.cols["total_minor"] = total
            self.count("total_mismatch", table, len(i))
        if table == "survey__responses":
            self.count(
                "out_of_range_score",
                table,
                int(np.sum(np.asarray(pc.starts_with(rows.cols["response_id"], "RX")))),
            )
        rows = Rows.concat([rows, *extra])
        n = len(rows)
        # late arrivals: a later day's folder, never beyond the last day
        late = rng.choice(n, _n(cfg.late_row_rate, n), replace=False)
        shift = rng.integers(1, 6, len(late))
        moved = np.minimum(rows.day[late] + shift, self.last_day)
        self.count("late_arrival", table, int(np.sum(moved > rows.day[late])))
        rows.day[late] = moved
        # mixed offsets: the same instant written in another zone (the row's copies keep its offset)
        has_ts = "TIMESTAMPTZ" in types.values()
        rows.off = np.where(
            (rng.random(n) < cfg.mixed_offset_rate) & has_ts, rng.integers(1, len(OFFSET_MINUTES), n), 0
        )
        self.count("mixed_offset", table, int(np.sum(rows.off != 0)))
        # duplicate deliveries: the identical row again, the same day or later
        dup = rows.subset(rng.choice(n, _n(cfg.duplicate_rate, n), replace=False))
        dup.day = np.minimum(dup.day + rng.integers(0, 4, len(dup)), self.last_day)
        self.count("duplicate", table, len(dup))
        out = Rows.concat([rows, dup]) if len(dup) else rows
        return out, self._malformed(table, rows, types)

    def _orphans(self, rows: Rows, id_col: str, broken: dict, table: str) -> Rows:
        n = len(rows)
        e = rows.subset(self.rng.choice(n, _n(self.cfg.orphan_rate, n), replace=False))
        e.cols[id_col] = pc.binary_join_element_wise(e.cols[id_col], "-O", "")
        for col, prefix in broken.items():
            e.cols[col] = pc.binary_join_element_wise(prefix, e.cols[id_col], "")
        if "promise_code" in e.cols:
            e.cols["promise_code"] = np.full(len(e), None, dtype=object)
            e.cols["wait_seconds"] = np.full(len(e), 30, dtype=np.int64)
            e.cols["transfer_count"] = np.zeros(len(e), dtype=np.int64)
        self.count("orphan_id", table, len(e))
        return e

    def _malformed(self, table: str, rows: Rows, types: dict) -> list[tuple[int, str]]:
        """Extra lines that cannot be parsed: a wrong field count, or a bad number or timestamp."""
        if table not in MALFORMED:
            return []
        id_col, col, bad = MALFORMED[table]
        n = len(rows)
        sub = rows.subset(np.sort(self.rng.choice(n, _n(self.cfg.malformed_rate, n), replace=False)))
        text = {
            c: format_column(sub.cols[c], t, sub.off).to_pylist() if c in sub.cols else [None] * len(sub)
            for c, t in types.items()
        }
        out = []
        for j in range(len(sub)):
            rid = f"{text[id_col][j]}-M"
            if bad is None or j % 2 == 0:
                out.append((int(sub.day[j]), f"{rid},broken line"))
            else:
                defuse = DEFUSE.get(table, {})
                fields = []
                for c in types:
                    v = rid if c == id_col else bad if c == col else _plain(text[c][j])
                    if c in defuse:
                        v = v + defuse[c] if defuse[c] == "-M" else defuse[c]
                    fields.append(v)
                out.append((int(sub.day[j]), ",".join(fields)))
        self.count("malformed_line", table, len(out))
        return out


def _plain(v) -> str:
    return "" if v is None else str(v).replace(",", " ").replace('"', "")
