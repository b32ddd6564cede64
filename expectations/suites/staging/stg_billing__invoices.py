"""GX suite for staging.stg_billing__invoices: periods in order, collections never above the bill."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Batch, Suite, SuiteContext
from expectations.suites._order import not_before

# The generator (like real billing) plants a few double collections; a larger share means payments are
# joined to the wrong invoices.
OVERPAID_TOLERATED = 0.02


def build(ctx: SuiteContext) -> Suite:
    """Billing period order and succeeded payments not above the invoice total."""
    return Suite(
        name="stg_billing__invoices",
        layer="staging",
        batches=[
            Batch(
                name="rows",
                sql="select period_start_date, period_end_date, invoice_date, due_date from {relation}",
                expectations=[
                    not_before("period_end_date", "period_start_date"),
                ],
            ),
            Batch(
                name="payments_not_above_invoice",
                sql="""
                    select
                        invoices.invoice_id,
                        invoices.total_minor,
                        coalesce(sum(payments.amount_minor), 0) as paid_minor
                    from {relation} as invoices
                    left join staging.stg_billing__payments as payments
                        on invoices.invoice_id = payments.invoice_id
                        and payments.status = 'SUCCEEDED'
                    where invoices.total_minor > 0
                    group by invoices.invoice_id, invoices.total_minor
                """,
                expectations=[
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="total_minor",
                        column_B="paid_minor",
                        or_equal=True,
                        mostly=1 - OVERPAID_TOLERATED,
                        severity=ERROR,
                    ),
                ],
            ),
        ],
    )
