"""Billing: accounts, monthly invoices, lines, payments, adjustments; planted billing poor experiences.

Billing is planned before the defection is simulated (the poor experiences feed the defection hazard) and
written after it (an invoice exists only while a subscription is active on the invoice date).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pyarrow as pa

from .config import SimulationConfig
from .frame import BOUNDARY_OFFSETS, DAY, HOUR, MINUTE, NULL, Sink, ids, pick, spread
from .sales import Period

CUSTOMER_CODES = ["INSUFFICIENT_FUNDS", "CARD_EXPIRED"]
EQUIPMENT_MINOR, ACTIVATION_MINOR = 4900, 1999
# line numbers inside an invoice: 0-3 recurring per subscription slot, then fixed kinds
PROMO_LINE, EQUIPMENT_LINE, ACTIVATION_LINE, FEE_LINE, ADJ_LINE = 4, 5, 6, 8, 9


def line_ids(inv_num, line_no):
    return ids("L", np.asarray(inv_num) * 16 + line_no, 13)


def invoice_ids(inv_num):
    return ids("INV", inv_num, 11)


def payment_ids(inv_num, attempt):
    return ids("P", np.asarray(inv_num) * 4 + attempt, 12)


def _random_valid_j(rng, ok_row: np.ndarray, min_j: np.ndarray) -> np.ndarray:
    """A random candidate invoice index >= min_j per row (-1 when none)."""
    cols = np.arange(ok_row.shape[1])[None, :]
    ok = ok_row & (cols >= min_j[:, None])
    count = ok.sum(axis=1)
    r = (rng.random(len(count)) * count).astype(np.int64)
    cum = np.cumsum(ok, axis=1)
    j = (cum <= r[:, None]).sum(axis=1)
    return np.where(count > 0, j, -1)


def plan(rng, s, period: Period, cfg: SimulationConfig, company_codes: list[str], sink: Sink):
    """Choose the planted billing events on candidate invoices and plant their poor experiences."""
    n = s.n
    b = SimpleNamespace()
    has_first = s.first_j >= 0
    fj = np.maximum(s.first_j, 0)
    first_t = s.inv_t[np.arange(n), fj]
    b.promo_missing = s.promo & has_first & (rng.random(n) < cfg.promo_not_applied_rate)
    c = np.flatnonzero(b.promo_missing)
    sink.plant(
        "promo_not_applied",
        customers=c,
        occurred_at=first_t[c],
        table="billing__invoices",
        evidence=invoice_ids(s.inv_num[c, fj[c]]),
        finish=first_t[c],
        written=first_t[c],
    )

    b.over_j = np.where(rng.random(n) < cfg.overcharge_rate, _random_valid_j(rng, s.inv_ok, fj), -1)
    # an overcharge is 15-45 points above the percentage the seed's rule tolerates
    tolerated = s.thresholds["overcharge"]
    b.over_f = rng.uniform(1 + (tolerated + 15) / 100, 1 + (tolerated + 45) / 100, n)
    c = np.flatnonzero(b.over_j >= 0)
    t = s.inv_t[c, b.over_j[c]]
    sink.plant(
        "overcharge",
        customers=c,
        occurred_at=t,
        table="billing__invoice_lines",
        evidence=line_ids(s.inv_num[c, b.over_j[c]], 0),
        finish=t,
        written=t,
    )

    # boundary events: a few customers without an overcharge are charged on their first invoice one minor
    # unit below, exactly at and one above the largest amount the seed's tolerance allows on the agreed
    # price (the amount is set when the invoice is written, on the price then agreed); only the one above
    # is an overcharge (the rule's comparison is >)
    b.boundary_j = np.full(n, -1)
    b.boundary_offset = np.zeros(n, dtype=np.int64)
    uncharged = np.flatnonzero(has_first & (b.over_j < 0))
    if cfg.overcharge_rate > 0 and len(uncharged) >= len(BOUNDARY_OFFSETS):
        at = spread(uncharged, len(BOUNDARY_OFFSETS))
        b.boundary_j[at] = fj[at]
        b.boundary_offset[at] = BOUNDARY_OFFSETS
        c = at[BOUNDARY_OFFSETS > 0]
        sink.plant(
            "overcharge",
            customers=c,
            occurred_at=first_t[c],
            table="billing__invoice_lines",
            evidence=line_ids(s.inv_num[c, fj[c]], 0),
            finish=first_t[c],
            written=first_t[c],
        )

    b.fail_j = np.where(
        rng.random(n) < cfg.company_payment_failure_rate, _random_valid_j(rng, s.inv_ok, fj), -1
    )
    b.fail_code = pick(company_codes, rng.integers(0, len(company_codes), n))
    # bad payers stop paying from invoice jb on and are cancelled after the third unpaid invoice
    b.bad_j = np.where(rng.random(n) < cfg.bad_payer_rate, _random_valid_j(rng, s.inv_ok, fj + 1), -1)
    b.fail_j = np.where((b.bad_j >= 0) & (b.fail_j >= b.bad_j), -1, b.fail_j)
    c = np.flatnonzero(b.fail_j >= 0)
    inv_t = s.inv_t[c, b.fail_j[c]]
    at = inv_t + 14 * DAY + s.pay_h[c, b.fail_j[c]]
    sink.plant(
        "company_payment_failure",
        customers=c,
        occurred_at=at,
        table="billing__payments",
        evidence=payment_ids(s.inv_num[c, b.fail_j[c]], 0),
        finish=inv_t,
        written=at,
    )

    third = b.bad_j + 2
    valid3 = (b.bad_j >= 0) & (third < s.inv_ok.shape[1])
    valid3 &= s.inv_ok[np.arange(n), np.minimum(np.maximum(third, 0), s.inv_ok.shape[1] - 1)]
    t3 = s.inv_t[np.arange(n), np.clip(third, 0, s.inv_ok.shape[1] - 1)]
    b.invol_at = np.where(valid3, t3 + (14 + 3 + 2) * DAY + 10 * HOUR, NULL)
    b.invol_at = np.where(b.invol_at < period.te, b.invol_at, NULL)
    b.cust_fail = rng.random(s.inv_ok.shape) < cfg.customer_payment_failure_rate
    b.cust_code = pick(CUSTOMER_CODES, rng.integers(0, 2, s.inv_ok.shape))
    return b


def write(rng, s, *, billing_plan, fees, period: Period, cfg: SimulationConfig, sink: Sink, plans) -> None:
    """Accounts, invoices, lines, payments, goodwill, given the final subscription intervals (s.start/end)."""
    n, m = s.n, s.inv_ok.shape[1]
    cust = np.arange(n)
    opened = s.signup + 5 * MINUTE
    sink.emit(
        "billing__accounts",
        cust,
        NULL,
        opened,
        account_number=s.account,
        crm_customer_id=s.cid,
        billing_email=s.billing_email,
        currency="EUR",
        opened_at=opened,
        updated_at=opened,
    )

    T = s.inv_t[:, :, None]
    active = s.has[:, None, :] & (s.start[:, None, :] <= T) & (s.end[:, None, :] > T)
    in_period = (s.inv_day < period.day0 + period.days)[:, :, None]
    active &= in_period
    exists = active.any(axis=2)
    ep1 = active[:, :, :3].any(axis=2)
    price = np.where(s.change_at[:, None, :] <= T, s.price_after[:, None, :], s.price[:, None, :])
    ii, jj = np.nonzero(exists)
    inv_num = s.inv_num[ii, jj]

    lines = []  # (invoice row index, line no, line_type, subscription slot or -1, fee, promo, desc, amount)

    def add(rows, line_no, line_type, slot, amount, fee=None, promo=None, desc=None):
        lines.append((rows, np.full(len(rows), line_no), line_type, slot, amount, fee, promo, desc))

    row_of = np.full((n, m), -1)
    row_of[ii, jj] = np.arange(len(ii))
    for k in range(4):
        a = active[ii, jj, k]
        r = np.flatnonzero(a)
        amt = price[ii[r], jj[r], k]
        if k == 0:
            over = jj[r] == billing_plan.over_j[ii[r]]
            agreed = amt
            amt = np.where(over, np.round(agreed * billing_plan.over_f[ii[r]]).astype(np.int64), agreed)
            edge = np.flatnonzero(jj[r] == billing_plan.boundary_j[ii[r]])
            limit = agreed[edge] * (100 + s.thresholds["overcharge"]) / 100
            offset = billing_plan.boundary_offset[ii[r[edge]]]
            amt[edge] = np.floor(limit).astype(np.int64) + offset
            sink.plant_boundary(
                "overcharge",
                cust=ii[r[edge]],
                table="billing__invoice_lines",
                evidence=line_ids(inv_num[r[edge]], 0),
                value=amt[edge],
                threshold=limit,
                unit="minor units charged (limit: the agreed price plus the threshold's percent)",
                poor=offset > 0,
                finish=s.inv_t[ii[r[edge]], jj[r[edge]]],
                written=s.inv_t[ii[r[edge]], jj[r[edge]]],
            )
        add(r, k, "RECURRING", np.full(len(r), k), amt, desc="Monthly charge")
    first = ep1[ii, jj] & (jj == s.first_j[ii])
    promo_months = (jj >= s.first_j[ii]) & (jj < s.first_j[ii] + cfg.promo_months) & active[ii, jj, 0]
    promo = s.promo[ii] & promo_months & ~(first & billing_plan.promo_missing[ii])
    r = np.flatnonzero(promo)
    add(
        r,
        PROMO_LINE,
        "PROMO",
        np.zeros(len(r), dtype=int),
        -(s.price[ii[r], 0] // 2),
        promo=s.promo_code[ii[r]],
        desc="Welcome discount",
    )
    r = np.flatnonzero(first)
    add(r, EQUIPMENT_LINE, "EQUIPMENT", np.full(len(r), -1), np.full(len(r), EQUIPMENT_MINOR), desc="Router")
    add(
        r,
        ACTIVATION_LINE,
        "ONE_TIME_FEE",
        np.full(len(r), -1),
        np.full(len(r), ACTIVATION_MINOR),
        fee="ACTIVATION",
        desc="Activation",
    )
    fr = row_of[fees.cust, fees.j]
    fr = fr[(fr >= 0)]
    fr = fr[ep1[ii[fr], jj[fr]]]
    add(
        fr,
        FEE_LINE,
        "ONE_TIME_FEE",
        np.full(len(fr), -1),
        np.full(len(fr), cfg.visit_fee_minor),
        fee="VISIT_FEE",
        desc="Technician visit",
    )

    rows = np.concatenate([x[0] for x in lines])
    line_no = np.concatenate([x[1] for x in lines])
    order = np.lexsort((line_no, rows))
    rows, line_no = rows[order], line_no[order]

    def col(i, fill):
        parts = []
        for x in lines:
            v = x[i]
            parts.append(np.full(len(x[0]), v, dtype=object) if v is None or isinstance(v, str) else v)
        return np.concatenate(parts)[order] if parts else np.array([], dtype=object)

    ltype, slot, amount = col(2, None), col(3, -1).astype(np.int64), col(4, 0).astype(np.int64)
    fee, promo_code, desc = col(5, None), col(6, None), col(7, None)
    total = np.bincount(rows, weights=amount, minlength=len(ii)).astype(np.int64)
    inv_t = s.inv_t[ii, jj]
    sub_ids = np.where(slot >= 0, s.sub_num[ii[rows], np.maximum(slot, 0)], NULL)
    sub_col = ids("S", np.maximum(sub_ids, 0), 9)
    sub_col = pa.array(np.where(slot >= 0, np.asarray(sub_col, dtype=object), None), pa.string())
    sink.emit(
        "billing__invoice_lines",
        ii[rows],
        NULL,
        inv_t[rows],
        invoice_line_id=line_ids(inv_num[rows], line_no),
        invoice_id=invoice_ids(inv_num[rows]),
        line_type=ltype,
        subscription_id=sub_col,
        fee_code=fee,
        promo_code=promo_code,
        description=desc,
        amount_minor=amount,
        tax_minor=np.round(amount * 0.21).astype(np.int64),
    )
    inv_day = s.inv_day[ii, jj]
    period_end = np.hstack([s.inv_day[:, 1:], s.inv_day[:, -1:] + 30])[ii, jj] - 1
    sink.emit(
        "billing__invoices",
        ii,
        NULL,
        inv_t,
        invoice_id=invoice_ids(inv_num),
        account_number=s.account.take(ii),
        invoice_date=inv_day,
        period_start=inv_day,
        period_end=period_end,
        due_date=inv_day + 14,
        total_minor=total,
        currency="EUR",
    )

    # payments: one attempt on the due date, a retry when it failed
    at = inv_t + 14 * DAY + s.pay_h[ii, jj]
    bad = ep1[ii, jj] & (billing_plan.bad_j[ii] >= 0) & (jj >= billing_plan.bad_j[ii])
    company = ep1[ii, jj] & (jj == billing_plan.fail_j[ii]) & ~bad
    customer = billing_plan.cust_fail[ii, jj] & ~bad & ~company
    failed = bad | company | customer
    customer_code = np.where(bad | customer, billing_plan.cust_code[ii, jj], None)
    code = np.where(company, billing_plan.fail_code[ii], customer_code)
    retry_at = at + np.where(company, rng.integers(2, 6, len(ii)) * DAY, 3 * DAY)
    r = np.flatnonzero(failed)
    sink.emit(
        "billing__payments",
        np.concatenate([ii, ii[r]]),
        NULL,
        np.concatenate([at, retry_at[r]]),
        payment_id=pa.concat_arrays([payment_ids(inv_num, 0), payment_ids(inv_num[r], 1)]),
        account_number=s.account.take(np.concatenate([ii, ii[r]])),
        invoice_id=invoice_ids(np.concatenate([inv_num, inv_num[r]])),
        attempted_at=np.concatenate([at, retry_at[r]]),
        amount_minor=np.concatenate([total, total[r]]),
        currency="EUR",
        status=np.concatenate(
            [np.where(failed, "FAILED", "SUCCEEDED"), np.where(bad[r], "FAILED", "SUCCEEDED")]
        ),
        failure_code=np.concatenate([code, np.where(bad[r], code[r], None)]),
    )

    g = np.flatnonzero(rng.random(n) < cfg.goodwill_rate)
    when = s.signup[g] + (rng.random(len(g)) * (period.te - s.signup[g])).astype(np.int64)
    sink.emit(
        "billing__adjustments",
        g,
        when,
        when,
        adjustment_id=ids("ADJG", s.gid[g], 9),
        account_number=s.account.take(g),
        invoice_id=None,
        created_at=when,
        amount_minor=-rng.integers(500, 2000, len(g)),
        currency="EUR",
        reason_code="GOODWILL",
    )
    s.invoices = SimpleNamespace(cust=ii, num=inv_num, t=inv_t)
