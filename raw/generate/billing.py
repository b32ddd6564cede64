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
    valid = ok_row & (cols >= min_j[:, None])
    count = valid.sum(axis=1)
    draw = (rng.random(len(count)) * count).astype(np.int64)
    running = np.cumsum(valid, axis=1)
    chosen = (running <= draw[:, None]).sum(axis=1)
    return np.where(count > 0, chosen, -1)


def plan(rng, chunk, period: Period, cfg: SimulationConfig, company_codes: list[str], sink: Sink):
    """Choose the planted billing events on candidate invoices and plant their poor experiences."""
    count = chunk.n
    billing = SimpleNamespace()
    has_first = chunk.first_j >= 0
    first_j = np.maximum(chunk.first_j, 0)
    first_t = chunk.inv_t[np.arange(count), first_j]
    billing.promo_missing = chunk.promo & has_first & (rng.random(count) < cfg.promo_not_applied_rate)
    customers = np.flatnonzero(billing.promo_missing)
    sink.plant(
        "promo_not_applied",
        customers=customers,
        occurred_at=first_t[customers],
        table="billing__invoices",
        evidence=invoice_ids(chunk.inv_num[customers, first_j[customers]]),
        finish=first_t[customers],
        written=first_t[customers],
    )

    billing.over_j = np.where(
        rng.random(count) < cfg.overcharge_rate, _random_valid_j(rng, chunk.inv_ok, first_j), -1
    )
    # an overcharge is 15-45 points above the percentage the seed's rule tolerates
    tolerated = chunk.thresholds["overcharge"]
    billing.over_f = rng.uniform(1 + (tolerated + 15) / 100, 1 + (tolerated + 45) / 100, count)
    customers = np.flatnonzero(billing.over_j >= 0)
    invoiced_at = chunk.inv_t[customers, billing.over_j[customers]]
    sink.plant(
        "overcharge",
        customers=customers,
        occurred_at=invoiced_at,
        table="billing__invoice_lines",
        evidence=line_ids(chunk.inv_num[customers, billing.over_j[customers]], 0),
        finish=invoiced_at,
        written=invoiced_at,
    )

    # boundary events: a few customers without an overcharge are charged on their first invoice one minor
    # unit below, exactly at and one above the largest amount the seed's tolerance allows on the agreed
    # price (the amount is set when the invoice is written, on the price then agreed); only the one above
    # is an overcharge (the rule's comparison is >)
    billing.boundary_j = np.full(count, -1)
    billing.boundary_offset = np.zeros(count, dtype=np.int64)
    uncharged = np.flatnonzero(has_first & (billing.over_j < 0))
    if cfg.overcharge_rate > 0 and len(uncharged) >= len(BOUNDARY_OFFSETS):
        boundary_customers = spread(uncharged, len(BOUNDARY_OFFSETS))
        billing.boundary_j[boundary_customers] = first_j[boundary_customers]
        billing.boundary_offset[boundary_customers] = BOUNDARY_OFFSETS
        customers = boundary_customers[BOUNDARY_OFFSETS > 0]
        sink.plant(
            "overcharge",
            customers=customers,
            occurred_at=first_t[customers],
            table="billing__invoice_lines",
            evidence=line_ids(chunk.inv_num[customers, first_j[customers]], 0),
            finish=first_t[customers],
            written=first_t[customers],
        )

    billing.fail_j = np.where(
        rng.random(count) < cfg.company_payment_failure_rate, _random_valid_j(rng, chunk.inv_ok, first_j), -1
    )
    billing.fail_code = pick(company_codes, rng.integers(0, len(company_codes), count))
    # bad payers stop paying from invoice jb on and are cancelled after the third unpaid invoice
    billing.bad_j = np.where(
        rng.random(count) < cfg.bad_payer_rate, _random_valid_j(rng, chunk.inv_ok, first_j + 1), -1
    )
    billing.fail_j = np.where((billing.bad_j >= 0) & (billing.fail_j >= billing.bad_j), -1, billing.fail_j)
    customers = np.flatnonzero(billing.fail_j >= 0)
    inv_t = chunk.inv_t[customers, billing.fail_j[customers]]
    attempted_at = inv_t + 14 * DAY + chunk.pay_h[customers, billing.fail_j[customers]]
    sink.plant(
        "company_payment_failure",
        customers=customers,
        occurred_at=attempted_at,
        table="billing__payments",
        evidence=payment_ids(chunk.inv_num[customers, billing.fail_j[customers]], 0),
        finish=inv_t,
        written=attempted_at,
    )

    third = billing.bad_j + 2
    valid3 = (billing.bad_j >= 0) & (third < chunk.inv_ok.shape[1])
    valid3 &= chunk.inv_ok[np.arange(count), np.minimum(np.maximum(third, 0), chunk.inv_ok.shape[1] - 1)]
    third_invoiced_at = chunk.inv_t[np.arange(count), np.clip(third, 0, chunk.inv_ok.shape[1] - 1)]
    billing.invol_at = np.where(valid3, third_invoiced_at + (14 + 3 + 2) * DAY + 10 * HOUR, NULL)
    billing.invol_at = np.where(billing.invol_at < period.te, billing.invol_at, NULL)
    billing.cust_fail = rng.random(chunk.inv_ok.shape) < cfg.customer_payment_failure_rate
    billing.cust_code = pick(CUSTOMER_CODES, rng.integers(0, 2, chunk.inv_ok.shape))
    return billing


def write(
    rng, chunk, *, billing_plan, fees, period: Period, cfg: SimulationConfig, sink: Sink, plans
) -> None:
    """Accounts, invoices, lines, payments, goodwill, given the final subscription intervals (s.start/end)."""
    count, invoice_slots = chunk.n, chunk.inv_ok.shape[1]
    cust = np.arange(count)
    opened = chunk.signup + 5 * MINUTE
    sink.emit(
        "billing__accounts",
        cust,
        NULL,
        opened,
        account_number=chunk.account,
        crm_customer_id=chunk.cid,
        billing_email=chunk.billing_email,
        currency="EUR",
        opened_at=opened,
        updated_at=opened,
    )

    invoice_times = chunk.inv_t[:, :, None]
    active = (
        chunk.has[:, None, :]
        & (chunk.start[:, None, :] <= invoice_times)
        & (chunk.end[:, None, :] > invoice_times)
    )
    in_period = (chunk.inv_day < period.day0 + period.days)[:, :, None]
    active &= in_period
    exists = active.any(axis=2)
    broadband_active = active[:, :, :3].any(axis=2)
    price = np.where(
        chunk.change_at[:, None, :] <= invoice_times, chunk.price_after[:, None, :], chunk.price[:, None, :]
    )
    invoice_customers, invoice_positions = np.nonzero(exists)
    inv_num = chunk.inv_num[invoice_customers, invoice_positions]

    lines = []  # (invoice row index, line no, line_type, subscription slot or -1, fee, promo, desc, amount)

    def add(rows, line_no, line_type, slot, amount, fee=None, promo=None, desc=None):
        lines.append((rows, np.full(len(rows), line_no), line_type, slot, amount, fee, promo, desc))

    row_of = np.full((count, invoice_slots), -1)
    row_of[invoice_customers, invoice_positions] = np.arange(len(invoice_customers))
    for subscription_slot in range(4):
        slot_active = active[invoice_customers, invoice_positions, subscription_slot]
        picked = np.flatnonzero(slot_active)
        line_amount = price[invoice_customers[picked], invoice_positions[picked], subscription_slot]
        if subscription_slot == 0:
            over = invoice_positions[picked] == billing_plan.over_j[invoice_customers[picked]]
            agreed = line_amount
            line_amount = np.where(
                over,
                np.round(agreed * billing_plan.over_f[invoice_customers[picked]]).astype(np.int64),
                agreed,
            )
            edge = np.flatnonzero(
                invoice_positions[picked] == billing_plan.boundary_j[invoice_customers[picked]]
            )
            limit = agreed[edge] * (100 + chunk.thresholds["overcharge"]) / 100
            offset = billing_plan.boundary_offset[invoice_customers[picked[edge]]]
            line_amount[edge] = np.floor(limit).astype(np.int64) + offset
            sink.plant_boundary(
                "overcharge",
                cust=invoice_customers[picked[edge]],
                table="billing__invoice_lines",
                evidence=line_ids(inv_num[picked[edge]], 0),
                value=line_amount[edge],
                threshold=limit,
                unit="minor units charged (limit: the agreed price plus the threshold's percent)",
                poor=offset > 0,
                finish=chunk.inv_t[invoice_customers[picked[edge]], invoice_positions[picked[edge]]],
                written=chunk.inv_t[invoice_customers[picked[edge]], invoice_positions[picked[edge]]],
            )
        add(
            picked,
            subscription_slot,
            "RECURRING",
            np.full(len(picked), subscription_slot),
            line_amount,
            desc="Monthly charge",
        )
    first = broadband_active[invoice_customers, invoice_positions] & (
        invoice_positions == chunk.first_j[invoice_customers]
    )
    promo_months = (
        (invoice_positions >= chunk.first_j[invoice_customers])
        & (invoice_positions < chunk.first_j[invoice_customers] + cfg.promo_months)
        & active[invoice_customers, invoice_positions, 0]
    )
    promo = (
        chunk.promo[invoice_customers]
        & promo_months
        & ~(first & billing_plan.promo_missing[invoice_customers])
    )
    picked = np.flatnonzero(promo)
    add(
        picked,
        PROMO_LINE,
        "PROMO",
        np.zeros(len(picked), dtype=int),
        -(chunk.price[invoice_customers[picked], 0] // 2),
        promo=chunk.promo_code[invoice_customers[picked]],
        desc="Welcome discount",
    )
    picked = np.flatnonzero(first)
    add(
        picked,
        EQUIPMENT_LINE,
        "EQUIPMENT",
        np.full(len(picked), -1),
        np.full(len(picked), EQUIPMENT_MINOR),
        desc="Router",
    )
    add(
        picked,
        ACTIVATION_LINE,
        "ONE_TIME_FEE",
        np.full(len(picked), -1),
        np.full(len(picked), ACTIVATION_MINOR),
        fee="ACTIVATION",
        desc="Activation",
    )
    fee_rows = row_of[fees.cust, fees.j]
    fee_rows = fee_rows[(fee_rows >= 0)]
    fee_rows = fee_rows[broadband_active[invoice_customers[fee_rows], invoice_positions[fee_rows]]]
    add(
        fee_rows,
        FEE_LINE,
        "ONE_TIME_FEE",
        np.full(len(fee_rows), -1),
        np.full(len(fee_rows), cfg.visit_fee_minor),
        fee="VISIT_FEE",
        desc="Technician visit",
    )

    rows = np.concatenate([line[0] for line in lines])
    line_no = np.concatenate([x[1] for x in lines])
    order = np.lexsort((line_no, rows))
    rows, line_no = rows[order], line_no[order]

    def col(position, fill):
        parts = []
        for line in lines:
            value = line[position]
            parts.append(
                np.full(len(line[0]), value, dtype=object)
                if value is None or isinstance(value, str)
                else value
            )
        return np.concatenate(parts)[order] if parts else np.array([], dtype=object)

    line_types, slot, amount = col(2, None), col(3, -1).astype(np.int64), col(4, 0).astype(np.int64)
    fee, promo_code, desc = col(5, None), col(6, None), col(7, None)
    total = np.bincount(rows, weights=amount, minlength=len(invoice_customers)).astype(np.int64)
    inv_t = chunk.inv_t[invoice_customers, invoice_positions]
    sub_ids = np.where(slot >= 0, chunk.sub_num[invoice_customers[rows], np.maximum(slot, 0)], NULL)
    sub_col = ids("S", np.maximum(sub_ids, 0), 9)
    sub_col = pa.array(np.where(slot >= 0, np.asarray(sub_col, dtype=object), None), pa.string())
    sink.emit(
        "billing__invoice_lines",
        invoice_customers[rows],
        NULL,
        inv_t[rows],
        invoice_line_id=line_ids(inv_num[rows], line_no),
        invoice_id=invoice_ids(inv_num[rows]),
        line_type=line_types,
        subscription_id=sub_col,
        fee_code=fee,
        promo_code=promo_code,
        description=desc,
        amount_minor=amount,
        tax_minor=np.round(amount * 0.21).astype(np.int64),
    )
    inv_day = chunk.inv_day[invoice_customers, invoice_positions]
    period_end = (
        np.hstack([chunk.inv_day[:, 1:], chunk.inv_day[:, -1:] + 30])[invoice_customers, invoice_positions]
        - 1
    )
    sink.emit(
        "billing__invoices",
        invoice_customers,
        NULL,
        inv_t,
        invoice_id=invoice_ids(inv_num),
        account_number=chunk.account.take(invoice_customers),
        invoice_date=inv_day,
        period_start=inv_day,
        period_end=period_end,
        due_date=inv_day + 14,
        total_minor=total,
        currency="EUR",
    )

    # payments: one attempt on the due date, a retry when it failed
    attempted_at = inv_t + 14 * DAY + chunk.pay_h[invoice_customers, invoice_positions]
    bad = (
        broadband_active[invoice_customers, invoice_positions]
        & (billing_plan.bad_j[invoice_customers] >= 0)
        & (invoice_positions >= billing_plan.bad_j[invoice_customers])
    )
    company = (
        broadband_active[invoice_customers, invoice_positions]
        & (invoice_positions == billing_plan.fail_j[invoice_customers])
        & ~bad
    )
    customer = billing_plan.cust_fail[invoice_customers, invoice_positions] & ~bad & ~company
    failed = bad | company | customer
    customer_code = np.where(
        bad | customer, billing_plan.cust_code[invoice_customers, invoice_positions], None
    )
    code = np.where(company, billing_plan.fail_code[invoice_customers], customer_code)
    retry_at = attempted_at + np.where(company, rng.integers(2, 6, len(invoice_customers)) * DAY, 3 * DAY)
    picked = np.flatnonzero(failed)
    sink.emit(
        "billing__payments",
        np.concatenate([invoice_customers, invoice_customers[picked]]),
        NULL,
        np.concatenate([attempted_at, retry_at[picked]]),
        payment_id=pa.concat_arrays([payment_ids(inv_num, 0), payment_ids(inv_num[picked], 1)]),
        account_number=chunk.account.take(np.concatenate([invoice_customers, invoice_customers[picked]])),
        invoice_id=invoice_ids(np.concatenate([inv_num, inv_num[picked]])),
        attempted_at=np.concatenate([attempted_at, retry_at[picked]]),
        amount_minor=np.concatenate([total, total[picked]]),
        currency="EUR",
        status=np.concatenate(
            [np.where(failed, "FAILED", "SUCCEEDED"), np.where(bad[picked], "FAILED", "SUCCEEDED")]
        ),
        failure_code=np.concatenate([code, np.where(bad[picked], code[picked], None)]),
    )

    goodwill_customers = np.flatnonzero(rng.random(count) < cfg.goodwill_rate)
    when = chunk.signup[goodwill_customers] + (
        rng.random(len(goodwill_customers)) * (period.te - chunk.signup[goodwill_customers])
    ).astype(np.int64)
    sink.emit(
        "billing__adjustments",
        goodwill_customers,
        when,
        when,
        adjustment_id=ids("ADJG", chunk.gid[goodwill_customers], 9),
        account_number=chunk.account.take(goodwill_customers),
        invoice_id=None,
        created_at=when,
        amount_minor=-rng.integers(500, 2000, len(goodwill_customers)),
        currency="EUR",
        reason_code="GOODWILL",
    )
    chunk.invoices = SimpleNamespace(cust=invoice_customers, num=inv_num, t=inv_t)
